"""One pagination for every paginated JSON API list: `limit` (1..1000, default 100) and `offset` in the query, and
`{"count", "next", "previous", "results"}` in the answer; a value out of range is a 400 InvalidParameter."""

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from drf_spectacular.utils import OpenApiParameter
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.utils.urls import remove_query_param, replace_query_param

from .errors import InvalidParameter

DEFAULT_LIMIT = 100
MAX_LIMIT = 1000
MAX_OFFSET = 1_000_000_000
DIGITS = re.compile(r"[0-9]{1,10}")  # ASCII only: int() also takes other scripts' digits and "1_000"

PAGE_PARAMETERS = [
    OpenApiParameter("limit", int, description=f"Rows per page, 1 to {MAX_LIMIT} (default {DEFAULT_LIMIT})."),
    OpenApiParameter("offset", int, description="Rows to skip before the page (default 0)."),
]


def _number(request: Request, name: str, default: int, low: int, high: int) -> int:
    text = request.query_params.get(name)
    if text is None:
        return default
    if not DIGITS.fullmatch(text) or not low <= int(text) <= high:
        raise InvalidParameter(name, f"{name} must be an integer from {low} to {high}.")
    return int(text)


@dataclass(frozen=True)
class Page:
    limit: int
    offset: int

    @classmethod
    def of(cls, request: Request) -> "Page":
        return cls(_number(request, "limit", DEFAULT_LIMIT, 1, MAX_LIMIT), _number(request, "offset", 0, 0, MAX_OFFSET))

    def respond(self, request: Request, rows: Iterable, render: Callable[[list], list]) -> Response:
        """Count `rows` and render only this page's; the others are never held."""
        count, chosen, end = 0, [], self.offset + self.limit
        for row in rows:
            if self.offset <= count < end:
                chosen.append(row)
            count += 1
        url = request.build_absolute_uri()
        next_url = replace_query_param(url, "offset", end) if end < count else None
        previous = None
        if self.offset > 0:
            back = max(self.offset - self.limit, 0)
            previous = replace_query_param(url, "offset", back) if back else remove_query_param(url, "offset")
        return Response({"count": count, "next": next_url, "previous": previous, "results": render(chosen)})
