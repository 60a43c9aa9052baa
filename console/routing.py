"""Routes each request by what it is: COS XML (by Host) before anything else, the rest through Django's URLs."""

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

from buckets.api import urls as cos_urls
from buckets.api import views as cos_views
from console import tcapi
from core import metrics


class CosApiMiddleware:
    """COS XML and API 3.0 requests skip sessions, CSRF and the URL resolver: they carry their own signatures and
    errors. API 3.0 calls are recognised before COS, as their Host is the bare server address. Each handler names
    the operation it answered for the metrics; the rest are named after their URL pattern."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if tcapi.is_api_call(request.META, request.path_info):
            return tcapi.handle(request)
        target = cos_urls.resolve(request.META, request.path_info)
        if target is not None:
            return cos_views.handle(request, target)
        response = self.get_response(request)
        match = getattr(request, "resolver_match", None)  # None: no URL pattern (a 404, or a static file)
        metrics.name_operation(request.META, "console", match.view_name if match else "unmatched")
        return response
