"""Peak memory of the upload loader alone (no web, no worker), in a fresh process per size, so that growth
with the file size is visible without the rest of the product around it.

    .venv/bin/python bench/ingest/loader_memory.py [--sizes 300000 1000000 3000000]
"""

import argparse
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))


def measure(size: int, work: Path) -> None:
    """Run in a child process: write the file, load it, print 'seconds peak_mb'."""
    import pyoxigraph as ox

    from bench.ingest.run import write_ntriples
    from marketplace.catalog.services.formats import BY_KEY
    from marketplace.catalog.services.loader import load

    data = work / f"{size}.nt"
    write_ntriples(data, size)
    baseline = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    store = ox.Store(str(work / f"store-{size}"))
    started = time.perf_counter()
    with open(data, "rb") as stream:
        load(store, stream, BY_KEY["ntriples"], base_iri="http://bench.example/", progress=lambda: None)
    store.flush()
    assert len(store) == size
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(f"{time.perf_counter() - started:.2f} {peak / 1024:.0f} {baseline / 1024:.0f}")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", type=int, nargs="+", default=[300_000, 1_000_000, 3_000_000])
    parser.add_argument("--child", type=int)
    parser.add_argument("--work")
    args = parser.parse_args()
    if args.child:
        measure(args.child, Path(args.work))
        return
    print("| triples | load s | peak RSS MB | RSS before loading MB |")
    print("|---|---|---|---|")
    for size in args.sizes:
        work = Path(tempfile.mkdtemp(prefix="bench-loader-"))
        try:
            out = subprocess.run(
                [sys.executable, __file__, "--child", str(size), "--work", str(work)],
                check=True,
                capture_output=True,
                text=True,
            ).stdout.split()
        finally:
            shutil.rmtree(work, ignore_errors=True)
        print(f"| {size:,} | {out[0]} | {out[1]} | {out[2]} |")


if __name__ == "__main__":
    main()
