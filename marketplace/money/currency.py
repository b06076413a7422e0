"""The marketplace's single currency: code, exponent, and formatting of integer minor units."""

from decimal import Decimal

from django.conf import settings


def currency_code() -> str:
    return getattr(settings, "MARKETPLACE_CURRENCY", "EUR")


def currency_exponent() -> int:
    return int(getattr(settings, "MARKETPLACE_CURRENCY_EXPONENT", 2))


def to_major(amount: int) -> Decimal:
    return Decimal(amount).scaleb(-currency_exponent())


def format_amount(amount: int) -> str:
    """`1234` -> `12.34 EUR` (exponent 2)."""
    exponent = currency_exponent()
    quantum = Decimal(1).scaleb(-exponent) if exponent else Decimal(1)
    return f"{to_major(amount).quantize(quantum):,} {currency_code()}"


def parse_major(text: str) -> int:
    """`"12.34"` -> `1234`; raises ValueError for more decimals than the currency has, or junk."""
    value = Decimal(str(text).strip())
    minor = value.scaleb(currency_exponent())
    if not value.is_finite() or minor != minor.to_integral_value():
        raise ValueError("Too many decimal places for the currency.")
    return int(minor)
