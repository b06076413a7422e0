"""Purchases: the single charge service every app calls to take money from a wallet."""

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from marketplace.accounts.models import Organisation, User

from ..errors import IdempotencyConflict, InsufficientFunds, MoneyError
from ..models import JournalEntry, Purchase
from .ledger import Posting, UnbalancedEntry, credit_accounts, lock_wallet, post_entry


@dataclass(frozen=True)
class ChargeLine:
    publisher: Organisation
    amount: int  # minor units, >= 0
    description: str


def _fingerprint(lines: Sequence[ChargeLine], fee: int) -> str:
    data = json.dumps([[line.publisher.pk, line.amount] for line in lines] + [["fee", fee]])
    return hashlib.sha256(data.encode()).hexdigest()


def _replay(*, buyer: User, idempotency_key: str, fingerprint: str) -> Purchase | None:
    existing = Purchase.objects.select_related("entry").filter(buyer=buyer, idempotency_key=idempotency_key).first()
    if existing is not None and existing.fingerprint != fingerprint:
        raise IdempotencyConflict(f"Idempotency key {idempotency_key!r} was already used for a different charge.")
    return existing


def charge(*, buyer: User, lines: Sequence[ChargeLine], fee: int, idempotency_key: str, description: str) -> Purchase:
    """Debit the wallet sum(amounts)+fee, credit each publisher's earnings and the platform fee; all or nothing.

    The same idempotency key (per buyer) returns the first purchase and charges nothing."""
    if not idempotency_key:
        raise MoneyError("An idempotency key is required.")
    if (
        fee < 0
        or any(not isinstance(line.amount, int) or line.amount < 0 for line in lines)
        or not isinstance(fee, int)
    ):
        raise MoneyError("Amounts and fee must be integers >= 0 (minor units).")
    fingerprint = _fingerprint(lines, fee)
    total = sum(line.amount for line in lines) + fee
    earnings, fees = credit_accounts([line.publisher for line in lines])
    postings = [(earnings[line.publisher.pk], line.amount, line.description) for line in lines]
    postings.append((fees, fee, "Platform fee"))
    fast = connection.vendor == "postgresql" and getattr(settings, "MONEY_SQL_FAST_PATH", True)
    book = _book_postgresql if fast else _book_orm
    try:
        with transaction.atomic():
            return book(
                buyer=buyer,
                credits=postings,
                total=total,
                fee=fee,
                fingerprint=fingerprint,
                idempotency_key=idempotency_key,
                description=description[:300],
            )
    except IntegrityError:
        existing = _replay(buyer=buyer, idempotency_key=idempotency_key, fingerprint=fingerprint)
        if existing is None:
            raise
        return existing


def _book_orm(
    *,
    buyer: User,
    credits: list,
    total: int,
    fee: int,
    fingerprint: str,
    idempotency_key: str,
    description: str,
) -> Purchase:
    """The portable path (SQLite demos): the same bookings through the ORM and post_entry."""
    wallet = lock_wallet(buyer)
    # Checked under the wallet lock: a concurrent call with the same key waited here and now finds the first.
    existing = _replay(buyer=buyer, idempotency_key=idempotency_key, fingerprint=fingerprint)
    if existing is not None:
        return existing
    if wallet.cached_balance < total:
        raise InsufficientFunds(needed=total, available=wallet.cached_balance)
    postings = [Posting(wallet, -total, description)] + [Posting(a, amount, d) for a, amount, d in credits]
    entry = post_entry(kind=JournalEntry.Kind.PURCHASE, postings=postings, description=description, created_by=buyer)
    return Purchase.objects.create(
        buyer=buyer,
        idempotency_key=idempotency_key,
        fingerprint=fingerprint,
        description=description,
        total=total,
        fee=fee,
        entry=entry,
    )


