"""Run in a subprocess by test_uploads: stream a large multipart upload of a sparse file through the hub's
upload handler and Django's multipart parser, move it into storage, and report the peak RSS growth as JSON."""

from __future__ import annotations

import hashlib
import io
import json
import os
import resource
import sys
import time
from pathlib import Path

BOUNDARY = "----modelhubprobeboundary"
CHUNK = 1024 * 1024


class MultipartStream(io.RawIOBase):
    """A request body produced on the fly: multipart framing around the bytes of a file read chunk by chunk."""

    def __init__(self, path: Path, filename: str):
        self.prefix = (
            f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="file"; filename="{filename}"\r\n'
            "Content-Type: application/octet-stream\r\n\r\n"
        ).encode()
        self.suffix = f"\r\n--{BOUNDARY}--\r\n".encode()
        self.file = open(path, "rb")
        self.size = path.stat().st_size
        self.length = len(self.prefix) + self.size + len(self.suffix)
        self.stage = 0

    def readable(self) -> bool:
        return True

    def read(self, size: int = -1) -> bytes:
        if self.stage == 0:
            self.stage = 1
            return self.prefix
        if self.stage == 1:
            data = self.file.read(min(size if size > 0 else CHUNK, CHUNK))
            if data:
                return data
            self.stage = 2
        if self.stage == 2:
            self.stage = 3
            return self.suffix
        return b""


def peak_rss() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def main() -> None:
    work, size = Path(sys.argv[1]), int(sys.argv[2])
    os.environ["UPLOAD_TMP_ROOT"] = str(work / "tmp")
    os.environ["MEDIA_ROOT"] = str(work / "media")
    os.environ["MODELHUB_UPLOAD_MAX_BYTES"] = str(size + 1)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    django.setup()
    from django.core.files.storage import FileSystemStorage
    from django.core.handlers.wsgi import WSGIRequest

    from modelhub import upload

    source = work / "sparse.bin"
    with open(source, "wb") as out:
        out.truncate(size)  # sparse: no disk blocks, reads give zeros
    expected = hashlib.sha256()
    zeros = bytes(CHUNK)
    for _ in range(size // CHUNK):
        expected.update(zeros)
    expected.update(bytes(size % CHUNK))
    body = MultipartStream(source, "big.onnx")
    environ = {
        "REQUEST_METHOD": "POST",
        "PATH_INFO": "/",
        "SERVER_NAME": "testserver",
        "SERVER_PORT": "80",
        "wsgi.input": body,
        "wsgi.url_scheme": "http",
        "CONTENT_TYPE": f"multipart/form-data; boundary={BOUNDARY}",
        "CONTENT_LENGTH": str(body.length),
    }
    request = WSGIRequest(environ)
    handler = upload.install(request)
    baseline = peak_rss()
    started = time.perf_counter()
    uploaded = request.FILES["file"]
    parsed = time.perf_counter() - started
    storage = FileSystemStorage(location=work / "media")
    name = storage.save("artifacts/big.onnx", uploaded)
    handler.discard()
    stored = Path(storage.path(name))
    print(
        json.dumps(
            {
                "baseline_rss": baseline,
                "peak_rss": peak_rss(),
                "sha256": uploaded.sha256,
                "expected_sha256": expected.hexdigest(),
                "size": uploaded.size,
                "stored_size": stored.stat().st_size,
                "seconds": parsed,
                "tmp_left": sorted(p.name for p in (work / "tmp").iterdir()),
            }
        )
    )
    stored.unlink()


if __name__ == "__main__":
    main()
