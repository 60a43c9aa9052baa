"""The KMS pages in headless Chromium, on a Kinko of their own (so the audit counts and the KMS's activation are
this module's alone), each effect confirmed through the tencentcloud KMS/CAM SDKs: page views write no audit
event, form errors sit next to their field with the values kept, the import wizard (files, OpenSSL, Back,
resuming), rotate now, deleting and re-importing material, tags, the disable confirmation with its impact, a
read-only sub-user's read-only page, the missing-key page, a phone screen and Japanese."""

import base64
import contextlib
import datetime
import json
import os
import re
import subprocess
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from playwright.sync_api import BrowserContext, Page, expect
from tencentcloud.cam.v20190116 import cam_client
from tencentcloud.kms.v20190118 import kms_client

from tests.browser.conftest import manage_env
from tests.live import APPID, LiveKinko, cos_client, manage_py, running_kinko
from tests.protocol.api3 import call, cam_for, code_of, key_metadata, kms_for

OPERATOR = "kms-operator"
PASSWORD = f"kms-{uuid.uuid4().hex}"
KEY_ID = r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"
TIMEOUT_MS = 30_000  # a shared CI machine under load answers slowly; a wait bound, not an assertion
EXPECT_TIMEOUT_MS = 15_000
PHONE = {"width": 390, "height": 844}


# -- a server, SDK clients and signed-in browsers of this module's own ------------------------------------------


@pytest.fixture(scope="module")
def server(tmp_path_factory) -> LiveKinko:
    with running_kinko(tmp_path_factory.mktemp("kms-console"), https=False, workers=1) as started:
        manage_py(
            manage_env(started),
            "shell",
            "--verbosity",
            "0",
            "-c",
            "from django.contrib.auth import get_user_model\n"
            f"user = get_user_model().objects.create_superuser({OPERATOR!r}, password={PASSWORD!r})",
        )
        yield started


@pytest.fixture(scope="module", autouse=True)
def _patient_expectations():
    expect.set_options(timeout=EXPECT_TIMEOUT_MS)
    yield
    expect.set_options(timeout=5_000)  # Playwright's default, for the modules that run after this one


@pytest.fixture(scope="module")
def kms(server) -> kms_client.KmsClient:
    return kms_for(server)


@pytest.fixture(scope="module")
def cam(server) -> cam_client.CamClient:
    return cam_for(server)


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


@pytest.fixture(scope="module")
def contexts(browser, server):
    made: list[BrowserContext] = []

    def make(username: str = OPERATOR, password: str = PASSWORD, **options) -> BrowserContext:
        options.setdefault("viewport", {"width": 1280, "height": 900})
        context = browser.new_context(base_url=server.url, accept_downloads=True, **options)
        context.set_default_timeout(TIMEOUT_MS)
        made.append(context)
        page = context.new_page()
        page.goto("/login/?next=/kms/")
        page.locator('input[name="username"]').fill(username)
        page.locator('input[name="password"]').fill(password)
        page.locator('form:has(input[name="password"]) button[type="submit"]').click()
        expect(page).to_have_url(f"{server.url}/kms/")
        page.close()
        return context

    yield make
    for context in made:
        context.close()


@pytest.fixture(scope="module")
def desktop(contexts, kms) -> BrowserContext:
    """The operator at 1280 px, with the KMS activated through the KMS page's button."""
    context = contexts()
    assert not call(kms, "GetServiceStatus").ServiceEnabled
    page = context.new_page()
    page.goto("/kms/")
    page.get_by_role("button", name="Activate the KMS").click()
    expect(page.locator("#keys")).to_be_visible()
    page.close()
    assert call(kms, "GetServiceStatus").ServiceEnabled
    return context


@contextlib.contextmanager
def checked(context: BrowserContext, guard) -> Iterator[Page]:
    """A page of `context` watched by the guard (console errors, failed requests, axe), checked when done."""
    page = context.new_page()
    guard.watch(page)
    yield page
    guard.unwatch(page)
    page.close()
    if guard.problems:
        pytest.fail("the page reported problems:\n" + "\n".join(guard.problems))


@pytest.fixture
def page(desktop, guard) -> Page:
    with checked(desktop, guard) as watched:
        yield watched


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


