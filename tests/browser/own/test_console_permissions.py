"""A permission-aware console, in headless Chromium on a Kinko of this module's own (its KMS starts off): every
control is offered only when the gate (the decision the COS, KMS and CAM APIs make) allows its action to the
signed-in principal. A read-only sub-user browses and downloads with no control to change anything, and its forged
POSTs are still refused; write rights on one bucket (or folder) give controls there alone; KMS rights on one key
give that key's control alone; without KMS rights no KMS control is offered; the root sees everything. Sub-users
and policies are made through the CAM SDK, every effect checked through the COS SDK; axe runs on each page, at
1280 px and 390 px, in English and Japanese."""

import json
import uuid

import pytest
from playwright.sync_api import BrowserContext, Page, expect
from qcloud_cos.cos_exception import CosServiceError

from tests.browser.conftest import checked, sign_in
from tests.live import APPID, REGION
from tests.protocol.api3 import activate_kms, allow, call, cam_for, document

PHONE = {"width": 390, "height": 844}
DENIED = "AuthFailure.UnauthorizedOperation"
READS = [
    "name/cos:GetService",
    "name/cos:GetBucket",
    "name/cos:HeadBucket",
    "name/cos:GetObject",
    "name/cos:HeadObject",
]
WRITES = [
    "name/cos:PutObject",
    "name/cos:DeleteObject",
    "name/cos:InitiateMultipartUpload",
    "name/cos:UploadPart",
    "name/cos:CompleteMultipartUpload",
    "name/cos:AbortMultipartUpload",
    "name/cos:DeleteBucket",
    "name/cos:PutBucketEncryption",
    "name/cos:DeleteBucketEncryption",
    "name/cos:PutBucketACL",
]
OBJECTS = {"a.txt": b"alpha", "docs/readme.txt": b"read me"}
# The object browser's controls that change something, none of which a read-only principal is offered.
CHANGES = [
    "#upload",
    "#create-folder",
    "#delete-folder",
    "#delete-selected",
    "#set-encryption",
    "#select-all",
    'input[name="key"]',
    "#delete-bucket",
    "#object-encryption-form",
    "#delete-object",
    "button.danger-link",
    "#create-bucket",
    "a.delete-bucket",
    "#bucket-encryption",
    "#bucket-acl",
    "#bucket-tags",
    "#bucket-cors",
    "#bucket-policy",
    "#object-tags-form",
]
KEY_CONTROLS = ["#disable-key-open", "#rotation-form", "#description-form", "#tag-form"]


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


# -- SDK clients, buckets and sub-users of this module's server (tests/browser/own/conftest.py) ----------------


@pytest.fixture(scope="module")
def cam(kinko):
    return cam_for(kinko)


@pytest.fixture(scope="module")
def buckets(cos) -> tuple[str, str]:
    """Two buckets holding the same objects: `mine` (a writer's) and `theirs`."""
    names = (f"mine{uuid.uuid4().hex[:8]}-{APPID}", f"theirs{uuid.uuid4().hex[:8]}-{APPID}")
    for name in names:
        cos.create_bucket(Bucket=name)
        for key, body in OBJECTS.items():
            cos.put_object(Bucket=name, Key=key, Body=body)
    return names


def sub_user(cam, *statements: dict) -> tuple[str, str]:
    """A sub-user with a console password and one custom policy of `statements`: (its sign-in name, password)."""
    password = f"Perm-{uuid.uuid4().hex}"
    name = unique("perm-user")
    uin = call(cam, "AddUser", Name=name, ConsoleLogin=1, Password=password).Uin
    policy_id = call(cam, "CreatePolicy", PolicyName=unique("perm"), PolicyDocument=document(*statements)).PolicyId
    call(cam, "AttachUserPolicy", PolicyId=policy_id, AttachUin=uin)
    return f"{name}@{APPID}", password


def cos_resource(bucket: str, key: str = "*") -> str:
    return f"qcs::cos:{REGION}:uid/{APPID}:{bucket}/{key}"


@pytest.fixture(scope="module")
def reader(cam) -> tuple[str, str]:
    return sub_user(cam, allow(READS))


@pytest.fixture(scope="module")
def writer(cam, buckets) -> tuple[str, str]:
    """Reads everywhere; writes, deletes and settings on `mine` alone."""
    mine, _theirs = buckets
    return sub_user(cam, allow(READS), allow(WRITES, cos_resource(mine)))


