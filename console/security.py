"""Transport and browser security: X-Forwarded-* believed only from KINKO_TRUSTED_PROXIES, HSTS and Secure cookies
whenever the request came over TLS, CSP and referrer policy on console pages, who may read /metrics, and concise
security log lines."""

import hmac
import ipaddress
import logging
from collections.abc import Callable

from django.conf import settings
from django.core.exceptions import BadRequest
from django.http import HttpRequest, HttpResponse
from django.http.request import split_domain_port, validate_host
from django.urls import get_resolver

CSP = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "connect-src 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
        "base-uri 'self'",
        "object-src 'none'",
    ]
)

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def _address(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(text.strip())
    except ValueError:
        return None


def _last(value: str) -> str:
    """The entry the nearest proxy wrote into a comma-separated forwarding header."""
    return value.rsplit(",", 1)[-1].strip()


class TrustedProxyMiddleware:
    """From a peer in KINKO_TRUSTED_PROXIES (a reverse proxy such as nginx), X-Forwarded-Proto sets the request's
    scheme, X-Forwarded-For its REMOTE_ADDR (what qcs:ip and login throttling see) and X-Forwarded-Host its Host.
    From anyone else they are ignored; gunicorn is told to trust nobody, so this is the only place that decides."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response
        self.proxies: list[Network] = [ipaddress.ip_network(p, strict=False) for p in settings.KINKO_TRUSTED_PROXIES]

    def is_trusted(self, address: ipaddress.IPv4Address | ipaddress.IPv6Address | None) -> bool:
        return address is not None and any(address in network for network in self.proxies)

    def __call__(self, request: HttpRequest) -> HttpResponse:
        meta = request.META
        if self.proxies and self.is_trusted(_address(meta.get("REMOTE_ADDR", ""))):
            self.apply_forwarded(meta)
        return self.get_response(request)

    def apply_forwarded(self, meta: dict) -> None:
        proto = _last(meta.get("HTTP_X_FORWARDED_PROTO", "")).lower()
        if proto in ("http", "https"):
            meta["wsgi.url_scheme"] = proto
        client = self.forwarded_client(meta.get("HTTP_X_FORWARDED_FOR", ""))
        if client is not None:
            meta["REMOTE_ADDR"] = client
        host = _last(meta.get("HTTP_X_FORWARDED_HOST", ""))
        if host and validate_host(split_domain_port(host)[0], ["*"]):
            meta["HTTP_HOST"] = host

    def forwarded_client(self, forwarded_for: str) -> str | None:
        """The first address from the right that is not one of our proxies: each proxy appends the peer it saw, so
        what lies left of it is the client's own claim."""
        client = None
        for entry in reversed([entry for entry in forwarded_for.split(",") if entry.strip()]):
            address = _address(entry)
            if address is None:
                break
            client = str(address)
            if not self.is_trusted(address):
                break
        return client


def may_read_metrics(request: HttpRequest) -> bool:
    """A client at an address KINKO_METRICS_ALLOW lists (REMOTE_ADDR, as TrustedProxyMiddleware left it), or one
    sending `Authorization: Bearer <KINKO_METRICS_TOKEN>` from anywhere."""
    token = settings.KINKO_METRICS_TOKEN
    sent = request.META.get("HTTP_AUTHORIZATION", "")
    if token and hmac.compare_digest(sent.encode(), f"Bearer {token}".encode()):
        return True
    address = _address(request.META.get("REMOTE_ADDR", ""))
    allowed = (ipaddress.ip_network(entry, strict=False) for entry in settings.KINKO_METRICS_ALLOW)
    return address is not None and any(address in network for network in allowed)


class TransportSecurityMiddleware:
    """Over TLS (the HTTPS listener, or a trusted proxy's X-Forwarded-Proto: https) every response carries HSTS and
    every cookie is Secure. Plain HTTP stays usable for development on localhost: neither is sent there."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if request.is_secure():
            if settings.SECURE_HSTS_SECONDS:
                response.setdefault("Strict-Transport-Security", f"max-age={settings.SECURE_HSTS_SECONDS}")
            for cookie in response.cookies.values():
                cookie["secure"] = True
        return response


class NulRefusalMiddleware:
    """A NUL character (%00) in the path or the query string of a console or JSON API request is a 400 before any
    view runs: no key, prefix or filter holds one, and PostgreSQL's text cannot store one. (COS requests never come
    here: they refuse it as InvalidArgument in their own format.)"""

    MESSAGE = "A NUL character (%00) is not allowed in a URL."

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        query = (value for _, values in request.GET.lists() for value in values)
        if "\x00" in request.path_info or any("\x00" in value for value in query):
            refuse = get_resolver().resolve_error_handler(400)  # console.views.bad_request: JSON under /api/
            response = refuse(request, exception=BadRequest(self.MESSAGE))
            response._has_been_logged = True  # the access log line is enough: the client's mistake
            return response
        return self.get_response(request)


class BrowserSecurityMiddleware:
    """Console pages: a strict CSP, same-origin referrers and no content sniffing."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        response.setdefault("Content-Security-Policy", CSP)
        response.setdefault("Referrer-Policy", "same-origin")
        response.setdefault("X-Content-Type-Options", "nosniff")
        return response


class WithoutTraceback(logging.Filter):
    """Drops the traceback of a record: a refused Host header or another bad request is logged as one line, and
    as a WARNING at most (Django says ERROR): the client's mistake, not the server's."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno > logging.WARNING:
            record.levelno, record.levelname = logging.WARNING, logging.getLevelName(logging.WARNING)
        record.exc_info = None
        record.exc_text = None
        record.stack_info = None
        return True
