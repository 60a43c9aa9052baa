"""A full disk: a live node whose data dir (blobs, SQLite database, everything) is a small tmpfs the test fills.
A write that does not fit answers 503 ServiceUnavailable naming the cause and keeps nothing partial; deletes, aborts
and reads of every SSE mode still work, so space can be freed through the API; /readyz says so before writes fail;
the traceback of the first failure is logged once. Needs root to mount the tmpfs."""

import base64
import errno
import hashlib
import os
import shutil
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from qcloud_cos import CosS3Client, CosServiceError

from tests.live import APPID, LiveKinko, cos_client, manage_py, running_kinko
from tests.protocol.support import MiB, body_of, service_error
from tests.protocol.test_post_object import signed_post

pytestmark = pytest.mark.skipif(
    os.geteuid() != 0 or shutil.which("mount") is None, reason="mounting a tmpfs as the data dir needs root"
)

DISK = "32m"
RESERVE = 4 * MiB  # KINKO_MIN_FREE_BYTES of the node under test
TOO_BIG = 1 * MiB  # more than any test frees before it expects a write to fail
SIZE = 200 * 1024  # several 64 KiB segments, so a ranged read crosses segment boundaries
SSE_C_KEY = os.urandom(32)
MODES = {
    "none": {},
    "sse-cos": {"ServerSideEncryption": "AES256"},
    "sse-kms": {"ServerSideEncryption": "cos/kms"},
    "sse-c": {
        "SSECustomerAlgorithm": "AES256",
        "SSECustomerKey": base64.b64encode(SSE_C_KEY).decode(),
        "SSECustomerKeyMD5": base64.b64encode(hashlib.md5(SSE_C_KEY).digest()).decode(),
    },
}
NO_SPACE_LOGGED = "storage: no space left on the device (logged once)"
ENSURE_COS_ROLE = "from roles import service; service.ensure_cos_service_role(service.root_account())"


