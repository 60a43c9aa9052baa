"""The baseline of bench/objects.py: about the least a Python object server must do, as a bare WSGI app.

PUT streams the body in 1 MiB chunks to a temp file while computing its MD5, fsyncs it, renames it into place and
answers 200 with the MD5 as ETag. GET streams the file back in 1 MiB chunks with Content-Length and ETag; HEAD
answers with Content-Length and ETag only; a missing object is a 404. Every other method answers 204.

Any Host and any path are accepted and authentication is ignored, so an unmodified COS SDK client (IP/Port mode)
drives it exactly as it drives Kinko. Objects live in $BASELINE_DATA_DIR under a hash of Host and path, each with
a small `.etag` sidecar. Run it under gunicorn: `gunicorn --pythonpath bench baseline_app:application`.
"""

import hashlib
import os
import uuid
from collections.abc import Callable, Iterable, Iterator
from typing import BinaryIO

CHUNK_BYTES = 1024 * 1024
DATA_DIR = os.environ["BASELINE_DATA_DIR"]
TMP_DIR = os.path.join(DATA_DIR, "tmp")
os.makedirs(TMP_DIR, exist_ok=True)

StartResponse = Callable[[str, list[tuple[str, str]]], object]


def object_path(environ: dict) -> str:
    name = f"{environ.get('HTTP_HOST', '')}{environ.get('PATH_INFO', '/')}"
    return os.path.join(DATA_DIR, hashlib.sha256(name.encode("utf-8", "surrogateescape")).hexdigest())


def request_chunks(environ: dict) -> Iterator[bytes]:
    """The request body in chunks of at most 1 MiB: Content-Length bytes, or up to EOF for a chunked body."""
    body: BinaryIO = environ["wsgi.input"]
    header = environ.get("CONTENT_LENGTH")
    remaining = int(header) if header else None
    while remaining is None or remaining > 0:
        chunk = body.read(CHUNK_BYTES if remaining is None else min(CHUNK_BYTES, remaining))
        if not chunk:
            if remaining is not None:
                raise OSError("the request body ended early")
            return
        if remaining is not None:
            remaining -= len(chunk)
        yield chunk


def store(environ: dict, path: str) -> str:
    """Write the body durably at `path` (temp file, fsync, rename) and return its MD5 hex digest."""
    digest = hashlib.md5()
    tmp = os.path.join(TMP_DIR, f"{uuid.uuid4().hex}.part")
    try:
        with open(tmp, "xb", buffering=0) as file:
            for chunk in request_chunks(environ):
                digest.update(chunk)
                view = memoryview(chunk)
                while view:
                    view = view[file.write(view) :]
            os.fsync(file.fileno())
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    etag = digest.hexdigest()
    with open(f"{path}.etag", "w") as sidecar:
        sidecar.write(etag)
    return etag


class FileChunks:
    """A WSGI response body: an open file read in 1 MiB chunks, closed by the server when done."""

    def __init__(self, file: BinaryIO) -> None:
        self._file = file

    def __iter__(self) -> Iterator[bytes]:
        while chunk := self._file.read(CHUNK_BYTES):
            yield chunk

    def close(self) -> None:
        self._file.close()


def read_object(path: str, method: str, start_response: StartResponse) -> Iterable[bytes]:
    try:
        file = open(path, "rb", buffering=0)  # noqa: SIM115 - closed by FileChunks or below
    except FileNotFoundError:
        start_response("404 Not Found", [("Content-Length", "0")])
        return []
    try:
        with open(f"{path}.etag") as sidecar:
            etag = sidecar.read()
    except FileNotFoundError:
        etag = ""
    headers = [
        ("Content-Length", str(os.fstat(file.fileno()).st_size)),
        ("Content-Type", "application/octet-stream"),
        ("ETag", f'"{etag}"'),
    ]
    start_response("200 OK", headers)
    if method == "HEAD":
        file.close()
        return []
    return FileChunks(file)


def application(environ: dict, start_response: StartResponse) -> Iterable[bytes]:
    method = environ["REQUEST_METHOD"]
    path = object_path(environ)
    if method == "PUT":
        etag = store(environ, path)
        start_response("200 OK", [("Content-Length", "0"), ("ETag", f'"{etag}"')])
        return []
    if method in ("GET", "HEAD"):
        return read_object(path, method, start_response)
    start_response("204 No Content", [])
    return []
