"""What a source's summary costs: `sparql.summarize` with and without the membership filter, over a hosted
store of the whole FedShop-like world (the merge of every source, the largest single dataset).

    .venv/bin/python bench/federation/summary_cost.py                 # 1M triples (after run.py, reuses its data)
    .venv/bin/python bench/federation/summary_cost.py --triples 100000

Prints seconds and the summary's size as JSON (what the catalog stores per dataset).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from endpoints import MERGED, build_world, load_stores  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--triples", type=int, default=1_000_000)
    parser.add_argument("--endpoints", type=int, default=20)
    parser.add_argument("--workdir", default="/tmp/fedbench")
    args = parser.parse_args()

    import pyoxigraph as ox

    from sparql import HostedStore, summarize

    data_dir = Path(args.workdir) / f"t{args.triples}-e{args.endpoints}-s0"
    world = build_world(args.triples, args.endpoints, data_dir)
    locations = load_stores(world, data_dir / "stores")
    merged = next(p for p in locations if p.name == MERGED)
    store = HostedStore(ox.Store.read_only(str(merged)), name=MERGED)
    print(f"hosted store of {world.triples:,} triples ({len(world.sources)} sources merged)")
    print("| membership filter | seconds | summary JSON MB | filter KiB |")
    print("| --- | ---: | ---: | ---: |")
    for members in (False, True):
        started = time.perf_counter()
        summary = summarize(store, members=members)
        seconds = time.perf_counter() - started
        bits = (summary.get("members") or {}).get("bits")
        kib = f"{bits / 8 / 1024:,.0f}" if bits else "-"
        print(f"| {'with' if members else 'without'} | {seconds:.1f} | {len(json.dumps(summary)) / 1e6:.2f} | {kib} |")


if __name__ == "__main__":
    main()
