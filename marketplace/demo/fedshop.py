"""FedShop-like RDF data: one N-Triples file per source (a catalog, vendors, rating sites), written streaming.

Vendors and rating sites hold local copies of the products they sell or review (local IRIs linked to the
shared catalog IRIs by owl:sameAs, as in FedShop), and repeat two catalog triples per copied product, so the
same triple is held by several sources.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import TextIO

from marketplace.demo.fedshop_model import (
    BSBM,
    COUNTRY,
    FIRST_NAMES,
    LAST_NAMES,
    WORDS,
    XSD,
    Offer,
    Product,
    Review,
    Scale,
    inst,
    local,
    products,
    site_country,
    vendor_country,
)
from marketplace.demo.fedshop_queries import TEMPLATE_DIR, instantiate_queries

__all__ = ["DEMO_SCALE", "TEMPLATE_DIR", "SourceFile", "generate", "instantiate_queries", "source_names"]

# The small world of the demo marketplace: a few thousand triples per source, every template answers.
DEMO_SCALE = {"n_products": 200, "n_vendors": 3, "n_ratingsites": 2}


A = "<http://www.w3.org/1999/02/22-rdf-syntax-ns#type>"
LABEL = "<http://www.w3.org/2000/01/rdf-schema#label>"
COMMENT = "<http://www.w3.org/2000/01/rdf-schema#comment>"
SUBCLASS = "<http://www.w3.org/2000/01/rdf-schema#subClassOf>"
SAME_AS = "<http://www.w3.org/2002/07/owl#sameAs>"
PUBLISHER = "<http://purl.org/dc/elements/1.1/publisher>"
TITLE = "<http://purl.org/dc/elements/1.1/title>"
HOMEPAGE = "<http://xmlns.com/foaf/0.1/homepage>"
NAME = "<http://xmlns.com/foaf/0.1/name>"
MBOX = "<http://xmlns.com/foaf/0.1/mbox_sha1sum>"
PERSON = "<http://xmlns.com/foaf/0.1/Person>"
REVIEWER = "<http://purl.org/stuff/rev#reviewer>"
TEXT = "<http://purl.org/stuff/rev#text>"


def _b(local: str) -> str:
    return f"<{BSBM}{local}>"


C_PRODUCT, C_TYPE, C_FEATURE, C_PRODUCER = (
    _b("Product"),
    _b("ProductType"),
    _b("ProductFeature"),
    _b("Producer"),
)
C_OFFER, C_REVIEW, C_VENDOR, C_SITE = _b("Offer"), _b("Review"), _b("Vendor"), _b("RatingSite")
P_PRODUCER, P_FEATURE, P_COUNTRY = _b("producer"), _b("productFeature"), _b("country")
P_TEXTUAL = tuple(_b(f"productPropertyTextual{i}") for i in range(1, 6))
P_NUMERIC = tuple(_b(f"productPropertyNumeric{i}") for i in range(1, 6))
P_PRODUCT, P_VENDOR, P_PRICE = _b("product"), _b("vendor"), _b("price")
P_FROM, P_TO, P_DAYS, P_PAGE = _b("validFrom"), _b("validTo"), _b("deliveryDays"), _b("offerWebpage")
P_REVIEW_FOR, P_REVIEW_DATE = _b("reviewFor"), _b("reviewDate")
P_RATINGS = tuple(_b(f"rating{i}") for i in range(1, 5))
USD = f"{BSBM}USD"


@dataclass(frozen=True)
class SourceFile:
    """One generated source: its name (the publisher), N-Triples file, kind and number of triples."""

    name: str
    path: Path
    kind: str  # "catalog" | "vendor" | "ratingsite"
    triples: int

    @property
    def title(self) -> str:
        """A human title for the dataset this source becomes in the demo marketplace."""
        if self.kind == "catalog":
            return "Product catalog"
        number = self.name.removeprefix(self.kind)
        return f"Vendor {number} offers" if self.kind == "vendor" else f"Rating site {number} reviews"


def source_names(n_vendors: int, n_ratingsites: int) -> list[tuple[str, str]]:
    """(name, kind) of every source, in the order generate() returns them."""
    return (
        [("catalog", "catalog")]
        + [(f"vendor{k}", "vendor") for k in range(n_vendors)]
        + [(f"ratingsite{k}", "ratingsite") for k in range(n_ratingsites)]
    )


def lit(text: str) -> str:
    # Generated text is letters and spaces only; escape anyway so the writer never emits broken N-Triples.
    if '"' in text or "\\" in text or "\n" in text:
        text = text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
    return f'"{text}"'


def typed(value: object, datatype: str) -> str:
    return f'"{value}"^^<{datatype}>'


def integer(value: int) -> str:
    return f'"{value}"^^<{XSD}integer>'


def datetime_lit(day: date) -> str:
    return f'"{day.isoformat()}T00:00:00"^^<{XSD}dateTime>'


class _Sink:
    """Buffered N-Triples writer for one source that counts what it writes."""

    def __init__(self, path: Path, name: str, kind: str) -> None:
        self.path, self.name, self.kind = path, name, kind
        self.file: TextIO = open(path, "w", encoding="utf-8", newline="\n")
        self.buf: list[str] = []
        self.count = 0
        # Local descriptions (types, features, producers) written so far: emitted once, on first use.
        self.seen: set[tuple[str, int]] = set()

    def add(self, s: str, p: str, o: str) -> None:
        self.buf.append(f"{s} {p} {o} .\n")
        if len(self.buf) >= 8192:
            self.flush()

    def flush(self) -> None:
        self.count += len(self.buf)
        self.file.write("".join(self.buf))
        self.buf.clear()

    def close(self) -> SourceFile:
        self.flush()
        self.file.close()
        return SourceFile(self.name, self.path, self.kind, self.count)


def _write_catalog_header(sink: _Sink, scale: Scale) -> None:
    catalog = "<http://www.catalog.fr/Catalog>"
    sink.add(catalog, LABEL, lit("Product catalog"))
    for t in range(1, scale.n_types + 1):
        s = inst("ProductType", t)
        sink.add(s, A, C_TYPE)
        sink.add(s, LABEL, lit(f"product type {WORDS[t % len(WORDS)]}"))
        sink.add(s, COMMENT, lit(f"{WORDS[(t * 7) % len(WORDS)]} {WORDS[(t * 13) % len(WORDS)]}"))
        parent = scale.parent_type(t)
        if parent is not None:
            sink.add(s, SUBCLASS, inst("ProductType", parent))
        sink.add(s, PUBLISHER, catalog)
    for f in range(1, scale.n_features + 1):
        s = inst("ProductFeature", f)
        sink.add(s, A, C_FEATURE)
        sink.add(s, LABEL, lit(_feature_label(f)))
        sink.add(s, COMMENT, lit(f"{WORDS[(f * 11) % len(WORDS)]} {WORDS[(f * 17) % len(WORDS)]}"))
    for m in range(1, scale.n_producers + 1):
        s = inst("Producer", m)
        sink.add(s, A, C_PRODUCER)
        sink.add(s, LABEL, lit(_producer_label(m)))
        sink.add(s, COMMENT, lit(f"{WORDS[(m * 19) % len(WORDS)]} {WORDS[(m * 23) % len(WORDS)]}"))
        sink.add(s, P_COUNTRY, f"<{COUNTRY}{site_country(scale, 10_000 + m)}>")
        sink.add(s, HOMEPAGE, f"<http://www.producer{m}.com/>")


def _feature_label(f: int) -> str:
    return f"feature {WORDS[(f * 31) % len(WORDS)]}"


def _producer_label(m: int) -> str:
    return f"{WORDS[(m * 37) % len(WORDS)]} {WORDS[(m * 41) % len(WORDS)]} corp"


def _write_product_body(sink: _Sink, s: str, product: Product, type_iri, feature_iri, producer_iri) -> None:
    sink.add(s, A, C_PRODUCT)
    for t in product.types:
        sink.add(s, A, type_iri(t))
    sink.add(s, LABEL, lit(product.label))
    sink.add(s, COMMENT, lit(product.comment))
    sink.add(s, P_PRODUCER, producer_iri(product.producer))
    for f in product.features:
        sink.add(s, P_FEATURE, feature_iri(f))
    for pred, value in zip(P_TEXTUAL, product.textual, strict=True):
        if value is not None:
            sink.add(s, pred, lit(value))
    for pred, value in zip(P_NUMERIC, product.numeric, strict=True):
        if value is not None:
            sink.add(s, pred, integer(value))


def _write_catalog_product(sink: _Sink, product: Product) -> None:
    s = inst("Product", product.id)
    _write_product_body(
        sink,
        s,
        product,
        lambda t: inst("ProductType", t),
        lambda f: inst("ProductFeature", f),
        lambda m: inst("Producer", m),
    )
    sink.add(s, PUBLISHER, inst("Producer", product.producer))


def _local_entity(sink: _Sink, kind: str, n: int, label: str, rdf_class: str) -> str:
    iri = local(sink.name, kind, n)
    if (kind, n) not in sink.seen:
        sink.seen.add((kind, n))
        sink.add(iri, SAME_AS, inst(kind, n))
        sink.add(iri, A, rdf_class)
        sink.add(iri, LABEL, lit(label))
    return iri


def _write_local_copy(sink: _Sink, product: Product) -> str:
    """A source's own copy of a catalog product (FedShop style); returns the local product IRI."""
    s = local(sink.name, "Product", product.id)
    canonical = inst("Product", product.id)
    sink.add(s, SAME_AS, canonical)
    _write_product_body(
        sink,
        s,
        product,
        lambda t: _local_entity(sink, "ProductType", t, f"product type {WORDS[t % len(WORDS)]}", C_TYPE),
        lambda f: _local_entity(sink, "ProductFeature", f, _feature_label(f), C_FEATURE),
        lambda m: _local_entity(sink, "Producer", m, _producer_label(m), C_PRODUCER),
    )
    # The same triples as the catalog's: held by several sources, counted once in the RDF merge.
    sink.add(canonical, A, C_PRODUCT)
    sink.add(canonical, LABEL, lit(product.label))
    return s


