"""The upload manager in headless Chromium, each result confirmed through qcloud_cos and the KMS SDK: several files
three at a time to 100 %, a file above the part size as a multipart upload, cancel aborting it server side, a failed
upload's red bar with the reason and a retry that works once the cause is fixed, folder upload keeping relative
paths, the overwrite warning, the warning before leaving mid-upload; on desktop and phone, in English and Japanese,
with axe-core run on the panel in each state."""

import hashlib
import os
import re
import time
from pathlib import Path

import pytest
from playwright.sync_api import Error, Page, Route, expect

from tests.browser import axe
from tests.browser import test_flows as flows
from tests.browser.conftest import PageGuard, checked, sign_in
from tests.browser.test_flows import body_of, call, sse_of, unique

# The flows' SDK fixtures (the KMS client, the KMS switched on, COS_QcsRole for reading SSE-KMS objects back).
cam, kms, kms_active, cos_role = flows.cam, flows.kms, flows.kms_active, flows.cos_role

MIB = 1024 * 1024
PART_BYTES = 5 * MIB
UPLOAD_MS = 60_000  # a loaded machine may take a while over a 20 MiB upload


def open_bucket(page: Page, guard: PageGuard, bucket: str, prefix: str = "") -> None:
    """The bucket's page, then a stopped clock: the page reloads 600 ms after its uploads all succeed, and may only
    when the test lets time run. The clock stops only once the guard's axe run on the page's load is over."""
    checked = []
    on_load = guard.on_load
    guard.on_load = lambda loaded: (on_load(loaded), checked.append(loaded))
    page.goto(f"/buckets/{bucket}/" + (f"?prefix={prefix}" if prefix else ""))
    for _ in range(200):
        if checked:
            break
        page.wait_for_timeout(50)
    guard.on_load = on_load
    assert checked, "the guard's axe run did not finish"
    page.clock.install()
    page.clock.pause_at(time.time() + 5)


def bad_colour(page) -> str:
    """The console's --bad colour (kinko.css) as the browser computes it."""
    return page.evaluate(
        """() => { const probe = document.createElement("span"); probe.style.color = "var(--bad)";
        document.body.append(probe); const colour = getComputedStyle(probe).color; probe.remove(); return colour; }"""
    )


def row(page: Page, name: str):
    return page.locator("#upload-progress li", has=page.locator(f'progress[data-file="{name}"]'))


def panel_violations(page: Page) -> list[str]:
    """axe on the upload panel alone, in whatever state it is in now (the guard checks whole pages at load). axe
    waits on timers, so the stopped clock is stepped until it answers."""
    if not page.evaluate("() => typeof window.axe === 'object'"):
        page.evaluate(axe.source() + "\n;undefined")
    page.evaluate(
        "() => { window.panelAxe = null; axe.run('#upload', {resultTypes: ['violations']}).then((r) => {"
        " window.panelAxe = r.violations.map(v => ({id: v.id, impact: v.impact,"
        " nodes: v.nodes.slice(0, 3).map(n => n.target.join(' '))})); }); }"
    )
    for _ in range(200):
        found = page.evaluate("window.panelAxe")
        if found is not None:
            return [f"{v['impact']} {v['id']}: {v['nodes']}" for v in found if v["impact"] in axe.BLOCKING]
        page.clock.run_for(20)
        page.wait_for_timeout(20)
    raise AssertionError("axe did not answer")


def pending_uploads(cos, bucket: str) -> list:
    return cos.list_multipart_uploads(Bucket=bucket).get("Upload", [])


def md5_of(cos, bucket: str, key: str) -> str:
    digest = hashlib.md5()
    stream = cos.get_object(Bucket=bucket, Key=key)["Body"].get_raw_stream()
    while chunk := stream.read(MIB):
        digest.update(chunk)
    return digest.hexdigest()


def wait_until(check, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.1)


@pytest.fixture
def big_file(tmp_path) -> Path:
    path = tmp_path / "video.bin"
    with open(path, "wb") as out:
        for _ in range(20):
            out.write(os.urandom(MIB))
        out.write(os.urandom(12345))
    return path


def let_go(page: Page, pattern: str, held: list[Route]) -> None:
    """Stop holding requests: the held ones go on (unless removing the route already let them)."""
    page.unroute(pattern)
    for route in held:
        try:
            route.continue_()
        except Error as error:
            if "already handled" not in str(error):
                raise


def hold_parts(page: Page) -> list[Route]:
    """Part uploads wait in the returned list until the test lets them go (or the page cancels them)."""
    held: list[Route] = []
    page.route("**/uploads/part/**", lambda route: held.append(route))
    return held


