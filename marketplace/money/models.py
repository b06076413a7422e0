"""The ledger (accounts, immutable journal entries whose lines sum to zero) and the business records
that point into it: purchases, top-ups, refunds, payouts, provider events, the platform fee rate."""

from decimal import Decimal

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone

from marketplace.accounts.models import Organisation


class ImmutableError(Exception):
    """Journal entries and lines are never changed or deleted: a correction is a reversing entry."""


class Account(models.Model):
    """A ledger account. A balance is the sum of its lines; wallets also keep `cached_balance`,
    updated in the same transaction as every line they get (tests assert it equals the sum)."""

    class Kind(models.TextChoices):
        WALLET = "wallet", "Buyer wallet"
        EARNINGS = "earnings", "Publisher earnings"
        PLATFORM_FEES = "platform_fees", "Platform fees"
        CLEARING = "clearing", "Payment provider clearing"
        REFUNDS = "refunds", "Card refunds in flight"
        PAYOUTS = "payouts", "Payouts in transit"

    SYSTEM_KINDS = (Kind.PLATFORM_FEES, Kind.CLEARING, Kind.REFUNDS, Kind.PAYOUTS)

    kind = models.CharField(max_length=16, choices=Kind.choices)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="money_accounts",
    )
    organisation = models.ForeignKey(
        Organisation, null=True, blank=True, on_delete=models.PROTECT, related_name="money_accounts"
    )
    cached_balance = models.BigIntegerField(default=0, help_text="Maintained for wallets only.")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["kind", "user"], condition=Q(user__isnull=False), name="money_one_wallet_per_user"
            ),
            models.UniqueConstraint(
                fields=["kind", "organisation"],
                condition=Q(organisation__isnull=False),
                name="money_one_earnings_per_org",
            ),
            models.UniqueConstraint(
                fields=["kind"],
                condition=Q(user__isnull=True, organisation__isnull=True),
                name="money_one_system_account",
            ),
            models.CheckConstraint(
                condition=~Q(kind="wallet") | Q(cached_balance__gte=0), name="money_wallet_never_negative"
            ),
        ]

    def __str__(self) -> str:
        owner = self.user or self.organisation
        return f"{self.get_kind_display()}{f' of {owner}' if owner else ''}"


class JournalEntry(models.Model):
    """One business event, booked atomically; its lines sum to zero."""

    class Kind(models.TextChoices):
        TOPUP = "topup", "Top-up"
        PURCHASE = "purchase", "Purchase"
        PURCHASE_REFUND = "purchase_refund", "Refund of a purchase to the wallet"
        CARD_REFUND = "card_refund", "Refund of card money (requested)"
        CARD_REFUND_SETTLED = "card_refund_settled", "Refund of card money (sent)"
        CARD_REFUND_FAILED = "card_refund_failed", "Refund of card money (failed, reversed)"
        PAYOUT = "payout", "Payout requested"
        PAYOUT_SETTLED = "payout_settled", "Payout sent"
        PAYOUT_FAILED = "payout_failed", "Payout failed (reversed)"

    kind = models.CharField(max_length=32, choices=Kind.choices)
    description = models.CharField(max_length=300, blank=True)
    reverses = models.ForeignKey("self", null=True, blank=True, on_delete=models.PROTECT, related_name="reversals")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        verbose_name_plural = "journal entries"
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return f"#{self.pk} {self.get_kind_display()}"

    def save(self, *args, **kwargs):
        if self.pk is not None and not kwargs.get("force_insert"):
            raise ImmutableError("Journal entries are immutable; book a reversing entry instead.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise ImmutableError("Journal entries are never deleted.")


class JournalLine(models.Model):
    entry = models.ForeignKey(JournalEntry, on_delete=models.PROTECT, related_name="lines")
    account = models.ForeignKey(Account, on_delete=models.PROTECT, related_name="lines")
    amount = models.BigIntegerField(help_text="Signed, in minor units: positive raises the account's balance.")
    description = models.CharField(max_length=300, blank=True)
    # A reversing line points at the line it (partly) reverses, so a line is never reversed beyond its amount.
    reverses = models.ForeignKey("self", null=True, blank=True, on_delete=models.PROTECT, related_name="reversals")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        indexes = [models.Index(fields=["account", "created_at"], name="money_line_account_time")]
        ordering = ["pk"]

    def __str__(self) -> str:
        return f"{self.account}: {self.amount}"

    def save(self, *args, **kwargs):
        if self.pk is not None and not kwargs.get("force_insert"):
            raise ImmutableError("Journal lines are immutable; book a reversing entry instead.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise ImmutableError("Journal lines are never deleted.")


class FeeRate(models.Model):
    """The platform fee as a percentage of a purchase's price; the latest row is in force (history kept)."""

    percent = models.DecimalField(
        max_digits=6,
        decimal_places=3,
        validators=[MinValueValidator(Decimal(0)), MaxValueValidator(Decimal(100))],
    )
    set_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    set_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-set_at", "-pk"]

    def __str__(self) -> str:
        return f"{self.percent}% from {self.set_at:%Y-%m-%d %H:%M}"


class Purchase(models.Model):
    buyer = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="purchases")
    idempotency_key = models.CharField(max_length=200)
    fingerprint = models.CharField(max_length=64, help_text="Hash of the charged amounts, to detect key reuse.")
    description = models.CharField(max_length=300, blank=True)
    total = models.BigIntegerField()
    fee = models.BigIntegerField()
    entry = models.OneToOneField(JournalEntry, on_delete=models.PROTECT, related_name="purchase")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.UniqueConstraint(fields=["buyer", "idempotency_key"], name="money_purchase_idempotency"),
        ]

    def __str__(self) -> str:
        return f"Purchase #{self.pk} by {self.buyer}"


