"""Helpers for tests that need a real Kinko: start a server exactly as `make run` does, run `manage.py` against
its data dir, point the COS SDK at it, and run real Celery workers beside it. The fixtures live in conftest.py."""

import contextlib
import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from celery import Celery
from qcloud_cos import CosConfig, CosS3Client

import console.broker  # noqa: F401 - a test's own Celery client sends on the kinkofs:// transport too
from tests import postgres

ROOT = Path(__file__).resolve().parent.parent
APPID = "1250000000"
START_SECONDS = 90  # generous: a loaded 2-core machine boots Django, migrations and the broker slowly
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
    pid: int = 0  # the `manage.py serve` supervisor

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def ca_bundle(self) -> Path:
        """The development CA the HTTPS listener's certificate chains to."""
        return self.data_dir / "tls" / "ca.pem"

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def node_env(data_dir: Path, **extra: str) -> dict[str, str]:
    """The environment of a process of the node whose data dir is `data_dir` (its server, its workers, manage.py
    run against it): this process's, with that data dir and, under KINKO_TEST_DATABASE=postgres, its own database."""
    env = {**os.environ, "KINKO_DATA_DIR": str(data_dir), "KINKO_APPID": APPID}
    database = postgres.database_url(data_dir)
    if database is not None:
        env["DATABASE_URL"] = database
    return {**env, **extra}


def manage_py(env: dict, *args: str) -> str:
    """`manage.py <args>` in the repository with exactly `env`; its stdout."""
    return subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=env, check=True, capture_output=True, text=True
    ).stdout


@contextlib.contextmanager
def running_kinko(
    data_dir: Path,
    *,
    env: dict[str, str] | None = None,
    drop: tuple[str, ...] = (),
    https: bool = True,
    workers: int = 2,
    threads: int = 4,
    prepare: Callable[[dict[str, str]], None] | None = None,
    log_path: Path | None = None,
    worker: bool = False,
) -> Iterator[LiveKinko]:
    """A real server on free ports, exactly as `make run` starts it (migrate, bootstrap, `manage.py serve`), with
    its own data dir; `prepare(env)` runs manage.py steps before it serves. Its log goes to `log_path` (else
    server.log in the data dir). `worker` also runs serve's Celery worker and beat. Stopped on exit."""
    port = free_port()
    https_port = free_port() if https else 0
    full_env = {name: value for name, value in node_env(data_dir).items() if name not in drop}
    full_env.update(PORT=str(port), **(env or {}))
    manage_py(full_env, "migrate", "--no-input", "-v", "0")
    manage_py(full_env, "bootstrap")
    if prepare is not None:
        prepare(full_env)
    creds = json.loads(manage_py(full_env, "credentials", "--json"))
    log_path = log_path or data_dir / "server.log"
    serve = ["serve", "--port", str(port), "--https-port", str(https_port)] + ([] if worker else ["--no-worker"])
    serve += ["--workers", str(workers), "--threads", str(threads)]
    with open(log_path, "w") as log:
        proc = subprocess.Popen(
            [sys.executable, "manage.py", *serve], cwd=ROOT, env=full_env, stdout=log, stderr=subprocess.STDOUT
        )
    server = LiveKinko(
        port, https_port, data_dir, creds["AppId"], creds["SecretId"], creds["SecretKey"], log_path, creds["ApiToken"]
    )
    server.pid = proc.pid
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
    deadline = time.monotonic() + START_SECONDS
    while True:
        try:
            with urllib.request.urlopen(f"{server.url}/healthz", timeout=5) as response:  # noqa: S310 - loopback
                if response.status == 200:
                    if server.https_port:
                        with socket.create_connection(("127.0.0.1", server.https_port), timeout=1):
                            pass
                    return
        except OSError:
            pass
        exited = proc.poll()
        if exited is not None or time.monotonic() > deadline:
            proc.kill()
            why = f"exited with {exited}" if exited is not None else f"not healthy within {START_SECONDS} s"
            raise RuntimeError(f"Kinko did not start ({why}):\n{server.log()}")
        time.sleep(0.1)


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


def filesystem_options(data_dir: Path) -> dict:
    """The transport options of the embedded broker (kombu's filesystem transport) under `data_dir`."""
    queue = str(data_dir / "broker" / "queue")
    processed = str(data_dir / "broker" / "processed")
    control = str(data_dir / "broker" / "control")
    return {
        "data_folder_in": queue,
        "data_folder_out": queue,
        "processed_folder": processed,
        "store_processed": False,
        "control_folder": control,
    }


class Worker:
    """A `celery worker` process sharing the live server's data dir (database and blobs)."""

    def __init__(self, broker_url: str, data_dir: Path, extra_env: dict[str, str], args: tuple[str, ...] = ()) -> None:
        self.broker_url = broker_url
        self.data_dir = data_dir
        self.log_path = data_dir / f"worker-{time.monotonic_ns()}.log"
        env = node_env(data_dir, CELERY_BROKER_URL=broker_url, **extra_env)
        command = [sys.executable, "-m", "celery", "-A", "console", "worker", "--concurrency", "1", "--pool", "solo"]
        command += ["--loglevel", "INFO", "--without-heartbeat", "--without-gossip", "--without-mingle", *args]
        self.client = Celery("kinko-test", broker=broker_url)
        if broker_url.startswith(("filesystem", "kinkofs")):
            (data_dir / "broker" / "queue").mkdir(parents=True, exist_ok=True)
            self.client.conf.broker_transport_options = filesystem_options(data_dir)
        with open(self.log_path, "w") as log:
            self.proc = subprocess.Popen(command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)

    def send(self, task: str, *args) -> None:
        self.client.send_task(task, args=args)

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.proc.kill()
