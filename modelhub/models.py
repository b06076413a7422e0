"""Models, their variants (compressed or not) and the artifact files of each variant; purchases, compression jobs."""

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.text import slugify


class Task(models.TextChoices):
    IMAGE_CLASSIFICATION = "image-classification", "Image classification"
    OBJECT_DETECTION = "object-detection", "Object detection"
    TEXT_CLASSIFICATION = "text-classification", "Text classification"
    TEXT_GENERATION = "text-generation", "Text generation"
    SPEECH_RECOGNITION = "automatic-speech-recognition", "Speech recognition"
    TABULAR = "tabular-classification", "Tabular classification"
    OTHER = "other", "Other"


class Method(models.TextChoices):
    NONE = "none", "none (reference)"
    LINEAR = "linear_quantization", "linear / affine quantisation"
    FIXED_POINT = "fixed_point", "fixed point Qm.n"
    DYNAMIC_FIXED_POINT = "dynamic_fixed_point", "dynamic fixed point per layer"
    KMEANS = "kmeans", "k-means weight sharing"
    PRUNING = "pruning", "pruning"
    LOW_RANK = "low_rank_factorization", "low-rank factorisation"
    DEPTH = "depth_factorization", "depth factorisation"
    DISTILLATION = "distillation", "distillation"


class Granularity(models.TextChoices):
    PER_TENSOR = "per_tensor", "per tensor"
    PER_CHANNEL = "per_channel", "per channel"
    PER_GROUP = "per_group", "per group"


# Paths under /models/ that are not model pages.
RESERVED_SLUGS = {"new", "files", "d", "jobs"}


class HubModel(models.Model):
    """A published neural-network model: the card and the commercial terms; files live in its variants."""

    publisher = models.ForeignKey("accounts.Organisation", on_delete=models.PROTECT, related_name="hub_models")
    name = models.CharField(max_length=200)
    slug = models.SlugField(max_length=200, unique=True)
    task = models.CharField(max_length=64, choices=Task.choices, default=Task.IMAGE_CLASSIFICATION, db_index=True)
    licence = models.CharField(max_length=64, default="apache-2.0", db_index=True)
    card = models.TextField(blank=True, help_text="Markdown with YAML front matter (Hugging Face card keys).")
    card_metadata = models.JSONField(default=dict, blank=True)
    price = models.PositiveBigIntegerField(default=0, help_text="Default price of new variants, minor units.")
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]
        verbose_name = "model"

    def __str__(self) -> str:
        return self.name

    def save(self, *args, **kwargs):
        if not self.slug:
            base = slugify(self.name)[:180] or "model"
            if base in RESERVED_SLUGS:
                base = f"{base}-model"
            slug, n = base, 1
            while HubModel.objects.filter(slug=slug).exclude(pk=self.pk).exists():
                n += 1
                slug = f"{base}-{n}"
            self.slug = slug
        super().save(*args, **kwargs)


# Declared compression fields that the inspector can check, in the order the pages show them.
DECLARED_FIELDS = (
    "method",
    "weight_bits",
    "activation_bits",
    "granularity",
    "symmetric",
    "codebook_size",
    "sparsity",
    "parameter_count",
    "size_bytes",
)
MEASURED_FIELDS = (
    "calibration_method",
    "calibration_samples",
    "ranks",
    "teacher",
    "accuracy",
    "reference_accuracy",
    "evaluation_set",
    "latency_ms",
    "memory_bytes",
    "hardware",
)