class TopUp(models.Model):
    class Status(models.TextChoices):
        PENDING = "pending", "Waiting for payment"
        SUCCEEDED = "succeeded", "Paid"
        FAILED = "failed", "Failed"
        ABANDONED = "abandoned", "Abandoned"

    class Provider(models.TextChoices):
        STRIPE = "stripe", "Stripe"
        TEST = "test", "Test payment (no money moved)"

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="topups")
    amount = models.BigIntegerField()
    currency = models.CharField(max_length=3)
    provider = models.CharField(max_length=8, choices=Provider.choices)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING, db_index=True)
    payment_intent_id = models.CharField(max_length=100, null=True, blank=True, unique=True)
    client_secret = models.CharField(max_length=200, blank=True)
    failure_message = models.CharField(max_length=300, blank=True)
    entry = models.OneToOneField(JournalEntry, null=True, blank=True, on_delete=models.PROTECT, related_name="topup")
    created_at = models.DateTimeField(default=timezone.now)
    completed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return f"Top-up #{self.pk} ({self.get_status_display()})"


class ProviderEvent(models.Model):
    """A Stripe webhook event already processed: replays are recognised by the event id."""

    event_id = models.CharField(max_length=100, unique=True)
    type = models.CharField(max_length=100)
    received_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"{self.type} {self.event_id}"


class Refund(models.Model):
    class Kind(models.TextChoices):
        WALLET = "wallet", "Purchase refunded to the wallet"
        CARD = "card", "Top-up refunded to the card"

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        SUCCEEDED = "succeeded", "Refunded"
        FAILED = "failed", "Failed (reversed)"

    kind = models.CharField(max_length=8, choices=Kind.choices)
    purchase = models.ForeignKey(Purchase, null=True, blank=True, on_delete=models.PROTECT, related_name="refunds")
    topup = models.ForeignKey(TopUp, null=True, blank=True, on_delete=models.PROTECT, related_name="refunds")
    amount = models.BigIntegerField()
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING)
    reason = models.CharField(max_length=300, blank=True)
    provider_refund_id = models.CharField(max_length=100, blank=True)
    entry = models.OneToOneField(JournalEntry, on_delete=models.PROTECT, related_name="refund")
    settle_entry = models.OneToOneField(
        JournalEntry, null=True, blank=True, on_delete=models.PROTECT, related_name="refund_settled"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return f"Refund #{self.pk} ({self.get_kind_display()}, {self.get_status_display()})"


class PayoutDestination(models.Model):
    """A publisher's Stripe Connect account; without one, an operator settles payouts by hand."""

    organisation = models.OneToOneField(Organisation, on_delete=models.CASCADE, related_name="payout_destination")
    stripe_account_id = models.CharField(max_length=100)

    def __str__(self) -> str:
        return f"{self.organisation} -> {self.stripe_account_id}"


class Payout(models.Model):
    class Status(models.TextChoices):
        REQUESTED = "requested", "Requested"
        PAID = "paid", "Paid"
        FAILED = "failed", "Failed (returned to earnings)"

    class Method(models.TextChoices):
        CONNECT = "connect", "Stripe Connect transfer"
        MANUAL = "manual", "Settled by hand by an operator"

    organisation = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="payouts")
    amount = models.BigIntegerField()
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.REQUESTED, db_index=True)
    method = models.CharField(max_length=8, choices=Method.choices, blank=True)
    transfer_id = models.CharField(max_length=100, blank=True)
    note = models.CharField(max_length=300, blank=True)
    entry = models.OneToOneField(JournalEntry, on_delete=models.PROTECT, related_name="payout")
    settle_entry = models.OneToOneField(
        JournalEntry, null=True, blank=True, on_delete=models.PROTECT, related_name="payout_settled"
    )
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    settled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    settled_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return f"Payout #{self.pk} to {self.organisation} ({self.get_status_display()})"
