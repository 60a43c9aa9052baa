"""KINKO_TEST_DATABASE=postgres: the tests run on a throwaway PostgreSQL cluster instead of SQLite.

A pytest plugin (`-p tests.postgres`, in pyproject's addopts) that, when asked, runs `initdb` in a temp dir with
the en_US.UTF-8 locale (so that an ORDER BY which forgets the "C" collation sorts differently from byte order),
starts `postgres` on a free loopback port, points Django's DATABASE_URL at it before Django is set up, and stops
and removes the cluster at the end. Every live node gets its own database, named after its data dir
(`database_url`), as it gets its own SQLite file otherwise. Without KINKO_TEST_DATABASE nothing happens.
"""

import contextlib
import glob
import hashlib
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

MODE = os.environ.get("KINKO_TEST_DATABASE", "sqlite")
SERVER = "KINKO_TEST_POSTGRES"  # postgres://postgres@127.0.0.1:<port>, set while the cluster runs
LOCALE = "en_US.UTF-8"
USER = "postgres"  # the database's superuser, and the system user the cluster runs as under root


def _binary(name: str) -> str:
    found = shutil.which(name) or next(iter(sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"), reverse=True)), "")
    if not found:
        raise pytest.UsageError(f"KINKO_TEST_DATABASE=postgres needs {name}: apt-get install postgresql")
    return found


def _locale_available() -> bool:
    listed = subprocess.run(["locale", "-a"], capture_output=True, text=True, check=True).stdout.split()
    return any(name.lower().replace("-", "") == "en_us.utf8" for name in listed)


def _system_user(name: str) -> bool:
    try:
        pwd.getpwnam(name)
    except KeyError:
        return False
    return True


class Cluster:
    """initdb + pg_ctl in a temp dir, as the `postgres` system user when the tests run as root (initdb refuses)."""

    def __init__(self) -> None:
        if not _locale_available():
            raise pytest.UsageError(
                f"KINKO_TEST_DATABASE=postgres needs the {LOCALE} locale: apt-get install locales, uncomment it in "
                "/etc/locale.gen and run locale-gen (.ci/run does)"
            )
        self.root = Path(tempfile.mkdtemp(prefix="kinko-pg-"))
        self.data = self.root / "data"
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]
        self.as_user: list[str] = []
        if os.geteuid() == 0:  # initdb refuses root: the postgresql package's system user, else nobody
            owner = USER if _system_user(USER) else "nobody"
            shutil.chown(self.root, owner)
            self.as_user = ["runuser", "-u", owner, "--"]

    def _run(self, *command: str) -> None:
        subprocess.run([*self.as_user, *command], check=True, capture_output=True, text=True)

    def start(self) -> str:
        """Start the cluster; its URL, postgres://postgres@127.0.0.1:<port> (no database named)."""
        self._run(_binary("initdb"), "-D", str(self.data), "-U", USER, "--auth=trust", "-E", "UTF8", "--locale", LOCALE)
        options = (
            f"-p {self.port} -c listen_addresses=127.0.0.1 -k {self.root} -c max_connections=400 -c timezone=UTC"
            " -c fsync=off -c synchronous_commit=off -c full_page_writes=off"  # throwaway: durability is not tested
        )
        log = str(self.root / "postgres.log")
        self._run(_binary("pg_ctl"), "-D", str(self.data), "-l", log, "-o", options, "-w", "start")
        return f"postgres://{USER}@127.0.0.1:{self.port}"

    def stop(self) -> None:
        with contextlib.suppress(subprocess.CalledProcessError):
            self._run(_binary("pg_ctl"), "-D", str(self.data), "-m", "immediate", "-w", "stop")
        shutil.rmtree(self.root, ignore_errors=True)


@contextlib.contextmanager
def server() -> Iterator[str]:
    """The URL of a running cluster whatever KINKO_TEST_DATABASE says: the session's on PostgreSQL, else one of
    its own, stopped on exit (for the tests that need PostgreSQL in every run, such as the two-node test)."""
    if os.environ.get(SERVER):
        yield os.environ[SERVER]
        return
    cluster = Cluster()
    try:
        yield cluster.start()
    finally:
        cluster.stop()


def create_database(server_url: str, name: str) -> str:
    """The URL of database `name` on the cluster at `server_url`, created on first use."""
    import psycopg

    with psycopg.connect(f"{server_url}/postgres", autocommit=True) as conn:
        if conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone() is None:
            conn.execute(f'CREATE DATABASE "{name}"')
    return f"{server_url}/{name}"


def database_url(data_dir: Path) -> str | None:
    """On PostgreSQL, the URL of the database of the node whose data dir is `data_dir` (created on first use);
    None on SQLite, where the database is a file in the data dir."""
    server_url = os.environ.get(SERVER)
    if server_url is None:
        return None
    return create_database(
        server_url, "kinko_" + hashlib.sha256(str(Path(data_dir).resolve()).encode()).hexdigest()[:24]
    )


def database_image(connection) -> bytes:
    """The bytes of the files of the PostgreSQL database `connection` (Django's) is connected to, after a
    checkpoint has written every committed change into them: what a copy of the disk would hold."""
    with connection.cursor() as cursor:
        cursor.execute("CHECKPOINT")
        cursor.execute(
            "SELECT current_setting('data_directory'), oid FROM pg_database WHERE datname = current_database()"
        )
        directory, oid = cursor.fetchone()
    files = sorted(Path(directory, "base", str(oid)).iterdir())
    return b"".join(path.read_bytes() for path in files if path.is_file())


_cluster: Cluster | None = None


@pytest.hookimpl(tryfirst=True)
def pytest_load_initial_conftests(early_config, parser, args):
    """Before pytest-django reads the settings: start the cluster and point DATABASE_URL at it."""
    global _cluster
    if MODE == "sqlite":
        return
    if MODE != "postgres":
        raise pytest.UsageError(f"KINKO_TEST_DATABASE is sqlite (the default) or postgres, not {MODE!r}")
    _cluster = Cluster()
    os.environ[SERVER] = _cluster.start()
    # The in-process tests' database (pytest-django makes test_kinko beside it); live nodes get their own.
    os.environ["DATABASE_URL"] = f"{os.environ[SERVER]}/kinko"


def pytest_report_header(config):
    if _cluster is not None:
        return f"database: PostgreSQL on 127.0.0.1:{_cluster.port}, locale {LOCALE} (KINKO_TEST_DATABASE=postgres)"
    return None


def pytest_unconfigure(config):
    global _cluster
    if _cluster is not None:
        _cluster.stop()
        _cluster = None
