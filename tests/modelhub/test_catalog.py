"""Browsing and comparing: filters on pages and API, the comparison with its Pareto front, cards, linked data."""

from __future__ import annotations

import pyoxigraph as ox
import pytest
from django.urls import reverse

pytestmark = pytest.mark.django_db


@pytest.fixture
def family(media, make_variant):
    """A reference and three compressed variants with measured figures."""
    fp32 = make_variant("fp32", method="none", weight_bits=32, size_bytes=230_000, accuracy=0.9867, latency_ms=0.30)
    make_variant(
        "int8",
        method="linear_quantization",
        weight_bits=8,
        size_bytes=70_000,
        accuracy=0.9867,
        latency_ms=0.20,
        price=300,
    )
    make_variant(
        "kmeans4", method="kmeans", weight_bits=4, codebook_size=16, size_bytes=45_000, accuracy=0.98, latency_ms=0.50
    )
    # dominated: bigger and worse than int8
    make_variant(
        "pruned", method="pruning", weight_bits=32, sparsity=0.5, size_bytes=120_000, accuracy=0.97, latency_ms=0.31
    )
    return fp32.model


def _names(response) -> set[str]:
    return {row["name"] for row in response.json()["results"]}


@pytest.mark.parametrize(
    "query, expected",
    [
        ("method=kmeans", {"kmeans4"}),
        ("max_weight_bits=8", {"int8", "kmeans4"}),
        ("max_size=80000", {"int8", "kmeans4"}),
        ("min_accuracy=0.985", {"fp32", "int8"}),
        ("free=true", {"fp32", "kmeans4", "pruned"}),
        ("max_price=100", {"fp32", "kmeans4", "pruned"}),
        ("licence=MIT&task=image-classification", {"fp32", "int8", "kmeans4", "pruned"}),
        ("licence=gpl-3.0", set()),
    ],
)
def test_api_filters_variants(api_client, family, query, expected):
    response = api_client.get(f"/api/variants/?{query}")
    assert response.status_code == 200
    assert _names(response) == expected


def test_browse_page_filters_by_bits_and_accuracy(client, family):
    page = client.get(reverse("modelhub:browse"), {"bits": 8, "min_accuracy": 98.5}).content.decode()
    rows = [r for r in page.split('<tr class="variant-row">')[1:]]
    assert len(rows) == 1 and "int8" in rows[0]


def test_browse_page_answers_bad_filters_without_error(client, family):
    response = client.get(reverse("modelhub:browse"), {"bits": "lots", "min_accuracy": "-3"})
    assert response.status_code == 200
    assert b"errorlist" in response.content


def test_compare_marks_the_pareto_front_of_accuracy_against_size(api_client, client, family):
    data = api_client.get(f"/api/models/{family.slug}/compare/").json()
    by_id = {v["id"]: v["name"] for v in data["variants"]}
    assert {by_id[i] for i in data["pareto_size"]} == {"int8", "kmeans4"}
    assert {by_id[i] for i in data["pareto_latency"]} == {"int8"}
    page = client.get(reverse("modelhub:compare", args=[family.slug])).content.decode()
    assert page.count('<g class="point pareto">') == 2 + 1  # size chart: 2, latency chart: 1
    assert "<svg" in page and "cdn" not in page.lower()


def test_model_card_front_matter_is_read_and_html_is_sanitised(client, media, publisher):
    from modelhub.services.catalog import model_create, variant_create

    card = (
        "---\nlicense: apache-2.0\ntags: [vision, int8]\ndatasets: [digits]\nbase_model: lenet\n---\n"
        "# Card\n\n<script>alert(1)</script>\n\n[x](javascript:alert(2)) **bold**"
    )
    model = model_create(user=publisher.owner, publisher=publisher, name="Carded", task="other", card=card)
    variant_create(user=publisher.owner, model=model, name="fp32")
    assert model.licence == "apache-2.0"
    assert model.card_metadata["tags"] == ["vision", "int8"] and model.card_metadata["base_model"] == "lenet"
    page = client.get(reverse("modelhub:model", args=[model.slug])).content.decode()
    assert "<strong>bold</strong>" in page
    assert "<script>alert(1)" not in page and "javascript:" not in page
    assert '<span class="badge">vision</span>' in page


def test_invalid_card_front_matter_is_a_form_error(client, publisher):
    client.force_login(publisher.owner)
    response = client.post(
        reverse("modelhub:model_create"),
        {"publisher": publisher.pk, "name": "Bad", "task": "other", "price": 0, "card": "---\n: : [\n---\nbody"},
    )
    assert response.status_code == 400
    assert b"front matter" in response.content


def test_unpublished_variants_are_hidden_from_buyers(api_client, client, family, make_user):
    from modelhub.models import Variant

    Variant.objects.filter(name="pruned").update(published=False)
    assert "pruned" not in _names(api_client.get("/api/variants/"))
    hidden = Variant.objects.get(name="pruned")
    assert client.get(reverse("modelhub:variant", args=[family.slug, hidden.pk])).status_code == 404
    client.force_login(family.publisher.owner)
    assert client.get(reverse("modelhub:variant", args=[family.slug, hidden.pk])).status_code == 200


def test_catalog_triples_describe_variants_with_the_compression_vocabulary(family):
    from modelhub.rdf import catalog_triples, vocab_base

    store = ox.Store()
    store.extend([ox.Quad(t.subject, t.predicate, t.object, ox.DefaultGraph()) for t in catalog_triples()])
    cmp = vocab_base()
    rows = list(
        store.query(
            f"PREFIX cmp: <{cmp}> SELECT ?name ?bits WHERE {{ ?v a cmp:Variant ; cmp:method cmp:kmeans ; "
            "cmp:weightBits ?bits ; <https://schema.org/name> ?name ; cmp:variantOf ?m . ?m a cmp:Model }"
        )
    )
    assert [(r["name"].value, int(r["bits"].value)) for r in rows] == [("Tiny MLP kmeans4", 4)]