# -- several files, three at a time ----------------------------------------------------------------------------


def test_six_files_upload_three_at_a_time_to_100_percent_with_sse_cos(fresh_page, guard, cos, bucket):
    page = fresh_page
    files = {f"file-{n}.bin": os.urandom(700_000 + n) for n in range(6)}
    open_bucket(page, guard, bucket, "in/")
    held: list[Route] = []
    page.route("**/uploads/object/**", lambda route: held.append(route))
    page.locator("#upload-sse").select_option("AES256")
    page.set_input_files(
        "#upload-files",
        [{"name": name, "mimeType": "application/octet-stream", "buffer": body} for name, body in files.items()],
    )
    expect(page.locator("#upload-progress li.uploading")).to_have_count(3)
    expect(page.locator("#upload-progress li.queued")).to_have_count(3)
    expect(page.locator("#upload-progress li.queued .upload-status").first).to_have_text("Waiting")
    page.wait_for_timeout(300)
    assert len(held) == 3  # three at once; the others wait their turn
    assert panel_violations(page) == []
    let_go(page, "**/uploads/object/**", held)
    expect(page.locator("#upload-progress li.done")).to_have_count(6, timeout=UPLOAD_MS)
    for name in files:
        expect(row(page, name).locator("progress")).to_have_js_property("value", 100)
    expect(page.locator("#upload-overall-bar")).to_have_js_property("value", 100)
    expect(page.locator("#upload-overall-text")).to_have_text("6 of 6 files uploaded")
    for name, body in files.items():
        assert sse_of(cos, bucket, f"in/{name}")[0] == "AES256"
        assert body_of(cos, bucket, f"in/{name}") == body
    with page.expect_navigation():  # all arrived: the list is reloaded to show them
        page.clock.run_for(1000)
    expect(page.locator('table.list a[href$="/object/in/file-5.bin"]').first).to_be_visible()


# -- multipart -------------------------------------------------------------------------------------------------


def test_a_file_above_the_part_size_uploads_as_multipart_with_the_chosen_kms_key(
    fresh_page, guard, kms_active, cos_role, kms, cos, bucket, big_file
):
    page = fresh_page
    key_id = call(kms, "CreateKey", Alias=unique("upload-multipart")).KeyId
    open_bucket(page, guard, bucket)
    page.locator("#upload").evaluate(f"(panel) => {{ panel.dataset.partBytes = '{PART_BYTES}'; }}")
    page.locator("#upload-sse").select_option("cos/kms")
    page.locator("#upload-kms-key").select_option(key_id)
    with page.expect_response("**/uploads/complete/**", timeout=UPLOAD_MS) as completed:
        page.set_input_files("#upload-files", str(big_file))
    assert completed.value.status == 200
    expect(row(page, "video.bin")).to_have_class("done", timeout=UPLOAD_MS)
    assert pending_uploads(cos, bucket) == []
    head = cos.head_object(Bucket=bucket, Key="video.bin")
    assert head["ETag"].strip('"').endswith("-5")  # 20 MiB + 12345 B in 5 MiB parts
    assert int(head["Content-Length"]) == big_file.stat().st_size
    assert sse_of(cos, bucket, "video.bin") == ("cos/kms", key_id)
    assert md5_of(cos, bucket, "video.bin") == hashlib.md5(big_file.read_bytes()).hexdigest()


def test_cancelling_a_multipart_upload_aborts_it_on_the_server(fresh_page, guard, cos, bucket, big_file):
    page = fresh_page
    open_bucket(page, guard, bucket)
    page.locator("#upload").evaluate(f"(panel) => {{ panel.dataset.partBytes = '{PART_BYTES}'; }}")
    held = hold_parts(page)
    page.set_input_files("#upload-files", str(big_file))
    wait_until(lambda: page.evaluate("1") and len(held) > 0)
    assert len(pending_uploads(cos, bucket)) == 1
    item = row(page, "video.bin")
    page.clock.run_for(1000)  # the panel redraws twice a second: percent, speed and time left
    expect(item.locator(".upload-status")).to_have_text(re.compile(r"^\d+% · (—|[\d.]+ [KMGT]?i?B)/s · (—|\d.*) left$"))
    expect(page.locator("#upload-overall-rate")).to_have_text(re.compile(r"^\d+% · .+/s · .+ left$"))
    expect(page.locator("#upload-overall-text")).to_have_text("0 of 1 files uploaded")
    with page.expect_response(lambda r: r.request.method == "DELETE" and "/uploads/multipart/" in r.url) as aborted:
        item.get_by_role("button", name="Cancel the upload of video.bin").click()
    assert aborted.value.status == 204
    expect(item).to_have_class("cancelled")
    expect(item.locator(".upload-status")).to_have_text("Cancelled")
    assert pending_uploads(cos, bucket) == []
    assert cos.list_objects(Bucket=bucket).get("Contents", []) == []
    page.unroute("**/uploads/part/**")
    assert panel_violations(page) == []


