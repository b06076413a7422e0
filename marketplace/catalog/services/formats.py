"""The RDF serialisations the marketplace accepts for hosted datasets, recognised by file name."""

from dataclasses import dataclass

import pyoxigraph as ox


@dataclass(frozen=True)
class RdfFormatInfo:
    key: str
    label: str
    extensions: tuple[str, ...]
    oxigraph: ox.RdfFormat


FORMATS = [
    RdfFormatInfo("turtle", "Turtle", (".ttl", ".turtle"), ox.RdfFormat.TURTLE),
    RdfFormatInfo("ntriples", "N-Triples", (".nt", ".ntriples"), ox.RdfFormat.N_TRIPLES),
    RdfFormatInfo("nquads", "N-Quads", (".nq", ".nquads"), ox.RdfFormat.N_QUADS),
    RdfFormatInfo("trig", "TriG", (".trig",), ox.RdfFormat.TRIG),
    RdfFormatInfo("rdfxml", "RDF/XML", (".rdf", ".owl", ".xml"), ox.RdfFormat.RDF_XML),
    RdfFormatInfo("jsonld", "JSON-LD", (".jsonld", ".json"), ox.RdfFormat.JSON_LD),
]
BY_KEY = {f.key: f for f in FORMATS}
COMPRESSIONS = {".gz": "gzip"}


class UnsupportedFormat(ValueError):
    pass


def detect(filename: str, declared: str | None = None) -> tuple[RdfFormatInfo, str]:
    """Return the format and compression ('' or 'gzip') of an upload, from its name or a declared format."""
    name = filename.lower()
    compression = ""
    for suffix, kind in COMPRESSIONS.items():
        if name.endswith(suffix):
            name, compression = name[: -len(suffix)], kind
    if declared:
        if declared not in BY_KEY:
            raise UnsupportedFormat(f"Unknown format '{declared}'. Choose one of: {', '.join(BY_KEY)}.")
        return BY_KEY[declared], compression
    for info in FORMATS:
        if name.endswith(info.extensions):
            return info, compression
    accepted = ", ".join(ext for f in FORMATS for ext in f.extensions)
    raise UnsupportedFormat(
        f"Cannot tell the RDF format of '{filename}'. Accepted extensions: {accepted} (optionally .gz)."
    )
