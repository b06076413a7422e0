"""Give a (demo) buyer a starting balance through the test-payment path: `money_demo_credit USERNAME 50.00`."""

from django.core.management.base import BaseCommand, CommandError

from marketplace.accounts.models import User
from marketplace.money.currency import format_amount, parse_major
from marketplace.money.errors import MoneyError
from marketplace.money.services import demo_credit, wallet_balance


class Command(BaseCommand):
    help = "Credit a user's wallet with test money (test-payment mode only; never with live Stripe keys)."

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument("amount", help="In major units, e.g. 50.00")

    def handle(self, *args, username: str, amount: str, **options):
        try:
            user = User.objects.get(username=username)
            minor = parse_major(amount)
            demo_credit(user=user, amount=minor)
        except User.DoesNotExist as exc:
            raise CommandError(f"No user {username!r}.") from exc
        except (ValueError, ArithmeticError) as exc:
            raise CommandError(f"Not an amount: {amount!r}.") from exc
        except MoneyError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(f"{username}: {format_amount(wallet_balance(user=user))}")
