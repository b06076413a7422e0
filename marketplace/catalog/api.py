"""REST API of the catalog: publishers, datasets, uploads (ingest jobs) and summaries."""

import django_filters
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, permissions, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import PermissionDenied
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.response import Response

from marketplace import api_errors
from marketplace.accounts.models import Organisation
from marketplace.accounts.selectors import can_publish_for

from .models import Dataset, IngestJob
from .selectors import datasets_visible_to
from .services import datasets as dataset_services
from .services import describe
from .services.formats import UnsupportedFormat
from .services.ingest import IngestError, UploadTooLarge, check_declared_size, ingest_create
from .services.safety import UnsafeInput

api_errors.register(UploadTooLarge, 413)
api_errors.register(UnsafeInput, 400)
api_errors.register(UnsupportedFormat, 400)
api_errors.register(IngestError, 400)


class PublisherSerializer(serializers.ModelSerializer):
    class Meta:
        model = Organisation
        fields = ("id", "name", "slug", "description", "homepage", "status")
        read_only_fields = ("slug", "status")


class PublisherViewSet(viewsets.ReadOnlyModelViewSet):
    """Approved publishers."""

    serializer_class = PublisherSerializer
    queryset = Organisation.objects.filter(status=Organisation.Status.APPROVED)
    lookup_field = "slug"
    search_fields = ["name", "description"]


class SummarySerializer(serializers.Serializer):
    triples = serializers.IntegerField()
    distinct_subjects = serializers.IntegerField()
    distinct_objects = serializers.IntegerField()
    computed_at = serializers.DateTimeField()
    predicates = serializers.ListField(child=serializers.DictField())
    classes = serializers.ListField(child=serializers.DictField())


def summary_data(dataset: Dataset) -> dict | None:
    summary = getattr(dataset, "summary", None)
    if summary is None:
        return None
    return {
        "triples": summary.triples,
        "distinct_subjects": summary.distinct_subjects,
        "distinct_objects": summary.distinct_objects,
        "computed_at": summary.computed_at,
        "predicates": [{"iri": p.iri, "triples": p.triples} for p in dataset.predicates.all()],
        "classes": [{"iri": c.iri, "instances": c.instances} for c in dataset.classes.all()],
    }


class DatasetSerializer(serializers.ModelSerializer):
    publisher = serializers.SlugRelatedField(slug_field="slug", queryset=Organisation.objects.all())
    tags = serializers.ListField(child=serializers.CharField(max_length=64), required=False, write_only=True)
    endpoint_password = serializers.CharField(write_only=True, required=False, allow_blank=True)
    triples = serializers.SerializerMethodField()

    class Meta:
        model = Dataset
        fields = (
            "id",
            "publisher",
            "title",
            "slug",
            "description",
            "licence",
            "tags",
            "kind",
            "status",
            "endpoint_url",
            "endpoint_username",
            "endpoint_password",
            "healthy",
            "health_checked_at",
            "health_message",
            "triples",
            "created_at",
            "updated_at",
        )
        read_only_fields = (
            "slug",
            "status",
            "healthy",
            "health_checked_at",
            "health_message",
            "created_at",
            "updated_at",
        )

    def get_triples(self, obj) -> int | None:
        summary = getattr(obj, "summary", None)
        return summary.triples if summary else None

    def to_representation(self, instance):
        data = super().to_representation(instance)
        data["tags"] = [t.name for t in instance.tags.all()]
        return data

    def validate(self, attrs):
        kind = attrs.get("kind", getattr(self.instance, "kind", None))
        if self.instance is not None and "kind" in attrs and attrs["kind"] != self.instance.kind:
            raise serializers.ValidationError({"kind": "A dataset cannot change between hosted and remote."})
        if kind == Dataset.Kind.REMOTE and not attrs.get("endpoint_url", getattr(self.instance, "endpoint_url", "")):
            raise serializers.ValidationError(
                {"endpoint_url": "A remote dataset needs the URL of its SPARQL endpoint."}
            )
        return attrs


class DatasetFilter(django_filters.FilterSet):
    publisher = django_filters.CharFilter(field_name="publisher__slug")
    tag = django_filters.CharFilter(field_name="tags__name")
    predicate = django_filters.CharFilter(field_name="predicates__iri")
    klass = django_filters.CharFilter(field_name="classes__iri", label="class")

    class Meta:
        model = Dataset
        fields = ["publisher", "tag", "predicate", "klass", "kind", "status"]


