"""CAM domain rules, in process: the COS service role for SSE-KMS, preset and custom policies, and what a root key
and a sub-user may do."""

import json

import pytest

from roles import errors, policy, presets, service
from roles.models import Policy, Role
from roles.principal import Principal

pytestmark = pytest.mark.django_db

REGION = "ap-guangzhou"


def trust_of(*services: str) -> str:
    return json.dumps(
        {
            "version": "2.0",
            "statement": [
                {"action": "name/sts:AssumeRole", "effect": "allow", "principal": {"service": list(services)}}
            ],
        }
    )


def allow(action: str, resource: str = "*") -> str:
    return json.dumps({"version": "2.0", "statement": [{"effect": "allow", "action": action, "resource": resource}]})


@pytest.fixture
def account():
    return service.create_account("1251000002")


@pytest.fixture
def key_resource(account) -> str:
    return policy.kms_resource(REGION, account.uin, account.uin, "0f5a3c2e-1111-2222-3333-444455556666")


@pytest.fixture
def root(account) -> Principal:
    return Principal(account=account, api_key=service.create_api_key(account))


@pytest.fixture
def sub_user(account):
    return service.add_user(account, "alice")


@pytest.fixture
def sub_principal(account, sub_user) -> Principal:
    key, _ = service.create_access_key(account, sub_user)
    return Principal(account=account, api_key=key)


def preset(name: str) -> Policy:
    return Policy.objects.get(name=name, account=None)


def attached_names(role: Role) -> set[str]:
    return {attachment.policy.name for attachment in role.attachments.all()}


# -- the COS service role ------------------------------------------------------------------------------------


def test_ensure_cos_service_role_creates_a_role_named_cos_qcsrole(account):
    assert service.ensure_cos_service_role(account).name == "COS_QcsRole"


def test_ensure_cos_service_role_attaches_qcloudkmsaccessforcosrole(account):
    role = service.ensure_cos_service_role(account)
    assert attached_names(role) == {"QcloudKMSAccessForCOSRole"}


def test_ensure_cos_service_role_trusts_the_cos_service(account):
    role = service.ensure_cos_service_role(account)
    assert policy.trusted_services(policy.parse(role.trust_policy, trust=True)) & service.COS_SERVICE_PRINCIPALS


def test_ensure_cos_service_role_twice_returns_the_same_role(account):
    first = service.ensure_cos_service_role(account)
    assert service.ensure_cos_service_role(account).role_id == first.role_id


def test_ensure_cos_service_role_twice_keeps_one_role_with_one_attachment(account):
    service.ensure_cos_service_role(account)
    role = service.ensure_cos_service_role(account)
    assert (Role.objects.filter(account=account).count(), role.attachments.count()) == (1, 1)


def test_ensure_cos_service_role_repairs_a_cos_qcsrole_that_trusts_another_service(account):
    existing = service.create_role(account, "COS_QcsRole", trust_of("cvm.qcloud.com"))
    repaired = service.ensure_cos_service_role(account)
    assert repaired.role_id == existing.role_id
    assert service.cos_service_role(account) == existing


def test_ensure_cos_service_role_attaches_the_preset_to_an_existing_cos_qcsrole(account):
    role = service.create_role(account, "COS_QcsRole", trust_of("cos.qcloud.com"))
    service.ensure_cos_service_role(account)
    assert attached_names(role) == {"QcloudKMSAccessForCOSRole"}


def test_ensure_cos_service_role_keeps_a_valid_trust_policy_as_it_is(account):
    role = service.create_role(account, "COS_QcsRole", trust_of("cos.qcloud.com"))
    service.ensure_cos_service_role(account)
    role.refresh_from_db()
    assert role.trust_policy == trust_of("cos.qcloud.com")


def test_cos_service_role_is_none_when_the_account_has_no_cos_qcsrole(account):
    assert service.cos_service_role(account) is None


def test_cos_service_role_is_none_when_cos_qcsrole_trusts_another_service(account):
    service.create_role(account, "COS_QcsRole", trust_of("cvm.qcloud.com"))
    assert service.cos_service_role(account) is None


def test_cos_service_role_is_none_when_cos_qcsrole_only_denies_cos(account):
    text = json.dumps(
        {
            "version": "2.0",
            "statement": [{"action": "sts:AssumeRole", "effect": "deny", "principal": {"service": "cos.qcloud.com"}}],
        }
    )
    service.create_role(account, "COS_QcsRole", text)
    assert service.cos_service_role(account) is None


@pytest.mark.parametrize("principal", ["cos.qcloud.com", "cos.cloud.tencent.com"])
def test_cos_service_role_accepts_either_cos_principal_spelling(account, principal):
    role = service.create_role(account, "COS_QcsRole", trust_of(principal))
    assert service.cos_service_role(account) == role


