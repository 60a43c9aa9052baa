"""Helpers of the worker tests: objects in every SSE mode written through the SDK, the job as the live server's
database shows it, `manage.py encrypt_objects` on a worker's broker, and polling without sleeping blindly."""

import base64
import hashlib
import json
import os
import sqlite3
import subprocess
import sys
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import psycopg

from tests import postgres
from tests.live import APPID, ROOT, LiveKinko, cos_client, node_env

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
    return node_env(kinko.data_dir, **extra)


@dataclass(frozen=True)
class Kms:
    default_key: str
    source_key: str


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


class Postgres:
    """The node's PostgreSQL database, with sqlite3's `execute` (and its ? placeholders) and no transaction."""

    def __init__(self, url: str) -> None:
        self.connection = psycopg.connect(url, autocommit=True)

    def execute(self, sql: str, params: tuple = ()) -> psycopg.Cursor:
        return self.connection.execute(sql.replace("?", "%s"), params)

    def __enter__(self) -> "Postgres":
        return self

    def __exit__(self, *exc) -> None:
        pass  # autocommit: every statement is committed already

    def close(self) -> None:
        self.connection.close()


def database(kinko: LiveKinko, read_only: bool = True) -> sqlite3.Connection | Postgres:
    """The live node's database, for the SQL the worker tests read (and expire_claims writes) behind its back."""
    url = postgres.database_url(kinko.data_dir)
    if url is not None:
        return Postgres(url)
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
    return JobRow(str(row[0]).replace("-", ""), *row[1:]) if row else None  # PostgreSQL's uuid, SQLite's hex


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
