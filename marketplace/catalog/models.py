"""Datasets (hosted in the marketplace or behind a publisher's endpoint), their ingest jobs and summaries."""

from pathlib import Path

from django.conf import settings
from django.db import models
from django.urls import reverse
from django.utils import timezone
from django.utils.text import slugify

from marketplace.accounts.models import Organisation


class Tag(models.Model):
    name = models.CharField(max_length=64, unique=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Dataset(models.Model):
    class Kind(models.TextChoices):
        HOSTED = "hosted", "Hosted in the marketplace"
        REMOTE = "remote", "Publisher's own SPARQL endpoint"

    class Status(models.TextChoices):
        PENDING = "pending", "Waiting for review"
        APPROVED = "approved", "Approved"
        REJECTED = "rejected", "Rejected"

    LICENCES = [
        ("CC-BY-4.0", "CC BY 4.0"),
        ("CC-BY-SA-4.0", "CC BY-SA 4.0"),
        ("CC0-1.0", "CC0 1.0"),
        ("ODbL-1.0", "ODbL 1.0"),
        ("proprietary", "Proprietary (marketplace terms)"),
    ]

    publisher = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="datasets")
    title = models.CharField(max_length=200)
    slug = models.SlugField(max_length=200)
    description = models.TextField(blank=True)
    licence = models.CharField(max_length=32, choices=LICENCES, default="proprietary")
    tags = models.ManyToManyField(Tag, blank=True, related_name="datasets")
    kind = models.CharField(max_length=16, choices=Kind.choices)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING, db_index=True)

    # Hosted: the active version of the embedded store (a directory under RDF_STORE_ROOT).
    store_version = models.CharField(max_length=64, blank=True)

    # Remote: the publisher's endpoint and optional HTTP basic credentials.
    endpoint_url = models.URLField(max_length=500, blank=True)
    endpoint_username = models.CharField(max_length=200, blank=True)
    endpoint_password = models.CharField(max_length=200, blank=True)
    healthy = models.BooleanField(null=True)
    health_checked_at = models.DateTimeField(null=True, blank=True)
    health_message = models.CharField(max_length=500, blank=True)
    health_latency_ms = models.PositiveIntegerField(null=True, blank=True)

    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["title"]
        constraints = [models.UniqueConstraint(fields=["publisher", "slug"], name="dataset_slug_per_publisher")]

    def __str__(self) -> str:
        return self.title

    def save(self, *args, **kwargs):
        if not self.slug:
            self.slug = slugify(self.title)[:200] or "dataset"
        super().save(*args, **kwargs)

    def get_absolute_url(self) -> str:
        return reverse("catalog:dataset", kwargs={"pk": self.pk})

    @property
    def iri(self) -> str:
        return f"{settings.SITE_URL}/datasets/{self.pk}"

    @property
    def store_path(self) -> Path | None:
        if self.kind != self.Kind.HOSTED or not self.store_version:
            return None
        return Path(settings.RDF_STORE_ROOT) / str(self.pk) / self.store_version

    @property
    def is_queryable(self) -> bool:
        return self.store_path is not None if self.kind == self.Kind.HOSTED else bool(self.endpoint_url)


class IngestJob(models.Model):
    """One upload of an RDF file into a hosted dataset: all or nothing, replacing the dataset's data."""

    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Loading"
        SUMMARISING = "summarising", "Computing the summary"
        SUCCEEDED = "succeeded", "Done"
        FAILED = "failed", "Failed"

    dataset = models.ForeignKey(Dataset, on_delete=models.CASCADE, related_name="ingest_jobs")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    original_name = models.CharField(max_length=255)
    format = models.CharField(max_length=32)
    compression = models.CharField(max_length=8, blank=True)
    upload_path = models.CharField(max_length=500, blank=True)
    size_bytes = models.BigIntegerField(default=0)
    bytes_done = models.BigIntegerField(default=0)
    triples_loaded = models.BigIntegerField(default=0)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.QUEUED, db_index=True)
    error = models.TextField(blank=True)
    error_line = models.PositiveIntegerField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.original_name} → {self.dataset}"

    @property
    def progress_percent(self) -> int:
        if self.status == self.Status.SUCCEEDED:
            return 100
        if not self.size_bytes:
            return 0
        return min(99, int(100 * self.bytes_done / self.size_bytes))

    @property
    def finished(self) -> bool:
        return self.status in {self.Status.SUCCEEDED, self.Status.FAILED}


class DatasetSummary(models.Model):
    """What a dataset holds, computed by a task; source selection and the catalog use it."""

    dataset = models.OneToOneField(Dataset, on_delete=models.CASCADE, related_name="summary")
    triples = models.BigIntegerField(default=0)
    distinct_subjects = models.BigIntegerField(default=0)
    distinct_objects = models.BigIntegerField(default=0)
    # The federation engine's own summary (sparql.summarize): per-predicate counts, IRI namespaces and a Bloom
    # filter of the IRIs per predicate, which let it skip this dataset for constants and bindings it cannot
    # match. Internal: never shown to buyers (the filter would tell which IRIs a dataset holds).
    engine = models.JSONField(default=dict, blank=True)
    computed_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"Summary of {self.dataset}"


class PredicateCount(models.Model):
    dataset = models.ForeignKey(Dataset, on_delete=models.CASCADE, related_name="predicates")
    iri = models.CharField(max_length=1000, db_index=True)
    triples = models.BigIntegerField()

    class Meta:
        ordering = ["-triples", "iri"]

    def __str__(self) -> str:
        return f"{self.iri} ({self.triples})"


class ClassCount(models.Model):
    dataset = models.ForeignKey(Dataset, on_delete=models.CASCADE, related_name="classes")
    iri = models.CharField(max_length=1000, db_index=True)
    instances = models.BigIntegerField()

    class Meta:
        ordering = ["-instances", "iri"]

    def __str__(self) -> str:
        return f"{self.iri} ({self.instances})"
