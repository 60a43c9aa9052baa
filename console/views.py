"""Browser console pages and the health endpoint."""

from django.http import HttpRequest, JsonResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from console import health


@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    failed = health.failing_checks()
    if failed:
        return JsonResponse({"status": "unavailable", "failing": failed}, status=503)
    return JsonResponse({"status": "ok"})


@require_GET
def home(request: HttpRequest):
    return render(request, "console/home.html")
