"""The overview answers questions: stored bytes and objects by encryption mode over time, COS requests per day and
KMS calls per day per key, each chart with its numbers as a table and a "no data yet" state, checked against
what the COS and KMS SDKs did. The server is this module's own, so it starts with nothing."""

import re
import uuid

from playwright.sync_api import Page, expect

from tests.browser.conftest import sign_in
from tests.live import APPID
from tests.protocol.api3 import call

CHARTS = ("bytes", "objects", "requests", "kms")


def todays_total(page: Page, chart: str) -> str:
    """The Total cell of the newest row of a chart's table (the table lists days with data, newest first)."""
    return page.locator(f"#chart-{chart} table tr").nth(1).locator("td").last.text_content().strip()


def test_a_fresh_overview_says_no_data_yet_for_every_chart_and_offers_to_activate_kms(page, cos, kms):
    assert cos.list_buckets()["Buckets"] in (None, "", {"Bucket": []}) or not cos.list_buckets()["Buckets"].get(
        "Bucket"
    )
    page.goto("/")
    for chart in CHARTS:
        expect(page.locator(f"#chart-{chart}-empty")).to_be_visible()
        expect(page.locator(f"#chart-{chart} svg")).to_have_count(0)
    expect(page.locator("#chart-bytes-empty")).to_have_text("No data yet: nothing has been stored.")
    expect(page.locator("#no-running-jobs")).to_be_visible()
    assert not call(kms, "GetServiceStatus").ServiceEnabled
    page.locator("#kms-off").get_by_role("button", name="Activate KMS").click()
    expect(page).to_have_url(re.compile(r"/kms/$"))
    assert call(kms, "GetServiceStatus").ServiceEnabled


def test_the_charts_show_what_was_stored_requested_and_encrypted_today(page, cos, kms):
    page.goto("/cam/roles/")
    make_role = page.get_by_role("button", name="Create the COS service role")
    if make_role.count():
        make_role.click()
    if not call(kms, "GetServiceStatus").ServiceEnabled:
        page.goto("/kms/")
        page.get_by_role("button", name="Activate the KMS").click()
    bucket = f"charts{uuid.uuid4().hex[:8]}-{APPID}"
    cos.create_bucket(Bucket=bucket)
    cos.put_object(Bucket=bucket, Key="cos.bin", Body=b"x" * 1000, ServerSideEncryption="AES256")
    cos.put_object(Bucket=bucket, Key="kms.bin", Body=b"y" * 500, ServerSideEncryption="cos/kms")
    head = cos.head_object(Bucket=bucket, Key="kms.bin")
    assert head["x-cos-server-side-encryption"] == "cos/kms"
    alias = call(kms, "DescribeKey", KeyId=head["x-cos-server-side-encryption-cos-kms-key-id"]).KeyMetadata.Alias
    assert cos.get_object(Bucket=bucket, Key="kms.bin")["Body"].get_raw_stream().read() == b"y" * 500

    page.goto("/")
    for chart in CHARTS:
        expect(page.locator(f"#chart-{chart}-empty")).to_have_count(0)
        expect(page.locator(f"#chart-{chart} svg rect").first).to_be_attached()
    expect(page.locator("#object-count")).to_have_text("2")
    assert todays_total(page, "objects") == "2"
    assert todays_total(page, "bytes") == "1.5 KiB"  # 1000 + 500 bytes
    expect(page.locator("#by-mode")).to_contain_text("SSE-KMS")
    kms_calls = int(todays_total(page, "kms"))
    assert kms_calls >= 2  # GenerateDataKey for the put, Decrypt for the get
    expect(page.locator("#chart-kms ul.legend-list")).to_contain_text(alias)

    requests = int(todays_total(page, "requests"))
    assert requests >= 4  # two PUTs, a HEAD and a GET of objects
    cos.head_object(Bucket=bucket, Key="cos.bin")
    page.reload()
    assert int(todays_total(page, "requests")) == requests + 1
    assert int(todays_total(page, "kms")) == kms_calls  # a HEAD decrypts nothing


def test_japanese_overview_charts_have_japanese_captions_and_dates(new_context, kinko, operator, guard):
    context = new_context(locale="ja-JP")
    sign_in(context, kinko, operator)
    page = context.new_page()
    guard.watch(page)
    page.goto("/")
    expect(page.locator("#chart-requests figcaption")).to_contain_text("1 日あたりの COS リクエスト数")
    page.locator("#chart-requests summary").click()
    expect(page.locator("#chart-requests table")).to_be_visible()
    expect(page.locator("#chart-requests table tr").nth(1).locator("th")).to_have_text(
        re.compile(r"^\d{4}年\d{1,2}月\d{1,2}日$")
    )
    guard.unwatch(page)
    assert guard.problems == []
