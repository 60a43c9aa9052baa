"""Which objects the console previews inline (console/edge.py preview_type): raster images as themselves, text as
text/plain, and never anything a browser would run (HTML, SVG, XML, scripts)."""

import pytest

from console.edge import preview_response, preview_type


@pytest.mark.parametrize("content_type", ["image/png", "image/jpeg", "IMAGE/GIF", "image/webp; q=1"])
def test_a_raster_image_is_previewed_as_itself(content_type):
    assert preview_type(content_type) == content_type.split(";")[0].lower()


@pytest.mark.parametrize("content_type", ["text/plain", "text/csv", "application/json", "text/plain; charset=latin-1"])
def test_text_is_previewed_as_utf8_plain_text(content_type):
    assert preview_type(content_type) == "text/plain; charset=utf-8"


@pytest.mark.parametrize(
    "content_type",
    ["text/html", "image/svg+xml", "application/xhtml+xml", "text/xml", "application/javascript", "", "garbage"],
)
def test_what_a_browser_would_run_is_never_previewed(content_type):
    assert preview_type(content_type) is None


def test_a_preview_is_inline_sandboxed_and_never_sniffed():
    response = preview_response(iter([b"hello"]), "text/csv", 5)
    assert response["Content-Type"] == "text/plain; charset=utf-8"
    assert response["Content-Disposition"] == "inline"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Content-Security-Policy"].startswith("sandbox;")
    assert "script-src" not in response["Content-Security-Policy"]


def test_an_html_object_cannot_be_made_into_a_preview():
    with pytest.raises(ValueError):
        preview_response(iter([b"<script>"]), "text/html", 8)
