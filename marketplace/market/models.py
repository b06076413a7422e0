"""Price models, subscriptions, query jobs with their held answers, quotes and their per-provider lines."""

import uuid
from decimal import Decimal

from django.conf import settings
from django.db import models
from django.urls import reverse
from django.utils import timezone

from marketplace.accounts.models import Organisation
from marketplace.allocation import SOLVED_BY
from marketplace.catalog.models import Dataset


class PriceModel(models.Model):
    """How a dataset's data is priced; set by its publisher. Amounts in minor units, rates as Decimal."""

    class Kind(models.TextChoices):
        PER_TRIPLE = "per_triple", "Per triple used"
        PER_ROW = "per_row", "Per answer row"
        ACCESS_FEE = "access_fee", "Access fee per purchase"
        SUBSCRIPTION = "subscription", "Subscription only"
        FREE = "free", "Free (open data)"

    dataset = models.OneToOneField(Dataset, on_delete=models.CASCADE, related_name="price_model")
    kind = models.CharField(max_length=16, choices=Kind.choices)
    # Per triple / per row, in minor units; fractions of a minor unit allowed (4 decimal places).
    rate = models.DecimalField(max_digits=14, decimal_places=4, default=Decimal("0"))
    # Access fee per purchase, in minor units.
    access_fee = models.PositiveBigIntegerField(default=0)
    # Subscription offer (any kind may offer one; "subscription" datasets are sold only that way).
    subscription_price = models.PositiveBigIntegerField(null=True, blank=True)
    subscription_period_days = models.PositiveIntegerField(default=30)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"{self.get_kind_display()} for {self.dataset}"

    @property
    def offers_subscription(self) -> bool:
        return self.subscription_price is not None


class CatalogVersion(models.Model):
    """One row whose number changes in the same commit as anything the market sells from (datasets, their
    publishers, price models, summaries, the platform fee); database triggers bump it (`catalog_version`)."""

    version = models.BigIntegerField(default=0)

    def __str__(self) -> str:
        return f"catalog version {self.version}"


class Subscription(models.Model):
    """A buyer's paid access to one dataset for a period: its data costs that buyer nothing meanwhile."""

    buyer = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="data_subscriptions")
    dataset = models.ForeignKey(Dataset, on_delete=models.CASCADE, related_name="subscriptions")
    starts_at = models.DateTimeField(default=timezone.now)
    ends_at = models.DateTimeField()
    amount = models.PositiveBigIntegerField()
    purchase_id = models.BigIntegerField(null=True, blank=True)
    idempotency_key = models.CharField(max_length=200, unique=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-ends_at"]

    def __str__(self) -> str:
        return f"{self.buyer} → {self.dataset} until {self.ends_at:%Y-%m-%d}"

    @property
    def active(self) -> bool:
        return self.starts_at <= timezone.now() < self.ends_at


class QueryJob(models.Model):
    """One ask: the buyer's query, what a row is worth to them, the budget; the held answer and its provenance."""

    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Running the query"
        QUOTED = "quoted", "Quote ready"
        PURCHASED = "purchased", "Bought"
        FAILED = "failed", "Failed"
        CANCELLED = "cancelled", "Cancelled"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    buyer = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="query_jobs")
    query = models.TextField()
    kind = models.CharField(max_length=16, blank=True)  # SELECT | ASK | CONSTRUCT
    value_per_row = models.PositiveBigIntegerField(null=True, blank=True)  # None: no limit
    budget = models.PositiveBigIntegerField(null=True, blank=True)
    include = models.JSONField(default=list, blank=True)  # publisher slugs or dataset ids
    exclude = models.JSONField(default=list, blank=True)
    strategy = models.CharField(max_length=16, default="auto")
    via = models.CharField(max_length=16, default="ui")  # ui | api | sparql

    status = models.CharField(max_length=16, choices=Status.choices, default=Status.QUEUED, db_index=True)
    progress = models.JSONField(default=dict, blank=True)
    error = models.TextField(blank=True)  # written for the buyer; never carries provider data
    cancel_requested = models.BooleanField(default=False)
    notes = models.JSONField(default=list, blank=True)

    variables = models.JSONField(default=list, blank=True)
    # The datasets on sale the query was asked over (pks, as selected then; written with the job's end).
    dataset_ids = models.JSONField(default=list, blank=True)
    rows_available = models.PositiveIntegerField(null=True, blank=True)
    # The held answer (zlib-compressed JSON): never shown before a purchase.
    answer = models.BinaryField(null=True, blank=True, editable=False)
    # Per row: alternative derivations, each {dataset id: [N-Triples of the triples used]}.
    provenance = models.BinaryField(null=True, blank=True, editable=False)
    federation_seconds = models.FloatField(null=True, blank=True)

    created_at = models.DateTimeField(default=timezone.now)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        # the hourly quota counts a buyer's recent jobs on every ask, and their list is newest first
        indexes = [models.Index(fields=["buyer", "-created_at"], name="queryjob_buyer_recent")]

    def __str__(self) -> str:
        return f"Query {self.pk} by {self.buyer}"

    def get_absolute_url(self) -> str:
        return reverse("market:job", kwargs={"pk": self.pk})

    @property
    def finished(self) -> bool:
        return self.status not in (self.Status.QUEUED, self.Status.RUNNING)


