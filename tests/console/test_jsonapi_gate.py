"""The JSON API asks the gate as the operation each request performs, against the resource it acts on, with the
request's context (issue 12): CAM actions against the target user, role or policy; KMS actions against the key's
real resource; a PATCH per field it changes; cancelling a job as starting it; bad input a 400, never a 5xx."""

from urllib.parse import quote

import pytest
import requests

from tests.console.jsonapi_support import TRUST_POLICY, Api, listed, new_bucket, ok, put_object, unique
from tests.live import REGION
from tests.protocol.support import manage

ROOT_UIN = "from roles.models import Account; print(Account.objects.get(is_root=True).uin)"


def refusal(response: requests.Response) -> tuple[int, set[str], str | None]:
    body = response.json()
    return response.status_code, set(body), body.get("code")


def allow(actions: list[str], resource: str | list[str] = "*") -> dict:
    return {"effect": "allow", "action": actions, "resource": resource}


def deny(actions: list[str], resource: str | list[str]) -> dict:
    return {"effect": "deny", "action": actions, "resource": resource}


# -- fixtures --------------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def owner_uin(kinko) -> str:
    return manage(kinko, "shell", "-c", ROOT_UIN).strip().splitlines()[-1]


def user_names(api: Api) -> set[str]:
    return {user["name"] for user in listed(api, "/cam/users/")}


def key_ids(api: Api, name: str) -> list[str]:
    return [key["secret_id"] for key in listed(api, f"/cam/users/{name}/access-keys/")]


def cam_user(owner_uin: str, uin: str) -> str:
    return f"qcs::cam::uin/{owner_uin}:uin/{uin}"


# -- CAM actions are authorised against the target user ---------------------------------------------------------


def test_deny_on_one_sub_user_keeps_its_keys_from_a_sub_user_allowed_on_every_user(make_user, api, owner_uin):
    _, victim = make_user()
    attacker, _ = make_user(
        allow(["name/cam:CreateAccessKey"]), deny(["name/cam:*"], cam_user(owner_uin, victim["uin"]))
    )
    before = key_ids(api, victim["name"])
    response = attacker.post(f"/cam/users/{victim['name']}/access-keys/")
    assert refusal(response) == (403, {"code", "detail"}, "AuthFailure.UnauthorizedOperation"), response.text
    assert key_ids(api, victim["name"]) == before


def test_deny_on_one_sub_user_keeps_its_key_list_from_a_sub_user_allowed_on_every_user(make_user, owner_uin):
    _, victim = make_user()
    attacker, _ = make_user(
        allow(["name/cam:ListAccessKeys"]), deny(["name/cam:*"], cam_user(owner_uin, victim["uin"]))
    )
    response = attacker.get(f"/cam/users/{victim['name']}/access-keys/")
    assert refusal(response) == (403, {"code", "detail"}, "AuthFailure.UnauthorizedOperation"), response.text


def test_create_access_key_allowed_on_one_sub_user_creates_its_key(make_user, api, owner_uin):
    _, target = make_user()
    operator, _ = make_user(allow(["name/cam:CreateAccessKey"], cam_user(owner_uin, target["uin"])))
    response = operator.post(f"/cam/users/{target['name']}/access-keys/")
    assert response.status_code == 201, response.text
    assert response.json()["secret_id"] in key_ids(api, target["name"])


def test_create_access_key_allowed_on_one_sub_user_is_refused_on_another(make_user, api, owner_uin):
    _, target = make_user()
    _, other = make_user()
    operator, _ = make_user(allow(["name/cam:CreateAccessKey"], cam_user(owner_uin, target["uin"])))
    before = key_ids(api, other["name"])
    response = operator.post(f"/cam/users/{other['name']}/access-keys/")
    assert refusal(response)[0] == 403, response.text
    assert key_ids(api, other["name"]) == before


# -- creating a user or role with policies also needs AttachUserPolicy / AttachRolePolicy -------------------------


def test_add_user_alone_cannot_create_an_administrator(make_user, api):
    creator, _ = make_user(allow(["name/cam:AddUser"]))
    name = unique("admin")
    response = creator.post("/cam/users/", json={"name": name, "policies": ["QcloudCAMFullAccess"]})
    assert refusal(response) == (403, {"code", "detail"}, "AuthFailure.UnauthorizedOperation"), response.text
    assert name not in user_names(api)


def test_add_user_alone_creates_a_user_without_policies(make_user, api):
    creator, _ = make_user(allow(["name/cam:AddUser"]))
    name = unique("plain")
    assert creator.post("/cam/users/", json={"name": name}).status_code == 201
    assert name in user_names(api)


def test_attach_user_policy_allowed_on_one_policy_grants_only_that_one(make_user, api, cam, owner_uin):
    policies = {p["name"]: p["policy_id"] for p in listed(api, "/cam/policies/")}
    reader = f"qcs::cam::uin/{owner_uin}:policy/{policies['QcloudCOSReadOnlyAccess']}"
    creator, _ = make_user(allow(["name/cam:AddUser"]), allow(["name/cam:AttachUserPolicy"], reader))
    refused, made = unique("refused"), unique("reader")
    both = ["QcloudCOSReadOnlyAccess", "QcloudKMSFullAccess"]
    assert creator.post("/cam/users/", json={"name": refused, "policies": both}).status_code == 403
    response = creator.post("/cam/users/", json={"name": made, "policies": ["QcloudCOSReadOnlyAccess"]})
    assert response.status_code == 201, response.text
    assert refused not in user_names(api)
    assert made in user_names(api)


