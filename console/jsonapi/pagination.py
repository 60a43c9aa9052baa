"""One pagination for every JSON API list: `limit` (1..1000, default 100) and `offset` in the query, and
`{"count", "next", "previous", "results"}` in the answer (a list may add fields of its own beside them); a value out
of range is a 400 InvalidParameter."""

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from itertools import islice

from django.db.models import QuerySet
from drf_spectacular.utils import OpenApiParameter
from rest_framework import serializers
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


def page_serializer(name: str, row: serializers.Serializer, **fields: serializers.Field) -> type:
    """The OpenAPI shape of a page of `row`s (named `<name>Page`), with a list's `fields` of its own."""
    page = {
        "count": serializers.IntegerField(),
        "next": serializers.URLField(allow_null=True),
        "previous": serializers.URLField(allow_null=True),
        "results": row,
    }
    return type(f"{name}Page", (serializers.Serializer,), {**page, **fields})


@dataclass(frozen=True)
class Page:
    limit: int
    offset: int

    @classmethod
    def of(cls, request: Request) -> "Page":
        return cls(_number(request, "limit", DEFAULT_LIMIT, 1, MAX_LIMIT), _number(request, "offset", 0, 0, MAX_OFFSET))

    @property
    def end(self) -> int:
        return self.offset + self.limit

    def window(self, rows: Iterable, count: int | None = None) -> tuple[int, list]:
        """(how many rows there are, this page's rows). A QuerySet is counted and sliced by the database; other rows
        are read only as far as this page when `count` is known, else walked to the end keeping only this page's."""
        if isinstance(rows, QuerySet):
            return rows.count(), list(rows[self.offset : self.end])
        if count is not None:
            return count, list(islice(rows, self.offset, self.end))
        count, chosen = 0, []
        for row in rows:
            if self.offset <= count < self.end:
                chosen.append(row)
            count += 1
        return count, chosen

    def body(self, request: Request, count: int, results: list) -> dict:
        url = request.build_absolute_uri()
        next_url = replace_query_param(url, "offset", self.end) if self.end < count else None
        previous = None
        if self.offset > 0:
            back = max(self.offset - self.limit, 0)
            previous = replace_query_param(url, "offset", back) if back else remove_query_param(url, "offset")
        return {"count": count, "next": next_url, "previous": previous, "results": results}

    def respond(self, request: Request, rows: Iterable, render: Callable[[list], list]) -> Response:
        """This page of `rows`, rendered, with links to its neighbours; the other rows are never held."""
        count, chosen = self.window(rows)
        return Response(self.body(request, count, render(chosen)))
