"""CAM API 3.0 actions (version 2019-01-16): Params serializer → one service call → Response dict."""

from rest_framework import serializers

from console.tcapi import ApiRequest, Params, action
from roles import errors, policy, service
from roles.models import ApiKey, Policy, PolicyType, Role, SubUser

CAM = "cam"


# -- what each action acts on: its target, never `*` -------------------------------------------------------------
# `qcs::cam::uin/<owner>:uin/<uin>` for a sub-user (or the root itself, which the gate keeps to the root),
# `roleName/<name>` for a role, `policy/<id>` for a policy; `uin/*`, `roleName/*`, `policy/*` for an action on
# none in particular (listing, creating) or on a name that matches nothing.


def _target(request: ApiRequest, target: str) -> str:
    return policy.cam_resource(request.principal.account.uin, target)


def _user_target(request: ApiRequest, uin: object) -> str:
    return _target(request, f"uin/{uin}")


def _named_user_target(request: ApiRequest, name: str) -> str:
    user = SubUser.objects.filter(account=account_of(request), name=name).only("uin").first()
    return _user_target(request, user.uin if user is not None else "*")


def _role_targets(request: ApiRequest, params: dict, id_field: str = "RoleId", name_field: str = "RoleName"):
    """Every role the parameters name (by name as given; by id, the name of the role it finds)."""
    names = []
    if params.get(name_field) is not None:
        names.append(params[name_field])
    if params.get(id_field) is not None:
        role = Role.objects.filter(account=account_of(request), role_id=str(params[id_field])).only("name").first()
        names.append(role.name if role is not None else "*")
    return [_target(request, f"roleName/{name}") for name in names or ["*"]]


def _policy_targets(request: ApiRequest, params: dict) -> list[str]:
    ids = []
    if params.get("PolicyId") is not None:
        ids.append(params["PolicyId"])
    if params.get("PolicyName") is not None:
        found = service.visible_policies(account_of(request)).filter(name=params["PolicyName"]).first()
        ids.append(found.policy_id if found is not None else "*")
    return [_target(request, f"policy/{policy_id}") for policy_id in ids or ["*"]]


def on_all(name: str, target: str):
    """An action on none in particular: `uin/*`, `roleName/*` or `policy/*` of the account."""
    return lambda request, params: [(f"cam:{name}", _target(request, target))]


def on_role(name: str, id_field: str = "RoleId", name_field: str = "RoleName"):
    return lambda request, params: [(f"cam:{name}", r) for r in _role_targets(request, params, id_field, name_field)]


def on_user_named(name: str):
    return lambda request, params: [(f"cam:{name}", _named_user_target(request, params["Name"]))]


def on_user_uin(name: str, field: str):
    return lambda request, params: [(f"cam:{name}", _user_target(request, params[field]))]


def on_key_owner(name: str):
    """Access key actions: on TargetUin, or without it on the caller itself (a sub-user, or the root)."""

    def resources(request: ApiRequest, params: dict) -> list[tuple[str, str]]:
        target = params.get("TargetUin")
        if target is None:
            user = request.principal.sub_user
            target = user.uin if user is not None else request.principal.account.uin
        return [(f"cam:{name}", _user_target(request, target))]

    return resources


def add_user_resources(request: ApiRequest, params: dict) -> list[tuple[str, str]]:
    """AddUser with UseApi=1 also makes the new user's first key pair: that needs CreateAccessKey too."""
    wanted = [("cam:AddUser", _target(request, "uin/*"))]
    if params.get("UseApi"):
        wanted.append(("cam:CreateAccessKey", _target(request, "uin/*")))
    return wanted


def policy_resources(name: str):
    return lambda request, params: [(f"cam:{name}", r) for r in _policy_targets(request, params)]


def delete_policy_resources(request: ApiRequest, params: dict) -> list[tuple[str, str]]:
    return [("cam:DeletePolicy", _target(request, f"policy/{policy_id}")) for policy_id in params["PolicyId"]]


def when(moment) -> str:
    return moment.strftime("%Y-%m-%d %H:%M:%S")


def account_of(request: ApiRequest):
    return request.principal.account


class LooseIdField(serializers.CharField):
    """RoleId travels as a string or an integer (spec §7.9); always a string inside."""

    def to_internal_value(self, data) -> str:
        if isinstance(data, bool) or not isinstance(data, (str, int)):
            raise serializers.ValidationError("must be a string or an integer")
        return str(data)