def test_create_role_alone_cannot_attach_policies(make_user, api):
    creator, _ = make_user(allow(["name/cam:CreateRole"]))
    name = unique("role")
    body = {"name": name, "trust_policy": TRUST_POLICY, "policies": ["QcloudCAMFullAccess"]}
    response = creator.post("/cam/roles/", json=body)
    assert refusal(response) == (403, {"code", "detail"}, "AuthFailure.UnauthorizedOperation"), response.text
    assert name not in {role["name"] for role in listed(api, "/cam/roles/")}


def test_get_role_denied_on_one_role_is_refused(make_user, api, owner_uin):
    name = unique("r")
    ok(api.post("/cam/roles/", json={"name": name, "trust_policy": TRUST_POLICY}))
    reader, _ = make_user(
        allow(["name/cam:GetRole"]), deny(["name/cam:*"], f"qcs::cam::uin/{owner_uin}:roleName/{name}")
    )
    assert refusal(reader.get(f"/cam/roles/{name}/"))[0] == 403


# -- KMS routes use the key's real resource --------------------------------------------------------------------


@pytest.fixture
def key_id(api, default_keys) -> str:
    return ok(api.post("/kms/keys/", json={"alias": unique("gate")}))["key_id"]


def kms_key(owner_uin: str, key_id: str, region: str = REGION) -> str:
    return f"qcs::kms:{region}:uin/{owner_uin}:key/creatorUin/*/{key_id}"


KMS_ROUTES = [
    ("GET", "/", None),
    ("PATCH", "/", {"description": "changed"}),
    ("POST", "/disable/", None),
    ("POST", "/rotate/", None),
    ("POST", "/schedule-deletion/", {"pending_window_in_days": 7}),
    ("GET", "/impact/", None),
    ("POST", "/import-parameters/", {"wrapping_algorithm": "RSAES_OAEP_SHA_256"}),
    ("GET", "/usage/", None),
    ("GET", "/audit/", None),
]


@pytest.mark.parametrize(("method", "route", "body"), KMS_ROUTES)
def test_explicit_deny_on_a_cmk_holds_on_every_route(make_user, api, owner_uin, key_id, method, route, body):
    caller, _ = make_user(allow(["name/kms:*"]), deny(["name/kms:*"], kms_key(owner_uin, key_id)))
    before = ok(api.get(f"/kms/keys/{key_id}/"))
    response = caller.request(method, f"/kms/keys/{key_id}{route}", json=body)
    assert refusal(response) == (403, {"code", "detail"}, "AuthFailure.UnauthorizedOperation"), response.text
    assert ok(api.get(f"/kms/keys/{key_id}/")) == before


def test_allow_limited_to_one_key_grants_describe_key(make_user, owner_uin, key_id):
    caller, _ = make_user(allow(["name/kms:DescribeKey"], kms_key(owner_uin, key_id)))
    response = caller.get(f"/kms/keys/{key_id}/")
    assert response.status_code == 200, response.text
    assert response.json()["key_id"] == key_id


def test_allow_limited_to_one_key_does_not_grant_another(make_user, owner_uin, key_id, default_keys):
    caller, _ = make_user(allow(["name/kms:DescribeKey"], kms_key(owner_uin, key_id)))
    assert refusal(caller.get(f"/kms/keys/{default_keys[REGION]}/"))[0] == 403


def test_allow_naming_another_region_does_not_grant(make_user, owner_uin, key_id):
    caller, _ = make_user(allow(["name/kms:DescribeKey"], kms_key(owner_uin, key_id, "ap-shanghai")))
    assert refusal(caller.get(f"/kms/keys/{key_id}/"))[0] == 403


# -- a PATCH checks every field it changes ---------------------------------------------------------------------


PATCH_FIELDS = [
    ({"alias": "renamed"}, "alias"),
    ({"rotation_enabled": True}, "rotation_enabled"),
    ({"state": "Disabled"}, "state"),
]


@pytest.mark.parametrize(("body", "field"), PATCH_FIELDS)
def test_patch_allowed_only_the_description_changes_nothing_else(make_user, api, key_id, body, field):
    caller, _ = make_user(allow(["name/kms:DescribeKey", "name/kms:UpdateKeyDescription"]))
    before = ok(api.get(f"/kms/keys/{key_id}/"))
    response = caller.request("PATCH", f"/kms/keys/{key_id}/", json={"description": "new", **body})
    assert refusal(response) == (403, {"code", "detail"}, "AuthFailure.UnauthorizedOperation"), response.text
    after = ok(api.get(f"/kms/keys/{key_id}/"))
    assert (after[field], after["description"]) == (before[field], before["description"])


