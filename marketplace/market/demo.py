"""The market's part of `manage.py load_demo`: a price model on every demo dataset, one of each kind."""

from decimal import Decimal

from marketplace.catalog.models import Dataset

from .models import PriceModel
from .services.price_models import price_model_set

# Dataset title prefix -> price model arguments (amounts in minor units).
DEMO_PRICES = {
    "BSBM Product Catalog": {"kind": PriceModel.Kind.FREE},
    "Vendor 0": {"kind": PriceModel.Kind.PER_TRIPLE, "rate": Decimal("0.5")},
    "Vendor 1": {"kind": PriceModel.Kind.PER_ROW, "rate": Decimal("2"), "subscription_price": 1500},
    "Vendor 2": {"kind": PriceModel.Kind.ACCESS_FEE, "access_fee": 99},
    "Rating site 0": {"kind": PriceModel.Kind.PER_TRIPLE, "rate": Decimal("0.25")},
    "Rating site 1": {"kind": PriceModel.Kind.SUBSCRIPTION, "subscription_price": 900},
}


def load_demo(*, buyer, operator, stdout, make_publisher) -> list[str]:
    for prefix, arguments in DEMO_PRICES.items():
        for dataset in Dataset.objects.filter(title__startswith=prefix):
            price_model_set(user=operator, dataset=dataset, **arguments)
    return ["  data prices:               one price model of each kind on the demo datasets (/offers/)"]