def test_a_retried_multipart_upload_resumes_and_completes(fresh_page, guard, cos, bucket, big_file):
    page = fresh_page
    open_bucket(page, guard, bucket)
    page.locator("#upload").evaluate(f"(panel) => {{ panel.dataset.partBytes = '{PART_BYTES}'; }}")
    held = hold_parts(page)
    page.set_input_files("#upload-files", str(big_file))
    wait_until(lambda: page.evaluate("1") and len(held) > 0)
    held[0].abort("aborted")  # the connection drops mid-part
    page.unroute("**/uploads/part/**")
    item = row(page, "video.bin")
    expect(item).to_have_class("failed")
    expect(item.locator(".upload-status")).to_contain_text("connection to the server was lost")
    item.get_by_role("button", name="Retry the upload of video.bin").click()
    expect(item).to_have_class("done", timeout=UPLOAD_MS)
    assert pending_uploads(cos, bucket) == []
    assert md5_of(cos, bucket, "video.bin") == hashlib.md5(big_file.read_bytes()).hexdigest()


# -- a failure in words, and retry -----------------------------------------------------------------------------


def fail_with_a_disabled_key_then_retry(page: Page, guard: PageGuard, kms, cos, bucket: str, reason: str) -> None:
    key_id = call(kms, "CreateKey", Alias=unique("upload-disabled")).KeyId
    open_bucket(page, guard, bucket)
    page.locator("#upload-sse").select_option("cos/kms")
    page.locator("#upload-kms-key").select_option(key_id)
    call(kms, "DisableKey", KeyId=key_id)  # after the page offered it: the page offers enabled keys only
    page.set_input_files("#upload-files", [{"name": "secret.txt", "mimeType": "text/plain", "buffer": b"s" * 5000}])
    item = row(page, "secret.txt")
    expect(item).to_have_class("failed")
    expect(item.locator(".upload-status")).to_contain_text(reason)
    assert item.locator("progress").evaluate("(bar) => getComputedStyle(bar).accentColor") == bad_colour(page)
    assert panel_violations(page) == []
    assert cos.list_objects(Bucket=bucket).get("Contents", []) == []
    call(kms, "EnableKey", KeyId=key_id)
    item.locator("button.upload-retry").click()
    expect(item).to_have_class("done", timeout=UPLOAD_MS)
    assert sse_of(cos, bucket, "secret.txt") == ("cos/kms", key_id)
    assert body_of(cos, bucket, "secret.txt") == b"s" * 5000


def test_an_upload_with_a_disabled_key_turns_red_with_the_reason_and_retry_works_after_enabling(
    fresh_page, guard, kms_active, cos_role, kms, cos, bucket
):
    guard.expect_status(400, r"/uploads/object/")
    fail_with_a_disabled_key_then_retry(fresh_page, guard, kms, cos, bucket, "Key disabled: enable the KMS key")


@pytest.fixture
def japanese_phone(new_context, kinko, operator, guard):
    """Signed in on a 390 px wide phone, then asking for Japanese as a Japanese browser does."""
    context = new_context()
    sign_in(context, kinko, operator)
    context.set_extra_http_headers({"Accept-Language": "ja"})
    with checked(context, guard) as page:
        yield page


def test_on_a_japanese_phone_the_reason_is_in_japanese_and_nothing_scrolls_sideways(
    japanese_phone, guard, kms_active, cos_role, kms, cos, bucket
):
    page = japanese_phone
    page.set_viewport_size({"width": 390, "height": 844})
    guard.expect_status(400, r"/uploads/object/")
    fail_with_a_disabled_key_then_retry(page, guard, kms, cos, bucket, "鍵が無効です")
    expect(page.locator("#upload-title")).to_have_text("アップロード")
    assert page.evaluate("document.documentElement.scrollWidth") <= 390


# -- folders ---------------------------------------------------------------------------------------------------


