"""Worker for run.py running our federation engine (sparql.Federation) one query per stdin line.

A fresh Federation per query, so no query profits from another's cached ASK answers. With --summaries
the sources' summaries (``sparql.summarize``: predicates and classes with counts, distinct subjects and
objects, and the IRI namespaces of subjects and objects per predicate) are computed once per set of
endpoints, before the first query (the unmeasured warm-up), and given to each.
"""

from __future__ import annotations

import json
import sys
import time


def count_rows(result: object) -> int:
    for attribute in ("rows", "bindings", "solutions"):
        value = getattr(result, attribute, None)
        if value is not None and not callable(value):
            return len(value)
    return sum(1 for _ in result)  # type: ignore[attr-defined]


def main() -> None:
    from sparql import Federation, RemoteEndpoint, summarize

    use_summaries = "--summaries" in sys.argv[1:]
    summaries: dict[tuple[str, ...], dict] = {}
    print(json.dumps({"ready": True}), flush=True)
    for line in sys.stdin:
        request = json.loads(line)
        key = tuple(request["sources"])
        if use_summaries and key not in summaries:
            summaries[key] = {f"s{i}": summarize(RemoteEndpoint(url, name=f"s{i}")) for i, url in enumerate(key)}
        started = time.perf_counter()
        try:
            federation = Federation(
                [RemoteEndpoint(url, name=f"s{i}") for i, url in enumerate(key)], summaries=summaries.get(key)
            )
            # Provenance is what the marketplace adds on top of answering; the peers do not compute it.
            result = federation.query(request["query"], provenance=False)
            stats = result.stats or {}
            answer = {
                "rows": count_rows(result),
                "seconds": time.perf_counter() - started,
                "engine_requests": stats.get("requests"),
                "engine_bytes": stats.get("bytes_received"),
            }
        except Exception as exc:  # report any engine failure as this query's error
            answer = {"error": f"{type(exc).__name__}: {exc}"[:300], "seconds": time.perf_counter() - started}
        print(json.dumps(answer), flush=True)


if __name__ == "__main__":
    main()
