"""Forms of the market pages; validation of substance happens in the services."""

from django import forms

from .models import PriceModel

STRATEGY_CHOICES = [
    ("auto", "Automatic"),
    ("mincut", "Minimum cut"),
    ("milp", "Integer program (HiGHS)"),
    ("greedy", "Greedy"),
]


class AskForm(forms.Form):
    query = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 10, "spellcheck": "false", "class": "mono"}), max_length=100_000
    )
    value_per_row = forms.IntegerField(
        min_value=0,
        required=False,
        help_text="What one answer row is worth to you, in minor units. Empty: no limit.",
    )
    budget = forms.IntegerField(
        min_value=0, required=False, help_text="The most you will pay, fee included, in minor units."
    )
    include = forms.CharField(
        required=False, help_text="Only these providers: publisher slugs or dataset ids, comma separated."
    )
    exclude = forms.CharField(required=False, help_text="Leave out these providers: publisher slugs or dataset ids.")
    strategy = forms.ChoiceField(choices=STRATEGY_CHOICES, initial="auto", help_text="How to choose the rows to buy.")

    @staticmethod
    def split(text: str) -> list[str]:
        return [part.strip() for part in (text or "").split(",") if part.strip()]


class PriceModelForm(forms.Form):
    kind = forms.ChoiceField(choices=PriceModel.Kind.choices)
    rate = forms.DecimalField(
        min_value=0,
        max_digits=14,
        decimal_places=4,
        required=False,
        initial=0,
        help_text="Per triple or per row, in minor units (up to 4 decimals).",
    )
    access_fee = forms.IntegerField(min_value=0, required=False, initial=0, help_text="Per purchase, in minor units.")
    subscription_price = forms.IntegerField(
        min_value=0,
        required=False,
        help_text="Offer a subscription at this price (minor units); empty: no subscription.",
    )
    subscription_period_days = forms.IntegerField(min_value=1, max_value=3660, initial=30)