class RoleTag(Params):
    Key = serializers.CharField()
    Value = serializers.CharField(allow_blank=True)


def role_info(role: Role) -> dict:
    return {
        "RoleId": role.role_id,
        "RoleName": role.name,
        "PolicyDocument": role.trust_policy,
        "Description": role.description,
        "AddTime": when(role.created_at),
        "UpdateTime": when(role.updated_at),
        "ConsoleLogin": int(role.console_login),
        "RoleType": "system" if role.name == service.COS_SERVICE_ROLE else "user",
        "SessionDuration": role.session_duration,
        "Tags": role.tags,
        "RoleArn": f"qcs::cam::uin/{role.account.uin}:roleName/{role.name}",
    }


def _role(request: ApiRequest, params: dict, id_field: str = "RoleId", name_field: str = "RoleName") -> Role:
    return service.get_role(account_of(request), params.get(id_field), params.get(name_field))


class CreateRoleParams(Params):
    RoleName = serializers.CharField()
    PolicyDocument = serializers.CharField()
    Description = serializers.CharField(required=False, allow_blank=True, default="")
    ConsoleLogin = serializers.IntegerField(required=False, default=0, min_value=0, max_value=1)
    SessionDuration = serializers.IntegerField(required=False, default=0, min_value=0, max_value=43200)
    Tags = RoleTag(many=True, required=False)


@action(CAM, "CreateRole", CreateRoleParams, on_role("CreateRole"))
def create_role(request: ApiRequest, params: dict) -> dict:
    role = service.create_role(
        account_of(request),
        params["RoleName"],
        params["PolicyDocument"],
        params["Description"],
        bool(params["ConsoleLogin"]),
        params["SessionDuration"],
        [dict(t) for t in params.get("Tags", [])],
    )
    return {"RoleId": role.role_id}


class RoleRefParams(Params):
    RoleId = LooseIdField(required=False)
    RoleName = serializers.CharField(required=False)


@action(CAM, "GetRole", RoleRefParams, on_role("GetRole"))
def get_role(request: ApiRequest, params: dict) -> dict:
    return {"RoleInfo": role_info(_role(request, params))}


class DescribeRoleListParams(Params):
    Page = serializers.IntegerField(min_value=1)
    Rp = serializers.IntegerField(min_value=1, max_value=200)
    Tags = RoleTag(many=True, required=False)


@action(CAM, "DescribeRoleList", DescribeRoleListParams, on_all("DescribeRoleList", "roleName/*"))
def describe_role_list(request: ApiRequest, params: dict) -> dict:
    roles, total = service.list_roles(
        account_of(request), params["Page"], params["Rp"], [dict(t) for t in params.get("Tags", [])]
    )
    return {"List": [role_info(role) for role in roles], "TotalNum": total}


@action(CAM, "DeleteRole", RoleRefParams, on_role("DeleteRole"))
def delete_role(request: ApiRequest, params: dict) -> dict:
    service.delete_role(_role(request, params))
    return {}


class UpdateAssumeRolePolicyParams(RoleRefParams):
    PolicyDocument = serializers.CharField()


@action(CAM, "UpdateAssumeRolePolicy", UpdateAssumeRolePolicyParams, on_role("UpdateAssumeRolePolicy"))
def update_assume_role_policy(request: ApiRequest, params: dict) -> dict:
    service.update_assume_role_policy(_role(request, params), params["PolicyDocument"])
    return {}


class UpdateRoleDescriptionParams(RoleRefParams):
    Description = serializers.CharField(allow_blank=True)


@action(CAM, "UpdateRoleDescription", UpdateRoleDescriptionParams, on_role("UpdateRoleDescription"))
def update_role_description(request: ApiRequest, params: dict) -> dict:
    service.update_role_description(_role(request, params), params["Description"])
    return {}


class PolicyRefParams(Params):
    PolicyId = serializers.IntegerField(required=False)
    PolicyName = serializers.CharField(required=False)


def _policy(request: ApiRequest, params: dict) -> Policy:
    return service.get_policy(account_of(request), params.get("PolicyId"), params.get("PolicyName"))


class AttachRolePolicyParams(PolicyRefParams):
    AttachRoleId = LooseIdField(required=False)
    AttachRoleName = serializers.CharField(required=False)