def create_key(kms, origin: str = "TENCENT_KMS") -> str:
    return call(kms, "CreateKey", Alias=unique("console"), Type=1 if origin == "TENCENT_KMS" else 2).KeyId


def status_message(page: Page):
    return page.locator("p.message")


def field_error(page: Page, form: str, name: str):
    return page.locator(f'{form} .field:has([name="{name}"]) .field-error')


# -- audit: looking is not a KMS call --------------------------------------------------------------------------


def audit_rows(server: LiveKinko) -> list[dict]:
    """Every audit event in the server's database, oldest first (read with manage.py, beside the server)."""
    out = manage_py(
        manage_env(server),
        "shell",
        "--verbosity",
        "0",
        "-c",
        "import json\nfrom keys.models import AuditEvent\n"
        "print(json.dumps(list(AuditEvent.objects.order_by('id').values("
        "'action', 'actor', 'key_id', 'request_id', 'error_code'))))",
    )
    return json.loads(out)


def test_visiting_the_kms_pages_writes_no_audit_event_and_disabling_writes_one_with_the_operator(page, server, kms):
    key_id = create_key(kms)
    before = audit_rows(server)
    for _ in range(3):
        page.goto("/kms/")
        expect(page.locator("#keys")).to_be_visible()
        page.goto(f"/kms/keys/{key_id}/")
        expect(page.locator("#key-state")).to_have_text("Enabled")
    assert audit_rows(server) == before
    page.locator("#disable-key-open").click()
    page.locator("#disable-key").click()
    expect(page.locator("#key-state")).to_have_text("Disabled")
    after = audit_rows(server)
    assert len(after) == len(before) + 1
    event = after[-1]
    assert (event["action"], event["actor"], event["key_id"], event["error_code"]) == (
        "DisableKey",
        f"console:{OPERATOR}",
        key_id,
        "",
    )
    assert re.fullmatch(r"[0-9a-f-]{36}", event["request_id"])
    listed = requests.get(
        f"{server.url}/api/v1/kms/keys/{key_id}/audit/",
        headers={"Authorization": f"Token {server.api_token}"},
        timeout=10,
    ).json()["results"]
    assert [(e["action"], e["request_id"]) for e in listed][0] == ("DisableKey", event["request_id"])
    assert key_metadata(kms, key_id).KeyState == "Disabled"


# -- form errors next to their field, values kept -------------------------------------------------------------


def test_a_too_long_description_is_refused_next_to_the_field_with_what_was_typed_kept(page, kms):
    alias, description = unique("long"), "鍵" * 400  # 400 characters, 1200 bytes
    page.goto("/kms/")
    form = page.locator("#create-key")
    form.locator('input[name="alias"]').fill(alias)
    form.locator('[name="description"]').fill(description)
    form.locator('select[name="origin"]').select_option("EXTERNAL")
    form.get_by_role("button", name="Create").click()
    expect(field_error(page, "#create-key", "description")).to_contain_text("1200 bytes")
    expect(form.locator('input[name="alias"]')).to_have_value(alias)
    expect(form.locator('[name="description"]')).to_have_value(description)
    expect(form.locator('select[name="origin"]')).to_have_value("EXTERNAL")
    expect(status_message(page)).to_have_count(0)
    found = call(kms, "ListKeyDetail", SearchKeyAlias=alias, Limit=10)
    assert found.TotalCount == 0


def test_an_alias_the_kms_refuses_is_shown_next_to_the_alias_field(page, kms):
    page.goto("/kms/")
    form = page.locator("#create-key")
    form.locator('input[name="alias"]').fill("kms-reserved")
    form.locator('[name="description"]').fill("kept")
    form.get_by_role("button", name="Create").click()
    expect(field_error(page, "#create-key", "alias")).to_contain_text("does not start with 'kms-'")
    expect(form.locator('[name="description"]')).to_have_value("kept")
    assert call(kms, "ListKeyDetail", SearchKeyAlias="kms-reserved", Limit=10).TotalCount == 0


