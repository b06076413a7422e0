"""Buying a priced variant through the marketplace's single charge service, and who may download what."""

from __future__ import annotations

from django.db import IntegrityError, transaction

from marketplace.accounts.selectors import can_publish_for

from ..models import Variant, VariantPurchase
from .errors import NotAllowed, PurchaseFailed


def can_download(*, user, variant: Variant) -> bool:
    """Free published variants for everyone; priced ones for buyers; everything for the publisher's members."""
    if variant.published and variant.is_free:
        return True
    if user is None or not user.is_authenticated:
        return False
    if can_publish_for(user=user, organisation=variant.model.publisher):
        return True
    return VariantPurchase.objects.filter(buyer=user, variant=variant).exists()


def variant_buy(*, buyer, variant: Variant) -> VariantPurchase:
    """Charge the buyer's wallet for the variant (once: buying again returns the first purchase)."""
    if not buyer.is_authenticated:
        raise NotAllowed("Sign in to buy.")
    if not variant.published:
        raise NotAllowed("This variant is not for sale.")
    existing = VariantPurchase.objects.filter(buyer=buyer, variant=variant).first()
    if existing is not None:
        return existing
    if variant.is_free:
        raise PurchaseFailed("This variant is free: download it directly.")
    from marketplace.money import services as money

    fee = money.platform_fee_for(variant.price)
    try:
        with transaction.atomic():
            purchase = money.charge(
                buyer=buyer,
                lines=[
                    money.ChargeLine(
                        publisher=variant.model.publisher,
                        amount=variant.price - fee,
                        description=f"Model {variant.model.name}, variant {variant.name}",
                    )
                ],
                fee=fee,
                idempotency_key=f"modelhub-variant-{variant.pk}-buyer-{buyer.pk}",
                description=f"Model {variant.model.name} ({variant.name})",
            )
            return VariantPurchase.objects.create(
                buyer=buyer,
                variant=variant,
                amount=variant.price,
                fee=fee,
                money_purchase_id=getattr(purchase, "pk", None),
            )
    except money.InsufficientFunds as exc:
        raise PurchaseFailed(f"Not enough money in the wallet: {exc}") from exc
    except money.MoneyError as exc:
        raise PurchaseFailed(str(exc)) from exc
    except IntegrityError:
        # a concurrent click bought it first
        return VariantPurchase.objects.get(buyer=buyer, variant=variant)
