"""Streaming an artifact over HTTP: ETag (the SHA-256), conditional requests and single byte ranges.

Whole files go out as a FileResponse over the open file, so a WSGI server with `wsgi.file_wrapper` (gunicorn)
uses sendfile; ranges go out through a reader that stops at the range's end. Nothing reads a whole file."""

from __future__ import annotations

import re

from django.http import FileResponse, HttpRequest, HttpResponse
from django.utils.http import content_disposition_header

from .models import Artifact

BLOCK = 1024 * 1024
_RANGE = re.compile(r"^bytes=(\d*)-(\d*)$")


class RangeReader:
    """Reads at most `length` bytes from `start` of an open file; no fileno, so servers iterate it."""

    def __init__(self, handle, start: int, length: int):
        self.handle, self.remaining = handle, length
        handle.seek(start)

    def read(self, size: int = -1) -> bytes:
        if self.remaining <= 0:
            return b""
        size = self.remaining if size is None or size < 0 else min(size, self.remaining)
        data = self.handle.read(size)
        self.remaining -= len(data)
        return data

    def close(self) -> None:
        self.handle.close()


def parse_range(header: str, size: int) -> tuple[int, int] | None | str:
    """(start, end inclusive), None to send the whole file, or "unsatisfiable"."""
    match = _RANGE.match(header.strip().replace(" ", ""))
    if not match:
        return None  # several ranges or a syntax we do not serve: the whole file is a valid answer
    first, last = match.groups()
    if first == "" and last == "":
        return None
    if first == "":
        length = int(last)
        if length == 0:
            return "unsatisfiable"
        return max(size - length, 0), size - 1
    start = int(first)
    end = size - 1 if last == "" else min(int(last), size - 1)
    if start >= size or (last != "" and int(last) < start):
        return "unsatisfiable"
    return start, end


def _etag_matches(header: str, etag: str) -> bool:
    tags = [t.strip().removeprefix("W/") for t in header.split(",")]
    return "*" in tags or etag in tags


def artifact_response(request: HttpRequest, artifact: Artifact) -> tuple[HttpResponse, bool]:
    """The response for GET/HEAD of the artifact, and whether it counts as a download."""
    etag = f'"{artifact.sha256}"'
    size = artifact.size_bytes
    base_headers = {"ETag": etag, "Accept-Ranges": "bytes", "Cache-Control": "private, max-age=0"}
    if _etag_matches(request.headers.get("If-None-Match", ""), etag):
        response = HttpResponse(status=304)
        for key, value in base_headers.items():
            response[key] = value
        return response, False
    wanted = None
    range_header = request.headers.get("Range")
    if range_header:
        if_range = request.headers.get("If-Range")
        if not if_range or if_range.strip() == etag:
            wanted = parse_range(range_header, size)
    if wanted == "unsatisfiable":
        response = HttpResponse(status=416)
        response["Content-Range"] = f"bytes */{size}"
        for key, value in base_headers.items():
            response[key] = value
        return response, False
    handle = artifact.file.open("rb")
    if request.method == "HEAD":
        handle.close()
        response = HttpResponse(status=200)
        response["Content-Length"] = str(size)
    elif wanted is None:
        response = FileResponse(handle, as_attachment=True, filename=artifact.filename)
        response.block_size = BLOCK
    else:
        start, end = wanted
        response = FileResponse(RangeReader(handle, start, end - start + 1), status=206)
        response.block_size = BLOCK
        response["Content-Range"] = f"bytes {start}-{end}/{size}"
        response["Content-Length"] = str(end - start + 1)
        response["Content-Disposition"] = content_disposition_header(True, artifact.filename)
    response["Content-Type"] = "application/octet-stream"
    for key, value in base_headers.items():
        response[key] = value
    counts = request.method == "GET" and (wanted is None or wanted[0] == 0)
    return response, counts
