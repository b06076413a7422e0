"""Buying a quote through the money charge service (idempotent), which releases its rows to the buyer."""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from marketplace.money.services import ChargeLine, charge

from ..errors import NotAllowed, NotReady, QuoteExpired
from ..models import QueryJob, Quote


def quote_purchase(*, buyer, job: QueryJob, quote_id: int | None = None) -> Quote:
    """Charge the buyer for a quote (or the job's open one), credit each provider its amount and the platform
    its fee, then release the quoted rows. Buying the same quote again charges nothing and returns it."""
    if job.buyer_id != buyer.pk:
        raise NotAllowed("Only the buyer who asked this query can buy it.")
    with transaction.atomic():
        quotes = Quote.objects.select_for_update().filter(job=job)
        if quote_id:
            quote = quotes.filter(pk=quote_id).first()
        else:
            # Replaying "buy the open quote" after it was bought returns that purchase instead of failing.
            quote = (
                quotes.filter(status__in=[Quote.Status.OPEN, Quote.Status.PURCHASED]).order_by("-created_at").first()
            )
        if quote is None:
            raise NotReady("This query has no open quote to buy.")
        if quote.status == Quote.Status.PURCHASED:
            return quote
        if quote.status == Quote.Status.SUPERSEDED:
            raise QuoteExpired("This quote was replaced by a newer one; look at the new price first.")
        if quote.expired:
            raise QuoteExpired("This quote has expired (prices can change); ask for a new quote.")
        lines = [
            ChargeLine(
                publisher=line.publisher,
                amount=int(line.amount),
                description=f"Query {job.pk}: {line.dataset.title} ({line.get_kind_label()})",
            )
            for line in quote.lines.select_related("dataset", "publisher")
        ]
        purchase = None
        if lines or quote.fee:
            purchase = charge(
                buyer=buyer,
                lines=lines,
                fee=int(quote.fee),
                idempotency_key=f"market-quote-{quote.pk}",
                description=f"Answer to query {job.pk} ({quote.rows_in_quote} rows)",
            )
        quote.status = Quote.Status.PURCHASED
        quote.purchase_id = purchase.pk if purchase is not None else None
        quote.purchased_at = timezone.now()
        quote.save(update_fields=["status", "purchase_id", "purchased_at"])
        job.status = QueryJob.Status.PURCHASED
        job.save(update_fields=["status"])
    return quote
