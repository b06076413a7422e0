"""REST API of the model hub: models, variants (with filters and comparison), artifact uploads and download
links, purchases and compression jobs."""

from __future__ import annotations

import django_filters
from django.db.models import Q
from django.shortcuts import get_object_or_404
from django.urls import reverse
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import mixins, permissions, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import PermissionDenied
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.response import Response

from marketplace.accounts.models import Organisation
from marketplace.accounts.selectors import can_publish_for

from . import charts, upload
from .models import Artifact, CompressionJob, HubModel, Variant
from .selectors import model_variants, variants_visible_to
from .services import catalog as catalog_services
from .services import compression as compression_services
from .services.artifacts import artifact_create
from .services.cards import card_html, card_parse
from .services.downloads import download_token
from .services.errors import UploadRejected, UploadTooLarge
from .services.purchases import can_download, variant_buy

METADATA_FIELDS = (
    "method",
    "weight_bits",
    "activation_bits",
    "granularity",
    "symmetric",
    "calibration_method",
    "calibration_samples",
    "codebook_size",
    "sparsity",
    "ranks",
    "teacher",
    "layers",
    "size_bytes",
    "parameter_count",
    "accuracy",
    "reference_accuracy",
    "evaluation_set",
    "latency_ms",
    "memory_bytes",
    "hardware",
)


class ModelSerializer(serializers.ModelSerializer):
    publisher = serializers.SlugRelatedField(slug_field="slug", queryset=Organisation.objects.all())
    card_html = serializers.SerializerMethodField()
    variants = serializers.SerializerMethodField()

    class Meta:
        model = HubModel
        fields = (
            "id",
            "slug",
            "publisher",
            "name",
            "task",
            "licence",
            "price",
            "card",
            "card_metadata",
            "card_html",
            "variants",
            "created_at",
        )
        read_only_fields = ("slug", "card_metadata", "created_at")

    def get_card_html(self, obj) -> str:
        try:
            return card_html(card_parse(obj.card).body)
        except Exception:  # noqa: BLE001 - a malformed card must not break listing
            return ""

    def get_variants(self, obj) -> list[int]:
        return [v.pk for v in obj.variants.all() if v.published]


class ArtifactSerializer(serializers.ModelSerializer):
    download_url = serializers.SerializerMethodField()

    class Meta:
        model = Artifact
        fields = (
            "id",
            "variant",
            "filename",
            "sha256",
            "size_bytes",
            "format",
            "inspection_status",
            "inspection_error",
            "checks",
            "report",
            "download_count",
            "created_at",
            "download_url",
        )
        read_only_fields = fields

    def get_download_url(self, obj) -> str:
        return reverse("modelhub:download", args=[obj.pk])


class VariantSerializer(serializers.ModelSerializer):
    model = serializers.SlugRelatedField(slug_field="slug", queryset=HubModel.objects.all())
    artifacts = ArtifactSerializer(many=True, read_only=True)
    verification = serializers.SerializerMethodField()

    class Meta:
        model = Variant
        fields = (
            "id",
            "model",
            "name",
            "derived_from",
            "published",
            "price",
            *METADATA_FIELDS,
            "artifacts",
            "verification",
            "created_at",
        )
        read_only_fields = ("created_at",)

    def get_verification(self, obj) -> dict[str, str]:
        """Per declared field, the worst verdict across the variant's files."""
        order = {"contradicted": 0, "verified": 1, "not_checkable": 2}
        out: dict[str, str] = {}
        for artifact in obj.artifacts.all():
            for field, check in (artifact.checks or {}).items():
                current = out.get(field)
                if current is None or order[check["status"]] < order[current]:
                    out[field] = check["status"]
        return out


class VariantFilter(django_filters.FilterSet):
    task = django_filters.CharFilter(field_name="model__task")
    licence = django_filters.CharFilter(field_name="model__licence", lookup_expr="iexact")
    publisher = django_filters.CharFilter(field_name="model__publisher__slug")
    model = django_filters.CharFilter(field_name="model__slug")
    max_weight_bits = django_filters.NumberFilter(field_name="weight_bits", lookup_expr="lte")
    max_size = django_filters.NumberFilter(field_name="size_bytes", lookup_expr="lte")
    min_accuracy = django_filters.NumberFilter(field_name="accuracy", lookup_expr="gte")
    max_price = django_filters.NumberFilter(field_name="price", lookup_expr="lte")
    free = django_filters.BooleanFilter(method="filter_free")

    class Meta:
        model = Variant
        fields = [
            "task",
            "licence",
            "publisher",
            "model",
            "method",
            "weight_bits",
            "activation_bits",
            "granularity",
            "max_weight_bits",
            "max_size",
            "min_accuracy",
            "max_price",
            "free",
        ]

    def filter_free(self, queryset, name, value):
        if value is None:
            return queryset
        return queryset.filter(price=0) if value else queryset.filter(price__gt=0)


class ModelFilter(django_filters.FilterSet):
    publisher = django_filters.CharFilter(field_name="publisher__slug")
    licence = django_filters.CharFilter(field_name="licence", lookup_expr="iexact")

    class Meta:
        model = HubModel
        fields = ["task", "licence", "publisher"]


