"""Which IRIs a source holds per predicate and position, as a Bloom filter: a "no" is certain, a "yes"
may be wrong with probability ``FALSE_POSITIVES``. Lets the engine skip sources that cannot hold a
constant or a bound IRI even where namespaces overlap (the catalog's product IRIs that every vendor
links to, say)."""

from __future__ import annotations

import base64
import functools
import hashlib
import math
from collections.abc import Iterable, Mapping

FALSE_POSITIVES = 0.01


ANY_PREDICATE = "*"


def member_key(predicate: str, position: str, iri: str) -> str:
    """The filter's key for ``iri`` at ``position`` ("s" or "o") of a ``predicate`` triple;
    ANY_PREDICATE as the predicate asks whether any triple has it there."""
    return f"{position} {predicate} {iri}"


class Members:
    """A Bloom filter over ``member_key`` strings, stored in a summary as JSON."""

    def __init__(self, bits: int, hashes: int, data: bytearray | None = None) -> None:
        self.bits = max(8, bits)
        self.hashes = max(1, hashes)
        self.data = data if data is not None else bytearray((self.bits + 7) // 8)

    @classmethod
    def sized_for(cls, items: int) -> Members:
        bits = math.ceil(-max(items, 1) * math.log(FALSE_POSITIVES) / math.log(2) ** 2)
        return cls(bits, round(bits / max(items, 1) * math.log(2)))

    @classmethod
    def of(cls, keys: Iterable[str], items: int) -> Members:
        members = cls.sized_for(items)
        for key in keys:
            members.add(key)
        return members

    def _positions(self, key: str) -> Iterable[int]:
        digest = hashlib.blake2b(key.encode(), digest_size=16).digest()
        first = int.from_bytes(digest[:8], "little")
        step = int.from_bytes(digest[8:], "little") | 1
        return ((first + i * step) % self.bits for i in range(self.hashes))

    def add(self, key: str) -> None:
        for bit in self._positions(key):
            self.data[bit >> 3] |= 1 << (bit & 7)

    def __contains__(self, key: str) -> bool:
        return all(self.data[bit >> 3] & (1 << (bit & 7)) for bit in self._positions(key))

    def to_json(self) -> dict:
        return {"bits": self.bits, "hashes": self.hashes, "data": base64.b64encode(bytes(self.data)).decode()}

    @classmethod
    def from_json(cls, doc: object) -> Members | None:
        """The filter of a summary; None when absent or malformed (then nothing is pruned by it)."""
        if not isinstance(doc, Mapping):
            return None
        try:
            return _decoded(int(doc["bits"]), int(doc["hashes"]), str(doc["data"]))
        except (KeyError, TypeError, ValueError):
            return None


@functools.lru_cache(maxsize=256)
def _decoded(bits: int, hashes: int, data: str) -> Members | None:
    """Decoding is the costly part of using a filter; the same summaries come with query after query."""
    try:
        raw = bytearray(base64.b64decode(data, validate=True))
    except ValueError:
        return None
    if bits < 8 or hashes < 1 or len(raw) != (bits + 7) // 8:
        return None
    return Members(bits, hashes, raw)