@pytest.mark.parametrize("days", ["400", "3", ""])
def test_rotation_days_out_of_range_are_refused_next_to_the_field(page, kms, days):
    key_id = create_key(kms)
    page.goto(f"/kms/keys/{key_id}/")
    form = page.locator("#rotation-form")
    form.locator('input[name="rotation_enabled"]').check()
    form.locator('input[name="rotate_days"]').fill(days)
    form.get_by_role("button", name="Save").click()
    expect(field_error(page, "#rotation-form", "rotate_days")).to_be_visible()
    expect(form.locator('input[name="rotate_days"]')).to_have_value(days)
    expect(form.locator('input[name="rotation_enabled"]')).to_be_checked()
    assert call(kms, "GetKeyRotationStatus", KeyId=key_id).KeyRotationEnabled is False


@pytest.mark.parametrize("days", ["45", "6"])
def test_deletion_days_outside_7_to_30_are_refused_next_to_the_field(page, kms, days):
    key_id = create_key(kms)
    call(kms, "DisableKey", KeyId=key_id)
    page.goto(f"/kms/keys/{key_id}/")
    form = page.locator("#schedule-deletion")
    form.locator('input[name="pending_window_in_days"]').fill(days)
    page.once("dialog", lambda dialog: dialog.accept())
    form.get_by_role("button", name="Schedule deletion").click()
    expect(field_error(page, "#schedule-deletion", "pending_window_in_days")).to_have_text(
        "A key waits 7 to 30 days before it is deleted."
    )
    expect(form.locator('input[name="pending_window_in_days"]')).to_have_value(days)
    assert key_metadata(kms, key_id).KeyState == "Disabled"


def test_a_description_edit_over_1024_bytes_is_refused_and_a_short_one_saved(page, kms):
    key_id = create_key(kms)
    page.goto(f"/kms/keys/{key_id}/")
    form = page.locator("#description-form")
    form.locator('[name="description"]').fill("ü" * 513)
    form.get_by_role("button", name="Save the description").click()
    expect(field_error(page, "#description-form", "description")).to_contain_text("1026 bytes")
    expect(form.locator('[name="description"]')).to_have_value("ü" * 513)
    assert key_metadata(kms, key_id).Description == ""
    form.locator('[name="description"]').fill("payroll exports")
    form.get_by_role("button", name="Save the description").click()
    expect(status_message(page)).to_have_text("The description is saved.")
    expect(page.locator("#key-description")).to_have_text("payroll exports")
    assert key_metadata(kms, key_id).Description == "payroll exports"


# -- the import wizard -----------------------------------------------------------------------------------------


def start_import(page: Page, key_id: str, algorithm: str) -> None:
    page.goto(f"/kms/keys/{key_id}/")
    page.locator("#import-material").click()
    page.locator('#import-parameters select[name="wrapping_algorithm"]').select_option(algorithm)
    page.get_by_role("button", name="Get the wrapping public key").click()
    expect(page.locator("ol.steps li.current")).to_have_text("Upload wrapped material")


def download(page: Page, button: str, folder: Path) -> Path:
    with page.expect_download() as got:
        page.locator(button).click()
    saved = folder / got.value.suggested_filename
    got.value.save_as(saved)
    return saved


def wrap_with_shown_commands(page: Page, folder: Path, material: bytes | None = None) -> Path:
    """Run the wizard's OpenSSL commands in `folder` (beside the downloaded public key); `material`, when given,
    replaces the random bytes the first command makes (a re-import needs the same material)."""
    commands = page.locator("#openssl-commands").inner_text().strip().splitlines()
    assert commands[0].startswith("openssl rand ") and commands[1].startswith("openssl pkeyutl -encrypt ")
    if material is None:
        subprocess.run(commands[0].split(), cwd=folder, check=True)
    else:
        (folder / commands[0].split()[3]).write_bytes(material)
    subprocess.run(commands[1].split(), cwd=folder, check=True, capture_output=True)
    return folder / re.search(r"-out (\S+)", commands[1]).group(1)


