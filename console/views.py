"""The health and metrics endpoints and the error handlers (console pages live in console/pages/).

Errors never show a technical page: under /api/ they are the JSON API's {"code", "detail"}, elsewhere a plain page
(templates/400.html, 403.html, 403_csrf.html, 404.html, 500.html). COS XML and API 3.0 render their own errors.
"""

from django.core.exceptions import BadRequest
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views import csrf, defaults
from django.views.decorators.http import require_GET
from prometheus_client import CONTENT_TYPE_LATEST

from buckets import jobs, usage
from console import health, security
from console.jsonapi.serializers import SSE_NAMES
from core import metrics

API_PREFIX = "/api/"


@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    failed = health.failing_checks()
    if failed:
        return _not_an_error(JsonResponse({"status": "unavailable", "failing": failed}, status=503))
    return JsonResponse({"status": "ok"})


@require_GET
def readyz(request: HttpRequest) -> JsonResponse:
    reasons = health.readiness_reasons()
    if reasons:
        return _not_an_error(JsonResponse({"status": "not ready", "reasons": reasons}, status=503))
    return JsonResponse({"status": "ready"})


def _not_an_error(response: JsonResponse) -> JsonResponse:
    """A 503 of a health probe is the state it reports, polled every few seconds: the access log line is enough,
    never an ERROR of django.request per probe."""
    response._has_been_logged = True  # Django's own mark (django.utils.log.log_response) for "already logged"
    return response


def database_snapshot() -> metrics.Snapshot:
    by_status, items = jobs.progress()
    stored = {SSE_NAMES[mode]: counts for mode, counts in usage.stored_by_mode().items()}
    return metrics.Snapshot(stored=stored, jobs=by_status, job_items=items)


@require_GET
def metrics_view(request: HttpRequest) -> HttpResponse:
    """Prometheus text, for KINKO_METRICS_ALLOW's addresses and the bearer of KINKO_METRICS_TOKEN only."""
    if not security.may_read_metrics(request):
        return _api_error("AccessDenied", "Metrics are served to the configured addresses or token only.", 403)
    return HttpResponse(metrics.exposition(database_snapshot), content_type=CONTENT_TYPE_LATEST)


def _is_api(request: HttpRequest) -> bool:
    return request.path_info.startswith(API_PREFIX)


def _api_error(code: str, detail: str, status: int) -> JsonResponse:
    return JsonResponse({"code": code, "detail": detail}, status=status)


def bad_request(request: HttpRequest, exception: Exception) -> HttpResponse:
    if _is_api(request):
        detail = str(exception) if isinstance(exception, BadRequest) and str(exception) else ""
        return _api_error("InvalidParameter", detail or "The request could not be understood.", 400)
    return defaults.bad_request(request, exception)


def permission_denied(request: HttpRequest, exception: Exception) -> HttpResponse:
    if _is_api(request):
        return _api_error(
            "AuthFailure.UnauthorizedOperation", "You do not have permission to perform this action.", 403
        )
    return defaults.permission_denied(request, exception)


def page_not_found(request: HttpRequest, exception: Exception) -> HttpResponse:
    if _is_api(request):
        return _api_error("NotFound", "Not found.", 404)
    return defaults.page_not_found(request, exception)


def server_error(request: HttpRequest) -> HttpResponse:
    if _is_api(request):
        return _api_error("InternalError", "The server failed; the error has been logged.", 500)
    return defaults.server_error(request)


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    if _is_api(request):
        return _api_error("AuthFailure.CsrfFailed", "CSRF verification failed.", 403)
    return csrf.csrf_failure(request, reason)
