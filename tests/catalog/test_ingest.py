"""Uploading RDF into hosted datasets: formats, all-or-nothing loads, limits and hostile files."""

import gzip
import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from marketplace.catalog.models import IngestJob
from marketplace.catalog.services.ingest import ingest_run

pytestmark = pytest.mark.django_db

TURTLE = b"""@prefix ex: <http://example.org/> .
@prefix rdf: <http://www.w3.org/1999/02/22-rdf-syntax-ns#> .
ex:p1 a ex:Product ; ex:label "Widget" ; ex:price 10 .
ex:p2 a ex:Product ; ex:label "Gadget" ; ex:price 20 .
ex:v1 a ex:Vendor ; ex:sells ex:p1, ex:p2 .
"""


def upload(client, dataset, name, content, **extra):
    return client.post(
        reverse("catalog:upload", args=[dataset.pk]), {"file": SimpleUploadedFile(name, content), **extra}
    )


def run_last_job(dataset) -> IngestJob:
    return ingest_run(job_id=dataset.ingest_jobs.latest("created_at").pk)


def test_turtle_upload_loads_and_summarises(publisher_client, hosted_dataset, isolated_storage):
    response = upload(publisher_client, hosted_dataset, "products.ttl", TURTLE)
    assert response.status_code == 302
    job = run_last_job(hosted_dataset)
    assert job.status == IngestJob.Status.SUCCEEDED, job.error
    assert job.triples_loaded == 9
    hosted_dataset.refresh_from_db()
    summary = hosted_dataset.summary
    assert (summary.triples, summary.distinct_subjects) == (9, 3)
    predicates = dict(hosted_dataset.predicates.values_list("iri", "triples"))
    assert predicates["http://example.org/label"] == 2
    assert predicates["http://example.org/sells"] == 2
    classes = dict(hosted_dataset.classes.values_list("iri", "instances"))
    assert classes == {"http://example.org/Product": 2, "http://example.org/Vendor": 1}
    # The engine's own summary, used for source selection and namespace pruning in buyers' queries.
    engine = summary.engine
    assert engine["predicates"]["http://example.org/sells"] == 2
    assert engine["authorities"]["o"]["http://example.org/sells"] == ["http://example.org/"]


@pytest.mark.parametrize(
    ("name", "content"),
    [
        ("d.nt", b'<http://e/s> <http://e/p> "o" .\n<http://e/s> <http://e/q> <http://e/o> .\n'),
        ("d.nq", b'<http://e/s> <http://e/p> "o" <http://e/g> .\n<http://e/s> <http://e/q> <http://e/o> .\n'),
        ("d.trig", b'<http://e/g> { <http://e/s> <http://e/p> "o" . <http://e/s> <http://e/q> <http://e/o> }'),
        (
            "d.rdf",
            b'<?xml version="1.0"?><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" xmlns:e="http://e/">'
            b'<rdf:Description rdf:about="http://e/s"><e:p>o</e:p><e:q rdf:resource="http://e/o"/></rdf:Description></rdf:RDF>',
        ),
        ("d.jsonld", b'{"@id": "http://e/s", "http://e/p": "o", "http://e/q": {"@id": "http://e/o"}}'),
        (
            "d.nt.gz",
            gzip.compress(b'<http://e/s> <http://e/p> "o" .\n<http://e/s> <http://e/q> <http://e/o> .\n', mtime=0),
        ),
    ],
    ids=["ntriples", "nquads", "trig", "rdfxml", "jsonld", "ntriples-gzip"],
)
def test_every_supported_format_loads_into_the_default_graph(
    publisher_client, hosted_dataset, isolated_storage, name, content
):
    assert upload(publisher_client, hosted_dataset, name, content).status_code == 302
    job = run_last_job(hosted_dataset)
    assert job.status == IngestJob.Status.SUCCEEDED, job.error
    assert job.triples_loaded == 2
    assert hosted_dataset.__class__.objects.get(pk=hosted_dataset.pk).summary.triples == 2


def test_syntax_error_names_the_line_and_keeps_the_previous_data(publisher_client, hosted_dataset, isolated_storage):
    upload(publisher_client, hosted_dataset, "good.ttl", TURTLE)
    assert run_last_job(hosted_dataset).status == IngestJob.Status.SUCCEEDED
    hosted_dataset.refresh_from_db()
    good_version = hosted_dataset.store_version
    lines = [f'<http://e/s{i}> <http://e/p> "v{i}" .' for i in range(50)]
    lines[36] = '<http://e/broken> <http://e/p> "unterminated .'
    upload(publisher_client, hosted_dataset, "bad.nt", "\n".join(lines).encode())
    job = run_last_job(hosted_dataset)
    assert job.status == IngestJob.Status.FAILED
    assert job.error_line == 37
    page = publisher_client.get(reverse("catalog:ingest_job", args=[job.pk]))
    assert b"line 37" in page.content
    hosted_dataset.refresh_from_db()
    assert hosted_dataset.store_version == good_version
    assert hosted_dataset.summary.triples == 9
    versions = list((isolated_storage / "stores" / str(hosted_dataset.pk)).iterdir())
    assert [v.name for v in versions] == [good_version], "the failed load left a store behind"
    assert not list((isolated_storage / "uploads" / "ingest").iterdir()), "the upload file was not removed"


