"""Every console page on a desktop and on a phone (390 px), in English and in Japanese, against a Kinko of this
module's own (so the KMS can be activated and the overview starts empty without disturbing the session's server):
axe-core finds nothing serious (the guard runs it on every load), no page scrolls sideways, every control of a page
stays reachable, the navigation collapses into a menu, the header says who is signed in, and the language changes
only when the person asks for it."""

import os
import re
import uuid

import pytest
from playwright.sync_api import BrowserContext, Page, expect

from tests.browser.conftest import SCREENSHOTS, PageGuard, sign_in
from tests.browser.own.conftest import OPERATOR
from tests.live import APPID
from tests.protocol.api3 import call

PHONE = {"width": 390, "height": 844}
LONG_KEY = "reports/2026/quarterly-encryption-summary-for-the-storage-team-final-version-two.pdf"
VERSIONED_KEY = "versioned.txt"


@pytest.fixture(scope="module")
def site(context, cos, kms) -> dict[str, str]:
    """Something on every page: the KMS activated through its button, COS_QcsRole made through its button, a
    bucket with a short and a long object, a key to import material into, and a queued job."""
    page = context.new_page()
    try:
        page.goto("/kms/")
        page.get_by_role("button", name="Activate the KMS").click()
        expect(page.locator("#keys")).to_be_visible()
        page.goto("/cam/roles/")
        page.get_by_role("button", name="Create the COS service role").click()
        expect(page.locator("p.message")).to_be_visible()
        bucket = f"a11y{uuid.uuid4().hex[:8]}-{APPID}"
        cos.create_bucket(Bucket=bucket)
        for key in ("short.txt", LONG_KEY):
            cos.put_object(Bucket=bucket, Key=key, Body=b"a11y", ServerSideEncryption="AES256")
        cos.put_bucket_versioning(Bucket=bucket, Status="Enabled")
        for body in (b"first", b"second"):  # an object with an older version, and a delete marker under it
            cos.put_object(Bucket=bucket, Key=VERSIONED_KEY, Body=body, ServerSideEncryption="AES256")
        cos.delete_object(Bucket=bucket, Key="deleted.txt")
        key_id = call(kms, "CreateKey", Alias=f"a11y-{uuid.uuid4().hex[:6]}").KeyId
        external = call(kms, "CreateKey", Alias=f"ext-{uuid.uuid4().hex[:6]}", Type=2).KeyId
        page.goto(f"/buckets/{bucket}/?prefix=reports/")
        page.locator('select[name="sse"]').select_option("AES256")
        page.get_by_label("Every object under the prefix").check()
        page.locator("#set-encryption").click()
        expect(page).to_have_url(re.compile(r"/jobs/[0-9a-f-]{36}/$"))
        job = re.search(r"/jobs/([0-9a-f-]{36})/$", page.url).group(1)
    finally:
        page.close()
    return {"bucket": bucket, "key_id": key_id, "external": external, "job": job}


def pages_of(site: dict[str, str]) -> dict[str, str]:
    bucket = site["bucket"]
    return {
        "overview": "/",
        "buckets": "/buckets/",
        "objects": f"/buckets/{bucket}/",
        "objects-folder": f"/buckets/{bucket}/?prefix=reports/",
        "object-detail": f"/buckets/{bucket}/object/{LONG_KEY}",
        "object-versions": f"/buckets/{bucket}/object/{VERSIONED_KEY}",
        "bucket-settings": f"/buckets/{bucket}/settings/",
        "kms": "/kms/",
        "key-detail": f"/kms/keys/{site['key_id']}/",
        "key-import": f"/kms/keys/{site['external']}/import/",
        "roles": "/cam/roles/",
        "role-detail": "/cam/roles/COS_QcsRole/",
        "role-wizard": "/cam/roles/wizard/",
        "users": "/cam/users/",
        "jobs": "/jobs/",
        "job-detail": f"/jobs/{site['job']}/",
        "audit": "/audit/",
    }


PAGE_NAMES = list(pages_of({"bucket": "b", "key_id": "k", "external": "e", "job": "j"}))

