"""The baseline of the benchmarks: about the least a Python object server must do, as a bare WSGI app.

PUT streams the body in 1 MiB chunks to a temp file while computing its MD5, fsyncs it, renames it into place and
answers 200 with the MD5 as ETag. GET streams the file back in 1 MiB chunks with Content-Length, ETag and
Last-Modified; a `Range: bytes=a-b` (or `a-`, `-n`) GET answers 206 with Content-Range and only those bytes; HEAD
answers with the headers only; a missing object is a 404.

Multipart, as far as the COS SDK's upload_file uses it: `GET /?uploads` lists no uploads; `POST ?uploads` returns
a new UploadId; `PUT ?partNumber&uploadId` stores the part like a PUT (MD5 ETag); `POST ?uploadId` concatenates
the listed parts, streaming 1 MiB at a time, into the object (fsync, rename; ETag = MD5 of the parts' MD5s, dash,
part count) and removes the parts. Every other method answers 204.

Any Host and any path are accepted and authentication is ignored, so an unmodified COS SDK client (IP/Port mode)
drives it exactly as it drives Kinko. Objects live in $BASELINE_DATA_DIR under a hash of Host and path, each with
a small `.etag` sidecar. Run it under gunicorn: `gunicorn --pythonpath bench baseline_app:application`.
"""

import hashlib
import os
import re
import shutil
import uuid
from collections.abc import Callable, Iterable, Iterator
from email.utils import formatdate
from typing import BinaryIO
from urllib.parse import parse_qs

CHUNK_BYTES = 1024 * 1024
DATA_DIR = os.environ["BASELINE_DATA_DIR"]
TMP_DIR = os.path.join(DATA_DIR, "tmp")
UPLOADS_DIR = os.path.join(DATA_DIR, "uploads")
os.makedirs(TMP_DIR, exist_ok=True)
os.makedirs(UPLOADS_DIR, exist_ok=True)
RANGE = re.compile(r"bytes=(\d*)-(\d*)$")
PART_NUMBER = re.compile(rb"<PartNumber>\s*(\d+)\s*</PartNumber>")
UPLOAD_ID = re.compile(r"[0-9a-f]{32}$")

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


def write_all(fd: int, chunk: bytes) -> None:
    view = memoryview(chunk)
    while view:
        view = view[os.write(fd, view) :]


def write_durably(path: str, chunks: Iterable[bytes], digest: "hashlib._Hash | None") -> None:
    """Write the chunks at `path` (temp file, fsync, rename), feeding them to `digest` if given."""
    tmp = os.path.join(TMP_DIR, f"{uuid.uuid4().hex}.part")
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            for chunk in chunks:
                if digest is not None:
                    digest.update(chunk)
                write_all(fd, chunk)
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def write_etag(path: str, etag: str) -> None:
    with open(f"{path}.etag", "w") as sidecar:
        sidecar.write(etag)


def store(environ: dict, path: str) -> str:
    """Write the body durably at `path` and return its MD5 hex digest (also kept in the `.etag` sidecar)."""
    digest = hashlib.md5()
    write_durably(path, request_chunks(environ), digest)
    etag = digest.hexdigest()
    write_etag(path, etag)
    return etag


class FileChunks:
    """A WSGI response body: `length` bytes of an open file read in 1 MiB chunks, closed by the server when done."""

    def __init__(self, file: BinaryIO, length: int) -> None:
        self._file = file
        self._remaining = length

    def __iter__(self) -> Iterator[bytes]:
        while self._remaining > 0:
            chunk = self._file.read(min(CHUNK_BYTES, self._remaining))
            if not chunk:
                return
            self._remaining -= len(chunk)
            yield chunk

    def close(self) -> None:
        self._file.close()


def byte_range(header: str | None, size: int) -> tuple[int, int] | None:
    """(first, last) of a single `bytes=` range, clamped to the object; None when absent or unusable."""
    match = RANGE.match(header or "")
    if not match or not (match[1] or match[2]):
        return None
    if not match[1]:  # the last n bytes
        return max(0, size - int(match[2])), size - 1
    first = int(match[1])
    last = min(int(match[2]), size - 1) if match[2] else size - 1
    return (first, last) if first <= last else None


