"""The CAM console as a person uses it, in headless Chromium, every effect confirmed through the tencentcloud CAM SDK
(and qcloud_cos for keys): form errors beside their field with what was typed kept, the role wizard's Back and its
resuming at the failing step, editing and deleting roles and sub-users, attaching and detaching policies, access
keys (add, disable, enable, delete, the SecretKey shown once), console passwords, sub-users signing in as
`name@AppId`, and a read-only sub-user's read-only console (no control offered, a forged POST refused with 403)."""

import json
import re
import uuid

import pytest
from playwright.sync_api import BrowserContext, Page, expect
from qcloud_cos.cos_exception import CosServiceError
from tencentcloud.cam.v20190116 import cam_client
from tencentcloud.common.exception.tencent_cloud_sdk_exception import TencentCloudSDKException

from tests.browser.conftest import PageGuard
from tests.live import APPID, LiveKinko, cos_client
from tests.protocol.api3 import call, cam_for

COS_ROLE_POLICY = "QcloudKMSAccessForCOSRole"
READ_ONLY_POLICY = "QcloudCOSReadOnlyAccess"
PHONE = {"width": 390, "height": 844}
WIZARD_STEPS = ["Role entity", "Service", "Policies", "Tags", "Name", "Review", "Done"]


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


def strong_password() -> str:
    return f"Kx-{uuid.uuid4().hex}"


# -- the CAM SDK ---------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def cam(kinko) -> cam_client.CamClient:
    return cam_for(kinko)


def user_names(cam) -> list[str]:
    return [user.Name for user in call(cam, "ListUsers").Data]


def user_policies(cam, name: str) -> list[str]:
    uin = call(cam, "GetUser", Name=name).Uin
    return [p.PolicyName for p in call(cam, "ListAttachedUserPolicies", TargetUin=uin, Page=1, Rp=200).List]


def role_policies(cam, name: str) -> list[str]:
    return [p.PolicyName for p in call(cam, "ListAttachedRolePolicies", RoleName=name, Page=1, Rp=200).List]


def access_keys(cam, name: str) -> dict[str, str]:
    uin = call(cam, "GetUser", Name=name).Uin
    return {key.AccessKeyId: key.Status for key in call(cam, "ListAccessKeys", TargetUin=uin).AccessKeys}


def delete_user_if_there(cam, name: str) -> None:
    try:
        call(cam, "DeleteUser", Name=name, Force=1)
    except TencentCloudSDKException as exc:
        if exc.code != "ResourceNotFound.UserNotExist":
            raise


def delete_role_if_there(cam, name: str) -> None:
    try:
        call(cam, "DeleteRole", RoleName=name)
    except TencentCloudSDKException as exc:
        if exc.code != "InvalidParameter.RoleNotExist":
            raise


@pytest.fixture
def made(cam):
    """Names of the sub-users and roles a test makes (`made["users"]`, `made["roles"]`); deleted afterwards."""
    names: dict[str, list[str]] = {"users": [], "roles": []}
    yield names
    for name in names["users"]:
        delete_user_if_there(cam, name)
    for name in names["roles"]:
        delete_role_if_there(cam, name)


def sdk_user(cam, made, *policies: str, password: str = "") -> str:
    """A sub-user made through the CAM API (with a console password when given), its policies attached."""
    name = unique("sdk-user")
    made["users"].append(name)
    fields = {"Name": name, "Remark": "made by the SDK", "ConsoleLogin": int(bool(password))}
    if password:
        fields["Password"] = password
    uin = call(cam, "AddUser", **fields).Uin
    for policy_name in policies:
        policy_id = next(
            p.PolicyId
            for p in call(cam, "ListPolicies", Keyword=policy_name, Rp=200).List
            if p.PolicyName == policy_name
        )
        call(cam, "AttachUserPolicy", PolicyId=policy_id, AttachUin=uin)
    return name