class Quote(models.Model):
    """The rows chosen by the allocation, their price and how it was found; bought at most once."""

    class Status(models.TextChoices):
        OPEN = "open", "Open"
        PURCHASED = "purchased", "Bought"
        SUPERSEDED = "superseded", "Superseded"

    job = models.ForeignKey(QueryJob, on_delete=models.CASCADE, related_name="quotes")
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.OPEN)
    rows = models.JSONField(default=list)  # indices of the held rows in the quote
    derivation = models.JSONField(default=dict)  # row index -> derivation used
    rows_in_quote = models.PositiveIntegerField(default=0)
    subtotal = models.PositiveBigIntegerField(default=0)  # paid to providers, minor units
    fee = models.PositiveBigIntegerField(default=0)  # platform fee
    price = models.PositiveBigIntegerField(default=0)  # subtotal + fee: what the buyer pays
    complete_price = models.PositiveBigIntegerField(null=True, blank=True)  # every row, ignoring the budget
    strategy = models.CharField(max_length=16)
    objective = models.DecimalField(max_digits=24, decimal_places=4)
    upper_bound = models.DecimalField(max_digits=24, decimal_places=4)
    gap = models.FloatField()
    optimal = models.BooleanField(default=False)
    solve_seconds = models.FloatField()
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    purchase_id = models.BigIntegerField(null=True, blank=True)
    purchased_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"Quote {self.pk} for {self.job_id}: {self.price}"

    @property
    def expired(self) -> bool:
        return self.status == self.Status.OPEN and timezone.now() >= self.expires_at

    @property
    def complete(self) -> bool:
        return self.job.rows_available is not None and self.rows_in_quote == self.job.rows_available

    @property
    def solved_by(self) -> str:
        """What the allocation's strategy means, in words."""
        return SOLVED_BY.get(self.strategy, self.strategy)


class QuoteLine(models.Model):
    """One provider dataset's part of a quote: the price model applied, items used, amount."""

    quote = models.ForeignKey(Quote, on_delete=models.CASCADE, related_name="lines")
    dataset = models.ForeignKey(Dataset, on_delete=models.PROTECT, related_name="+")
    publisher = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="+")
    price_kind = models.CharField(max_length=16)  # a PriceModel.Kind, or "subscribed"
    rate = models.DecimalField(max_digits=14, decimal_places=4, default=Decimal("0"))
    access_fee = models.PositiveBigIntegerField(default=0)
    items = models.PositiveIntegerField(default=0)  # triples, rows or 1 (access fee)
    rows = models.PositiveIntegerField(default=0)  # quoted rows that use this dataset
    triples = models.PositiveIntegerField(default=0)  # distinct triples of this dataset in quoted rows
    amount = models.PositiveBigIntegerField(default=0)

    KIND_LABELS = {
        "per_triple": "per triple",
        "per_row": "per row",
        "access_fee": "access fee",
        "free": "free",
        "subscribed": "subscription",
    }

    class Meta:
        ordering = ["-amount", "dataset__title"]

    def __str__(self) -> str:
        return f"{self.dataset}: {self.amount}"

    def get_kind_label(self) -> str:
        return self.KIND_LABELS.get(self.price_kind, self.price_kind)