def test_unsupported_format_gets_a_form_error_and_no_job(publisher_client, hosted_dataset, isolated_storage):
    response = upload(publisher_client, hosted_dataset, "data.csv", b"a,b\n1,2\n")
    assert response.status_code == 400
    assert b"Cannot tell the RDF format" in response.content
    assert not IngestJob.objects.exists()


def test_oversized_upload_is_refused_with_413(publisher_client, hosted_dataset, isolated_storage, settings):
    settings.RDF_UPLOAD_MAX_BYTES = 1000
    response = upload(publisher_client, hosted_dataset, "big.nt", b"#" * 200_000)
    assert response.status_code == 413
    assert not IngestJob.objects.exists()


def test_slightly_oversized_upload_gets_a_form_error(publisher_client, hosted_dataset, isolated_storage, settings):
    settings.RDF_UPLOAD_MAX_BYTES = 1000
    response = upload(publisher_client, hosted_dataset, "big.nt", b"#" * 1500)
    assert response.status_code == 400
    assert b"larger than the limit" in response.content
    assert not IngestJob.objects.exists()


BOMB = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol1 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
<!ENTITY lol2 "&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;">
<!ENTITY lol9 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]>
<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" xmlns:e="http://e/">
<rdf:Description rdf:about="http://e/s"><e:p>&lol9;</e:p></rdf:Description></rdf:RDF>"""


def test_rdfxml_entity_expansion_bomb_is_refused(publisher_client, hosted_dataset, isolated_storage):
    response = upload(publisher_client, hosted_dataset, "bomb.rdf", BOMB)
    assert response.status_code == 400
    assert b"entity expansion" in response.content
    assert not IngestJob.objects.exists()
    assert not list((isolated_storage / "uploads" / "ingest").iterdir())


def test_rdfxml_external_entity_is_refused(publisher_client, hosted_dataset, isolated_storage):
    xxe = BOMB.replace(b'<!ENTITY lol "lol">', b'<!ENTITY lol SYSTEM "file:///etc/passwd">')
    response = upload(publisher_client, hosted_dataset, "xxe.rdf", xxe)
    assert response.status_code == 400
    assert b"external entities" in response.content


def test_rdfxml_with_plain_namespace_entities_loads(publisher_client, hosted_dataset, isolated_storage):
    owl = b"""<?xml version="1.0"?><!DOCTYPE rdf:RDF [<!ENTITY e "http://e/">]>
<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" xmlns:e="http://e/">
<rdf:Description rdf:about="&e;s"><e:p rdf:resource="&e;o"/></rdf:Description></rdf:RDF>"""
    assert upload(publisher_client, hosted_dataset, "onto.owl", owl).status_code == 302
    assert run_last_job(hosted_dataset).triples_loaded == 1


def test_corrupt_gzip_fails_cleanly(publisher_client, hosted_dataset, isolated_storage):
    upload(publisher_client, hosted_dataset, "d.nt.gz", b"\x1f\x8b\x08not really gzip")
    job = run_last_job(hosted_dataset)
    assert job.status == IngestJob.Status.FAILED
    assert "gzip" in job.error
    hosted_dataset.refresh_from_db()
    assert hosted_dataset.store_version == ""


def test_only_members_of_the_publisher_can_upload(client, make_user, hosted_dataset, isolated_storage):
    client.force_login(make_user("mallory"))
    response = upload(client, hosted_dataset, "d.ttl", TURTLE)
    assert response.status_code == 403
    assert not IngestJob.objects.exists()


def test_gzip_stream_is_not_read_into_memory_by_the_view(publisher_client, hosted_dataset, isolated_storage):
    data = io.BytesIO()
    with gzip.GzipFile(fileobj=data, mode="wb") as gz:
        for i in range(2000):
            gz.write(f'<http://e/s{i}> <http://e/p> "{i}" .\n'.encode())
    upload(publisher_client, hosted_dataset, "many.nt.gz", data.getvalue())
    assert run_last_job(hosted_dataset).triples_loaded == 2000
