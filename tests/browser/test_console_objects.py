"""The object browser, in headless Chromium, each effect confirmed through the COS SDK (qcloud_cos) or requests:
"Set encryption" on one object or a selection touches only those objects, forms keep what was typed and say what
is wrong, a missing object is a 404, folders, recursive folder delete as a job, share links, pages and sorting,
previews, the overwrite check, and the phone and Japanese layouts."""

import base64
import hashlib
import re
import uuid

import pytest
import requests
from playwright.sync_api import Page, expect

from tests.live import APPID, REGION

JOB_ID = r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"
JOB_TIMEOUT_MS = 30_000


def sse_of(cos, bucket: str, key: str) -> str | None:
    return cos.head_object(Bucket=bucket, Key=key).get("x-cos-server-side-encryption")


def body_of(cos, bucket: str, key: str) -> bytes:
    return cos.get_object(Bucket=bucket, Key=key)["Body"].get_raw_stream().read()


def keys_of(cos, bucket: str, prefix: str = "") -> list[str]:
    return [item["Key"] for item in cos.list_objects(Bucket=bucket, Prefix=prefix, MaxKeys=1000).get("Contents", [])]


def put_ten(cos, bucket: str, folder: str = "ten/") -> list[str]:
    keys = [f"{folder}{n}.txt" for n in range(10)]
    for key in keys:
        cos.put_object(Bucket=bucket, Key=key, Body=key.encode())
    return keys


def wait_for_job(page: Page) -> None:
    expect(page).to_have_url(re.compile(rf"/jobs/{JOB_ID}/$"))
    expect(page.locator("#job-status")).to_have_text("succeeded", timeout=JOB_TIMEOUT_MS)


# -- Set encryption touches only what was chosen ---------------------------------------------------------------


def test_set_encryption_on_the_object_page_encrypts_only_that_object(page, cos, bucket, start_worker):
    start_worker()
    keys = put_ten(cos, bucket)
    page.goto(f"/buckets/{bucket}/object/{keys[3]}")
    form = page.locator("#object-encryption-form")
    form.locator('select[name="sse"]').select_option("AES256")
    form.get_by_role("button", name="Set encryption").click()
    wait_for_job(page)
    assert sse_of(cos, bucket, keys[3]) == "AES256"
    assert [sse_of(cos, bucket, key) for key in keys if key != keys[3]] == [None] * 9


def test_set_encryption_on_four_selected_of_ten_encrypts_only_those_four(page, cos, bucket, start_worker):
    start_worker()
    keys = put_ten(cos, bucket)
    chosen = keys[1:9:2]
    page.goto(f"/buckets/{bucket}/?prefix=ten/")
    for key in chosen:
        page.locator(f'input[name="key"][value="{key}"]').check()
    form = page.locator("#objects-form")
    form.locator('select[name="sse"]').select_option("AES256")
    page.locator("#set-encryption").click()
    wait_for_job(page)
    assert {key: sse_of(cos, bucket, key) for key in keys} == {key: "AES256" if key in chosen else None for key in keys}


def test_set_encryption_with_nothing_selected_says_so_and_changes_nothing(page, cos, bucket):
    keys = put_ten(cos, bucket)
    page.goto(f"/buckets/{bucket}/?prefix=ten/")
    page.locator("#set-encryption").click()
    expect(page.locator("p.message.error")).to_contain_text("select at least one object")
    assert [sse_of(cos, bucket, key) for key in keys] == [None] * 10


# -- no false success, no lost input ---------------------------------------------------------------------------


def test_delete_selected_with_nothing_selected_says_so_and_deletes_nothing(page, cos, bucket):
    keys = put_ten(cos, bucket)
    page.goto(f"/buckets/{bucket}/?prefix=ten/")
    page.once("dialog", lambda dialog: dialog.accept())
    page.locator("#delete-selected").click()
    expect(page.locator("p.message.error")).to_have_text("Nothing was deleted: select at least one object first.")
    expect(page.locator("p.message.success")).to_have_count(0)
    assert keys_of(cos, bucket) == keys


