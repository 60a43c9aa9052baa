"""What every console page needs: the signed-in operator's account and a way to show domain refusals."""

from functools import wraps

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest
from django.shortcuts import redirect

from buckets.api.errors import CosError
from console.apierror import ApiError
from roles import service as roles
from roles.models import Account
from roles.principal import Principal


def account_of(request: HttpRequest) -> Account:
    return roles.root_account()


def principal_of(request: HttpRequest) -> Principal:
    return roles.root_principal(account_of(request))


def actor_of(request: HttpRequest) -> str:
    return f"console:{request.user.get_username()}"


def console_page(view):
    """Sign-in required; a COS or API 3.0 refusal becomes an error message and a redirect back."""

    @login_required
    @wraps(view)
    def wrapper(request: HttpRequest, *args, **kwargs):
        try:
            return view(request, *args, **kwargs)
        except (CosError, ApiError) as exc:
            messages.error(request, f"{exc.code}: {exc.message}")
            return redirect(request.META.get("HTTP_REFERER") or "overview")

    return wrapper
