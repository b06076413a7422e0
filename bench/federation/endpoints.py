"""Generate a FedShop-like world of a target size, load one Oxigraph store per source and serve them.

Each endpoint is served by `oxigraph serve-read-only` on loopback, behind a counting proxy (proxy.py),
so every engine is measured on the same endpoints with the same counters.
"""

from __future__ import annotations

import json
import math
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

from marketplace.demo.fedshop import SourceFile, generate

ROOT = Path(__file__).resolve().parents[2]
OXIGRAPH = ROOT / ".venv" / "bin" / "oxigraph"
HERE = Path(__file__).resolve().parent
MERGED = "merged"


@dataclass(frozen=True)
class World:
    """A generated world: its size parameters and source files."""

    n_products: int
    n_vendors: int
    n_ratingsites: int
    seed: int
    sources: list[SourceFile]

    @property
    def triples(self) -> int:
        return sum(s.triples for s in self.sources)


def split_sources(n_endpoints: int) -> tuple[int, int]:
    """(vendors, rating sites) for n_endpoints sources, one of which is the catalog."""
    if n_endpoints < 3:
        raise ValueError("at least 3 endpoints: a catalog, a vendor and a rating site")
    n_vendors = n_endpoints // 2
    return n_vendors, n_endpoints - 1 - n_vendors


def build_world(target_triples: int, n_endpoints: int, data_dir: Path, seed: int = 0) -> World:
    """Generate at least target_triples triples over n_endpoints sources (reused if already there)."""
    n_vendors, n_sites = split_sources(n_endpoints)
    with tempfile.TemporaryDirectory() as probe_dir:
        probe = generate(probe_dir, n_products=1000, n_vendors=n_vendors, n_ratingsites=n_sites, seed=seed)
        per_product = sum(s.triples for s in probe) / 1000
    n_products = max(50, math.ceil(target_triples / per_product * 1.01))
    manifest = data_dir / "world.json"
    while True:
        if manifest.exists():
            saved = json.loads(manifest.read_text())
            if saved["args"] == [n_products, n_vendors, n_sites, seed]:
                sources = [SourceFile(s[0], Path(s[1]), s[2], s[3]) for s in saved["sources"]]
                world = World(n_products, n_vendors, n_sites, seed, sources)
                if world.triples >= target_triples:
                    return world
        if data_dir.exists():
            shutil.rmtree(data_dir)
        sources = generate(
            data_dir / "nt", n_products=n_products, n_vendors=n_vendors, n_ratingsites=n_sites, seed=seed
        )
        world = World(n_products, n_vendors, n_sites, seed, sources)
        manifest.write_text(
            json.dumps(
                {
                    "args": [n_products, n_vendors, n_sites, seed],
                    "sources": [[s.name, str(s.path), s.kind, s.triples] for s in sources],
                }
            )
        )
        if world.triples >= target_triples:
            return world
        n_products = math.ceil(n_products * target_triples / world.triples * 1.01)


def free_ports(n: int) -> list[int]:
    """n distinct free ports: the sockets stay open until all are chosen, so no port is handed out twice
    (two servers given one port would leave one source unserved and the other served twice)."""
    sockets = []
    try:
        for _ in range(n):
            sock = socket.socket()
            sock.bind(("127.0.0.1", 0))
            sockets.append(sock)
        return [sock.getsockname()[1] for sock in sockets]
    finally:
        for sock in sockets:
            sock.close()


def _wait_http(url: str, deadline_s: float = 30.0) -> None:
    deadline = time.monotonic() + deadline_s
    while True:
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                response.read()
                return
        except OSError:
            if time.monotonic() > deadline:
                raise RuntimeError(f"{url} did not answer within {deadline_s} s") from None
            time.sleep(0.05)


