"""The marketplace catalog as RDF, free to query at /sparql: publishers, datasets (VoID and DCAT), price models,
and the model hub's models when that app provides them."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass

import pyoxigraph as ox
from django.conf import settings
from django.db import connection

from marketplace.accounts.models import Organisation
from marketplace.catalog.selectors import datasets_visible_to
from marketplace.catalog.services.describe import dataset_triples
from marketplace.money.currency import currency_code

from . import catalog_version

logger = logging.getLogger(__name__)

RDF_TYPE = ox.NamedNode("http://www.w3.org/1999/02/22-rdf-syntax-ns#type")
FOAF = "http://xmlns.com/foaf/0.1/"
DCT = "http://purl.org/dc/terms/"
SCHEMA = "https://schema.org/"
XSD = "http://www.w3.org/2001/XMLSchema#"


def market_ns() -> str:
    return f"{settings.SITE_URL}/vocab/market#"


def _int(n: int) -> ox.Literal:
    return ox.Literal(str(n), datatype=ox.NamedNode(XSD + "integer"))


def price_model_triples(dataset) -> list[ox.Triple]:
    model = getattr(dataset, "price_model", None)
    if model is None:
        return []
    mkt = market_ns()
    node = ox.NamedNode(f"{dataset.iri}#price")
    out = [
        ox.Triple(ox.NamedNode(dataset.iri), ox.NamedNode(mkt + "priceModel"), node),
        ox.Triple(ox.NamedNode(dataset.iri), ox.NamedNode(SCHEMA + "offers"), node),
        ox.Triple(node, RDF_TYPE, ox.NamedNode(mkt + "PriceModel")),
        ox.Triple(node, RDF_TYPE, ox.NamedNode(SCHEMA + "Offer")),
        ox.Triple(node, ox.NamedNode(mkt + "kind"), ox.NamedNode(mkt + model.kind)),
        ox.Triple(node, ox.NamedNode(SCHEMA + "priceCurrency"), ox.Literal(currency_code())),
    ]
    if model.kind in ("per_triple", "per_row"):
        out.append(
            ox.Triple(
                node,
                ox.NamedNode(mkt + "rate"),
                ox.Literal(str(model.rate), datatype=ox.NamedNode(XSD + "decimal")),
            )
        )
    if model.kind == "access_fee":
        out.append(ox.Triple(node, ox.NamedNode(mkt + "accessFee"), _int(model.access_fee)))
    if model.subscription_price is not None:
        out.append(ox.Triple(node, ox.NamedNode(mkt + "subscriptionPrice"), _int(model.subscription_price)))
        out.append(ox.Triple(node, ox.NamedNode(mkt + "subscriptionPeriodDays"), _int(model.subscription_period_days)))
    return out


def _modelhub_triples() -> list[ox.Triple]:
    try:
        from modelhub.rdf import catalog_triples
    except ImportError:
        return []
    try:
        return [t for t in catalog_triples() if isinstance(t, ox.Triple)]
    except Exception:  # the data catalog must answer even if the model hub's part fails
        logger.exception("modelhub.rdf.catalog_triples failed; the catalog is served without models")
        return []


# Tags, predicate lists and the model hub are not under the catalog version: a kept store is rebuilt after this
# many seconds even when the version has not moved.
STORE_TTL = 30.0


@dataclass
class _Kept:
    version: int
    built: float
    store: ox.Store


_kept: _Kept | None = None


def catalog_store() -> ox.Store:
    """The public catalog as an in-memory store (small: descriptions, not data; queried, never changed).

    Building it reads the catalog from the database: 26 ms a request on the demo catalog
    (`bench/market/catalog.py`). So each process keeps it while the catalog version is unchanged, for at most
    STORE_TTL seconds. Inside a transaction nothing is used or kept: the version shows the transaction's own
    writes only at commit, and those could still be rolled back."""
    global _kept
    version = catalog_version.current(connection)
    usable = version is not None and not connection.in_atomic_block
    kept = _kept
    if usable and kept is not None and kept.version == version and time.monotonic() - kept.built < STORE_TTL:
        return kept.store
    built = time.monotonic()
    store = _build_store()
    if usable:
        _kept = _Kept(version, built, store)
    return store


def _build_store() -> ox.Store:
    triples: list[ox.Triple] = []
    for org in Organisation.objects.filter(status=Organisation.Status.APPROVED):
        node = ox.NamedNode(f"{settings.SITE_URL}/publishers/{org.slug}")
        triples += [
            ox.Triple(node, RDF_TYPE, ox.NamedNode(FOAF + "Organization")),
            ox.Triple(node, ox.NamedNode(FOAF + "name"), ox.Literal(org.name)),
        ]
        if org.homepage:
            triples.append(ox.Triple(node, ox.NamedNode(FOAF + "homepage"), ox.NamedNode(org.homepage)))
    datasets = (
        datasets_visible_to(user=None)
        .select_related("publisher", "summary", "price_model")
        .prefetch_related("tags", "predicates", "classes")
    )
    for dataset in datasets:
        triples += dataset_triples(dataset, vocabulary="void")
        triples += dataset_triples(dataset, vocabulary="dcat")
        triples += price_model_triples(dataset)
    triples += _modelhub_triples()
    store = ox.Store()
    store.extend(ox.Quad(t.subject, t.predicate, t.object, ox.DefaultGraph()) for t in triples)
    return store