def test_cos_service_role_ignores_a_role_of_another_name_that_trusts_cos(account):
    service.create_role(account, "COS_Other", trust_of("cos.cloud.tencent.com"))
    assert service.cos_service_role(account) is None


def test_cos_service_role_belongs_to_its_own_account(account):
    service.ensure_cos_service_role(service.create_account("1251000003"))
    assert service.cos_service_role(account) is None


@pytest.mark.parametrize("action", ["kms:GenerateDataKey", "kms:Decrypt"])
def test_the_cos_service_role_may_use_kms_for_sse(account, key_resource, action):
    role = service.ensure_cos_service_role(account)
    assert service.role_may(role, action, key_resource)


@pytest.mark.parametrize("action", ["kms:GenerateDataKey", "kms:Decrypt"])
def test_the_cos_service_role_may_not_use_kms_once_the_preset_is_detached(account, key_resource, action):
    role = service.ensure_cos_service_role(account)
    service.detach_role_policy(role, preset("QcloudKMSAccessForCOSRole"))
    assert not service.role_may(role, action, key_resource)


def test_the_cos_service_role_may_not_schedule_key_deletion(account, key_resource):
    role = service.ensure_cos_service_role(account)
    assert not service.role_may(role, "kms:ScheduleKeyDeletion", key_resource)


def test_a_role_without_policies_may_do_nothing(account, key_resource):
    role = service.create_role(account, "Empty", trust_of("cos.qcloud.com"))
    assert not service.role_may(role, "kms:Decrypt", key_resource)


# -- roles -----------------------------------------------------------------------------------------------------


def test_deleting_a_role_deletes_its_attachments(account):
    role = service.ensure_cos_service_role(account)
    service.delete_role(role)
    assert not preset("QcloudKMSAccessForCOSRole").role_attachments.exists()


def test_create_role_refuses_a_name_already_in_use(account):
    service.create_role(account, "Twice", trust_of("cos.qcloud.com"))
    with pytest.raises(errors.RoleNameInUse):
        service.create_role(account, "Twice", trust_of("cos.qcloud.com"))


def test_create_role_accepts_a_name_another_account_uses(account):
    service.create_role(service.create_account("1251000004"), "Shared", trust_of("cos.qcloud.com"))
    assert service.create_role(account, "Shared", trust_of("cos.qcloud.com")).name == "Shared"


def test_create_role_refuses_a_trust_policy_without_a_principal(account):
    text = json.dumps({"version": "2.0", "statement": [{"action": "sts:AssumeRole", "effect": "allow"}]})
    with pytest.raises(errors.CamError) as err:
        service.create_role(account, "NoPrincipal", text)
    assert err.value.code == "InvalidParameter.PrincipalError"


def test_role_ids_are_decimal_strings(account):
    assert service.create_role(account, "Numbered", trust_of("cos.qcloud.com")).role_id.isdecimal()


# -- policies --------------------------------------------------------------------------------------------------


def test_every_preset_is_installed_as_a_preset_policy():
    names = set(Policy.objects.filter(account=None, type=2).values_list("name", flat=True))
    assert names == {p["name"] for p in presets.PRESETS}


def test_qcloudkmsaccessforcosrole_allows_generate_data_key_and_decrypt():
    document = policy.parse(preset("QcloudKMSAccessForCOSRole").document)
    assert all(policy.is_allowed([document], a, "*") for a in ("kms:GenerateDataKey", "kms:Decrypt"))


def test_a_preset_policy_cannot_be_deleted(account):
    with pytest.raises(errors.PresetPolicyReadOnly):
        service.delete_policies(account, [preset("QcloudCOSFullAccess").policy_id])


def test_a_refused_preset_deletion_leaves_the_preset_in_place(account):
    with pytest.raises(errors.PresetPolicyReadOnly):
        service.delete_policies(account, [preset("QcloudCOSFullAccess").policy_id])
    assert Policy.objects.filter(name="QcloudCOSFullAccess", account=None).exists()


def test_a_deletion_that_names_a_preset_deletes_none_of_the_custom_policies_named_with_it(account):
    custom = service.create_policy(account, "Mine", allow("cos:GetObject"))
    with pytest.raises(errors.PresetPolicyReadOnly):
        service.delete_policies(account, [custom.policy_id, preset("QcloudCOSFullAccess").policy_id])
    assert Policy.objects.filter(policy_id=custom.policy_id).exists()


def test_the_first_custom_policy_id_is_100000000(account):
    assert service.create_policy(account, "First", allow("cos:GetObject")).policy_id == 100000000


def test_custom_policy_ids_count_up_from_the_last_one(account):
    first = service.create_policy(account, "First", allow("cos:GetObject"))
    assert service.create_policy(account, "Second", allow("cos:GetObject")).policy_id == first.policy_id + 1


