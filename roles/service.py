"""Accounts, sub-users, API keys, CAM roles and policies, and the authorization every request passes through.

Shared by the CAM API 3.0 actions, the COS and KMS APIs, commands and the console.
"""

import json
import os
import re
import secrets
import string
from dataclasses import dataclass

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import IntegrityError, models, transaction

from core import keystore
from core.db import lock, serialize
from roles import errors, policy, presets
from roles.models import (
    Account,
    ApiKey,
    ApiKeyStatus,
    Policy,
    PolicyType,
    Role,
    RolePolicy,
    SubUser,
    UserPolicy,
)
from roles.principal import Principal

SECRET_ID_PREFIX = "AKID"  # noqa: S105 - a public id prefix, not a secret
_ALNUM = string.ascii_letters + string.digits


@dataclass(frozen=True)
class Credentials:
    appid: str
    secret_id: str
    secret_key: str
    api_token: str

    def as_json(self) -> dict:
        return {
            "AppId": self.appid,
            "SecretId": self.secret_id,
            "SecretKey": self.secret_key,
            "ApiToken": self.api_token,
        }


def _random_text(n: int) -> str:
    return "".join(secrets.choice(_ALNUM) for _ in range(n))


def new_secret_id() -> str:
    return SECRET_ID_PREFIX + _random_text(32)


def new_secret_key() -> str:
    return _random_text(32)


def api_token_digest(token: str) -> str:
    """A keyed hash of an ApiToken: finds the account without keeping the token in clear."""
    return keystore.keyed_digest(b"apitoken", token.encode())


def create_account(appid: str, *, is_root: bool = False) -> Account:
    uin = "1000" + "".join(secrets.choice(string.digits) for _ in range(8))
    token = secrets.token_urlsafe(32)
    return Account.objects.create(
        appid=appid,
        uin=uin,
        is_root=is_root,
        api_token_sealed=keystore.seal_secret(token.encode(), b"apitoken:" + appid.encode()),
        api_token_digest=api_token_digest(token),
    )


def account_for_api_token(token: str) -> Account | None:
    account = Account.objects.filter(api_token_digest=api_token_digest(token)).first()
    if account is None or not secrets.compare_digest(account.api_token(), token):
        return None
    return account


def console_principal(django_user) -> Principal | None:
    """Who a console session acts as: a sub-user's own rights, or (a superuser) the root account. A staff flag
    alone is not root: it only lets Django's admin show a login form."""
    sub_user = SubUser.objects.filter(console_user=django_user).select_related("account").first()
    if sub_user is not None:
        return Principal(account=sub_user.account, user=sub_user)
    if django_user.is_active and django_user.is_superuser:
        account = Account.objects.filter(is_root=True).first()
        return root_principal(account) if account is not None else None
    return None


def root_principal(account: Account) -> Principal:
    """The account acting with its root rights (JSON API tokens and console sessions)."""
    key = account.api_keys.filter(user=None).order_by("created_at", "id").first() or create_api_key(account)
    return Principal(account=account, api_key=key)


def create_api_key(
    account: Account,
    secret_id: str | None = None,
    secret_key: str | None = None,
    user: SubUser | None = None,
    description: str = "",
) -> ApiKey:
    secret_id = secret_id or new_secret_id()
    secret_key = secret_key or new_secret_key()
    return ApiKey.objects.create(
        account=account,
        user=user,
        description=description,
        secret_id=secret_id,
        secret_key_sealed=keystore.seal_secret(secret_key.encode(), b"apikey:" + secret_id.encode()),
    )


def root_account() -> Account:
    """The root account (created with its first key pair if absent)."""
    ensure_root_credentials()
    return Account.objects.get(appid=settings.KINKO_APPID)


