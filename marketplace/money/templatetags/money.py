"""`{{ amount|money }}` renders integer minor units in the marketplace currency."""

from django import template

from ..currency import format_amount

register = template.Library()


@register.filter(name="money")
def money(value) -> str:
    if value is None or value == "":
        return "—"
    return format_amount(int(value))