def _write_offer(sink: _Sink, offer: Offer, local_product: str, vendor_iri: str) -> None:
    s = local(sink.name, "Offer", offer.id)
    sink.add(s, A, C_OFFER)
    sink.add(s, P_PRODUCT, local_product)
    sink.add(s, P_VENDOR, vendor_iri)
    sink.add(s, P_PRICE, typed(f"{offer.price_cents // 100}.{offer.price_cents % 100:02d}", USD))
    sink.add(s, P_FROM, datetime_lit(offer.valid_from))
    sink.add(s, P_TO, datetime_lit(offer.valid_to))
    sink.add(s, P_DAYS, integer(offer.delivery_days))
    sink.add(s, P_PAGE, f"<http://www.{sink.name}.fr/Offer{offer.id}/page>")
    sink.add(s, PUBLISHER, vendor_iri)


def _write_review(sink: _Sink, review: Review, local_product: str, site_iri: str) -> None:
    s = local(sink.name, "Review", review.id)
    sink.add(s, A, C_REVIEW)
    sink.add(s, P_REVIEW_FOR, local_product)
    sink.add(s, REVIEWER, local(sink.name, "Reviewer", review.reviewer))
    sink.add(s, P_REVIEW_DATE, datetime_lit(review.day))
    sink.add(s, TITLE, lit(review.title))
    sink.add(s, TEXT, f"{lit(review.text)}@{review.lang}")
    for pred, value in zip(P_RATINGS, review.ratings, strict=True):
        if value is not None:
            sink.add(s, pred, integer(value))
    sink.add(s, PUBLISHER, site_iri)


