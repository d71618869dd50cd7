"""Reading an uploaded file no further than a size limit.

Django's own handlers store an upload (in memory, then in a temporary file) before any form
sees it, however large it is. `LimitedUploadHandler`, put first in `request.upload_handlers`
before the body is read, stops the upload at the limit: a request that declares a body far
over it is not read at all, and a file that grows past it is dropped at the chunk that
crosses it, with the rest of the request left unread.
"""

from __future__ import annotations

from django.core.files.uploadhandler import FileUploadHandler, StopUpload
from django.http import QueryDict
from django.utils.datastructures import MultiValueDict

# Room in a request for the other form fields and the multipart framing around the file.
FORM_OVERHEAD_BYTES = 64 * 1024


class LimitedUploadHandler(FileUploadHandler):
    """Passes uploaded files on to the next handlers until they hold more than `max_bytes`.

    After the body is read, `exceeded` says whether the limit stopped it and `received` how
    many bytes of file content were read.
    """

    def __init__(self, max_bytes: int, request=None) -> None:
        super().__init__(request)
        self.max_bytes = max_bytes
        self.received = 0
        self.exceeded = False

    def handle_raw_input(
        self, input_data, META, content_length: int, boundary, encoding: str | None = None
    ):
        """A body declared far over the limit is refused before a byte of it is read."""
        if content_length > self.max_bytes + FORM_OVERHEAD_BYTES:
            self.exceeded = True
            return QueryDict(encoding=encoding), MultiValueDict()
        return None

    def receive_data_chunk(self, raw_data: bytes, start: int) -> bytes:
        self.received += len(raw_data)
        if self.received > self.max_bytes:
            self.exceeded = True
            # The chunk that crosses the limit goes no further, and nothing more is read.
            raise StopUpload(connection_reset=True)
        return raw_data

    def file_complete(self, file_size: int) -> None:
        return None  # the next handler makes the uploaded file
