"""An uploaded HTML page never runs on the console's origin (issue 12): opening its console download in Chromium,
signed in as the admin, saves a file under the object's name and runs none of its script, which would otherwise
mint a full-rights sub-user through the JSON API with the admin's session."""

import uuid
from urllib.parse import quote

import pytest
from playwright.sync_api import Error as PlaywrightError
from playwright.sync_api import Page
from tencentcloud.cam.v20190116 import cam_client
from tencentcloud.common.exception.tencent_cloud_sdk_exception import TencentCloudSDKException

from tests.live import APPID, cos_client
from tests.protocol.api3 import call, cam_for

KEY = "ページ<script>.html"
# The console's CSP allows scripts from its own origin only, so the page loads its script from a second object,
# through the same console download route.
PAGE = '<!doctype html><title>x</title><script src="mint.js"></script>'
MINT = """
const csrf = (document.cookie.match(/csrftoken=([^;]+)/) || [])[1] || "";
fetch("/api/v1/cam/users/", {method: "POST", credentials: "same-origin",
  headers: {"Content-Type": "application/json", "X-CSRFToken": csrf},
  body: JSON.stringify({name: "%(name)s", policies: ["QcloudCAMFullAccess"]})});
"""


@pytest.fixture(scope="module")
def cam(kinko) -> cam_client.CamClient:
    return cam_for(kinko)


def user_exists(cam, name: str) -> bool:
    try:
        call(cam, "GetUser", Name=name)
    except TencentCloudSDKException as exc:
        assert exc.code == "ResourceNotFound.UserNotExist", exc
        return False
    return True


@pytest.fixture
def trap(kinko, cam):
    """(bucket, minted user name): a bucket holding KEY, an HTML page whose script (mint.js) adds that sub-user."""
    client = cos_client(kinko)
    bucket, minted = f"b{uuid.uuid4().hex[:12]}-{APPID}", f"minted{uuid.uuid4().hex[:10]}"
    client.create_bucket(Bucket=bucket)
    client.put_object(Bucket=bucket, Key=KEY, Body=PAGE.encode(), ContentType="text/html")
    client.put_object(
        Bucket=bucket, Key="mint.js", Body=(MINT % {"name": minted}).encode(), ContentType="application/javascript"
    )
    yield bucket, minted
    for key in (KEY, "mint.js"):
        client.delete_object(Bucket=bucket, Key=key)
    client.delete_bucket(Bucket=bucket)
    if user_exists(cam, minted):
        call(cam, "DeleteUser", Name=minted, Force=1)


def open_download(page: Page, bucket: str):
    """Navigate to the console download; a download aborts the navigation, which is what should happen."""
    with page.expect_download() as download:
        try:
            page.goto(f"/buckets/{bucket}/download/{quote(KEY)}")
        except PlaywrightError as exc:
            assert "Download is starting" in str(exc), exc
    return download.value


def test_opening_the_console_download_of_an_html_object_runs_none_of_its_script(page, trap, cam):
    bucket, minted = trap
    try:
        page.goto(f"/buckets/{bucket}/download/{quote(KEY)}")
        page.wait_for_load_state("networkidle")
    except PlaywrightError as exc:
        assert "Download is starting" in str(exc), exc
    page.goto("/cam/users/")
    assert not user_exists(cam, minted)


def test_the_console_download_of_an_html_object_is_saved_under_its_name(page, trap):
    bucket, _ = trap
    download = open_download(page, bucket)
    assert download.suggested_filename.startswith("ページ")
    assert download.suggested_filename.endswith(".html")


def test_the_console_download_answer_is_an_attachment_with_filename_star(page, trap):
    bucket, _ = trap
    response = page.request.get(f"/buckets/{bucket}/download/{quote(KEY)}")
    assert response.status == 200
    disposition = response.headers["content-disposition"]
    assert disposition.startswith("attachment;")
    assert f"filename*=UTF-8''{quote(KEY, safe='')}" in disposition
