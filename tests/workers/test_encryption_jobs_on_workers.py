"""Bulk encryption jobs (`manage.py encrypt_objects`) run by real Celery worker processes on the live server's data
dir, on each broker: progress while the job runs, every object byte-exact afterwards, no plaintext at rest, and a
worker killed mid-job whose claims another worker finishes without counting any object twice."""

import base64
import datetime
import hashlib
import json
import os
import signal
import sqlite3
import subprocess
import sys
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pytest

from buckets.jobs import LEASE
from tests.live import APPID, ROOT, LiveKinko, cos_client, manage_py

# The common start of every object's plaintext marker: if it is in no file, no object's marker is.
MARKER = b"KINKO-JOBS-AT-REST-MARKER-"
SSE_C_KEY = os.urandom(32)
SSE_C_HEADERS = {
    "SSECustomerAlgorithm": "AES256",
    "SSECustomerKey": base64.b64encode(SSE_C_KEY).decode(),
    "SSECustomerKeyMD5": base64.b64encode(hashlib.md5(SSE_C_KEY).digest()).decode(),
}
FINISHED = ("succeeded", "failed", "cancelled")


def wait_for(condition, timeout: float = 60.0, interval: float = 0.2):
    """Poll until condition() is truthy and return its value; None when the deadline passes."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(interval)
    return None


def manage_env(kinko: LiveKinko, **extra: str) -> dict[str, str]:
    return {**os.environ, "KINKO_DATA_DIR": str(kinko.data_dir), "KINKO_APPID": APPID, **extra}


@dataclass(frozen=True)
class Kms:
    default_key: str
    source_key: str


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


# -- objects --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Put:
    key: str
    mode: str  # "plain", "AES256", "SSE-C", "cos/kms"
    body: bytes


def sse_arguments(mode: str, kms: Kms) -> dict:
    if mode == "AES256":
        return {"ServerSideEncryption": "AES256"}
    if mode == "cos/kms":
        return {"ServerSideEncryption": "cos/kms", "SSEKMSKeyId": kms.source_key}
    if mode == "SSE-C":
        return dict(SSE_C_HEADERS)
    return {}


class Clients(threading.local):
    """One SDK client per thread."""

    def __init__(self, kinko: LiveKinko) -> None:
        self.cos = cos_client(kinko)


def put_objects(kinko: LiveKinko, bucket: str, kms: Kms, modes: list[str], per_mode: int) -> list[Put]:
    """per_mode objects of each mode, each with its own plaintext marker, written in parallel."""
    puts = []
    for mode in modes:
        for n in range(per_mode):
            marker = MARKER + uuid.uuid4().hex.encode()
            body = marker + os.urandom(200 + 37 * n) + marker
            puts.append(Put(f"{mode.replace('/', '-')}/{n:04}.bin", mode, body))
    clients = Clients(kinko)

    def put(obj: Put) -> None:
        clients.cos.put_object(Bucket=bucket, Key=obj.key, Body=obj.body, **sse_arguments(obj.mode, kms))

    with ThreadPoolExecutor(8) as pool:
        list(pool.map(put, puts))
    return puts


def got_bodies(kinko: LiveKinko, bucket: str, puts: list[Put]) -> dict[str, bytes]:
    clients = Clients(kinko)

    def get(obj: Put) -> tuple[str, bytes]:
        extra = SSE_C_HEADERS if obj.mode == "SSE-C" else {}
        got = clients.cos.get_object(Bucket=bucket, Key=obj.key, **extra)
        return obj.key, got["Body"].get_raw_stream().read()

    with ThreadPoolExecutor(8) as pool:
        return dict(pool.map(get, puts))


def head_modes(kinko: LiveKinko, bucket: str, puts: list[Put]) -> dict[str, tuple[str | None, str | None]]:
    """(x-cos-server-side-encryption, its KMS key id) of every object that is not SSE-C."""
    clients = Clients(kinko)

    def head(obj: Put) -> tuple[str, tuple[str | None, str | None]]:
        headers = clients.cos.head_object(Bucket=bucket, Key=obj.key)
        return obj.key, (
            headers.get("x-cos-server-side-encryption"),
            headers.get("x-cos-server-side-encryption-cos-kms-key-id"),
        )

    with ThreadPoolExecutor(8) as pool:
        return dict(pool.map(head, [obj for obj in puts if obj.mode != "SSE-C"]))


def files_with_marker(data_dir: Path) -> list[Path]:
    found = []
    for path in data_dir.rglob("*"):
        try:
            if path.is_file() and MARKER in path.read_bytes():
                found.append(path)
        except FileNotFoundError:  # deleted while the walk ran (a replaced blob, a consumed broker message)
            continue
    return found


# -- the job, as the database shows it ------------------------------------------------------------------------


@dataclass(frozen=True)
class JobRow:
    job_id: str
    status: str
    total: int
    done: int
    failed: int
    skipped: int

    @property
    def finished_items(self) -> int:
        return self.done + self.failed + self.skipped


def database(kinko: LiveKinko, read_only: bool = True) -> sqlite3.Connection:
    path = kinko.data_dir / "kinko.sqlite3"
    if read_only:
        return sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=30)
    return sqlite3.connect(path, timeout=30)


def job_of(db: sqlite3.Connection, bucket: str) -> JobRow | None:
    row = db.execute(
        "SELECT j.job_id, j.status, j.total, j.done, j.failed, j.skipped FROM buckets_job j"
        " JOIN buckets_bucket b ON b.id = j.bucket_id WHERE b.name = ?",
        (bucket,),
    ).fetchone()
    return JobRow(*row) if row else None


def item_states(db: sqlite3.Connection, job_id: str) -> dict[str, int]:
    rows = db.execute(
        "SELECT i.state, COUNT(*) FROM buckets_jobitem i JOIN buckets_job j ON j.id = i.job_id"
        " WHERE j.job_id = ? GROUP BY i.state",
        (job_id,),
    )
    return dict(rows.fetchall())


def encrypt_objects(kinko: LiveKinko, worker, bucket: str, sse_mode: str) -> subprocess.Popen:
    """`manage.py encrypt_objects` on the worker's broker (for filesystem://, the queue in the same data dir)."""
    return subprocess.Popen(
        [sys.executable, "manage.py", "encrypt_objects", bucket, "--sse", sse_mode],
        cwd=ROOT,
        env=manage_env(kinko, CELERY_BROKER_URL=worker.broker_url),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def finished_command(command: subprocess.Popen) -> dict:
    out, err = command.communicate(timeout=60)
    assert command.returncode == 0, err
    return json.loads(out)


def wait_until_ready(worker) -> None:
    assert wait_for(lambda: " ready." in worker.log(), timeout=30), worker.log()


def wait_until_finished(db: sqlite3.Connection, bucket: str, worker) -> JobRow:
    row = wait_for(lambda: (job := job_of(db, bucket)) and job.status in FINISHED and job, timeout=90)
    assert row, worker.log()
    return row


# -- scenarios: each runs once per broker, and each test checks one outcome of it ----------------------------


class Scenarios:
    """Outcomes of the expensive scenarios, by (scenario, broker); a scenario that raised raises again."""

    def __init__(self, kinko: LiveKinko) -> None:
        self.kinko = kinko
        self.outcomes: dict[tuple[str, str], object] = {}
        self.buckets: list[str] = []

    def new_bucket(self) -> str:
        name = f"j{uuid.uuid4().hex[:12]}-{APPID}"
        cos_client(self.kinko).create_bucket(Bucket=name)
        self.buckets.append(name)
        return name

    def outcome(self, request, scenario) -> object:
        key = (scenario.__name__, request.node.callspec.params["start_worker"])
        if key not in self.outcomes:
            try:
                self.outcomes[key] = scenario(self)
            except BaseException as exc:
                self.outcomes[key] = exc
                raise
        if isinstance(self.outcomes[key], BaseException):
            raise self.outcomes[key]
        return self.outcomes[key]


def delete_bucket(cos, name: str) -> None:
    marker = ""
    while True:
        listing = cos.list_objects(Bucket=name, Marker=marker, MaxKeys=1000)
        keys = [entry["Key"] for entry in listing.get("Contents", [])]
        if keys:
            cos.delete_objects(Bucket=name, Delete={"Quiet": "true", "Object": [{"Key": k} for k in keys]})
        if listing["IsTruncated"] != "true":
            break
        marker = listing["NextMarker"]
    cos.delete_bucket(Bucket=name)


@pytest.fixture(scope="module")
def scenarios(kinko) -> Scenarios:
    made = Scenarios(kinko)
    yield made
    cos = cos_client(kinko)
    for name in made.buckets:
        delete_bucket(cos, name)


# -- a job over every mode ------------------------------------------------------------------------------------

MODES = ["plain", "AES256", "SSE-C", "cos/kms"]
PER_MODE = 60


@dataclass(frozen=True)
class Converted:
    bucket: str
    puts: list[Put]
    printed: dict  # what `manage.py encrypt_objects` printed
    progress: list[int]  # finished items, sampled while the job ran
    job: JobRow


@pytest.fixture
def converted(request, scenarios, start_worker, kinko, kms) -> Converted:
    """240 objects of four modes moved to the default CMK by one worker, the job's progress sampled meanwhile."""

    def convert_mixed_bucket(made: Scenarios) -> Converted:
        bucket = made.new_bucket()
        puts = put_objects(kinko, bucket, kms, MODES, PER_MODE)
        worker = start_worker()
        wait_until_ready(worker)
        db = database(kinko)
        command = encrypt_objects(kinko, worker, bucket, "cos/kms")
        progress = []
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            job = job_of(db, bucket)
            if job is not None:
                progress.append(job.finished_items)
                if job.status in FINISHED:
                    break
            time.sleep(0.005)
        printed = finished_command(command)
        job = wait_until_finished(db, bucket, worker)
        db.close()
        return Converted(bucket, puts, printed, progress, job)

    return scenarios.outcome(request, convert_mixed_bucket)


def test_encrypt_objects_lists_every_object_of_the_bucket(converted):
    assert (converted.printed["total"], converted.job.total) == (len(converted.puts), len(converted.puts))


def test_encrypt_objects_progress_shows_while_a_worker_runs_the_job(converted):
    total = converted.job.total
    assert [seen for seen in converted.progress if 0 < seen < total], converted.progress


def test_encrypt_objects_on_a_worker_succeeds(converted):
    assert (converted.printed["id"].replace("-", ""), converted.job.status) == (converted.job.job_id, "succeeded")


def test_encrypt_objects_on_a_worker_converts_all_but_the_sse_c_objects(converted):
    sse_c = sum(obj.mode == "SSE-C" for obj in converted.puts)
    job = converted.job
    assert (job.done, job.failed, job.skipped) == (len(converted.puts) - sse_c, 0, sse_c)


def test_after_encrypt_objects_every_object_reads_back_byte_exactly(converted, kinko):
    assert got_bodies(kinko, converted.bucket, converted.puts) == {obj.key: obj.body for obj in converted.puts}


def test_after_encrypt_objects_every_object_but_sse_c_is_under_the_default_cmk(converted, kinko, kms):
    assert set(head_modes(kinko, converted.bucket, converted.puts).values()) == {("cos/kms", kms.default_key)}


def test_after_encrypt_objects_no_plaintext_marker_is_in_any_file_of_the_data_dir(converted, kinko):
    assert files_with_marker(kinko.data_dir) == []


# -- a worker killed mid-job ----------------------------------------------------------------------------------


def children_of(pid: int) -> list[int]:
    """Direct children of pid, from /proc."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except (FileNotFoundError, ProcessLookupError):
            continue
        if int(fields[1]) == pid:
            found.append(int(stat.parent.name))
    return found


def expire_claims(kinko: LiveKinko, job_id: str) -> None:
    """Move the job's claims back past the lease, as if its lease had run out."""
    long_ago = datetime.datetime.now(datetime.UTC) - LEASE - datetime.timedelta(minutes=1)
    db = database(kinko, read_only=False)
    with db:
        db.execute(
            "UPDATE buckets_jobitem SET claimed_at = ? WHERE state = 'claimed'"
            " AND job_id = (SELECT id FROM buckets_job WHERE job_id = ?)",
            (long_ago.strftime("%Y-%m-%d %H:%M:%S.%f"), job_id),
        )
    db.close()


@dataclass(frozen=True)
class Resumed:
    bucket: str
    puts: list[Put]
    worker_children: list[int]  # processes the killed worker had started
    at_kill: JobRow
    job: JobRow
    item_states: dict[str, int]


@pytest.fixture
def resumed(request, scenarios, start_worker, kinko, kms) -> Resumed:
    """A job over 402 objects whose worker is SIGKILLed midway; a second worker finishes it."""

    def kill_a_worker_mid_job(made: Scenarios) -> Resumed:
        bucket = made.new_bucket()
        puts = put_objects(kinko, bucket, kms, ["plain", "AES256", "cos/kms"], 134)
        first = start_worker()
        db = database(kinko)
        printed = finished_command(encrypt_objects(kinko, first, bucket, "cos/kms"))
        job_id = printed["id"].replace("-", "")

        def midway() -> bool:
            job = job_of(db, bucket)
            return 0 < job.done < job.total and item_states(db, job_id).get("claimed", 0) > 0

        assert wait_for(midway, timeout=60, interval=0.005), first.log()
        children = children_of(first.proc.pid)
        for pid in [first.proc.pid, *children]:
            os.kill(pid, signal.SIGKILL)
        first.proc.wait(timeout=10)
        at_kill = job_of(db, bucket)
        # The dead worker's claims are taken over only once their lease (jobs.LEASE, 15 seconds) has
        # run out: backdating them in the shared database stands for that wait.
        expire_claims(kinko, job_id)
        second = start_worker()
        second.send("buckets.tasks.run_job", printed["id"])
        job = wait_until_finished(db, bucket, second)
        states = item_states(db, job_id)
        db.close()
        return Resumed(bucket, puts, children, at_kill, job, states)

    return scenarios.outcome(request, kill_a_worker_mid_job)


def test_a_solo_pool_worker_runs_jobs_in_its_own_process(resumed):
    assert resumed.worker_children == []


def test_a_worker_killed_mid_job_leaves_it_running_and_unfinished(resumed):
    at_kill = resumed.at_kill
    assert at_kill.status == "running" and 0 < at_kill.done < at_kill.total


def test_a_job_whose_worker_was_killed_is_completed_by_another_worker(resumed):
    job = resumed.job
    assert (job.status, job.done + job.skipped, job.failed) == ("succeeded", len(resumed.puts), 0)


def test_a_job_whose_worker_was_killed_counts_every_object_exactly_once(resumed):
    job, total = resumed.job, len(resumed.puts)
    assert (job.done, job.failed, job.skipped, resumed.item_states) == (total, 0, 0, {"done": total})


def test_after_a_killed_worker_every_object_reads_back_byte_exactly(resumed, kinko):
    assert got_bodies(kinko, resumed.bucket, resumed.puts) == {obj.key: obj.body for obj in resumed.puts}


def test_after_a_killed_worker_every_object_is_under_the_target_cmk(resumed, kinko, kms):
    assert set(head_modes(kinko, resumed.bucket, resumed.puts).values()) == {("cos/kms", kms.default_key)}