@action(CAM, "AttachRolePolicy", AttachRolePolicyParams, on_role("AttachRolePolicy", "AttachRoleId", "AttachRoleName"))
def attach_role_policy(request: ApiRequest, params: dict) -> dict:
    service.attach_role_policy(_role(request, params, "AttachRoleId", "AttachRoleName"), _policy(request, params))
    return {}


class DetachRolePolicyParams(PolicyRefParams):
    DetachRoleId = LooseIdField(required=False)
    DetachRoleName = serializers.CharField(required=False)


@action(CAM, "DetachRolePolicy", DetachRolePolicyParams, on_role("DetachRolePolicy", "DetachRoleId", "DetachRoleName"))
def detach_role_policy(request: ApiRequest, params: dict) -> dict:
    service.detach_role_policy(_role(request, params, "DetachRoleId", "DetachRoleName"), _policy(request, params))
    return {}


def _policy_type(found: Policy) -> str:
    return "QCS" if found.type == PolicyType.PRESET else "User"


class ListAttachedRolePoliciesParams(RoleRefParams):
    Page = serializers.IntegerField(min_value=1)
    Rp = serializers.IntegerField(min_value=1, max_value=200)
    PolicyType = serializers.ChoiceField(["User", "QCS"], required=False)
    Keyword = serializers.CharField(required=False, allow_blank=True)


@action(CAM, "ListAttachedRolePolicies", ListAttachedRolePoliciesParams, on_role("ListAttachedRolePolicies"))
def list_attached_role_policies(request: ApiRequest, params: dict) -> dict:
    role = _role(request, params)
    attachments = [
        a
        for a in role.attachments.select_related("policy").order_by("attached_at", "id")
        if params.get("PolicyType") in (None, _policy_type(a.policy))
        and params.get("Keyword", "").lower() in a.policy.name.lower()
    ]
    page = attachments[(params["Page"] - 1) * params["Rp"] : params["Page"] * params["Rp"]]
    return {
        "List": [
            {
                "PolicyId": a.policy.policy_id,
                "PolicyName": a.policy.name,
                "AddTime": when(a.attached_at),
                "PolicyType": _policy_type(a.policy),
                "CreateMode": 2,
                "Deactived": 0,
                "DeactivedDetail": [],
                "Description": a.policy.description,
            }
            for a in page
        ],
        "TotalNum": len(attachments),
    }


class TagRoleParams(RoleRefParams):
    Tags = RoleTag(many=True)


@action(CAM, "TagRole", TagRoleParams, on_role("TagRole"))
def tag_role(request: ApiRequest, params: dict) -> dict:
    service.tag_role(_role(request, params), [dict(t) for t in params["Tags"]])
    return {}


class UntagRoleParams(RoleRefParams):
    TagKeys = serializers.ListField(child=serializers.CharField())


@action(CAM, "UntagRole", UntagRoleParams, on_role("UntagRole"))
def untag_role(request: ApiRequest, params: dict) -> dict:
    service.untag_role(_role(request, params), params["TagKeys"])
    return {}


def strategy_info(found: Policy) -> dict:
    return {
        "PolicyId": found.policy_id,
        "PolicyName": found.name,
        "AddTime": when(found.created_at),
        "Type": found.type,
        "Description": found.description,
        "CreateMode": 2,
        "UpdateTime": when(found.updated_at),
    }


class ListPoliciesParams(Params):
    Rp = serializers.IntegerField(required=False, default=20, min_value=1, max_value=200)
    Page = serializers.IntegerField(required=False, default=1, min_value=1, max_value=200)
    Scope = serializers.CharField(required=False, default="All")
    Keyword = serializers.CharField(required=False, allow_blank=True, default="")


@action(CAM, "ListPolicies", ListPoliciesParams, on_all("ListPolicies", "policy/*"))
def list_policies(request: ApiRequest, params: dict) -> dict:
    policies, total = service.list_policies(
        account_of(request), params["Scope"], params["Keyword"], params["Page"], params["Rp"]
    )
    return {"TotalNum": total, "List": [strategy_info(p) for p in policies], "ServiceTypeList": []}


class GetPolicyParams(Params):
    PolicyId = serializers.IntegerField()


