"""Instantiate the 12 FedShop query templates with constants that exist in the generated world.

Constants are picked by recomputing the model (no files are read) and checking, for the queries with
filters, that at least one answer (six for q04, which skips five) exists.
"""

from __future__ import annotations

import json
import os
import random
import re
from collections import defaultdict
from datetime import date
from pathlib import Path

from marketplace.demo.fedshop_model import XSD, Product, Scale, inst, local, products, vendor_country

TEMPLATE_DIR = Path(__file__).with_name("queries")
TEMPLATES = tuple(f"q{i:02d}" for i in range(1, 13))
MAX_TRIES = 400


def _int(value: int) -> str:
    return str(value)  # a bare integer is an xsd:integer literal


def _datetime(day: date) -> str:
    return f'"{day.isoformat()}T00:00:00"^^<{XSD}dateTime>'


def _type(t: int) -> str:
    return inst("ProductType", t)


def _feature(f: int) -> str:
    return inst("ProductFeature", f)


class _Picker:
    """Chooses constants for each template from the recomputed products, deterministically."""

    def __init__(self, scale: Scale) -> None:
        self.scale = scale
        self.products = list(products(scale))
        self.by_leaf: dict[int, list[Product]] = defaultdict(list)
        for p in self.products:
            self.by_leaf[p.leaf].append(p)

    def candidates(self, name: str):
        rng = random.Random(f"{self.scale.seed}/{name}")
        order = list(range(len(self.products)))
        rng.shuffle(order)
        for i in order[:MAX_TRIES]:
            yield rng, self.products[i]

    def q01(self) -> dict[str, str]:
        for rng, p in self.candidates("q01"):
            f1, f2 = rng.sample(p.features, 2)
            return {
                "ProductType": _type(p.types[0]),
                "ProductFeature1": _feature(f1),
                "ProductFeature2": _feature(f2),
                "constValue1": _int(max(0, p.numeric[0] - rng.randint(1, 300))),
            }
        raise AssertionError("no product")

    def q02(self) -> dict[str, str]:
        for _, p in self.candidates("q02"):
            return {"product": inst("Product", p.id)}
        raise AssertionError("no product")

    def q03(self) -> dict[str, str]:
        for rng, p in self.candidates("q03"):
            absent = [f for f in self.scale.feature_pool(p.leaf) if f not in p.features]
            return {
                "ProductType": _type(p.types[0]),
                "ProductFeature1": _feature(rng.choice(p.features)),
                "ProductFeature2": _feature(rng.choice(absent)),
                "x": _int(max(0, p.numeric[0] - rng.randint(1, 300))),
                "y": _int(p.numeric[2] + rng.randint(1, 300)),
            }
        raise AssertionError("no product")

    def q04(self) -> dict[str, str]:
        best: tuple[int, dict[str, str]] | None = None
        for rng, p in self.candidates("q04"):
            if len(p.features) < 3:
                continue
            f1, f2, f3 = rng.sample(p.features, 3)
            x = max(0, p.numeric[0] - rng.randint(100, 400))
            y = max(0, p.numeric[1] - rng.randint(100, 400))
            rows = sum(
                q.copies
                for q in self.by_leaf[p.leaf]
                if f1 in q.features
                and ((f2 in q.features and q.numeric[0] > x) or (f3 in q.features and q.numeric[1] > y))
            )
            consts = {
                "ProductType": _type(p.types[1]),
                "ProductFeature1": _feature(f1),
                "ProductFeature2": _feature(f2),
                "ProductFeature3": _feature(f3),
                "x": _int(x),
                "y": _int(y),
            }
            if rows >= 6:  # the template skips five rows (OFFSET 5)
                return consts
            if best is None or rows > best[0]:
                best = (rows, consts)
        assert best is not None
        return best[1]

    def q05(self) -> dict[str, str]:
        best: tuple[int, dict[str, str]] | None = None
        for _, p in self.candidates("q05"):
            similar = sum(
                1
                for q in self.by_leaf[p.leaf]
                if q.id != p.id
                and set(q.features) & set(p.features)
                and abs(q.numeric[0] - p.numeric[0]) < 20
                and abs(q.numeric[1] - p.numeric[1]) < 70
            )
            consts = {"ProductXYZ": inst("Product", p.id)}
            if similar >= 2:
                return consts
            if best is None or similar > best[0]:
                best = (similar, consts)
        assert best is not None
        return best[1]

    def q06(self) -> dict[str, str]:
        for rng, p in self.candidates("q06"):
            words = [w for w in p.label.split() if len(w) >= 6]
            if words:
                return {"word1": f'"{rng.choice(words)}"'}
        raise AssertionError("no label word")

    def _us_offer(self, name: str, *, max_days: int = 99, with_reviews: bool = False):
        for rng, p in self.candidates(name):
            if with_reviews and not p.reviews:
                continue
            offers = [
                o for o in p.offers if vendor_country(self.scale, o.vendor) == "US" and o.delivery_days <= max_days
            ]
            if offers:
                return p, rng.choice(offers)
        raise AssertionError(f"{name}: no product with a matching US offer")

    def q07(self) -> dict[str, str]:
        p, offer = self._us_offer("q07", with_reviews=True)
        return {"ProductXYZ": inst("Product", p.id), "currentDate": _datetime(offer.valid_from)}

    def q08(self) -> dict[str, str]:
        for _, p in self.candidates("q08"):
            if any(r.lang == "en" for r in p.reviews):
                return {"ProductXYZ": inst("Product", p.id)}
        raise AssertionError("no product with an English review")

    def q09(self) -> dict[str, str]:
        for rng, p in self.candidates("q09"):
            if p.reviews:
                review = rng.choice(p.reviews)
                return {"ReviewXYZ": local(f"ratingsite{review.site}", "Review", review.id)}
        raise AssertionError("no review")

    def q10(self) -> dict[str, str]:
        p, offer = self._us_offer("q10", max_days=3)
        return {"ProductXYZ": inst("Product", p.id), "currentDate": _datetime(offer.valid_from)}

    def _offer(self, name: str) -> dict[str, str]:
        for rng, p in self.candidates(name):
            offer = rng.choice(p.offers)
            return {"OfferXYZ": local(f"vendor{offer.vendor}", "Offer", offer.id)}
        raise AssertionError("no offer")

    def q11(self) -> dict[str, str]:
        return self._offer("q11")

    def q12(self) -> dict[str, str]:
        return self._offer("q12")


def fill_template(template: str, constants: dict[str, str]) -> str:
    """Replace each `?Name` placeholder by its constant (whole variable names only)."""
    for name, value in constants.items():
        template = re.sub(rf"\?{re.escape(name)}(?![A-Za-z0-9_])", lambda _m, v=value: v, template)
    return template


def instantiate_queries(
    template_dir: str | os.PathLike[str] = TEMPLATE_DIR,
    *,
    n_products: int,
    n_vendors: int,
    n_ratingsites: int,
    seed: int = 0,
) -> list[tuple[str, str]]:
    """[(name, query text)] for q01..q12, with placeholders filled from the world of these arguments."""
    picker = _Picker(Scale(n_products, n_vendors, n_ratingsites, seed))
    queries = []
    for name in TEMPLATES:
        folder = Path(template_dir)
        expected = set(json.loads((folder / f"{name}.const.json").read_text()))
        constants = getattr(picker, name)()
        if set(constants) != expected:
            raise ValueError(f"{name}: template expects {sorted(expected)}, picked {sorted(constants)}")
        queries.append((name, fill_template((folder / f"{name}.rq").read_text(), constants)))
    return queries
