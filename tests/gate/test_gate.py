"""The gate's decisions, in process: who may act on what, whatever edge asks."""

import json

import pytest

import gate
from buckets import acl
from roles import policy, service
from roles.principal import Principal

pytestmark = pytest.mark.django_db

REGION = "ap-guangzhou"
HERE = gate.Context(ip="127.0.0.1", secure=False)


def document(*statements: dict) -> str:
    return json.dumps({"version": "2.0", "statement": list(statements)})


def allow(action: str, resource: str = "*", **extra) -> dict:
    return {"effect": "allow", "action": action, "resource": resource, **extra}


def deny(action: str, resource: str = "*") -> dict:
    return {"effect": "deny", "action": action, "resource": resource}


@pytest.fixture
def account():
    return service.create_account("1251000010")


@pytest.fixture
def other_account():
    return service.create_account("1251000011")


def sub_user(account, *statements: dict, name: str = "dev") -> Principal:
    user = service.add_user(account, name)
    if statements:
        found = service.create_policy(account, f"{name}-policy", document(*statements))
        service.attach_user_policy(user, found)
    return Principal(account=account, user=user)


def bucket_resource(account, key: str = "") -> str:
    return policy.cos_resource(REGION, account.appid, f"photos-{account.appid}", key)


def test_the_root_may_act_on_its_own_resources(account):
    root = service.root_principal(account)
    gate.authorise(root, "cos:DeleteBucket", bucket_resource(account), HERE)
    gate.authorise(root, "cam:CreateAccessKey", policy.cam_resource(account.uin, f"uin/{account.uin}"), HERE)


def test_a_sub_user_without_policies_may_do_nothing(account):
    with pytest.raises(gate.Denied):
        gate.authorise(sub_user(account), "cos:GetObject", bucket_resource(account, "a"), HERE)


def test_a_sub_user_may_do_what_its_policy_allows_on_that_resource_only(account):
    user = sub_user(account, allow("cos:GetObject", bucket_resource(account, "public/*")))
    gate.authorise(user, "cos:GetObject", bucket_resource(account, "public/a"), HERE)
    assert not gate.allowed(user, "cos:GetObject", bucket_resource(account, "private/a"), HERE)
    assert not gate.allowed(user, "cos:PutObject", bucket_resource(account, "public/a"), HERE)


def test_an_explicit_deny_wins_over_an_allow(account):
    key = policy.kms_resource(REGION, account.uin, account.uin, "k1")
    user = sub_user(account, allow("kms:*"), deny("kms:Decrypt", key))
    assert not gate.allowed(user, "kms:Decrypt", key, HERE)
    gate.authorise(user, "kms:Encrypt", key, HERE)


def test_a_sub_user_never_acts_on_the_root_itself_whatever_its_policy(account):
    user = sub_user(account, allow("cam:*"))
    root_target = policy.cam_resource(account.uin, f"uin/{account.uin}")
    with pytest.raises(gate.Denied, match="root"):
        gate.authorise(user, "cam:CreateAccessKey", root_target, HERE)
    gate.authorise(user, "cam:CreateAccessKey", policy.cam_resource(account.uin, "uin/100012345678"), HERE)


def test_a_condition_is_evaluated_against_the_request_context(account):
    user = sub_user(account, allow("cos:GetObject", condition={"ip_equal": {"qcs:ip": "10.0.0.0/8"}}))
    assert not gate.allowed(user, "cos:GetObject", bucket_resource(account, "a"), HERE)
    assert gate.allowed(user, "cos:GetObject", bucket_resource(account, "a"), gate.Context(ip="10.1.2.3"))


def test_secure_transport_is_a_condition_key(account):
    user = sub_user(account, allow("cos:PutObject", condition={"bool_equal": {"qcs:secure_transport": "true"}}))
    assert not gate.allowed(user, "cos:PutObject", bucket_resource(account, "a"), HERE)
    assert gate.allowed(user, "cos:PutObject", bucket_resource(account, "a"), gate.Context(secure=True))


