"""Root credentials and the admin user: created once, taken from the environment, never stored in clear."""

import io
import json

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.db import connection

from roles import service
from roles.models import Account, ApiKey

pytestmark = pytest.mark.django_db

ENV_SECRET_ID = "AKIDenvironmentSecretId0000000000000"
ENV_SECRET_KEY = "EnvironmentSecretKey000000000000"


@pytest.fixture(autouse=True)
def _no_credentials_in_environment(monkeypatch, settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    for name in ("KINKO_SECRET_ID", "KINKO_SECRET_KEY", "KINKO_ADMIN_USER", "KINKO_ADMIN_PASSWORD"):
        monkeypatch.delenv(name, raising=False)


def every_stored_value() -> str:
    """Every column of every Account and ApiKey row, as text and as the hex and UTF-8 of binary columns."""
    parts = []
    for model in (Account, ApiKey):
        for row in model.objects.values():
            for value in row.values():
                if isinstance(value, memoryview | bytes):
                    parts += [bytes(value).hex(), bytes(value).decode("latin-1")]
                else:
                    parts.append(str(value))
    return "\n".join(parts)


def database_bytes() -> bytes:
    """The raw pages of the test database (SQLite only; in memory or on disk)."""
    connection.ensure_connection()
    return connection.connection.serialize()


def test_ensure_root_credentials_creates_a_root_account_with_one_key(settings):
    credentials = service.ensure_root_credentials()
    account = Account.objects.get()
    assert account.is_root
    assert credentials.appid == account.appid == settings.KINKO_APPID
    assert ApiKey.objects.get().secret_id == credentials.secret_id


def test_ensure_root_credentials_returns_a_working_key_pair():
    credentials = service.ensure_root_credentials()
    key = ApiKey.objects.get(secret_id=credentials.secret_id)
    assert key.secret_key() == credentials.secret_key
    assert key.account.api_token() == credentials.api_token


def test_ensure_root_credentials_is_idempotent():
    first = service.ensure_root_credentials()
    second = service.ensure_root_credentials()
    assert second == first
    assert Account.objects.count() == 1
    assert ApiKey.objects.count() == 1


def test_ensure_root_credentials_uses_the_key_pair_from_the_environment(monkeypatch):
    monkeypatch.setenv("KINKO_SECRET_ID", ENV_SECRET_ID)
    monkeypatch.setenv("KINKO_SECRET_KEY", ENV_SECRET_KEY)
    credentials = service.ensure_root_credentials()
    assert (credentials.secret_id, credentials.secret_key) == (ENV_SECRET_ID, ENV_SECRET_KEY)
    assert ApiKey.objects.get(secret_id=ENV_SECRET_ID).secret_key() == ENV_SECRET_KEY


def test_ensure_root_credentials_with_the_environment_pair_twice_stores_it_once(monkeypatch):
    monkeypatch.setenv("KINKO_SECRET_ID", ENV_SECRET_ID)
    monkeypatch.setenv("KINKO_SECRET_KEY", ENV_SECRET_KEY)
    service.ensure_root_credentials()
    service.ensure_root_credentials()
    assert ApiKey.objects.filter(secret_id=ENV_SECRET_ID).count() == 1


def test_ensure_root_credentials_adds_an_environment_pair_set_after_first_start(monkeypatch):
    generated = service.ensure_root_credentials()
    monkeypatch.setenv("KINKO_SECRET_ID", ENV_SECRET_ID)
    monkeypatch.setenv("KINKO_SECRET_KEY", ENV_SECRET_KEY)
    credentials = service.ensure_root_credentials()
    assert credentials.secret_id == ENV_SECRET_ID
    assert credentials.appid == generated.appid
    assert ApiKey.objects.get(secret_id=ENV_SECRET_ID).account == Account.objects.get(appid=generated.appid)


def test_ensure_root_credentials_takes_a_changed_secret_key_from_the_environment(monkeypatch):
    monkeypatch.setenv("KINKO_SECRET_ID", ENV_SECRET_ID)
    monkeypatch.setenv("KINKO_SECRET_KEY", ENV_SECRET_KEY)
    service.ensure_root_credentials()
    monkeypatch.setenv("KINKO_SECRET_KEY", "ChangedSecretKey0000000000000000")
    service.ensure_root_credentials()
    assert ApiKey.objects.get(secret_id=ENV_SECRET_ID).secret_key() == "ChangedSecretKey0000000000000000"


def test_secret_key_and_api_token_are_not_stored_in_clear_in_any_column():
    credentials = service.ensure_root_credentials()
    stored = every_stored_value()
    assert credentials.secret_id in stored  # the dump does see the rows
    assert credentials.secret_key not in stored
    assert credentials.api_token not in stored


def test_environment_secret_key_is_not_stored_in_clear_in_any_column(monkeypatch):
    monkeypatch.setenv("KINKO_SECRET_ID", ENV_SECRET_ID)
    monkeypatch.setenv("KINKO_SECRET_KEY", ENV_SECRET_KEY)
    service.ensure_root_credentials()
    stored = every_stored_value()
    assert ENV_SECRET_ID in stored
    assert ENV_SECRET_KEY not in stored


def test_secret_key_and_api_token_are_not_in_the_raw_database_bytes():
    credentials = service.ensure_root_credentials()
    raw = database_bytes()
    assert credentials.secret_id.encode() in raw  # the scan does see the rows
    assert credentials.secret_key.encode() not in raw
    assert credentials.api_token.encode() not in raw


def test_credentials_command_prints_the_root_credentials_as_json():
    out = io.StringIO()
    call_command("credentials", "--json", stdout=out)
    printed = json.loads(out.getvalue())
    assert printed == service.ensure_root_credentials().as_json()
    assert set(printed) == {"AppId", "SecretId", "SecretKey", "ApiToken"}


def test_credentials_command_prints_the_same_credentials_every_time():
    first, second = io.StringIO(), io.StringIO()
    call_command("credentials", "--json", stdout=first)
    call_command("credentials", "--json", stdout=second)
    assert json.loads(first.getvalue()) == json.loads(second.getvalue())


def test_bootstrap_command_does_not_print_the_secret_key():
    out = io.StringIO()
    call_command("bootstrap", stdout=out)
    credentials = service.ensure_root_credentials()
    assert credentials.secret_id in out.getvalue()
    assert credentials.secret_key not in out.getvalue()


def test_ensure_admin_user_creates_a_superuser_with_the_environment_password(monkeypatch):
    monkeypatch.setenv("KINKO_ADMIN_USER", "operator")
    monkeypatch.setenv("KINKO_ADMIN_PASSWORD", "correct horse battery staple")
    assert service.ensure_admin_user() == ("operator", "correct horse battery staple")
    user = get_user_model().objects.get(username="operator")
    assert user.is_superuser
    assert user.check_password("correct horse battery staple")


def test_ensure_admin_user_generates_a_password_when_none_is_given():
    username, password = service.ensure_admin_user()
    assert username == "admin"
    assert password
    assert get_user_model().objects.get(username="admin").check_password(password)


def test_ensure_admin_user_creates_the_user_only_once():
    first = service.ensure_admin_user()
    assert service.ensure_admin_user() is None
    assert get_user_model().objects.get(username="admin").check_password(first[1])
    assert get_user_model().objects.count() == 1