@transaction.atomic
def ensure_root_credentials() -> Credentials:
    """The root account and its first key pair: from KINKO_SECRET_ID/KINKO_SECRET_KEY, else generated once.

    When the environment names a pair the database lacks, that pair is added, so an operator can set it later.
    """
    appid = settings.KINKO_APPID
    serialize("root-credentials")  # nodes bootstrapping at once on one database make one root account
    account = Account.objects.filter(appid=appid).first() or create_account(appid, is_root=True)
    env_id, env_key = os.environ.get("KINKO_SECRET_ID"), os.environ.get("KINKO_SECRET_KEY")
    if env_id and env_key:
        key = ApiKey.objects.filter(secret_id=env_id).first()
        if key is None:
            key = create_api_key(account, env_id, env_key)
        elif key.secret_key() != env_key:
            key.secret_key_sealed = keystore.seal_secret(env_key.encode(), b"apikey:" + env_id.encode())
            key.save(update_fields=["secret_key_sealed"])
    else:
        key = account.api_keys.filter(user=None).order_by("created_at", "id").first() or create_api_key(account)
    return Credentials(
        appid=account.appid, secret_id=key.secret_id, secret_key=key.secret_key(), api_token=account.api_token()
    )


def ensure_admin_user() -> tuple[str, str] | None:
    """The console/admin superuser from KINKO_ADMIN_USER/KINKO_ADMIN_PASSWORD; returns (name, password) only
    when it was created just now, so the generated password can be shown once."""
    username = os.environ.get("KINKO_ADMIN_USER", "admin")
    user_model = get_user_model()
    if user_model.objects.filter(username=username).exists():
        return None
    password = os.environ.get("KINKO_ADMIN_PASSWORD") or secrets.token_urlsafe(12)
    user_model.objects.create_superuser(username=username, email="", password=password)
    return username, password


# -- authorization -------------------------------------------------------------------------------------------

COS_SERVICE_PRINCIPALS = {"cos.qcloud.com", "cos.cloud.tencent.com"}
COS_SERVICE_ROLE = "COS_QcsRole"
COS_SERVICE_ROLE_POLICY = "QcloudKMSAccessForCOSRole"


def _documents(policies) -> list[dict]:
    return [policy.parse(p.document) for p in policies]


def _allowed_by(policies, action: str, resource: str, context: dict | None) -> bool:
    """A stored document that no longer parses (stored before a rule tightened) could hold a deny: refuse."""
    try:
        documents = _documents(policies)
    except policy.PolicySyntaxError:
        return False
    return policy.is_allowed(documents, action, resource, context)


_DOCUMENTS = "_kinko_policy_documents"  # where a SubUser instance keeps its policy documents once read


def _user_documents(user: SubUser) -> list[dict] | None:
    """The sub-user's attached policy documents (None when one no longer parses: refuse), read once per SubUser
    instance: a principal is loaded afresh for each request, and a page that asks about every row of a listing
    asks the database once. Attaching or detaching through this module forgets them."""
    if _DOCUMENTS not in user.__dict__:
        try:
            user.__dict__[_DOCUMENTS] = _documents(Policy.objects.filter(user_attachments__user=user))
        except policy.PolicySyntaxError:
            user.__dict__[_DOCUMENTS] = None
    return user.__dict__[_DOCUMENTS]


def principal_may(principal: Principal, action: str, resource: str, context: dict | None = None) -> bool:
    """The account's root keys may do anything on its own resources; a sub-user what its policies allow."""
    user = principal.sub_user
    if user is None:
        return True
    documents = _user_documents(user)
    return documents is not None and policy.is_allowed(documents, action, resource, context)


def require(principal: Principal, action: str, resource: str, context: dict | None = None) -> None:
    if not principal_may(principal, action, resource, context):
        raise errors.Unauthorized(f"You are not authorized to perform {action} on {resource}.")


def cos_service_role(account: Account) -> Role | None:
    """COS_QcsRole, when it exists and trusts the COS service."""
    role = Role.objects.filter(account=account, name=COS_SERVICE_ROLE).first()
    if (
        role is None
        or not policy.trusted_services(policy.parse(role.trust_policy, trust=True)) & COS_SERVICE_PRINCIPALS
    ):
        return None
    return role


def role_may(role: Role, action: str, resource: str, context: dict | None = None) -> bool:
    return _allowed_by(Policy.objects.filter(role_attachments__role=role), action, resource, context)


# -- roles ---------------------------------------------------------------------------------------------------

ROLE_NAME = re.compile(r"^[A-Za-z0-9+=,.@_-]{1,128}$")
MAX_ROLE_DESCRIPTION_BYTES = 300