def sdk_role(cam, made, *policies: str) -> str:
    name = unique("SdkRole")
    made["roles"].append(name)
    trust = {
        "version": "2.0",
        "statement": [
            {"action": "name/sts:AssumeRole", "effect": "allow", "principal": {"service": ["cos.cloud.tencent.com"]}}
        ],
    }
    call(cam, "CreateRole", RoleName=name, PolicyDocument=json.dumps(trust), Description="made by the SDK")
    for policy_name in policies:
        call(cam, "AttachRolePolicy", AttachRoleName=name, PolicyName=policy_name)
    return name


def custom_policy(cam, actions: list[str]) -> str:
    name = unique("console-policy")
    document = {"version": "2.0", "statement": [{"effect": "allow", "action": actions, "resource": "*"}]}
    call(cam, "CreatePolicy", PolicyName=name, PolicyDocument=json.dumps(document))
    return name


# -- pages ---------------------------------------------------------------------------------------------------


def checked_page(context: BrowserContext, guard: PageGuard) -> Page:
    page = context.new_page()
    guard.watch(page)
    return page


def sign_in_as(context: BrowserContext, kinko: LiveKinko, username: str, password: str, lands: str = "/") -> Page:
    page = context.new_page()
    page.goto(f"{kinko.url}/login/")
    page.locator('input[name="username"]').fill(username)
    page.locator('input[name="password"]').fill(password)
    page.locator('main form button[type="submit"]').click()
    expect(page).to_have_url(f"{kinko.url}{lands}")
    return page


def field(page: Page, name: str):
    """A form field's box: its label, its input and the error beside it."""
    return page.locator(f"#field-{name}")


@pytest.fixture
def phone_page(new_context, kinko, operator, guard):
    context = new_context()
    sign_in_as(context, kinko, *operator).close()
    page = checked_page(context, guard)
    page.set_viewport_size(PHONE)
    yield page
    guard.unwatch(page)
    if guard.problems:
        pytest.fail("the page reported problems:\n" + "\n".join(guard.problems))


@pytest.fixture
def japanese_page(new_context, kinko, operator, guard):
    context = new_context(locale="ja-JP", extra_http_headers={"Accept-Language": "ja"})
    sign_in_as(context, kinko, *operator).close()
    page = checked_page(context, guard)
    yield page
    guard.unwatch(page)
    if guard.problems:
        pytest.fail("the page reported problems:\n" + "\n".join(guard.problems))


