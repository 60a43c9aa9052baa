"""DATABASE_URL, parsed by dj-database-url: PostgreSQL with percent-encoded credentials and kept, health-checked
connections; SQLite at a path with the same WAL and IMMEDIATE options as the default file; anything else refused."""

import pytest
from django.core.exceptions import ImproperlyConfigured

from console.settings import database_from_url


def test_a_postgres_url_names_the_server_database_and_credentials():
    config = database_from_url("postgres://kinko:p%40ss%2Fword@db.internal:6432/objects")
    assert {name: config[name] for name in ("ENGINE", "NAME", "USER", "PASSWORD", "HOST", "PORT")} == {
        "ENGINE": "django.db.backends.postgresql",
        "NAME": "objects",
        "USER": "kinko",
        "PASSWORD": "p@ss/word",
        "HOST": "db.internal",
        "PORT": 6432,
    }


def test_postgres_connections_are_kept_and_checked_before_reuse():
    config = database_from_url("postgresql://kinko@127.0.0.1/objects?sslmode=require")
    assert (config["CONN_MAX_AGE"], config["CONN_HEALTH_CHECKS"]) == (600, True)
    assert config["OPTIONS"] == {"sslmode": "require"}


def test_a_sqlite_url_gets_the_options_of_the_default_file(tmp_path):
    config = database_from_url(f"sqlite:///{tmp_path}/kinko.sqlite3")
    assert config["ENGINE"] == "django.db.backends.sqlite3"
    assert config["NAME"] == f"{tmp_path}/kinko.sqlite3"
    assert config["OPTIONS"]["transaction_mode"] == "IMMEDIATE"
    assert "journal_mode=WAL" in config["OPTIONS"]["init_command"]


@pytest.mark.parametrize("url", ["mysql://kinko@127.0.0.1/objects", "redis://127.0.0.1:6379/0", "objects"])
def test_other_schemes_are_refused_at_start(url):
    with pytest.raises(ImproperlyConfigured, match="DATABASE_URL scheme must be one of postgres, postgresql, sqlite"):
        database_from_url(url)