@action(CAM, "GetPolicy", GetPolicyParams, policy_resources("GetPolicy"))
def get_policy(request: ApiRequest, params: dict) -> dict:
    found = service.get_policy(account_of(request), params["PolicyId"], missing=errors.PolicyIdNotFound)
    return {
        "PolicyName": found.name,
        "Description": found.description,
        "Type": found.type,
        "AddTime": when(found.created_at),
        "UpdateTime": when(found.updated_at),
        "PolicyDocument": found.document,
        "PresetAlias": found.name if found.type == PolicyType.PRESET else "",
        "IsServiceLinkedRolePolicy": 0,
        "Tags": [],
    }


class CreatePolicyParams(Params):
    PolicyName = serializers.CharField()
    PolicyDocument = serializers.CharField()
    Description = serializers.CharField(required=False, allow_blank=True, default="")
    Tags = RoleTag(many=True, required=False)


@action(CAM, "CreatePolicy", CreatePolicyParams, on_all("CreatePolicy", "policy/*"))
def create_policy(request: ApiRequest, params: dict) -> dict:
    found = service.create_policy(
        account_of(request), params["PolicyName"], params["PolicyDocument"], params["Description"]
    )
    return {"PolicyId": found.policy_id}


class DeletePolicyParams(Params):
    PolicyId = serializers.ListField(child=serializers.IntegerField(), min_length=1)


@action(CAM, "DeletePolicy", DeletePolicyParams, delete_policy_resources)
def delete_policy(request: ApiRequest, params: dict) -> dict:
    service.delete_policies(account_of(request), params["PolicyId"])
    return {}


# -- sub-users -----------------------------------------------------------------------------------------------


class AddUserParams(Params):
    Name = serializers.CharField()
    Remark = serializers.CharField(required=False, allow_blank=True, default="")
    ConsoleLogin = serializers.IntegerField(required=False, default=0, min_value=0, max_value=1)
    UseApi = serializers.IntegerField(required=False, default=0, min_value=0, max_value=1)
    Password = serializers.CharField(required=False, allow_blank=True)
    NeedResetPassword = serializers.IntegerField(required=False)
    PhoneNum = serializers.CharField(required=False, allow_blank=True)
    CountryCode = serializers.CharField(required=False, allow_blank=True)
    Email = serializers.CharField(required=False, allow_blank=True, default="")


@action(CAM, "AddUser", AddUserParams, add_user_resources)
def add_user(request: ApiRequest, params: dict) -> dict:
    account = account_of(request)
    user = service.add_user(
        account,
        params["Name"],
        params["Remark"],
        bool(params["ConsoleLogin"]),
        params["Email"],
        params.get("Password", ""),
    )
    result = {"Uin": int(user.uin), "Name": user.name, "Uid": user.uid}
    if params["UseApi"]:
        key, secret_key = service.create_access_key(account, user)
        result.update(SecretId=key.secret_id, SecretKey=secret_key)
    return result


def sub_account_info(user: SubUser) -> dict:
    return {
        "Uin": int(user.uin),
        "Name": user.name,
        "Uid": user.uid,
        "Remark": user.remark,
        "ConsoleLogin": int(user.console_login),
        "Email": user.email,
        "CreateTime": when(user.created_at),
    }


class UserNameParams(Params):
    Name = serializers.CharField()


@action(CAM, "GetUser", UserNameParams, on_user_named("GetUser"))
def get_user(request: ApiRequest, params: dict) -> dict:
    return sub_account_info(service.get_user(account_of(request), name=params["Name"]))


@action(CAM, "ListUsers", None, on_all("ListUsers", "uin/*"))
def list_users(request: ApiRequest, params: dict) -> dict:
    users = SubUser.objects.filter(account=account_of(request)).order_by("created_at", "id")
    return {"Data": [sub_account_info(user) for user in users]}


class DeleteUserParams(UserNameParams):
    Force = serializers.IntegerField(required=False, default=0)


@action(CAM, "DeleteUser", DeleteUserParams, on_user_named("DeleteUser"))
def delete_user(request: ApiRequest, params: dict) -> dict:
    service.delete_user(service.get_user(account_of(request), name=params["Name"]))
    return {}


def _key_owner(request: ApiRequest, params: dict):
    """TargetUin names whose keys; without it, the caller's own (a sub-user's, or the root's)."""
    if params.get("TargetUin") is None:
        return request.principal.sub_user
    return service.key_owner(account_of(request), params["TargetUin"])


