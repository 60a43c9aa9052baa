"""What a person does in the console, in headless Chromium, each result confirmed through the real COS, KMS and CAM
SDKs: sign in, activate the KMS, make COS_QcsRole, create a bucket with default SSE-KMS, upload with progress, read
an object's encryption, re-encrypt a prefix with a job, create/disable/delete/import keys, and the role wizard."""

import base64
import json
import os
import re
import time
import uuid

import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding
from playwright.sync_api import Page, expect
from tencentcloud.cam.v20190116 import cam_client
from tencentcloud.common.exception.tencent_cloud_sdk_exception import TencentCloudSDKException
from tencentcloud.kms.v20190118 import kms_client

from tests.live import APPID, REGION, cos_client
from tests.protocol.api3 import call, cam_for, key_metadata, kms_for

COS_ROLE = "COS_QcsRole"
COS_ROLE_POLICY = "QcloudKMSAccessForCOSRole"
COS_TRUST = json.dumps(
    {
        "version": "2.0",
        "statement": [
            {"action": "name/sts:AssumeRole", "effect": "allow", "principal": {"service": ["cos.cloud.tencent.com"]}},
        ],
    }
)
KEY_ID = r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"
JOB_TIMEOUT_MS = 30_000
WIZARD_STEPS = ["Role entity", "Service", "Policies", "Tags", "Name", "Review", "Done"]


# -- SDK clients ---------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def kms(kinko) -> kms_client.KmsClient:
    return kms_for(kinko)


@pytest.fixture(scope="module")
def cam(kinko) -> cam_client.CamClient:
    return cam_for(kinko)


def attached_role_policies(cam, role_name: str) -> list[str]:
    return [p.PolicyName for p in call(cam, "ListAttachedRolePolicies", RoleName=role_name, Page=1, Rp=200).List]


def delete_role_if_there(cam, name: str) -> None:
    try:
        call(cam, "DeleteRole", RoleName=name)
    except TencentCloudSDKException as exc:
        if exc.code != "InvalidParameter.RoleNotExist":
            raise


def trusted_services(role_info) -> list[str]:
    return json.loads(role_info.PolicyDocument)["statement"][0]["principal"]["service"]


def sse_of(cos, bucket: str, key: str) -> tuple[str | None, str | None]:
    headers = cos.head_object(Bucket=bucket, Key=key)
    return headers.get("x-cos-server-side-encryption"), headers.get("x-cos-server-side-encryption-cos-kms-key-id")


def body_of(cos, bucket: str, key: str) -> bytes:
    return cos.get_object(Bucket=bucket, Key=key)["Body"].get_raw_stream().read()


# -- what the flows need -------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def kms_active(context, kms) -> None:
    """The KMS is on: switched on through the KMS page's button when the activation test has not done it yet."""
    if call(kms, "GetServiceStatus").ServiceEnabled:
        return
    page = context.new_page()
    try:
        page.goto("/kms/")
        page.get_by_role("button", name="Activate the KMS").click()
        expect(page.locator("#keys")).to_be_visible()
    finally:
        page.close()


@pytest.fixture
def cos_role(cam) -> None:
    """COS_QcsRole with its policy, which SSE-KMS through the COS API needs (the role tests delete and remake it)."""
    try:
        call(cam, "GetRole", RoleName=COS_ROLE)
    except TencentCloudSDKException as exc:
        assert exc.code == "InvalidParameter.RoleNotExist", exc
        call(cam, "CreateRole", RoleName=COS_ROLE, PolicyDocument=COS_TRUST)
    call(cam, "AttachRolePolicy", AttachRoleName=COS_ROLE, PolicyName=COS_ROLE_POLICY)


@pytest.fixture
def made_roles(cam):
    """Names of roles a test makes under new names; deleted afterwards."""
    names: list[str] = []
    yield names
    for name in names:
        delete_role_if_there(cam, name)


