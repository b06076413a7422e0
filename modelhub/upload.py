"""A streaming upload handler: every chunk is hashed (SHA-256) and written to a temporary file as it arrives,
so no upload is ever held in memory; too large or interrupted uploads leave nothing behind."""

from __future__ import annotations

import hashlib

from django.conf import settings
from django.core.files.uploadedfile import TemporaryUploadedFile
from django.core.files.uploadhandler import FileUploadHandler, StopFutureHandlers, StopUpload
from django.http import HttpRequest


class HashedUploadedFile(TemporaryUploadedFile):
    """A temporary file with its SHA-256 and size; storages move it (`temporary_file_path`) instead of copying."""

    sha256: str = ""


def upload_limit() -> int:
    return int(settings.MODELHUB_UPLOAD_MAX_BYTES)


def content_length(request: HttpRequest) -> int:
    try:
        return int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return 0


def too_large_by_header(request: HttpRequest, limit: int | None = None) -> bool:
    """Refuse before reading the body: the multipart framing adds a little, the file alone must fit."""
    limit = upload_limit() if limit is None else limit
    return content_length(request) > limit + 64 * 1024


class HashingUploadHandler(FileUploadHandler):
    """Write file fields to a temporary file chunk by chunk while hashing; stop the upload past the limit."""

    chunk_size = 1024 * 1024

    def __init__(self, request=None, limit: int | None = None):
        super().__init__(request)
        self.limit = upload_limit() if limit is None else limit
        self.too_large = False
        self.files: list[HashedUploadedFile] = []  # every temporary file made, so that all can be discarded
        self._hash = None
        self._received = 0

    def new_file(self, *args, **kwargs):
        super().new_file(*args, **kwargs)
        # `file` is the name the multipart parser closes on StopUpload
        self.file = HashedUploadedFile(self.file_name, self.content_type, 0, self.charset, self.content_type_extra)
        self.files.append(self.file)
        self._hash = hashlib.sha256()
        self._received = 0
        raise StopFutureHandlers()

    def receive_data_chunk(self, raw_data: bytes, start: int):
        self._received += len(raw_data)
        if self._received > self.limit:
            self.too_large = True
            self.discard()
            raise StopUpload(connection_reset=True)
        self._hash.update(raw_data)
        self.file.write(raw_data)
        return None

    def file_complete(self, file_size: int):
        self.file.seek(0)
        self.file.size = file_size
        self.file.sha256 = self._hash.hexdigest()
        return self.file

    def upload_interrupted(self) -> None:
        self.discard()

    def discard(self) -> None:
        """Delete the temporary files now (closing a NamedTemporaryFile removes it; closing twice is harmless)."""
        for file in self.files:
            file.close()


def install(request: HttpRequest, limit: int | None = None) -> HashingUploadHandler:
    """Make `request` stream its files through a new HashingUploadHandler; call before touching POST/FILES."""
    handler = HashingUploadHandler(request, limit)
    request.upload_handlers = [handler]
    return handler