def test_another_accounts_root_gets_only_what_the_acl_grants(account, other_account):
    stranger = service.root_principal(other_account)
    resource = bucket_resource(account, "a")
    private = gate.Acl(acl.canned_grants("private", account.owner_id, acl.BUCKET_CANNED), "READ")
    public = gate.Acl(acl.canned_grants("public-read", account.owner_id, acl.BUCKET_CANNED), "READ")
    assert not gate.allowed(stranger, "cos:GetObject", resource, HERE, private)
    assert gate.allowed(stranger, "cos:GetObject", resource, HERE, public)
    assert not gate.allowed(stranger, "cos:PutObject", resource, HERE, gate.Acl(public.grants, "WRITE"))


def test_another_accounts_sub_user_also_needs_its_own_policy(account, other_account):
    public = gate.Acl(acl.canned_grants("public-read", account.owner_id, acl.BUCKET_CANNED), "READ")
    resource = bucket_resource(account, "a")
    assert not gate.allowed(sub_user(other_account, name="a"), "cos:GetObject", resource, HERE, public)
    allowed_user = sub_user(other_account, allow("cos:GetObject"), name="b")
    assert gate.allowed(allowed_user, "cos:GetObject", resource, HERE, public)


def test_nothing_outside_cos_is_granted_to_another_account(account, other_account):
    key = policy.kms_resource(REGION, account.uin, account.uin, "k1")
    with pytest.raises(gate.Denied):
        gate.authorise(service.root_principal(other_account), "kms:Decrypt", key, HERE)


def test_an_anonymous_caller_gets_only_what_the_acl_grants_everyone(account):
    resource = bucket_resource(account, "a")
    assert not gate.allowed(None, "cos:GetObject", resource, HERE)
    public = gate.Acl(acl.canned_grants("public-read", account.owner_id, acl.BUCKET_CANNED), "READ")
    assert gate.allowed(None, "cos:GetObject", resource, HERE, public)
    assert not gate.allowed(None, "cos:DeleteBucket", resource, HERE, gate.Acl(public.grants, ""))


# -- bucket policies -------------------------------------------------------------------------------------------


def bucket_policy(account, effect: str, action: str, principal: str, **extra) -> dict:
    text = json.dumps(
        {
            "version": "2.0",
            "statement": [
                {
                    "principal": {"qcs": [principal]},
                    "effect": effect,
                    "action": [action],
                    "resource": [bucket_resource(account, "*")],
                    **extra,
                }
            ],
        }
    )
    return policy.parse_bucket_policy(text, f"photos-{account.appid}")


def test_a_bucket_policy_allow_lets_anonymous_callers_read_without_an_acl(account):
    granted = bucket_policy(account, "allow", "name/cos:GetObject", "*")
    gate.authorise(None, "cos:GetObject", bucket_resource(account, "a"), HERE, bucket_policy=granted)
    with pytest.raises(gate.Denied):
        gate.authorise(None, "cos:PutObject", bucket_resource(account, "a"), HERE, bucket_policy=granted)


def test_a_bucket_policy_deny_refuses_even_the_owners_root_but_not_on_the_policy_itself(account):
    root = service.root_principal(account)
    denied = bucket_policy(account, "deny", "*", "*")
    with pytest.raises(gate.Denied):
        gate.authorise(root, "cos:PutObject", bucket_resource(account, "a"), HERE, bucket_policy=denied)
    gate.authorise(root, "cos:DeleteBucketPolicy", bucket_resource(account), HERE, bucket_policy=denied)


def test_a_bucket_policy_naming_another_accounts_root_does_not_reach_its_sub_user_without_cam(account, other_account):
    granted = bucket_policy(
        account, "allow", "name/cos:GetObject", f"qcs::cam::uin/{other_account.uin}:uin/{other_account.uin}"
    )
    resource = bucket_resource(account, "a")
    gate.authorise(service.root_principal(other_account), "cos:GetObject", resource, HERE, bucket_policy=granted)
    with pytest.raises(gate.Denied):
        gate.authorise(sub_user(other_account), "cos:GetObject", resource, HERE, bucket_policy=granted)
    reader = sub_user(other_account, allow("name/cos:GetObject"), name="reader")
    gate.authorise(reader, "cos:GetObject", resource, HERE, bucket_policy=granted)
