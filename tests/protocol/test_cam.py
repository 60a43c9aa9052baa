"""CAM over the real tencentcloud-sdk-python-cam client against the live server: every action, its documented
errors, the COS_QcsRole of SSE-KMS, and sub-users held to their policies by COS, KMS and CAM."""

import json
import uuid

import pytest
from qcloud_cos import CosServiceError
from tencentcloud.cam.v20190116 import cam_client
from tencentcloud.cam.v20190116 import models as cam
from tencentcloud.common import credential
from tencentcloud.common.exception.tencent_cloud_sdk_exception import TencentCloudSDKException
from tencentcloud.common.profile.client_profile import ClientProfile
from tencentcloud.common.profile.http_profile import HttpProfile
from tencentcloud.kms.v20190118 import kms_client
from tencentcloud.kms.v20190118 import models as kms

from roles.presets import PRESETS
from tests.live import APPID, REGION, cos_client, manage_py, node_env

COS_PRINCIPALS = ["cos.cloud.tencent.com", "cos.qcloud.com"]


def profile(kinko) -> ClientProfile:
    return ClientProfile(httpProfile=HttpProfile(protocol="http", endpoint=f"127.0.0.1:{kinko.port}"))


def cam_for(kinko, secret_id: str, secret_key: str) -> cam_client.CamClient:
    return cam_client.CamClient(credential.Credential(secret_id, secret_key), "", profile(kinko))


def kms_for(kinko, secret_id: str, secret_key: str) -> kms_client.KmsClient:
    return kms_client.KmsClient(credential.Credential(secret_id, secret_key), REGION, profile(kinko))


@pytest.fixture(scope="session")
def client(kinko) -> cam_client.CamClient:
    return cam_for(kinko, kinko.secret_id, kinko.secret_key)


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:12]}"


def request(model: type, **fields):
    req = model()
    for name, value in fields.items():
        setattr(req, name, value)
    return req


def call(client, action: str, **fields):
    """One SDK call by action name, e.g. call(client, "GetRole", RoleName="x")."""
    return getattr(client, action)(request(getattr(cam, f"{action}Request"), **fields))


def error_of(client, action: str, **fields) -> str:
    with pytest.raises(TencentCloudSDKException) as err:
        call(client, action, **fields)
    return err.value.code


def trust(*services: str) -> str:
    return json.dumps(
        {
            "version": "2.0",
            "statement": [
                {"action": "name/sts:AssumeRole", "effect": "allow", "principal": {"service": list(services)}}
            ],
        }
    )


def permission(*statements: dict) -> str:
    return json.dumps({"version": "2.0", "statement": list(statements)})


def tags(**pairs: str) -> list:
    return [request(cam.RoleTags, Key=k, Value=v) for k, v in pairs.items()]


def policy_id(client, name: str) -> int:
    listing = call(client, "ListPolicies", Keyword=name, Rp=200)
    return next(p.PolicyId for p in listing.List if p.PolicyName == name)


def attached_role_policies(client, role_name: str, **fields) -> list[str]:
    listing = call(client, "ListAttachedRolePolicies", RoleName=role_name, Page=1, Rp=200, **fields)
    return [p.PolicyName for p in listing.List]


def attached_user_policies(client, uin: int) -> list[str]:
    return [p.PolicyName for p in call(client, "ListAttachedUserPolicies", TargetUin=uin).List]


class Roles:
    """Creates uniquely named roles and deletes whatever is left of them afterwards."""

    def __init__(self, client):
        self.client = client
        self.names: list[str] = []

    def create(self, name: str | None = None, document: str | None = None, **fields):
        name = name or unique("role")
        self.names.append(name)
        role_id = call(
            self.client,
            "CreateRole",
            RoleName=name,
            PolicyDocument=document or trust("cos.cloud.tencent.com"),
            **fields,
        ).RoleId
        return name, role_id

    def cleanup(self):
        for name in self.names:
            try:
                call(self.client, "DeleteRole", RoleName=name)
            except TencentCloudSDKException as exc:
                if exc.code != "InvalidParameter.RoleNotExist":
                    raise


@pytest.fixture
def roles(client):
    made = Roles(client)
    yield made
    made.cleanup()


@pytest.fixture
def role(roles) -> tuple[str, str]:
    """(name, RoleId) of a fresh role trusting COS."""
    return roles.create()


@pytest.fixture
def custom_policies(client):
    """Create uniquely named custom policies with `custom_policies(document)`; deleted afterwards."""
    made = []

    def create(document: str, name: str | None = None) -> int:
        made.append(call(client, "CreatePolicy", PolicyName=name or unique("policy"), PolicyDocument=document).PolicyId)
        return made[-1]

    yield create
    for found in made:
        try:
            call(client, "DeletePolicy", PolicyId=[found])
        except TencentCloudSDKException as exc:
            if exc.code != "InvalidParameter.PolicyIdNotExist":
                raise


class SubUser:
    def __init__(self, kinko, client, reply):
        self.kinko, self.client = kinko, client
        self.name, self.uin = reply.Name, reply.Uin
        self.secret_id, self.secret_key = reply.SecretId, reply.SecretKey

    def attach(self, name: str | None = None, policy: int | None = None) -> None:
        call(self.client, "AttachUserPolicy", PolicyId=policy or policy_id(self.client, name), AttachUin=self.uin)

    def cos(self):
        return cos_client(self.kinko, secret_id=self.secret_id, secret_key=self.secret_key)

    def kms(self):
        return kms_for(self.kinko, self.secret_id, self.secret_key)

    def cam(self):
        return cam_for(self.kinko, self.secret_id, self.secret_key)


@pytest.fixture
def user(kinko, client) -> SubUser:
    """A fresh sub-user with API access (one key pair) and no policies; deleted afterwards."""
    made = SubUser(kinko, client, call(client, "AddUser", Name=unique("user"), UseApi=1))
    yield made
    try:
        call(client, "DeleteUser", Name=made.name, Force=1)
    except TencentCloudSDKException as exc:
        if exc.code != "ResourceNotFound.UserNotExist":
            raise


@pytest.fixture(scope="session")
def default_key_id(kinko) -> str:
    """Activate the KMS (idempotent) and return the ap-guangzhou default CMK."""
    return json.loads(manage_py(node_env(kinko.data_dir), "activate_kms", "--json"))["DefaultKeys"][REGION]


def cos_error(action) -> tuple[int, str]:
    with pytest.raises(CosServiceError) as err:
        action()
    return err.value.get_status_code(), err.value.get_error_code()


def kms_error(kms_client_, action: str, **fields) -> str:
    with pytest.raises(TencentCloudSDKException) as err:
        getattr(kms_client_, action)(request(getattr(kms, f"{action}Request"), **fields))
    return err.value.code


# -- CreateRole ------------------------------------------------------------------------------------------------


def test_create_role_returns_a_decimal_string_role_id(roles):
    _, role_id = roles.create()
    assert isinstance(role_id, str)
    assert role_id.isdecimal()


