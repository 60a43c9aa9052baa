"""Request headers as the COS layer needs them: raw bytes for signatures, text for metadata, parsed fields."""

import base64
import binascii

from django.http import HttpRequest
from gunicorn.http.errors import ParseException

from buckets import errors, tagging
from buckets.service import ObjectAttributes
from core import underscores

# Kept verbatim from PUT and returned on GET/HEAD, in the exact case the SDK reads them.
STORED_HEADERS = ("Cache-Control", "Content-Disposition", "Content-Encoding", "Content-Language", "Expires")
RESPONSE_OVERRIDES = {
    "response-content-type": "Content-Type",
    "response-content-language": "Content-Language",
    "response-expires": "Expires",
    "response-cache-control": "Cache-Control",
    "response-content-disposition": "Content-Disposition",
    "response-content-encoding": "Content-Encoding",
}
META_PREFIX = "x-cos-meta-"
MAX_METADATA_BYTES = 2048


class RequestBody:
    """A request body whose framing errors (a malformed chunked encoding, a client gone) read as OSError, which
    the service answers with IncompleteBody: gunicorn reports bad chunks as its own ParseException."""

    def __init__(self, stream) -> None:
        self._stream = stream

    def read(self, size: int = -1) -> bytes:
        try:
            return self._stream.read(size)
        except ParseException as exc:
            raise OSError(f"malformed request body: {type(exc).__name__}") from exc


def header_safe(text: str) -> bool:
    """Whether `text` can be a header value: no control characters (CR, LF, NUL, DEL, …; tab is allowed)."""
    return not any((ord(c) < 0x20 and c != "\t") or ord(c) == 0x7F for c in text)


def check_attributes(headers: dict[str, str], metadata: dict[str, str]) -> None:
    """What PUT and POST Object both refuse: unsendable header values and metadata over the limit."""
    for name, value in [*headers.items(), *metadata.items()]:
        if not header_safe(value):
            raise errors.InvalidArgument(f"{name} must not contain control characters.")
    if sum(len(k) + len(v.encode()) for k, v in metadata.items()) > MAX_METADATA_BYTES:
        raise errors.MetadataTooLarge(f"x-cos-meta-* headers may total at most {MAX_METADATA_BYTES} bytes.")


def raw_headers(request: HttpRequest) -> dict[str, bytes]:
    """Lowercase header name → the bytes sent (WSGI hands them over Latin-1 decoded, PEP 3333)."""
    headers = {}
    for name, value in request.META.items():
        if name.startswith("HTTP_"):
            headers[name[5:].lower().replace("_", "-")] = value.encode("latin-1")
        elif name in ("CONTENT_TYPE", "CONTENT_LENGTH"):
            headers[name.lower().replace("_", "-")] = value.encode("latin-1")
    headers.pop(underscores.CARRIER.lower(), None)
    for name, value in _underscored_meta(request):
        headers[name] = value.encode("latin-1")
    return headers


def _underscored_meta(request: HttpRequest) -> list[tuple[str, str]]:
    """x-cos-meta-* headers whose names hold `_`, as sent (core.underscores)."""
    return underscores.carried(request.META.get(underscores.CARRIER_ENVIRON, ""))


def to_text(wire: str) -> str:
    """A header value as sent (Latin-1 decoded by WSGI) → the text the client meant (UTF-8 when valid)."""
    raw = wire.encode("latin-1")
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return wire


def to_wire(text: str) -> str:
    """Text → a WSGI header value carrying its UTF-8 bytes."""
    return text.encode("utf-8").decode("latin-1")


def content_length(request: HttpRequest) -> int | None:
    """The declared body length; None for a chunked body. PUT without either → 411."""
    value = request.META.get("CONTENT_LENGTH", "")
    if value:
        if not value.isdecimal():
            raise errors.InvalidArgument("Content-Length must be a non-negative integer.")
        return int(value)
    if "chunked" in request.META.get("HTTP_TRANSFER_ENCODING", "").lower():
        return None
    raise errors.MissingContentLength()


def content_md5(request: HttpRequest) -> bytes | None:
    value = request.META.get("HTTP_CONTENT_MD5")
    if value is None:
        return None
    try:
        digest = base64.b64decode(value.strip(), validate=True)
    except (binascii.Error, ValueError):
        raise errors.InvalidDigest() from None
    if len(digest) != 16:
        raise errors.InvalidDigest()
    return digest


def object_attributes(request: HttpRequest) -> ObjectAttributes:
    meta = request.META
    headers = {}
    for name in STORED_HEADERS:
        value = meta.get("HTTP_" + name.upper().replace("-", "_"))
        if value is not None:
            headers[name] = to_text(value)
    metadata = {}
    for name, value in meta.items():
        if name.startswith("HTTP_X_COS_META_"):
            metadata[name[5:].lower().replace("_", "-")] = to_text(value)
    for name, value in _underscored_meta(request):
        metadata[name] = to_text(value)
    content_type = to_text(meta.get("CONTENT_TYPE") or "application/octet-stream")
    check_attributes({**headers, "Content-Type": content_type}, metadata)
    return ObjectAttributes(
        content_type=content_type,
        headers=headers,
        metadata=metadata,
        storage_class=meta.get("HTTP_X_COS_STORAGE_CLASS", "STANDARD").upper(),
        tags=tagging.parse_tagging_header(to_text(meta.get("HTTP_X_COS_TAGGING", ""))),
    )