def test_vocabulary_is_served_as_turtle_and_html(client):
    turtle = client.get("/vocab/compression", HTTP_ACCEPT="text/turtle")
    assert turtle["Content-Type"].startswith("text/turtle")
    triples = list(ox.parse(turtle.content, format=ox.RdfFormat.TURTLE))
    labels = {t.subject.value for t in triples if t.predicate.value.endswith("#label")}
    assert any(iri.endswith("/vocab/compression#codebookSize") for iri in labels)
    html = client.get("/vocab/compression", HTTP_ACCEPT="text/html")
    assert html["Content-Type"].startswith("text/html") and b'id="weightBits"' in html.content


def test_publisher_edits_metadata_on_the_page(client, family):
    from modelhub.models import Variant

    variant = Variant.objects.get(name="int8")
    client.force_login(family.publisher.owner)
    url = reverse("modelhub:variant_edit", args=[family.slug, variant.pk])
    form = client.get(url)
    assert form.status_code == 200
    data = {
        "name": "int8",
        "price": 300,
        "published": "on",
        "method": "linear_quantization",
        "weight_bits": 8,
        "activation_bits": 8,
        "granularity": "per_channel",
        "symmetric": "true",
        "sparsity": "",
        "accuracy": 0.985,
    }
    assert client.post(url, data).status_code == 302
    variant.refresh_from_db()
    assert variant.activation_bits == 8 and variant.granularity == "per_channel" and variant.symmetric is True
    bad = client.post(url, {**data, "sparsity": 7})
    assert bad.status_code == 400


def test_openapi_schema_lists_the_hub_endpoints(client):
    schema = client.get("/api/schema/", HTTP_ACCEPT="application/json").json()
    for path in (
        "/api/models/",
        "/api/models/{slug}/compare/",
        "/api/variants/",
        "/api/variants/{id}/buy/",
        "/api/artifacts/",
        "/api/artifacts/{id}/link/",
        "/api/compression-jobs/",
    ):
        assert path in schema["paths"], path


def test_safetensors_artifact_is_inspected_and_unreadable_fields_are_not_checkable(media, make_variant, tmp_path):
    import numpy as np
    from safetensors.numpy import save_file

    from modelhub.services.inspection import artifact_inspect

    path = tmp_path / "model.safetensors"
    save_file({"fc.weight": np.ones((8, 4), np.float16), "fc.bias": np.zeros(8, np.float16)}, str(path))
    variant = make_variant("fp16", path=path, method="none", weight_bits=16, sparsity=0.5)
    artifact = artifact_inspect(artifact_id=variant.artifacts.get().pk)
    assert artifact.format == "safetensors"
    assert artifact.checks["weight_bits"]["status"] == "verified"
    assert artifact.checks["sparsity"]["status"] == "not_checkable"
    variant.refresh_from_db()
    assert variant.parameter_count == 40  # filled in from the file where nothing was declared


def test_publisher_pages_render_and_create_a_model_with_a_variant(client, media, publisher):
    client.force_login(publisher.owner)
    assert client.get(reverse("modelhub:model_create")).status_code == 200
    response = client.post(
        reverse("modelhub:model_create"),
        {
            "publisher": publisher.pk,
            "name": "New net",
            "task": "other",
            "price": 100,
            "card": "---\nlicense: mit\n---\nHi",
        },
    )
    assert response.status_code == 302
    from modelhub.models import HubModel

    model = HubModel.objects.get(name="New net")
    assert model.licence == "mit"
    url = reverse("modelhub:variant_create", args=[model.slug])
    assert client.get(url).status_code == 200
    response = client.post(
        url, {"name": "fp32", "price": 100, "published": "on", "method": "none", "symmetric": "unknown"}
    )
    assert response.status_code == 302
    variant = model.variants.get()
    duplicate = client.post(url, {"name": "fp32", "price": 0, "method": "none", "symmetric": "unknown"})
    assert duplicate.status_code == 400 and b"already has a variant" in duplicate.content
    for name in ("model", "model_edit", "compare"):
        assert client.get(reverse(f"modelhub:{name}", args=[model.slug])).status_code == 200, name
    for name in ("variant", "variant_edit", "upload"):
        assert client.get(reverse(f"modelhub:{name}", args=[model.slug, variant.pk])).status_code == 200, name
    assert client.get(reverse("modelhub:browse")).status_code == 200


def test_other_users_cannot_edit_or_publish(client, family, make_user):
    from modelhub.models import Variant

    client.force_login(make_user("eve"))
    variant = Variant.objects.get(name="int8")
    assert client.get(reverse("modelhub:model_edit", args=[family.slug])).status_code == 403
    assert client.get(reverse("modelhub:variant_edit", args=[family.slug, variant.pk])).status_code == 403
    assert client.post(reverse("modelhub:publish", args=[family.slug]), {"variant": [variant.pk]}).status_code == 403
    assert client.post(reverse("modelhub:upload", args=[family.slug, variant.pk])).status_code == 403


def test_model_page_answers_turtle_when_asked(client, family):
    response = client.get(reverse("modelhub:model", args=[family.slug]), HTTP_ACCEPT="text/turtle")
    assert response["Content-Type"].startswith("text/turtle")
    triples = list(ox.parse(response.content, format=ox.RdfFormat.TURTLE))
    variants = {t.subject.value for t in triples if t.predicate.value.endswith("variantOf")}
    assert len(variants) == 4
    assert all(iri.endswith("#variant") and "/variants/" in iri for iri in variants)
