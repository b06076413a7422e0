from django.contrib import admin

from .models import PriceModel, QueryJob, Quote, QuoteLine, Subscription


@admin.register(PriceModel)
class PriceModelAdmin(admin.ModelAdmin):
    list_display = ["dataset", "kind", "rate", "access_fee", "subscription_price", "updated_at"]
    list_filter = ["kind"]


@admin.register(Subscription)
class SubscriptionAdmin(admin.ModelAdmin):
    list_display = ["buyer", "dataset", "starts_at", "ends_at", "amount"]


class QuoteLineInline(admin.TabularInline):
    model = QuoteLine
    extra = 0
    readonly_fields = [
        "dataset",
        "publisher",
        "price_kind",
        "rate",
        "access_fee",
        "items",
        "rows",
        "triples",
        "amount",
    ]


@admin.register(Quote)
class QuoteAdmin(admin.ModelAdmin):
    list_display = ["pk", "job", "status", "rows_in_quote", "price", "strategy", "created_at"]
    list_filter = ["status", "strategy"]
    inlines = [QuoteLineInline]
    exclude = ["rows", "derivation"]


@admin.register(QueryJob)
class QueryJobAdmin(admin.ModelAdmin):
    list_display = ["pk", "buyer", "kind", "status", "rows_available", "created_at"]
    list_filter = ["status", "kind", "via"]
    readonly_fields = ["progress", "error", "notes", "dataset_ids"]
