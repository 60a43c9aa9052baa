"""What the console says when something cannot be done: a plain sentence in the person's language with the action
that fixes it, never a wire code as the message, and a missing thing is not called "Not allowed". Each effect is
confirmed through the COS and KMS SDKs. The server is this module's own: its KMS starts off."""

import re
import uuid

import pytest
from playwright.sync_api import expect
from qcloud_cos.cos_exception import CosServiceError

from tests.browser.conftest import sign_in
from tests.live import APPID, REGION
from tests.protocol.api3 import call


def test_a_bucket_with_sse_kms_before_the_kms_is_activated_says_so_and_offers_activate_kms(page, kms, cos):
    assert not call(kms, "GetServiceStatus").ServiceEnabled
    short = f"early{uuid.uuid4().hex[:8]}"
    page.goto("/buckets/")
    form = page.locator("#create-bucket")
    form.locator('input[name="name"]').fill(short)
    form.locator('select[name="region"]').select_option(REGION)
    form.locator('select[name="encryption"]').select_option("KMS")
    form.get_by_role("button", name="Create").click()
    message = page.locator("p.message.error")
    expect(message).to_contain_text("The KMS is not activated yet")
    expect(message).not_to_contain_text("manage.py")
    expect(message).not_to_contain_text("ResourceUnavailable")
    with pytest.raises(CosServiceError):
        cos.get_bucket_encryption(Bucket=f"{short}-{APPID}")
    message.get_by_role("link", name="Activate KMS").click()
    expect(page).to_have_url(re.compile(r"/kms/$"))
    page.get_by_role("button", name="Activate the KMS").click()
    expect(page.locator("#keys")).to_be_visible()
    assert call(kms, "GetServiceStatus").ServiceEnabled


def test_a_missing_object_is_a_404_page_titled_no_such_object_with_a_link_back(page, guard, cos, bucket):
    cos.put_object(Bucket=bucket, Key="here.txt", Body=b"here")
    guard.expect_status(404, r"/object/gone\.txt$")
    response = page.goto(f"/buckets/{bucket}/object/gone.txt")
    assert response.status == 404
    expect(page.get_by_role("heading", level=1)).to_have_text("No such object")
    expect(page.locator("#denied")).to_have_text(
        "There is no object with this name in the bucket. It may have been deleted or renamed."
    )
    expect(page.get_by_text("Not allowed")).to_have_count(0)
    page.get_by_role("link", name="Back to the bucket").click()
    expect(page).to_have_url(re.compile(rf"/buckets/{bucket}/$"))
    expect(page.locator("table.list")).to_contain_text("here.txt")


@pytest.fixture(scope="module")
def activated(context, kms) -> None:
    """The KMS on and COS_QcsRole made, through their buttons (the first test of the module saw the KMS off)."""
    page = context.new_page()
    try:
        if not call(kms, "GetServiceStatus").ServiceEnabled:
            page.goto("/kms/")
            page.get_by_role("button", name="Activate the KMS").click()
            expect(page.locator("#keys")).to_be_visible()
        page.goto("/cam/roles/")
        make_role = page.get_by_role("button", name="Create the COS service role")
        if make_role.count():
            make_role.click()
            expect(page.locator("p.message")).to_contain_text("COS_QcsRole is ready")
    finally:
        page.close()


def test_a_missing_key_is_a_404_page_titled_no_such_key(page, guard, kms, activated):
    missing = str(uuid.uuid4())
    guard.expect_status(404, rf"/kms/keys/{missing}/$")
    response = page.goto(f"/kms/keys/{missing}/")
    assert response.status == 404
    expect(page.get_by_role("heading", level=1)).to_have_text("No such key")
    page.get_by_role("link", name="Back to the KMS keys").click()
    expect(page).to_have_url(re.compile(r"/kms/$"))


def test_downloading_an_object_whose_key_is_disabled_says_the_key_is_disabled(page, guard, kms, cos, bucket, activated):
    key_id = call(kms, "CreateKey", Alias=f"off-{uuid.uuid4().hex[:6]}").KeyId
    cos.put_object(Bucket=bucket, Key="locked.txt", Body=b"locked", ServerSideEncryption="cos/kms", SSEKMSKeyId=key_id)
    call(kms, "DisableKey", KeyId=key_id)
    guard.expect_status(400, r"/download/locked\.txt$")
    page.goto(f"/buckets/{bucket}/download/locked.txt")
    expect(page.get_by_role("heading", level=1)).to_have_text("The key is disabled")
    expect(page.locator("#denied")).to_contain_text("Enable the key on its page to use it again.")
    expect(page.get_by_text("Not allowed")).to_have_count(0)
    page.get_by_role("link", name="Open the KMS keys").click()
    expect(page).to_have_url(re.compile(r"/kms/$"))
    with pytest.raises(CosServiceError):
        cos.get_object(Bucket=bucket, Key="locked.txt")["Body"].get_raw_stream().read()


def test_refusals_are_explained_in_japanese(new_context, kinko, operator, guard, cos, bucket):
    context = new_context(locale="ja-JP")
    sign_in(context, kinko, operator)
    page = context.new_page()
    guard.watch(page)
    guard.expect_status(404, r"/object/gone\.txt$")
    page.goto(f"/buckets/{bucket}/object/gone.txt")
    expect(page.locator("html")).to_have_attribute("lang", "ja")
    expect(page.get_by_role("heading", level=1)).to_have_text("オブジェクトがありません")
    expect(page.locator("#denied")).to_contain_text("このバケットにこの名前のオブジェクトはありません")
    expect(page.get_by_role("link", name="バケットに戻る")).to_be_visible()
    guard.unwatch(page)
    assert guard.problems == []