@pytest.mark.parametrize("algorithm", ["RSAES_OAEP_SHA_256", "RSAES_OAEP_SHA_1"])
def test_import_wizard_downloads_files_shows_openssl_commands_and_imports_the_wrapped_file(
    page, kms, tmp_path, algorithm
):
    key_id = create_key(kms, origin="EXTERNAL")
    start_import(page, key_id, algorithm)
    token_in_form = page.locator('#import-material-form input[name="import_token"]').input_value()
    public_key = download(page, "#download-public-key", tmp_path)
    token_file = download(page, "#download-token", tmp_path)
    assert public_key.name == f"wrapping_public_key_{key_id}.pem"
    assert public_key.read_text().startswith("-----BEGIN PUBLIC KEY-----")
    assert token_file.read_text() == token_in_form
    if algorithm == "RSAES_OAEP_SHA_1":
        expect(page.locator("#openssl-commands")).to_contain_text("rsa_oaep_md:sha1")
    wrapped = wrap_with_shown_commands(page, tmp_path)
    assert wrapped.stat().st_size == 256
    form = page.locator("#import-material-form")
    form.locator('input[name="material_file"]').set_input_files(str(wrapped))
    form.get_by_role("button", name="Import").click()
    expect(page).to_have_url(f"/kms/keys/{key_id}/")
    expect(status_message(page)).to_have_text("Key material imported: the key is enabled.")
    assert key_metadata(kms, key_id).KeyState == "Enabled"
    plaintext = b64(b"wrapped by openssl")
    blob = call(kms, "Encrypt", KeyId=key_id, Plaintext=plaintext).CiphertextBlob
    assert call(kms, "Decrypt", CiphertextBlob=blob).Plaintext == plaintext


def test_an_expiry_in_the_past_keeps_the_wizard_on_step_two_with_every_value(page, kms, tmp_path):
    key_id = create_key(kms, origin="EXTERNAL")
    start_import(page, key_id, "RSAES_OAEP_SHA_256")
    token = page.locator("#import-token").inner_text()
    download(page, "#download-public-key", tmp_path)
    wrapped_b64 = b64(wrap_with_shown_commands(page, tmp_path).read_bytes())
    form = page.locator("#import-material-form")
    form.locator('[name="encrypted_key_material"]').fill(wrapped_b64)
    form.locator('input[name="valid_to"]').fill("2020-01-01T00:00")
    form.get_by_role("button", name="Import").click()
    expect(field_error(page, "#import-material-form", "valid_to")).to_have_text("The expiry must be in the future.")
    expect(page.locator("ol.steps li.current")).to_have_text("Upload wrapped material")
    expect(page.locator("#import-token")).to_have_text(token)
    expect(form.locator('[name="encrypted_key_material"]')).to_have_value(wrapped_b64)
    expect(form.locator('input[name="valid_to"]')).to_have_value("2020-01-01T00:00")
    assert key_metadata(kms, key_id).KeyState == "PendingImport"
    expires = (datetime.datetime.now(datetime.UTC) + datetime.timedelta(days=30)).replace(second=0, microsecond=0)
    form.locator('input[name="valid_to"]').fill(expires.strftime("%Y-%m-%dT%H:%M"))
    form.get_by_role("button", name="Import").click()
    expect(status_message(page)).to_have_text("Key material imported: the key is enabled.")
    expect(page.locator("#material-expires")).to_be_visible()
    found = key_metadata(kms, key_id)
    assert (found.KeyState, found.ValidTo) == ("Enabled", int(expires.timestamp()))


def test_material_wrapped_for_another_import_is_refused_on_step_two_and_back_returns_to_step_one(page, kms, tmp_path):
    key_id = create_key(kms, origin="EXTERNAL")
    start_import(page, key_id, "RSAES_OAEP_SHA_1")
    not_wrapped = tmp_path / "random.bin"
    not_wrapped.write_bytes(os.urandom(256))
    form = page.locator("#import-material-form")
    form.locator('input[name="material_file"]').set_input_files(str(not_wrapped))
    form.get_by_role("button", name="Import").click()
    expect(field_error(page, "#import-material-form", "material_file")).to_contain_text("could not be unwrapped")
    expect(page.locator("#choose-file-again")).to_be_visible()
    expect(page.locator("ol.steps li.current")).to_have_text("Upload wrapped material")
    form.locator('[name="encrypted_key_material"]').fill(b64(b"not wrapped at all"))
    form.get_by_role("button", name="Import").click()
    expect(field_error(page, "#import-material-form", "encrypted_key_material")).to_contain_text(
        "could not be unwrapped"
    )
    expect(form.locator('[name="encrypted_key_material"]')).to_have_value(b64(b"not wrapped at all"))
    assert key_metadata(kms, key_id).KeyState == "PendingImport"
    page.locator("#import-back").click()
    expect(page.locator("ol.steps li.current")).to_have_text("Wrapping parameters")
    expect(page.locator('#import-parameters select[name="wrapping_algorithm"]')).to_have_value("RSAES_OAEP_SHA_1")


