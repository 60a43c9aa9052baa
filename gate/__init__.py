"""The gate: the one authorisation decision every edge asks before any work.

`authorise(principal, action, resource, context, acl=None)` answers for COS XML and S3, API 3.0 (KMS, CAM),
the JSON API, the console, the admin and management commands alike, so a policy means the same on every path:

- An anonymous caller gets only what a COS ACL grants everyone.
- A caller from another account gets only what a COS ACL grants its account (and, for a sub-user, what its own
  policies allow); nothing outside COS.
- The account's root may do anything with its own resources.
- A sub-user gets what its attached CAM policies allow on the resource (explicit deny wins), evaluated with the
  request's context, and never acts on the root itself (the root's keys are the root's alone).
- A COS bucket's policy is read first (the edge that loaded the bucket passes it; for every other caller the gate
  reads it itself, at most once a second per bucket, so the console and the JSON API are held to it too): a
  statement that denies a caller it names refuses (the owner's root too, except that it may always read, replace or
  delete the policy itself); one that allows stands in for the ACL grant an anonymous caller or another account
  needs, and for the CAM allow a sub-user of the owner needs. A sub-user of another account still needs its own
  policies' allow.

Resources are CAM resource strings (`roles.policy.*_resource`); the account they belong to is read from them.
"""

import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, field

from buckets import acl as acls
from buckets import service as buckets
from roles import policy as cam
from roles import service as roles
from roles.principal import Principal


@dataclass(frozen=True)
class Context:
    """What a policy condition may test about the request: where it came from, how, and dialect-specific
    condition keys (`cos:x-cos-server-side-encryption`, …)."""

    ip: str | None = None
    secure: bool = False
    values: Mapping[str, object] = field(default_factory=dict)

    def conditions(self) -> dict:
        return {"qcs:ip": self.ip, "qcs:secure_transport": "true" if self.secure else "false", **self.values}


SYSTEM = Context()  # for work the server does on its own behalf (periodic tasks, management commands as root)


@dataclass(frozen=True)
class Acl:
    """A COS resource's access control list, consulted for callers outside the owning account. `permission` is
    what the operation needs (READ, WRITE, READ_ACP, WRITE_ACP); "" means only the owner's account may act."""

    grants: list[dict]
    permission: str


class Denied(Exception):
    """The gate said no. `reason` is safe to show the caller; each edge renders it in its own dialect."""

    def __init__(self, action: str, resource: str, reason: str) -> None:
        super().__init__(reason)
        self.action = action
        self.resource = resource
        self.reason = reason


def _resource_account(resource: str) -> tuple[str, str] | None:
    """("uid", appid) or ("uin", uin) named by a qcs resource; None for `*` or a resource naming no account."""
    parts = resource.split(":", 5)
    if len(parts) != 6 or parts[0] != "qcs":
        return None
    kind, _, value = parts[4].partition("/")
    return (kind, value) if kind in ("uid", "uin") and value else None


def _owns(principal: Principal, resource: str) -> bool:
    named = _resource_account(resource)
    if named is None:
        return True  # `*`: the caller's own account (ListKeys, CreateKey, GetService …)
    kind, value = named
    account = principal.account
    return value == (account.appid if kind == "uid" else account.uin)


def _names_root(principal: Principal, resource: str) -> bool:
    """A CAM resource whose target is the account's root itself (`qcs::cam::uin/<owner>:uin/<owner>`)."""
    uin = principal.account.uin
    return resource.startswith("qcs::cam::") and resource.endswith(f":uin/{uin}") and f"uin/{uin}:" in resource


POLICY_ACTIONS = frozenset({"cos:GetBucketPolicy", "cos:PutBucketPolicy", "cos:DeleteBucketPolicy"})


def _policy_callers(principal: Principal | None, owned: bool) -> list[str]:
    """The qcs names a bucket policy may name the caller by: its own (`uin/<owner>:uin/<uin>`) and, calling
    from another account, that account's root, as an ACL grant to the account reaches its sub-users."""
    if principal is None:
        return []
    uin = principal.account.uin
    own = principal.sub_user.uin if principal.sub_user is not None else uin
    names = [f"qcs::cam::uin/{uin}:uin/{own}"]
    return names if owned or own == uin else [*names, f"qcs::cam::uin/{uin}:uin/{uin}"]


