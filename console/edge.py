"""What the console pages and the JSON API share at the edge: the gate's request context, redirects that stay on
this site, and download responses that never run on the console's origin."""

import re
from urllib.parse import quote

from django.http import HttpRequest, StreamingHttpResponse
from django.utils.http import url_has_allowed_host_and_scheme

import gate

DOWNLOAD_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    # A document the browser renders anyway (an old browser ignoring the attachment) gets an opaque origin and
    # runs no script.
    "Content-Security-Policy": "sandbox; default-src 'none'",
}
MEDIA_TYPE = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+/[!#$%&'*+.^_`|~0-9A-Za-z-]+(?:\s*;[\x20-\x7e]*)?")


def context_of(request: HttpRequest) -> gate.Context:
    """What policy conditions may test about the request: the client's address and whether it came over TLS."""
    return gate.Context(ip=request.META.get("REMOTE_ADDR"), secure=request.is_secure())


def same_site(request: HttpRequest, url: str | None) -> str | None:
    """`url` when it stays on this site (a path, or an absolute URL naming this host), else None."""
    if url and url_has_allowed_host_and_scheme(
        url, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return url
    return None


def content_disposition(key: str) -> str:
    """`attachment` with the object's name as RFC 6266 `filename*` (UTF-8, percent-encoded, so any key gives a
    valid header) and a printable-ASCII `filename` for clients that do not read `filename*`."""
    name = key.rsplit("/", 1)[-1] or "download"
    fallback = "".join(c if " " <= c <= "~" and c not in '"\\' else "_" for c in name)
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(name, safe='')}"


def download_response(body, key: str, content_type: str, size_bytes: int) -> StreamingHttpResponse:
    """An object's bytes as a download: an attachment, never sniffed, sandboxed if rendered at all."""
    media_type = content_type if MEDIA_TYPE.fullmatch(content_type or "") else "application/octet-stream"
    response = StreamingHttpResponse(body, content_type=media_type)
    response["Content-Length"] = str(size_bytes)
    response["Content-Disposition"] = content_disposition(key)
    for name, value in DOWNLOAD_HEADERS.items():
        response[name] = value
    return response


PREVIEW_IMAGE_TYPES = frozenset({"image/png", "image/jpeg", "image/gif", "image/webp", "image/avif", "image/bmp"})
PREVIEW_TEXT_TYPES = frozenset({"text/plain", "text/csv", "text/markdown", "application/json"})
# An image shown alone gets the browser's own inline style (centring); the frame is sandboxed, so style is harmless.
PREVIEW_CSP = "sandbox; default-src 'none'; img-src 'self'; style-src 'unsafe-inline'; frame-ancestors 'self'"


def preview_type(content_type: str) -> str | None:
    """The type an object is previewed as, inline: a raster image as itself, plain text (and text-like types) as
    text/plain. Anything else (HTML, SVG, scripts, PDFs…) is not previewed: None."""
    media_type = (content_type or "").split(";", 1)[0].strip().lower()
    if media_type in PREVIEW_IMAGE_TYPES:
        return media_type
    if media_type in PREVIEW_TEXT_TYPES:
        return "text/plain; charset=utf-8"
    return None


def preview_response(body, content_type: str, size_bytes: int) -> StreamingHttpResponse:
    """An object's bytes shown inline in the console's sandboxed preview frame: only a type preview_type allows,
    never sniffed, in an opaque origin that runs no script; framed only by the console itself."""
    media_type = preview_type(content_type)
    if media_type is None:
        raise ValueError("not a previewable type")
    response = StreamingHttpResponse(body, content_type=media_type)
    response["Content-Length"] = str(size_bytes)
    response["Content-Disposition"] = "inline"
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = PREVIEW_CSP
    return response
