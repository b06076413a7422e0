"""The money app's part of `manage.py load_demo`: a starting balance for the demo buyer (test-payment mode)."""

from .services import wallet_balance
from .services.topups import demo_credit

DEMO_BALANCE = 50_00  # minor units


def load_demo(*, buyer, operator, stdout, make_publisher) -> list[str]:
    if wallet_balance(user=buyer) < DEMO_BALANCE:
        demo_credit(user=buyer, amount=DEMO_BALANCE - wallet_balance(user=buyer))
    return [
        f"  the buyer's wallet holds {wallet_balance(user=buyer) / 100:.2f} (test payments: top-ups succeed at once)"
    ]
