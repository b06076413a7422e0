"""Command line: ``federate --endpoint URL ... [--format F] [--provenance] [--partial] QUERY_FILE``."""

from __future__ import annotations

import argparse
import json
import sys
from typing import IO

from .errors import FederationError, QuerySyntaxError, SourceError, UnsupportedQuery
from .federation import Federation
from .results import FORMATS, serialize, to_json_dict
from .sources import RemoteEndpoint

EXIT_OK, EXIT_FAILED, EXIT_SYNTAX = 0, 1, 2


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # argparse exits by itself otherwise
        raise _UsageError(message)


class _UsageError(Exception):
    pass


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="federate", description="Evaluate a SPARQL 1.1 query over federated endpoints.")
    parser.add_argument("--endpoint", action="append", required=True, help="SPARQL endpoint URL (repeat)")
    parser.add_argument("--format", choices=FORMATS, default=None, help="result format (default json)")
    parser.add_argument("--provenance", action="store_true", help="add provenance to the JSON results")
    parser.add_argument("--partial", action="store_true", help="answer without failed sources")
    parser.add_argument("--timeout", type=float, default=30.0, help="seconds per request")
    parser.add_argument("query_file")
    return parser


def _write(stream: IO, data: bytes) -> None:
    buffer = getattr(stream, "buffer", None)
    if buffer is not None:
        buffer.write(data)
        buffer.flush()
    else:
        stream.write(data.decode())


def main(argv: list[str] | None = None, stdout: IO | None = None, stderr: IO | None = None) -> int:
    stdout = stdout or sys.stdout
    stderr = stderr or sys.stderr
    try:
        args = build_parser().parse_args(argv)
    except _UsageError as exc:
        stderr.write(f"federate: {exc}\n")
        return EXIT_SYNTAX
    try:
        with open(args.query_file, encoding="utf-8") as handle:
            text = handle.read()
    except OSError as exc:
        stderr.write(f"federate: cannot read {args.query_file}: {exc.strerror}\n")
        return EXIT_FAILED
    names: dict[str, int] = {}
    endpoints = []
    for url in args.endpoint:
        names[url] = names.get(url, 0) + 1
        name = url if names[url] == 1 else f"{url}#{names[url]}"
        endpoints.append(RemoteEndpoint(url, name=name, timeout=args.timeout))
    federation = Federation(endpoints)
    try:
        result = federation.query(text, provenance=args.provenance, partial=args.partial)
    except QuerySyntaxError as exc:
        stderr.write(f"federate: syntax error: {exc.message}\n")
        return EXIT_SYNTAX
    except UnsupportedQuery as exc:
        stderr.write(f"federate: unsupported query: {exc}\n")
        return EXIT_SYNTAX
    except SourceError as exc:
        stderr.write(f"federate: {exc}\n")
        return EXIT_FAILED
    except FederationError as exc:
        stderr.write(f"federate: {exc}\n")
        return EXIT_FAILED
    fmt = args.format or ("ntriples" if result.kind == "CONSTRUCT" else "json")
    try:
        if fmt == "json" and result.kind != "CONSTRUCT":
            data = json.dumps(to_json_dict(result, args.provenance), ensure_ascii=False).encode()
        else:
            data = serialize(result, fmt)
    except ValueError as exc:
        stderr.write(f"federate: {exc}\n")
        return EXIT_SYNTAX
    _write(stdout, data)
    if result.partial:
        failed = ", ".join(f"{name} ({reason})" for name, reason in sorted(result.failed_sources.items()))
        stderr.write(f"federate: partial answer, failed sources: {failed}\n")
    return EXIT_OK
