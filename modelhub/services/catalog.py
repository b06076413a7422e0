"""Creating and editing models and variants, with their compression metadata."""

from __future__ import annotations

from typing import Any

from django.db import transaction

from marketplace.accounts.models import Organisation
from marketplace.accounts.selectors import can_publish_for

from ..models import DECLARED_FIELDS, MEASURED_FIELDS, HubModel, Variant
from .cards import card_parse
from .errors import InvalidMetadata, NotAllowed

METADATA_FIELDS = DECLARED_FIELDS + MEASURED_FIELDS + ("layers",)


def _check_publisher(user, organisation: Organisation) -> None:
    if not can_publish_for(user=user, organisation=organisation):
        raise NotAllowed("Only members of an approved publisher can publish models for it.")


@transaction.atomic
def model_create(
    *, user, publisher: Organisation, name: str, task: str, licence: str = "", card: str = "", price: int = 0
) -> HubModel:
    """A new model; the card's front matter fills the licence when none is given."""
    _check_publisher(user, publisher)
    parsed = card_parse(card)
    licence = licence or str(parsed.metadata.get("license") or "other")
    if price < 0:
        raise InvalidMetadata("A price cannot be negative.")
    return HubModel.objects.create(
        publisher=publisher,
        name=name,
        task=task,
        licence=licence,
        card=card,
        card_metadata=parsed.metadata,
        price=price,
    )


@transaction.atomic
def model_update(*, user, model: HubModel, **changes: Any) -> HubModel:
    _check_publisher(user, model.publisher)
    for key in ("name", "task", "licence", "card", "price"):
        if key in changes:
            setattr(model, key, changes[key])
    if "card" in changes:
        model.card_metadata = card_parse(model.card).metadata
    model.save()
    return model


def _clean_metadata(metadata: dict[str, Any]) -> dict[str, Any]:
    unknown = set(metadata) - set(METADATA_FIELDS)
    if unknown:
        raise InvalidMetadata(f"Unknown metadata fields: {sorted(unknown)}")
    sparsity = metadata.get("sparsity")
    if sparsity is not None and not 0 <= float(sparsity) <= 1:
        raise InvalidMetadata("Sparsity is a fraction between 0 and 1.")
    for key in ("accuracy", "reference_accuracy"):
        value = metadata.get(key)
        if value is not None and not 0 <= float(value) <= 1:
            raise InvalidMetadata(f"{key} is a fraction between 0 and 1.")
    return metadata


@transaction.atomic
def variant_create(
    *,
    user,
    model: HubModel,
    name: str,
    derived_from: Variant | None = None,
    price: int | None = None,
    published: bool = True,
    metadata: dict[str, Any] | None = None,
) -> Variant:
    _check_publisher(user, model.publisher)
    if derived_from is not None and derived_from.model_id != model.pk:
        raise InvalidMetadata("A variant derives from another variant of the same model.")
    if Variant.objects.filter(model=model, name=name).exists():
        raise InvalidMetadata(f"The model already has a variant named {name!r}.")
    variant = Variant(
        model=model,
        name=name,
        derived_from=derived_from,
        price=model.price if price is None else price,
        published=published,
        **_clean_metadata(dict(metadata or {})),
    )
    variant.save()
    return variant


@transaction.atomic
def variant_update(*, user, variant: Variant, metadata: dict[str, Any] | None = None, **changes: Any) -> Variant:
    """Edit terms or declared metadata; the declarations are checked again against the stored reports."""
    _check_publisher(user, variant.model.publisher)
    for key in ("name", "price", "published", "derived_from"):
        if key in changes:
            setattr(variant, key, changes[key])
    for key, value in _clean_metadata(dict(metadata or {})).items():
        setattr(variant, key, value)
    variant.save()
    from .inspection import variant_reverify

    variant_reverify(variant=variant)
    return variant
