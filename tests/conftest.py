"""Shared fixtures: a real Kinko server (gunicorn, same command as `make run`) for protocol tests, SDK clients,
and storage on tmp_path for in-process domain tests."""

import contextlib
import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from qcloud_cos import CosConfig, CosS3Client

from keys import master

ROOT = Path(__file__).resolve().parent.parent
APPID = "1250000000"
REGION = "ap-guangzhou"


@dataclass
class LiveKinko:
    port: int
    https_port: int
    data_dir: Path
    appid: str
    secret_id: str
    secret_key: str
    log_path: Path
    api_token: str = ""

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def ca_bundle(self) -> Path:
        """The development CA the HTTPS listener's certificate chains to."""
        return self.data_dir / "tls" / "ca.pem"

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _manage(env: dict, *args: str) -> str:
    return subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=env, check=True, capture_output=True, text=True
    ).stdout


@contextlib.contextmanager
def running_kinko(data_dir: Path, *, env: dict[str, str] | None = None, drop: tuple[str, ...] = (),
                  https: bool = True, workers: int = 2, threads: int = 4,
                  prepare: Callable[[dict[str, str]], None] | None = None) -> Iterator[LiveKinko]:  # fmt: skip
    """A real server on free ports, exactly as `make run` starts it (migrate, bootstrap, `manage.py serve`), with
    its own data dir; `prepare(env)` runs manage.py steps before it serves. Stopped on exit."""
    port = _free_port()
    https_port = _free_port() if https else 0
    full_env = {name: value for name, value in os.environ.items() if name not in drop}
    full_env.update(KINKO_DATA_DIR=str(data_dir), KINKO_APPID=APPID, PORT=str(port), **(env or {}))
    _manage(full_env, "migrate", "--no-input", "-v", "0")
    _manage(full_env, "bootstrap")
    if prepare is not None:
        prepare(full_env)
    creds = json.loads(_manage(full_env, "credentials", "--json"))
    log_path = data_dir / "server.log"
    serve = ["serve", "--no-worker", "--port", str(port), "--https-port", str(https_port),
             "--workers", str(workers), "--threads", str(threads)]  # fmt: skip
    with open(log_path, "w") as log:
        proc = subprocess.Popen([sys.executable, "manage.py", *serve], cwd=ROOT, env=full_env, stdout=log,
                                stderr=subprocess.STDOUT)  # fmt: skip
    server = LiveKinko(port, https_port, data_dir, creds["AppId"], creds["SecretId"], creds["SecretKey"], log_path,
                       creds["ApiToken"])  # fmt: skip
    try:
        _wait_until_serving(server, proc)
        yield server
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()


def _wait_until_serving(server: LiveKinko, proc: subprocess.Popen) -> None:
    deadline = time.monotonic() + 30
    while True:
        try:
            with urllib.request.urlopen(f"{server.url}/healthz", timeout=1) as response:  # noqa: S310 - loopback
                if response.status == 200:
                    if server.https_port:
                        with socket.create_connection(("127.0.0.1", server.https_port), timeout=1):
                            pass
                    return
        except OSError:
            pass
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            raise RuntimeError(f"Kinko did not start:\n{server.log()}")
        time.sleep(0.1)


@pytest.fixture(scope="session")
def kinko(tmp_path_factory) -> LiveKinko:
    """One real server for the session (SSE-C allowed over plain HTTP, as for a local test harness)."""
    with running_kinko(tmp_path_factory.mktemp("kinko-data"), env={"KINKO_SSE_C_ALLOW_HTTP": "true"}) as server:
        yield server


def cos_client(
    server: LiveKinko, *, secret_id: str | None = None, secret_key: str | None = None, proxy: bool = False, **config
) -> CosS3Client:
    """IP/Port mode (explicit Host) by default; proxy=True sends absolute-form requests with the real Host."""
    options = {
        "Region": REGION,
        "SecretId": secret_id or server.secret_id,
        "SecretKey": secret_key or server.secret_key,
        "Scheme": "http",
    }
    if proxy:
        options["Proxies"] = {"http": server.url}
    else:
        options.update(IP="127.0.0.1", Port=server.port, ServiceDomain=f"127.0.0.1:{server.port}")
    options.update(config)
    return CosS3Client(CosConfig(**options), retry=0)


@pytest.fixture(scope="session")
def cos(kinko) -> CosS3Client:
    return cos_client(kinko)


@pytest.fixture(scope="session")
def cos_proxy(kinko) -> CosS3Client:
    return cos_client(kinko, proxy=True)


@pytest.fixture(params=["ip", "proxy"])
def any_cos(request, kinko) -> CosS3Client:
    """The same test in both addressing modes the README documents."""
    return cos_client(kinko, proxy=request.param == "proxy")


@pytest.fixture
def bucket(cos) -> str:
    """A fresh, empty bucket with a unique name, deleted (with its objects) afterwards."""
    name = f"t{uuid.uuid4().hex[:12]}-{APPID}"
    cos.create_bucket(Bucket=name)
    yield name
    marker = ""
    while True:
        listing = cos.list_objects(Bucket=name, Marker=marker, MaxKeys=1000)
        keys = [item["Key"] for item in listing.get("Contents", [])]
        if keys:
            cos.delete_objects(Bucket=name, Delete={"Quiet": "true", "Object": [{"Key": k} for k in keys]})
        if listing["IsTruncated"] != "true":
            break
        marker = listing["NextMarker"]
    cos.delete_bucket(Bucket=name)


@pytest.fixture(autouse=True)
def _storage_on_tmp_path(settings, tmp_path):
    """In-process tests write blobs under tmp_path, never into a shared data dir."""
    settings.STORAGE_ROOT = tmp_path / "objects"


@pytest.fixture(autouse=True)
def _fresh_master_key_cache():
    """Each test has its own database, so the SSE-COS master key the process cached belongs to another test."""
    master.forget_cached_keys()
    yield
    master.forget_cached_keys()
