"""A publisher signs in, uploads a Turtle file, watches the load finish and reads the summary."""

import pytest

from marketplace.catalog.models import Dataset
from marketplace.catalog.services.datasets import dataset_create

pytestmark = pytest.mark.e2e

TURTLE = "\n".join(
    ["@prefix ex: <http://example.org/> ."]
    + [f'ex:product{i} a ex:Product ; ex:label "Product {i}" ; ex:price {i} .' for i in range(500)]
)


def test_publisher_uploads_turtle_and_sees_the_summary(worker, live_server, page, publisher, tmp_path):
    dataset = dataset_create(publisher=publisher, title="Products", kind=Dataset.Kind.HOSTED)
    data = tmp_path / "products.ttl"
    data.write_text(TURTLE)

    page.goto(f"{live_server.url}/login/")
    page.fill("input[name=username]", publisher.owner.username)
    page.fill("input[name=password]", "pw-Secret-123")
    page.click("button[type=submit]")
    page.click("text=Publisher dashboard")
    page.click("text=upload")
    assert page.url.endswith(f"/datasets/{dataset.pk}/upload/")
    page.set_input_files("input[type=file]", str(data))
    page.click("button:has-text('Upload')")

    page.wait_for_selector("progress, #ingest-result", timeout=10_000)
    result = page.wait_for_selector("#ingest-result", timeout=60_000)
    assert "Loaded 1,500 triples" in result.inner_text()
    page.click("text=See the summary")
    assert page.inner_text("[data-summary=triples]") == "1,500"
    assert "http://example.org/Product" in page.inner_text("#summary")
    page.screenshot(path=str(tmp_path / "summary.png"), full_page=True)
