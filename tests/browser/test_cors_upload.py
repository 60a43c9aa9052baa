"""A web page on another origin uploads straight to a bucket with a presigned URL: headless Chromium sends the real
CORS preflight, the bucket's rule answers it, the PUT lands and reads back through the SDK. Without a matching rule
the browser's fetch fails and nothing is stored."""

import threading
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from playwright.sync_api import sync_playwright

from tests.browser.conftest import CHROMIUM, CHROMIUM_ARGS
from tests.live import APPID, REGION, cos_client
from tests.protocol.support import body_of

PAGE = b"<!doctype html><html lang='en'><title>uploader</title><h1>uploader</h1></html>"
UPLOAD = """async ([url, body]) => {
  try {
    const response = await fetch(url, {method: "PUT", body, headers: {"Content-Type": "text/plain"}});
    return {status: response.status, etag: response.headers.get("ETag")};
  } catch (error) {
    return {error: String(error)};
  }
}"""


class _Page(BaseHTTPRequestHandler):
    def do_GET(self):  # noqa: N802 - http.server's naming
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(PAGE)))
        self.end_headers()
        self.wfile.write(PAGE)

    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def page_origin():
    """A tiny static site on another loopback port: the page's origin differs from the bucket's."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Page)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="module")
def chromium():
    """Chromium resolving every COS host name to the test server, so the page addresses the bucket as COS does."""
    if not CHROMIUM.exists():
        pytest.skip("Debian chromium is not installed (apt-get install chromium)")
    args = [*CHROMIUM_ARGS, "--host-resolver-rules=MAP *.myqcloud.com 127.0.0.1"]
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=args)
        yield browser
        browser.close()


@pytest.fixture
def addressed(kinko):
    """An SDK client that presigns URLs for the bucket's COS host name at the server's port, as the browser
    addresses it (it only signs; the test's own calls go through the IP-mode client)."""
    return cos_client(kinko, IP=None, Port=None, ServiceDomain=None, Endpoint=f"cos.{REGION}.myqcloud.com:{kinko.port}")


@pytest.fixture
def bucket(cos):
    name = f"w{uuid.uuid4().hex[:12]}-{APPID}"
    cos.create_bucket(Bucket=name)
    yield name
    for item in cos.list_objects(Bucket=name).get("Contents", []):
        cos.delete_object(Bucket=name, Key=item["Key"])
    cos.delete_bucket(Bucket=name)


def upload_from_page(chromium, page_origin: str, url: str, body: str) -> dict:
    context = chromium.new_context()
    try:
        page = context.new_page()
        page.goto(page_origin + "/")
        return page.evaluate(UPLOAD, [url, body])
    finally:
        context.close()


def test_a_page_on_another_origin_uploads_with_a_presigned_url_after_a_preflight(
    chromium, page_origin, cos, addressed, bucket
):
    rule = {"AllowedOrigin": [page_origin], "AllowedMethod": ["PUT"], "AllowedHeader": ["content-type"]}
    rule["ExposeHeader"] = ["ETag"]
    cos.put_bucket_cors(Bucket=bucket, CORSConfiguration={"CORSRule": [rule]})
    url = addressed.get_presigned_url(Bucket=bucket, Key="from-the-page.txt", Method="PUT")
    result = upload_from_page(chromium, page_origin, url, "uploaded by a browser")
    assert result.get("status") == 200, result
    assert result["etag"]
    assert body_of(cos.get_object(Bucket=bucket, Key="from-the-page.txt")) == b"uploaded by a browser"


def test_without_a_matching_rule_the_browsers_upload_fails_and_stores_nothing(
    chromium, page_origin, cos, addressed, bucket
):
    rule = {"AllowedOrigin": ["https://elsewhere.example.com"], "AllowedMethod": ["PUT"], "AllowedHeader": ["*"]}
    cos.put_bucket_cors(Bucket=bucket, CORSConfiguration={"CORSRule": [rule]})
    url = addressed.get_presigned_url(Bucket=bucket, Key="refused.txt", Method="PUT")
    result = upload_from_page(chromium, page_origin, url, "never stored")
    assert "Failed to fetch" in result.get("error", ""), result
    assert not cos.object_exists(Bucket=bucket, Key="refused.txt")
