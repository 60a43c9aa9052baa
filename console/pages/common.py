"""What every console page needs: the signed-in operator's account and a way to show domain refusals."""

import uuid
from dataclasses import dataclass
from functools import wraps

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest
from django.shortcuts import redirect, render

import gate
from buckets.errors import CosError
from console.edge import context_of, same_site
from console.explain import DENIED, explain
from core.apierror import ApiError
from roles import policy
from roles import service as roles
from roles.models import Account
from roles.principal import Principal


def principal_of(request: HttpRequest) -> Principal:
    principal = roles.console_principal(request.user)
    if principal is None:
        raise PermissionDenied("This user has no Kinko account.")
    return principal


def account_of(request: HttpRequest) -> Account:
    return principal_of(request).account


def actor_of(request: HttpRequest) -> str:
    return f"console:{request.user.get_username()}"


def require(request: HttpRequest, action: str, resource: str = "*") -> None:
    """The gate, as for the APIs: the root may do anything with its account, a sub-user what its policies allow."""
    gate.authorise(principal_of(request), action, resource, context_of(request))


def require_policies(request: HttpRequest, action: str, names: list[str]) -> None:
    """`action` (cam:AttachUserPolicy, cam:AttachRolePolicy) on each named policy, before anything is created."""
    account = account_of(request)
    for name in names:
        found = roles.get_policy(account, name=name)
        require(request, action, policy.cam_resource(account.uin, f"policy/{found.policy_id}"))


def redirect_back(request: HttpRequest, fallback: str, *args, **kwargs):
    """To the form's `next`, else the fallback view: only ever a page of this site."""
    return redirect(same_site(request, request.POST.get("next")) or fallback, *args, **kwargs)


def require_cos(request: HttpRequest, action: str, bucket, key: str = "") -> None:
    require(request, f"cos:{action}", policy.cos_resource(bucket.region, bucket.owner.appid, bucket.name, key))


def console_page(view):
    """Sign-in required. A refusal of a change becomes an error message and a redirect back; a page the
    user may not see answers 403 with the reason."""

    @login_required
    @wraps(view)
    def wrapper(request: HttpRequest, *args, **kwargs):
        try:
            return view(request, *args, **kwargs)
        except gate.Denied as exc:
            return refused(request, Refusal(DENIED, exc.reason), 403)
        except (CosError, ApiError) as exc:
            return refused(request, exc, getattr(exc, "status", 403))

    return wrapper


@dataclass(frozen=True)
class Refusal:
    code: str
    message: str


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
