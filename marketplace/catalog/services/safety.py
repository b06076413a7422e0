"""Defences against hostile input: XML entity expansion in RDF/XML and endpoint URLs that reach private networks."""

import ipaddress
import re
import socket
from typing import BinaryIO
from urllib.parse import urlsplit

ENTITY_DECL = re.compile(rb"<!ENTITY\s+(%\s+)?([^\s]+)\s+(SYSTEM|PUBLIC|\"([^\"]*)\"|'([^']*)')", re.I)
MAX_ENTITY_VALUE = 2048
PROLOG_SCAN_BYTES = 1024 * 1024


class UnsafeInput(ValueError):
    pass


def check_xml_entities(stream: BinaryIO) -> None:
    """Refuse RDF/XML whose DOCTYPE could expand without bound (billion laughs) or read files (XXE).

    Plain entities used as namespace abbreviations are fine: each expands to a bounded string once.
    """
    head = stream.read(PROLOG_SCAN_BYTES)
    stream.seek(0)
    if b"<!ENTITY" not in head.upper():
        return
    for match in ENTITY_DECL.finditer(head):
        if match.group(1):
            raise UnsafeInput("RDF/XML with parameter entities is refused (entity expansion).")
        if match.group(3).upper() in (b"SYSTEM", b"PUBLIC"):
            raise UnsafeInput("RDF/XML with external entities is refused (they could read server files).")
        value = match.group(4) if match.group(4) is not None else match.group(5) or b""
        if b"&" in value or b"%" in value:
            raise UnsafeInput("RDF/XML whose entities refer to other entities is refused (entity expansion bomb).")
        if len(value) > MAX_ENTITY_VALUE:
            raise UnsafeInput(f"RDF/XML entity values longer than {MAX_ENTITY_VALUE} characters are refused.")
    declared = head.upper().count(b"<!ENTITY")
    if declared != len(ENTITY_DECL.findall(head)):
        raise UnsafeInput("RDF/XML with entity declarations this server cannot check is refused.")


def check_public_url(url: str, *, allow_private: bool) -> None:
    """Refuse URLs that are not http(s) or that resolve to loopback, private, link-local or reserved addresses."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https"):
        raise UnsafeInput("The endpoint URL must start with http:// or https://.")
    if not parts.hostname:
        raise UnsafeInput("The endpoint URL has no host.")
    if parts.username or parts.password:
        raise UnsafeInput("Put credentials in the username and password fields, not in the URL.")
    if allow_private:
        return
    try:
        infos = socket.getaddrinfo(parts.hostname, parts.port or (443 if parts.scheme == "https" else 80))
    except socket.gaierror as exc:
        raise UnsafeInput(f"The endpoint host '{parts.hostname}' does not resolve.") from exc
    for info in infos:
        address = ipaddress.ip_address(info[4][0].split("%")[0])
        if not address.is_global or address.is_multicast:
            raise UnsafeInput(
                f"The endpoint host '{parts.hostname}' resolves to {address}, a private or loopback address;"
                " the marketplace only contacts public endpoints."
            )