class Disk:
    """The tmpfs under the node's data dir, and a filler file that takes its free space."""

    def __init__(self, mount: Path) -> None:
        self.mount = mount
        self.filler = mount / "filler"

    def free(self) -> int:
        stats = os.statvfs(self.mount)
        return stats.f_bavail * stats.f_frsize

    def leave_free(self, target: int) -> None:
        """Resize the filler so `target` bytes stay free (0: until the file system refuses a single page)."""
        self.filler.unlink(missing_ok=True)
        fd = os.open(self.filler, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            remaining = self.free() - target
            for chunk in (MiB, 4096):
                while remaining >= chunk or (target == 0 and chunk == 4096):
                    try:
                        os.write(fd, bytes(chunk))
                    except OSError as exc:
                        assert exc.errno == errno.ENOSPC, exc
                        break
                    remaining -= chunk
        finally:
            os.close(fd)

    def temp_files(self) -> list[Path]:
        folder = self.mount / "objects" / "tmp"
        return sorted(folder.iterdir()) if folder.exists() else []


@pytest.fixture(scope="module")
def mounted(tmp_path_factory) -> Iterator[Disk]:
    mount = tmp_path_factory.mktemp("full-disk")
    subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={DISK},mode=0700", "tmpfs", str(mount)], check=True)
    try:
        yield Disk(mount)
    finally:
        subprocess.run(["umount", "--lazy", str(mount)], check=True)


@pytest.fixture(scope="module")
def node(mounted, tmp_path_factory) -> Iterator[LiveKinko]:
    """One web worker, so "once per process" is once in the log; the log itself lives off the full disk."""
    log_path = tmp_path_factory.mktemp("full-disk-log") / "server.log"
    env = {"KINKO_SSE_C_ALLOW_HTTP": "true", "KINKO_MIN_FREE_BYTES": str(RESERVE)}

    def prepare(full_env: dict[str, str]) -> None:
        manage_py(full_env, "activate_kms")  # SSE-KMS needs the KMS and the COS service role
        manage_py(full_env, "shell", "-c", ENSURE_COS_ROLE)

    with running_kinko(
        mounted.mount, env=env, https=False, workers=1, threads=4, prepare=prepare, log_path=log_path
    ) as server:
        yield server


@pytest.fixture(scope="module")
def client(node) -> CosS3Client:
    return cos_client(node)


@pytest.fixture(scope="module")
def full_bucket(client) -> str:
    name = f"d{uuid.uuid4().hex[:12]}-{APPID}"
    client.create_bucket(Bucket=name)
    return name


@pytest.fixture
def disk(mounted, node) -> Iterator[Disk]:
    """The disk with room to set a test up; filled again to nothing free by `disk.leave_free(0)`."""
    mounted.leave_free(12 * MiB)
    yield mounted
    mounted.leave_free(12 * MiB)


def new_key() -> str:
    return f"k/{uuid.uuid4().hex}"


def assert_no_space(err: pytest.ExceptionInfo) -> None:
    assert service_error(err.value) == (503, "ServiceUnavailable")
    assert "No space left" in err.value.get_error_msg()


def listed(client: CosS3Client, bucket: str) -> set[str]:
    return {item["Key"] for item in client.list_objects(Bucket=bucket, MaxKeys=1000).get("Contents", [])}


def exists(client: CosS3Client, bucket: str, key: str) -> bool:
    try:
        client.head_object(Bucket=bucket, Key=key)
    except CosServiceError as err:
        assert err.get_status_code() == 404
        return False
    return True


def readyz(node: LiveKinko) -> tuple[int, dict]:
    response = requests.get(f"{node.url}/readyz", timeout=10)
    return response.status_code, response.json()


# -- /readyz says so before writes fail ------------------------------------------------------------------------


def test_readyz_is_ready_with_room_to_spare(node, disk):
    assert readyz(node) == (200, {"status": "ready"})


def test_readyz_reports_the_free_space_below_the_reserve_while_writes_still_succeed(node, client, full_bucket, disk):
    disk.leave_free(RESERVE // 2)
    status, body = readyz(node)
    assert status == 503
    assert any("free space" in reason and "KINKO_MIN_FREE_BYTES" in reason for reason in body["reasons"]), body
    key = new_key()
    client.put_object(Bucket=full_bucket, Key=key, Body=b"still fits")
    assert body_of(client.get_object(Bucket=full_bucket, Key=key)) == b"still fits"


# -- a write that does not fit ---------------------------------------------------------------------------------


def test_a_put_of_a_new_key_that_does_not_fit_answers_503_and_leaves_nothing(client, full_bucket, disk):
    key = new_key()
    disk.leave_free(0)
    with pytest.raises(CosServiceError) as err:
        client.put_object(Bucket=full_bucket, Key=key, Body=os.urandom(TOO_BIG))
    assert_no_space(err)
    assert not exists(client, full_bucket, key)
    assert key not in listed(client, full_bucket)
    assert disk.temp_files() == []


def test_an_overwrite_that_does_not_fit_keeps_the_old_version(client, full_bucket, disk):
    key = new_key()
    client.put_object(Bucket=full_bucket, Key=key, Body=b"old version")
    disk.leave_free(0)
    with pytest.raises(CosServiceError) as err:
        client.put_object(Bucket=full_bucket, Key=key, Body=os.urandom(TOO_BIG))
    assert_no_space(err)
    assert body_of(client.get_object(Bucket=full_bucket, Key=key)) == b"old version"
    assert disk.temp_files() == []


def test_an_upload_part_that_does_not_fit_answers_503_and_the_upload_can_be_aborted(client, full_bucket, disk):
    key = new_key()
    upload_id = client.create_multipart_upload(Bucket=full_bucket, Key=key)["UploadId"]
    client.upload_part(Bucket=full_bucket, Key=key, UploadId=upload_id, PartNumber=1, Body=os.urandom(SIZE))
    disk.leave_free(0)
    with pytest.raises(CosServiceError) as err:
        client.upload_part(Bucket=full_bucket, Key=key, UploadId=upload_id, PartNumber=2, Body=os.urandom(TOO_BIG))
    assert_no_space(err)
    parts = client.list_parts(Bucket=full_bucket, Key=key, UploadId=upload_id).get("Part", [])
    assert [part["PartNumber"] for part in parts] == ["1"]
    assert disk.temp_files() == []
    client.abort_multipart_upload(Bucket=full_bucket, Key=key, UploadId=upload_id)
    uploads = client.list_multipart_uploads(Bucket=full_bucket).get("Upload", [])
    assert upload_id not in [upload["UploadId"] for upload in uploads]


def test_a_post_object_that_does_not_fit_answers_503_and_leaves_nothing(node, client, full_bucket, disk):
    key = new_key()
    disk.leave_free(0)
    response = signed_post(node, full_bucket, key, data=os.urandom(TOO_BIG))
    assert response.status_code == 503, response.text
    assert "<Code>ServiceUnavailable</Code>" in response.text and "No space left" in response.text
    assert not exists(client, full_bucket, key)
    assert disk.temp_files() == []


def test_a_database_write_that_does_not_fit_answers_503_naming_the_database(client, disk):
    """No blob here: each new bucket is a few rows, until SQLite finds no room for its journal."""
    disk.leave_free(0)
    created, refused = [], None
    try:
        for _ in range(300):
            name = f"f{uuid.uuid4().hex[:12]}-{APPID}"
            try:
                client.create_bucket(Bucket=name)
            except CosServiceError as err:
                refused = err
                break
            created.append(name)
        assert refused is not None, f"{len(created)} buckets fitted on a full disk"
        assert service_error(refused) == (503, "ServiceUnavailable")
        assert "No space left on the device that holds the database" in refused.get_error_msg()
        assert name not in {bucket["Name"] for bucket in client.list_buckets()["Buckets"]["Bucket"]}
    finally:
        disk.leave_free(12 * MiB)
        for name in created:
            client.delete_bucket(Bucket=name)


# -- space can be freed through the API ------------------------------------------------------------------------


def test_delete_and_delete_multiple_succeed_on_a_full_disk(client, full_bucket, disk):
    keys = [new_key() for _ in range(3)]
    for key in keys:
        client.put_object(Bucket=full_bucket, Key=key, Body=os.urandom(SIZE))
    disk.leave_free(0)
    client.delete_object(Bucket=full_bucket, Key=keys[0])
    result = client.delete_objects(
        Bucket=full_bucket, Delete={"Quiet": "false", "Object": [{"Key": key} for key in keys[1:]]}
    )
    assert sorted(item["Key"] for item in result.get("Deleted", [])) == sorted(keys[1:])
    assert "Error" not in result
    assert not any(exists(client, full_bucket, key) for key in keys)


def test_deleting_objects_on_a_full_disk_lets_writes_succeed_again(client, full_bucket, disk):
    big = new_key()
    client.put_object(Bucket=full_bucket, Key=big, Body=os.urandom(3 * TOO_BIG))
    disk.leave_free(0)
    key = new_key()
    with pytest.raises(CosServiceError) as err:
        client.put_object(Bucket=full_bucket, Key=key, Body=os.urandom(TOO_BIG))
    assert_no_space(err)
    client.delete_object(Bucket=full_bucket, Key=big)
    data = os.urandom(TOO_BIG)
    client.put_object(Bucket=full_bucket, Key=key, Body=data)
    assert body_of(client.get_object(Bucket=full_bucket, Key=key)) == data


# -- reads need no disk write ----------------------------------------------------------------------------------


@pytest.mark.parametrize("mode", sorted(MODES))
def test_full_and_ranged_reads_of_every_sse_mode_work_on_a_full_disk(client, full_bucket, disk, mode):
    key, data = new_key(), os.urandom(SIZE)
    client.put_object(Bucket=full_bucket, Key=key, Body=data, **MODES[mode])
    disk.leave_free(0)
    read = {name: value for name, value in MODES[mode].items() if name.startswith("SSECustomer")}
    for _ in range(3):  # not only the first: a read never counts on a write the previous one made
        assert body_of(client.get_object(Bucket=full_bucket, Key=key, **read)) == data
        ranged = client.get_object(Bucket=full_bucket, Key=key, Range="bytes=70000-140000", **read)
        assert body_of(ranged) == data[70000:140001]
    assert client.head_object(Bucket=full_bucket, Key=key, **read)["Content-Length"] == str(SIZE)


# -- the log ---------------------------------------------------------------------------------------------------


def test_the_no_space_traceback_is_logged_once_not_per_request(node, client, full_bucket, disk):
    disk.leave_free(0)
    for _ in range(5):
        with pytest.raises(CosServiceError) as err:
            client.put_object(Bucket=full_bucket, Key=new_key(), Body=os.urandom(TOO_BIG))
        assert_no_space(err)
    log = node.log()
    assert log.count(NO_SPACE_LOGGED) == 1, log[-4000:]
    assert log.count("ENOSPC") + log.count("No space left on device") <= 1, log[-4000:]
    assert " ERROR " not in log, log[-4000:]