def fits_the_screen(page: Page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


# -- form errors beside their field, what was typed kept ------------------------------------------------------


def fill_new_user(page: Page, name: str, remark: str, password: str) -> None:
    page.goto("/cam/users/")
    form = page.locator("#add-user")
    form.locator('input[name="name"]').fill(name)
    form.locator('input[name="remark"]').fill(remark)
    form.locator('select[name="policies"]').select_option([READ_ONLY_POLICY])
    form.locator('input[name="password"]').fill(password)
    form.get_by_role("button", name="Add", exact=True).click()


def test_a_too_short_console_password_is_shown_beside_its_field_and_the_rest_is_kept(page, cam, made):
    name = unique("short-pw")
    made["users"].append(name)
    fill_new_user(page, name, "kept remark", "Ab3$x")
    expect(field(page, "password").locator("ul.errorlist")).to_contain_text("at least 10 characters")
    expect(field(page, "password").locator("input")).to_have_attribute("aria-invalid", "true")
    expect(page.locator('#add-user input[name="name"]')).to_have_value(name)
    expect(page.locator('#add-user input[name="remark"]')).to_have_value("kept remark")
    expect(page.locator('#add-user select[name="policies"]')).to_have_values([READ_ONLY_POLICY])
    expect(page.locator("#new-user-key")).to_have_count(0)
    assert name not in user_names(cam)


def test_a_taken_user_name_is_shown_beside_the_name_field_and_the_rest_is_kept(page, cam, made):
    taken = sdk_user(cam, made)
    fill_new_user(page, taken, "second try", strong_password())
    expect(field(page, "name").locator("ul.errorlist")).to_have_text(
        "A sub-user with this name exists already. Choose another name."
    )
    expect(page.locator('#add-user input[name="name"]')).to_have_value(taken)
    expect(page.locator('#add-user input[name="remark"]')).to_have_value("second try")
    expect(page.locator('#add-user select[name="policies"]')).to_have_values([READ_ONLY_POLICY])
    assert user_names(cam).count(taken) == 1
    assert call(cam, "GetUser", Name=taken).Remark == "made by the SDK"


def test_a_too_short_password_is_explained_in_japanese(japanese_page, cam, made):
    page = japanese_page
    name = unique("ja-pw")
    made["users"].append(name)
    page.goto("/cam/users/")
    expect(page.get_by_role("heading", level=1)).to_have_text("サブユーザー")
    form = page.locator("#add-user")
    form.locator('input[name="name"]').fill(name)
    form.locator('input[name="password"]').fill("Ab3$x")
    form.get_by_role("button", name="追加", exact=True).click()
    expect(field(page, "password").locator("ul.errorlist")).to_contain_text("10 文字以上")
    expect(page.locator('#add-user input[name="name"]')).to_have_value(name)
    assert name not in user_names(cam)


# -- the role wizard: Back, and resuming at the failing step -------------------------------------------------


def walk_to_review(page: Page, name: str, tag: tuple[str, str]) -> None:
    current = page.locator("ol.steps li.current")
    next_button = page.locator("#wizard-next")
    page.goto("/cam/roles/wizard/")
    expect(current).to_have_text(WIZARD_STEPS[0])
    next_button.click()
    expect(current).to_have_text(WIZARD_STEPS[1])
    next_button.click()
    expect(current).to_have_text(WIZARD_STEPS[2])
    page.get_by_label(COS_ROLE_POLICY).check()
    next_button.click()
    expect(current).to_have_text(WIZARD_STEPS[3])
    page.get_by_label("Tag key").fill(tag[0])
    page.get_by_label("Tag value").fill(tag[1])
    next_button.click()
    expect(current).to_have_text(WIZARD_STEPS[4])
    page.get_by_label("Role name").fill(name)
    next_button.click()


def test_an_invalid_role_name_keeps_the_wizard_on_the_name_step_with_every_value(page, cam, made):
    current = page.locator("ol.steps li.current")
    walk_to_review(page, "not a valid name!", ("team", "storage"))
    expect(current).to_have_text("Name")
    expect(field(page, "name").locator("ul.errorlist")).to_contain_text("letters, digits")
    expect(page.get_by_label("Role name")).to_have_value("not a valid name!")
    good = unique("WizardRole")
    made["roles"].append(good)
    page.get_by_label("Role name").fill(good)
    page.locator("#wizard-next").click()
    expect(current).to_have_text("Review")
    review = page.locator("#role-wizard dl.facts")
    for shown in (COS_ROLE_POLICY, "team=storage", good):
        expect(review).to_contain_text(shown)
    page.locator("#wizard-next").click()
    expect(page.locator("#wizard-done")).to_have_text(f"Role {good} was created.")
    info = call(cam, "GetRole", RoleName=good).RoleInfo
    assert [(t.Key, t.Value) for t in info.Tags] == [("team", "storage")]
    assert role_policies(cam, good) == [COS_ROLE_POLICY]


def test_a_taken_role_name_at_done_resumes_at_the_name_step_and_back_keeps_every_value(page, cam, made):
    taken = sdk_role(cam, made)
    current = page.locator("ol.steps li.current")
    walk_to_review(page, taken, ("purpose", "sse-kms"))
    expect(current).to_have_text("Review")
    page.locator("#wizard-next").click()  # Done: the name is taken
    expect(current).to_have_text("Name")
    expect(field(page, "name").locator("ul.errorlist")).to_have_text(
        "A role with this name exists already. Choose another name."
    )
    expect(page.get_by_label("Role name")).to_have_value(taken)
    page.locator("#wizard-back").click()
    expect(current).to_have_text("Tags")
    expect(page.get_by_label("Tag key")).to_have_value("purpose")
    expect(page.get_by_label("Tag value")).to_have_value("sse-kms")
    page.locator("#wizard-back").click()
    expect(current).to_have_text("Policies")
    expect(page.get_by_label(COS_ROLE_POLICY)).to_be_checked()
    page.locator("#wizard-next").click()
    page.locator("#wizard-next").click()
    expect(current).to_have_text("Name")
    expect(page.get_by_label("Role name")).to_have_value(taken)
    fresh = unique("ResumedRole")
    made["roles"].append(fresh)
    page.get_by_label("Role name").fill(fresh)
    page.locator("#wizard-next").click()
    page.locator("#wizard-next").click()
    expect(page.locator("#wizard-done")).to_have_text(f"Role {fresh} was created.")
    assert role_policies(cam, fresh) == [COS_ROLE_POLICY]
    assert [(t.Key, t.Value) for t in call(cam, "GetRole", RoleName=fresh).RoleInfo.Tags] == [("purpose", "sse-kms")]
    assert call(cam, "GetRole", RoleName=taken).RoleInfo.Description == "made by the SDK"


# -- roles: edit, policies, delete ---------------------------------------------------------------------------


def test_editing_a_roles_description_and_its_policies_then_deleting_it(page, cam, made):
    name = sdk_role(cam, made, COS_ROLE_POLICY)
    page.goto(f"/cam/roles/{name}/")
    page.locator("#edit-role textarea").fill("edited in the browser")
    page.locator("#edit-role").get_by_role("button", name="Save").click()
    expect(page.locator("#role-description")).to_have_text("edited in the browser")
    assert call(cam, "GetRole", RoleName=name).RoleInfo.Description == "edited in the browser"

    page.locator("#attach-policy select").select_option(READ_ONLY_POLICY)
    page.locator("#attach-policy").get_by_role("button", name="Attach the policy").click()
    expect(page.locator("#role-policies tr[data-policy]")).to_have_count(2)
    assert sorted(role_policies(cam, name)) == sorted([COS_ROLE_POLICY, READ_ONLY_POLICY])

    page.get_by_role("button", name=f"Detach {COS_ROLE_POLICY}").click()
    expect(page.locator("#role-policies tr[data-policy]")).to_have_count(1)
    assert role_policies(cam, name) == [READ_ONLY_POLICY]

    page.locator("#delete-role summary").click()
    page.get_by_role("button", name="Delete the role").click()
    expect(page).to_have_url(re.compile(r"/cam/roles/$"))
    expect(page.locator("p.message")).to_have_text(f"Role {name} was deleted.")
    with pytest.raises(TencentCloudSDKException) as gone:
        call(cam, "GetRole", RoleName=name)
    assert gone.value.code == "InvalidParameter.RoleNotExist"


def test_a_roles_trust_policy_is_edited_and_an_invalid_one_is_shown_again_beside_the_field(page, cam, made):
    name = sdk_role(cam, made)
    page.goto(f"/cam/roles/{name}/")
    trust = page.locator('#role-trust textarea[name="trust-trust_policy"]')
    trust.fill('{"version": "2.0", "statement": [')
    page.get_by_role("button", name="Save the trust policy").click()
    expect(field(page, "trust-trust_policy").locator("ul.errorlist")).to_contain_text("not a valid trust policy")
    expect(trust).to_have_value('{"version": "2.0", "statement": [')
    document = json.loads(call(cam, "GetRole", RoleName=name).RoleInfo.PolicyDocument)
    assert document["statement"][0]["principal"]["service"] == ["cos.cloud.tencent.com"]

    services = ["cos.cloud.tencent.com", "scf.qcloud.com"]
    trust.fill(
        json.dumps(
            {
                "version": "2.0",
                "statement": [{"action": "name/sts:AssumeRole", "effect": "allow", "principal": {"service": services}}],
            }
        )
    )
    page.get_by_role("button", name="Save the trust policy").click()
    expect(page.locator("p.message")).to_have_text("The role's trust policy was saved.")
    document = json.loads(call(cam, "GetRole", RoleName=name).RoleInfo.PolicyDocument)
    assert document["statement"][0]["principal"]["service"] == services


# -- sub-users: edit, policies, access keys, password, delete -----------------------------------------------


def test_attaching_and_detaching_a_sub_users_policies(page, cam, made):
    name = sdk_user(cam, made, READ_ONLY_POLICY)
    page.goto("/cam/users/")
    page.get_by_role("link", name=name, exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_contain_text(name)
    page.locator("#attach-policy select").select_option("QcloudKMSFullAccess")
    page.locator("#attach-policy").get_by_role("button", name="Attach the policy").click()
    expect(page.locator("p.message")).to_have_text("Policy QcloudKMSFullAccess was attached.")
    assert sorted(user_policies(cam, name)) == ["QcloudCOSReadOnlyAccess", "QcloudKMSFullAccess"]
    page.get_by_role("button", name=f"Detach {READ_ONLY_POLICY}").click()
    expect(page.locator("p.message")).to_have_text(f"Policy {READ_ONLY_POLICY} was detached.")
    assert user_policies(cam, name) == ["QcloudKMSFullAccess"]


def test_access_keys_are_added_shown_once_disabled_enabled_and_deleted(page, kinko, cam, made):
    name = sdk_user(cam, made, READ_ONLY_POLICY)
    page.goto(f"/cam/users/{name}/")
    page.locator('#add-access-key input[name="key-description"]').fill("for the backup job")
    page.get_by_role("button", name="Create an access key").click()
    shown = page.locator("#new-access-key code")
    secret_id, secret_key = shown.nth(0).inner_text(), shown.nth(1).inner_text()
    assert access_keys(cam, name) == {secret_id: "Active"}
    own_cos = cos_client(kinko, secret_id=secret_id, secret_key=secret_key)
    assert "Buckets" in own_cos.list_buckets()

    page.goto(f"/cam/users/{name}/")
    expect(page.locator("#new-access-key")).to_have_count(0)
    expect(page.locator("body")).not_to_contain_text(secret_key)
    row = page.locator(f'#access-keys tr[data-secret-id="{secret_id}"]')
    expect(row).to_contain_text("for the backup job")
    page.get_by_role("button", name=f"Disable {secret_id}").click()
    expect(row.locator(".key-status")).to_have_text("Inactive")
    assert access_keys(cam, name) == {secret_id: "Inactive"}
    with pytest.raises(CosServiceError):
        own_cos.list_buckets()

    page.get_by_role("button", name=f"Enable {secret_id}").click()
    expect(row.locator(".key-status")).to_have_text("Active")
    assert access_keys(cam, name) == {secret_id: "Active"}

    row.locator("summary").click()
    page.get_by_role("button", name=f"Delete {secret_id}").click()
    expect(page.locator(f'#access-keys tr[data-secret-id="{secret_id}"]')).to_have_count(0)
    assert access_keys(cam, name) == {}


def test_editing_a_sub_users_remark_and_deleting_it(page, cam, made):
    name = sdk_user(cam, made)
    page.goto(f"/cam/users/{name}/")
    page.locator('#edit-user input[name="edit-remark"]').fill("edited in the browser")
    page.locator("#edit-user").get_by_role("button", name="Save").click()
    expect(page.locator("#user-remark")).to_have_text("edited in the browser")
    assert call(cam, "GetUser", Name=name).Remark == "edited in the browser"
    page.locator("#delete-user summary").click()
    page.get_by_role("button", name="Delete the sub-user").click()
    expect(page).to_have_url(re.compile(r"/cam/users/$"))
    assert name not in user_names(cam)


def test_a_reset_console_password_lets_the_sub_user_sign_in_as_itself(page, new_context, kinko, cam, made, guard):
    name = sdk_user(cam, made, READ_ONLY_POLICY)
    page.goto(f"/cam/users/{name}/")
    page.locator('#console-password input[type="password"]').fill("short")
    page.get_by_role("button", name="Set the password").click()
    expect(field(page, "password-password").locator("ul.errorlist")).to_contain_text("at least 10 characters")
    password = strong_password()
    page.locator('#console-password input[type="password"]').fill(password)
    page.get_by_role("button", name="Set the password").click()
    expect(page.locator("p.message")).to_contain_text(f"{name}@{APPID}")
    assert call(cam, "GetUser", Name=name).ConsoleLogin == 1

    own = sign_in_as(new_context(), kinko, f"{name}@{APPID}", password)
    guard.watch(own)
    expect(own.locator("#signed-in-as")).to_contain_text(f"{name}@{APPID}")
    # a sub-user acts as itself: its policies give COS reads, nothing in CAM
    expect(own.get_by_role("navigation").get_by_role("link", name="Buckets")).to_be_visible()
    expect(own.get_by_role("navigation").get_by_role("link", name="Users")).to_have_count(0)
    expect(own.get_by_role("navigation").get_by_role("link", name="KMS")).to_have_count(0)
    guard.expect_status(403, r"/cam/users/$")
    assert own.goto("/cam/users/").status == 403
    expect(own.get_by_role("heading", level=1)).to_have_text("Not allowed")
    expect(own.locator("#refusal code")).to_have_text("AuthFailure.UnauthorizedOperation")


def test_a_sub_user_with_kms_rights_alone_lands_on_the_kms_page(new_context, kinko, cam, made, guard):
    password = strong_password()
    name = sdk_user(cam, made, "QcloudKMSFullAccess", password=password)
    page = sign_in_as(new_context(), kinko, f"{name}@{APPID}", password, lands="/kms/")
    guard.watch(page)
    page.reload()
    nav = page.get_by_role("navigation")
    expect(nav.get_by_role("link", name="KMS")).to_be_visible()
    for hidden in ("Overview", "Buckets", "Users", "Roles", "Jobs"):
        expect(nav.get_by_role("link", name=hidden, exact=True)).to_have_count(0)
    guard.unwatch(page)
    assert guard.problems == [], guard.problems


def test_the_sign_in_page_says_how_a_sub_user_signs_in(anonymous_page):
    anonymous_page.goto("/login/")
    expect(anonymous_page.locator("#sub-user-sign-in")).to_contain_text(f"alice@{APPID}")


# -- a read-only sub-user sees a read-only console -----------------------------------------------------------


READ_ONLY_ACTIONS = [
    "name/cos:GetService",
    "name/cos:GetObject",
    "name/cos:HeadObject",
    "name/cos:GetBucket",
    "name/cam:List*",
    "name/cam:Get*",
    "name/cam:DescribeRoleList",
    "name/kms:List*",
    "name/kms:Describe*",
]
CHANGES = [
    "#add-user",
    "#new-role",
    "#create-cos-role",
    "#attach-policy",
    "#add-access-key",
    "#edit-user",
    "#edit-role",
    "#console-password",
    "#delete-user",
    "#delete-role",
    "details.confirm",
    'button:has-text("Detach")',
    'button:has-text("Disable")',
]


@pytest.fixture
def read_only(cam, made, new_context, kinko):
    """A browser signed in as a sub-user whose one policy allows only reading, and the sub-user and role it sees."""
    password = strong_password()
    name = sdk_user(cam, made, custom_policy(cam, READ_ONLY_ACTIONS), password=password)
    other = sdk_user(cam, made, READ_ONLY_POLICY)
    call(cam, "CreateAccessKey", TargetUin=call(cam, "GetUser", Name=other).Uin)
    role = sdk_role(cam, made, COS_ROLE_POLICY)
    context = new_context()
    sign_in_as(context, kinko, f"{name}@{APPID}", password).close()
    return context, other, role


@pytest.mark.parametrize("viewport", [None, PHONE], ids=["desktop", "phone"])
def test_a_read_only_sub_user_is_offered_no_change_on_the_cam_pages(read_only, cam, guard, viewport):
    context, other, role = read_only
    page = checked_page(context, guard)
    if viewport:
        page.set_viewport_size(viewport)
    nav = page.get_by_role("navigation")
    for path in ("/cam/users/", f"/cam/users/{other}/", "/cam/roles/", f"/cam/roles/{role}/"):
        assert page.goto(path).status == 200, path
        for control in CHANGES:
            expect(page.locator(control)).to_have_count(0)
        if viewport:  # on a phone the navigation is folded into the menu
            page.locator("details.menu > summary").click()
        expect(nav.get_by_role("link", name="Users")).to_be_visible()
        assert fits_the_screen(page), path
    expect(page.locator("#role-policies")).to_contain_text(COS_ROLE_POLICY)  # it reads: it may
    guard.unwatch(page)
    assert guard.problems == [], guard.problems


def test_a_post_forged_by_a_read_only_sub_user_is_refused(read_only, cam, kinko, guard):
    context, other, role = read_only
    page = checked_page(context, guard)
    page.goto("/cam/users/")
    token = page.locator('input[name="csrfmiddlewaretoken"]').first.input_value()
    [secret_id] = access_keys(cam, other)
    forged = {
        "/cam/users/": {"name": unique("forged"), "policies": "QcloudCAMFullAccess"},
        f"/cam/users/{other}/delete/": {},
        f"/cam/users/{other}/edit/": {"edit-remark": "forged"},
        f"/cam/users/{other}/password/": {"password-password": strong_password()},
        f"/cam/users/{other}/policies/attach/": {"attach-policy": "QcloudCAMFullAccess"},
        f"/cam/users/{other}/policies/detach/": {"policy": READ_ONLY_POLICY},
        f"/cam/users/{other}/keys/": {"key-description": "forged"},
        f"/cam/users/{other}/keys/{secret_id}/disable/": {},
        f"/cam/users/{other}/keys/{secret_id}/delete/": {},
        f"/cam/roles/{role}/delete/": {},
        f"/cam/roles/{role}/edit/": {"edit-description": "forged"},
        f"/cam/roles/{role}/trust/": {"trust-trust_policy": "{}"},
        f"/cam/roles/{role}/policies/attach/": {"attach-policy": "QcloudCAMFullAccess"},
        f"/cam/roles/{role}/policies/detach/": {"policy": COS_ROLE_POLICY},
    }
    for path, data in forged.items():
        response = page.request.post(
            path,
            form={"csrfmiddlewaretoken": token, **data},
            max_redirects=0,
            headers={"Referer": f"{kinko.url}/cam/users/"},
        )
        assert response.status == 403, (path, response.status)
        assert "AuthFailure.UnauthorizedOperation" in response.text(), path  # the gate's refusal, not CSRF's
    guard.unwatch(page)
    assert call(cam, "GetUser", Name=other).Remark == "made by the SDK"
    assert call(cam, "GetUser", Name=other).ConsoleLogin == 0
    assert user_policies(cam, other) == [READ_ONLY_POLICY]
    assert access_keys(cam, other) == {secret_id: "Active"}
    assert role_policies(cam, role) == [COS_ROLE_POLICY]
    assert call(cam, "GetRole", RoleName=role).RoleInfo.Description == "made by the SDK"
    assert not [n for n in user_names(cam) if n.startswith("forged-")]


# -- phone ---------------------------------------------------------------------------------------------------


def test_a_sub_users_page_works_on_a_phone(phone_page, kinko, cam, made):
    page = phone_page
    name = sdk_user(cam, made, READ_ONLY_POLICY)
    page.goto(f"/cam/users/{name}/")
    assert fits_the_screen(page)
    page.get_by_role("button", name="Create an access key").click()
    expect(page.locator("#new-access-key")).to_be_visible()
    assert fits_the_screen(page)
    [secret_id] = access_keys(cam, name)
    page.goto(f"/cam/users/{name}/")
    button = page.get_by_role("button", name=f"Disable {secret_id}")
    button.scroll_into_view_if_needed()
    button.click()
    assert access_keys(cam, name) == {secret_id: "Inactive"}
    page.locator("#delete-user summary").click()
    page.get_by_role("button", name="Delete the sub-user").click()
    expect(page).to_have_url(re.compile(r"/cam/users/$"))
    assert fits_the_screen(page)
    assert name not in user_names(cam)
