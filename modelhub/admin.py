"""Admin for operators: models, variants, artifacts with their inspection, purchases and jobs."""

from django.contrib import admin

from .models import Artifact, CompressionJob, HubModel, Variant, VariantPurchase


class VariantInline(admin.TabularInline):
    model = Variant
    fields = ("name", "method", "weight_bits", "activation_bits", "price", "published")
    extra = 0
    show_change_link = True


@admin.register(HubModel)
class HubModelAdmin(admin.ModelAdmin):
    list_display = ("name", "publisher", "task", "licence", "price")
    list_filter = ("task", "licence")
    search_fields = ("name",)
    inlines = [VariantInline]


@admin.register(Variant)
class VariantAdmin(admin.ModelAdmin):
    list_display = (
        "__str__",
        "method",
        "weight_bits",
        "activation_bits",
        "size_bytes",
        "accuracy",
        "price",
        "published",
    )
    list_filter = ("method", "published")


@admin.register(Artifact)
class ArtifactAdmin(admin.ModelAdmin):
    list_display = ("filename", "variant", "format", "size_bytes", "inspection_status", "download_count")
    list_filter = ("inspection_status", "format")
    readonly_fields = ("sha256", "size_bytes", "report", "checks")


@admin.register(VariantPurchase)
class VariantPurchaseAdmin(admin.ModelAdmin):
    list_display = ("buyer", "variant", "amount", "fee", "created_at")


@admin.register(CompressionJob)
class CompressionJobAdmin(admin.ModelAdmin):
    list_display = ("pk", "source", "status", "progress", "created_at")
    list_filter = ("status",)
