"""Browser-facing response headers: CSP, referrer policy, and Secure cookies whenever the request came over TLS."""

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

CSP = "; ".join([
    "default-src 'self'", "script-src 'self'", "style-src 'self'", "img-src 'self' data:",
    "connect-src 'self'", "form-action 'self'", "frame-ancestors 'none'", "base-uri 'self'", "object-src 'none'",
])  # fmt: skip


class BrowserSecurityMiddleware:
    """The console works over plain HTTP on localhost for development; over HTTPS its cookies are Secure."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        response.setdefault("Content-Security-Policy", CSP)
        response.setdefault("Referrer-Policy", "same-origin")
        response.setdefault("X-Content-Type-Options", "nosniff")
        if request.is_secure():
            for cookie in response.cookies.values():
                cookie["secure"] = True
        return response
