"""Who a JSON API request acts as: `Authorization: Token <ApiToken>` (the account's root), `Token <SecretId>:
<SecretKey>` (any API key, sub-users included), or a console session (its Django user's account)."""

import hmac

from django.contrib.auth.models import AnonymousUser
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import authentication, exceptions
from rest_framework.permissions import BasePermission

from core.db import one
from roles import service as roles
from roles.models import ApiKey
from roles.principal import Principal


class ApiUser(AnonymousUser):
    """The request.user DRF sees for token-authenticated calls; the principal carries who it really is."""

    def __init__(self, principal: Principal, name: str = "") -> None:
        super().__init__()
        self.principal = principal
        self.name = name or signed_in_name(principal)

    @property
    def is_authenticated(self) -> bool:
        return True

    def __str__(self) -> str:
        return self.name


def signed_in_name(principal: Principal) -> str:
    """How the browsable API names the caller: the sub-user, or the account's root."""
    sub_user = principal.sub_user
    return sub_user.name if sub_user is not None else f"root ({principal.account.appid})"


class TokenAuthentication(authentication.BaseAuthentication):
    keyword = "Token"

    def authenticate(self, request):
        header = authentication.get_authorization_header(request).decode("latin-1")
        scheme, _, credential = header.partition(" ")
        if scheme != self.keyword or not credential:
            return None
        principal = principal_for_token(credential.strip())
        if principal is None:
            raise exceptions.AuthenticationFailed("The token is not valid.", code="invalid_token")
        return ApiUser(principal), principal

    def authenticate_header(self, request) -> str:
        return self.keyword


def principal_for_token(credential: str) -> Principal | None:
    secret_id, sep, secret_key = credential.partition(":")
    if sep:
        key = one(ApiKey.objects.select_related("account", "user").filter(secret_id=secret_id))
        if key is not None and key.is_active and hmac.compare_digest(key.secret_key().encode(), secret_key.encode()):
            return Principal(key.account, key)
        return None
    account = roles.account_for_api_token(credential)
    return roles.root_principal(account) if account is not None else None


class SessionPrincipalAuthentication(authentication.SessionAuthentication):
    """A signed-in console user: a sub-user with its own rights, or staff as the root account (CSRF enforced by
    DRF for unsafe methods)."""

    def authenticate(self, request):
        result = super().authenticate(request)
        if result is None:
            return None
        principal = roles.console_principal(result[0])
        return (ApiUser(principal, result[0].get_username()), None) if principal is not None else None


def principal_of(request) -> Principal:
    return request.user.principal


class HasPrincipal(BasePermission):
    def has_permission(self, request, view) -> bool:
        return isinstance(getattr(request, "user", None), ApiUser)


class TokenAuthenticationScheme(OpenApiAuthenticationExtension):
    """Documents TokenAuthentication in the OpenAPI schema."""

    target_class = "console.jsonapi.auth.TokenAuthentication"
    name = "tokenAuth"

    def get_security_definition(self, auto_schema) -> dict:
        return {
            "type": "apiKey",
            "in": "header",
            "name": "Authorization",
            "description": "`Token <ApiToken>` (the account's root) or `Token <SecretId>:<SecretKey>`.",
        }


class SessionPrincipalAuthenticationScheme(OpenApiAuthenticationExtension):
    """Documents the console session (the browsable API and the docs page signed in)."""

    target_class = "console.jsonapi.auth.SessionPrincipalAuthentication"
    name = "cookieAuth"

    def get_security_definition(self, auto_schema) -> dict:
        return {"type": "apiKey", "in": "cookie", "name": "sessionid"}
