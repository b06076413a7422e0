"""Input and output serializers of the market API (outputs mirror disclosure.py)."""

from rest_framework import serializers

from .models import PriceModel, Subscription
from .services.delivery import GRAPH_FORMATS, SELECT_FORMATS

STRATEGIES = ["auto", "mincut", "milp", "greedy"]


class PriceModelOut(serializers.ModelSerializer):
    class Meta:
        model = PriceModel
        fields = [
            "dataset",
            "kind",
            "rate",
            "access_fee",
            "subscription_price",
            "subscription_period_days",
            "updated_at",
        ]


class PriceModelIn(serializers.Serializer):
    kind = serializers.ChoiceField(choices=PriceModel.Kind.choices)
    rate = serializers.DecimalField(max_digits=14, decimal_places=4, min_value=0, default=0)
    access_fee = serializers.IntegerField(min_value=0, default=0)
    subscription_price = serializers.IntegerField(min_value=0, required=False, allow_null=True, default=None)
    subscription_period_days = serializers.IntegerField(min_value=1, max_value=3660, default=30)


class AskIn(serializers.Serializer):
    query = serializers.CharField(max_length=100_000, trim_whitespace=True)
    value_per_row = serializers.IntegerField(
        min_value=0,
        required=False,
        allow_null=True,
        default=None,
        help_text="What one answer row is worth to you, in minor units; null = no limit.",
    )
    budget = serializers.IntegerField(
        min_value=0,
        required=False,
        allow_null=True,
        default=None,
        help_text="The most you will pay, platform fee included, in minor units.",
    )
    include = serializers.ListField(
        child=serializers.CharField(max_length=200),
        required=False,
        default=list,
        help_text="Publisher slugs or dataset ids to restrict the query to.",
    )
    exclude = serializers.ListField(
        child=serializers.CharField(max_length=200),
        required=False,
        default=list,
        help_text="Publisher slugs or dataset ids to leave out.",
    )
    strategy = serializers.ChoiceField(choices=STRATEGIES, default="auto")


class QuoteLineOut(serializers.Serializer):
    dataset = serializers.IntegerField()
    dataset_title = serializers.CharField()
    publisher = serializers.CharField()
    price_model = serializers.CharField()
    rate = serializers.CharField()
    access_fee = serializers.IntegerField()
    items = serializers.IntegerField()
    rows = serializers.IntegerField()
    triples = serializers.IntegerField()
    amount = serializers.IntegerField()


class QuoteOut(serializers.Serializer):
    id = serializers.IntegerField()
    status = serializers.CharField()
    currency = serializers.CharField()
    rows_available = serializers.IntegerField(allow_null=True)
    rows_in_quote = serializers.IntegerField()
    complete = serializers.BooleanField()
    subtotal = serializers.IntegerField()
    fee = serializers.IntegerField()
    price = serializers.IntegerField()
    complete_price = serializers.IntegerField(allow_null=True)
    strategy = serializers.CharField()
    objective = serializers.CharField()
    upper_bound = serializers.CharField()
    gap = serializers.FloatField()
    optimal = serializers.BooleanField()
    solve_seconds = serializers.FloatField()
    created_at = serializers.DateTimeField()
    expires_at = serializers.DateTimeField()
    lines = QuoteLineOut(many=True)


class JobOut(serializers.Serializer):
    id = serializers.UUIDField()
    status = serializers.CharField()
    kind = serializers.CharField()
    query = serializers.CharField()
    value_per_row = serializers.IntegerField(allow_null=True)
    budget = serializers.IntegerField(allow_null=True)
    include = serializers.ListField(child=serializers.CharField())
    exclude = serializers.ListField(child=serializers.CharField())
    progress = serializers.DictField()
    error = serializers.CharField()
    notes = serializers.ListField(child=serializers.CharField())
    variables = serializers.ListField(child=serializers.CharField())
    rows_available = serializers.IntegerField(allow_null=True)
    created_at = serializers.DateTimeField()
    finished_at = serializers.DateTimeField(allow_null=True)
    quote = QuoteOut(allow_null=True)
    page_url = serializers.CharField()
    results_url = serializers.CharField(allow_null=True)


class PurchaseIn(serializers.Serializer):
    quote = serializers.IntegerField(
        required=False,
        allow_null=True,
        default=None,
        help_text="The quote to buy; default: the job's open quote.",
    )


class ReceiptOut(serializers.Serializer):
    quote = QuoteOut()
    purchase_id = serializers.IntegerField(allow_null=True)
    purchased_at = serializers.DateTimeField()
    results_url = serializers.CharField()


class SubscriptionIn(serializers.Serializer):
    dataset = serializers.IntegerField()
    idempotency_key = serializers.CharField(max_length=150, required=False, default="")


class SubscriptionOut(serializers.ModelSerializer):
    active = serializers.BooleanField(read_only=True)

    class Meta:
        model = Subscription
        fields = ["id", "dataset", "starts_at", "ends_at", "amount", "purchase_id", "active"]


RESULT_FORMATS = list(SELECT_FORMATS + GRAPH_FORMATS)
