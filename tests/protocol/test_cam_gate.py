"""CAM over the real tencentcloud CAM client, as an attacker holding one sub-user key would call it: each action is
authorised against its target (`qcs::cam::uin/<owner>:uin/<target>`, `roleName/<name>`, `policy/<id>`), only the
root manages the root's keys, and one call that does two things needs both permissions."""

import pytest
from tencentcloud.common.exception.tencent_cloud_sdk_exception import TencentCloudSDKException

from tests.protocol.api3 import DENIED, SubUsers, allow, call, cam_for, code_of, kms_for, root_uin, unique


@pytest.fixture
def users(kinko) -> SubUsers:
    made = SubUsers(kinko)
    yield made
    made.cleanup()


@pytest.fixture(scope="module")
def owner(kinko) -> str:
    return root_uin(kinko)


def user_resource(owner: str, uin: str) -> str:
    return f"qcs::cam::uin/{owner}:uin/{uin}"


def root_key_ids(kinko) -> set[str]:
    return {key.AccessKeyId for key in call(cam_for(kinko), "ListAccessKeys").AccessKeys}


# -- only the root manages the root's keys ----------------------------------------------------------------------


@pytest.mark.parametrize("action", ["CreateAccessKey", "ListAccessKeys"])
def test_a_sub_user_allowed_only_an_access_key_action_cannot_use_it_on_the_root(kinko, users, owner, action):
    attacker = users.create(allow(f"name/cam:{action}"))
    before = root_key_ids(kinko)
    assert code_of(attacker.cam(), action, TargetUin=int(owner)) == DENIED
    assert root_key_ids(kinko) == before


@pytest.fixture
def spare_root_key(kinko):
    """A second key pair of the root, so a refusal that fails does not lock the session's root key out."""
    root = cam_for(kinko)
    created = call(root, "CreateAccessKey").AccessKey
    yield created
    try:
        call(root, "DeleteAccessKey", AccessKeyId=created.AccessKeyId)
    except TencentCloudSDKException as exc:
        if exc.code != "ResourceNotFound.SecretNotExist":
            raise


def test_a_sub_user_allowed_only_update_access_key_cannot_disable_the_roots_key(kinko, users, owner, spare_root_key):
    attacker = users.create(allow("name/cam:UpdateAccessKey"))
    code = code_of(
        attacker.cam(),
        "UpdateAccessKey",
        TargetUin=int(owner),
        AccessKeyId=spare_root_key.AccessKeyId,
        Status="Inactive",
    )
    assert code == DENIED
    still = kms_for(kinko, spare_root_key.AccessKeyId, spare_root_key.SecretAccessKey)
    assert call(still, "GetRegions").Regions


def test_a_sub_user_allowed_only_delete_access_key_cannot_delete_the_roots_key(kinko, users, owner, spare_root_key):
    attacker = users.create(allow("name/cam:DeleteAccessKey"))
    code = code_of(attacker.cam(), "DeleteAccessKey", TargetUin=int(owner), AccessKeyId=spare_root_key.AccessKeyId)
    assert code == DENIED
    assert spare_root_key.AccessKeyId in root_key_ids(kinko)


def test_a_sub_user_with_cam_full_access_still_cannot_mint_a_root_key(kinko, users, owner):
    attacker = users.create(allow("cam:*"))
    before = root_key_ids(kinko)
    assert code_of(attacker.cam(), "CreateAccessKey", TargetUin=int(owner)) == DENIED
    assert root_key_ids(kinko) == before


# -- a sub-user manages only what its policy names ----------------------------------------------------------------


def test_a_policy_naming_one_user_lets_the_sub_user_create_that_users_key(kinko, users, owner):
    target = users.create()
    manager = users.create(allow("name/cam:CreateAccessKey", user_resource(owner, target.uin)))
    created = call(manager.cam(), "CreateAccessKey", TargetUin=int(target.uin)).AccessKey
    listed = call(cam_for(kinko), "ListAccessKeys", TargetUin=int(target.uin)).AccessKeys
    assert created.AccessKeyId in {key.AccessKeyId for key in listed}