def test_create_role_stores_what_get_role_shows(client, roles):
    name, role_id = roles.create(Description="made by a test", ConsoleLogin=1, SessionDuration=3600)
    info = call(client, "GetRole", RoleName=name).RoleInfo
    assert (info.RoleId, info.RoleName, info.Description, info.ConsoleLogin, info.SessionDuration) == (
        role_id,
        name,
        "made by a test",
        1,
        3600,
    )


def test_create_role_keeps_the_trust_policy(client, roles):
    name, _ = roles.create(document=trust("scf.qcloud.com"))
    info = call(client, "GetRole", RoleName=name).RoleInfo
    assert json.loads(info.PolicyDocument)["statement"][0]["principal"] == {"service": ["scf.qcloud.com"]}


def test_create_role_keeps_its_tags(client, roles):
    name, _ = roles.create(Tags=tags(team="storage"))
    assert call(client, "GetRole", RoleName=name).RoleInfo.Tags[0].Key == "team"


def test_create_role_refuses_a_name_in_use(client, role):
    assert error_of(client, "CreateRole", RoleName=role[0], PolicyDocument=trust("cos.qcloud.com")) == (
        "InvalidParameter.RoleNameInUse"
    )


@pytest.mark.parametrize("name", ["has space", "slash/inside", "x" * 129, "中文", "trailing-newline\n"])
def test_create_role_refuses_a_bad_name(roles, client, name):
    roles.names.append(name)  # deleted afterwards should the server take it
    assert error_of(client, "CreateRole", RoleName=name, PolicyDocument=trust("cos.qcloud.com")) == (
        "InvalidParameter.RoleNameError"
    )


@pytest.mark.parametrize(
    ("document", "code"),
    [
        ("{not json", "InvalidParameter.PolicyDocumentError"),
        (
            json.dumps(
                {
                    "version": "1.0",
                    "statement": [
                        {"action": "sts:AssumeRole", "effect": "allow", "principal": {"service": "cos.qcloud.com"}}
                    ],
                }
            ),
            "InvalidParameter.VersionError",
        ),
        (
            json.dumps({"version": "2.0", "statement": [{"action": "sts:AssumeRole", "effect": "allow"}]}),
            "InvalidParameter.PrincipalError",
        ),
        (
            json.dumps(
                {
                    "version": "2.0",
                    "statement": [
                        {"action": "sts:AssumeRole", "effect": "maybe", "principal": {"service": "cos.qcloud.com"}}
                    ],
                }
            ),
            "InvalidParameter.EffectError",
        ),
        (
            json.dumps(
                {"version": "2.0", "statement": [{"effect": "allow", "principal": {"service": "cos.qcloud.com"}}]}
            ),
            "InvalidParameter.ActionMiss",
        ),
    ],
)
def test_create_role_refuses_a_bad_trust_policy_with_its_syntax_code(client, document, code):
    assert error_of(client, "CreateRole", RoleName=unique("bad"), PolicyDocument=document) == code


def test_create_role_refuses_a_description_over_300_bytes(client):
    code = error_of(
        client, "CreateRole", RoleName=unique("long"), PolicyDocument=trust("cos.qcloud.com"), Description="x" * 301
    )
    assert code == "InvalidParameter.DescriptionLengthOverlimit"


def test_create_role_without_a_trust_policy_is_a_missing_parameter(client):
    assert error_of(client, "CreateRole", RoleName=unique("none")) == "MissingParameter"


# -- GetRole ---------------------------------------------------------------------------------------------------


def test_get_role_by_role_id_string(client, role):
    assert call(client, "GetRole", RoleId=role[1]).RoleInfo.RoleName == role[0]


def test_get_role_by_role_id_integer(client, role):
    reply = client.call_json("GetRole", {"RoleId": int(role[1])})
    assert reply["Response"]["RoleInfo"]["RoleName"] == role[0]


def test_get_role_answers_role_id_as_a_string_even_when_asked_with_an_integer(client, role):
    reply = client.call_json("GetRole", {"RoleId": int(role[1])})
    assert reply["Response"]["RoleInfo"]["RoleId"] == role[1]


def test_get_role_by_role_name(client, role):
    assert call(client, "GetRole", RoleName=role[0]).RoleInfo.RoleId == role[1]


def test_get_role_shows_times_and_arn(client, role):
    info = call(client, "GetRole", RoleName=role[0]).RoleInfo
    assert len(info.AddTime) == len("2024-01-01 00:00:00")
    assert info.RoleArn.endswith(f":roleName/{role[0]}")


def test_get_role_without_id_or_name_is_a_param_error(client):
    assert error_of(client, "GetRole") == "InvalidParameter.ParamError"


def test_get_role_with_both_id_and_name_is_a_param_error(client, role):
    assert error_of(client, "GetRole", RoleId=role[1], RoleName=role[0]) == "InvalidParameter.ParamError"


def test_get_role_of_a_missing_name_is_role_not_exist(client):
    assert error_of(client, "GetRole", RoleName=unique("missing")) == "InvalidParameter.RoleNotExist"


def test_get_role_of_a_missing_id_is_role_not_exist(client):
    assert error_of(client, "GetRole", RoleId="4611686018427387903") == "InvalidParameter.RoleNotExist"


# -- DescribeRoleList ------------------------------------------------------------------------------------------


def test_describe_role_list_filters_by_tag(client, roles):
    marker = uuid.uuid4().hex
    tagged, _ = roles.create(Tags=tags(run=marker))
    roles.create(Tags=tags(run="other"))
    listing = call(client, "DescribeRoleList", Page=1, Rp=200, Tags=tags(run=marker))
    assert ([r.RoleName for r in listing.List], listing.TotalNum) == ([tagged], 1)


def test_describe_role_list_pages_by_rp(client, roles):
    marker = uuid.uuid4().hex
    names = [roles.create(Tags=tags(run=marker))[0] for _ in range(3)]
    pages = [call(client, "DescribeRoleList", Page=p, Rp=2, Tags=tags(run=marker)) for p in (1, 2, 3)]
    assert [[r.RoleName for r in page.List] for page in pages] == [names[:2], names[2:], []]
    assert {page.TotalNum for page in pages} == {3}


