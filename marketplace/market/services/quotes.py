"""Quoting: the buyer's tariffs, the allocation over the held rows, the fee within the budget, the stored quote."""

from __future__ import annotations

import math
from datetime import timedelta
from decimal import Decimal

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from marketplace.allocation import Allocation, StrategyNotApplicable, allocate
from marketplace.catalog.models import Dataset
from marketplace.money.services import fee_percent, platform_fee_for
from sparql import Federation
from sparql.algebra import ParsedQuery

from .. import held, pricing
from ..errors import NotReady
from ..models import PriceModel, QueryJob, Quote, QuoteLine
from ..selectors import active_subscription_dataset_ids
from .sources import source_name

MAX_BUDGET_ROUNDS = 6


def tariffs_for(*, buyer, datasets, subscribed: set[int] | None = None) -> dict[int, pricing.Tariff]:
    """Each dataset's tariff for this buyer: its price model, or zero while the buyer subscribes to it."""
    if subscribed is None:
        subscribed = active_subscription_dataset_ids(buyer=buyer)
    out = {}
    for dataset in datasets:
        model: PriceModel = dataset.price_model
        if dataset.pk in subscribed:
            out[dataset.pk] = pricing.Tariff(dataset.pk, pricing.SUBSCRIBED)
        elif model.kind in (PriceModel.Kind.FREE, PriceModel.Kind.SUBSCRIPTION):
            out[dataset.pk] = pricing.Tariff(
                dataset.pk, pricing.FREE if model.kind == PriceModel.Kind.FREE else pricing.SUBSCRIBED
            )
        else:
            out[dataset.pk] = pricing.Tariff(dataset.pk, model.kind, model.rate, int(model.access_fee))
    return out


def ask_derivation(federation: Federation, parsed: ParsedQuery, has_paths: bool) -> dict[str, list[str]]:
    """An ASK answer is priced from the static source selection (public summaries only), never from the data,
    so that its quote does not tell true from false: one unit of each relevant dataset's tariff."""
    names: set[str] = set()
    if has_paths:
        names = set(federation.sources)
    for bgp in federation.plan(parsed.text, probe=False, parsed=parsed).bgps:
        for unit in bgp.units:
            names.update(unit.sources)
        if bgp.paths:
            names = set(federation.sources)
    return {name: ["ask"] for name in sorted(names) if name.isdigit()}


def _charged(
    priced: pricing.PricedProblem, allocation: Allocation, fee_rate: Decimal
) -> tuple[pricing.Breakdown, int, int]:
    lines = pricing.breakdown(priced, allocation)
    subtotal = lines.subtotal
    return lines, subtotal, platform_fee_for(subtotal, fee_rate)


def _solve(priced: pricing.PricedProblem, strategy: str) -> Allocation:
    try:
        return allocate(priced.problem, strategy=strategy, time_limit=settings.MARKET_ALLOCATION_TIME_LIMIT)
    except StrategyNotApplicable:
        # e.g. min cut asked for with a binding budget: the buyer still gets a quote, from the automatic choice
        return allocate(priced.problem, strategy="auto", time_limit=settings.MARKET_ALLOCATION_TIME_LIMIT)


def _allocate_within(job: QueryJob, rows, tariffs, contributors, budget: int | None, fee_rate: Decimal):
    """Allocate so that providers' rounded amounts plus the fee fit the budget (the fee is on top of the price)."""
    budget_scaled = None if budget is None else budget * pricing.SCALE
    for _ in range(MAX_BUDGET_ROUNDS):
        priced = pricing.build_problem(
            rows,
            tariffs,
            value_per_row=job.value_per_row,
            budget_scaled=budget_scaled,
            contributors=contributors,
        )
        allocation = _solve(priced, job.strategy)
        lines, subtotal, fee = _charged(priced, allocation, fee_rate)
        if budget is None or subtotal + fee <= budget:
            return priced, allocation, lines, subtotal, fee
        excess = subtotal + fee - budget
        budget_scaled = max(0, budget_scaled - excess * pricing.SCALE)
    priced = pricing.build_problem(
        rows, tariffs, value_per_row=job.value_per_row, budget_scaled=0, contributors=contributors
    )
    allocation = allocate(priced.problem, strategy=job.strategy)
    lines, subtotal, fee = _charged(priced, allocation, fee_rate)
    return priced, allocation, lines, subtotal, fee


def _scaled_decimal(value: float | int) -> Decimal:
    if not math.isfinite(value):
        return Decimal(0)
    return (Decimal(value) / pricing.SCALE).quantize(Decimal("0.0001"))


