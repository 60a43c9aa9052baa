"""Bucket versioning in the console, in headless Chromium (axe on every page the guard watches), each effect
confirmed through the COS SDK: versioning enabled and suspended on the settings page, an object's versions listed
with their own SSE, an older one downloaded and restored (a new version, with the old bytes and SSE), a deleted
object brought back from its versions, and a version deleted for good."""

import uuid

import pytest
import requests
from playwright.sync_api import Page, expect

from tests.live import APPID
from tests.protocol.support import body_of


@pytest.fixture
def versioned(cos) -> str:
    """A new bucket with versioning enabled; every version and delete marker removed afterwards."""
    name = f"v{uuid.uuid4().hex[:12]}-{APPID}"
    cos.create_bucket(Bucket=name)
    cos.put_bucket_versioning(Bucket=name, Status="Enabled")
    yield name
    listing = cos.list_objects_versions(Bucket=name)
    for entry in [*listing.get("Version", []), *listing.get("DeleteMarker", [])]:
        cos.delete_object(Bucket=name, Key=entry["Key"], VersionId=entry["VersionId"])
    cos.delete_bucket(Bucket=name)


def two_versions(cos, bucket: str, key: str = "doc.txt") -> tuple[str, str]:
    """An SSE-COS first version and a plain second one; their version ids."""
    first = cos.put_object(Bucket=bucket, Key=key, Body=b"first", ServerSideEncryption="AES256")
    second = cos.put_object(Bucket=bucket, Key=key, Body=b"second")
    return first["x-cos-version-id"], second["x-cos-version-id"]


def test_versioning_is_enabled_then_suspended_on_the_settings_page(page: Page, cos, bucket):
    page.goto(f"/buckets/{bucket}/settings/")
    expect(page.locator("#bucket-versioning-now")).to_contain_text("Never enabled")
    page.get_by_role("button", name="Enable versioning").click()
    expect(page.locator("p.message")).to_contain_text("Versioning enabled.")
    assert cos.get_bucket_versioning(Bucket=bucket) == {"Status": "Enabled"}
    page.get_by_role("button", name="Suspend versioning").click()
    expect(page.locator("p.message")).to_contain_text("Versioning suspended.")
    assert cos.get_bucket_versioning(Bucket=bucket) == {"Status": "Suspended"}
    expect(page.get_by_role("button", name="Enable versioning")).to_be_visible()


def test_the_object_page_lists_its_versions_newest_first_with_their_own_encryption(page: Page, cos, versioned):
    first, second = two_versions(cos, versioned)
    page.goto(f"/buckets/{versioned}/object/doc.txt")
    rows = page.locator("#versions tbody tr")
    expect(rows).to_have_count(2)
    expect(rows.nth(0)).to_have_attribute("data-version", second)
    expect(rows.nth(0)).to_contain_text("current")
    expect(rows.nth(0)).to_contain_text("none")
    expect(rows.nth(1)).to_have_attribute("data-version", first)
    expect(rows.nth(1)).to_contain_text("SSE-COS")
    expect(page.locator("#object-version")).to_have_text(second)


def test_an_older_version_is_downloaded_from_the_object_page(page: Page, cos, versioned):
    first, _ = two_versions(cos, versioned)
    page.goto(f"/buckets/{versioned}/object/doc.txt")
    link = page.locator(f'#versions tr[data-version="{first}"]').get_by_role("link", name="Download")
    cookies = {c["name"]: c["value"] for c in page.context.cookies()}
    answer = requests.get(page.url.split("/buckets/")[0] + link.get_attribute("href"), cookies=cookies, timeout=10)
    assert (answer.status_code, answer.content) == (200, b"first")


def test_restoring_an_older_version_makes_it_current_again_with_its_sse(page: Page, cos, versioned):
    first, _ = two_versions(cos, versioned)
    page.goto(f"/buckets/{versioned}/object/doc.txt")
    page.locator(f'#versions tr[data-version="{first}"]').get_by_role("button", name="Restore").click()
    expect(page.locator("p.message")).to_contain_text("it is the current object again")
    current = cos.get_object(Bucket=versioned, Key="doc.txt")
    assert (body_of(current), current.get("x-cos-server-side-encryption")) == (b"first", "AES256")
    assert current["x-cos-version-id"] not in (first, "null")
    expect(page.locator("#versions tbody tr")).to_have_count(3)


def test_a_deleted_object_is_brought_back_from_its_missing_page(page: Page, guard, cos, versioned):
    guard.expect_status(404, r"/object/gone\.txt$")
    kept = cos.put_object(Bucket=versioned, Key="gone.txt", Body=b"kept")["x-cos-version-id"]
    cos.delete_object(Bucket=versioned, Key="gone.txt")
    page.goto(f"/buckets/{versioned}/object/gone.txt")
    expect(page.locator("#deleted-with-versions")).to_be_visible()
    expect(page.locator("#versions tbody tr").first).to_contain_text("Delete marker")
    page.locator(f'#versions tr[data-version="{kept}"]').get_by_role("button", name="Restore").click()
    expect(page.locator("p.message")).to_contain_text("it is the current object again")
    assert body_of(cos.get_object(Bucket=versioned, Key="gone.txt")) == b"kept"


def test_a_version_deleted_for_good_is_gone_and_the_others_stay(page: Page, cos, versioned):
    first, second = two_versions(cos, versioned)
    page.goto(f"/buckets/{versioned}/object/doc.txt")
    page.once("dialog", lambda dialog: dialog.accept())
    page.locator(f'#versions tr[data-version="{second}"]').get_by_role("button", name="Delete for good").click()
    expect(page.locator("p.message")).to_contain_text("deleted for good")
    listing = cos.list_objects_versions(Bucket=versioned)
    assert [v["VersionId"] for v in listing.get("Version", [])] == [first]
    assert body_of(cos.get_object(Bucket=versioned, Key="doc.txt")) == b"first"
