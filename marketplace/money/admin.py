"""Operator views: the ledger (read-only), purchases and top-ups with refund actions, payouts to settle,
the platform fee rate."""

from django.contrib import admin, messages
from django.db.models import Sum

from .currency import format_amount
from .errors import MoneyError
from .models import (
    Account,
    FeeRate,
    JournalEntry,
    JournalLine,
    Payout,
    PayoutDestination,
    ProviderEvent,
    Purchase,
    Refund,
    TopUp,
)
from .services import payout_fail, payout_settle, purchase_refund, topup_refund


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Account)
class AccountAdmin(ReadOnlyAdmin):
    list_display = ("id", "kind", "user", "organisation", "balance")
    list_filter = ("kind",)
    search_fields = ("user__username", "organisation__name")

    @admin.display(description="Balance (sum of lines)")
    def balance(self, obj):
        return format_amount(obj.lines.aggregate(s=Sum("amount"))["s"] or 0)


class LineInline(admin.TabularInline):
    model = JournalLine
    fk_name = "entry"
    fields = ("account", "amount", "description", "reverses")
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(JournalEntry)
class JournalEntryAdmin(ReadOnlyAdmin):
    list_display = ("id", "kind", "description", "created_at", "created_by")
    list_filter = ("kind",)
    search_fields = ("description",)
    inlines = [LineInline]


def _run(modeladmin, request, queryset, action, label: str) -> None:
    done = 0
    for obj in queryset:
        try:
            action(obj)
            done += 1
        except MoneyError as exc:
            modeladmin.message_user(request, f"{obj}: {exc}", messages.ERROR)
    if done:
        modeladmin.message_user(request, f"{label}: {done}.", messages.SUCCESS)


@admin.register(Purchase)
class PurchaseAdmin(ReadOnlyAdmin):
    list_display = ("id", "buyer", "description", "total_display", "fee", "created_at")
    search_fields = ("buyer__username", "description", "idempotency_key")
    actions = ["refund_to_wallet"]

    @admin.display(description="Total")
    def total_display(self, obj):
        return format_amount(obj.total)

    @admin.action(description="Refund what is left to the buyer's wallet (reversing entry)")
    def refund_to_wallet(self, request, queryset):
        _run(
            self,
            request,
            queryset,
            lambda p: purchase_refund(purchase=p, by=request.user, reason="operator refund"),
            "Refunded",
        )


@admin.register(TopUp)
class TopUpAdmin(ReadOnlyAdmin):
    list_display = ("id", "user", "amount", "provider", "status", "payment_intent_id", "created_at")
    list_filter = ("status", "provider")
    search_fields = ("user__username", "payment_intent_id")
    actions = ["refund_to_card"]

    @admin.action(description="Refund what is left to the card (Stripe refund)")
    def refund_to_card(self, request, queryset):
        _run(
            self,
            request,
            queryset,
            lambda t: topup_refund(topup=t, by=request.user, reason="operator refund"),
            "Refunded",
        )


@admin.register(Refund)
class RefundAdmin(ReadOnlyAdmin):
    list_display = ("id", "kind", "purchase", "topup", "amount", "status", "created_by", "created_at")
    list_filter = ("kind", "status")


@admin.register(Payout)
class PayoutAdmin(ReadOnlyAdmin):
    list_display = (
        "id",
        "organisation",
        "amount",
        "status",
        "method",
        "transfer_id",
        "created_at",
        "settled_by",
    )
    list_filter = ("status", "method")
    actions = ["settle_by_hand", "mark_failed"]

    @admin.action(description="Mark as paid: sent by hand (no Connect account)")
    def settle_by_hand(self, request, queryset):
        _run(
            self,
            request,
            queryset,
            lambda p: payout_settle(payout=p, by=request.user, note="settled by hand"),
            "Settled",
        )

    @admin.action(description="Mark as failed: return the amount to the publisher's earnings")
    def mark_failed(self, request, queryset):
        _run(self, request, queryset, lambda p: payout_fail(payout=p, by=request.user), "Failed")


@admin.register(PayoutDestination)
class PayoutDestinationAdmin(admin.ModelAdmin):
    list_display = ("organisation", "stripe_account_id")


@admin.register(FeeRate)
class FeeRateAdmin(admin.ModelAdmin):
    """Adding a row sets the fee in force; earlier rows stay as history."""

    list_display = ("percent", "set_at", "set_by")
    fields = ("percent",)

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def save_model(self, request, obj, form, change):
        obj.set_by = request.user
        super().save_model(request, obj, form, change)


@admin.register(ProviderEvent)
class ProviderEventAdmin(ReadOnlyAdmin):
    list_display = ("event_id", "type", "received_at")
