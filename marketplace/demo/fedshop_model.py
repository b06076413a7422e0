"""The deterministic FedShop-like world: products, offers and reviews computed from (scale, product id).

Every product is derived from its own seeded RNG, so the writer can stream products one at a time and the
query instantiator can recompute any product without reading the generated files.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta

OFFERS_PER_PRODUCT = 5  # mean; BSBM uses 20, kept lower so that 1M triples cover more products
REVIEWS_PER_PRODUCT = 3  # mean
FEATURES_PER_LEAF = 15  # each leaf product type draws its products' features from its own pool
PRODUCTS_PER_LEAF = 100
OFFER_SLOTS = 16  # offer ids are product * OFFER_SLOTS + i, so ids stay unique without a counter
REVIEW_SLOTS = 8
BASE_DATE = date(2008, 1, 1)
BSBM = "http://www4.wiwiss.fu-berlin.de/bizer/bsbm/v01/vocabulary/"
INST = "http://www4.wiwiss.fu-berlin.de/bizer/bsbm/v01/instances/"
XSD = "http://www.w3.org/2001/XMLSchema#"
COUNTRY = "http://downlode.org/rdf/iso-3166/countries#"
COUNTRIES = ("US", "GB", "DE", "FR", "JP", "CN", "ES", "RU", "KR", "AT")
REVIEW_LANGS = ("de", "fr", "es")


def _make_words(n: int) -> tuple[str, ...]:
    # Pronounceable pseudo-words from a fixed RNG: the vocabulary is the same for every seed.
    rng = random.Random(20230511)
    consonants, vowels = "bcdfghklmnprstvz", "aeiou"
    words: list[str] = []
    seen: set[str] = set()
    while len(words) < n:
        word = "".join(rng.choice(consonants) + rng.choice(vowels) for _ in range(rng.randint(2, 4)))
        if word not in seen:
            seen.add(word)
            words.append(word)
    return tuple(words)


WORDS = _make_words(1500)
FIRST_NAMES = _make_words(1700)[1500:1600]
LAST_NAMES = _make_words(1700)[1600:]


@dataclass(frozen=True)
class Scale:
    """Size parameters of one generated world; everything else follows from these and the seed."""

    n_products: int
    n_vendors: int
    n_ratingsites: int
    seed: int = 0

    def __post_init__(self) -> None:
        if self.n_products < 1 or self.n_vendors < 1 or self.n_ratingsites < 1:
            raise ValueError("n_products, n_vendors and n_ratingsites must all be at least 1")

    @property
    def n_leaf_types(self) -> int:
        return max(4, self.n_products // PRODUCTS_PER_LEAF)

    @property
    def n_mid_types(self) -> int:
        return max(2, self.n_leaf_types // 8)

    @property
    def n_types(self) -> int:
        return 1 + self.n_mid_types + self.n_leaf_types

    @property
    def n_features(self) -> int:
        return self.n_leaf_types * FEATURES_PER_LEAF

    @property
    def n_producers(self) -> int:
        return max(3, self.n_products // 50)

    @property
    def persons_per_site(self) -> int:
        return max(10, self.n_products * REVIEWS_PER_PRODUCT // (4 * self.n_ratingsites))

    def leaf_type(self, leaf: int) -> int:
        """Type number of leaf `leaf` (type 1 is the root, then the middle layer, then the leaves)."""
        return 2 + self.n_mid_types + leaf

    def parent_type(self, type_no: int) -> int | None:
        if type_no == 1:
            return None
        if type_no < 2 + self.n_mid_types:
            return 1
        return 2 + (type_no - 2 - self.n_mid_types) % self.n_mid_types

    def feature_pool(self, leaf: int) -> range:
        return range(leaf * FEATURES_PER_LEAF + 1, (leaf + 1) * FEATURES_PER_LEAF + 1)


@dataclass(frozen=True)
class Offer:
    id: int
    vendor: int
    price_cents: int
    valid_from: date
    valid_to: date
    delivery_days: int


@dataclass(frozen=True)
class Review:
    id: int
    site: int
    reviewer: int
    day: date
    title: str
    text: str
    lang: str
    ratings: tuple[int | None, int | None, int | None, int | None]


@dataclass(frozen=True)
class Product:
    id: int
    leaf: int
    types: tuple[int, ...]  # leaf type then its middle-layer parent
    producer: int
    features: tuple[int, ...]
    label: str
    comment: str
    textual: tuple[str | None, ...]  # productPropertyTextual1..5 (4 and 5 optional)
    numeric: tuple[int | None, ...]  # productPropertyNumeric1..5 (4 and 5 optional)
    offers: tuple[Offer, ...]
    reviews: tuple[Review, ...]

    @property
    def vendors(self) -> list[int]:
        return sorted({o.vendor for o in self.offers})

    @property
    def sites(self) -> list[int]:
        return sorted({r.site for r in self.reviews})

    @property
    def copies(self) -> int:
        """Number of vendor and rating-site sources holding a local copy of this product."""
        return len(self.vendors) + len(self.sites)


def _words(rng: random.Random, lo: int, hi: int) -> str:
    return " ".join(rng.choice(WORDS) for _ in range(rng.randint(lo, hi)))


def _normal_int(rng: random.Random, mean: float, sd: float) -> int:
    return min(2000, max(1, round(rng.gauss(mean, sd))))


def make_product(scale: Scale, pid: int) -> Product:
    """Product `pid` (1-based) with its offers and reviews, the same for the same scale and seed."""
    rng = random.Random(scale.seed * 1_000_003 + pid)
    leaf = rng.randrange(scale.n_leaf_types)
    leaf_type = scale.leaf_type(leaf)
    types = (leaf_type, scale.parent_type(leaf_type) or 1)
    producer = rng.randrange(scale.n_producers) + 1
    features = tuple(sorted(rng.sample(scale.feature_pool(leaf), rng.randint(4, 7))))
    label = _words(rng, 2, 3)
    comment = _words(rng, 8, 15)
    textual = (
        _words(rng, 3, 6),
        _words(rng, 3, 6),
        _words(rng, 3, 6),
        _words(rng, 3, 6) if rng.random() < 0.7 else None,
        _words(rng, 3, 6) if rng.random() < 0.5 else None,
    )
    numeric = (
        _normal_int(rng, 1000, 150),
        _normal_int(rng, 1000, 150),
        _normal_int(rng, 1000, 150),
        _normal_int(rng, 1000, 150) if rng.random() < 0.7 else None,
        _normal_int(rng, 1000, 150) if rng.random() < 0.5 else None,
    )
    offers = []
    for i in range(rng.randint(1, 2 * OFFERS_PER_PRODUCT - 1)):
        valid_from = BASE_DATE + timedelta(days=rng.randrange(365))
        offers.append(
            Offer(
                id=pid * OFFER_SLOTS + i,
                vendor=rng.randrange(scale.n_vendors),
                price_cents=rng.randint(500, 1_000_000),
                valid_from=valid_from,
                valid_to=valid_from + timedelta(days=rng.randint(30, 200)),
                delivery_days=rng.randint(1, 21),
            )
        )
    reviews = []
    for i in range(rng.randint(0, 2 * REVIEWS_PER_PRODUCT)):
        reviews.append(
            Review(
                id=pid * REVIEW_SLOTS + i,
                site=rng.randrange(scale.n_ratingsites),
                reviewer=rng.randrange(scale.persons_per_site),
                day=BASE_DATE + timedelta(days=rng.randrange(730)),
                title=_words(rng, 2, 5),
                text=_words(rng, 10, 25),
                lang="en" if rng.random() < 0.85 else rng.choice(REVIEW_LANGS),
                ratings=tuple(rng.randint(1, 10) if rng.random() < 0.8 else None for _ in range(4)),  # type: ignore[arg-type]
            )
        )
    return Product(
        id=pid,
        leaf=leaf,
        types=types,
        producer=producer,
        features=features,
        label=label,
        comment=comment,
        textual=textual,
        numeric=numeric,
        offers=tuple(offers),
        reviews=tuple(reviews),
    )


def products(scale: Scale) -> Iterator[Product]:
    for pid in range(1, scale.n_products + 1):
        yield make_product(scale, pid)


def vendor_country(scale: Scale, vendor: int) -> str:
    # Every third vendor is in the US so that the templates' US filter (q07, q10) always finds offers.
    if vendor % 3 == 0:
        return "US"
    return random.Random(scale.seed * 7919 + vendor).choice(COUNTRIES[1:])


def site_country(scale: Scale, site: int) -> str:
    return random.Random(scale.seed * 7927 + site).choice(COUNTRIES)


def inst(kind: str, n: int) -> str:
    """The shared (catalog) IRI of entity `n` of `kind`, in N-Triples form."""
    return f"<{INST}{kind}{n}>"


def local(source: str, kind: str, n: int) -> str:
    """A source's own IRI for its copy or its entity `n` of `kind`, in N-Triples form."""
    return f"<http://www.{source}.fr/{kind}{n}>"