def access_key(key: ApiKey) -> dict:
    return {
        "AccessKeyId": key.secret_id,
        "Status": key.status,
        "CreateTime": when(key.created_at),
        "Description": key.description,
    }


class CreateAccessKeyParams(Params):
    TargetUin = serializers.IntegerField(required=False)
    Description = serializers.CharField(required=False, allow_blank=True, default="")


@action(CAM, "CreateAccessKey", CreateAccessKeyParams, on_key_owner("CreateAccessKey"))
def create_access_key(request: ApiRequest, params: dict) -> dict:
    key, secret_key = service.create_access_key(account_of(request), _key_owner(request, params), params["Description"])
    return {"AccessKey": {**access_key(key), "SecretAccessKey": secret_key}}


class TargetUinParams(Params):
    TargetUin = serializers.IntegerField(required=False)


@action(CAM, "ListAccessKeys", TargetUinParams, on_key_owner("ListAccessKeys"))
def list_access_keys(request: ApiRequest, params: dict) -> dict:
    keys = service.access_keys(account_of(request), _key_owner(request, params))
    return {"AccessKeys": [access_key(key) for key in keys]}


class UpdateAccessKeyParams(TargetUinParams):
    AccessKeyId = serializers.CharField()
    Status = serializers.ChoiceField(["Active", "Inactive"])


@action(CAM, "UpdateAccessKey", UpdateAccessKeyParams, on_key_owner("UpdateAccessKey"))
def update_access_key(request: ApiRequest, params: dict) -> dict:
    service.update_access_key(account_of(request), _key_owner(request, params), params["AccessKeyId"], params["Status"])
    return {}


class DeleteAccessKeyParams(TargetUinParams):
    AccessKeyId = serializers.CharField()


@action(CAM, "DeleteAccessKey", DeleteAccessKeyParams, on_key_owner("DeleteAccessKey"))
def delete_access_key(request: ApiRequest, params: dict) -> dict:
    service.delete_access_key(account_of(request), _key_owner(request, params), params["AccessKeyId"])
    return {}


class AttachUserPolicyParams(Params):
    PolicyId = serializers.IntegerField()
    AttachUin = serializers.IntegerField()


@action(CAM, "AttachUserPolicy", AttachUserPolicyParams, on_user_uin("AttachUserPolicy", "AttachUin"))
def attach_user_policy(request: ApiRequest, params: dict) -> dict:
    account = account_of(request)
    service.attach_user_policy(
        service.get_user(account, uin=params["AttachUin"]), service.get_policy(account, params["PolicyId"])
    )
    return {}


class DetachUserPolicyParams(Params):
    PolicyId = serializers.IntegerField()
    DetachUin = serializers.IntegerField()


@action(CAM, "DetachUserPolicy", DetachUserPolicyParams, on_user_uin("DetachUserPolicy", "DetachUin"))
def detach_user_policy(request: ApiRequest, params: dict) -> dict:
    account = account_of(request)
    service.detach_user_policy(
        service.get_user(account, uin=params["DetachUin"]), service.get_policy(account, params["PolicyId"])
    )
    return {}


class ListAttachedUserPoliciesParams(Params):
    TargetUin = serializers.IntegerField()
    Page = serializers.IntegerField(required=False, default=1, min_value=1)
    Rp = serializers.IntegerField(required=False, default=20, min_value=1, max_value=200)


@action(
    CAM,
    "ListAttachedUserPolicies",
    ListAttachedUserPoliciesParams,
    on_user_uin("ListAttachedUserPolicies", "TargetUin"),
)
def list_attached_user_policies(request: ApiRequest, params: dict) -> dict:
    user = service.get_user(account_of(request), uin=params["TargetUin"])
    attachments = list(user.attachments.select_related("policy").order_by("attached_at", "id"))
    page = attachments[(params["Page"] - 1) * params["Rp"] : params["Page"] * params["Rp"]]
    return {
        "TotalNum": len(attachments),
        "List": [
            {
                "PolicyId": a.policy.policy_id,
                "PolicyName": a.policy.name,
                "AddTime": when(a.attached_at),
                "CreateMode": 2,
                "PolicyType": _policy_type(a.policy),
                "Remark": a.policy.description,
            }
            for a in page
        ],
    }