# -- browsers --------------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def contexts(new_context, kinko, operator):
    """contexts(user=operator, lands="/", **options) → a browser context signed in as `user` (name, password)."""

    def make(user: tuple[str, str] | None = None, lands: str = "/", **options) -> BrowserContext:
        context = new_context(**options)
        sign_in(context, kinko, user or operator, lands)
        return context

    return make


def japanese(**options) -> dict:
    return {"locale": "ja-JP", "extra_http_headers": {"Accept-Language": "ja"}, **options}


def menu_links(page: Page):
    """The navigation's entries, folded into the menu on a phone or not."""
    return page.locator("header nav a")


def menu_entry(page: Page, path: str):
    return page.locator(f'header nav a[href="{path}"]')


def fits_the_screen(page: Page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


def visit(page: Page, path: str) -> None:
    assert page.goto(path).status == 200, path
    assert fits_the_screen(page), path


def offers_no_change(page: Page) -> None:
    for control in CHANGES:
        expect(page.locator(control)).to_have_count(0)


def object_browser_pages(bucket: str) -> list[str]:
    return [
        "/buckets/",
        f"/buckets/{bucket}/",
        f"/buckets/{bucket}/?prefix=docs/",
        f"/buckets/{bucket}/object/docs/readme.txt",
        f"/buckets/{bucket}/settings/",
    ]


# -- the KMS is off: only who may create keys is offered to switch it on --------------------------------------


def test_only_a_principal_that_may_create_keys_is_offered_to_activate_the_kms(contexts, guard, cam, kms):
    assert not call(kms, "GetServiceStatus").ServiceEnabled
    with checked(contexts(sub_user(cam, allow(READS))), guard) as page:
        visit(page, "/")
        expect(page.locator("#kms-off")).to_have_count(0)
        expect(menu_entry(page, "/buckets/")).to_have_count(1)
        for hidden in ("/kms/", "/audit/", "/cam/users/", "/cam/roles/"):
            expect(menu_entry(page, hidden)).to_have_count(0)
        visit(page, "/buckets/")
        expect(page.get_by_role("link", name="Activate or manage the KMS")).to_have_count(0)
    with checked(contexts(), guard) as page:
        visit(page, "/")
        page.locator("#kms-off").get_by_role("button", name="Activate KMS").click()
        expect(page.locator("#keys")).to_be_visible()
    assert call(kms, "GetServiceStatus").ServiceEnabled


# -- (1) a read-only sub-user ----------------------------------------------------------------------------------


@pytest.mark.parametrize("options", [{}, {"viewport": PHONE}], ids=["desktop", "phone"])
def test_a_read_only_sub_user_browses_and_downloads_and_is_offered_no_change(contexts, guard, reader, buckets, options):
    mine, _theirs = buckets
    with checked(contexts(reader, **options), guard) as page:
        for path in object_browser_pages(mine):
            visit(page, path)
            offers_no_change(page)
        visit(page, f"/buckets/{mine}/")
        expect(page.locator("#upload-refused")).to_be_visible()
        expect(page.locator('tr[data-key="docs/"] a.folder')).to_be_visible()  # it reads: it may
        visit(page, f"/buckets/{mine}/object/docs/readme.txt")
        with page.expect_download() as download:
            page.locator("#download").click()
        assert download.value.path().read_bytes() == OBJECTS["docs/readme.txt"]
        visit(page, f"/buckets/{mine}/settings/")
        expect(page.locator("#bucket-encryption-now")).to_have_text("Default encryption: none")
        expect(page.locator("#bucket-acl-now")).to_have_text("Access: Private")


def test_a_read_only_sub_user_sees_a_read_only_console_in_japanese(contexts, guard, reader, buckets):
    mine, _theirs = buckets
    with checked(contexts(reader, **japanese()), guard) as page:
        for path in object_browser_pages(mine):
            visit(page, path)
            offers_no_change(page)
        visit(page, f"/buckets/{mine}/")
        expect(page.locator("#upload-refused")).to_contain_text("アップロード")
        visit(page, f"/buckets/{mine}/settings/")
        expect(page.locator("#bucket-encryption-now")).to_have_text("デフォルトの暗号化: なし")
        expect(page.locator("#bucket-acl-now")).to_have_text("アクセス権限: 非公開")


def test_a_post_forged_by_a_read_only_sub_user_is_refused_and_changes_nothing(
    contexts, guard, reader, buckets, cos, kinko
):
    mine, _theirs = buckets
    context = contexts(reader)
    with checked(context, guard) as page:
        visit(page, f"/buckets/{mine}/")
        token = page.locator('input[name="csrfmiddlewaretoken"]').first.input_value()
    forged = {
        "/buckets/": {"name": "forged", "region": REGION, "acl": "private", "encryption": ""},
        f"/buckets/{mine}/delete-objects/": {"key": "a.txt"},
        f"/buckets/{mine}/create-folder/": {"name": "forged", "prefix": ""},
        f"/buckets/{mine}/delete-folder/": {"prefix": "docs/"},
        f"/buckets/{mine}/set-encryption/": {"key": "a.txt", "sse": "AES256"},
        f"/buckets/{mine}/settings/": {"encryption": "AES256"},
        f"/buckets/{mine}/acl/": {"acl": "public-read"},
        f"/buckets/{mine}/delete/": {},
    }
    headers = {"Referer": f"{kinko.url}/buckets/{mine}/"}
    for path, data in forged.items():
        response = context.request.post(
            path, form={"csrfmiddlewaretoken": token, **data}, max_redirects=0, headers=headers
        )
        assert response.status == 403, (path, response.status)
        assert DENIED in response.text(), path  # the gate's refusal, not CSRF's
    upload = context.request.put(
        f"/buckets/{mine}/uploads/object/forged.txt", data=b"forged", headers={**headers, "X-CSRFToken": token}
    )
    assert (upload.status, upload.json()["code"]) == (403, DENIED)
    listed = cos.list_objects(Bucket=mine)["Contents"]
    assert sorted(item["Key"] for item in listed) == sorted(OBJECTS)
    assert [cos.head_object(Bucket=mine, Key=key).get("x-cos-server-side-encryption") for key in OBJECTS] == [None] * 2
    assert "AllUsers" not in json.dumps(cos.get_bucket_acl(Bucket=mine))
    with pytest.raises(CosServiceError):
        cos.get_bucket_encryption(Bucket=mine)
    assert mine in [b["Name"] for b in cos.list_buckets()["Buckets"]["Bucket"]]


# -- (2) write rights on one bucket ----------------------------------------------------------------------------


def test_a_sub_user_with_write_on_one_bucket_is_offered_changes_on_that_bucket_only(
    contexts, guard, writer, buckets, cos
):
    mine, theirs = buckets
    with checked(contexts(writer), guard) as page:
        visit(page, "/buckets/")
        expect(page.locator("#create-bucket")).to_have_count(0)  # PutBucket is not among its rights
        expect(page.locator(f'tr[data-bucket="{mine}"] a.delete-bucket')).to_have_count(1)
        expect(page.locator(f'tr[data-bucket="{theirs}"] a.delete-bucket')).to_have_count(0)
        for path in object_browser_pages(theirs)[1:]:
            visit(page, path)
            offers_no_change(page)
        visit(page, f"/buckets/{mine}/")
        for control in ("#upload", "#create-folder", "#delete-selected", "#set-encryption", "#delete-bucket"):
            expect(page.locator(control)).to_have_count(1)
        expect(page.locator('tr[data-key="a.txt"] button.danger-link')).to_have_count(1)
        visit(page, f"/buckets/{mine}/?prefix=docs/")
        expect(page.locator("#delete-folder")).to_have_count(1)
        visit(page, f"/buckets/{mine}/object/a.txt")
        expect(page.locator("#object-encryption-form")).to_have_count(1)
        expect(page.locator("#delete-object")).to_have_count(1)
        visit(page, f"/buckets/{mine}/settings/")
        expect(page.locator("#bucket-encryption")).to_have_count(1)
        expect(page.locator("#bucket-acl")).to_have_count(1)
        # what is offered works
        visit(page, f"/buckets/{mine}/")
        page.locator('#create-folder input[name="name"]').fill("made-by-writer")
        page.locator("#create-folder").get_by_role("button", name="Create folder").click()
        expect(page.locator("p.message.success")).to_have_text("Folder made-by-writer/ created.")
    assert "made-by-writer/" in [item["Key"] for item in cos.list_objects(Bucket=mine)["Contents"]]
    cos.delete_object(Bucket=mine, Key="made-by-writer/")


def test_write_rights_on_one_folder_offer_its_controls_there_and_not_beside_it(contexts, guard, cam, buckets):
    mine, _theirs = buckets
    rights = sub_user(
        cam, allow(READS), allow(["name/cos:PutObject", "name/cos:DeleteObject"], cos_resource(mine, "docs/*"))
    )
    with checked(contexts(rights), guard) as page:
        visit(page, f"/buckets/{mine}/")
        for control in ("#upload", "#create-folder", "#delete-selected", "#set-encryption", "#delete-bucket"):
            expect(page.locator(control)).to_have_count(0)
        expect(page.locator('tr[data-key="a.txt"] button.danger-link')).to_have_count(0)
        expect(page.locator('tr[data-key="docs/"]').get_by_role("link", name="Delete")).to_have_count(1)
        visit(page, f"/buckets/{mine}/?prefix=docs/")
        for control in ("#upload", "#create-folder", "#delete-selected", "#set-encryption", "#delete-folder"):
            expect(page.locator(control)).to_have_count(1)
        expect(page.locator('tr[data-key="docs/readme.txt"] button.danger-link')).to_have_count(1)


# -- (3) KMS rights ----------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def two_keys(kms, kinko) -> tuple[str, str]:
    if not call(kms, "GetServiceStatus").ServiceEnabled:  # when the activation test did not run first
        activate_kms(kinko)
    return tuple(call(kms, "CreateKey", Alias=unique("perm")).KeyId for _ in range(2))


def test_a_sub_user_without_kms_rights_is_offered_no_kms_control(contexts, guard, reader, two_keys):
    first, _second = two_keys
    with checked(contexts(reader), guard) as page:
        visit(page, "/buckets/")
        for hidden in ("/kms/", "/audit/"):
            expect(menu_entry(page, hidden)).to_have_count(0)
        guard.expect_status(403, r"/kms/")
        assert page.goto("/kms/").status == 403
        assert page.goto(f"/kms/keys/{first}/").status == 403
        expect(page.locator("#refusal code")).to_have_text(DENIED)
        for control in ("#create-key", *KEY_CONTROLS):
            expect(page.locator(control)).to_have_count(0)


def test_kms_rights_on_one_key_offer_that_keys_control_alone(contexts, guard, cam, two_keys):
    first, second = two_keys
    rights = sub_user(
        cam,
        allow(["name/kms:ListKeyDetail", "name/kms:DescribeKey"]),
        allow("name/kms:DisableKey", f"qcs::kms:{REGION}::key/creatorUin/*/{first}"),
    )
    with checked(contexts(rights, lands="/kms/"), guard) as page:
        visit(page, "/kms/")
        expect(menu_entry(page, "/kms/")).to_have_count(1)
        expect(menu_entry(page, "/buckets/")).to_have_count(0)
        expect(page.locator("#keys")).to_contain_text(first)
        expect(page.locator("#create-key")).to_have_count(0)
        visit(page, f"/kms/keys/{first}/")
        expect(page.locator("#disable-key-open")).to_have_count(1)
        for control in KEY_CONTROLS[1:]:
            expect(page.locator(control)).to_have_count(0)
        visit(page, f"/kms/keys/{second}/")
        for control in KEY_CONTROLS:
            expect(page.locator(control)).to_have_count(0)
        expect(page.locator("#read-only-state")).to_be_visible()


# -- (4) the root --------------------------------------------------------------------------------------------


ROOT_CONTROLS = {
    "/buckets/": ["#create-bucket", "a.delete-bucket"],
    "/buckets/{bucket}/": [
        "#upload",
        "#create-folder",
        "#delete-selected",
        "#set-encryption",
        "#select-all",
        "#delete-bucket",
        "button.danger-link",
    ],
    "/buckets/{bucket}/?prefix=docs/": ["#delete-folder"],
    "/buckets/{bucket}/object/docs/readme.txt": [
        "#download",
        "#share",
        "#object-encryption-form",
        "#object-tags-form",
        "#delete-object",
    ],
    "/buckets/{bucket}/settings/": [
        "#bucket-encryption",
        "#bucket-acl",
        "#bucket-tags",
        "#bucket-cors",
        "#bucket-policy",
        "#delete-bucket",
    ],
    "/kms/": ["#create-key"],
    "/kms/keys/{key}/": KEY_CONTROLS,
    "/cam/users/": ["#add-user"],
    "/cam/roles/": ["#new-role"],
}


@pytest.mark.parametrize("options", [{}, {"viewport": PHONE}, japanese()], ids=["desktop", "phone", "japanese"])
def test_the_root_is_offered_every_control(contexts, guard, buckets, two_keys, options):
    mine, _theirs = buckets
    first, _second = two_keys
    with checked(contexts(**options), guard) as page:
        for path, controls in ROOT_CONTROLS.items():
            visit(page, path.format(bucket=mine, key=first))
            for control in controls:
                expect(page.locator(control).first).to_be_attached()
        expect(menu_links(page)).to_have_count(7)
