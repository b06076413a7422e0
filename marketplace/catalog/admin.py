from django.contrib import admin, messages

from .models import ClassCount, Dataset, DatasetSummary, IngestJob, PredicateCount, Tag
from .services.datasets import dataset_set_status


class PredicateInline(admin.TabularInline):
    model = PredicateCount
    extra = 0
    can_delete = False
    readonly_fields = ("iri", "triples")


class ClassInline(admin.TabularInline):
    model = ClassCount
    extra = 0
    can_delete = False
    readonly_fields = ("iri", "instances")


@admin.register(Dataset)
class DatasetAdmin(admin.ModelAdmin):
    list_display = ("title", "publisher", "kind", "status", "triples", "healthy", "health_checked_at", "updated_at")
    list_filter = ("status", "kind", "healthy", "publisher", "licence")
    search_fields = ("title", "description", "publisher__name", "endpoint_url")
    list_select_related = ("publisher", "summary")
    actions = ["approve", "reject"]
    readonly_fields = ("store_version", "healthy", "health_checked_at", "health_message", "health_latency_ms")
    inlines = [PredicateInline, ClassInline]
    filter_horizontal = ("tags",)

    @admin.display(description="Triples")
    def triples(self, obj):
        summary = getattr(obj, "summary", None)
        return summary.triples if summary else None

    @admin.action(description="Approve selected datasets")
    def approve(self, request, queryset):
        for dataset in queryset:
            dataset_set_status(dataset=dataset, status=Dataset.Status.APPROVED)
        messages.success(request, f"Approved {queryset.count()} dataset(s).")

    @admin.action(description="Reject selected datasets")
    def reject(self, request, queryset):
        for dataset in queryset:
            dataset_set_status(dataset=dataset, status=Dataset.Status.REJECTED)


@admin.register(IngestJob)
class IngestJobAdmin(admin.ModelAdmin):
    list_display = (
        "original_name",
        "dataset",
        "format",
        "size_bytes",
        "progress_percent",
        "triples_loaded",
        "status",
        "error_line",
        "created_at",
        "finished_at",
    )
    list_filter = ("status", "format")
    search_fields = ("original_name", "dataset__title", "error")
    list_select_related = ("dataset",)
    readonly_fields = [f.name for f in IngestJob._meta.fields]

    def has_add_permission(self, request):
        return False


@admin.register(DatasetSummary)
class DatasetSummaryAdmin(admin.ModelAdmin):
    list_display = ("dataset", "triples", "distinct_subjects", "distinct_objects", "computed_at")
    search_fields = ("dataset__title",)
    # The engine's summary holds a membership filter of up to a few MB: shown as an outline, never edited.
    exclude = ("engine",)
    readonly_fields = ("engine_outline",)

    @admin.display(description="engine summary")
    def engine_outline(self, summary: DatasetSummary) -> str:
        engine = summary.engine or {}
        members = engine.get("members") or {}
        size = f"{round(members['bits'] / 8 / 1024)} KiB" if members.get("bits") else "none"
        counts = f"{len(engine.get('predicates') or {})} predicates, {len(engine.get('classes') or {})} classes"
        return f"{counts}; membership filter: {size}"


admin.site.register(Tag)