def test_deleting_imported_material_leaves_the_key_waiting_and_reimporting_it_decrypts_old_data(page, kms, tmp_path):
    key_id, material = create_key(kms, origin="EXTERNAL"), os.urandom(32)
    start_import(page, key_id, "RSAES_OAEP_SHA_256")
    download(page, "#download-public-key", tmp_path)
    page.locator('#import-material-form input[name="material_file"]').set_input_files(
        str(wrap_with_shown_commands(page, tmp_path, material))
    )
    page.locator("#import-submit").click()
    expect(page.locator("#key-state")).to_have_text("Enabled")
    plaintext = b64(b"made before the material was deleted")
    blob = call(kms, "Encrypt", KeyId=key_id, Plaintext=plaintext).CiphertextBlob
    page.locator("#delete-material-open").click()
    page.locator("#delete-material").click()
    expect(page.locator("#key-state")).to_have_text("PendingImport")
    assert key_metadata(kms, key_id).KeyState == "PendingImport"
    assert code_of(kms, "Decrypt", CiphertextBlob=blob).startswith("ResourceUnavailable")
    again = tmp_path / "again"
    again.mkdir()
    start_import(page, key_id, "RSAES_OAEP_SHA_256")
    download(page, "#download-public-key", again)
    page.locator('#import-material-form input[name="material_file"]').set_input_files(
        str(wrap_with_shown_commands(page, again, material))
    )
    page.locator("#import-submit").click()
    expect(page.locator("#key-state")).to_have_text("Enabled")
    assert key_metadata(kms, key_id).KeyState == "Enabled"
    assert call(kms, "Decrypt", CiphertextBlob=blob).Plaintext == plaintext


# -- rotation, tags, the disable confirmation -----------------------------------------------------------------


def test_rotate_now_makes_new_material_and_data_encrypted_before_still_decrypts(page, kms):
    key_id = create_key(kms)
    plaintext = b64(b"encrypted before the rotation")
    old_blob = call(kms, "Encrypt", KeyId=key_id, Plaintext=plaintext).CiphertextBlob
    page.goto(f"/kms/keys/{key_id}/")
    expect(page.locator("#last-rotation")).to_contain_text("Never")
    expect(page.locator("#rotate-now-note")).to_have_text("Turn on automatic rotation to rotate on demand.")
    form = page.locator("#rotation-form")
    form.locator('input[name="rotation_enabled"]').check()
    form.locator('input[name="rotate_days"]').fill("30")
    form.get_by_role("button", name="Save").click()
    expect(status_message(page)).to_have_text("Automatic rotation is on: every 30 days.")
    next_rotation = key_metadata(kms, key_id).NextRotateTime
    shown_next = datetime.datetime.fromtimestamp(next_rotation, datetime.UTC)
    expect(page.locator("#next-rotation")).to_contain_text(str(shown_next.year))
    page.get_by_role("button", name="Rotate now").click()
    expect(status_message(page)).to_contain_text("The key material was rotated")
    expect(page.locator("#material-versions")).to_have_text("2")
    found = key_metadata(kms, key_id)
    assert abs(found.LastRotateTime - time.time()) < 120
    expect(page.locator("#rotate-now")).to_have_count(0)
    expect(page.locator("#rotate-now-note")).to_contain_text("again after")
    assert call(kms, "Decrypt", CiphertextBlob=old_blob).Plaintext == plaintext
    new_blob = call(kms, "Encrypt", KeyId=key_id, Plaintext=plaintext).CiphertextBlob
    assert new_blob != old_blob and call(kms, "Decrypt", CiphertextBlob=new_blob).Plaintext == plaintext


def tagged(kms, key_id: str, tag_key: str, values: list[str]) -> bool:
    tag_filter = {"TagKey": tag_key, "TagValue": values}
    listed = call(kms, "ListKeyDetail", Limit=200, TagFilters=[tag_filter]).KeyMetadatas or []
    return key_id in [key.KeyId for key in listed]


