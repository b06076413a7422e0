"""The catalog's REST API: auth, permissions, filters, uploads and the OpenAPI schema."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from rest_framework.authtoken.models import Token

from marketplace.accounts.services import organisation_apply, organisation_approve
from marketplace.catalog.models import Dataset, IngestJob, PredicateCount
from marketplace.catalog.services.datasets import dataset_create

pytestmark = pytest.mark.django_db


def token_client(api_client, user):
    api_client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=user).key}")
    return api_client


def test_publisher_member_creates_a_dataset_with_a_token(api_client, publisher):
    client = token_client(api_client, publisher.owner)
    response = client.post(
        "/api/datasets/",
        {"publisher": publisher.slug, "title": "Offers", "kind": "hosted", "tags": ["shop", "offers"]},
        format="json",
    )
    assert response.status_code == 201, response.json()
    assert response.json()["tags"] == ["offers", "shop"]
    assert response.json()["status"] == "pending"


def test_a_user_cannot_create_datasets_for_someone_elses_publisher(api_client, publisher, make_user):
    client = token_client(api_client, make_user("mallory"))
    response = client.post(
        "/api/datasets/", {"publisher": publisher.slug, "title": "X", "kind": "hosted"}, format="json"
    )
    assert response.status_code == 403
    assert not Dataset.objects.exists()


def test_a_publisher_edits_only_its_own_datasets(api_client, publisher, make_user):
    other_owner = make_user("bob")
    other = organisation_approve(organisation=organisation_apply(user=other_owner, name="Other"), by=None)
    theirs = dataset_create(publisher=other, title="Theirs", kind="hosted")
    theirs.status = Dataset.Status.APPROVED
    theirs.save()
    client = token_client(api_client, publisher.owner)
    response = client.patch(f"/api/datasets/{theirs.pk}/", {"title": "Mine now"}, format="json")
    assert response.status_code == 403
    theirs.refresh_from_db()
    assert theirs.title == "Theirs"


def test_anonymous_visitors_see_only_approved_datasets(api_client, publisher):
    dataset_create(publisher=publisher, title="Draft", kind="hosted")
    approved = dataset_create(publisher=publisher, title="Live", kind="hosted")
    approved.status = Dataset.Status.APPROVED
    approved.save()
    titles = [d["title"] for d in api_client.get("/api/datasets/").json()["results"]]
    assert titles == ["Live"]


def test_datasets_filter_by_predicate_and_tag(api_client, publisher):
    a = dataset_create(publisher=publisher, title="A", kind="hosted", tags=["x"])
    b = dataset_create(publisher=publisher, title="B", kind="hosted", tags=["y"])
    Dataset.objects.update(status=Dataset.Status.APPROVED)
    PredicateCount.objects.create(dataset=a, iri="http://e/p", triples=3)
    PredicateCount.objects.create(dataset=b, iri="http://e/q", triples=3)
    by_predicate = api_client.get("/api/datasets/", {"predicate": "http://e/p"}).json()["results"]
    assert [d["title"] for d in by_predicate] == ["A"]
    by_tag = api_client.get("/api/datasets/", {"tag": "y"}).json()["results"]
    assert [d["title"] for d in by_tag] == ["B"]


def test_upload_through_the_api_returns_the_job(api_client, publisher, settings, tmp_path):
    settings.UPLOAD_TMP_ROOT = tmp_path
    dataset = dataset_create(publisher=publisher, title="A", kind="hosted")
    client = token_client(api_client, publisher.owner)
    response = client.post(
        f"/api/datasets/{dataset.pk}/uploads/",
        {"file": SimpleUploadedFile("d.ttl", b"<http://e/s> <http://e/p> 1 .")},
        format="multipart",
    )
    assert response.status_code == 202, response.content
    assert response.json()["status"] == "queued"
    assert client.get(f"/api/ingest-jobs/{response.json()['id']}/").json()["format"] == "turtle"


def test_api_upload_of_unknown_format_is_a_400_with_a_message(api_client, publisher, tmp_path, settings):
    settings.UPLOAD_TMP_ROOT = tmp_path
    dataset = dataset_create(publisher=publisher, title="A", kind="hosted")
    client = token_client(api_client, publisher.owner)
    response = client.post(
        f"/api/datasets/{dataset.pk}/uploads/", {"file": SimpleUploadedFile("d.xlsx", b"PK..")}, format="multipart"
    )
    assert response.status_code == 400
    assert "Cannot tell the RDF format" in response.json()["detail"]
    assert not IngestJob.objects.exists()


def test_api_upload_over_the_limit_is_a_413(api_client, publisher, settings, tmp_path):
    settings.UPLOAD_TMP_ROOT = tmp_path
    settings.RDF_UPLOAD_MAX_BYTES = 100
    dataset = dataset_create(publisher=publisher, title="A", kind="hosted")
    client = token_client(api_client, publisher.owner)
    response = client.post(
        f"/api/datasets/{dataset.pk}/uploads/", {"file": SimpleUploadedFile("d.nt", b"#" * 100_000)}, format="multipart"
    )
    assert response.status_code == 413


def test_openapi_schema_and_docs_are_served(client):
    schema = client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert schema.status_code == 200
    paths = schema.json()["paths"]
    assert "/api/datasets/{id}/uploads/" in paths
    assert "/api/datasets/{id}/summary/" in paths
    assert client.get("/api/docs/").status_code == 200