CONTROLS = "a[href], button, input:not([type=hidden]), select, textarea, summary"
UNREACHABLE = """(selector) => Array.from(document.querySelectorAll('main ' + selector.split(', ').join(', main ')))
    .filter((el) => !el.closest('[hidden]') && el.getClientRects().length === 0)
    .map((el) => el.outerHTML.slice(0, 120))"""


@pytest.fixture(scope="module")
def phone_context(new_context, kinko, operator) -> BrowserContext:
    made = new_context()
    sign_in(made, kinko, operator)
    return made


@pytest.fixture
def phone_page(phone_context, guard):
    page = phone_context.new_page()
    page.set_viewport_size(PHONE)
    guard.watch(page)
    yield page
    guard.unwatch(page)
    page.close()
    if guard.problems:
        pytest.fail("the page reported problems:\n" + "\n".join(guard.problems))


def sideways_overflow(page: Page) -> tuple[int, int]:
    return page.evaluate("() => [document.scrollingElement.scrollWidth, window.innerWidth]")


@pytest.mark.parametrize("name", PAGE_NAMES)
def test_every_console_page_fits_a_phone_and_keeps_every_control_reachable(phone_page, site, name):
    page = phone_page
    page.goto(pages_of(site)[name])
    expect(page.locator("main h1")).to_be_visible()
    scroll_width, inner_width = sideways_overflow(page)
    assert scroll_width <= inner_width, f"{name} scrolls sideways on a phone: {scroll_width} > {inner_width}"
    assert page.evaluate(UNREACHABLE, CONTROLS) == [], f"{name} hides controls on a phone"


@pytest.mark.parametrize("name", PAGE_NAMES)
def test_every_console_page_on_a_desktop_has_a_skip_link_and_labelled_checkboxes(page, site, name):
    page.goto(pages_of(site)[name])
    skip = page.get_by_role("link", name="Skip to content")
    page.keyboard.press("Tab")
    expect(skip).to_be_focused()
    expect(skip).to_be_visible()
    skip.press("Enter")
    expect(page.locator("main#content")).to_be_focused()
    unlabelled = page.evaluate(
        """() => Array.from(document.querySelectorAll('input[type=checkbox]'))
        .filter((box) => !box.labels.length && !box.getAttribute('aria-label')).map((box) => box.outerHTML)"""
    )
    assert unlabelled == []