class Variant(models.Model):
    """One form of a model (fp32 reference, int8, 4-bit k-means, pruned, ...) with its compression metadata."""

    model = models.ForeignKey(HubModel, on_delete=models.CASCADE, related_name="variants")
    name = models.CharField(max_length=120)
    derived_from = models.ForeignKey("self", null=True, blank=True, on_delete=models.SET_NULL, related_name="derived")
    published = models.BooleanField(default=True, db_index=True)
    price = models.PositiveBigIntegerField(default=0, help_text="Minor units; 0 is free.")
    # compression metadata, declared by the publisher (checked against the file where the file can tell)
    method = models.CharField(max_length=40, choices=Method.choices, default=Method.NONE, db_index=True)
    weight_bits = models.PositiveSmallIntegerField(null=True, blank=True, db_index=True)
    activation_bits = models.PositiveSmallIntegerField(null=True, blank=True)
    granularity = models.CharField(max_length=16, choices=Granularity.choices, blank=True)
    symmetric = models.BooleanField(null=True, blank=True)
    calibration_method = models.CharField(max_length=64, blank=True)
    calibration_samples = models.PositiveIntegerField(null=True, blank=True)
    codebook_size = models.PositiveIntegerField(null=True, blank=True)
    sparsity = models.FloatField(null=True, blank=True, help_text="Fraction of zero weights, 0–1.")
    ranks = models.JSONField(null=True, blank=True)
    teacher = models.CharField(max_length=200, blank=True)
    layers = models.JSONField(default=list, blank=True, help_text="Per-layer details.")
    size_bytes = models.PositiveBigIntegerField(null=True, blank=True, db_index=True)
    parameter_count = models.PositiveBigIntegerField(null=True, blank=True)
    accuracy = models.FloatField(null=True, blank=True, db_index=True, help_text="Top-1, fraction 0–1.")
    reference_accuracy = models.FloatField(null=True, blank=True)
    evaluation_set = models.CharField(max_length=200, blank=True)
    latency_ms = models.FloatField(null=True, blank=True)
    memory_bytes = models.PositiveBigIntegerField(null=True, blank=True)
    hardware = models.CharField(max_length=200, blank=True)
    # analysis charts from compression jobs
    sensitivity = models.JSONField(null=True, blank=True)
    histograms = models.JSONField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["model", "created_at", "pk"]
        constraints = [models.UniqueConstraint(fields=["model", "name"], name="variant_name_unique_in_model")]

    def __str__(self) -> str:
        return f"{self.model.name} · {self.name}"

    @property
    def is_free(self) -> bool:
        return self.price == 0

    def declared(self) -> dict:
        """The declared metadata as the inspector's `verify` takes it (unset fields left out)."""
        out = {}
        for field in DECLARED_FIELDS + MEASURED_FIELDS:
            value = getattr(self, field)
            if value in (None, "", [], {}):
                continue
            out[field] = value
        return out


def artifact_upload_to(instance: "Artifact", filename: str) -> str:
    return f"modelhub/{instance.sha256[:2]}/{instance.sha256}/{filename}"


class Artifact(models.Model):
    """A file of a variant, stored with its checksum; the inspector's report says what the file holds."""

    class Inspection(models.TextChoices):
        PENDING = "pending", "Waiting for inspection"
        RUNNING = "running", "Inspecting"
        DONE = "done", "Inspected"
        FAILED = "failed", "Could not be read"

    variant = models.ForeignKey(Variant, on_delete=models.CASCADE, related_name="artifacts")
    file = models.FileField(upload_to=artifact_upload_to, max_length=500)
    filename = models.CharField(max_length=255)
    sha256 = models.CharField(max_length=64, db_index=True)
    size_bytes = models.PositiveBigIntegerField()
    format = models.CharField(max_length=32, blank=True)
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    inspection_status = models.CharField(max_length=16, choices=Inspection.choices, default=Inspection.PENDING)
    inspection_error = models.TextField(blank=True)
    report = models.JSONField(null=True, blank=True)
    checks = models.JSONField(default=dict, blank=True)
    download_count = models.PositiveBigIntegerField(default=0)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["variant", "created_at", "pk"]

    def __str__(self) -> str:
        return self.filename


class VariantPurchase(models.Model):
    """A buyer's right to download a priced variant, bought through the money charge service."""

    buyer = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="variant_purchases")
    variant = models.ForeignKey(Variant, on_delete=models.PROTECT, related_name="purchases")
    amount = models.PositiveBigIntegerField()
    fee = models.PositiveBigIntegerField(default=0)
    # The money app's Purchase, by id: the hub does not depend on that app's migrations.
    money_purchase_id = models.BigIntegerField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["buyer", "variant"], name="one_purchase_per_buyer_variant")]

    def __str__(self) -> str:
        return f"{self.buyer} bought {self.variant}"


class CompressionJob(models.Model):
    """Turning an fp32 ONNX variant into compressed variants with the compression library, as a Celery task."""

    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Running"
        SUCCEEDED = "succeeded", "Succeeded"
        FAILED = "failed", "Failed"
        CANCELLED = "cancelled", "Cancelled"

    source = models.ForeignKey(Variant, on_delete=models.CASCADE, related_name="compression_jobs")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL)
    methods = models.JSONField(default=list)
    eval_path = models.CharField(max_length=500)
    eval_name = models.CharField(max_length=200, default="evaluation set")
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.QUEUED, db_index=True)
    cancel_requested = models.BooleanField(default=False)
    progress = models.PositiveSmallIntegerField(default=0)
    message = models.CharField(max_length=300, blank=True)
    error = models.TextField(blank=True)
    result = models.JSONField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"Compression job {self.pk} ({self.status})"

    @property
    def finished(self) -> bool:
        return self.status in (self.Status.SUCCEEDED, self.Status.FAILED, self.Status.CANCELLED)