def status_message(page: Page):
    return page.locator("p.message")


def create_key_in_console(page: Page, alias: str, origin: str = "TENCENT_KMS") -> str:
    """Fill the KMS page's "Create a key" form; the browser lands on the new key's page. Returns its KeyId."""
    page.goto("/kms/")
    form = page.locator("#create-key")
    form.locator('input[name="alias"]').fill(alias)
    form.locator('[name="description"]').fill("made in the browser")
    form.locator('select[name="origin"]').select_option(origin)
    form.locator('select[name="region"]').select_option(REGION)
    form.get_by_role("button", name="Create").click()
    expect(page).to_have_url(re.compile(rf"/kms/keys/{KEY_ID}/$"))
    expect(status_message(page)).to_have_text(f"Key {alias} created.")
    return re.search(KEY_ID, page.url).group(0)


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


# -- signing in, the KMS, the COS service role ---------------------------------------------------------------


def test_signing_in_through_the_login_page_opens_the_page_asked_for(anonymous_page, kinko, operator):
    page = anonymous_page
    page.goto("/buckets/")
    expect(page).to_have_url(f"{kinko.url}/login/?next=/buckets/")
    page.get_by_label("User name").fill(operator[0])
    page.get_by_label("Password").fill(operator[1])
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(f"{kinko.url}/buckets/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Buckets")


def test_activate_the_kms_button_makes_a_default_key_in_each_kms_region(page, kms):
    assert not call(kms, "GetServiceStatus").ServiceEnabled, "the browser tier expects the session's fresh KMS"
    page.goto("/kms/")
    page.get_by_role("button", name="Activate the KMS").click()
    expect(status_message(page)).to_have_text("The KMS is activated: a default key was created in each KMS region.")
    regions = call(kms, "GetRegions").Regions
    rows = page.locator("#keys tr").filter(has=page.locator("td"))
    expect(rows).to_have_count(len(regions))
    assert call(kms, "GetServiceStatus").ServiceEnabled
    shown = rows.filter(has_text=REGION).locator("code").inner_text()
    assert key_metadata(kms, shown).KeyState == "Enabled"


def test_roles_page_button_creates_cos_qcsrole_with_the_kms_policy(page, cam):
    delete_role_if_there(cam, COS_ROLE)
    page.goto("/cam/roles/")
    page.get_by_role("button", name="Create the COS service role").click()
    expect(status_message(page)).to_have_text("COS_QcsRole is ready: COS may now use your KMS keys for SSE-KMS.")
    expect(page.get_by_role("button", name="Create the COS service role")).to_have_count(0)
    assert trusted_services(call(cam, "GetRole", RoleName=COS_ROLE).RoleInfo) == ["cos.cloud.tencent.com"]
    assert attached_role_policies(cam, COS_ROLE) == [COS_ROLE_POLICY]


# -- buckets and objects -------------------------------------------------------------------------------------


def test_creating_a_bucket_with_default_sse_kms_sets_kms_bucket_encryption(page, kms_active, cos, screenshot):
    short = unique("browser")
    name = f"{short}-{APPID}"
    page.goto("/buckets/")
    form = page.locator("#create-bucket")
    form.locator('input[name="name"]').fill(short)
    form.locator('select[name="region"]').select_option(REGION)
    form.locator('select[name="encryption"]').select_option("KMS")
    form.get_by_role("button", name="Create").click()
    try:
        expect(page).to_have_url(f"/buckets/{name}/")
        expect(status_message(page)).to_have_text(f"Bucket {name} created.")
        rule = cos.get_bucket_encryption(Bucket=name)["Rule"]
        assert rule[0]["ApplyServerSideEncryptionByDefault"]["SSEAlgorithm"] == "KMS"
        page.goto("/buckets/")
        expect(page.locator("table.list tr", has_text=name)).to_contain_text("KMS")
        screenshot(page, "buckets")
    finally:
        cos.delete_bucket(Bucket=name)