def test_delete_selected_deletes_exactly_the_selection_and_counts_it(page, cos, bucket):
    keys = put_ten(cos, bucket)
    page.goto(f"/buckets/{bucket}/?prefix=ten/")
    for key in keys[:2]:
        page.locator(f'input[name="key"][value="{key}"]').check()
    page.once("dialog", lambda dialog: dialog.accept())
    page.locator("#delete-selected").click()
    expect(page.locator("p.message.success")).to_have_text("Deleted 2 objects.")
    assert keys_of(cos, bucket) == keys[2:]


def test_creating_a_bucket_under_a_taken_name_shows_the_error_at_the_name_and_keeps_the_form(page, guard, cos, bucket):
    guard.expect_status(400, r"/buckets/$")
    short = bucket.rsplit("-", 1)[0]
    page.goto("/buckets/")
    form = page.locator("#create-bucket")
    form.locator('input[name="name"]').fill(short)
    form.locator('select[name="encryption"]').select_option("AES256")
    form.get_by_role("button", name="Create").click()
    expect(page.locator("#name-error")).to_have_text(f"The name {bucket} is taken: choose another.")
    expect(form.locator('input[name="name"]')).to_have_value(short)
    expect(form.locator('select[name="encryption"]')).to_have_value("AES256")
    assert bucket in [b["Name"] for b in cos.list_buckets()["Buckets"]["Bucket"]]  # still there, untouched


def test_creating_a_bucket_with_an_invalid_name_shows_the_rule_at_the_name(page, guard, cos):
    guard.expect_status(400, r"/buckets/$")
    page.goto("/buckets/")
    form = page.locator("#create-bucket")
    form.locator('input[name="name"]').fill("Bad_Name-")
    form.get_by_role("button", name="Create").click()
    expect(page.locator("#name-error")).to_contain_text("lowercase letters, digits and '-'")
    expect(form.locator('input[name="name"]')).to_have_value("Bad_Name-")
    buckets = cos.list_buckets()["Buckets"] or {"Bucket": []}
    assert not any(b["Name"].lower().startswith("bad_name") for b in buckets["Bucket"])


def test_a_missing_objects_page_is_a_404_saying_so_with_a_link_to_its_folder(page, guard, cos, bucket):
    guard.expect_status(404, r"/object/")
    cos.put_object(Bucket=bucket, Key="docs/here.txt", Body=b"here")
    response = page.goto(f"/buckets/{bucket}/object/docs/gone.txt")
    assert response.status == 404
    expect(page.get_by_role("heading", level=1)).to_have_text("No such object")
    expect(page.locator("#missing-key")).to_have_text("docs/gone.txt")
    expect(page.locator("body")).not_to_contain_text("Not allowed")
    page.locator("#back-to-folder").click()
    expect(page.locator("tr.object-row", has_text="here.txt")).to_be_visible()
    assert keys_of(cos, bucket) == ["docs/here.txt"]


# -- folders ---------------------------------------------------------------------------------------------------


def test_names_are_shown_relative_to_the_folder_with_breadcrumbs(page, cos, bucket):
    for key in ("a/b/deep.txt", "a/top.txt", "root.txt"):
        cos.put_object(Bucket=bucket, Key=key, Body=b"x")
    page.goto(f"/buckets/{bucket}/")
    page.get_by_role("link", name="a/", exact=True).click()
    expect(page.locator("tr.object-row .object-name")).to_have_text(["top.txt"])
    expect(page.locator("tr.folder-row a.folder")).to_have_text(["b/"])
    page.get_by_role("link", name="b/", exact=True).click()
    expect(page.locator("tr.object-row .object-name")).to_have_text(["deep.txt"])
    page.locator("nav.crumbs").get_by_role("link", name="a", exact=True).click()
    expect(page.locator("tr.object-row .object-name")).to_have_text(["top.txt"])