READ_POLICY = object()  # the default of `bucket_policy`: the gate reads the resource's bucket policy itself
POLICY_SECONDS = 1.0  # how long a bucket policy read by the gate is reused: a change binds every node within it
_policies: dict[str, tuple[float, dict | None]] = {}
_policies_lock = threading.Lock()


def _policy_of(resource: str) -> dict | None:
    """The policy of the bucket a COS resource (`qcs::cos:<region>:uid/<appid>:<bucket>/<key>`) names; None for
    other resources, a wildcard bucket or a bucket without one."""
    if not resource.startswith("qcs::cos:"):
        return None
    name = resource.split(":", 5)[-1].split("/", 1)[0]
    if not name or "*" in name:
        return None
    now = time.monotonic()
    with _policies_lock:
        cached = _policies.get(name)
    if cached is not None and now - cached[0] < POLICY_SECONDS:
        return cached[1]
    document = buckets.bucket_policy_named(name)
    with _policies_lock:
        if len(_policies) > 4096:
            _policies.clear()
        _policies[name] = (now, document)
    return document


def _bucket_policy_effect(
    principal: Principal | None, action: str, resource: str, context: Context, bucket_policy: object
) -> str | None:
    if bucket_policy is READ_POLICY:
        bucket_policy = _policy_of(resource)
    if bucket_policy is None:
        return None
    owned = principal is not None and _owns(principal, resource)
    callers = _policy_callers(principal, owned)
    effect = cam.bucket_policy_effect(bucket_policy, callers, action, resource, context.conditions())
    if effect == cam.DENY and owned and principal.sub_user is None and action in POLICY_ACTIONS:
        return None  # the owner's root can always undo a policy that locked everyone out
    return effect


def decide(
    principal: Principal | None,
    action: str,
    resource: str,
    context: Context,
    acl: Acl | None = None,
    bucket_policy: dict | None | object = READ_POLICY,
) -> str | None:
    """None when allowed, else the reason for the refusal."""
    effect = _bucket_policy_effect(principal, action, resource, context, bucket_policy)
    if effect == cam.DENY:
        return f"The bucket policy denies {action} on {resource}."
    granted = effect == cam.ALLOW
    if principal is None:
        if granted or (acl is not None and acl.permission and acls.grants_permission(acl.grants, None, acl.permission)):
            return None
        return "Anonymous access is not allowed; sign the request."
    if not _owns(principal, resource):
        if not granted and (
            acl is None
            or not acl.permission
            or not acls.grants_permission(acl.grants, principal.account.uin, acl.permission)
        ):
            return f"The resource {resource} belongs to another account, whose ACL does not grant this."
        if principal.sub_user is not None and not roles.principal_may(
            principal, action, resource, context.conditions()
        ):
            return f"CAM policies do not allow {action} on {resource}."
        return None
    if principal.sub_user is None:
        return None
    if _names_root(principal, resource):
        return "Only the account's root may act on the root itself."
    if not granted and not roles.principal_may(principal, action, resource, context.conditions()):
        return f"CAM policies do not allow {action} on {resource}."
    return None


def authorise(
    principal: Principal | None,
    action: str,
    resource: str,
    context: Context,
    acl: Acl | None = None,
    bucket_policy: dict | None | object = READ_POLICY,
) -> None:
    """Raise Denied unless `principal` may perform `action` (`cos:GetObject`, `kms:Decrypt`, `cam:AddUser`) on
    `resource` in `context` (and under the bucket policy of a COS resource's bucket)."""
    reason = decide(principal, action, resource, context, acl, bucket_policy)
    if reason is not None:
        raise Denied(action, resource, reason)


def allowed(principal: Principal | None, action: str, resource: str, context: Context, acl: Acl | None = None) -> bool:
    """The same decision as a yes/no, for offering a control only to those who may use it."""
    return decide(principal, action, resource, context, acl) is None