@dataclass
class Cluster:
    """Running Oxigraph endpoints behind counting proxies; stop() ends every process it started."""

    names: list[str]
    direct_urls: list[str]
    urls: list[str]  # through the counting proxies: what the engines are given
    control_url: str
    merged_url: str  # one endpoint holding the RDF merge of every source
    processes: list[subprocess.Popen] = field(default_factory=list)

    def reset_counters(self) -> None:
        request = urllib.request.Request(self.control_url + "/reset", method="POST", data=b"")
        urllib.request.urlopen(request, timeout=10).read()

    def wait_quiet(self, quiet_s: float = 0.3, deadline_s: float = 15.0) -> None:
        """Wait until no request arrives for quiet_s: an engine that stopped at a LIMIT may still be
        downloading in the background, which must not be billed to the next query."""
        deadline = time.monotonic() + deadline_s
        while True:
            self.reset_counters()
            time.sleep(quiet_s)
            if self.counters() == (0, 0) or time.monotonic() > deadline:
                self.reset_counters()
                return

    def counters(self) -> tuple[int, int]:
        """(requests, response bytes) summed over all endpoints since the last reset."""
        with urllib.request.urlopen(self.control_url + "/stats", timeout=10) as response:
            stats = json.loads(response.read())
        return sum(v[0] for v in stats.values()), sum(v[1] for v in stats.values())

    def stop(self) -> None:
        for process in self.processes:
            if process.poll() is None:
                process.terminate()
        for process in self.processes:
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def load_stores(world: World, store_dir: Path) -> list[Path]:
    """One Oxigraph store per source, then the merged store last (loaded two at a time: two cores)."""
    marker = store_dir / "loaded.json"
    locations = [store_dir / s.name for s in world.sources]
    expected = [s.name for s in world.sources] + [MERGED]
    locations.append(store_dir / MERGED)
    if marker.exists() and json.loads(marker.read_text()) == expected:
        return locations
    if store_dir.exists():
        shutil.rmtree(store_dir)
    store_dir.mkdir(parents=True)
    pending = [(location, [str(s.path)]) for s, location in zip(world.sources, locations[:-1], strict=True)]
    # The merged store: every source in one endpoint, the centralised peer.
    pending.append((store_dir / MERGED, [str(s.path) for s in world.sources]))
    running: list[subprocess.Popen] = []
    while pending or running:
        while pending and len(running) < 2:
            location, files = pending.pop(0)
            running.append(
                subprocess.Popen(
                    [str(OXIGRAPH), "load", "--location", str(location), "--file", *files],
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.DEVNULL,
                )
            )
        for process in list(running):
            if process.poll() is not None:
                if process.returncode != 0:
                    raise RuntimeError(f"oxigraph load failed: {process.args}")
                running.remove(process)
        time.sleep(0.02)
    marker.write_text(json.dumps(expected))
    return locations


def start_cluster(world: World, locations: list[Path], latency_ms: float = 0.0) -> Cluster:
    """Serve every source's store, and the merged store (last location), each behind a counting proxy: the
    engines and the centralised peer reach their endpoints through the same path."""
    processes: list[subprocess.Popen] = []
    names = [s.name for s in world.sources]
    try:
        chosen = free_ports(2 * len(locations) + 1)
        ports, proxy_ports, control = chosen[: len(locations)], chosen[len(locations) : -1], chosen[-1]
        for location, port in zip(locations, ports, strict=True):
            processes.append(
                subprocess.Popen(
                    [
                        str(OXIGRAPH),
                        "serve-read-only",
                        "--location",
                        str(location),
                        "--bind",
                        f"127.0.0.1:{port}",
                    ],
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.DEVNULL,
                )
            )
        proxy = subprocess.Popen(
            [sys.executable, str(HERE / "proxy.py"), str(control), f"--latency={latency_ms}"]
            + [f"{p}:{t}" for p, t in zip(proxy_ports, ports, strict=True)],
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
        )
        processes.append(proxy)
        ask = "?query=ASK%7B%7D"
        for port in ports:
            _wait_http(f"http://127.0.0.1:{port}/query{ask}")
        dead = [p.args for p in processes if p.poll() is not None]
        if dead:
            raise RuntimeError(f"endpoints exited at start (port taken?): {dead}")
        assert proxy.stdout is not None
        if proxy.stdout.readline().strip() != "ready":
            raise RuntimeError("counting proxy did not start")
        for port in proxy_ports:
            _wait_http(f"http://127.0.0.1:{port}/query{ask}")
        cluster = Cluster(
            names=names,
            direct_urls=[f"http://127.0.0.1:{p}/query" for p in ports[:-1]],
            urls=[f"http://127.0.0.1:{p}/query" for p in proxy_ports[:-1]],
            control_url=f"http://127.0.0.1:{control}",
            merged_url=f"http://127.0.0.1:{proxy_ports[-1]}/query",
            processes=processes,
        )
        cluster.reset_counters()
        return cluster
    except BaseException:
        Cluster(names, [], [], "", "", processes).stop()
        raise