def test_create_folder_makes_a_zero_byte_slash_object_and_opens_in_it(page, cos, bucket):
    page.goto(f"/buckets/{bucket}/")
    form = page.locator("#create-folder")
    form.locator('input[name="name"]').fill("reports")
    form.get_by_role("button", name="Create folder").click()
    expect(page.locator("p.message.success")).to_have_text("Folder reports/ created.")
    head = cos.head_object(Bucket=bucket, Key="reports/")
    assert head["Content-Length"] == "0"
    page.get_by_role("link", name="reports/", exact=True).click()
    expect(page.locator("tr.object-row")).to_have_count(0)
    form.locator('input[name="name"]').fill("2026")
    form.get_by_role("button", name="Create folder").click()
    assert keys_of(cos, bucket) == ["reports/", "reports/2026/"]


def test_create_folder_with_a_bad_name_shows_the_error_and_keeps_it(page, guard, cos, bucket):
    guard.expect_status(400, r"/create-folder/$")
    page.goto(f"/buckets/{bucket}/")
    form = page.locator("#create-folder")
    form.locator('input[name="name"]').fill("a/../b")
    form.get_by_role("button", name="Create folder").click()
    expect(page.locator("#folder-name-error")).to_contain_text("cannot contain")
    expect(page.locator('#create-folder input[name="name"]')).to_have_value("a/../b")
    assert keys_of(cos, bucket) == []


def test_deleting_a_folder_confirms_its_count_then_deletes_it_recursively_in_a_job(page, cos, bucket, start_worker):
    start_worker()
    inside = ["old/", "old/1.txt", "old/2.txt", "old/deeper/3.txt"]
    for key in [*inside, "older.txt", "keep/old/4.txt"]:
        cos.put_object(Bucket=bucket, Key=key, Body=b"" if key.endswith("/") else b"1234")
    page.goto(f"/buckets/{bucket}/?prefix=old/")
    page.locator("#delete-folder").click()
    expect(page.locator("#folder-usage")).to_contain_text("This deletes 4 objects (12 B)")
    page.locator("#confirm-delete-folder").click()
    wait_for_job(page)
    expect(page.locator("#job-percent")).to_have_text("100%")
    assert keys_of(cos, bucket) == ["keep/old/4.txt", "older.txt"]


# -- per-row actions, share links, preview ----------------------------------------------------------------------


def test_row_actions_download_details_and_delete_one_object(page, cos, bucket):
    cos.put_object(Bucket=bucket, Key="row/one.txt", Body=b"one body")
    cos.put_object(Bucket=bucket, Key="row/two.txt", Body=b"two body")
    page.goto(f"/buckets/{bucket}/?prefix=row/")
    row = page.locator("tr.object-row", has_text="one.txt")
    with page.expect_download() as download:
        row.get_by_role("link", name="Download one.txt").click()
    assert download.value.suggested_filename == "one.txt"
    row.get_by_role("link", name="Details one.txt").click()
    expect(page.locator("#object-facts")).to_contain_text("row/one.txt")
    page.go_back()
    page.once("dialog", lambda dialog: dialog.accept())
    page.locator("tr.object-row", has_text="two.txt").get_by_role("button", name="Delete two.txt").click()
    expect(page.locator("p.message.success")).to_have_text("Deleted 1 object.")
    assert keys_of(cos, bucket) == ["row/one.txt"]


def test_a_share_link_downloads_the_object_through_the_cos_endpoint_until_it_expires(page, kinko, cos, bucket):
    body = b"shared through a presigned url\n" * 100
    cos.put_object(Bucket=bucket, Key="share/report.txt", Body=body, ServerSideEncryption="AES256")
    page.goto(f"/buckets/{bucket}/?prefix=share/")
    page.locator("tr.object-row", has_text="report.txt").get_by_role("link", name="Share report.txt").click()
    page.get_by_label("Link valid for").select_option("900")
    page.get_by_role("button", name="Make a link").click()
    url = page.locator("#share-url").input_value()
    assert url.startswith(f"http://{bucket}.cos.{REGION}.myqcloud.com:{kinko.port}/share/report.txt?q-sign-algorithm=")
    page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    page.locator("#copy-share-url").click()
    expect(page.locator("#copy-status")).to_have_text("Copied")
    assert page.evaluate("() => navigator.clipboard.readText()") == url
    got = requests.get(url, proxies={"http": kinko.url}, timeout=10)
    assert (got.status_code, got.content) == (200, body)
    key_time = re.search(r"q-key-time=(\d+)%3B(\d+)", url)
    assert int(key_time.group(2)) - int(key_time.group(1)) == 900
    tampered = requests.get(url.replace("report.txt", "other.txt"), proxies={"http": kinko.url}, timeout=10)
    assert tampered.status_code == 403


