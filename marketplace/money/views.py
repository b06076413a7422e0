"""Money pages: the wallet (balance, top-up, statement, receipts), publisher earnings, the Stripe webhook."""

import logging

import stripe
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse, HttpResponseBadRequest, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from marketplace.accounts.models import Organisation
from marketplace.accounts.selectors import can_publish_for

from . import gateway, selectors
from .charts import revenue_chart
from .currency import currency_code
from .errors import MoneyError
from .forms import PayoutForm, TopUpForm
from .models import Purchase, TopUp
from .modes import stripe_js_enabled, test_payments_active
from .services import earnings_for, payout_request, topup_start, wallet_balance, webhook_event_handle

log = logging.getLogger(__name__)


@login_required
def wallet(request):
    form = TopUpForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            topup = topup_start(user=request.user, amount=form.cleaned_data["amount"])
        except MoneyError as exc:
            form.add_error(None, str(exc))
        else:
            if topup.status == TopUp.Status.SUCCEEDED:
                messages.success(request, "Test top-up credited (test-payment mode: no money moved).")
                return redirect("money:wallet")
            return redirect("money:topup", pk=topup.pk)
    context = {
        "balance": wallet_balance(user=request.user),
        "form": form,
        "statement": selectors.wallet_statement(user=request.user),
        "purchases": selectors.purchases_of(user=request.user)[:50],
        "topups": selectors.topups_of(user=request.user)[:20],
        "test_mode": test_payments_active(),
        "currency": currency_code(),
    }
    return render(request, "money/wallet.html", context, status=400 if request.method == "POST" else 200)


@login_required
def topup(request, pk: int):
    topup = get_object_or_404(TopUp, pk=pk, user=request.user)
    context = {
        "topup": topup,
        "stripe_js": stripe_js_enabled() and topup.status == TopUp.Status.PENDING,
        "publishable_key": settings.STRIPE_PUBLISHABLE_KEY,
    }
    return render(request, "money/topup.html", context)


@login_required
def topup_status(request, pk: int):
    topup = get_object_or_404(TopUp, pk=pk, user=request.user)
    finished = topup.status != TopUp.Status.PENDING
    return JsonResponse(
        {
            "progress": 100 if finished else 50,
            "status_label": topup.get_status_display(),
            "finished": finished,
        }
    )


@login_required
def receipt(request, pk: int):
    purchase = get_object_or_404(Purchase.objects.select_related("buyer"), pk=pk)
    if purchase.buyer_id != request.user.pk and not request.user.is_staff:
        raise PermissionDenied
    context = {
        "purchase": purchase,
        "lines": selectors.purchase_receipt(purchase=purchase),
        "refunded": selectors.purchase_refunded(purchase=purchase),
    }
    return render(request, "money/receipt.html", context)


@login_required
def earnings(request, slug: str):
    organisation = get_object_or_404(Organisation, slug=slug)
    if not can_publish_for(user=request.user, organisation=organisation):
        raise PermissionDenied
    form = PayoutForm(request.POST or None)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                payout = payout_request(organisation=organisation, amount=form.cleaned_data["amount"], by=request.user)
            except MoneyError as exc:
                form.add_error("amount", str(exc))
            else:
                messages.success(request, f"Payout #{payout.pk} {payout.get_status_display().lower()}.")
                return redirect("money:earnings", slug=slug)
        status = 400
    context = {
        "organisation": organisation,
        "earnings": earnings_for(organisation=organisation),
        "chart": revenue_chart(selectors.revenue_by_day(organisation=organisation)),
        "payouts": selectors.payouts_of(organisation=organisation)[:50],
        "form": form,
        "hold_days": settings.MONEY_EARNINGS_HOLD_DAYS,
        "has_connect": hasattr(organisation, "payout_destination"),
    }
    return render(request, "money/earnings.html", context, status=status)


@csrf_exempt
@require_POST
def stripe_webhook(request):
    """Stripe's signed events: a bad signature gets 400 and changes nothing; a replay is acknowledged only."""
    try:
        event = gateway.event_verify(payload=request.body, signature=request.headers.get("Stripe-Signature", ""))
    except (stripe.SignatureVerificationError, ValueError) as exc:
        log.warning("Rejected a Stripe webhook: %s", exc)
        return HttpResponseBadRequest("invalid signature")
    handled = webhook_event_handle(event=event.to_dict())
    return HttpResponse("ok" if handled else "duplicate")
