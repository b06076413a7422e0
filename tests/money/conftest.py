"""Fixtures for the money tests: localstripe on loopback as the Stripe API, signed events, buyers with money."""

import hashlib
import hmac
import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

from tests.conftest import wait_until

HERE = Path(__file__).resolve().parent
WEBHOOK_SECRET = "whsec_test_money_secret"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def localstripe(tmp_path_factory):
    """A localstripe server started for this test session on 127.0.0.1, its store file in a temp dir."""
    port = _free_port()
    tmp = tmp_path_factory.mktemp("localstripe")
    log = open(tmp / "localstripe.log", "wb")
    process = subprocess.Popen(
        [sys.executable, str(HERE / "localstripe_server.py"), str(port), str(tmp / "store.pickle")],
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    base = f"http://127.0.0.1:{port}"

    def up() -> bool:
        if process.poll() is not None:
            pytest.fail(f"localstripe exited:\n{(tmp / 'localstripe.log').read_text()[-2000:]}")
        try:
            return requests.get(f"{base}/v1/customers", auth=("sk_test_local", ""), timeout=1).status_code == 200
        except requests.ConnectionError:
            return False

    wait_until(up, timeout=30, message="localstripe")
    yield base
    os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
    log.close()


@pytest.fixture
def stripe_settings(settings, localstripe):
    """Real-Stripe mode against localstripe (DEBUG is off in tests, so test payments are off)."""
    settings.STRIPE_SECRET_KEY = "sk_test_local"
    settings.STRIPE_PUBLISHABLE_KEY = "pk_test_local"
    settings.STRIPE_WEBHOOK_SECRET = WEBHOOK_SECRET
    settings.STRIPE_API_BASE = localstripe
    settings.MONEY_TEST_PAYMENTS = None
    return settings


@pytest.fixture
def test_payment_settings(settings):
    settings.STRIPE_SECRET_KEY = ""
    settings.STRIPE_PUBLISHABLE_KEY = ""
    settings.MONEY_TEST_PAYMENTS = None
    return settings


def register_webhook(localstripe: str, url: str) -> None:
    response = requests.post(
        f"{localstripe}/_config/webhooks/marketplace",
        data={"url": url, "secret": WEBHOOK_SECRET},
        auth=("sk_test_local", ""),
        timeout=5,
    )
    assert response.status_code == 200, response.text


def sign(payload: str, secret: str = WEBHOOK_SECRET, timestamp: int | None = None) -> str:
    """A Stripe-Signature header, computed as Stripe computes it."""
    t = int(time.time()) if timestamp is None else timestamp
    mac = hmac.new(secret.encode(), f"{t}.{payload}".encode(), hashlib.sha256).hexdigest()
    return f"t={t},v1={mac}"


def succeeded_event(*, event_id: str, intent_id: str, amount: int, currency: str = "eur") -> str:
    return json.dumps(
        {
            "id": event_id,
            "object": "event",
            "type": "payment_intent.succeeded",
            "created": int(time.time()),
            "data": {
                "object": {
                    "id": intent_id,
                    "object": "payment_intent",
                    "amount": amount,
                    "currency": currency,
                    "status": "succeeded",
                }
            },
        }
    )


@pytest.fixture
def buyer(make_user):
    return make_user("bob")


@pytest.fixture
def funded_buyer(buyer, test_payment_settings):
    """A buyer with 100.00 in the wallet, credited through the test-payment path."""
    from marketplace.money.services import test_topup

    test_topup(user=buyer, amount=10_000)
    return buyer