def test_uploading_two_files_fills_both_progress_bars_and_stores_them_with_the_chosen_kms_key(
    fresh_page, kms_active, cos_role, kms, cos, bucket, screenshot
):
    page = fresh_page  # a context of its own: the fake clock stays in it
    chosen_key = call(kms, "CreateKey", Alias=unique("browser-upload")).KeyId
    files = {"first.bin": os.urandom(3 * 1024 * 1024 + 7), "second.txt": b"second file\n" * 5000}
    page.clock.install()  # the page reloads 600 ms after the uploads: it may only when the test says
    page.clock.pause_at(time.time() + 5)
    page.goto(f"/buckets/{bucket}/?prefix=reports/")
    page.locator("#upload-sse").select_option("cos/kms")
    page.locator("#upload-kms-key").select_option(chosen_key)
    page.set_input_files(
        "#upload-files",
        [{"name": n, "mimeType": "application/octet-stream", "buffer": body} for n, body in files.items()],
    )
    for name in files:
        expect(page.locator(f'#upload-progress progress[data-file="{name}"]')).to_have_js_property("value", 100)
    expect(page.locator("#upload-progress li.done")).to_have_count(2)
    screenshot(page, "objects-upload")
    with page.expect_navigation():
        page.clock.run_for(1000)
    for name in files:
        expect(page.locator("table.list tr", has_text=name)).to_contain_text("SSE-KMS")  # names relative to reports/
    for name, body in files.items():
        assert body_of(cos, bucket, f"reports/{name}") == body
        assert sse_of(cos, bucket, f"reports/{name}") == ("cos/kms", chosen_key)


@pytest.mark.parametrize(("sse", "shown"), [("AES256", "SSE-COS"), ("cos/kms", "SSE-KMS")])
def test_object_page_shows_the_objects_encryption(page, kms_active, cos_role, cos, bucket, sse, shown, screenshot):
    key = f"detail/{shown.lower()}.txt"
    cos.put_object(Bucket=bucket, Key=key, Body=b"what the detail page describes", ServerSideEncryption=sse)
    page.goto(f"/buckets/{bucket}/?prefix=detail/")
    page.get_by_role("link", name=key.removeprefix("detail/"), exact=True).click()  # names relative to the folder
    expect(page).to_have_url(f"/buckets/{bucket}/object/{key}")
    expect(page.locator("#object-encryption")).to_have_text(shown)
    screenshot(page, f"object-detail-{shown.lower()}")


def start_sse_cos_job_on_prefix(page: Page, bucket: str, prefix: str) -> None:
    """ "Set encryption" SSE-COS on every object under the prefix; the browser is sent to the job's page."""
    page.goto(f"/buckets/{bucket}/?prefix={prefix}")
    form = page.locator("#objects-form")
    expect(form.locator('input[name="prefix"]')).to_have_value(prefix)
    form.locator('select[name="sse"]').select_option("AES256")
    form.get_by_label("Every object under the prefix").check()
    page.locator("#set-encryption").click()
    expect(page).to_have_url(re.compile(rf"/jobs/{KEY_ID}/$"))


def test_job_page_stops_offering_cancel_once_the_job_has_finished(
    page, kms_active, cos_role, cos, bucket, start_worker
):
    cos.put_object(Bucket=bucket, Key="once/only.bin", Body=b"one object", ServerSideEncryption="cos/kms")
    start_sse_cos_job_on_prefix(page, bucket, "once/")
    cancel = page.get_by_role("button", name="Cancel")
    expect(page.locator("#job-status")).to_have_text("queued")  # no worker yet: the job waits
    expect(cancel).to_be_visible()
    start_worker()
    expect(page.locator("#job-status")).to_have_text("succeeded", timeout=JOB_TIMEOUT_MS)
    expect(cancel).to_have_count(0)