def _require_publisher(user, organisation) -> None:
    if not can_publish_for(user=user, organisation=organisation):
        raise PermissionDenied("Only members of the model's publisher can change it.")


CompareSerializer = inline_serializer(
    "ModelComparison",
    {
        "model": serializers.CharField(),
        "variants": VariantSerializer(many=True),
        "pareto_size": serializers.ListField(child=serializers.IntegerField()),
        "pareto_latency": serializers.ListField(child=serializers.IntegerField()),
    },
)


class HubModelViewSet(mixins.CreateModelMixin, mixins.UpdateModelMixin, viewsets.ReadOnlyModelViewSet):
    """Models on the hub. Writes need membership of the publishing organisation."""

    serializer_class = ModelSerializer
    lookup_field = "slug"
    filterset_class = ModelFilter
    search_fields = ["name", "card"]

    def get_queryset(self):
        visible = Q(pk__in=variants_visible_to(user=self.request.user).values("model_id"))
        if self.request.user.is_authenticated:
            visible |= Q(publisher__memberships__user=self.request.user)
        return HubModel.objects.filter(visible).distinct().select_related("publisher").prefetch_related("variants")

    def perform_create(self, serializer):
        d = serializer.validated_data
        serializer.instance = catalog_services.model_create(
            user=self.request.user,
            publisher=d["publisher"],
            name=d["name"],
            task=d.get("task", "other"),
            licence=d.get("licence", ""),
            card=d.get("card", ""),
            price=d.get("price", 0),
        )

    def perform_update(self, serializer):
        d = dict(serializer.validated_data)
        d.pop("publisher", None)
        serializer.instance = catalog_services.model_update(user=self.request.user, model=serializer.instance, **d)

    @extend_schema(responses=CompareSerializer)
    @action(detail=True, methods=["get"])
    def compare(self, request, slug=None):
        """The model's variants side by side, with the Pareto fronts of accuracy against size and latency."""
        model = get_object_or_404(HubModel, slug=slug)
        variants = model_variants(user=request.user, model=model)

        def front(field: str) -> list[int]:
            usable = [v for v in variants if getattr(v, field) and v.accuracy is not None]
            points = [charts.Point(v.name, getattr(v, field), v.accuracy) for v in usable]
            return sorted(usable[i].pk for i in charts.pareto(points))

        data = {
            "model": model.slug,
            "variants": VariantSerializer(variants, many=True, context={"request": request}).data,
            "pareto_size": front("size_bytes"),
            "pareto_latency": front("latency_ms"),
        }
        return Response(data)


class VariantViewSet(mixins.CreateModelMixin, mixins.UpdateModelMixin, viewsets.ReadOnlyModelViewSet):
    """Variants with their compression metadata; filter by task, method, bits, size, accuracy, licence, price."""

    serializer_class = VariantSerializer
    filterset_class = VariantFilter
    ordering_fields = ["size_bytes", "accuracy", "price", "latency_ms", "created_at"]

    def get_queryset(self):
        return variants_visible_to(user=self.request.user).prefetch_related("artifacts").order_by("model__name", "pk")

    def perform_create(self, serializer):
        d = dict(serializer.validated_data)
        metadata = {k: d.pop(k) for k in list(d) if k in METADATA_FIELDS}
        serializer.instance = catalog_services.variant_create(
            user=self.request.user,
            model=d["model"],
            name=d["name"],
            derived_from=d.get("derived_from"),
            price=d.get("price"),
            published=d.get("published", True),
            metadata=metadata,
        )

    def perform_update(self, serializer):
        d = dict(serializer.validated_data)
        d.pop("model", None)
        metadata = {k: d.pop(k) for k in list(d) if k in METADATA_FIELDS}
        serializer.instance = catalog_services.variant_update(
            user=self.request.user, variant=serializer.instance, metadata=metadata, **d
        )

    @extend_schema(
        request=None,
        responses=inline_serializer(
            "VariantPurchase",
            {
                "variant": serializers.IntegerField(),
                "amount": serializers.IntegerField(),
                "fee": serializers.IntegerField(),
            },
        ),
    )
    @action(detail=True, methods=["post"], permission_classes=[permissions.IsAuthenticated])
    def buy(self, request, pk=None):
        """Buy a priced variant with the wallet (idempotent: buying twice charges once)."""
        purchase = variant_buy(buyer=request.user, variant=self.get_object())
        return Response({"variant": purchase.variant_id, "amount": purchase.amount, "fee": purchase.fee}, status=201)


class ArtifactUploadSerializer(serializers.Serializer):
    variant = serializers.PrimaryKeyRelatedField(queryset=Variant.objects.all())
    file = serializers.FileField()


DownloadLinkSerializer = inline_serializer(
    "DownloadLink", {"url": serializers.URLField(), "expires_in": serializers.IntegerField()}
)


