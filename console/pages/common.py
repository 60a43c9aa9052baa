"""What every console page needs: the signed-in operator's account, the gate (to refuse an action, and to offer
only the controls the principal may use) and a way to show domain refusals."""

import uuid
from dataclasses import dataclass
from functools import wraps

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.views import LoginView
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render, resolve_url

import gate
from buckets.errors import CosError
from console.edge import context_of, same_site
from console.explain import DENIED, explain
from core.apierror import ApiError
from roles import policy
from roles import service as roles
from roles.models import Account
from roles.principal import Principal


def _console_principal(request: HttpRequest) -> Principal | None:
    """Who the session acts as (a sub-user as itself, a superuser as the root), looked up once per request."""
    if not hasattr(request, "_kinko_principal"):
        user = getattr(request, "user", None)
        known = user is not None and user.is_authenticated
        request._kinko_principal = roles.console_principal(user) if known else None
    return request._kinko_principal


def principal_of(request: HttpRequest) -> Principal:
    principal = _console_principal(request)
    if principal is None:
        raise PermissionDenied("This user has no Kinko account.")
    return principal


def account_of(request: HttpRequest) -> Account:
    return principal_of(request).account


def actor_of(request: HttpRequest) -> str:
    return f"console:{request.user.get_username()}"


def require(request: HttpRequest, action: str, resource: str = "*", context: gate.Context | None = None) -> None:
    """The gate, as for the APIs: the root may do anything with its account, a sub-user what its policies allow.
    `context` is the request's own (`context_of`) unless the edge adds condition keys to it."""
    gate.authorise(principal_of(request), action, resource, context or context_of(request))


def may(request: HttpRequest, action: str, resource: str | None = None) -> bool:
    """Whether the signed-in principal may perform `action` on `resource`, by the same gate decision `require`
    enforces: the console offers a control only when this says yes (and the view still calls `require`).
    Without a resource, the account-wide one the action is listed under (`default_resource`)."""
    principal = _console_principal(request)
    if principal is None:
        return False
    resource = resource if resource is not None else default_resource(principal, action)
    memo = request.__dict__.setdefault("_kinko_may", {})
    if (action, resource) not in memo:
        memo[action, resource] = gate.allowed(principal, action, resource, context_of(request))
    return memo[action, resource]


def default_resource(principal: Principal, action: str) -> str:
    """The resource an action on none in particular names, as the API 3.0 edge does: `uin/*` for sub-users and
    their keys, `roleName/*` for roles, `policy/*` for policies (roles/api.py), `*` for COS and KMS."""
    service, _, name = action.partition(":")
    if service != "cam":
        return "*"
    if "Role" in name:
        target = "roleName/*"
    elif "User" in name or "AccessKey" in name:
        target = "uin/*"
    elif "Polic" in name:
        target = "policy/*"
    else:
        target = "uin/*"
    return policy.cam_resource(principal.account.uin, target)


def may_on(request: HttpRequest, resource: str, *actions: str) -> dict[str, bool]:
    """{"DeleteUser": True, …}: which of `actions` (`cam:DeleteUser`, …) the principal may perform on `resource`,
    for a template to offer only those controls."""
    return {action.partition(":")[2]: may(request, action, resource) for action in actions}


class Permissions:
    """`{% if may.cam_AddUser %}` in a template: `may(request, "cam:AddUser")`, asked only when a template asks."""

    def __init__(self, request: HttpRequest) -> None:
        self._request = request

    def __getitem__(self, name: str) -> bool:
        service, sep, action = name.partition("_")
        if not sep or not service or not action:
            raise KeyError(name)
        return may(self._request, f"{service}:{action}")


def permissions(request: HttpRequest) -> dict:
    """Context processor: `may` in every template."""
    return {"may": Permissions(request)}


# Where a sign-in without `next` lands: the first of these pages the principal may open (a sub-user with KMS
# rights alone lands on the KMS page, not on a refusal).
LANDING_PAGES = [
    ("overview", "cos:GetService"),
    ("kms", "kms:ListKeyDetail"),
    ("users", "cam:ListUsers"),
    ("roles", "cam:DescribeRoleList"),
]