def _role_id() -> str:
    return str(4611686018427387904 + secrets.randbelow(10**15))


def _check_trust_policy(text: str) -> str:
    try:
        policy.parse(text, trust=True)
    except policy.PolicySyntaxError as exc:
        raise errors.CamError(str(exc), code=exc.code) from None
    return text


def _check_tags(tags: list[dict]) -> list[dict]:
    if any(not tag.get("Key") or tag.get("Value") is None for tag in tags):
        raise errors.TagParamError()
    return [{"Key": tag["Key"], "Value": tag["Value"]} for tag in tags]


def create_role(
    account: Account,
    name: str,
    trust_policy: str,
    description: str = "",
    console_login: bool = False,
    session_duration: int = 0,
    tags: list[dict] | None = None,
    policies: list[str] = (),
) -> Role:
    """A role, with the named policies attached: both or neither."""
    if not ROLE_NAME.fullmatch(name):
        raise errors.RoleNameError()
    if len(description.encode()) > MAX_ROLE_DESCRIPTION_BYTES:
        raise errors.DescriptionTooLong()
    _check_trust_policy(trust_policy)
    found = [get_policy(account, name=policy_name) for policy_name in policies]
    try:
        with transaction.atomic():
            role = Role.objects.create(
                account=account,
                role_id=_role_id(),
                name=name,
                trust_policy=trust_policy,
                description=description,
                console_login=console_login,
                session_duration=session_duration,
                tags=_check_tags(tags or []),
            )
            for attached in found:
                attach_role_policy(role, attached)
            return role
    except IntegrityError:
        raise errors.RoleNameInUse() from None


def get_role(account: Account, role_id: str | int | None = None, name: str | None = None) -> Role:
    if (role_id is None) == (name is None):
        raise errors.ParamError("Name the role by exactly one of its id or its name.")
    roles = Role.objects.filter(account=account)
    role = roles.filter(role_id=str(role_id)).first() if role_id is not None else roles.filter(name=name).first()
    if role is None:
        raise errors.RoleNotExist()
    return role


def list_roles(account: Account, page: int, per_page: int, tags: list[dict] | None = None) -> tuple[list[Role], int]:
    roles = list(Role.objects.filter(account=account))
    for tag in tags or []:
        roles = [r for r in roles if {"Key": tag["Key"], "Value": tag["Value"]} in r.tags]
    return roles[(page - 1) * per_page : page * per_page], len(roles)


def delete_role(role: Role) -> None:
    role.delete()  # its policy attachments go with it


def update_assume_role_policy(role: Role, trust_policy: str) -> None:
    role.trust_policy = _check_trust_policy(trust_policy)
    role.save(update_fields=["trust_policy", "updated_at"])


def update_role_description(role: Role, description: str) -> None:
    if len(description.encode()) > MAX_ROLE_DESCRIPTION_BYTES:
        raise errors.DescriptionTooLong()
    role.description = description
    role.save(update_fields=["description", "updated_at"])


def tag_role(role: Role, tags: list[dict]) -> None:
    merged = {tag["Key"]: tag["Value"] for tag in role.tags}
    merged.update({tag["Key"]: tag["Value"] for tag in _check_tags(tags)})
    role.tags = [{"Key": k, "Value": v} for k, v in merged.items()]
    role.save(update_fields=["tags", "updated_at"])


def untag_role(role: Role, keys: list[str]) -> None:
    role.tags = [tag for tag in role.tags if tag["Key"] not in keys]
    role.save(update_fields=["tags", "updated_at"])


# -- policies ------------------------------------------------------------------------------------------------

POLICY_NAME = re.compile(r"^[A-Za-z0-9+=,.@_-]{1,128}$")


def visible_policies(account: Account):
    return Policy.objects.filter(models.Q(account=account) | models.Q(account__isnull=True))


def get_policy(
    account: Account,
    policy_id: int | None = None,
    name: str | None = None,
    missing: type[errors.CamError] = errors.PolicyIdNotExist,
) -> Policy:
    if (policy_id is None) == (name is None):
        raise errors.ParamError("Name the policy by exactly one of its id or its name.")
    policies = visible_policies(account)
    found = (
        policies.filter(policy_id=policy_id).first() if policy_id is not None else policies.filter(name=name).first()
    )
    if found is None:
        raise missing()
    return found


