"""Catalog and account pages as a visitor, a buyer and a publisher see them."""

import json
import re

import pyoxigraph as ox
import pytest
from django.core import mail
from django.urls import reverse

from marketplace.catalog.models import ClassCount, Dataset, DatasetSummary, PredicateCount
from marketplace.catalog.services.datasets import dataset_create

pytestmark = pytest.mark.django_db


@pytest.fixture
def summarised(publisher):
    dataset = dataset_create(
        publisher=publisher, title="Products <b>", kind="hosted", tags=["shop"], description="All products"
    )
    dataset.status = Dataset.Status.APPROVED
    dataset.save()
    DatasetSummary.objects.create(dataset=dataset, triples=100, distinct_subjects=10, distinct_objects=50)
    PredicateCount.objects.create(dataset=dataset, iri="http://e/label", triples=60)
    ClassCount.objects.create(dataset=dataset, iri="http://e/Product", instances=10)
    return dataset


def test_signup_signs_the_user_in(client):
    response = client.post(
        reverse("accounts:signup"),
        {
            "username": "carol",
            "email": "carol@example.org",
            "password1": "a-Long-pass-123",
            "password2": "a-Long-pass-123",
        },
    )
    assert response.status_code == 302
    assert client.get(reverse("accounts:account")).status_code == 200


def test_password_reset_sends_an_email_with_a_working_link(client, make_user):
    make_user("dave")
    client.post(reverse("accounts:password_reset"), {"email": "dave@example.org"})
    assert len(mail.outbox) == 1
    link = re.search(r"http://\S+", mail.outbox[0].body).group(0)
    page = client.get(link, follow=True)
    assert b"Choose a new password" in page.content


def test_publisher_application_waits_for_approval(client, make_user):
    client.force_login(make_user("erin"))
    response = client.post(reverse("accounts:organisation_apply"), {"name": "Erin Data"}, follow=True)
    assert b"Pending approval" in response.content
    assert client.get(reverse("catalog:dataset_create", args=["erin-data"])).status_code == 403


def test_catalog_filters_by_class_and_text(client, summarised, publisher):
    other = dataset_create(publisher=publisher, title="Reviews", kind="hosted")
    other.status = Dataset.Status.APPROVED
    other.save()
    page = client.get(reverse("catalog:home"), {"class": "http://e/Product"})
    assert b"Products &lt;b&gt;" in page.content and b"Reviews" not in page.content
    page = client.get(reverse("catalog:home"), {"q": "review"})
    assert b"Reviews" in page.content and b"Products" not in page.content


def test_dataset_page_shows_summary_and_schema_org_json_ld(client, summarised):
    page = client.get(summarised.get_absolute_url())
    html = page.content.decode()
    assert "http://e/label" in html and "http://e/Product" in html
    block = re.search(r'<script type="application/ld\+json">(.*?)</script>', html, re.S).group(1)
    data = json.loads(block)
    assert data["@type"] == "Dataset" and data["name"] == "Products <b>"
    assert "<b>" not in block, "the title must not be able to close the script element"


@pytest.mark.parametrize("vocabulary", ["void", "dcat"])
def test_void_and_dcat_exports_are_valid_turtle(client, summarised, vocabulary):
    response = client.get(reverse("catalog:dataset_description", args=[summarised.pk, vocabulary]))
    assert response["Content-Type"] == "text/turtle"
    triples = list(ox.parse(response.content, format=ox.RdfFormat.TURTLE))
    predicates = {t.predicate.value for t in triples}
    if vocabulary == "void":
        assert "http://rdfs.org/ns/void#triples" in predicates
        assert "http://rdfs.org/ns/void#propertyPartition" in predicates
    else:
        assert "http://www.w3.org/ns/dcat#distribution" in predicates


def test_unapproved_datasets_are_hidden_from_strangers(client, publisher):
    draft = dataset_create(publisher=publisher, title="Draft", kind="hosted")
    assert client.get(draft.get_absolute_url()).status_code == 404
    client.force_login(publisher.owner)
    assert client.get(draft.get_absolute_url()).status_code == 200


def test_dashboard_lists_the_publishers_datasets(client, summarised, publisher):
    client.force_login(publisher.owner)
    page = client.get(reverse("catalog:dashboard"))
    assert b"Products" in page.content and b"Acme Data" in page.content


def test_admin_approves_publishers_and_datasets(client, make_user, publisher):
    from marketplace.accounts.services import organisation_apply

    staff = make_user("operator", is_staff=True, is_superuser=True)
    pending = organisation_apply(user=make_user("frank"), name="Frank Data")
    dataset = dataset_create(publisher=publisher, title="Draft", kind="hosted")
    client.force_login(staff)
    client.post("/admin/accounts/organisation/", {"action": "approve", "_selected_action": [pending.pk]})
    client.post("/admin/catalog/dataset/", {"action": "approve", "_selected_action": [dataset.pk]})
    pending.refresh_from_db()
    dataset.refresh_from_db()
    assert pending.status == "approved" and pending.approved_by == staff
    assert dataset.status == "approved"
    assert client.get("/admin/catalog/ingestjob/").status_code == 200


def test_admin_outlines_the_engine_summary_without_its_membership_filter(client, make_user, summarised):
    from sparql.members import Members

    filter_json = Members.of([f"s http://e/p http://e/{i}" for i in range(2000)], 2000).to_json()
    summary = summarised.summary
    summary.engine = {"predicates": {"http://e/label": 60}, "classes": {}, "members": filter_json}
    summary.save()
    client.force_login(make_user("operator", is_staff=True, is_superuser=True))
    page = client.get(f"/admin/catalog/datasetsummary/{summary.pk}/change/")
    assert page.status_code == 200
    assert b"1 predicates, 0 classes; membership filter: 2 KiB" in page.content
    assert filter_json["data"][:40].encode() not in page.content