def test_set_encryption_sse_cos_on_a_prefix_runs_a_job_to_100_percent(
    page, kms_active, cos_role, cos, bucket, start_worker, screenshot
):
    start_worker()
    inside = {f"archive/{n}.bin": os.urandom(20_000 + n) for n in range(3)}
    outside = {"keep/outside.bin": os.urandom(1000)}
    for key, body in {**inside, **outside}.items():
        cos.put_object(Bucket=bucket, Key=key, Body=body, ServerSideEncryption="cos/kms")
    start_sse_cos_job_on_prefix(page, bucket, "archive/")
    expect(page.locator("#job-percent")).to_have_text("100%", timeout=JOB_TIMEOUT_MS)
    expect(page.locator("#job-status")).to_have_text("succeeded")
    expect(page.locator("#job-progress progress")).to_have_js_property("value", 100)
    screenshot(page, "job-progress")
    for key, body in inside.items():
        assert sse_of(cos, bucket, key) == ("AES256", None)
        assert body_of(cos, bucket, key) == body
    assert sse_of(cos, bucket, "keep/outside.bin")[0] == "cos/kms"


def test_overview_counts_the_objects_of_every_bucket(page, kms_active, cos_role, cos, bucket, screenshot):
    for n, sse in enumerate(["AES256", "cos/kms", "AES256"]):
        cos.put_object(Bucket=bucket, Key=f"overview/{n}.txt", Body=b"x" * (1000 * (n + 1)), ServerSideEncryption=sse)
    buckets = [b["Name"] for b in cos.list_buckets()["Buckets"]["Bucket"]]
    objects = sum(len(cos.list_objects(Bucket=name, MaxKeys=1000).get("Contents", [])) for name in buckets)
    page.goto("/")
    stats = page.locator(".stats .stat span")
    expect(stats.nth(0)).to_have_text(str(len(buckets)))
    expect(stats.nth(1)).to_have_text(str(objects))
    expect(stats.nth(3)).to_have_text("active")
    screenshot(page, "overview")


# -- KMS keys ------------------------------------------------------------------------------------------------


def test_create_a_key_form_makes_an_enabled_key(page, kms_active, kms, screenshot):
    alias = unique("browser-key")
    key_id = create_key_in_console(page, alias)
    expect(page.locator("#key-state")).to_have_text("Enabled")
    screenshot(page, "key-detail")
    found = key_metadata(kms, key_id)
    assert (found.Alias, found.KeyState, found.Origin, found.Description) == (
        alias,
        "Enabled",
        "TENCENT_KMS",
        "made in the browser",
    )
    page.goto("/kms/")
    expect(page.locator("#keys tr", has_text=alias)).to_contain_text("Enabled")
    screenshot(page, "kms-keys")


def test_disable_button_disables_the_key(page, kms_active, kms):
    key_id = create_key_in_console(page, unique("browser-disable"))
    page.locator("#disable-key-open").click()
    page.locator("#disable-key").click()
    expect(page.locator("#key-state")).to_have_text("Disabled")
    assert key_metadata(kms, key_id).KeyState == "Disabled"


def test_scheduling_deletion_of_a_disabled_key_leaves_it_pending_delete_until_its_deletion_date(page, kms_active, kms):
    key_id = create_key_in_console(page, unique("browser-delete"))
    page.locator("#disable-key-open").click()
    page.locator("#disable-key").click()
    expect(page.locator("#key-state")).to_have_text("Disabled")
    form = page.locator("#schedule-deletion")
    form.locator('input[name="pending_window_in_days"]').fill("7")
    questions = []
    page.once("dialog", lambda dialog: (questions.append(dialog.message), dialog.accept()))
    form.get_by_role("button", name="Schedule deletion").click()
    expect(page.locator("#key-state")).to_have_text("PendingDelete")
    expect(page.locator("#deletion-date")).to_be_visible()
    assert questions == ["Schedule this key for deletion?"]
    found = key_metadata(kms, key_id)
    assert found.KeyState == "PendingDelete"
    assert 6 * 86400 < found.DeletionDate - time.time() <= 8 * 86400


