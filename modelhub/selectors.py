"""Read paths of the model hub: browsing with filters, a model's variants for comparison, what a user bought."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Count, Min, Q, QuerySet

from marketplace.accounts.selectors import organisations_of

from .models import HubModel, Variant


@dataclass
class VariantFilters:
    task: str = ""
    method: str = ""
    bits: int | None = None  # weight bits at most
    max_size: int | None = None  # bytes
    min_accuracy: float | None = None  # fraction
    licence: str = ""
    max_price: int | None = None
    free: bool = False
    q: str = ""


def variants_visible_to(*, user) -> QuerySet[Variant]:
    """Published variants, plus unpublished ones of the user's own organisations."""
    qs = Variant.objects.select_related("model__publisher")
    mine = organisations_of(user=user) if user is not None else None
    if mine is not None and mine.exists():
        return qs.filter(Q(published=True) | Q(model__publisher__in=mine))
    return qs.filter(published=True)


def variants_filtered(*, user, filters: VariantFilters) -> QuerySet[Variant]:
    qs = variants_visible_to(user=user)
    if filters.task:
        qs = qs.filter(model__task=filters.task)
    if filters.method:
        qs = qs.filter(method=filters.method)
    if filters.bits is not None:
        qs = qs.filter(weight_bits__lte=filters.bits)
    if filters.max_size is not None:
        qs = qs.filter(size_bytes__lte=filters.max_size)
    if filters.min_accuracy is not None:
        qs = qs.filter(accuracy__gte=filters.min_accuracy)
    if filters.licence:
        qs = qs.filter(model__licence__iexact=filters.licence)
    if filters.free:
        qs = qs.filter(price=0)
    if filters.max_price is not None:
        qs = qs.filter(price__lte=filters.max_price)
    if filters.q:
        qs = qs.filter(
            Q(model__name__icontains=filters.q) | Q(name__icontains=filters.q) | Q(model__card__icontains=filters.q)
        )
    return qs.order_by("model__name", "created_at", "pk")


def models_filtered(*, user, filters: VariantFilters) -> QuerySet[HubModel]:
    """Models having at least one visible variant that matches every filter."""
    ids = variants_filtered(user=user, filters=filters).values("model_id")
    return (
        HubModel.objects.filter(pk__in=ids)
        .select_related("publisher")
        .annotate(variant_count=Count("variants", distinct=True), min_price=Min("variants__price"))
        .order_by("name")
    )


def model_variants(*, user, model: HubModel) -> list[Variant]:
    return list(
        variants_visible_to(user=user).filter(model=model).prefetch_related("artifacts").order_by("created_at", "pk")
    )


def licences() -> list[str]:
    return list(HubModel.objects.order_by("licence").values_list("licence", flat=True).distinct())