class ConsoleLoginView(LoginView):
    def get_default_redirect_url(self) -> str:
        self.request.__dict__.pop("_kinko_principal", None)  # who signed in just now
        self.request.__dict__.pop("_kinko_may", None)
        for page, action in LANDING_PAGES:
            if may(self.request, action):
                return resolve_url(page)
        return super().get_default_redirect_url()


def require_policies(request: HttpRequest, action: str, names: list[str]) -> None:
    """`action` (cam:AttachUserPolicy, cam:AttachRolePolicy) on each named policy, before anything is created."""
    account = account_of(request)
    for name in names:
        found = roles.get_policy(account, name=name)
        require(request, action, policy.cam_resource(account.uin, f"policy/{found.policy_id}"))


def redirect_back(request: HttpRequest, fallback: str, *args, **kwargs):
    """To the form's `next`, else the fallback view: only ever a page of this site."""
    return redirect(same_site(request, request.POST.get("next")) or fallback, *args, **kwargs)


def cos_resource_of(bucket, key: str = "") -> str:
    """The CAM resource the COS API names for an object of `bucket` (for the bucket itself, no key; for every
    object of a folder, `folder/*`)."""
    return policy.cos_resource(bucket.region, bucket.owner.appid, bucket.name, key)


def require_cos(request: HttpRequest, action: str, bucket, key: str = "", context: gate.Context | None = None) -> None:
    """The gate, as the COS operation `action` (PutObject, …) on the object `key` of `bucket`."""
    require(request, f"cos:{action}", cos_resource_of(bucket, key), context)


def may_cos(request: HttpRequest, bucket, key: str, *actions: str) -> dict[str, bool]:
    """{"PutObject": True, …}: which COS `actions` the principal may perform on the object `key` of `bucket` (the
    bucket itself for ""), by the decision `require_cos` enforces, for a template to offer only those controls."""
    return may_on(request, cos_resource_of(bucket, key), *(f"cos:{action}" for action in actions))


def console_page(view):
    """Sign-in required. The gate's refusal answers 403 with the reason (a page the user may not see, or a change
    it may not make: the console never offered that control); a refusal by the domain becomes an error message
    and a redirect back."""

    @login_required
    @wraps(view)
    def wrapper(request: HttpRequest, *args, **kwargs):
        try:
            return view(request, *args, **kwargs)
        except gate.Denied as exc:
            return denied(request, Refusal(DENIED, exc.reason))
        except (CosError, ApiError) as exc:
            return refused(request, exc, getattr(exc, "status", 403))

    return wrapper


@dataclass(frozen=True)
class Refusal:
    code: str
    message: str


def denied(request: HttpRequest, error) -> HttpResponse:
    """The gate's refusal, of a page or of a change (which the console did not offer): 403, saying why."""
    explanation = explain(error, 403, request.resolver_match.kwargs if request.resolver_match else {})
    return render(request, "console/denied.html", {"explanation": explanation}, status=403)


def refused(request: HttpRequest, error, status: int):
    """A page the user may not see answers a page that says why in a plain sentence, with the action that fixes
    it; a refused change an error message saying the same and a redirect back to where the form was (the
    Referer, when it is a page of this site)."""
    explanation = explain(error, status, request.resolver_match.kwargs if request.resolver_match else {})
    if request.method == "GET":
        return render(request, "console/denied.html", {"explanation": explanation}, status=explanation.status)
    messages.error(request, explanation.as_message())
    return redirect(same_site(request, request.META.get("HTTP_REFERER")) or "overview")


def request_id_of(request: HttpRequest) -> str:
    """The request's id, for the audit trail: the one a middleware gave it, else one made here, once per request."""
    if not getattr(request, "request_id", ""):
        request.request_id = str(uuid.uuid4())
    return request.request_id