def test_tags_added_and_removed_on_the_key_page_are_what_list_key_detail_filters_on(page, kms):
    key_id = create_key(kms)
    page.goto(f"/kms/keys/{key_id}/")
    form = page.locator("#tag-form")
    form.locator('input[name="tag_key"]').fill("team")
    form.locator('input[name="tag_value"]').fill("payroll")
    form.get_by_role("button", name="Add the tag").click()
    expect(status_message(page)).to_have_text("Tag team is saved.")
    expect(page.locator('#key-tags tr[data-tag="team"]')).to_contain_text("payroll")
    assert tagged(kms, key_id, "team", ["payroll"])
    page.get_by_role("button", name="Remove tag team").click()
    expect(status_message(page)).to_have_text("Tag team is removed.")
    expect(page.locator('#key-tags tr[data-tag="team"]')).to_have_count(0)
    assert not tagged(kms, key_id, "team", ["payroll"])


def test_the_disable_confirmation_shows_the_objects_that_depend_on_the_key(page, server, cam, kms):
    key_id = create_key(kms)
    call(
        cam,
        "CreateRole",
        RoleName="COS_QcsRole",
        PolicyDocument=json.dumps(
            {
                "version": "2.0",
                "statement": [
                    {
                        "action": "name/sts:AssumeRole",
                        "effect": "allow",
                        "principal": {"service": ["cos.cloud.tencent.com"]},
                    }
                ],
            }
        ),
    )
    call(cam, "AttachRolePolicy", AttachRoleName="COS_QcsRole", PolicyName="QcloudKMSAccessForCOSRole")
    cos = cos_client(server)
    bucket = f"kms{uuid.uuid4().hex[:10]}-{APPID}"
    cos.create_bucket(Bucket=bucket)
    for name in ("a.bin", "b.bin"):
        cos.put_object(Bucket=bucket, Key=name, Body=b"x" * 1000, ServerSideEncryption="cos/kms", SSEKMSKeyId=key_id)
    page.goto(f"/kms/keys/{key_id}/")
    expect(page.locator("#disable-card p.warning")).not_to_be_visible()
    page.locator("#disable-key-open").click()
    expect(page.locator("#disable-card p.warning")).to_contain_text("2 objects (2.0 KiB) are encrypted with it")
    page.locator("#disable-key").click()
    expect(status_message(page)).to_contain_text("The key is disabled")
    assert key_metadata(kms, key_id).KeyState == "Disabled"
    assert code_of(kms, "Encrypt", KeyId=key_id, Plaintext=b64(b"no")) == "ResourceUnavailable.CmkDisabled"


# -- who may do what; what is missing --------------------------------------------------------------------------


def test_a_read_only_sub_user_sees_the_key_but_no_control_to_change_it(contexts, guard, cam, kms, server):
    key_id = create_key(kms)
    name, password = unique("reader"), f"Read-{uuid.uuid4().hex}"
    document = json.dumps(
        {
            "version": "2.0",
            "statement": [
                {"effect": "allow", "resource": "*", "action": ["name/kms:ListKeyDetail", "name/kms:DescribeKey"]}
            ],
        }
    )
    policy_id = call(cam, "CreatePolicy", PolicyName=unique("KmsReader"), PolicyDocument=document).PolicyId
    added = call(cam, "AddUser", Name=name, ConsoleLogin=1, Password=password, UseApi=1)
    call(cam, "AttachUserPolicy", PolicyId=policy_id, AttachUin=added.Uin)
    with checked(contexts(f"{name}@{APPID}", password), guard) as page:
        read_only_pages(page, key_id)
    own = kms_for(server, added.SecretId, added.SecretKey)
    assert code_of(own, "DisableKey", KeyId=key_id) == "AuthFailure.UnauthorizedOperation"
    assert call(own, "DescribeKey", KeyId=key_id).KeyMetadata.KeyState == "Enabled"


def read_only_pages(page: Page, key_id: str) -> None:
    page.goto("/kms/")
    expect(page.locator("#keys")).to_contain_text(key_id)
    expect(page.locator("#create-key")).to_have_count(0)
    page.goto(f"/kms/keys/{key_id}/")
    expect(page.locator("#key-state")).to_have_text("Enabled")
    for control in (
        "#disable-key-open",
        "#rotation-form",
        "#rotate-now",
        "#tag-form",
        "#description-form",
        "#schedule-deletion",
        "#import-material",
    ):
        expect(page.locator(control)).to_have_count(0)
    expect(page.locator("#read-only-state")).to_be_visible()