def test_the_navigation_collapses_into_a_menu_on_a_phone(phone_page, site):
    page = phone_page
    page.goto("/")
    menu = page.locator("details.menu")
    buckets = menu.get_by_role("link", name="Buckets")
    expect(buckets).to_be_hidden()
    menu.locator("summary").click()
    expect(buckets).to_be_visible()
    buckets.click()
    expect(page).to_have_url(re.compile(r"/buckets/$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Buckets")


def test_the_navigation_is_open_on_a_desktop(page, site):
    page.goto("/")
    expect(page.locator("details.menu summary")).to_be_hidden()
    for label in ("Overview", "Buckets", "KMS", "Roles", "Users", "Jobs", "Audit"):
        expect(page.get_by_role("navigation").get_by_role("link", name=label, exact=True)).to_be_visible()


def test_a_phone_can_delete_a_bucket_and_disable_a_key(phone_page, site, cos, kms):
    page = phone_page
    bucket = f"phone{uuid.uuid4().hex[:8]}-{APPID}"
    cos.create_bucket(Bucket=bucket)
    page.goto("/buckets/")
    row = page.locator("table.list tr", has_text=bucket)
    row.get_by_role("link", name=re.compile("Delete", re.I)).click()
    expect(page).to_have_url(re.compile(rf"/buckets/{bucket}/delete/$"))
    page.locator("main").get_by_role("button", name=re.compile("Delete", re.I)).click()
    expect(page.locator("p.message")).to_be_visible()
    assert bucket not in [b["Name"] for b in cos.list_buckets()["Buckets"]["Bucket"]]

    key_id = call(kms, "CreateKey", Alias=f"phone-{uuid.uuid4().hex[:6]}").KeyId
    page.goto(f"/kms/keys/{key_id}/")
    page.locator("#disable-key-open").click()
    page.locator("#disable-key").click()
    expect(page.locator("#key-state")).to_have_text("Disabled")
    assert call(kms, "DescribeKey", KeyId=key_id).KeyMetadata.KeyState == "Disabled"
    assert sideways_overflow(page)[0] <= PHONE["width"]


def test_the_header_says_who_is_signed_in_and_signs_out(fresh_page, kinko):
    page = fresh_page
    page.goto("/buckets/")
    expect(page.locator("#signed-in-as")).to_have_text(f"Signed in as {OPERATOR[0]} (root)")
    page.get_by_role("button", name="Sign out").click()
    page.goto("/buckets/")
    expect(page).to_have_url(re.compile(r"/login/\?next=/buckets/$"))


def test_a_sub_users_header_says_sub_user(new_context, kinko, page, site):
    name = f"reader{uuid.uuid4().hex[:6]}"
    password = f"pw-{uuid.uuid4().hex}"
    page.goto("/cam/users/")
    page.locator('input[name="name"]').fill(name)
    page.locator('input[name="password"]').fill(password)
    page.locator("main form.grid").get_by_role("button", name="Add").click()
    expect(page.locator("#new-user-key")).to_be_visible()
    context = new_context()
    sign_in_page = context.new_page()
    guard = PageGuard()
    guard.watch(sign_in_page)
    guard.expect_status(403, r"/$")  # a sub-user without policies may not list the account's buckets
    sign_in_page.goto("/login/")
    sign_in_page.get_by_label("User name").fill(f"{name}@{APPID}")
    sign_in_page.get_by_label("Password").fill(password)
    sign_in_page.get_by_role("button", name="Sign in").click()
    expect(sign_in_page.locator("#signed-in-as")).to_have_text(f"Signed in as {name}@{APPID} (sub-user)")
    guard.unwatch(sign_in_page)
    assert guard.problems == []


def test_the_language_menu_changes_language_only_when_asked(fresh_page):
    page = fresh_page
    page.goto("/kms/")
    menu = page.get_by_label("Language")
    expect(menu.locator("option")).to_have_text(["English", "日本語"])
    menu.select_option("ja")
    page.wait_for_timeout(500)  # a menu that submitted itself on change would have navigated by now
    expect(page.locator("html")).to_have_attribute("lang", "en")
    with page.expect_navigation():
        page.get_by_role("button", name="Change language").click()
    expect(page).to_have_url(re.compile(r"/kms/$"))
    expect(page.locator("html")).to_have_attribute("lang", "ja")
    expect(page.get_by_role("button", name="言語を切り替え")).to_be_visible()
    expect(page.get_by_label("言語").locator("option")).to_have_text(["English", "日本語"])
    page.get_by_label("言語").select_option("en")
    page.get_by_role("button", name="言語を切り替え").click()
    expect(page.locator("html")).to_have_attribute("lang", "en")


# -- Japanese ------------------------------------------------------------------------------------------------

JAPANESE = re.compile(r"[\u3040-\u30ff\u4e00-\u9fff]")
# Names that are the same in both languages: product and wire names (HTTP methods among them), the language menu's
# own names.
SAME_IN_JAPANESE = re.compile(
    r"^(Kinko( 金庫)?|KMS|COS|KeyId|RoleId|UIN|SecretId|SecretKey|SSE-(COS|KMS|C)|COS_QcsRole|English|日本語"
    r"|GET|PUT|POST|DELETE|HEAD"
    r"|[0-9%/ .·—-]*)$"
)
TEXT_OF_CHROME = """() => Array.from(document.querySelectorAll(
    'main h1, main h2, main h3, header nav a, header summary, button, main th, main label, .message'))
    .filter((el) => el.getClientRects().length > 0)
    .map((el) => (el.matches('label') ? Array.from(el.childNodes).filter((n) => n.nodeType === 3)
        .map((n) => n.textContent).join(' ') : el.textContent).replace(/\\s+/g, ' ').trim())
    .filter(Boolean)"""


@pytest.fixture(scope="module")
def japanese_context(new_context, kinko, operator) -> BrowserContext:
    made = new_context(locale="ja-JP")
    sign_in(made, kinko, operator)
    return made


@pytest.fixture
def japanese_page(japanese_context, guard):
    page = japanese_context.new_page()
    guard.watch(page)
    yield page
    guard.unwatch(page)
    page.close()
    if guard.problems:
        pytest.fail("the page reported problems:\n" + "\n".join(guard.problems))


def untranslated(page: Page, names: tuple[str, ...]) -> list[str]:
    """Headings, navigation, buttons, column heads, labels and messages with no Japanese in them, except names
    that are the same in every language and the names of the things on the page."""
    return [
        text
        for text in page.evaluate(TEXT_OF_CHROME)
        if not JAPANESE.search(text) and not SAME_IN_JAPANESE.match(text) and not any(n in text for n in names)
    ]


@pytest.mark.parametrize("name", PAGE_NAMES)
def test_every_console_page_in_japanese_has_no_english_left_in_its_headings_buttons_and_labels(
    japanese_page, site, name
):
    page = japanese_page
    page.goto(pages_of(site)[name])
    expect(page.locator("html")).to_have_attribute("lang", "ja")
    expect(page.locator("header nav")).to_contain_text("バケット")
    expect(page.get_by_role("button", name="サインアウト")).to_be_visible()
    names = (
        site["bucket"],
        "short.txt",
        LONG_KEY,
        VERSIONED_KEY,
        "reports/",
        "a11y-",
        "ext-",
        "Default",
        "COS_QcsRole",
    )
    assert untranslated(page, names) == [], f"{name} has English left"


def test_japanese_key_states_job_states_kinds_and_dates(japanese_page, site, kms):
    page = japanese_page
    page.goto("/kms/")
    row = page.locator("#keys tr", has_text=site["key_id"])
    expect(row.locator("td").nth(3)).to_have_text("有効")
    expect(row).to_contain_text(re.compile(r"\d{4}年\d{1,2}月\d{1,2}日"))
    assert call(kms, "DescribeKey", KeyId=site["key_id"]).KeyMetadata.KeyState == "Enabled"
    page.goto(f"/kms/keys/{site['external']}/")
    expect(page.locator("#key-state")).to_have_text("インポート待ち")
    page.goto("/jobs/")
    job = page.locator("table.list tr", has=page.locator(f'a[href="/jobs/{site["job"]}/"]'))
    expect(job).to_contain_text("暗号化の設定")
    expect(job).to_contain_text("待機中")
    expect(job).to_contain_text(re.compile(r"\d{4}年\d{1,2}月\d{1,2}日 \d{2}:\d{2}"))
    page.goto(f"/jobs/{site['job']}/")
    expect(page.locator("#job-status")).to_have_text("待機中")


# -- screenshots ---------------------------------------------------------------------------------------------


def test_phone_and_japanese_screenshots_go_to_docs_only_under_make_screenshots(
    phone_page, japanese_context, site, screenshot
):
    phone_page.goto("/")
    expect(phone_page.locator("main h1")).to_have_text("Overview")
    taken = [screenshot(phone_page, "phone-overview")]
    phone_page.goto(f"/buckets/{site['bucket']}/")
    expect(phone_page.locator("table.list")).to_contain_text("short.txt")
    taken.append(screenshot(phone_page, "phone-objects"))
    page = japanese_context.new_page()
    try:
        page.goto("/kms/")
        expect(page.locator("main h1")).to_have_text("キー管理サービス")
        taken.append(screenshot(page, "japanese-kms"))
        page.goto("/")
        expect(page.locator("main h1")).to_have_text("概要")
        taken.append(screenshot(page, "japanese-overview"))
    finally:
        page.close()
    asked = os.environ.get("KINKO_SCREENSHOTS") == "1"
    assert all(path.exists() and (path.parent == SCREENSHOTS) == asked for path in taken), taken
