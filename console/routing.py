"""Routes each request by what it is: COS XML (by Host) before anything else, the rest through Django's URLs."""

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

from buckets.api import urls as cos_urls
from buckets.api import views as cos_views


class CosApiMiddleware:
    """COS requests skip sessions, CSRF and the URL resolver: they carry their own signature and errors."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        target = cos_urls.resolve(request.META, request.path_info)
        if target is None:
            return self.get_response(request)
        return cos_views.handle(request, target)
