"""Real Celery workers for worker tests: on the embedded filesystem broker always, and on a throwaway
redis-server when the binary exists (CI installs it; elsewhere the Redis case is skipped, saying why); the KMS
the job tests need, and their scenarios. Helpers are in tests/live.py and tests/workers/support.py."""

import json
import uuid

import pytest

from tests.live import Worker, cos_client, manage_py
from tests.workers.support import Kms, Scenarios, delete_bucket, manage_env


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