def read_object(environ: dict, path: str, method: str, start_response: StartResponse) -> Iterable[bytes]:
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
    stat = os.fstat(file.fileno())
    headers = [
        ("Content-Type", "application/octet-stream"),
        ("ETag", f'"{etag}"'),
        ("Last-Modified", formatdate(stat.st_mtime, usegmt=True)),
        ("Accept-Ranges", "bytes"),
    ]
    wanted = byte_range(environ.get("HTTP_RANGE"), stat.st_size) if method == "GET" else None
    if wanted is None:
        first, length, status = 0, stat.st_size, "200 OK"
    else:
        first, length, status = wanted[0], wanted[1] - wanted[0] + 1, "206 Partial Content"
        headers.append(("Content-Range", f"bytes {wanted[0]}-{wanted[1]}/{stat.st_size}"))
    headers.append(("Content-Length", str(length)))
    start_response(status, headers)
    if method == "HEAD":
        file.close()
        return []
    file.seek(first)
    return FileChunks(file, length)


# -- multipart --------------------------------------------------------------------------------------------


def xml_response(start_response: StartResponse, body: str) -> list[bytes]:
    data = f'<?xml version="1.0" encoding="UTF-8"?>\n{body}'.encode()
    start_response("200 OK", [("Content-Type", "application/xml"), ("Content-Length", str(len(data)))])
    return [data]


def upload_dir(query: dict[str, list[str]]) -> str | None:
    upload_id = query.get("uploadId", [""])[0]
    return os.path.join(UPLOADS_DIR, upload_id) if UPLOAD_ID.match(upload_id) else None


def list_uploads(start_response: StartResponse) -> list[bytes]:
    return xml_response(
        start_response,
        "<ListMultipartUploadsResult><Bucket></Bucket><Encoding-Type></Encoding-Type><KeyMarker></KeyMarker>"
        "<UploadIdMarker></UploadIdMarker><NextKeyMarker></NextKeyMarker><NextUploadIdMarker></NextUploadIdMarker>"
        "<MaxUploads>1000</MaxUploads><IsTruncated>false</IsTruncated><Prefix></Prefix><Delimiter></Delimiter>"
        "</ListMultipartUploadsResult>",
    )


def initiate(environ: dict, start_response: StartResponse) -> list[bytes]:
    upload_id = uuid.uuid4().hex
    os.mkdir(os.path.join(UPLOADS_DIR, upload_id))
    key = environ.get("PATH_INFO", "/").lstrip("/")
    return xml_response(
        start_response,
        f"<InitiateMultipartUploadResult><Bucket></Bucket><Key>{key}</Key><UploadId>{upload_id}</UploadId>"
        "</InitiateMultipartUploadResult>",
    )


def complete(environ: dict, directory: str, path: str, start_response: StartResponse) -> list[bytes]:
    body = b"".join(request_chunks(environ))
    numbers = [int(number) for number in PART_NUMBER.findall(body)]
    parts = [os.path.join(directory, str(number)) for number in numbers]
    md5s = []
    for part in parts:
        with open(f"{part}.etag") as sidecar:
            md5s.append(sidecar.read())

    def concatenated() -> Iterator[bytes]:
        for part in parts:
            with open(part, "rb", buffering=0) as file:
                while chunk := file.read(CHUNK_BYTES):
                    yield chunk

    write_durably(path, concatenated(), None)
    etag = f"{hashlib.md5(b''.join(bytes.fromhex(md5) for md5 in md5s)).hexdigest()}-{len(parts)}"
    write_etag(path, etag)
    shutil.rmtree(directory, ignore_errors=True)
    key = environ.get("PATH_INFO", "/").lstrip("/")
    return xml_response(
        start_response,
        f"<CompleteMultipartUploadResult><Location></Location><Bucket></Bucket><Key>{key}</Key>"
        f'<ETag>"{etag}"</ETag></CompleteMultipartUploadResult>',
    )


def application(environ: dict, start_response: StartResponse) -> Iterable[bytes]:
    method = environ["REQUEST_METHOD"]
    query = parse_qs(environ.get("QUERY_STRING", ""), keep_blank_values=True)
    path = object_path(environ)
    directory = upload_dir(query)
    if method == "GET" and "uploads" in query:
        return list_uploads(start_response)
    if method == "POST" and "uploads" in query:
        return initiate(environ, start_response)
    if directory is not None and "uploadId" in query and not os.path.isdir(directory):
        start_response("404 Not Found", [("Content-Length", "0")])
        return []
    if method == "PUT" and directory is not None and "partNumber" in query:
        part = os.path.join(directory, str(int(query["partNumber"][0])))
        etag = store(environ, part)
        start_response("200 OK", [("Content-Length", "0"), ("ETag", f'"{etag}"')])
        return []
    if method == "POST" and directory is not None:
        return complete(environ, directory, path, start_response)
    if method == "PUT":
        etag = store(environ, path)
        start_response("200 OK", [("Content-Length", "0"), ("ETag", f'"{etag}"')])
        return []
    if method in ("GET", "HEAD"):
        return read_object(environ, path, method, start_response)
    start_response("204 No Content", [])
    return []
