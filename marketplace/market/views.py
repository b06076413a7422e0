"""Pages of the query market: ask, follow, quote, buy, results, receipt, price models, subscriptions."""

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from marketplace.accounts.selectors import can_publish_for, organisations_of
from marketplace.catalog.models import Dataset
from marketplace.money.currency import currency_code
from marketplace.money.services import MoneyError, wallet_balance

from . import disclosure
from .errors import MarketError
from .examples import demo_examples
from .forms import AskForm, PriceModelForm
from .models import PriceModel, QueryJob
from .selectors import jobs_of, latest_quote, purchased_quote, subscriptions_of
from .services import delivery
from .services.price_models import price_model_set
from .services.purchases import quote_purchase
from .services.queries import job_cancel, job_create
from .services.quotes import quote_create
from .services.sources import datasets_on_sale
from .services.subscriptions import subscription_buy

RESULTS_PER_PAGE = 50


def _own_job(request, pk) -> QueryJob:
    job = QueryJob.objects.filter(pk=pk, buyer=request.user).first()
    if job is None:
        raise Http404("No such query.")
    return job


@login_required
def job_list(request):
    form = AskForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            job = job_create(
                buyer=request.user,
                query=data["query"],
                value_per_row=data["value_per_row"],
                budget=data["budget"],
                include=AskForm.split(data["include"]),
                exclude=AskForm.split(data["exclude"]),
                strategy=data["strategy"],
            )
        except MarketError as exc:
            form.add_error("query", str(exc))
        else:
            return redirect(job)
    page = Paginator(jobs_of(buyer=request.user), 20).get_page(request.GET.get("page"))
    return render(
        request,
        "market/job_list.html",
        {
            "form": form,
            "page": page,
            "subscriptions": subscriptions_of(buyer=request.user)[:20],
            "examples": demo_examples(),
        },
    )


def _status(job: QueryJob) -> dict:
    progress = job.progress or {}
    done = job.finished
    percent = 100 if done else min(95, 5 + 3 * int(progress.get("requests", 0)))
    label = (
        f"{job.get_status_display()}: {progress.get('sources_contacted', 0)} sources contacted, "
        f"{progress.get('requests', 0)} requests, {progress.get('triples_fetched', progress.get('rows', 0))} triples"
    )
    if progress.get("rows") is not None:
        label += f", {progress['rows']} rows"
    if progress.get("phase") == "evaluating" and not done:
        label += "; computing the answer and which data each row needs"
    return {"progress": percent, "status_label": label, "finished": done, "status": job.status, **progress}


@login_required
def job_status(request, pk):
    return JsonResponse(_status(_own_job(request, pk)))


@login_required
def job_detail(request, pk):
    job = _own_job(request, pk)
    quote = latest_quote(job=job)
    context = {
        "job": job,
        "quote": quote,
        "quote_public": disclosure.quote_public(quote) if quote is not None else None,
        "status": _status(job),
        "balance": wallet_balance(user=request.user),
        "currency": currency_code(),
    }
    return render(request, "market/job_detail.html", context)


@login_required
@require_POST
def job_cancel_view(request, pk):
    job_cancel(job=_own_job(request, pk), by=request.user)
    messages.info(request, "Cancel requested.")
    return redirect("market:job", pk=pk)


@login_required
@require_POST
def job_requote(request, pk):
    job = _own_job(request, pk)
    if job.status == QueryJob.Status.QUOTED:
        quote_create(job=job)
        messages.info(request, "New quote made with today's prices.")
    return redirect(job)


@login_required
@require_POST
def job_buy(request, pk):
    job = _own_job(request, pk)
    try:
        quote_id = int(request.POST.get("quote", ""))
    except ValueError:
        quote_id = None
    try:
        quote_purchase(buyer=request.user, job=job, quote_id=quote_id)
    except (MarketError, MoneyError) as exc:
        messages.error(request, str(exc))
        return redirect(job)
    messages.success(request, "Bought: the rows are yours.")
    return redirect("market:receipt", pk=job.pk)


