"""Stand-ins for the one call localstripe cannot serve: the Stripe Connect transfer."""

from marketplace.money.errors import PaymentProviderError


class RecordingTransfers:
    calls: list[dict] = []

    def transfer(self, *, destination: str, amount: int, currency: str, idempotency_key: str) -> str:
        RecordingTransfers.calls.append(
            {
                "destination": destination,
                "amount": amount,
                "currency": currency,
                "idempotency_key": idempotency_key,
            }
        )
        return f"tr_test_{len(RecordingTransfers.calls)}"


class RefusingTransfers:
    def transfer(self, *, destination: str, amount: int, currency: str, idempotency_key: str) -> str:
        raise PaymentProviderError("The connected account cannot receive transfers.")