def test_rotating_a_key_disabled_meanwhile_says_so_in_a_sentence_on_the_key_page(page, kms):
    key_id = create_key(kms)
    call(kms, "EnableKeyRotation", KeyId=key_id, RotateDays=30)
    page.goto(f"/kms/keys/{key_id}/")
    call(kms, "DisableKey", KeyId=key_id)
    page.get_by_role("button", name="Rotate now").click()
    expect(page).to_have_url(f"/kms/keys/{key_id}/")
    expect(page.locator("p.message.error")).to_have_text("This key is disabled: enable it first.")
    expect(page.get_by_role("heading", level=1)).not_to_contain_text("Not allowed")
    found = key_metadata(kms, key_id)
    assert (found.KeyState, found.LastRotateTime) == ("Disabled", 0)


def test_a_key_that_does_not_exist_gets_a_plain_sentence_not_a_refusal(page, guard, kms):
    missing = str(uuid.uuid4())
    guard.expect_status(404, rf"/kms/keys/{missing}/")
    page.goto(f"/kms/keys/{missing}/")
    expect(page.get_by_role("heading", level=1)).to_have_text("No such key")
    expect(page.locator("#denied")).to_have_text(
        "There is no KMS key with this id in your account. It may have been deleted."
    )
    expect(page.locator("body")).not_to_contain_text("Not allowed")
    assert code_of(kms, "DescribeKey", KeyId=missing) == "ResourceUnavailable.CmkNotFound"


# -- a phone, Japanese ----------------------------------------------------------------------------------------


def test_on_a_phone_the_key_page_fits_and_disabling_is_reachable(contexts, desktop, guard, kms):
    key_id = create_key(kms)
    with checked(contexts(viewport=PHONE), guard) as page:
        disable_on_a_phone(page, key_id)
    assert key_metadata(kms, key_id).KeyState == "Disabled"


def fits(page: Page) -> bool:
    scroll_width, inner_width = page.evaluate("() => [document.scrollingElement.scrollWidth, window.innerWidth]")
    return scroll_width <= inner_width + 1


def disable_on_a_phone(page: Page, key_id: str) -> None:
    page.goto(f"/kms/keys/{key_id}/")
    assert fits(page)
    page.locator("#disable-key-open").click()
    page.locator("#disable-key").click()
    expect(page.locator("#key-state")).to_have_text("Disabled")
    assert fits(page)
    page.goto("/kms/")
    expect(page.locator("#keys")).to_contain_text(key_id)
    assert fits(page)


def test_in_japanese_the_key_page_shows_states_and_dates_in_japanese(contexts, desktop, guard, kms):
    key_id = create_key(kms)
    call(kms, "EnableKeyRotation", KeyId=key_id, RotateDays=90)
    with checked(contexts(locale="ja-JP"), guard) as page:
        page.goto(f"/kms/keys/{key_id}/")
        in_japanese(page, kms, key_id, guard)
    assert key_metadata(kms, key_id).KeyState == "Disabled"


def in_japanese(page: Page, kms, key_id: str, guard) -> None:
    expect(page.locator("html")).to_have_attribute("lang", "ja")
    expect(page.locator("#key-state")).to_have_text("有効")
    next_at = datetime.datetime.fromtimestamp(key_metadata(kms, key_id).NextRotateTime, datetime.UTC)
    expect(page.locator("#next-rotation")).to_contain_text(f"{next_at.year}年{next_at.month}月{next_at.day}日")
    expect(page.locator("#last-rotation")).to_contain_text("なし")
    page.locator("#disable-key-open").click()
    expect(page.locator("#disable-card p.warning")).to_contain_text("0 個のオブジェクト")
    page.locator("#disable-key").click()
    expect(page.locator("#key-state")).to_have_text("無効")
    missing = str(uuid.uuid4())
    guard.expect_status(404, rf"/kms/keys/{missing}/")
    page.goto(f"/kms/keys/{missing}/")
    expect(page.get_by_role("heading", level=1)).to_have_text("キーがありません")