@transaction.atomic
def quote_create(*, job: QueryJob, datasets=None, subscribed: set[int] | None = None, first: bool = False) -> Quote:
    """Price the held rows for the job's buyer with today's price models; earlier open quotes are superseded.

    The job runner passes what it already read (datasets with price models, subscriptions) and `first`."""
    return quote_in_transaction(job=job, datasets=datasets, subscribed=subscribed, first=first)


def quote_in_transaction(
    *,
    job: QueryJob,
    datasets=None,
    subscribed: set[int] | None = None,
    first: bool = False,
    rows=None,
    fee_rate: Decimal | None = None,
) -> Quote:
    """quote_create for a caller already inside its own transaction (no savepoint round trips); `rows` are
    the decoded provenance when the caller still has them, `fee_rate` the platform fee rate read with the
    datasets' price models (read here, once for every budget round, otherwise)."""
    if job.answer is None:
        raise NotReady("The query has no answer to quote yet.")
    if rows is None:
        rows = held.decode_provenance(job.provenance)
    if datasets is None:
        datasets = Dataset.objects.filter(pk__in=job.dataset_ids, price_model__isnull=False).select_related(
            "publisher", "price_model"
        )
    datasets = [d for d in datasets if hasattr(d, "price_model")]
    # the buyer's row is only needed to look the subscriptions up
    tariffs = tariffs_for(buyer=job.buyer if subscribed is None else None, datasets=datasets, subscribed=subscribed)
    known = set(tariffs)
    # A dataset that lost its price model since the query ran is not sold: its rows drop out.
    rows = [[d for d in derivs if all(k == pricing.BLANKET or int(k) in known for k in d)] for derivs in rows]
    contributed = {int(k): v for k, v in (job.progress or {}).get("contributed", {}).items() if int(k) in known}
    contributors = contributed or {pk: 1 for pk in known}
    if fee_rate is None:
        fee_rate = fee_percent()
    priced, allocation, lines, subtotal, fee = _allocate_within(job, rows, tariffs, contributors, job.budget, fee_rate)
    complete_price = None
    if len(allocation.rows) < len(rows):
        full = pricing.build_problem(rows, tariffs, value_per_row=None, budget_scaled=None, contributors=contributors)
        full_alloc = allocate(full.problem, strategy="auto", time_limit=settings.MARKET_ALLOCATION_TIME_LIMIT)
        if len(full_alloc.rows) == len(rows):
            _, full_subtotal, full_fee = _charged(full, full_alloc, fee_rate)
            complete_price = full_subtotal + full_fee
    else:
        complete_price = subtotal + fee
    if not first:
        job.quotes.filter(status=Quote.Status.OPEN).update(status=Quote.Status.SUPERSEDED)
    now = timezone.now()
    quote = Quote.objects.create(
        job=job,
        rows=list(allocation.rows),
        derivation={str(k): v for k, v in allocation.derivation.items()},
        rows_in_quote=len(allocation.rows),
        subtotal=subtotal,
        fee=fee,
        price=subtotal + fee,
        complete_price=complete_price,
        strategy=allocation.strategy,
        objective=_scaled_decimal(allocation.objective),
        upper_bound=_scaled_decimal(allocation.upper_bound),
        gap=allocation.gap,
        optimal=allocation.optimal,
        solve_seconds=allocation.solve_seconds,
        created_at=now,
        expires_at=now + timedelta(seconds=settings.MARKET_QUOTE_TTL_SECONDS),
    )
    by_pk: dict[int, Dataset] = {d.pk: d for d in datasets}
    QuoteLine.objects.bulk_create(
        [
            QuoteLine(
                quote=quote,
                dataset=by_pk[pk],
                publisher=by_pk[pk].publisher,
                price_kind=tariffs[pk].kind,
                rate=tariffs[pk].rate,
                access_fee=tariffs[pk].access_fee,
                items=line.items,
                rows=line.rows,
                triples=line.triples,
                amount=line.amount,
            )
            for pk, line in sorted(lines.lines.items())
        ]
    )
    return quote


def quote_fresh(*, job: QueryJob) -> Quote:
    """The job's open quote, re-priced if it expired (prices can change in between)."""
    quote = job.quotes.filter(status=Quote.Status.OPEN).order_by("-created_at").first()
    if quote is None:
        raise NotReady("This query has no open quote.")
    if quote.expired:
        quote = quote_create(job=job)
    return quote


__all__ = ["quote_create", "quote_in_transaction", "quote_fresh", "tariffs_for", "ask_derivation", "source_name"]