@login_required
def job_results(request, pk):
    job = _own_job(request, pk)
    try:
        result = delivery.bought_answer(buyer=request.user, job=job)
    except MarketError as exc:
        messages.error(request, str(exc))
        return redirect(job)
    page = Paginator(result.rows if result.kind == "SELECT" else result.triples, RESULTS_PER_PAGE).get_page(
        request.GET.get("page")
    )
    rows = [[row.get(v) for v in result.variables] for row in page] if result.kind == "SELECT" else list(page)
    return render(
        request,
        "market/results.html",
        {
            "job": job,
            "result": result,
            "page": page,
            "rows": rows,
            "formats": delivery.formats_for(result.kind),
        },
    )


@login_required
def job_download(request, pk, fmt):
    job = _own_job(request, pk)
    try:
        result = delivery.bought_answer(buyer=request.user, job=job)
        body, content_type = delivery.render(result, fmt)
    except MarketError as exc:
        return HttpResponse(str(exc), status=402 if "Buy" in str(exc) else 400, content_type="text/plain")
    response = HttpResponse(body, content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="answer-{job.pk}.{delivery.EXTENSIONS[fmt]}"'
    return response


@login_required
def job_receipt(request, pk):
    job = _own_job(request, pk)
    quote = purchased_quote(job=job)
    if quote is None:
        messages.error(request, "This query has not been bought yet.")
        return redirect(job)
    return render(
        request,
        "market/receipt.html",
        {
            "job": job,
            "quote": quote,
            "lines": quote.lines.select_related("dataset", "publisher"),
            "currency": currency_code(),
        },
    )


@login_required
def price_model_edit(request, pk):
    dataset = get_object_or_404(Dataset, pk=pk)
    if not can_publish_for(user=request.user, organisation=dataset.publisher):
        raise Http404("No such dataset.")
    current = PriceModel.objects.filter(dataset=dataset).first()
    initial = (
        {
            "kind": current.kind,
            "rate": current.rate,
            "access_fee": current.access_fee,
            "subscription_price": current.subscription_price,
            "subscription_period_days": current.subscription_period_days,
        }
        if current
        else {}
    )
    form = PriceModelForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            price_model_set(
                user=request.user,
                dataset=dataset,
                kind=data["kind"],
                rate=data["rate"] or 0,
                access_fee=data["access_fee"] or 0,
                subscription_price=data["subscription_price"],
                subscription_period_days=data["subscription_period_days"],
            )
        except MarketError as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(request, "Price model saved.")
            return redirect(dataset)
    return render(
        request,
        "market/price_model.html",
        {"dataset": dataset, "form": form, "current": current, "currency": currency_code()},
    )


@login_required
@require_POST
def subscribe(request, pk):
    dataset = get_object_or_404(datasets_on_sale(), pk=pk)
    try:
        subscription = subscription_buy(
            buyer=request.user, dataset=dataset, idempotency_key=request.POST.get("key", "")
        )
    except (MarketError, MoneyError) as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, f"Subscribed to {dataset.title} until {subscription.ends_at:%Y-%m-%d}.")
    return redirect(dataset)


def offers(request):
    """Datasets on sale with their price models; a publisher also sees its own datasets, to price them."""
    mine = Dataset.objects.filter(publisher__in=organisations_of(user=request.user)).select_related("publisher")
    return render(
        request,
        "market/offers.html",
        {"datasets": datasets_on_sale(), "mine": mine, "currency": currency_code()},
    )


def sparql_help(request):
    return render(
        request,
        "market/sparql_help.html",
        {
            "catalog_url": request.build_absolute_uri("/sparql"),
            "data_url": request.build_absolute_uri("/sparql/data"),
            "time_limit": f"{settings.MARKET_SPARQL_TIME_LIMIT:g}",
        },
    )
