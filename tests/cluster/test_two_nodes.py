"""Two stateless nodes on loopback, A and B, sharing only PostgreSQL, Redis (Celery broker, cache) and the blob
store (SeaweedFS over S3), with one root key and one Django secret key from the environment: what A writes, B
serves; a job A starts, B's worker finishes; a master-key rotation on A is seen by B; and A killed with SIGKILL
in the middle of an upload leaves nothing partial while B keeps serving. A runs no Celery worker, B does."""

import base64
import hashlib
import os
import re
import secrets
import signal
import threading
import time
import uuid

import psycopg
import pytest
import requests
from qcloud_cos import CosServiceError

from tests import postgres
from tests.live import APPID, LiveKinko, cos_client, manage_py, node_env, running_kinko
from tests.protocol.support import MiB
from tests.workers.support import wait_for

SSE_C_KEY = os.urandom(32)
MODES = {
    "plain": {},
    "sse-cos": {"ServerSideEncryption": "AES256"},
    "sse-kms": {"ServerSideEncryption": "cos/kms"},
    "sse-c": {
        "SSECustomerAlgorithm": "AES256",
        "SSECustomerKey": base64.b64encode(SSE_C_KEY).decode(),
        "SSECustomerKeyMD5": base64.b64encode(hashlib.md5(SSE_C_KEY).digest()).decode(),
    },
}
ADMIN_PASSWORD = secrets.token_urlsafe(16)
ENSURE_COS_ROLE = "from roles import service; service.ensure_cos_service_role(service.root_account())"


@pytest.fixture(scope="module")
def shared(seaweed, redis_url):
    """The environment both nodes share, and nothing else: database, broker, cache, blob store, keys."""
    redis_server = redis_url.rsplit("/", 1)[0]
    with postgres.server() as server:
        env = {
            "DATABASE_URL": postgres.create_database(server, f"kinko_nodes_{uuid.uuid4().hex[:8]}"),
            "CELERY_BROKER_URL": f"{redis_server}/2",
            "REDIS_URL": f"{redis_server}/3",
            "KINKO_ROOT_KEY": base64.b64encode(os.urandom(32)).decode(),
            "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
            "KINKO_ADMIN_PASSWORD": ADMIN_PASSWORD,
            "KINKO_SSE_C_ALLOW_HTTP": "true",
            **seaweed.env(seaweed.new_bucket(), "nodes/"),
        }
        yield env


def prepare_kms(env: dict[str, str]) -> None:
    manage_py(env, "activate_kms", "--json")
    manage_py(env, "shell", "-c", ENSURE_COS_ROLE)


@pytest.fixture(scope="module")
def node_a(tmp_path_factory, shared) -> LiveKinko:
    data_dir = tmp_path_factory.mktemp("node-a")
    with running_kinko(data_dir, env=shared, https=False, workers=1, prepare=prepare_kms) as node:
        yield node


@pytest.fixture(scope="module")
def node_b(tmp_path_factory, shared, node_a) -> LiveKinko:
    with running_kinko(tmp_path_factory.mktemp("node-b"), env=shared, https=False, workers=1, worker=True) as node:
        yield node


@pytest.fixture(scope="module")
def a(node_a):
    return cos_client(node_a)


@pytest.fixture(scope="module")
def b(node_b):
    return cos_client(node_b)


@pytest.fixture(scope="module")
def bucket(a) -> str:
    name = f"nodes{uuid.uuid4().hex[:8]}-{APPID}"
    a.create_bucket(Bucket=name)
    return name


def body(size: int) -> bytes:
    return os.urandom(size)


def read(client, bucket: str, key: str, **extra) -> bytes:
    return client.get_object(Bucket=bucket, Key=key, **extra)["Body"].get_raw_stream().read()


def sse_c_only(mode: str) -> dict:
    return MODES[mode] if mode == "sse-c" else {}


def missing(client, bucket: str, key: str) -> bool:
    try:
        client.head_object(Bucket=bucket, Key=key)
    except CosServiceError as err:
        return err.get_status_code() == 404
    return False


def listed(client, bucket: str, prefix: str = "") -> set[str]:
    return {entry["Key"] for entry in client.list_objects(Bucket=bucket, Prefix=prefix).get("Contents", [])}