# Lock the wallet and look for an earlier purchase with this key in one round trip.
_LOCK_SQL = """
SELECT a.id, a.cached_balance, p.id, p.fingerprint
FROM money_account a
LEFT JOIN money_purchase p ON p.buyer_id = a.user_id AND p.idempotency_key = %s
WHERE a.kind = 'wallet' AND a.user_id = %s
FOR UPDATE OF a
"""

# The entry, its lines, the wallet's cached balance and the purchase in one statement (same rows as _book_orm).
_BOOK_SQL = """
WITH e AS (
    INSERT INTO money_journalentry (kind, description, reverses_id, created_by_id, created_at)
    VALUES ('purchase', %(description)s, NULL, %(buyer)s, %(now)s) RETURNING id
), l AS (
    INSERT INTO money_journalline (entry_id, account_id, amount, description, reverses_id, created_at)
    SELECT e.id, x.account_id, x.amount, x.description, NULL, %(now)s
    FROM e, unnest(%(accounts)s::bigint[], %(amounts)s::bigint[], %(descriptions)s::text[])
         WITH ORDINALITY AS x(account_id, amount, description, n)
    ORDER BY x.n
), w AS (
    UPDATE money_account SET cached_balance = cached_balance - %(total)s WHERE id = %(wallet)s
)
INSERT INTO money_purchase (buyer_id, idempotency_key, fingerprint, description, total, fee, entry_id, created_at)
SELECT %(buyer)s, %(key)s, %(fingerprint)s, %(description)s, %(total)s, %(fee)s, e.id, %(now)s FROM e
RETURNING id, entry_id
"""


def _book_postgresql(
    *,
    buyer: User,
    credits: list,
    total: int,
    fee: int,
    fingerprint: str,
    idempotency_key: str,
    description: str,
) -> Purchase:
    """The PostgreSQL path: four round trips instead of nine, for throughput under concurrency."""
    with connection.cursor() as cursor:
        cursor.execute(_LOCK_SQL, [idempotency_key, buyer.pk])
        row = cursor.fetchone()
        if row is None:
            lock_wallet(buyer)  # creates the wallet, then the same query finds and locks it
            cursor.execute(_LOCK_SQL, [idempotency_key, buyer.pk])
            row = cursor.fetchone()
        wallet_id, balance, purchase_id, earlier_fingerprint = row
        if purchase_id is not None:
            if earlier_fingerprint != fingerprint:
                raise IdempotencyConflict(
                    f"Idempotency key {idempotency_key!r} was already used for a different charge."
                )
            return Purchase.objects.select_related("entry").get(pk=purchase_id)
        if balance < total:
            raise InsufficientFunds(needed=total, available=balance)
        accounts = [wallet_id] + [a.pk for a, _, _ in credits]
        amounts = [-total] + [amount for _, amount, _ in credits]
        descriptions = [description] + [d[:300] for _, _, d in credits]
        if sum(amounts) != 0:
            raise UnbalancedEntry(f"Lines of a purchase sum to {sum(amounts)}, not zero.")
        now = timezone.now()
        cursor.execute(
            _BOOK_SQL,
            {
                "description": description,
                "buyer": buyer.pk,
                "now": now,
                "accounts": accounts,
                "amounts": amounts,
                "descriptions": descriptions,
                "total": total,
                "wallet": wallet_id,
                "key": idempotency_key,
                "fingerprint": fingerprint,
                "fee": fee,
            },
        )
        purchase_id, entry_id = cursor.fetchone()
    entry = JournalEntry(
        id=entry_id,
        kind=JournalEntry.Kind.PURCHASE,
        description=description,
        created_by_id=buyer.pk,
        created_at=now,
    )
    purchase = Purchase(
        id=purchase_id,
        buyer=buyer,
        idempotency_key=idempotency_key,
        fingerprint=fingerprint,
        description=description,
        total=total,
        fee=fee,
        entry=entry,
        created_at=now,
    )
    for obj in (entry, purchase):
        obj._state.adding = False
        obj._state.db = connection.alias
    return purchase
