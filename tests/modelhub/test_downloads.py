"""Downloads: byte ranges and ETags, counting, priced files only for buyers, expiring signed links."""

from __future__ import annotations

import time

import pytest
from django.core import signing
from django.urls import reverse

pytestmark = pytest.mark.django_db


def _body(response) -> bytes:
    return b"".join(response.streaming_content) if response.streaming else response.content


@pytest.fixture
def free_artifact(media, make_variant, big_file):
    return make_variant("fp32", path=big_file, method="none").artifacts.get()


@pytest.fixture
def priced_artifact(media, make_variant, big_file):
    return make_variant("int8", price=500, path=big_file, method="linear_quantization").artifacts.get()


@pytest.mark.parametrize(
    "header, start, end",
    [
        ("bytes=0-99", 0, 99),
        ("bytes=1048570-1048600", 1048570, 1048600),
        ("bytes=3145000-", 3145000, 3145727),
        ("bytes=-500", 3145728 - 500, 3145727),
        ("bytes=100-99999999", 100, 3145727),
    ],
)
def test_ranged_download_returns_exactly_the_requested_bytes(client, free_artifact, big_file, header, start, end):
    response = client.get(reverse("modelhub:download", args=[free_artifact.pk]), HTTP_RANGE=header)
    assert response.status_code == 206
    assert response["Content-Range"] == f"bytes {start}-{end}/{big_file.stat().st_size}"
    assert int(response["Content-Length"]) == end - start + 1
    assert _body(response) == big_file.read_bytes()[start : end + 1]


def test_whole_download_streams_the_file_with_its_sha256_as_etag(client, free_artifact, big_file):
    response = client.get(reverse("modelhub:download", args=[free_artifact.pk]))
    assert response.status_code == 200 and response.streaming
    assert response["ETag"] == f'"{free_artifact.sha256}"'
    assert response["Accept-Ranges"] == "bytes"
    assert _body(response) == big_file.read_bytes()


def test_range_past_the_end_is_unsatisfiable(client, free_artifact):
    response = client.get(reverse("modelhub:download", args=[free_artifact.pk]), HTTP_RANGE="bytes=99999999-")
    assert response.status_code == 416
    assert response["Content-Range"] == f"bytes */{free_artifact.size_bytes}"


def test_matching_etag_answers_not_modified(client, free_artifact):
    response = client.get(
        reverse("modelhub:download", args=[free_artifact.pk]), HTTP_IF_NONE_MATCH=f'"{free_artifact.sha256}"'
    )
    assert response.status_code == 304


def test_stale_if_range_sends_the_whole_file(client, free_artifact, big_file):
    url = reverse("modelhub:download", args=[free_artifact.pk])
    response = client.get(url, HTTP_RANGE="bytes=0-9", HTTP_IF_RANGE='"0000"')
    assert response.status_code == 200
    assert len(_body(response)) == big_file.stat().st_size


def test_downloads_are_counted_but_resumed_ranges_are_not(client, free_artifact):
    url = reverse("modelhub:download", args=[free_artifact.pk])
    _body(client.get(url))
    _body(client.get(url, HTTP_RANGE="bytes=0-10"))
    _body(client.get(url, HTTP_RANGE="bytes=10-20"))
    client.head(url)
    free_artifact.refresh_from_db()
    assert free_artifact.download_count == 2


def test_non_buyer_cannot_download_a_priced_artifact(client, make_user, priced_artifact):
    client.force_login(make_user("bob"))
    response = client.get(reverse("modelhub:download", args=[priced_artifact.pk]))
    assert response.status_code == 402
    link = client.post(reverse("modelhub:download_link", args=[priced_artifact.pk]))
    assert link.status_code == 402


def test_anonymous_api_cannot_get_a_link_for_a_priced_artifact(api_client, priced_artifact):
    response = api_client.post(f"/api/artifacts/{priced_artifact.pk}/link/")
    assert response.status_code in (401, 402, 403)
    assert "url" not in response.json()


def test_buyer_downloads_through_a_signed_link_after_paying(client, make_user, priced_artifact, big_file):
    from marketplace.money.services import test_topup, wallet_balance

    buyer = make_user("carol")
    test_topup(user=buyer, amount=2000)
    client.force_login(buyer)
    variant = priced_artifact.variant
    response = client.post(reverse("modelhub:buy", args=[variant.model.slug, variant.pk]))
    assert response.status_code == 302
    assert wallet_balance(user=buyer) == 1500
    # buying again charges nothing
    client.post(reverse("modelhub:buy", args=[variant.model.slug, variant.pk]))
    assert wallet_balance(user=buyer) == 1500
    redirect = client.get(reverse("modelhub:download", args=[priced_artifact.pk]))
    assert redirect.status_code == 302 and "/models/d/" in redirect["Location"]
    client.logout()  # the link itself is the permission
    response = client.get(redirect["Location"], HTTP_RANGE="bytes=5-14")
    assert response.status_code == 206
    assert _body(response) == big_file.read_bytes()[5:15]


def test_buyer_without_money_is_refused_and_not_charged(client, make_user, priced_artifact):
    buyer = make_user("dave")
    client.force_login(buyer)
    variant = priced_artifact.variant
    client.post(reverse("modelhub:buy", args=[variant.model.slug, variant.pk]))
    assert not variant.purchases.exists()
    assert client.get(reverse("modelhub:download", args=[priced_artifact.pk])).status_code == 402


def test_expired_link_fails(client, monkeypatch, priced_artifact, settings):
    from modelhub.services.downloads import download_token

    owner = priced_artifact.variant.model.publisher.owner
    real_time = time.time
    monkeypatch.setattr(signing.time, "time", lambda: real_time() - settings.MODELHUB_DOWNLOAD_LINK_MAX_AGE - 5)
    token = download_token(user=owner, artifact=priced_artifact)
    monkeypatch.setattr(signing.time, "time", real_time)
    response = client.get(reverse("modelhub:signed_download", args=[token]))
    assert response.status_code == 403
    assert b"expired" in response.content


def test_tampered_link_fails(client, priced_artifact):
    from modelhub.services.downloads import download_token

    token = download_token(user=priced_artifact.variant.model.publisher.owner, artifact=priced_artifact)
    response = client.get(reverse("modelhub:signed_download", args=[token[:-2] + "xx"]))
    assert response.status_code == 403