def test_an_sse_c_object_explains_it_cannot_be_shared(page, cos, bucket):
    key = base64.b64encode(b"k" * 32).decode()
    md5 = base64.b64encode(hashlib.md5(b"k" * 32).digest()).decode()
    cos.put_object(
        Bucket=bucket,
        Key="secret.bin",
        Body=b"sse-c",
        SSECustomerAlgorithm="AES256",
        SSECustomerKey=key,
        SSECustomerKeyMD5=md5,
    )
    page.goto(f"/buckets/{bucket}/share/secret.bin")
    expect(page.locator("#share-refused")).to_contain_text("cannot be shared by link")
    expect(page.get_by_role("button", name="Make a link")).to_have_count(0)


def test_a_text_object_is_previewed_in_a_sandboxed_frame_as_plain_text(page, kinko, cos, bucket):
    cos.put_object(Bucket=bucket, Key="notes.txt", Body=b"<b>not bold</b> plain notes", ContentType="text/plain")
    page.goto(f"/buckets/{bucket}/object/notes.txt")
    frame = page.locator("#preview")
    expect(frame).to_have_attribute("sandbox", "")
    expect(page.frame_locator("#preview").locator("body")).to_contain_text("<b>not bold</b> plain notes")
    got = page.request.get(f"/buckets/{bucket}/preview/notes.txt")
    assert got.headers["content-type"] == "text/plain; charset=utf-8"
    assert got.headers["x-content-type-options"] == "nosniff"
    assert got.headers["content-security-policy"].startswith("sandbox")


def test_an_image_is_previewed_and_html_never_is(page, guard, cos, bucket):
    guard.expect_status(404, r"/preview/page\.html$")
    png = base64.b64decode(
        "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg=="
    )
    cos.put_object(Bucket=bucket, Key="pixel.png", Body=png, ContentType="image/png")
    cos.put_object(Bucket=bucket, Key="page.html", Body=b"<script>alert(1)</script>", ContentType="text/html")
    page.goto(f"/buckets/{bucket}/object/pixel.png")
    expect(page.locator("#preview")).to_be_visible()
    got = page.request.get(f"/buckets/{bucket}/preview/pixel.png")
    assert (got.headers["content-type"], got.body()) == ("image/png", png)
    page.goto(f"/buckets/{bucket}/object/page.html")
    expect(page.locator("#preview")).to_have_count(0)
    assert page.request.get(f"/buckets/{bucket}/preview/page.html").status == 404


# -- pages and sorting -----------------------------------------------------------------------------------------


def test_pages_go_forward_and_back_with_counts_and_a_chosen_page_size(page, cos, bucket):
    keys = [f"p/{n:02d}.txt" for n in range(45)]
    for key in keys:
        cos.put_object(Bucket=bucket, Key=key, Body=b"x")
    page.goto(f"/buckets/{bucket}/?prefix=p/")
    expect(page.locator("#listing-summary")).to_contain_text("45 objects in this folder")
    page.locator("#page-size").select_option("20")
    expect(page.locator("#page-range")).to_have_text("Page 1: entries 1–20.")
    expect(page.locator("tr.object-row .object-name").first).to_have_text("00.txt")
    page.locator("#next-page").click()
    expect(page.locator("#page-range")).to_have_text("Page 2: entries 21–40.")
    page.locator("#next-page").click()
    expect(page.locator("#page-range")).to_have_text("Page 3: entries 41–45.")
    expect(page.locator("tr.object-row .object-name")).to_have_text([f"{n}.txt" for n in range(40, 45)])
    expect(page.locator("#next-page")).to_have_count(0)
    page.locator("#previous-page").click()
    expect(page.locator("#page-range")).to_have_text("Page 2: entries 21–40.")
    expect(page.locator("tr.object-row .object-name").first).to_have_text("20.txt")
    assert len(keys_of(cos, bucket)) == 45