def test_a_policy_naming_one_user_does_not_reach_another(kinko, users, owner):
    target, other = users.create(), users.create()
    manager = users.create(allow("name/cam:CreateAccessKey", user_resource(owner, target.uin)))
    assert code_of(manager.cam(), "CreateAccessKey", TargetUin=int(other.uin)) == DENIED
    assert len(call(cam_for(kinko), "ListAccessKeys", TargetUin=int(other.uin)).AccessKeys) == 1


def test_a_policy_naming_one_user_lets_the_sub_user_read_that_user_only(users, owner):
    target, other = users.create(), users.create()
    reader = users.create(allow("name/cam:GetUser", user_resource(owner, target.uin)))
    assert call(reader.cam(), "GetUser", Name=target.name).Uin == int(target.uin)
    assert code_of(reader.cam(), "GetUser", Name=other.name) == DENIED


def test_a_sub_user_without_a_policy_on_its_own_uin_cannot_make_itself_keys(users, owner):
    other = users.create()
    lonely = users.create(allow("name/cam:CreateAccessKey", user_resource(owner, other.uin)))
    assert code_of(lonely.cam(), "CreateAccessKey") == DENIED


def test_attach_user_policy_is_authorised_against_the_user_it_attaches_to(kinko, users, owner):
    target, other = users.create(), users.create()
    granter = users.create(allow("name/cam:AttachUserPolicy", user_resource(owner, target.uin)))
    preset = call(cam_for(kinko), "ListPolicies", Keyword="QcloudCOSReadOnlyAccess", Rp=200).List[0].PolicyId
    call(granter.cam(), "AttachUserPolicy", PolicyId=preset, AttachUin=int(target.uin))
    assert code_of(granter.cam(), "AttachUserPolicy", PolicyId=preset, AttachUin=int(other.uin)) == DENIED
    attached = call(cam_for(kinko), "ListAttachedUserPolicies", TargetUin=int(other.uin)).List
    assert attached == []


def test_a_policy_naming_one_role_reaches_that_role_only(kinko, users, owner):
    trust = (
        '{"version":"2.0","statement":[{"action":"name/sts:AssumeRole","effect":"allow",'
        '"principal":{"service":["cos.cloud.tencent.com"]}}]}'
    )
    mine, theirs = unique("role"), unique("role")
    for name in (mine, theirs):
        call(cam_for(kinko), "CreateRole", RoleName=name, PolicyDocument=trust)
    try:
        reader = users.create(allow("name/cam:GetRole", f"qcs::cam::uin/{owner}:roleName/{mine}"))
        assert call(reader.cam(), "GetRole", RoleName=mine).RoleInfo.RoleName == mine
        assert code_of(reader.cam(), "GetRole", RoleName=theirs) == DENIED
    finally:
        for name in (mine, theirs):
            call(cam_for(kinko), "DeleteRole", RoleName=name)


def test_a_policy_naming_one_policy_lets_the_sub_user_read_that_policy_only(kinko, users, owner):
    listing = call(cam_for(kinko), "ListPolicies", Keyword="QcloudCOSReadOnlyAccess", Rp=200).List
    readable = listing[0].PolicyId
    other = call(cam_for(kinko), "ListPolicies", Keyword="QcloudCAMFullAccess", Rp=200).List[0].PolicyId
    reader = users.create(allow("name/cam:GetPolicy", f"qcs::cam::uin/{owner}:policy/{readable}"))
    assert call(reader.cam(), "GetPolicy", PolicyId=readable).PolicyName == "QcloudCOSReadOnlyAccess"
    assert code_of(reader.cam(), "GetPolicy", PolicyId=other) == DENIED


# -- one call, two operations: both permissions -------------------------------------------------------------------


def test_add_user_with_api_keys_also_needs_create_access_key(kinko, users):
    creator = users.create(allow("name/cam:AddUser"))
    name = unique("made")
    assert code_of(creator.cam(), "AddUser", Name=name, UseApi=1) == DENIED
    with pytest.raises(TencentCloudSDKException) as err:
        call(cam_for(kinko), "GetUser", Name=name)
    assert err.value.code == "ResourceNotFound.UserNotExist"


def test_add_user_without_api_keys_needs_only_add_user(kinko, users):
    creator = users.create(allow("name/cam:AddUser"))
    name = unique("made")
    users.names.append(name)
    reply = call(creator.cam(), "AddUser", Name=name, UseApi=0)
    assert reply.Name == name
    assert reply.SecretId is None
