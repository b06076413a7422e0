"""Remote datasets: the publisher's own SPARQL endpoint, checked for health and summarised."""

import pytest
from django.urls import reverse

from marketplace.catalog.models import Dataset
from marketplace.catalog.services.datasets import dataset_create, endpoint_check
from marketplace.catalog.services.safety import UnsafeInput
from marketplace.catalog.services.summary import summary_refresh
from tests.conftest import wait_until
from tests.servers import OxigraphServer, free_port

pytestmark = pytest.mark.django_db


@pytest.fixture(scope="module")
def endpoint(tmp_path_factory):
    data = tmp_path_factory.mktemp("remote") / "d.nt"
    data.write_text(
        "".join(
            f"<http://e/r{i}> <http://www.w3.org/1999/02/22-rdf-syntax-ns#type> <http://e/Review> .\n"
            f'<http://e/r{i}> <http://e/rating> "{i % 5}" .\n'
            for i in range(30)
        )
    )
    server = OxigraphServer(data)
    yield server
    server.stop()


def test_remote_endpoint_is_checked_and_summarised(publisher, endpoint, settings):
    settings.ALLOW_PRIVATE_ENDPOINTS = True
    dataset = dataset_create(publisher=publisher, title="Reviews", kind=Dataset.Kind.REMOTE, endpoint_url=endpoint.url)
    endpoint_check(dataset=dataset)
    assert dataset.healthy is True
    summary = summary_refresh(dataset=dataset)
    assert summary.triples == 60
    assert dict(dataset.classes.values_list("iri", "instances")) == {"http://e/Review": 30}


def test_dead_endpoint_is_reported_unhealthy(publisher, settings):
    settings.ALLOW_PRIVATE_ENDPOINTS = True
    dead = f"http://127.0.0.1:{free_port()}/query"
    dataset = dataset_create(publisher=publisher, title="Gone", kind=Dataset.Kind.REMOTE, endpoint_url=dead)
    endpoint_check(dataset=dataset)
    assert dataset.healthy is False
    assert "did not answer" in dataset.health_message


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:7878/query",
        "http://localhost/sparql",
        "http://10.1.2.3/sparql",
        "http://[::1]/q",
        "http://169.254.169.254/latest",
        "ftp://example.org/sparql",
        "http://user:pw@example.org/sparql",
    ],
)
def test_private_or_odd_endpoint_urls_are_refused_in_production(publisher, settings, url):
    settings.ALLOW_PRIVATE_ENDPOINTS = False
    with pytest.raises(UnsafeInput):
        dataset_create(publisher=publisher, title="Sneaky", kind=Dataset.Kind.REMOTE, endpoint_url=url)
    assert not Dataset.objects.exists()


def test_the_form_shows_why_a_loopback_endpoint_is_refused(client, publisher, settings):
    settings.ALLOW_PRIVATE_ENDPOINTS = False
    client.force_login(publisher.owner)
    response = client.post(
        reverse("catalog:dataset_create", args=[publisher.slug]),
        {"title": "Sneaky", "kind": "remote", "licence": "CC0-1.0", "endpoint_url": "http://127.0.0.1:8000/admin/"},
    )
    assert response.status_code == 200
    assert b"private or loopback address" in response.content
    assert not Dataset.objects.exists()


def test_health_check_runs_in_the_worker(worker, publisher, endpoint, settings):
    """Registering a remote dataset queues a real Celery task that checks and summarises it."""
    settings.ALLOW_PRIVATE_ENDPOINTS = True
    dataset = dataset_create(publisher=publisher, title="Reviews", kind=Dataset.Kind.REMOTE, endpoint_url=endpoint.url)
    checked = wait_until(
        lambda: Dataset.objects.filter(pk=dataset.pk, healthy=True, summary__triples=60).exists(),
        timeout=60,
        message="the worker's health check and summary",
    )
    assert checked