def test_a_folder_keeps_its_relative_paths_under_the_current_folder(fresh_page, guard, cos, bucket, tmp_path):
    page = fresh_page
    folder = tmp_path / "album"
    (folder / "2026" / "winter").mkdir(parents=True)
    files = {"a.txt": b"a" * 10, "2026/b.txt": b"b" * 20, "2026/winter/c.txt": b"c" * 30}
    for name, body in files.items():
        (folder / name).write_bytes(body)
    open_bucket(page, guard, bucket, "photos/")
    page.set_input_files("#upload-folder", str(folder))
    expect(page.locator("#upload-progress li.done")).to_have_count(3, timeout=UPLOAD_MS)
    for name, body in files.items():
        assert body_of(cos, bucket, f"photos/album/{name}") == body
    expect(row(page, "album/2026/winter/c.txt")).to_have_class("done", timeout=UPLOAD_MS)


def test_dropping_a_folder_keeps_its_relative_paths(fresh_page, guard, cos, bucket):
    """A drop hands the page directory entries; the panel walks them (webkitGetAsEntry)."""
    page = fresh_page
    open_bucket(page, guard, bucket)
    # Chromium builds a DataTransfer with entries only from a real drag; the page is given one from a fake entry
    # tree with the same interface (isFile/isDirectory, file(), createReader().readEntries()).
    page.locator("#dropzone").evaluate("""(zone) => {
        const file = (path, text) => { const f = new File([text], path.split("/").pop()); return {
            isFile: true, isDirectory: false, name: f.name, file: (ok) => ok(f) }; };
        const dir = (name, children) => ({ isFile: false, isDirectory: true, name, createReader: () => {
            let given = false; return { readEntries: (ok) => { ok(given ? [] : children); given = true; } }; } });
        const tree = dir("docs", [file("docs/read.me", "read"), dir("deep", [file("docs/deep/x.txt", "x")])]);
        const event = new Event("drop", { bubbles: true, cancelable: true });
        event.dataTransfer = { items: [{ webkitGetAsEntry: () => tree }], files: [] };
        zone.dispatchEvent(event);
    }""")
    expect(page.locator("#upload-progress li.done")).to_have_count(2, timeout=UPLOAD_MS)
    assert body_of(cos, bucket, "docs/read.me") == b"read"
    assert body_of(cos, bucket, "docs/deep/x.txt") == b"x"


# -- the overwrite warning, and leaving mid-upload -------------------------------------------------------------


@pytest.mark.parametrize("answer", ["dismiss", "accept"])
def test_an_upload_that_would_replace_objects_asks_first_naming_them(fresh_page, guard, cos, bucket, answer):
    page = fresh_page
    cos.put_object(Bucket=bucket, Key="in/old.txt", Body=b"old")
    open_bucket(page, guard, bucket, "in/")
    messages = []

    def on_dialog(dialog) -> None:
        messages.append(dialog.message)
        getattr(dialog, answer)()

    page.on("dialog", on_dialog)
    chosen = [
        {"name": "old.txt", "mimeType": "text/plain", "buffer": b"new"},
        {"name": "fresh.txt", "mimeType": "text/plain", "buffer": b"fresh"},
    ]
    page.set_input_files("#upload-files", chosen)
    if answer == "accept":
        expect(page.locator("#upload-progress li.done")).to_have_count(2, timeout=UPLOAD_MS)
        assert body_of(cos, bucket, "in/old.txt") == b"new"
    else:
        wait_until(lambda: page.evaluate("1") and messages)
        page.wait_for_timeout(300)
        expect(page.locator("#upload-progress li")).to_have_count(0)
        assert body_of(cos, bucket, "in/old.txt") == b"old"
        assert [item["Key"] for item in cos.list_objects(Bucket=bucket)["Contents"]] == ["in/old.txt"]
    assert len(messages) == 1
    assert "already exist and will be replaced" in messages[0]
    assert "old.txt" in messages[0].splitlines() and "fresh.txt" not in messages[0]


def test_leaving_the_page_mid_upload_asks_first(fresh_page, guard, cos, bucket, big_file):
    page = fresh_page
    open_bucket(page, guard, bucket)
    page.locator("#upload").evaluate(f"(panel) => {{ panel.dataset.partBytes = '{PART_BYTES}'; }}")
    held = hold_parts(page)
    page.locator("#upload-title").click()  # a person has used the page: Chromium asks before unload only then
    page.set_input_files("#upload-files", str(big_file))
    wait_until(lambda: page.evaluate("1") and len(held) > 0)
    with page.expect_event("dialog") as asked:
        page.close(run_before_unload=True)
    assert asked.value.type == "beforeunload"
    asked.value.dismiss()
    assert not page.is_closed()
    row(page, "video.bin").locator("button.upload-cancel").click()  # tidy up: abort it on the server
    wait_until(lambda: pending_uploads(cos, bucket) == [])
    page.unroute("**/uploads/part/**")