def test_describe_role_list_without_a_filter_includes_a_new_role(client, role):
    listing = call(client, "DescribeRoleList", Page=1, Rp=200)
    total = listing.TotalNum
    names = [
        r.RoleName
        for p in range(1, (total + 199) // 200 + 1)
        for r in call(client, "DescribeRoleList", Page=p, Rp=200).List
    ]
    assert role[0] in names


def test_describe_role_list_refuses_rp_over_200_as_a_param_error(client):
    assert error_of(client, "DescribeRoleList", Page=1, Rp=201) == "InvalidParameter.ParamError"


def test_describe_role_list_needs_page(client):
    assert error_of(client, "DescribeRoleList", Rp=10) == "MissingParameter"


# -- DeleteRole ------------------------------------------------------------------------------------------------


def test_delete_role_by_name_removes_it(client, role):
    call(client, "DeleteRole", RoleName=role[0])
    assert error_of(client, "GetRole", RoleName=role[0]) == "InvalidParameter.RoleNotExist"


def test_delete_role_by_id_removes_it(client, role):
    call(client, "DeleteRole", RoleId=role[1])
    assert error_of(client, "GetRole", RoleId=role[1]) == "InvalidParameter.RoleNotExist"


def test_delete_role_takes_its_attachments_with_it(client, roles):
    name, _ = roles.create()
    call(client, "AttachRolePolicy", AttachRoleName=name, PolicyName="QcloudCOSReadOnlyAccess")
    call(client, "DeleteRole", RoleName=name)
    roles.create(name)
    assert attached_role_policies(client, name) == []


def test_delete_role_of_a_missing_role_is_role_not_exist(client):
    assert error_of(client, "DeleteRole", RoleName=unique("missing")) == "InvalidParameter.RoleNotExist"


def test_delete_role_without_id_or_name_is_a_param_error(client):
    assert error_of(client, "DeleteRole") == "InvalidParameter.ParamError"


# -- UpdateAssumeRolePolicy / UpdateRoleDescription -----------------------------------------------------------


def test_update_assume_role_policy_replaces_the_trust_policy(client, role):
    call(client, "UpdateAssumeRolePolicy", RoleName=role[0], PolicyDocument=trust("cvm.qcloud.com"))
    info = call(client, "GetRole", RoleName=role[0]).RoleInfo
    assert json.loads(info.PolicyDocument) == json.loads(trust("cvm.qcloud.com"))


def test_update_assume_role_policy_by_role_id(client, role):
    call(client, "UpdateAssumeRolePolicy", RoleId=role[1], PolicyDocument=trust("scf.qcloud.com"))
    info = call(client, "GetRole", RoleId=role[1]).RoleInfo
    assert json.loads(info.PolicyDocument) == json.loads(trust("scf.qcloud.com"))


def test_update_assume_role_policy_refuses_a_bad_document(client, role):
    document = json.dumps({"version": "2.0", "statement": [{"action": "sts:AssumeRole", "effect": "allow"}]})
    assert error_of(client, "UpdateAssumeRolePolicy", RoleName=role[0], PolicyDocument=document) == (
        "InvalidParameter.PrincipalError"
    )


def test_update_assume_role_policy_refused_keeps_the_old_document(client, role):
    document = json.dumps({"version": "3.0", "statement": []})
    with pytest.raises(TencentCloudSDKException):
        call(client, "UpdateAssumeRolePolicy", RoleName=role[0], PolicyDocument=document)
    info = call(client, "GetRole", RoleName=role[0]).RoleInfo
    assert json.loads(info.PolicyDocument) == json.loads(trust("cos.cloud.tencent.com"))


def test_update_assume_role_policy_of_a_missing_role_is_role_not_exist(client):
    code = error_of(
        client, "UpdateAssumeRolePolicy", RoleName=unique("missing"), PolicyDocument=trust("cos.qcloud.com")
    )
    assert code == "InvalidParameter.RoleNotExist"


def test_update_role_description_changes_the_description(client, role):
    call(client, "UpdateRoleDescription", RoleName=role[0], Description="new words")
    assert call(client, "GetRole", RoleName=role[0]).RoleInfo.Description == "new words"


def test_update_role_description_refuses_more_than_300_bytes(client, role):
    code = error_of(client, "UpdateRoleDescription", RoleId=role[1], Description="é" * 151)
    assert code == "InvalidParameter.DescriptionLengthOverlimit"


def test_update_role_description_of_a_missing_role_is_role_not_exist(client):
    assert error_of(client, "UpdateRoleDescription", RoleName=unique("missing"), Description="x") == (
        "InvalidParameter.RoleNotExist"
    )


# -- AttachRolePolicy / DetachRolePolicy / ListAttachedRolePolicies ----------------------------------------------


def test_attach_role_policy_by_policy_name_and_role_name(client, role):
    call(client, "AttachRolePolicy", AttachRoleName=role[0], PolicyName="QcloudKMSFullAccess")
    assert attached_role_policies(client, role[0]) == ["QcloudKMSFullAccess"]


def test_attach_role_policy_by_policy_id_and_role_id(client, role):
    call(client, "AttachRolePolicy", AttachRoleId=role[1], PolicyId=policy_id(client, "QcloudCOSFullAccess"))
    assert attached_role_policies(client, role[0]) == ["QcloudCOSFullAccess"]


def test_attach_role_policy_by_integer_role_id(client, role):
    client.call_json("AttachRolePolicy", {"AttachRoleId": int(role[1]), "PolicyName": "QcloudCOSFullAccess"})
    assert attached_role_policies(client, role[0]) == ["QcloudCOSFullAccess"]


def test_attach_role_policy_twice_attaches_once(client, role):
    call(client, "AttachRolePolicy", AttachRoleName=role[0], PolicyName="QcloudKMSFullAccess")
    call(client, "AttachRolePolicy", AttachRoleName=role[0], PolicyName="QcloudKMSFullAccess")
    assert attached_role_policies(client, role[0]) == ["QcloudKMSFullAccess"]


def test_attach_role_policy_of_an_unknown_policy_name_is_policy_id_not_exist(client, role):
    code = error_of(client, "AttachRolePolicy", AttachRoleName=role[0], PolicyName=unique("NoSuchPolicy"))
    assert code == "InvalidParameter.PolicyIdNotExist"


def test_attach_role_policy_of_an_unknown_policy_id_is_policy_id_not_exist(client, role):
    assert error_of(client, "AttachRolePolicy", AttachRoleName=role[0], PolicyId=99999) == (
        "InvalidParameter.PolicyIdNotExist"
    )


def test_attach_role_policy_to_a_missing_role_is_role_not_exist(client):
    code = error_of(client, "AttachRolePolicy", AttachRoleName=unique("missing"), PolicyName="QcloudCOSFullAccess")
    assert code == "InvalidParameter.RoleNotExist"


def test_attach_role_policy_without_a_role_is_a_param_error(client):
    assert error_of(client, "AttachRolePolicy", PolicyName="QcloudCOSFullAccess") == "InvalidParameter.ParamError"


def test_attach_role_policy_without_a_policy_is_a_param_error(client, role):
    assert error_of(client, "AttachRolePolicy", AttachRoleName=role[0]) == "InvalidParameter.ParamError"


def test_detach_role_policy_by_policy_id_and_role_id(client, role):
    call(client, "AttachRolePolicy", AttachRoleName=role[0], PolicyName="QcloudKMSFullAccess")
    call(client, "DetachRolePolicy", DetachRoleId=role[1], PolicyId=policy_id(client, "QcloudKMSFullAccess"))
    assert attached_role_policies(client, role[0]) == []


def test_detach_role_policy_by_policy_name_and_role_name_leaves_the_others(client, role):
    for name in ("QcloudKMSFullAccess", "QcloudCOSFullAccess"):
        call(client, "AttachRolePolicy", AttachRoleName=role[0], PolicyName=name)
    call(client, "DetachRolePolicy", DetachRoleName=role[0], PolicyName="QcloudKMSFullAccess")
    assert attached_role_policies(client, role[0]) == ["QcloudCOSFullAccess"]


def test_detach_role_policy_from_a_missing_role_is_role_not_exist(client):
    code = error_of(client, "DetachRolePolicy", DetachRoleName=unique("missing"), PolicyName="QcloudCOSFullAccess")
    assert code == "InvalidParameter.RoleNotExist"


def test_detach_role_policy_of_an_unknown_policy_is_policy_id_not_exist(client, role):
    assert error_of(client, "DetachRolePolicy", DetachRoleName=role[0], PolicyId=99999) == (
        "InvalidParameter.PolicyIdNotExist"
    )


def test_list_attached_role_policies_reports_preset_and_custom_types(client, role, custom_policies):
    custom = custom_policies(permission({"effect": "allow", "action": "cos:GetObject", "resource": "*"}))
    call(client, "AttachRolePolicy", AttachRoleName=role[0], PolicyName="QcloudCOSFullAccess")
    call(client, "AttachRolePolicy", AttachRoleName=role[0], PolicyId=custom)
    listing = call(client, "ListAttachedRolePolicies", RoleName=role[0], Page=1, Rp=20)
    assert {(p.PolicyId, p.PolicyType) for p in listing.List} == {
        (policy_id(client, "QcloudCOSFullAccess"), "QCS"),
        (custom, "User"),
    }


@pytest.mark.parametrize(("policy_type", "expected"), [("QCS", "QcloudCOSFullAccess"), ("User", "custom")])
def test_list_attached_role_policies_filters_by_policy_type(client, role, custom_policies, policy_type, expected):
    name = unique("custom")
    custom_policies(permission({"effect": "allow", "action": "cos:GetObject", "resource": "*"}), name=name)
    for attach in ("QcloudCOSFullAccess", name):
        call(client, "AttachRolePolicy", AttachRoleName=role[0], PolicyName=attach)
    shown = attached_role_policies(client, role[0], PolicyType=policy_type)
    assert shown == [name if expected == "custom" else expected]


def test_list_attached_role_policies_by_role_id_pages_and_counts(client, role):
    for name in ("QcloudKMSFullAccess", "QcloudCOSFullAccess", "QcloudCOSReadOnlyAccess"):
        call(client, "AttachRolePolicy", AttachRoleName=role[0], PolicyName=name)
    listing = call(client, "ListAttachedRolePolicies", RoleId=role[1], Page=2, Rp=2)
    assert ([p.PolicyName for p in listing.List], listing.TotalNum) == (["QcloudCOSReadOnlyAccess"], 3)


def test_list_attached_role_policies_refuses_an_unknown_policy_type_as_a_param_error(client, role):
    code = error_of(client, "ListAttachedRolePolicies", RoleName=role[0], Page=1, Rp=20, PolicyType="Other")
    assert code == "InvalidParameter.ParamError"


# -- TagRole / UntagRole ---------------------------------------------------------------------------------------


def role_tags(client, name: str) -> dict[str, str]:
    return {t.Key: t.Value for t in call(client, "GetRole", RoleName=name).RoleInfo.Tags or []}


def test_tag_role_adds_tags(client, role):
    call(client, "TagRole", RoleName=role[0], Tags=tags(env="test", team="storage"))
    assert role_tags(client, role[0]) == {"env": "test", "team": "storage"}


def test_tag_role_overwrites_the_value_of_an_existing_key(client, roles):
    name, role_id = roles.create(Tags=tags(env="test"))
    call(client, "TagRole", RoleId=role_id, Tags=tags(env="prod"))
    assert role_tags(client, name) == {"env": "prod"}


def test_tag_role_of_a_missing_role_is_role_not_exist(client):
    assert error_of(client, "TagRole", RoleName=unique("missing"), Tags=tags(a="b")) == "InvalidParameter.RoleNotExist"


def test_untag_role_removes_the_named_keys_only(client, roles):
    name, _ = roles.create(Tags=tags(env="test", team="storage"))
    call(client, "UntagRole", RoleName=name, TagKeys=["env"])
    assert role_tags(client, name) == {"team": "storage"}


def test_untag_role_of_a_missing_role_is_role_not_exist(client):
    assert error_of(client, "UntagRole", RoleName=unique("missing"), TagKeys=["a"]) == "InvalidParameter.RoleNotExist"


# -- ListPolicies / GetPolicy / CreatePolicy / DeletePolicy ----------------------------------------------------


def all_policy_names(client, **fields) -> list[str]:
    first = call(client, "ListPolicies", Page=1, Rp=200, **fields)
    names = [p.PolicyName for p in first.List]
    for page in range(2, (first.TotalNum + 199) // 200 + 1):
        names += [p.PolicyName for p in call(client, "ListPolicies", Page=page, Rp=200, **fields).List]
    return names


def test_list_policies_scope_qcs_lists_the_presets_only(client, custom_policies):
    custom_policies(permission({"effect": "allow", "action": "cos:GetObject", "resource": "*"}))
    listing = call(client, "ListPolicies", Scope="QCS", Rp=200)
    assert {p.Type for p in listing.List} == {2}
    assert "QcloudKMSAccessForCOSRole" in {p.PolicyName for p in listing.List}


def test_list_policies_scope_local_lists_custom_policies_only(client, custom_policies):
    name = unique("local")
    custom_policies(permission({"effect": "allow", "action": "cos:GetObject", "resource": "*"}), name=name)
    names = all_policy_names(client, Scope="Local")
    assert name in names
    assert "QcloudCOSFullAccess" not in names


def test_list_policies_scope_all_lists_both(client, custom_policies):
    name = unique("both")
    custom_policies(permission({"effect": "allow", "action": "cos:GetObject", "resource": "*"}), name=name)
    names = all_policy_names(client, Scope="All")
    assert {name, "QcloudCOSFullAccess"} <= set(names)


def test_list_policies_refuses_an_unknown_scope(client):
    assert error_of(client, "ListPolicies", Scope="Everything") == "InvalidParameter.ScopeError"


def test_list_policies_keyword_matches_part_of_the_name(client):
    names = all_policy_names(client, Keyword="kmsaccess")
    assert names == ["QcloudKMSAccessForCOSRole"]


def test_list_policies_pages_with_rp_and_page(client):
    first, second = (call(client, "ListPolicies", Scope="QCS", Rp=2, Page=p) for p in (1, 2))
    assert len(first.List) == 2
    assert {p.PolicyId for p in first.List}.isdisjoint({p.PolicyId for p in second.List})


def test_list_policies_reports_the_total_beyond_the_page(client):
    reply = call(client, "ListPolicies", Scope="QCS", Rp=1)
    assert (len(reply.List), reply.TotalNum) == (1, len(PRESETS))


def test_get_policy_returns_the_document_as_json(client):
    reply = call(client, "GetPolicy", PolicyId=policy_id(client, "QcloudKMSAccessForCOSRole"))
    actions = json.loads(reply.PolicyDocument)["statement"][0]["action"]
    assert {"name/kms:GenerateDataKey", "name/kms:Decrypt"} <= set(actions)


def test_get_policy_of_a_preset_is_type_2(client):
    reply = call(client, "GetPolicy", PolicyId=policy_id(client, "QcloudCOSFullAccess"))
    assert (reply.PolicyName, reply.Type) == ("QcloudCOSFullAccess", 2)


def test_get_policy_of_a_custom_policy_returns_its_document(client, custom_policies):
    document = permission({"effect": "allow", "action": ["name/cos:GetObject"], "resource": "*"})
    reply = call(client, "GetPolicy", PolicyId=custom_policies(document))
    assert (json.loads(reply.PolicyDocument), reply.Type) == (json.loads(document), 1)


def test_get_policy_of_an_unknown_id_is_policy_id_not_found(client):
    assert error_of(client, "GetPolicy", PolicyId=99999) == "ResourceNotFound.PolicyIdNotFound"


def test_create_policy_returns_an_id_from_100000000(client, custom_policies):
    assert custom_policies(permission({"effect": "allow", "action": "cos:GetObject", "resource": "*"})) >= 100000000


def test_create_policy_refuses_a_name_in_use(client, custom_policies):
    name = unique("twice")
    document = permission({"effect": "allow", "action": "cos:GetObject", "resource": "*"})
    custom_policies(document, name=name)
    assert error_of(client, "CreatePolicy", PolicyName=name, PolicyDocument=document) == (
        "InvalidParameter.PolicyNameInUse"
    )


def test_create_policy_refuses_a_preset_name(client):
    document = permission({"effect": "allow", "action": "cos:*", "resource": "*"})
    assert error_of(client, "CreatePolicy", PolicyName="QcloudCOSFullAccess", PolicyDocument=document) == (
        "InvalidParameter.PolicyNameInUse"
    )


@pytest.mark.parametrize("name", ["has space", "trailing-newline\n"])
def test_create_policy_refuses_a_bad_name(client, custom_policies, name):
    document = permission({"effect": "allow", "action": "cos:GetObject", "resource": "*"})
    try:
        code = error_of(client, "CreatePolicy", PolicyName=name, PolicyDocument=document)
    finally:
        leftover = [
            p.PolicyId for p in call(client, "ListPolicies", Scope="Local", Rp=200).List if p.PolicyName == name
        ]
        if leftover:
            call(client, "DeletePolicy", PolicyId=leftover)
    assert code == "InvalidParameter.PolicyNameError"


def test_create_policy_refuses_a_bad_document(client):
    document = permission({"effect": "allow", "resource": "*"})
    assert error_of(client, "CreatePolicy", PolicyName=unique("bad"), PolicyDocument=document) == (
        "InvalidParameter.ActionMiss"
    )


def test_delete_policy_removes_a_custom_policy(client):
    document = permission({"effect": "allow", "action": "cos:GetObject", "resource": "*"})
    created = call(client, "CreatePolicy", PolicyName=unique("gone"), PolicyDocument=document).PolicyId
    call(client, "DeletePolicy", PolicyId=[created])
    assert error_of(client, "GetPolicy", PolicyId=created) == "ResourceNotFound.PolicyIdNotFound"


def test_delete_policy_refuses_a_preset(client):
    assert error_of(client, "DeletePolicy", PolicyId=[policy_id(client, "QcloudCOSFullAccess")]) == (
        "InvalidParameter.PolicyIdError"
    )


def test_delete_policy_refused_for_a_preset_keeps_the_preset(client):
    preset = policy_id(client, "QcloudCOSFullAccess")
    with pytest.raises(TencentCloudSDKException):
        call(client, "DeletePolicy", PolicyId=[preset])
    assert call(client, "GetPolicy", PolicyId=preset).PolicyName == "QcloudCOSFullAccess"


def test_delete_policy_of_an_unknown_id_is_policy_id_not_exist(client):
    assert error_of(client, "DeletePolicy", PolicyId=[99999]) == "InvalidParameter.PolicyIdNotExist"


# -- the seed's COS_QcsRole ------------------------------------------------------------------------------------


@pytest.fixture
def no_cos_role(client):
    """COS_QcsRole is one per account: start without it; afterwards make sure the account has one again, trusting
    COS with QcloudKMSAccessForCOSRole attached, since SSE-KMS tests elsewhere may want it."""
    try:
        call(client, "DeleteRole", RoleName="COS_QcsRole")
    except TencentCloudSDKException as exc:
        if exc.code != "InvalidParameter.RoleNotExist":
            raise
    yield
    try:
        call(client, "GetRole", RoleName="COS_QcsRole")
    except TencentCloudSDKException as exc:
        if exc.code != "InvalidParameter.RoleNotExist":
            raise
        call(client, "CreateRole", RoleName="COS_QcsRole", PolicyDocument=trust("cos.cloud.tencent.com"))
    call(client, "AttachRolePolicy", AttachRoleName="COS_QcsRole", PolicyName="QcloudKMSAccessForCOSRole")


@pytest.mark.parametrize("principal", COS_PRINCIPALS)
def test_the_seed_creates_cos_qcsrole_trusting_cos_with_the_kms_preset(client, no_cos_role, principal):
    document = json.dumps(
        {
            "version": "2.0",
            "statement": [{"action": "name/sts:AssumeRole", "effect": "allow", "principal": {"service": principal}}],
        }
    )
    role_id = call(client, "CreateRole", RoleName="COS_QcsRole", PolicyDocument=document).RoleId
    call(client, "AttachRolePolicy", AttachRoleName="COS_QcsRole", PolicyName="QcloudKMSAccessForCOSRole")
    info = call(client, "GetRole", RoleName="COS_QcsRole").RoleInfo
    assert (info.RoleId, json.loads(info.PolicyDocument)["statement"][0]["principal"]) == (
        role_id,
        {"service": principal},
    )
    listing = call(client, "ListAttachedRolePolicies", RoleName="COS_QcsRole", Page=1, Rp=20)
    assert [(p.PolicyName, p.PolicyType) for p in listing.List] == [("QcloudKMSAccessForCOSRole", "QCS")]


def test_the_seed_role_is_reported_as_a_system_role(client, no_cos_role):
    call(client, "CreateRole", RoleName="COS_QcsRole", PolicyDocument=trust("cos.cloud.tencent.com"))
    assert call(client, "GetRole", RoleName="COS_QcsRole").RoleInfo.RoleType == "system"


def test_the_seed_role_accepts_the_captured_create_role_request(client, no_cos_role):
    """Spec §5.3, byte for byte: list principal, description, console login, session duration and tags."""
    document = (
        '{"version": "2.0", "statement": [{"action": "name/sts:AssumeRole", "effect": "allow", '
        '"principal": {"service": ["cos.qcloud.com"]}}]}'
    )
    call(
        client,
        "CreateRole",
        RoleName="COS_QcsRole",
        PolicyDocument=document,
        Description="cos role",
        ConsoleLogin=0,
        SessionDuration=7200,
        Tags=tags(k="v"),
    )
    info = call(client, "GetRole", RoleName="COS_QcsRole").RoleInfo
    assert (json.loads(info.PolicyDocument), info.SessionDuration, info.Description) == (
        json.loads(document),
        7200,
        "cos role",
    )


def test_a_second_cos_qcsrole_is_refused_as_name_in_use(client, no_cos_role):
    call(client, "CreateRole", RoleName="COS_QcsRole", PolicyDocument=trust("cos.cloud.tencent.com"))
    assert error_of(client, "CreateRole", RoleName="COS_QcsRole", PolicyDocument=trust("cos.qcloud.com")) == (
        "InvalidParameter.RoleNameInUse"
    )


def test_cos_qcsrole_with_a_trust_policy_without_principal_is_refused(client, no_cos_role):
    document = json.dumps({"version": "2.0", "statement": [{"action": "name/sts:AssumeRole", "effect": "allow"}]})
    assert error_of(client, "CreateRole", RoleName="COS_QcsRole", PolicyDocument=document) == (
        "InvalidParameter.PrincipalError"
    )


def test_attaching_the_kms_preset_to_cos_qcsrole_before_it_exists_is_role_not_exist(client, no_cos_role):
    code = error_of(client, "AttachRolePolicy", AttachRoleName="COS_QcsRole", PolicyName="QcloudKMSAccessForCOSRole")
    assert code == "InvalidParameter.RoleNotExist"


def test_attaching_a_misspelt_kms_preset_to_cos_qcsrole_is_refused(client, no_cos_role):
    call(client, "CreateRole", RoleName="COS_QcsRole", PolicyDocument=trust("cos.cloud.tencent.com"))
    code = error_of(client, "AttachRolePolicy", AttachRoleName="COS_QcsRole", PolicyName="QcloudKMSAccessForCOS")
    assert code == "InvalidParameter.PolicyIdNotExist"


# -- sub-users and their keys ----------------------------------------------------------------------------------


def test_add_user_returns_uin_uid_and_name(client):
    name = unique("user")
    reply = call(client, "AddUser", Name=name)
    try:
        assert (reply.Name, isinstance(reply.Uin, int), isinstance(reply.Uid, int)) == (name, True, True)
    finally:
        call(client, "DeleteUser", Name=name)


def test_add_user_without_api_access_returns_no_key(client):
    name = unique("user")
    reply = call(client, "AddUser", Name=name, UseApi=0)
    try:
        assert (reply.SecretId, reply.SecretKey) == (None, None)
    finally:
        call(client, "DeleteUser", Name=name)


def test_add_user_with_api_access_returns_a_key_pair_that_authenticates(user):
    user.attach("QcloudCAMFullAccess")
    assert call(user.cam(), "GetUser", Name=user.name).Uin == user.uin


@pytest.mark.parametrize("name", ["has space", "trailing-newline\n"])
def test_add_user_refuses_a_bad_name(client, name):
    try:
        code = error_of(client, "AddUser", Name=name)
    finally:
        if name in {u.Name for u in call(client, "ListUsers").Data}:
            call(client, "DeleteUser", Name=name)
    assert code == "InvalidParameter.ParamError"


def test_add_user_refuses_a_name_in_use(client, user):
    assert error_of(client, "AddUser", Name=user.name) == "InvalidParameter.UserNameIllegal"


def test_get_user_returns_the_sub_user(client, user):
    reply = call(client, "GetUser", Name=user.name)
    assert (reply.Name, reply.Uin) == (user.name, user.uin)


def test_get_user_of_a_missing_name_is_user_not_exist(client):
    assert error_of(client, "GetUser", Name=unique("missing")) == "ResourceNotFound.UserNotExist"


def test_list_users_includes_the_sub_user(client, user):
    assert user.uin in {u.Uin for u in call(client, "ListUsers").Data}


def test_delete_user_removes_the_sub_user(client, user):
    call(client, "DeleteUser", Name=user.name)
    assert error_of(client, "GetUser", Name=user.name) == "ResourceNotFound.UserNotExist"


def test_delete_user_disables_its_keys(client, user):
    call(client, "DeleteUser", Name=user.name)
    assert kms_error(user.kms(), "ListKeys") == "AuthFailure.SecretIdNotFound"


def test_delete_user_of_a_missing_name_is_user_not_exist(client):
    assert error_of(client, "DeleteUser", Name=unique("missing")) == "ResourceNotFound.UserNotExist"


def test_list_access_keys_lists_the_key_add_user_made(client, user):
    keys = call(client, "ListAccessKeys", TargetUin=user.uin).AccessKeys
    assert [(k.AccessKeyId, k.Status) for k in keys] == [(user.secret_id, "Active")]


def test_create_access_key_returns_a_second_working_key(kinko, client, user):
    created = call(client, "CreateAccessKey", TargetUin=user.uin, Description="second").AccessKey
    user.attach("QcloudCAMFullAccess")
    second = cam_for(kinko, created.AccessKeyId, created.SecretAccessKey)
    assert call(second, "GetUser", Name=user.name).Uin == user.uin


def test_create_access_key_is_listed(client, user):
    created = call(client, "CreateAccessKey", TargetUin=user.uin).AccessKey
    keys = call(client, "ListAccessKeys", TargetUin=user.uin).AccessKeys
    assert [k.AccessKeyId for k in keys] == [user.secret_id, created.AccessKeyId]


def test_create_access_key_refuses_a_third_key(client, user):
    call(client, "CreateAccessKey", TargetUin=user.uin)
    assert error_of(client, "CreateAccessKey", TargetUin=user.uin) == "OperationDenied.AccessKeyOverLimit"


def test_create_access_key_for_a_missing_user_is_user_not_exist(client):
    assert error_of(client, "CreateAccessKey", TargetUin=100099999999) == "ResourceNotFound.UserNotExist"


def test_update_access_key_marks_the_key_inactive(client, user):
    call(client, "UpdateAccessKey", TargetUin=user.uin, AccessKeyId=user.secret_id, Status="Inactive")
    keys = call(client, "ListAccessKeys", TargetUin=user.uin).AccessKeys
    assert [k.Status for k in keys] == ["Inactive"]


def test_an_inactive_key_fails_cos_authentication(client, user):
    user.attach("QcloudCOSFullAccess")
    call(client, "UpdateAccessKey", TargetUin=user.uin, AccessKeyId=user.secret_id, Status="Inactive")
    assert cos_error(user.cos().list_buckets) == (403, "InvalidAccessKeyId")


def test_an_inactive_key_fails_kms_authentication(client, user):
    user.attach("QcloudKMSFullAccess")
    call(client, "UpdateAccessKey", TargetUin=user.uin, AccessKeyId=user.secret_id, Status="Inactive")
    assert kms_error(user.kms(), "ListKeys") == "AuthFailure.SecretIdNotFound"


def test_a_reactivated_key_authenticates_again(client, user, default_key_id):
    user.attach("QcloudKMSFullAccess")
    call(client, "UpdateAccessKey", TargetUin=user.uin, AccessKeyId=user.secret_id, Status="Inactive")
    call(client, "UpdateAccessKey", TargetUin=user.uin, AccessKeyId=user.secret_id, Status="Active")
    assert default_key_id in {k.KeyId for k in user.kms().ListKeys(request(kms.ListKeysRequest, Limit=200)).Keys}


def test_update_access_key_of_an_unknown_key_is_secret_not_exist(client, user):
    code = error_of(client, "UpdateAccessKey", TargetUin=user.uin, AccessKeyId="AKIDnope", Status="Inactive")
    assert code == "ResourceNotFound.SecretNotExist"


def test_delete_access_key_removes_it_from_the_list(client, user):
    call(client, "DeleteAccessKey", TargetUin=user.uin, AccessKeyId=user.secret_id)
    assert call(client, "ListAccessKeys", TargetUin=user.uin).AccessKeys == []


def test_a_deleted_key_fails_kms_authentication(client, user):
    call(client, "DeleteAccessKey", TargetUin=user.uin, AccessKeyId=user.secret_id)
    assert kms_error(user.kms(), "ListKeys") == "AuthFailure.SecretIdNotFound"


def test_delete_access_key_of_another_users_key_is_secret_not_exist(client, user):
    other = call(client, "AddUser", Name=unique("user"), UseApi=1)
    try:
        assert error_of(client, "DeleteAccessKey", TargetUin=user.uin, AccessKeyId=other.SecretId) == (
            "ResourceNotFound.SecretNotExist"
        )
    finally:
        call(client, "DeleteUser", Name=other.Name)


def test_attach_user_policy_is_listed(client, user):
    user.attach("QcloudCOSReadOnlyAccess")
    assert attached_user_policies(client, user.uin) == ["QcloudCOSReadOnlyAccess"]


def test_list_attached_user_policies_reports_the_policy_type(client, user, custom_policies):
    custom = custom_policies(permission({"effect": "allow", "action": "cos:GetObject", "resource": "*"}))
    user.attach("QcloudCOSReadOnlyAccess")
    user.attach(policy=custom)
    listing = call(client, "ListAttachedUserPolicies", TargetUin=user.uin)
    assert ([p.PolicyType for p in listing.List], listing.TotalNum) == (["QCS", "User"], 2)


def test_detach_user_policy_removes_it(client, user):
    user.attach("QcloudCOSReadOnlyAccess")
    call(client, "DetachUserPolicy", PolicyId=policy_id(client, "QcloudCOSReadOnlyAccess"), DetachUin=user.uin)
    assert attached_user_policies(client, user.uin) == []


def test_attach_user_policy_to_a_missing_user_is_user_not_exist(client):
    code = error_of(
        client, "AttachUserPolicy", PolicyId=policy_id(client, "QcloudCOSFullAccess"), AttachUin=100099999999
    )
    assert code == "ResourceNotFound.UserNotExist"


def test_attach_user_policy_of_an_unknown_policy_is_policy_id_not_exist(client, user):
    assert error_of(client, "AttachUserPolicy", PolicyId=99999, AttachUin=user.uin) == (
        "InvalidParameter.PolicyIdNotExist"
    )


def test_deleting_an_attached_custom_policy_detaches_it(client, user):
    document = permission({"effect": "allow", "action": "cos:GetObject", "resource": "*"})
    created = call(client, "CreatePolicy", PolicyName=unique("gone"), PolicyDocument=document).PolicyId
    user.attach(policy=created)
    call(client, "DeletePolicy", PolicyId=[created])
    assert attached_user_policies(client, user.uin) == []


# -- sub-users held to their policies by COS -------------------------------------------------------------------


@pytest.fixture
def stored(cos, bucket) -> str:
    """The bucket, holding a.txt = b"hello" (put with the root key)."""
    cos.put_object(Bucket=bucket, Key="a.txt", Body=b"hello")
    return bucket


def test_a_read_only_sub_user_can_get_an_object(user, stored):
    user.attach("QcloudCOSReadOnlyAccess")
    assert user.cos().get_object(Bucket=stored, Key="a.txt")["Body"].get_raw_stream().read() == b"hello"


def test_a_read_only_sub_user_can_list_the_bucket(user, stored):
    user.attach("QcloudCOSReadOnlyAccess")
    assert [o["Key"] for o in user.cos().list_objects(Bucket=stored)["Contents"]] == ["a.txt"]


def test_a_read_only_sub_user_can_list_its_buckets(user, stored):
    user.attach("QcloudCOSReadOnlyAccess")
    assert stored in {b["Name"] for b in user.cos().list_buckets()["Buckets"]["Bucket"]}


def test_a_read_only_sub_user_cannot_put_an_object(user, stored):
    user.attach("QcloudCOSReadOnlyAccess")
    assert cos_error(lambda: user.cos().put_object(Bucket=stored, Key="b.txt", Body=b"x")) == (403, "AccessDenied")


def test_a_read_only_sub_user_cannot_delete_an_object(cos, user, stored):
    user.attach("QcloudCOSReadOnlyAccess")
    assert cos_error(lambda: user.cos().delete_object(Bucket=stored, Key="a.txt")) == (403, "AccessDenied")
    assert cos.head_object(Bucket=stored, Key="a.txt")["Content-Length"] == "5"


def test_a_sub_user_without_policies_cannot_list_buckets(user):
    assert cos_error(user.cos().list_buckets) == (403, "AccessDenied")


def test_a_sub_user_without_policies_cannot_get_an_object(user, stored):
    assert cos_error(lambda: user.cos().get_object(Bucket=stored, Key="a.txt")) == (403, "AccessDenied")


def test_a_sub_user_without_policies_cannot_head_a_bucket(user, stored):
    with pytest.raises(CosServiceError) as err:
        user.cos().head_bucket(Bucket=stored)
    assert err.value.get_status_code() == 403  # a HEAD answer has no body, so the SDK has no error code to show


def test_a_sub_user_without_policies_cannot_put_an_object(user, stored):
    assert cos_error(lambda: user.cos().put_object(Bucket=stored, Key="b.txt", Body=b"x")) == (403, "AccessDenied")


def test_a_sub_user_without_policies_cannot_create_a_bucket(user):
    name = f"t{uuid.uuid4().hex[:12]}-{APPID}"
    assert cos_error(lambda: user.cos().create_bucket(Bucket=name)) == (403, "AccessDenied")


def uploads_only(bucket: str) -> str:
    return permission(
        {
            "effect": "allow",
            "action": "name/cos:PutObject",
            "resource": f"qcs::cos:{REGION}:uid/{APPID}:{bucket}/uploads/*",
        }
    )


def test_a_put_only_under_uploads_policy_lets_the_sub_user_put_there(cos, user, bucket, custom_policies):
    user.attach(policy=custom_policies(uploads_only(bucket)))
    user.cos().put_object(Bucket=bucket, Key="uploads/a.txt", Body=b"up")
    assert cos.get_object(Bucket=bucket, Key="uploads/a.txt")["Body"].get_raw_stream().read() == b"up"


def test_a_put_only_under_uploads_policy_refuses_a_put_elsewhere(user, bucket, custom_policies):
    user.attach(policy=custom_policies(uploads_only(bucket)))
    assert cos_error(lambda: user.cos().put_object(Bucket=bucket, Key="other/a.txt", Body=b"x")) == (
        403,
        "AccessDenied",
    )


def test_a_put_only_under_uploads_policy_refuses_reading_back(user, bucket, custom_policies):
    user.attach(policy=custom_policies(uploads_only(bucket)))
    user.cos().put_object(Bucket=bucket, Key="uploads/a.txt", Body=b"up")
    assert cos_error(lambda: user.cos().get_object(Bucket=bucket, Key="uploads/a.txt")) == (403, "AccessDenied")


def test_a_put_only_under_uploads_policy_refuses_another_bucket(cos, user, bucket, custom_policies):
    user.attach(policy=custom_policies(uploads_only(bucket)))
    other = f"t{uuid.uuid4().hex[:12]}-{APPID}"
    cos.create_bucket(Bucket=other)
    try:
        assert cos_error(lambda: user.cos().put_object(Bucket=other, Key="uploads/a.txt", Body=b"x")) == (
            403,
            "AccessDenied",
        )
    finally:
        cos.delete_bucket(Bucket=other)


def test_a_deny_statement_overrides_qcloudcosfullaccess(user, bucket, custom_policies):
    user.attach("QcloudCOSFullAccess")
    user.cos().put_object(Bucket=bucket, Key="secret/a.txt", Body=b"mine")
    deny = permission(
        {
            "effect": "deny",
            "action": "name/cos:GetObject",
            "resource": f"qcs::cos:{REGION}:uid/{APPID}:{bucket}/secret/*",
        }
    )
    user.attach(policy=custom_policies(deny))
    assert cos_error(lambda: user.cos().get_object(Bucket=bucket, Key="secret/a.txt")) == (403, "AccessDenied")


def test_a_deny_statement_leaves_the_rest_of_qcloudcosfullaccess(user, bucket, custom_policies):
    user.attach("QcloudCOSFullAccess")
    deny = permission(
        {
            "effect": "deny",
            "action": "name/cos:GetObject",
            "resource": f"qcs::cos:{REGION}:uid/{APPID}:{bucket}/secret/*",
        }
    )
    user.attach(policy=custom_policies(deny))
    user.cos().put_object(Bucket=bucket, Key="public/a.txt", Body=b"open")
    assert user.cos().get_object(Bucket=bucket, Key="public/a.txt")["Body"].get_raw_stream().read() == b"open"


def test_a_detached_policy_no_longer_grants_cos_access(client, user, stored):
    user.attach("QcloudCOSReadOnlyAccess")
    call(client, "DetachUserPolicy", PolicyId=policy_id(client, "QcloudCOSReadOnlyAccess"), DetachUin=user.uin)
    assert cos_error(lambda: user.cos().get_object(Bucket=stored, Key="a.txt")) == (403, "AccessDenied")


# -- sub-users held to their policies by KMS and CAM -----------------------------------------------------------


def test_a_sub_user_without_kms_rights_is_refused_list_keys(user, default_key_id):
    assert kms_error(user.kms(), "ListKeys") == "AuthFailure.UnauthorizedOperation"


def test_a_sub_user_with_cos_rights_only_is_refused_list_keys(user, default_key_id):
    user.attach("QcloudCOSFullAccess")
    assert kms_error(user.kms(), "ListKeys") == "AuthFailure.UnauthorizedOperation"


def test_a_sub_user_with_qcloudkmsfullaccess_lists_keys(user, default_key_id):
    user.attach("QcloudKMSFullAccess")
    assert default_key_id in {k.KeyId for k in user.kms().ListKeys(request(kms.ListKeysRequest, Limit=200)).Keys}


def test_a_sub_user_allowed_one_key_is_refused_another(user, default_key_id, custom_policies):
    document = permission(
        {
            "effect": "allow",
            "action": "name/kms:DescribeKey",
            "resource": f"qcs::kms:{REGION}::key/creatorUin/*/not-{default_key_id}",
        }
    )
    user.attach(policy=custom_policies(document))
    assert kms_error(user.kms(), "DescribeKey", KeyId=default_key_id) == "AuthFailure.UnauthorizedOperation"


def test_a_sub_user_allowed_a_key_may_describe_it(user, default_key_id, custom_policies):
    document = permission(
        {
            "effect": "allow",
            "action": "name/kms:DescribeKey",
            "resource": f"qcs::kms:{REGION}::key/creatorUin/*/{default_key_id}",
        }
    )
    user.attach(policy=custom_policies(document))
    reply = user.kms().DescribeKey(request(kms.DescribeKeyRequest, KeyId=default_key_id))
    assert reply.KeyMetadata.KeyId == default_key_id


def test_a_sub_user_without_cam_rights_is_refused_cam_calls(user):
    assert error_of(user.cam(), "ListPolicies") == "AuthFailure.UnauthorizedOperation"


def test_a_sub_user_without_cam_rights_cannot_grant_itself_a_policy(client, user):
    code = error_of(
        user.cam(), "AttachUserPolicy", PolicyId=policy_id(client, "QcloudCAMFullAccess"), AttachUin=user.uin
    )
    assert code == "AuthFailure.UnauthorizedOperation"
    assert attached_user_policies(client, user.uin) == []


def test_a_sub_users_create_access_key_without_target_uin_makes_a_key_of_its_own(kinko, client, user):
    """TargetUin left out means the calling user (as on Tencent Cloud), never the root account."""
    user.attach("QcloudCAMFullAccess")
    created = call(user.cam(), "CreateAccessKey").AccessKey
    try:
        refused = kms_for(kinko, created.AccessKeyId, created.SecretAccessKey)
        assert kms_error(refused, "ListKeys") == "AuthFailure.UnauthorizedOperation"
    finally:
        try:
            call(client, "DeleteAccessKey", AccessKeyId=created.AccessKeyId)  # a root key, should one have been made
        except TencentCloudSDKException as exc:
            if exc.code != "ResourceNotFound.SecretNotExist":
                raise


def test_a_sub_user_with_qcloudcamfullaccess_may_call_cam(user):
    user.attach("QcloudCAMFullAccess")
    assert "QcloudCAMFullAccess" in {p.PolicyName for p in call(user.cam(), "ListPolicies", Rp=200).List}