def _write_vendor_header(sink: _Sink, scale: Scale, k: int) -> str:
    v = local(sink.name, "Vendor", k)
    sink.add(v, A, C_VENDOR)
    sink.add(v, LABEL, lit(f"{WORDS[(k * 43) % len(WORDS)]} shop {k}"))
    sink.add(v, COMMENT, lit(f"vendor {k} of the demo marketplace"))
    sink.add(v, P_COUNTRY, f"<{COUNTRY}{vendor_country(scale, k)}>")
    sink.add(v, HOMEPAGE, f"<http://www.{sink.name}.fr/>")
    return v


def _write_site_header(sink: _Sink, scale: Scale, k: int) -> str:
    site = local(sink.name, "RatingSite", k)
    sink.add(site, A, C_SITE)
    sink.add(site, LABEL, lit(f"rating site {k}"))
    sink.add(site, P_COUNTRY, f"<{COUNTRY}{site_country(scale, k)}>")
    for m in range(scale.persons_per_site):
        person = local(sink.name, "Reviewer", m)
        sink.add(person, A, PERSON)
        name = f"{FIRST_NAMES[(m + k) % len(FIRST_NAMES)]} {LAST_NAMES[(m * 7 + k) % len(LAST_NAMES)]}"
        sink.add(person, NAME, lit(name.title()))
        sink.add(person, MBOX, lit(hashlib.sha1(f"{sink.name}/{m}".encode()).hexdigest()))
        sink.add(person, P_COUNTRY, f"<{COUNTRY}{site_country(scale, 1000 + m)}>")
        sink.add(person, PUBLISHER, site)
    return site


def generate(
    out_dir: str | os.PathLike[str], *, n_products: int, n_vendors: int, n_ratingsites: int, seed: int = 0
) -> list[SourceFile]:
    """Write catalog.nt, vendor<k>.nt and ratingsite<k>.nt under out_dir; same arguments, same bytes."""
    scale = Scale(n_products, n_vendors, n_ratingsites, seed)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    sinks = [_Sink(out / f"{name}.nt", name, kind) for name, kind in source_names(n_vendors, n_ratingsites)]
    catalog, vendors, sites = sinks[0], sinks[1 : 1 + n_vendors], sinks[1 + n_vendors :]
    try:
        _write_catalog_header(catalog, scale)
        vendor_iris = [_write_vendor_header(sink, scale, k) for k, sink in enumerate(vendors)]
        site_iris = [_write_site_header(sink, scale, k) for k, sink in enumerate(sites)]
        for product in products(scale):
            _write_catalog_product(catalog, product)
            copies: dict[int, str] = {}
            for offer in product.offers:
                sink = vendors[offer.vendor]
                if offer.vendor not in copies:
                    copies[offer.vendor] = _write_local_copy(sink, product)
                _write_offer(sink, offer, copies[offer.vendor], vendor_iris[offer.vendor])
            copies = {}
            for review in product.reviews:
                sink = sites[review.site]
                if review.site not in copies:
                    copies[review.site] = _write_local_copy(sink, product)
                _write_review(sink, review, copies[review.site], site_iris[review.site])
    finally:
        results = [sink.close() for sink in sinks]
    return results
