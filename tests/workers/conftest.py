"""Real Celery workers for worker tests: on the embedded filesystem broker always, and on a throwaway
redis-server when the binary exists (CI installs it; elsewhere the Redis case is skipped, saying why); the KMS
the job tests need, and their scenarios. Helpers are in tests/live.py and tests/workers/support.py."""

import json
import shutil
import socket
import subprocess
import time
import uuid

import pytest

from tests.live import Worker, cos_client, free_port, manage_py
from tests.workers.support import Kms, Scenarios, delete_bucket, manage_env


@pytest.fixture(scope="session")
def redis_url(tmp_path_factory):
    binary = shutil.which("redis-server")
    if binary is None:
        pytest.skip("redis-server is not installed: the Redis broker case needs it (apt-get install redis-server)")
    port = free_port()
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


@pytest.fixture(params=["filesystem", "redis"])
def start_worker(request, kinko):
    """start_worker(*args, **env) → a running Worker on the parametrized broker, stopped after the test."""
    broker = "kinkofs://" if request.param == "filesystem" else request.getfixturevalue("redis_url")
    workers = []

    def start(*args: str, **extra_env: str) -> Worker:
        worker = Worker(broker, kinko.data_dir, extra_env, args)
        workers.append(worker)
        return worker

    yield start
    for worker in workers:
        worker.stop()


@pytest.fixture(scope="module")
def kms(kinko) -> Kms:
    """The KMS activated, COS_QcsRole ensured (SSE-KMS through the COS API needs it) and a second CMK for sources."""
    env = manage_env(kinko)
    default_key = json.loads(manage_py(env, "activate_kms", "--json"))["DefaultKeys"]["ap-guangzhou"]
    source_key = manage_py(
        env,
        "shell",
        "--verbosity",
        "0",
        "-c",
        "from keys import service as kms; from roles import service as roles\n"
        "roles.ensure_cos_service_role(roles.root_account())\n"
        "caller = kms.KmsCaller(roles.root_account(), 'tests', 'ap-guangzhou')\n"
        f"print(kms.create_key(caller, 'jobs-source-{uuid.uuid4().hex[:8]}').key_id)",
    ).strip()
    return Kms(default_key, source_key)


@pytest.fixture(scope="module")
def scenarios(kinko) -> Scenarios:
    """The module's expensive scenarios, each run once per broker; the buckets they made are deleted afterwards."""
    made = Scenarios(kinko)
    yield made
    cos = cos_client(kinko)
    for name in made.buckets:
        delete_bucket(cos, name)