def test_import_wizard_takes_wrapped_material_and_the_key_then_encrypts_and_decrypts(page, kms_active, kms, screenshot):
    key_id = create_key_in_console(page, unique("browser-external"), origin="EXTERNAL")
    expect(page.locator("#key-state")).to_have_text("PendingImport")
    assert key_metadata(kms, key_id).KeyState == "PendingImport"
    page.locator("#import-material").click()
    page.locator('#import-parameters select[name="wrapping_algorithm"]').select_option("RSAES_OAEP_SHA_256")
    page.get_by_role("button", name="Get the wrapping public key").click()
    public_der = base64.b64decode(page.locator("#wrapping-public-key").input_value())
    token = page.locator("#import-token").inner_text()
    form = page.locator("#import-material-form")
    expect(form.locator('input[name="import_token"]')).to_have_value(token)
    wrapping_key = serialization.load_der_public_key(public_der)
    oaep = padding.OAEP(mgf=padding.MGF1(hashes.SHA256()), algorithm=hashes.SHA256(), label=None)
    wrapped = wrapping_key.encrypt(os.urandom(32), oaep)
    form.locator('textarea[name="encrypted_key_material"]').fill(base64.b64encode(wrapped).decode())
    screenshot(page, "import-wizard")
    form.get_by_role("button", name="Import").click()
    expect(page).to_have_url(f"/kms/keys/{key_id}/")
    expect(status_message(page)).to_have_text("Key material imported: the key is enabled.")
    expect(page.locator("#key-state")).to_have_text("Enabled")
    found = key_metadata(kms, key_id)
    assert (found.KeyState, found.Origin) == ("Enabled", "EXTERNAL")
    plaintext = base64.b64encode(b"sealed with imported material").decode()
    blob = call(kms, "Encrypt", KeyId=key_id, Plaintext=plaintext).CiphertextBlob
    assert call(kms, "Decrypt", CiphertextBlob=blob).Plaintext == plaintext


# -- the role wizard, users ----------------------------------------------------------------------------------


def walk_role_wizard(page: Page, name: str, tag: tuple[str, str], screenshot=None) -> None:
    """The seven steps: entity, service, policies (ticked through the search box), tag, name, review, done."""
    current = page.locator("ol.steps li.current")
    next_button = page.locator("#wizard-next")
    page.goto("/cam/roles/")
    page.locator("#new-role").click()
    expect(current).to_have_text(WIZARD_STEPS[0])
    page.get_by_label("Tencent Cloud product service").check()
    next_button.click()
    expect(current).to_have_text(WIZARD_STEPS[1])
    page.get_by_label("Cloud Object Storage (COS)").check()
    next_button.click()
    expect(current).to_have_text(WIZARD_STEPS[2])
    page.locator("#policy-search").fill("kmsaccessforcos")
    expect(page.locator("#policy-list li:visible")).to_have_count(1)
    expect(page.locator("#policy-list li:visible")).to_have_attribute("data-name", COS_ROLE_POLICY)
    page.get_by_label(COS_ROLE_POLICY).check()
    if screenshot:
        screenshot(page, "role-wizard-step3")
    next_button.click()
    expect(current).to_have_text(WIZARD_STEPS[3])
    page.get_by_label("Tag key").fill(tag[0])
    page.get_by_label("Tag value").fill(tag[1])
    next_button.click()
    expect(current).to_have_text(WIZARD_STEPS[4])
    page.get_by_label("Role name").fill(name)
    next_button.click()
    expect(current).to_have_text(WIZARD_STEPS[5])
    review = page.locator("#role-wizard dl.facts")
    for shown in ("cos.cloud.tencent.com", COS_ROLE_POLICY, f"{tag[0]}={tag[1]}", name):
        expect(review).to_contain_text(shown)
    expect(next_button).to_have_text("Done")
    next_button.click()
    expect(current).to_have_text(WIZARD_STEPS[6])
    expect(page.locator("#wizard-done")).to_have_text(f"Role {name} was created.")