def test_patch_with_update_alias_renames_the_key(make_user, api, key_id):
    caller, _ = make_user(allow(["name/kms:DescribeKey", "name/kms:UpdateAlias"]))
    alias = unique("renamed")
    assert caller.request("PATCH", f"/kms/keys/{key_id}/", json={"alias": alias}).status_code == 200
    assert ok(api.get(f"/kms/keys/{key_id}/"))["alias"] == alias


def test_patch_state_disabled_with_disable_key_disables_it(make_user, api, key_id):
    caller, _ = make_user(allow(["name/kms:DescribeKey", "name/kms:DisableKey"]))
    response = caller.request("PATCH", f"/kms/keys/{key_id}/", json={"state": "Disabled"})
    assert response.status_code == 200, response.text
    assert ok(api.get(f"/kms/keys/{key_id}/"))["state"] == "Disabled"


def test_disabling_rotation_needs_disable_key_rotation(make_user, api, key_id):
    ok(api.request("PATCH", f"/kms/keys/{key_id}/", json={"rotation_enabled": True}))
    caller, _ = make_user(allow(["name/kms:DescribeKey", "name/kms:EnableKeyRotation"]))
    response = caller.request("PATCH", f"/kms/keys/{key_id}/", json={"rotation_enabled": False})
    assert refusal(response)[0] == 403, response.text
    assert ok(api.get(f"/kms/keys/{key_id}/"))["rotation_enabled"] is True


# -- jobs ------------------------------------------------------------------------------------------------------


@pytest.fixture
def bucket(api) -> str:
    name = new_bucket(api)
    put_object(api, name, "a.txt", b"a")
    yield name
    api.request("DELETE", f"/buckets/{name}/objects/a.txt")
    api.request("DELETE", f"/buckets/{name}/")


def test_cancelling_a_job_needs_what_starting_it_needs(make_user, api, bucket):
    job = ok(api.post(f"/buckets/{bucket}/encryption-jobs/", json={"sse": "AES256"}))
    reader, _ = make_user(allow(["name/cos:GetBucket", "name/cos:HeadBucket", "name/cos:GetObject"]))
    response = reader.post(f"/jobs/{job['id']}/cancel/")
    assert refusal(response) == (403, {"code", "detail"}, "AuthFailure.UnauthorizedOperation"), response.text
    assert ok(api.get(f"/jobs/{job['id']}/"))["status"] == "queued"


def test_a_deny_conditioned_on_the_callers_address_holds(make_user, bucket):
    caller, _ = make_user(
        allow(["name/cos:*"]), {**deny(["name/cos:*"], "*"), "condition": {"ip_equal": {"qcs:ip": "127.0.0.1/32"}}}
    )
    assert refusal(caller.get(f"/buckets/{bucket}/objects/"))[0] == 403


def test_an_allow_conditioned_on_another_address_does_not_grant(make_user, bucket):
    caller, _ = make_user({**allow(["name/cos:*"]), "condition": {"ip_equal": {"qcs:ip": "10.0.0.0/8"}}})
    assert refusal(caller.get(f"/buckets/{bucket}/objects/"))[0] == 403


# -- bad input is a 400, never a 5xx ---------------------------------------------------------------------------


def test_deeply_nested_json_body_is_a_400(api):
    depth = 100_000
    response = api.post("/buckets/", data="[" * depth + "]" * depth, headers={"Content-Type": "application/json"})
    assert refusal(response) == (400, {"code", "detail"}, "InvalidParameter"), response.text


def test_deeply_nested_json_object_body_is_a_400(api):
    depth = 50_000
    body = '{"a":' * depth + "1" + "}" * depth
    response = api.post("/cam/users/", data=body, headers={"Content-Type": "application/json"})
    assert refusal(response) == (400, {"code", "detail"}, "InvalidParameter"), response.text


@pytest.mark.parametrize("max_keys", ["0", "1001", "-1", "99999999999999999999999", "1e3", "", "٣"])
def test_out_of_range_max_keys_is_a_400(api, bucket, max_keys):
    response = api.get(f"/buckets/{bucket}/objects/", params={"max_keys": max_keys})
    assert refusal(response) == (400, {"code", "detail"}, "InvalidArgument"), response.text


@pytest.mark.parametrize("field", ["prefix", "delimiter", "marker"])
def test_listing_with_the_last_code_point_never_fails(api, bucket, field):
    response = api.get(f"/buckets/{bucket}/objects/", params={field: "a\U0010ffff"})
    assert response.status_code in (200, 400), response.text
    if response.status_code == 400:
        assert set(response.json()) == {"code", "detail"}


def test_encryption_job_with_the_last_code_point_as_prefix_never_fails(api, bucket):
    response = api.post(f"/buckets/{bucket}/encryption-jobs/", json={"prefix": "\U0010ffff", "sse": "AES256"})
    assert response.status_code in (202, 400), response.text
    if response.status_code == 400:
        assert set(response.json()) == {"code", "detail"}


def test_object_key_with_the_last_code_point_never_fails(api, bucket):
    response = api.get(f"/buckets/{bucket}/objects/{quote(chr(0x10FFFF))}")
    assert refusal(response) == (404, {"code", "detail"}, "NoSuchKey"), response.text
