"""Real servers for tests: an `oxigraph serve` SPARQL endpoint on a free loopback port."""

import shutil
import socket
import subprocess
import sys
import tempfile
from pathlib import Path

import requests

OXIGRAPH = str(Path(sys.executable).with_name("oxigraph"))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class OxigraphServer:
    """`oxigraph serve-read-only` over a store loaded from an RDF file; `url` is its SPARQL query endpoint."""

    def __init__(self, data_file: Path):
        self.dir = Path(tempfile.mkdtemp(prefix="oxigraph-"))
        subprocess.run(
            [OXIGRAPH, "load", "--location", str(self.dir), "--file", str(data_file)], check=True, capture_output=True
        )
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}/query"
        self.process = subprocess.Popen(
            [OXIGRAPH, "serve-read-only", "--location", str(self.dir), "--bind", f"127.0.0.1:{self.port}"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        from tests.conftest import wait_until

        wait_until(self._ready, timeout=20, message=f"oxigraph on port {self.port}")

    def _ready(self) -> bool:
        try:
            return requests.get(self.url, params={"query": "ASK {}"}, timeout=1).status_code == 200
        except requests.RequestException:
            return False

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=10)
        shutil.rmtree(self.dir, ignore_errors=True)
