"""What every console page needs: the signed-in operator's account and a way to show domain refusals."""

from functools import wraps

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest
from django.shortcuts import redirect, render

from buckets.errors import CosError
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
    """The same CAM check as the APIs: root may do anything, a sub-user what its policies allow."""
    roles.require(principal_of(request), action, resource)


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
        except (CosError, ApiError) as exc:
            if request.method == "GET":
                return render(request, "console/denied.html", {"error": exc}, status=getattr(exc, "status", 403))
            messages.error(request, f"{exc.code}: {exc.message}")
            return redirect(request.META.get("HTTP_REFERER") or "overview")

    return wrapper
