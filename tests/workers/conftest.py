"""Real Celery workers for worker tests: on the embedded filesystem broker always, and on a throwaway
redis-server when the binary exists (CI installs it; elsewhere the Redis case is skipped, saying why)."""

import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from celery import Celery

import console.broker  # noqa: F401 - the test's own client sends on the kinkofs:// transport too

ROOT = Path(__file__).resolve().parents[2]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def redis_url(tmp_path_factory):
    binary = shutil.which("redis-server")
    if binary is None:
        pytest.skip("redis-server is not installed: the Redis broker case needs it (apt-get install redis-server)")
    port = _free_port()
    workdir = tmp_path_factory.mktemp("redis")
    proc = subprocess.Popen(
        [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", str(workdir)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 10
    while True:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                break
        except OSError:
            if time.monotonic() > deadline:
                proc.kill()
                raise RuntimeError("redis-server did not start") from None
            time.sleep(0.1)
    yield f"redis://127.0.0.1:{port}/0"
    proc.terminate()
    proc.wait(timeout=10)


def filesystem_options(data_dir: Path) -> dict:
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
        env = {**os.environ, "KINKO_DATA_DIR": str(data_dir), "CELERY_BROKER_URL": broker_url, **extra_env}
        with open(self.log_path, "w") as log:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "celery", "-A", "console", "worker", "--concurrency", "1", "--pool", "solo",
                 "--loglevel", "INFO", "--without-heartbeat", "--without-gossip", "--without-mingle", *args],
                cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
            )  # fmt: skip
        self.client = Celery("kinko-test", broker=broker_url)
        if broker_url.startswith(("filesystem", "kinkofs")):
            (data_dir / "broker" / "queue").mkdir(parents=True, exist_ok=True)
            self.client.conf.broker_transport_options = filesystem_options(data_dir)

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


@pytest.fixture(params=["filesystem", "redis"])
def start_worker(request, kinko):
    """start_worker(**env) → a running Worker on the parametrized broker, stopped after the test."""
    broker = "kinkofs://" if request.param == "filesystem" else request.getfixturevalue("redis_url")
    workers = []

    def start(*args: str, **extra_env: str) -> Worker:
        worker = Worker(broker, kinko.data_dir, extra_env, args)
        workers.append(worker)
        return worker

    yield start
    for worker in workers:
        worker.stop()
