"""What `manage.py` makes of an environment with nothing set: DEBUG off unless KINKO_DEBUG=true, a SECRET_KEY generated
once per data dir into a 0600 file (DJANGO_SECRET_KEY overrides it), and a chosen admin password never echoed."""

import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from tests.live import ROOT

CONFIGURED = (
    "DEBUG",
    "KINKO_DEBUG",
    "DJANGO_SECRET_KEY",
    "KINKO_ADMIN_PASSWORD",
    "KINKO_ADMIN_USER",
    "KINKO_METRICS_ALLOW",
    "KINKO_METRICS_TOKEN",
)
PRINT = "from django.conf import settings; print(repr(settings.{name}))"


def run_manage(data_dir: Path, *args: str, **env: str) -> subprocess.CompletedProcess:
    full_env = {name: value for name, value in os.environ.items() if name not in CONFIGURED}
    full_env.update(KINKO_DATA_DIR=str(data_dir), **env)
    return subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=full_env, check=True, capture_output=True, text=True
    )


def setting(data_dir: Path, name: str, **env: str) -> str:
    return run_manage(data_dir, "shell", "-c", PRINT.format(name=name), **env).stdout.strip().splitlines()[-1]


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ({}, "False"),
        ({"KINKO_DEBUG": "true"}, "True"),
        ({"KINKO_DEBUG": "false"}, "False"),
        ({"DEBUG": "true"}, "False"),
    ],
)
def test_debug_is_off_unless_kinko_debug_is_true(tmp_path, env, expected):
    assert setting(tmp_path, "DEBUG", **env) == expected


def test_secret_key_is_generated_into_the_data_dir(tmp_path):
    key = setting(tmp_path, "SECRET_KEY").strip("'")
    assert key == (tmp_path / "secret_key").read_text().strip()


def test_generated_secret_key_file_is_0600(tmp_path):
    setting(tmp_path, "SECRET_KEY")
    assert oct(stat.S_IMODE((tmp_path / "secret_key").stat().st_mode)) == oct(0o600)


def test_generated_secret_key_is_long_and_not_the_development_key(tmp_path):
    key = setting(tmp_path, "SECRET_KEY").strip("'")
    assert len(key) >= 50
    assert key != "kinko-insecure-development-secret-key-do-not-deploy"


def test_generated_secret_key_is_the_same_on_every_start(tmp_path):
    assert setting(tmp_path, "SECRET_KEY") == setting(tmp_path, "SECRET_KEY")


def test_two_data_dirs_have_different_secret_keys(tmp_path):
    assert setting(tmp_path / "one", "SECRET_KEY") != setting(tmp_path / "two", "SECRET_KEY")


def test_django_secret_key_overrides_the_generated_key(tmp_path):
    chosen = "operator-chosen-" + "k" * 50
    assert setting(tmp_path, "SECRET_KEY", DJANGO_SECRET_KEY=chosen) == repr(chosen)


def test_a_data_dir_created_by_manage_is_0700(tmp_path):
    setting(tmp_path / "fresh", "DEBUG")
    assert oct(stat.S_IMODE((tmp_path / "fresh").stat().st_mode)) == oct(0o700)


def test_metrics_are_for_this_machine_only_and_have_no_token_by_default(tmp_path):
    assert setting(tmp_path, "KINKO_METRICS_ALLOW") == "['127.0.0.0/8', '::1']"
    assert setting(tmp_path, "KINKO_METRICS_TOKEN") == "''"


def test_an_empty_metrics_allow_list_allows_no_address(tmp_path):
    assert setting(tmp_path, "KINKO_METRICS_ALLOW", KINKO_METRICS_ALLOW="") == "[]"


def test_a_metrics_allow_entry_that_is_no_network_is_refused(tmp_path):
    with pytest.raises(subprocess.CalledProcessError) as refused:
        setting(tmp_path, "KINKO_METRICS_ALLOW", KINKO_METRICS_ALLOW="127.0.0.1,localhost")
    assert "KINKO_METRICS_ALLOW lists addresses or networks, not 'localhost'" in refused.value.stderr


def test_check_passes_with_debug_off_and_no_secret_key_set(tmp_path):
    assert "no issues" in run_manage(tmp_path, "check").stdout


def bootstrap(data_dir: Path, **env: str) -> str:
    run_manage(data_dir, "migrate", "--no-input", "-v", "0", **env)
    done = run_manage(data_dir, "bootstrap", **env)
    return done.stdout + done.stderr


def test_bootstrap_never_echoes_a_password_the_operator_chose(tmp_path):
    chosen = "Operator-Chosen-Password-7319"
    assert chosen not in bootstrap(tmp_path, KINKO_ADMIN_PASSWORD=chosen)


def test_bootstrap_says_the_chosen_password_is_in_use(tmp_path):
    output = bootstrap(tmp_path, KINKO_ADMIN_PASSWORD="Operator-Chosen-Password-7319")
    assert "KINKO_ADMIN_PASSWORD" in output


def test_bootstrap_shows_a_generated_password_once(tmp_path):
    first = bootstrap(tmp_path)
    assert "with password" in first
    assert "with password" not in bootstrap(tmp_path)