class IsPublisherMemberOrReadOnly(permissions.BasePermission):
    def has_object_permission(self, request, view, obj):
        if request.method in permissions.SAFE_METHODS:
            return True
        return can_publish_for(user=request.user, organisation=obj.publisher)


class IngestJobSerializer(serializers.ModelSerializer):
    progress = serializers.IntegerField(source="progress_percent", read_only=True)

    class Meta:
        model = IngestJob
        fields = (
            "id",
            "dataset",
            "original_name",
            "format",
            "compression",
            "size_bytes",
            "bytes_done",
            "progress",
            "triples_loaded",
            "status",
            "error",
            "error_line",
            "created_at",
            "started_at",
            "finished_at",
        )
        read_only_fields = fields


class UploadSerializer(serializers.Serializer):
    file = serializers.FileField()
    format = serializers.CharField(
        required=False,
        allow_blank=True,
        help_text="turtle, ntriples, nquads, trig, rdfxml, jsonld; default: from the file name",
    )


class DatasetViewSet(viewsets.ModelViewSet):
    """Datasets in the catalog. Members of a publisher create and edit its datasets; everyone reads approved ones."""

    serializer_class = DatasetSerializer
    permission_classes = [permissions.IsAuthenticatedOrReadOnly, IsPublisherMemberOrReadOnly]
    filterset_class = DatasetFilter
    search_fields = ["title", "description", "tags__name"]
    ordering_fields = ["title", "created_at"]

    def get_queryset(self):
        return (
            datasets_visible_to(user=self.request.user)
            .select_related("publisher", "summary")
            .prefetch_related("tags")
            .distinct()
            .order_by("title", "pk")
        )

    def perform_create(self, serializer):
        publisher = serializer.validated_data.pop("publisher")
        if not can_publish_for(user=self.request.user, organisation=publisher):
            raise PermissionDenied("Only members of an approved publisher can register its datasets.")
        serializer.instance = dataset_services.dataset_create(publisher=publisher, **serializer.validated_data)

    def perform_update(self, serializer):
        data = dict(serializer.validated_data)
        if "publisher" in data and data.pop("publisher") != serializer.instance.publisher:
            raise PermissionDenied("A dataset cannot move to another publisher.")
        data.pop("kind", None)
        serializer.instance = dataset_services.dataset_update(dataset=serializer.instance, **data)

    def perform_destroy(self, instance):
        raise PermissionDenied("Datasets are withdrawn by an operator, not deleted through the API.")

    @extend_schema(responses=SummarySerializer)
    @action(detail=True)
    def summary(self, request, pk=None):
        dataset = self.get_object()
        data = summary_data(dataset)
        if data is None:
            return Response({"detail": "No summary yet."}, status=status.HTTP_404_NOT_FOUND)
        return Response(SummarySerializer(data).data)

    @extend_schema(request={"multipart/form-data": UploadSerializer}, responses={202: IngestJobSerializer})
    @action(detail=True, methods=["post"], parser_classes=[MultiPartParser, FormParser])
    def uploads(self, request, pk=None):
        """Upload an RDF file; it loads in the background (poll the returned job)."""
        dataset = self.get_object()
        if not can_publish_for(user=request.user, organisation=dataset.publisher):
            raise PermissionDenied
        check_declared_size(request.META.get("CONTENT_LENGTH"))
        serializer = UploadSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        upload = serializer.validated_data["file"]
        job = ingest_create(
            dataset=dataset,
            upload=upload,
            filename=upload.name,
            size=upload.size,
            user=request.user,
            declared_format=serializer.validated_data.get("format") or None,
        )
        return Response(IngestJobSerializer(job).data, status=status.HTTP_202_ACCEPTED)

    @extend_schema(responses={(200, "text/turtle"): str})
    @action(detail=True, url_path="void")
    def void(self, request, pk=None):
        from django.http import HttpResponse

        return HttpResponse(describe.dataset_turtle(self.get_object(), vocabulary="void"), content_type="text/turtle")


class IngestJobViewSet(mixins.RetrieveModelMixin, mixins.ListModelMixin, viewsets.GenericViewSet):
    """Upload jobs of the datasets you publish."""

    serializer_class = IngestJobSerializer
    permission_classes = [permissions.IsAuthenticated]
    filterset_fields = ["dataset", "status"]

    queryset = IngestJob.objects.none()  # for the schema; get_queryset decides what a user sees

    def get_queryset(self):
        user = self.request.user
        qs = IngestJob.objects.select_related("dataset")
        if user.is_staff:
            return qs
        return qs.filter(dataset__publisher__memberships__user=user)