@pytest.mark.parametrize("mode", list(MODES))
def test_what_a_writes_b_reads_ranges_heads_lists_and_deletes(a, b, bucket, mode):
    key, data = f"objects/{mode}.bin", body(200 * 1024 + 17)
    a.put_object(Bucket=bucket, Key=key, Body=data, **MODES[mode])

    assert read(b, bucket, key, **sse_c_only(mode)) == data
    assert read(b, bucket, key, Range="bytes=65530-140000", **sse_c_only(mode)) == data[65530:140001]
    head = b.head_object(Bucket=bucket, Key=key, **sse_c_only(mode))
    assert int(head["Content-Length"]) == len(data)
    if mode in ("sse-cos", "sse-kms"):
        assert head["x-cos-server-side-encryption"] == MODES[mode]["ServerSideEncryption"]
    assert key in listed(b, bucket, "objects/")

    b.delete_object(Bucket=bucket, Key=key)
    assert missing(a, bucket, key)


def test_a_multipart_upload_started_on_a_is_completed_and_read_on_b(a, b, bucket):
    key = "multipart/big.bin"
    parts_data = [body(5 * MiB), body(3 * MiB + 5)]
    upload = a.create_multipart_upload(Bucket=bucket, Key=key, ServerSideEncryption="cos/kms")["UploadId"]
    parts = []
    for number, (client, data) in enumerate(zip((a, b), parts_data, strict=True), start=1):
        etag = client.upload_part(Bucket=bucket, Key=key, Body=data, PartNumber=number, UploadId=upload)["ETag"]
        parts.append({"PartNumber": number, "ETag": etag})
    b.complete_multipart_upload(Bucket=bucket, Key=key, UploadId=upload, MultipartUpload={"Part": parts})

    whole = b"".join(parts_data)
    assert read(b, bucket, key) == whole
    boundary = len(parts_data[0])
    assert (
        read(a, bucket, key, Range=f"bytes={boundary - 100}-{boundary + 99}") == whole[boundary - 100 : boundary + 100]
    )
    assert b.head_object(Bucket=bucket, Key=key)["x-cos-server-side-encryption"] == "cos/kms"


def api(node: LiveKinko, method: str, path: str, **kwargs) -> requests.Response:
    headers = {"Authorization": f"Token {node.api_token}"}
    return requests.request(method, f"{node.url}/api/v1/{path}", headers=headers, timeout=30, **kwargs)


def test_an_encryption_job_started_on_a_is_finished_by_the_worker_of_b(a, node_a, node_b, bucket):
    keys = [f"job/{n}.txt" for n in range(6)]
    for key in keys:
        a.put_object(Bucket=bucket, Key=key, Body=f"plain {key}".encode())

    started = api(node_a, "POST", f"buckets/{bucket}/encryption-jobs/", json={"sse": "AES256", "prefix": "job/"})
    assert started.status_code == 202, started.text
    job_id = started.json()["id"]

    def finished():
        job = api(node_b, "GET", f"jobs/{job_id}/").json()
        return job if job["status"] in ("succeeded", "failed", "cancelled") else None

    job = wait_for(finished, timeout=60)
    assert job, f"the job did not finish on B's worker:\n{node_b.log()[-3000:]}"  # A runs no worker at all
    assert (job["status"], job["done"], job["failed"]) == ("succeeded", len(keys), 0)
    for key in keys:
        assert a.head_object(Bucket=bucket, Key=key)["x-cos-server-side-encryption"] == "AES256"
        assert read(a, bucket, key) == f"plain {key}".encode()


def master_versions(shared: dict[str, str], bucket: str) -> set[int]:
    with psycopg.connect(shared["DATABASE_URL"]) as conn:
        rows = conn.execute(
            "SELECT DISTINCT o.kek_version FROM buckets_storedobject o JOIN buckets_bucket b ON b.id = o.bucket_id"
            " WHERE b.name = %s AND o.key LIKE 'rotation/%%'",
            (bucket,),
        )
        return {version for (version,) in rows}


