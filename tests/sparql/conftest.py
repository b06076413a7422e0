"""Fixtures: Oxigraph endpoints on loopback holding the generated shop data split three ways."""

from __future__ import annotations

import pyoxigraph as ox
import pytest

from tests.servers import FaultyServer, OxigraphServer

from .generated import generate, split


@pytest.fixture(scope="session")
def shop_lines() -> list[str]:
    return generate()


@pytest.fixture(scope="session")
def shop_parts(shop_lines) -> list[list[str]]:
    return split(shop_lines)


@pytest.fixture(scope="session")
def shop_endpoints(shop_parts, tmp_path_factory):
    """Three read-only Oxigraph servers, each loaded with one part of the shop data."""
    servers = []
    try:
        for i, part in enumerate(shop_parts):
            root = tmp_path_factory.mktemp(f"shop{i}")
            data = root / "data.nt"
            data.write_text("\n".join(part) + "\n")
            servers.append(OxigraphServer(location=root / "db", data=data))
        yield servers
    finally:
        for server in servers:
            server.stop()


@pytest.fixture(scope="session")
def merged_store(shop_lines) -> ox.Store:
    """The reference: one store holding the RDF merge of all parts."""
    store = ox.Store()
    store.load("\n".join(shop_lines).encode(), format=ox.RdfFormat.N_TRIPLES)
    return store


@pytest.fixture(scope="session")
def w3c_endpoints():
    """Three writable Oxigraph servers; each W3C test replaces their default graphs."""
    servers = []
    try:
        for _ in range(3):
            servers.append(OxigraphServer(writable=True))
        yield servers
    finally:
        for server in servers:
            server.stop()


@pytest.fixture
def junk_server():
    server = FaultyServer("junk")
    yield server
    server.stop()


@pytest.fixture
def slow_server():
    server = FaultyServer("slow", delay=10.0)
    yield server
    server.stop()