def test_create_policy_refuses_a_name_a_preset_uses(account):
    with pytest.raises(errors.PolicyNameInUse):
        service.create_policy(account, "QcloudCOSFullAccess", allow("cos:*"))


def test_create_policy_refuses_a_document_without_a_resource(account):
    text = json.dumps({"version": "2.0", "statement": [{"effect": "allow", "action": "cos:GetObject"}]})
    with pytest.raises(errors.CamError) as err:
        service.create_policy(account, "NoResource", text)
    assert err.value.code == "InvalidParameter.ResourceError"


def test_a_custom_policy_is_invisible_to_another_account(account):
    other = service.create_account("1251000005")
    custom = service.create_policy(other, "Theirs", allow("cos:GetObject"))
    with pytest.raises(errors.PolicyIdNotExist):
        service.get_policy(account, custom.policy_id)


def test_deleting_a_custom_policy_deletes_it(account):
    custom = service.create_policy(account, "Gone", allow("cos:GetObject"))
    service.delete_policies(account, [custom.policy_id])
    assert not Policy.objects.filter(policy_id=custom.policy_id).exists()


# -- principals ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("action", "resource"),
    [("cos:DeleteBucket", "*"), ("kms:ScheduleKeyDeletion", "*"), ("cam:DeleteRole", "*"), ("anything:At", "all")],
)
def test_a_root_key_may_do_anything(root, action, resource):
    assert service.principal_may(root, action, resource)


def test_a_root_key_may_act_even_when_a_deny_policy_exists_for_sub_users(account, root, sub_user):
    deny = json.dumps({"version": "2.0", "statement": [{"effect": "deny", "action": "*", "resource": "*"}]})
    service.attach_user_policy(sub_user, service.create_policy(account, "DenyAll", deny))
    assert service.principal_may(root, "cos:GetObject", "*")


def test_a_sub_user_without_policies_may_do_nothing(sub_principal):
    assert not service.principal_may(sub_principal, "cos:GetService", "*")


def test_a_sub_user_may_do_what_an_attached_preset_allows(sub_principal, sub_user):
    service.attach_user_policy(sub_user, preset("QcloudCOSReadOnlyAccess"))
    assert service.principal_may(sub_principal, "cos:GetObject", policy.cos_resource(REGION, "1", "b-1", "a.txt"))


def test_a_sub_user_may_not_do_what_its_policies_do_not_allow(sub_principal, sub_user):
    service.attach_user_policy(sub_user, preset("QcloudCOSReadOnlyAccess"))
    assert not service.principal_may(sub_principal, "cos:PutObject", policy.cos_resource(REGION, "1", "b-1", "a.txt"))


def test_a_sub_user_may_no_longer_act_once_its_policy_is_detached(sub_principal, sub_user):
    service.attach_user_policy(sub_user, preset("QcloudCOSReadOnlyAccess"))
    service.detach_user_policy(sub_user, preset("QcloudCOSReadOnlyAccess"))
    assert not service.principal_may(sub_principal, "cos:GetObject", "*")


def test_a_sub_user_is_held_to_a_deny_in_any_of_its_policies(account, sub_principal, sub_user):
    service.attach_user_policy(sub_user, preset("QcloudCOSFullAccess"))
    deny = json.dumps(
        {"version": "2.0", "statement": [{"effect": "deny", "action": "cos:DeleteObject", "resource": "*"}]}
    )
    service.attach_user_policy(sub_user, service.create_policy(account, "NoDelete", deny))
    assert not service.principal_may(sub_principal, "cos:DeleteObject", "*")


def test_a_sub_user_is_not_granted_what_another_sub_user_is(account, sub_principal):
    bob = service.add_user(account, "bob")
    service.attach_user_policy(bob, preset("QcloudCOSFullAccess"))
    assert not service.principal_may(sub_principal, "cos:GetObject", "*")


def test_a_sub_user_is_not_granted_what_a_role_of_its_account_is(account, sub_principal):
    service.ensure_cos_service_role(account)
    assert not service.principal_may(sub_principal, "kms:Decrypt", "*")


def test_require_raises_unauthorized_for_a_refused_sub_user(sub_principal):
    with pytest.raises(errors.Unauthorized) as err:
        service.require(sub_principal, "cam:ListUsers", "*")
    assert err.value.code == "AuthFailure.UnauthorizedOperation"


def test_deleting_a_sub_user_deletes_its_keys(account, sub_principal, sub_user):
    service.delete_user(sub_user)
    assert not type(sub_principal.api_key).objects.filter(secret_id=sub_principal.api_key.secret_id).exists()


def test_a_sub_user_holds_at_most_two_access_keys(account, sub_user):
    service.create_access_key(account, sub_user)
    service.create_access_key(account, sub_user)
    with pytest.raises(errors.AccessKeyLimit):
        service.create_access_key(account, sub_user)
