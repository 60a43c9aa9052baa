"""The health endpoint (console pages live in console/pages/)."""

from django.http import HttpRequest, JsonResponse
from django.views.decorators.http import require_GET

from console import health


@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    failed = health.failing_checks()
    if failed:
        return JsonResponse({"status": "unavailable", "failing": failed}, status=503)
    return JsonResponse({"status": "ok"})
