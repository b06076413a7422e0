"""A buyer asks one of the example queries over the demo marketplace, reads the quote, buys, and sees the rows."""

import pytest
from django.core.management import call_command

from marketplace.market.models import QueryJob
from marketplace.money.services import wallet_balance

pytestmark = pytest.mark.e2e


def test_buyer_asks_an_example_query_buys_the_quote_and_reads_the_rows(worker, live_server, page):
    call_command("load_demo")  # six FedShop-like publishers with prices, a buyer with test money
    from marketplace.accounts.models import User

    buyer = User.objects.get(username="buyer")
    before = wallet_balance(user=buyer)

    page.goto(f"{live_server.url}/login/")
    page.fill("input[name=username]", "buyer")
    page.fill("input[name=password]", "demo-pass-2026")
    page.click("button[type=submit]")
    page.goto(f"{live_server.url}/queries/")
    page.select_option("[data-examples]", index=2)  # q02: the offers of one product, across vendors
    assert "SELECT" in page.input_value("textarea[name=query]")
    page.click("button:has-text('Run and quote')")

    buy = page.wait_for_selector("[data-buy]", timeout=90_000)
    quoted = int(page.inner_text("[data-rows-in-quote]"))
    assert quoted > 0
    assert "Per provider" in page.inner_text("#quote")
    buy.click()
    page.click("a:has-text('Results')")
    rows = page.locator("table tr").count() - 1  # the header row
    assert rows == min(quoted, 50)  # the bought rows, 50 a page

    job = QueryJob.objects.get()
    assert job.status == QueryJob.Status.PURCHASED
    assert wallet_balance(user=buyer) < before
