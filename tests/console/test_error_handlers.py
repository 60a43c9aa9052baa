"""The error handlers console/urls.py declares, driven through Django's test client with a view that fails: JSON
under /api/, a plain page elsewhere, never a technical page (pytest-django runs with DEBUG off, as `make run`)."""

import pytest
from django.core.exceptions import PermissionDenied, SuspiciousOperation
from django.http import HttpResponse
from django.test import Client
from django.urls import path

from console.urls import handler400, handler403, handler404, handler500  # noqa: F401 - this URLconf's handlers
from console.urls import urlpatterns as console_urlpatterns

TECHNICAL = ("Traceback", "Django", "DEBUG", "URLconf", "ZeroDivisionError", "division by zero", "the-secret")


def fails(request):
    raise ZeroDivisionError("division by zero near the-secret")


def refuses(request):
    raise PermissionDenied("the-secret reason")


def suspicious(request):
    raise SuspiciousOperation("the-secret suspicion")


def accepts(request):
    return HttpResponse(status=204)


urlpatterns = [
    path("api/v1/test-fails/", fails),
    path("test-fails/", fails),
    path("api/v1/test-refuses/", refuses),
    path("test-refuses/", refuses),
    path("api/v1/test-suspicious/", suspicious),
    path("test-suspicious/", suspicious),
    path("api/v1/test-accepts/", accepts),
    *console_urlpatterns,
]

pytestmark = [pytest.mark.urls(__name__), pytest.mark.django_db]


@pytest.fixture
def browser() -> Client:
    return Client(raise_request_exception=False)


@pytest.mark.parametrize(
    ("route", "status", "code"),
    [
        ("test-fails", 500, "InternalError"),
        ("test-refuses", 403, "AuthFailure.UnauthorizedOperation"),
        ("test-suspicious", 400, "InvalidParameter"),
    ],
)
def test_an_api_failure_answers_json_with_a_stable_code(browser, route, status, code):
    response = browser.get(f"/api/v1/{route}/")
    assert (response.status_code, response["Content-Type"], response.json()["code"]) == (
        status,
        "application/json",
        code,
    )


@pytest.mark.parametrize("route", ["test-fails", "test-refuses", "test-suspicious"])
def test_an_api_failure_body_is_code_and_detail_without_internals(browser, route):
    body = browser.get(f"/api/v1/{route}/").json()
    assert sorted(body) == ["code", "detail"]
    assert [marker for marker in TECHNICAL if marker in body["detail"]] == []


@pytest.mark.parametrize(("route", "status"), [("test-fails", 500), ("test-refuses", 403), ("test-suspicious", 400)])
def test_a_console_failure_answers_a_plain_page(browser, route, status):
    response = browser.get(f"/{route}/")
    assert (response.status_code, response["Content-Type"].split(";")[0]) == (status, "text/html")
    assert [marker for marker in TECHNICAL if marker in response.content.decode()] == []


def test_a_console_500_page_says_so_plainly(browser):
    assert "Server error" in browser.get("/test-fails/").content.decode()


def test_an_unknown_console_path_answers_the_plain_404_page(browser):
    response = browser.get("/no-such-page/")
    assert response.status_code == 404
    assert "Page not found" in response.content.decode()


def test_an_unknown_api_path_answers_json_404(browser):
    response = browser.get("/api/v1/no-such-route/")
    assert (response.status_code, response.json()["code"]) == (404, "NotFound")


def test_a_post_under_api_that_fails_django_csrf_check_answers_json_csrf_failed():
    response = Client(enforce_csrf_checks=True).post("/api/v1/test-accepts/")
    assert (response.status_code, response.json()) == (
        403,
        {"code": "AuthFailure.CsrfFailed", "detail": "CSRF verification failed."},
    )