def test_role_wizard_creates_cos_qcsrole_in_seven_steps(page, cam):
    delete_role_if_there(cam, COS_ROLE)
    walk_role_wizard(page, COS_ROLE, ("purpose", "sse-kms"))
    info = call(cam, "GetRole", RoleName=COS_ROLE).RoleInfo
    assert trusted_services(info) == ["cos.cloud.tencent.com"]
    assert attached_role_policies(cam, COS_ROLE) == [COS_ROLE_POLICY]
    page.goto("/cam/roles/")
    expect(page.get_by_role("button", name="Create the COS service role")).to_have_count(0)


def test_role_wizard_creates_a_tagged_role_under_a_new_name(page, cam, made_roles, screenshot):
    name = unique("BrowserRole")
    made_roles.append(name)
    walk_role_wizard(page, name, ("team", "storage"), screenshot)
    info = call(cam, "GetRole", RoleName=name).RoleInfo
    assert (info.RoleName, trusted_services(info)) == (name, ["cos.cloud.tencent.com"])
    assert [(tag.Key, tag.Value) for tag in info.Tags] == [("team", "storage")]
    assert attached_role_policies(cam, name) == [COS_ROLE_POLICY]


def test_adding_a_sub_user_shows_a_working_key_pair_once(page, kinko, cam, screenshot):
    name = unique("browser-user")
    page.goto("/cam/users/")
    page.locator('input[name="name"]').fill(name)
    page.locator('input[name="remark"]').fill("made in the browser")
    page.locator('select[name="policies"]').select_option(["QcloudCOSReadOnlyAccess"])
    page.get_by_role("button", name="Add").click()
    shown = page.locator("#new-user-key code")
    secret_id, secret_key = shown.nth(0).inner_text(), shown.nth(1).inner_text()
    try:
        assert call(cam, "GetUser", Name=name).Remark == "made in the browser"
        own_cos = cos_client(kinko, secret_id=secret_id, secret_key=secret_key)
        assert "Buckets" in own_cos.list_buckets()
        page.goto("/cam/users/")
        expect(page.locator("table.list tr", has_text=name)).to_contain_text(secret_id)
        expect(page.locator("#new-user-key")).to_have_count(0)
        expect(page.locator("body")).not_to_contain_text(secret_key)
        screenshot(page, "users")  # after the reload: the committed picture shows no SecretKey
    finally:
        call(cam, "DeleteUser", Name=name, Force=1)


# -- language and small screens ------------------------------------------------------------------------------


def test_choosing_japanese_in_the_language_menu_serves_the_console_in_japanese(fresh_page):
    page = fresh_page
    page.goto("/buckets/")
    page.get_by_label("Language").select_option("ja")
    with page.expect_navigation():
        page.get_by_role("button", name="Change language").click()
    expect(page.locator("html")).to_have_attribute("lang", "ja")
    expect(page.get_by_role("heading", level=1)).to_have_text("バケット")


def test_objects_page_fits_a_phone_screen_without_sideways_scrolling(page, cos, bucket):
    for key in ("short.txt", "reports/2026/quarterly-encryption-summary-for-the-storage-team-final-v2.pdf"):
        cos.put_object(Bucket=bucket, Key=key, Body=b"phone", ServerSideEncryption="AES256")
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(f"/buckets/{bucket}/")
    expect(page.locator("table.list tr", has_text="short.txt")).to_be_visible()
    scroll_width, inner_width = page.evaluate("() => [document.scrollingElement.scrollWidth, window.innerWidth]")
    assert scroll_width <= inner_width + 1