class ArtifactViewSet(mixins.CreateModelMixin, viewsets.ReadOnlyModelViewSet):
    """Artifact files. POST (multipart: variant, file) streams the upload to storage and queues its inspection."""

    serializer_class = ArtifactSerializer
    filterset_fields = ["variant", "format", "inspection_status"]
    _handler = None

    def get_queryset(self):
        visible = variants_visible_to(user=self.request.user)
        return Artifact.objects.filter(variant__in=visible).order_by("pk")

    def get_parsers(self):
        if getattr(self, "action", None) == "create" or self.request is None:
            return [MultiPartParser(), FormParser()]
        return super().get_parsers()

    def get_serializer_class(self):
        return ArtifactUploadSerializer if self.action == "create" else ArtifactSerializer

    def initial(self, request, *args, **kwargs):
        if self.action == "create":
            # before anything reads the body: refuse by Content-Length, then stream through the hashing handler
            if upload.too_large_by_header(request._request):
                raise UploadTooLarge(f"The upload is larger than the limit of {upload.upload_limit():,} bytes.")
            self._handler = upload.install(request._request)
        super().initial(request, *args, **kwargs)

    def dispatch(self, request, *args, **kwargs):
        try:
            return super().dispatch(request, *args, **kwargs)
        finally:
            if self._handler is not None:
                self._handler.discard()  # whatever was not moved into storage is deleted, even on errors

    @extend_schema(request={"multipart/form-data": ArtifactUploadSerializer}, responses={201: ArtifactSerializer})
    def create(self, request, *args, **kwargs):
        serializer = ArtifactUploadSerializer(data=request.data)
        if self._handler is not None and self._handler.too_large:
            raise UploadTooLarge(f"The upload is larger than the limit of {self._handler.limit:,} bytes.")
        serializer.is_valid(raise_exception=True)
        uploaded = serializer.validated_data["file"]
        if not hasattr(uploaded, "sha256"):
            raise UploadRejected("The upload did not stream through the hashing handler.")
        artifact = artifact_create(user=request.user, variant=serializer.validated_data["variant"], upload=uploaded)
        return Response(ArtifactSerializer(artifact).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=None, responses=DownloadLinkSerializer)
    @action(detail=True, methods=["post"])
    def link(self, request, pk=None):
        """An expiring signed download link (for free files, or priced ones the caller bought)."""
        from django.conf import settings

        artifact = self.get_object()
        token = download_token(user=request.user, artifact=artifact)
        url = request.build_absolute_uri(reverse("modelhub:signed_download", args=[token]))
        return Response({"url": url, "expires_in": settings.MODELHUB_DOWNLOAD_LINK_MAX_AGE})


class CompressionJobSerializer(serializers.ModelSerializer):
    class Meta:
        model = CompressionJob
        fields = (
            "id",
            "source",
            "methods",
            "eval_name",
            "status",
            "progress",
            "message",
            "error",
            "result",
            "cancel_requested",
            "created_at",
            "started_at",
            "finished_at",
        )
        read_only_fields = fields


class CompressionJobCreateSerializer(serializers.Serializer):
    source = serializers.PrimaryKeyRelatedField(queryset=Variant.objects.all())
    eval_set = serializers.FileField(help_text=".npz with arrays inputs and labels")
    eval_name = serializers.CharField(required=False, allow_blank=True, max_length=200)
    methods = serializers.JSONField(required=False, help_text='e.g. [{"method": "static_int8", "options": {}}]')


class CompressionJobViewSet(mixins.CreateModelMixin, viewsets.ReadOnlyModelViewSet):
    """Compression jobs of the caller's organisations."""

    serializer_class = CompressionJobSerializer
    permission_classes = [permissions.IsAuthenticated]
    parser_classes = [MultiPartParser, FormParser]

    queryset = CompressionJob.objects.none()  # for the schema; requests use get_queryset

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return CompressionJob.objects.none()
        return CompressionJob.objects.filter(source__model__publisher__memberships__user=self.request.user).order_by(
            "-pk"
        )

    @extend_schema(
        request={"multipart/form-data": CompressionJobCreateSerializer}, responses={201: CompressionJobSerializer}
    )
    def create(self, request, *args, **kwargs):
        s = CompressionJobCreateSerializer(data=request.data)
        s.is_valid(raise_exception=True)
        d = s.validated_data
        job = compression_services.job_create(
            user=request.user,
            source=d["source"],
            eval_file=d["eval_set"],
            eval_name=d.get("eval_name", ""),
            methods=d.get("methods") or None,
        )
        return Response(CompressionJobSerializer(job).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=None, responses=CompressionJobSerializer)
    @action(detail=True, methods=["post"])
    def cancel(self, request, pk=None):
        job = compression_services.job_cancel(user=request.user, job=self.get_object())
        return Response(CompressionJobSerializer(job).data)


def register(router) -> None:
    """The API routes of the hub (config/api_urls.py calls this)."""
    router.register("models", HubModelViewSet, basename="hubmodel")
    router.register("variants", VariantViewSet, basename="variant")
    router.register("artifacts", ArtifactViewSet, basename="artifact")
    router.register("compression-jobs", CompressionJobViewSet, basename="compressionjob")


__all__ = ["register", "can_download"]