def list_policies(
    account: Account, scope: str = "All", keyword: str = "", page: int = 1, per_page: int = 20
) -> tuple[list[Policy], int]:
    policies = visible_policies(account)
    if scope == "QCS":
        policies = policies.filter(type=PolicyType.PRESET)
    elif scope == "Local":
        policies = policies.filter(type=PolicyType.CUSTOM)
    elif scope != "All":
        raise errors.ScopeError()
    if keyword:
        policies = policies.filter(name__icontains=keyword)
    total = policies.count()
    return list(policies.order_by("policy_id")[(page - 1) * per_page : page * per_page]), total


@transaction.atomic
def create_policy(account: Account, name: str, document: str, description: str = "") -> Policy:
    if not POLICY_NAME.fullmatch(name):
        raise errors.PolicyNameError()
    try:
        policy.parse(document)
    except policy.PolicySyntaxError as exc:
        raise errors.CamError(str(exc), code=exc.code) from None
    serialize("policy-ids")  # the name check and the next PolicyId hold until the policy is made
    if visible_policies(account).filter(name=name).exists():
        raise errors.PolicyNameInUse()
    last = Policy.objects.aggregate(models.Max("policy_id"))["policy_id__max"] or 0
    return Policy.objects.create(
        policy_id=max(last + 1, presets.FIRST_CUSTOM_POLICY_ID),
        account=account,
        name=name,
        description=description,
        document=document,
        type=PolicyType.CUSTOM,
    )


def delete_policies(account: Account, policy_ids: list[int]) -> None:
    with transaction.atomic():
        for policy_id in policy_ids:
            found = get_policy(account, policy_id)
            if found.account_id is None:
                raise errors.PresetPolicyReadOnly()
            found.delete()


def attach_role_policy(role: Role, found: Policy) -> None:
    RolePolicy.objects.get_or_create(role=role, policy=found)


def detach_role_policy(role: Role, found: Policy) -> None:
    RolePolicy.objects.filter(role=role, policy=found).delete()


def attach_user_policy(user: SubUser, found: Policy) -> None:
    UserPolicy.objects.get_or_create(user=user, policy=found)
    user.__dict__.pop(_DOCUMENTS, None)


def detach_user_policy(user: SubUser, found: Policy) -> None:
    UserPolicy.objects.filter(user=user, policy=found).delete()
    user.__dict__.pop(_DOCUMENTS, None)


@transaction.atomic
def ensure_cos_service_role(account: Account) -> Role:
    """The seed's seven console steps in one call (idempotent): a role whose entity is the COS service, the preset
    policy QcloudKMSAccessForCOSRole attached, named COS_QcsRole."""
    trust = json.dumps(
        {
            "version": "2.0",
            "statement": [
                {
                    "action": "name/sts:AssumeRole",
                    "effect": "allow",
                    "principal": {"service": ["cos.cloud.tencent.com"]},
                }
            ],
        },
        separators=(",", ":"),
    )
    lock(account)  # a second call at the same time waits, then finds the role
    role = Role.objects.filter(account=account, name=COS_SERVICE_ROLE).first()
    if role is None:
        role = create_role(account, COS_SERVICE_ROLE, trust, "COS uses KMS keys for SSE-KMS on your behalf.")
    elif cos_service_role(account) is None:
        update_assume_role_policy(role, trust)
    attach_role_policy(role, get_policy(account, name=COS_SERVICE_ROLE_POLICY))
    return role


# -- sub-users and their keys --------------------------------------------------------------------------------

MAX_KEYS_PER_USER = 2


def console_username(account: Account, name: str) -> str:
    """The name a sub-user signs in to the console with."""
    return f"{name}@{account.appid}"


