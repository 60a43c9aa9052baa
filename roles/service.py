"""Account and API-key operations shared by commands, the COS API and the console."""

import os
import secrets
import string
from dataclasses import dataclass

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction

from keys import keystore
from roles.models import Account, ApiKey

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


def create_account(appid: str, *, is_root: bool = False) -> Account:
    uin = "1000" + "".join(secrets.choice(string.digits) for _ in range(8))
    token = secrets.token_urlsafe(32)
    return Account.objects.create(
        appid=appid,
        uin=uin,
        is_root=is_root,
        api_token_sealed=keystore.seal_secret(token.encode(), b"apitoken:" + appid.encode()),
    )


def create_api_key(account: Account, secret_id: str | None = None, secret_key: str | None = None) -> ApiKey:
    secret_id = secret_id or new_secret_id()
    secret_key = secret_key or new_secret_key()
    return ApiKey.objects.create(
        account=account,
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
        key = account.api_keys.order_by("created_at", "id").first() or create_api_key(account)
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