def test_sorting_by_size_and_name_says_what_is_sorted(page, cos, bucket):
    for key, size in (("s/a.bin", 300), ("s/b.bin", 100), ("s/c.bin", 200)):
        cos.put_object(Bucket=bucket, Key=key, Body=b"x" * size)
    page.goto(f"/buckets/{bucket}/?prefix=s/")
    page.locator("#sort-size").click()
    expect(page.locator("tr.object-row .object-name")).to_have_text(["b.bin", "c.bin", "a.bin"])
    expect(page.locator("#sort-note")).to_have_text("Sorted by size within this page; pages follow name order.")
    page.locator("#sort-size").click()
    expect(page.locator("tr.object-row .object-name")).to_have_text(["a.bin", "c.bin", "b.bin"])
    page.locator("#sort-name").click()
    expect(page.locator("tr.object-row .object-name")).to_have_text(["a.bin", "b.bin", "c.bin"])
    sizes = {item["Key"]: int(item["Size"]) for item in cos.list_objects(Bucket=bucket)["Contents"]}
    assert sizes == {"s/a.bin": 300, "s/b.bin": 100, "s/c.bin": 200}


# -- phone and Japanese ----------------------------------------------------------------------------------------


@pytest.fixture
def phone_page(fresh_page):
    fresh_page.set_viewport_size({"width": 390, "height": 844})
    return fresh_page


def test_the_listing_fits_a_phone_and_keeps_every_row_action(phone_page, cos, bucket):
    page = phone_page
    cos.put_object(Bucket=bucket, Key="phone/quarterly-encryption-summary-for-the-storage-team-final-v2.pdf", Body=b"p")
    page.goto(f"/buckets/{bucket}/?prefix=phone/")
    row = page.locator("tr.object-row")
    for role, action in (("link", "Download"), ("link", "Share"), ("link", "Details"), ("button", "Delete")):
        expect(row.get_by_role(role, name=re.compile(f"^{action} "))).to_be_visible()
    scroll_width, inner_width = page.evaluate("() => [document.scrollingElement.scrollWidth, window.innerWidth]")
    assert scroll_width <= inner_width + 1


def test_a_bucket_can_be_deleted_from_a_phone(phone_page, cos):
    page = phone_page
    name = f"phone{uuid.uuid4().hex[:8]}-{APPID}"
    cos.create_bucket(Bucket=name)
    page.goto("/buckets/")
    page.locator(f'tr[data-bucket="{name}"] a.delete-bucket').click()
    page.locator("#confirm-delete-bucket").click()
    expect(page.locator("p.message.success")).to_have_text(f"Bucket {name} deleted.")
    scroll_width, inner_width = page.evaluate("() => [document.scrollingElement.scrollWidth, window.innerWidth]")
    assert scroll_width <= inner_width + 1
    buckets = cos.list_buckets()["Buckets"] or {"Bucket": []}
    assert name not in [b["Name"] for b in buckets["Bucket"]]


@pytest.fixture
def japanese_page(fresh_page, kinko):
    """Signed in (in English), then Japanese chosen as the language menu would: Django's language cookie."""
    fresh_page.context.add_cookies([{"name": "django_language", "value": "ja", "url": kinko.url}])
    return fresh_page


def test_in_japanese_creating_a_folder_and_deleting_nothing_speak_japanese(japanese_page, cos, bucket):
    page = japanese_page
    page.goto(f"/buckets/{bucket}/")
    expect(page.locator("html")).to_have_attribute("lang", "ja")
    form = page.locator("#create-folder")
    form.locator('input[name="name"]').fill("資料")
    form.get_by_role("button", name="フォルダーを作成").click()
    expect(page.locator("p.message.success")).to_have_text("フォルダー 資料/ を作成しました。")
    page.once("dialog", lambda dialog: dialog.accept())
    page.locator("#delete-selected").click()
    expect(page.locator("p.message.error")).to_have_text(
        "何も削除していません。先にオブジェクトを1つ以上選択してください。"
    )
    assert keys_of(cos, bucket) == ["資料/"]
