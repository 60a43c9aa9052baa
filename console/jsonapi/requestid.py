"""X-Request-Id on every /api/ response: the caller's own id when it is a short safe token, else a fresh UUID.
The same id goes into the audit rows the request writes, so an operator can join a client's log to the server's."""

import re
import uuid
from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

HEADER = "X-Request-Id"
SAFE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:-]{0,63}")  # nothing a log line or a header could be split on
API_PREFIX = "/api/"


def request_id_of(request) -> str:
    """The id RequestIdMiddleware gave `request` (a Django or a DRF request); empty outside /api/."""
    return getattr(request, "kinko_request_id", "")  # a DRF Request reads it through to its HttpRequest


class RequestIdMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if not request.path.startswith(API_PREFIX):
            return self.get_response(request)
        offered = request.headers.get(HEADER, "")
        request.kinko_request_id = offered if SAFE.fullmatch(offered) else str(uuid.uuid4())
        response = self.get_response(request)
        response[HEADER] = request.kinko_request_id
        return response