def test_a_master_key_rotation_on_a_is_seen_by_b(a, b, node_a, shared, bucket):
    data = {f"rotation/{n}.bin": body(70 * 1024) for n in range(4)}
    for key, value in data.items():
        a.put_object(Bucket=bucket, Key=key, Body=value, ServerSideEncryption="AES256")
    for key in data:  # B has the current master version's material cached from now on
        read(b, bucket, key)
    before = master_versions(shared, bucket)

    rotated = manage_py(node_env(node_a.data_dir, **shared), "rotate_master_key")
    after = master_versions(shared, bucket)
    assert len(after) == 1 and after.isdisjoint(before) and max(after) > max(before), rotated

    for key, value in data.items():  # wrapped under a version B's process has never seen
        assert read(b, bucket, key) == value
    b.put_object(Bucket=bucket, Key="rotation/from-b.bin", Body=b"written on B", ServerSideEncryption="AES256")
    assert read(a, bucket, "rotation/from-b.bin") == b"written on B"


def signed_in_session(node: LiveKinko) -> requests.Session:
    session = requests.Session()
    page = session.get(f"{node.url}/login/", timeout=30)
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text).group(1)
    form = {"csrfmiddlewaretoken": token, "username": "admin", "password": ADMIN_PASSWORD}
    answer = session.post(f"{node.url}/login/", data=form, timeout=30, allow_redirects=False)
    assert answer.status_code == 302, answer.text[:500]
    return session


def test_a_console_session_opened_on_a_is_valid_on_b(node_a, node_b, bucket):
    session = signed_in_session(node_a)
    answer = session.get(f"{node_b.url}/api/v1/buckets/", timeout=30)
    assert answer.status_code == 200, answer.text[:500]
    assert bucket in {entry["name"] for entry in answer.json()["results"]}


class SlowBody:
    """A request body that arrives 1 MiB at a time and says when `after` bytes have been sent."""

    def __init__(self, size: int, after: int) -> None:
        self.size, self.after, self.sent = size, after, 0
        self.halfway = threading.Event()

    def read(self, amount: int = -1) -> bytes:
        if self.sent >= self.size:
            return b""
        if self.sent >= self.after:
            self.halfway.set()
            time.sleep(0.5)
        chunk = os.urandom(min(MiB, self.size - self.sent))
        self.sent += len(chunk)
        return chunk


def test_a_node_killed_mid_upload_leaves_nothing_partial_and_the_other_keeps_serving(
    a, b, node_a, node_b, shared, seaweed, bucket
):
    key = "killed/upload.bin"
    upload = SlowBody(64 * MiB, after=20 * MiB)  # past two 8 MiB parts of the store's multipart upload
    outcome = []

    def put() -> None:
        try:
            a.put_object(Bucket=bucket, Key=key, Body=upload, ContentLength=str(upload.size))
            outcome.append("stored")
        except Exception as exc:  # noqa: BLE001 - the connection dies with the node: any client error will do
            outcome.append(type(exc).__name__)

    sender = threading.Thread(target=put)
    sender.start()
    store = seaweed.client()
    store_bucket = shared["KINKO_BLOB_S3_BUCKET"]
    assert upload.halfway.wait(60), "the upload never got halfway"
    in_store = wait_for(lambda: store.list_multipart_uploads(Bucket=store_bucket).get("Uploads"), timeout=30)
    assert in_store, "A's writer never started its backend upload"  # so the kill cuts an upload the store holds
    os.kill(node_a.pid, signal.SIGKILL)  # the supervisor: its gunicorn and workers die with it (PDEATHSIG)
    sender.join(60)
    assert outcome and outcome[0] != "stored", outcome

    assert missing(b, bucket, key)
    assert key not in listed(b, bucket, "killed/")
    b.put_object(Bucket=bucket, Key="killed/after.bin", Body=b"B still serves")
    assert read(b, bucket, "killed/after.bin") == b"B still serves"

    # What A's writer left in the store (an unfinished backend multipart upload) is collected by B's sweep.
    assert store.list_multipart_uploads(Bucket=store_bucket).get("Uploads"), "A's cut upload left nothing to collect"
    collected = manage_py(node_env(node_b.data_dir, **shared, KINKO_ORPHAN_GRACE_SECONDS="0"), "collect_garbage")
    assert not store.list_multipart_uploads(Bucket=store_bucket).get("Uploads"), collected
    assert read(b, bucket, "killed/after.bin") == b"B still serves"  # what rows name, the sweep leaves alone
    assert len(read(b, bucket, "multipart/big.bin")) == 8 * MiB + 5
