"""The JSON API's own pages in Chromium: the Swagger UI docs render their operation list from the project's files
alone under the strict CSP, and the browsable API says who is signed in."""

from urllib.parse import urlsplit

import pytest
import requests
from playwright.sync_api import Page, expect

from tests.live import APPID

OPERATIONS = ".opblock-summary-path"


def open_docs(page: Page) -> list[str]:
    """Open /api/v1/docs/ and wait for its operation list; every URL the page asked for."""
    asked: list[str] = []
    page.on("request", lambda request: asked.append(request.url))
    page.goto("/api/v1/docs/")
    expect(page.locator(f'{OPERATIONS}[data-path="/api/v1/buckets/"]').first).to_be_visible()
    return asked


def off_host(urls: list[str]) -> list[str]:
    return [url for url in urls if urlsplit(url).hostname not in ("127.0.0.1", None) and urlsplit(url).scheme != "data"]


def test_api_docs_list_the_operations(page):
    open_docs(page)
    expect(page.locator(f'{OPERATIONS}[data-path="/api/v1/jobs/"]').first).to_be_visible()
    assert page.locator(OPERATIONS).count() >= 30


def test_api_docs_load_nothing_from_outside_the_server(page):
    assert off_host(open_docs(page)) == []


def test_api_docs_page_is_served_under_the_strict_csp(kinko):
    response = requests.get(f"{kinko.url}/api/v1/docs/", timeout=10)
    policy = response.headers["Content-Security-Policy"]
    assert "script-src 'self'" in policy and "unsafe-inline" not in policy and "cdn" not in response.text


def test_api_docs_render_for_a_visitor_who_is_not_signed_in(anonymous_page):
    assert off_host(open_docs(anonymous_page)) == []


def test_api_docs_render_on_a_phone(new_context, guard):
    page = new_context(viewport={"width": 390, "height": 844}).new_page()
    guard.watch(page)
    open_docs(page)
    guard.unwatch(page)
    assert guard.problems == []


def test_browsable_api_names_the_signed_in_user(page, operator):
    page.goto("/api/v1/buckets/")
    expect(page.locator("#signed-in-as")).to_have_text(f"Signed in as {operator[0]}")


def test_browsable_api_signs_out_through_the_console(page, new_context, kinko, operator):
    from tests.browser.conftest import sign_in

    context = new_context()
    sign_in(context, kinko, operator)
    mine = context.new_page()
    mine.goto("/api/v1/buckets/")
    mine.get_by_role("button", name="Sign out").click()
    mine.goto("/api/v1/buckets/")
    expect(mine.get_by_role("link", name="Sign in")).to_be_visible()
    mine.close()


@pytest.mark.parametrize("locale", ["ja-JP"])
def test_browsable_api_names_the_signed_in_user_in_japanese(new_context, kinko, operator, guard, locale):
    from tests.browser.conftest import sign_in

    context = new_context(locale=locale)
    sign_in(context, kinko, operator)
    page = context.new_page()
    guard.watch(page)
    page.goto("/api/v1/buckets/")
    expect(page.locator("#signed-in-as")).to_contain_text(operator[0])
    expect(page.locator("#signed-in-as")).not_to_contain_text("Signed in as")
    guard.unwatch(page)
    assert guard.problems == []
    assert APPID
