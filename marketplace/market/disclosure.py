"""What a quote discloses before payment, in one place: counts, prices, providers and price models, the
answer's variable names (from the buyer's own query) and how the allocation was solved. Never a term of the
answer. The UI, the API and the /sparql 402 answer all show exactly this."""

from __future__ import annotations

from django.urls import reverse

from marketplace.money.currency import currency_code

from .models import QueryJob, Quote


def quote_public(quote: Quote) -> dict:
    job: QueryJob = quote.job
    return {
        "id": quote.pk,
        "status": "expired" if quote.expired else quote.status,
        "currency": currency_code(),
        "rows_available": job.rows_available,
        "rows_in_quote": quote.rows_in_quote,
        "complete": quote.complete,
        "subtotal": quote.subtotal,
        "fee": quote.fee,
        "price": quote.price,
        "complete_price": quote.complete_price,
        "strategy": quote.strategy,
        "objective": str(quote.objective),
        "upper_bound": str(quote.upper_bound),
        "gap": quote.gap,
        "optimal": quote.optimal,
        "solve_seconds": round(quote.solve_seconds, 6),
        "created_at": quote.created_at.isoformat(),
        "expires_at": quote.expires_at.isoformat(),
        "lines": [
            {
                "dataset": line.dataset_id,
                "dataset_title": line.dataset.title,
                "publisher": line.publisher.slug,
                "price_model": line.price_kind,
                "rate": str(line.rate),
                "access_fee": line.access_fee,
                "items": line.items,
                "rows": line.rows,
                "triples": line.triples,
                "amount": line.amount,
            }
            for line in quote.lines.select_related("dataset", "publisher")
        ],
    }


def job_public(job: QueryJob, quote: Quote | None, *, request=None) -> dict:
    page = reverse("market:job", kwargs={"pk": job.pk})
    results = reverse("query-results", kwargs={"pk": job.pk})
    absolute = request.build_absolute_uri if request is not None else (lambda u: u)
    return {
        "id": str(job.pk),
        "status": job.status,
        "kind": job.kind,
        "query": job.query,
        "value_per_row": job.value_per_row,
        "budget": job.budget,
        "include": job.include,
        "exclude": job.exclude,
        "progress": job.progress,
        "error": job.error,
        "notes": job.notes,
        "variables": job.variables,
        "rows_available": job.rows_available,
        "created_at": job.created_at.isoformat(),
        "finished_at": job.finished_at.isoformat() if job.finished_at else None,
        "quote": quote_public(quote) if quote is not None else None,
        "page_url": absolute(page),
        "results_url": absolute(results) if job.status == QueryJob.Status.PURCHASED else None,
    }
