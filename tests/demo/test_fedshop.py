"""The FedShop-like generator: deterministic, multi-publisher, and its instantiated queries have answers."""

from __future__ import annotations

import re
import time
from pathlib import Path

import pyoxigraph as ox
import pytest

from marketplace.demo.fedshop import DEMO_SCALE, TEMPLATE_DIR, generate, instantiate_queries, source_names

SMALL = DEMO_SCALE
SAME_AS = "<http://www.w3.org/2002/07/owl#sameAs>"
INST = "http://www4.wiwiss.fu-berlin.de/bizer/bsbm/v01/instances/"


@pytest.fixture(scope="module")
def small(tmp_path_factory):
    out = tmp_path_factory.mktemp("fedshop")
    return generate(out, **SMALL)


@pytest.fixture(scope="module")
def merged(small):
    store = ox.Store()
    for source in small:
        store.bulk_load(path=str(source.path), format=ox.RdfFormat.N_TRIPLES)
    return store


def _lines(path: Path) -> set[str]:
    return set(path.read_text(encoding="utf-8").splitlines())


def test_same_arguments_write_byte_identical_files(small, tmp_path):
    again = generate(tmp_path, **SMALL)
    assert [s.name for s in again] == [s.name for s in small]
    for first, second in zip(small, again, strict=True):
        assert first.path.read_bytes() == second.path.read_bytes(), first.name


def test_another_seed_writes_other_data(small, tmp_path):
    other = generate(tmp_path, **SMALL, seed=1)
    assert other[1].path.read_bytes() != small[1].path.read_bytes()


def test_one_file_per_source_in_catalog_vendor_ratingsite_order(small):
    assert [(s.name, s.kind) for s in small] == source_names(3, 2)
    assert [s.path.name for s in small] == [f"{s.name}.nt" for s in small]


def test_reported_triple_counts_match_what_a_parser_reads(small):
    for source in small:
        store = ox.Store()
        store.bulk_load(path=str(source.path), format=ox.RdfFormat.N_TRIPLES)
        assert len(store) == source.triples, source.name
        assert source.triples == len(_lines(source.path)), f"{source.name} repeats a triple"


def test_demo_scale_gives_thousands_of_triples_per_source(small):
    for source in small:
        assert 2_000 <= source.triples <= 50_000, (source.name, source.triples)


def test_sources_have_human_titles(small):
    assert [s.title for s in small] == [
        "Product catalog",
        "Vendor 0 offers",
        "Vendor 1 offers",
        "Vendor 2 offers",
        "Rating site 0 reviews",
        "Rating site 1 reviews",
    ]


def test_a_million_triples_are_generated_quickly(tmp_path):
    started = time.perf_counter()
    sources = generate(tmp_path, n_products=4000, n_vendors=10, n_ratingsites=9)
    elapsed = time.perf_counter() - started
    assert sum(s.triples for s in sources) >= 1_000_000
    assert elapsed < 60, f"{elapsed:.1f} s"


def test_vendor_and_ratingsite_copies_link_to_shared_catalog_product_iris(small):
    linked: dict[str, set[str]] = {}
    for source in small[1:]:
        for line in _lines(source.path):
            s, p, o = line.split(" ", 2)
            if p == SAME_AS and o.startswith(f"<{INST}Product"):
                linked.setdefault(o.removesuffix(" ."), set()).add(source.name)
    catalog = small[0].path.read_text(encoding="utf-8")
    shared = [iri for iri, sources in linked.items() if len(sources) >= 2]
    assert len(shared) > 50
    assert all(f"\n{iri} " in catalog for iri in shared)
    assert {name for sources in linked.values() for name in sources} == {s.name for s in small[1:]}


def test_some_identical_triples_are_held_by_catalog_and_vendors(small):
    catalog = _lines(small[0].path)
    for vendor in small[1:4]:
        common = catalog & _lines(vendor.path)
        assert len(common) > 20, vendor.name
        assert any("rdf-schema#label" in t for t in common)


def test_the_merge_counts_a_triple_held_by_several_sources_once(small, merged):
    union = set().union(*(_lines(s.path) for s in small))
    assert len(merged) == len(union) < sum(s.triples for s in small)


def test_instantiation_is_deterministic_and_depends_on_the_seed():
    first = instantiate_queries(TEMPLATE_DIR, **SMALL)
    assert first == instantiate_queries(TEMPLATE_DIR, **SMALL)
    assert first != instantiate_queries(TEMPLATE_DIR, **SMALL, seed=3)
    assert [name for name, _ in first] == [f"q{i:02d}" for i in range(1, 13)]


@pytest.mark.parametrize("index", range(12))
def test_every_instantiated_query_parses_and_has_answers_over_the_merge(merged, index):
    name, text = instantiate_queries(TEMPLATE_DIR, **SMALL)[index]
    placeholders = (TEMPLATE_DIR / f"{name}.const.json").read_text()
    body = "\n".join(line for line in text.splitlines() if not line.lstrip().startswith("#"))
    for var in re.findall(r'"(\w+)"\s*:', placeholders):
        if var in {"query", "exclusive", "optional", "ignoreFilter"}:
            continue
        assert not re.search(rf"\?{var}\b", body), f"{name}: ?{var} left unfilled"
    rows = list(merged.query(text))
    assert rows, f"{name} has no answer"


def test_q04_skips_five_rows_and_still_answers(merged):
    text = dict(instantiate_queries(TEMPLATE_DIR, **SMALL))["q04"]
    assert "OFFSET 5" in text
    assert len(list(merged.query(text))) >= 1


def test_generator_rejects_a_world_without_vendors(tmp_path):
    with pytest.raises(ValueError):
        generate(tmp_path, n_products=10, n_vendors=0, n_ratingsites=1)