def add_user(
    account: Account, name: str, remark: str = "", console_login: bool = False, email: str = "", password: str = ""
) -> SubUser:
    """A sub-user; with console_login and a password it can also sign in to the console."""
    if not ROLE_NAME.fullmatch(name):
        raise errors.ParamError("User names are 1-128 letters, digits and +=,.@-_.")
    if console_login and not password:
        raise errors.ParamError("A sub-user who signs in to the console needs a Password.")
    try:
        with transaction.atomic():
            user = SubUser.objects.create(
                account=account,
                uin="1000" + _digits(8),
                uid=int("1" + _digits(9)),
                name=name,
                remark=remark,
                console_login=console_login,
                email=email,
            )
            if console_login:
                user.console_user = get_user_model().objects.create_user(
                    console_username(account, name), password=password
                )
                user.save(update_fields=["console_user"])
            return user
    except IntegrityError:
        raise errors.UserNameInUse() from None


@transaction.atomic
def add_user_with_key(
    account: Account, name: str, remark: str = "", policies: list[str] = (), password: str = ""
) -> tuple[SubUser, ApiKey, str]:
    """A sub-user with the named policies and a first key pair (its SecretKey returned once), and a console
    sign-in when a password is given: all or nothing."""
    found = [get_policy(account, name=policy_name) for policy_name in policies]
    user = add_user(account, name, remark, console_login=bool(password), password=password)
    for attached in found:
        attach_user_policy(user, attached)
    key, secret_key = create_access_key(account, user)
    return user, key, secret_key


def _digits(n: int) -> str:
    return "".join(secrets.choice(string.digits) for _ in range(n))


def get_user(account: Account, name: str | None = None, uin: str | int | None = None) -> SubUser:
    users = SubUser.objects.filter(account=account)
    user = users.filter(name=name).first() if name is not None else users.filter(uin=str(uin)).first()
    if user is None:
        raise errors.UserNotExist()
    return user


def update_user(user: SubUser, remark: str) -> None:
    user.remark = remark
    user.save(update_fields=["remark"])


@transaction.atomic
def set_console_password(user: SubUser, password: str) -> None:
    """Let the sub-user sign in to the console with `password` (already checked by the password validators),
    replacing any password it had: its sign-in name is `console_username`."""
    if user.console_user is None:
        user.console_user = get_user_model().objects.create_user(
            console_username(user.account, user.name), password=password
        )
    else:
        user.console_user.set_password(password)
        user.console_user.is_active = True
        user.console_user.save(update_fields=["password", "is_active"])
    user.console_login = True
    user.save(update_fields=["console_user", "console_login"])


@transaction.atomic
def delete_user(user: SubUser) -> None:
    if user.console_user is not None:
        user.console_user.delete()
    user.delete()  # its keys and policy attachments go with it


def key_owner(account: Account, target_uin: int | str) -> SubUser | None:
    """The sub-user a key operation names by TargetUin (the root's own uin means the root account)."""
    if str(target_uin) == account.uin:
        return None
    return get_user(account, uin=target_uin)


@transaction.atomic
def create_access_key(account: Account, user: SubUser | None, description: str = "") -> tuple[ApiKey, str]:
    lock(user or account)  # the count below holds until the key is made
    keys = ApiKey.objects.filter(account=account, user=user)
    if user is not None and keys.count() >= MAX_KEYS_PER_USER:
        raise errors.AccessKeyLimit()
    secret_key = new_secret_key()
    return create_api_key(account, secret_key=secret_key, user=user, description=description), secret_key


def access_keys(account: Account, user: SubUser | None) -> list[ApiKey]:
    return list(ApiKey.objects.filter(account=account, user=user).order_by("created_at", "id"))


def _access_key(account: Account, user: SubUser | None, secret_id: str) -> ApiKey:
    key = ApiKey.objects.filter(account=account, user=user, secret_id=secret_id).first()
    if key is None:
        raise errors.AccessKeyNotExist()
    return key


def update_access_key(account: Account, user: SubUser | None, secret_id: str, status: str) -> None:
    key = _access_key(account, user, secret_id)
    key.status = ApiKeyStatus.ACTIVE if status == "Active" else ApiKeyStatus.INACTIVE
    key.save(update_fields=["status"])


def delete_access_key(account: Account, user: SubUser | None, secret_id: str) -> None:
    _access_key(account, user, secret_id).delete()
