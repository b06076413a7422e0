"""Forms for amounts typed in major units (e.g. 12.50), converted to integer minor units."""

from django import forms
from django.conf import settings

from .currency import currency_code, format_amount, parse_major


class AmountField(forms.CharField):
    def __init__(self, *, minimum: int = 1, maximum: int | None = None, **kwargs):
        self.minimum, self.maximum = minimum, maximum
        super().__init__(max_length=20, **kwargs)

    def clean(self, value) -> int:
        text = super().clean(value)
        try:
            amount = parse_major(text)
        except (ValueError, ArithmeticError) as exc:
            raise forms.ValidationError(f"Enter an amount in {currency_code()}, like 12.50.") from exc
        if amount < self.minimum:
            raise forms.ValidationError(f"The minimum is {format_amount(self.minimum)}.")
        if self.maximum is not None and amount > self.maximum:
            raise forms.ValidationError(f"The maximum is {format_amount(self.maximum)}.")
        return amount


class TopUpForm(forms.Form):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["amount"] = AmountField(
            label=f"Amount ({currency_code()})",
            minimum=settings.MONEY_TOPUP_MIN,
            maximum=settings.MONEY_TOPUP_MAX,
        )


class PayoutForm(forms.Form):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["amount"] = AmountField(label=f"Amount ({currency_code()})")
