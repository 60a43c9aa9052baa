"""Bucket versioning through the real `coscmd` CLI (1.9.0.6, the venv's) against the live server over HTTP_PROXY:
putbucketversioning / getbucketversioning, `list -v` showing every version and delete marker, `download
--versionId` giving each version back with its own SSE (SSE-COS, SSE-KMS, SSE-C via -H), `delete --versionId`,
and `deletebucket -f` emptying a bucket of versions and delete markers quickly."""

import base64
import hashlib
import json
import os
import re
import subprocess
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pytest
from qcloud_cos import CosServiceError

from tests.live import REGION, ROOT, manage_py, node_env
from tests.protocol.support import new_bucket
from tests.protocol.test_versioning import header, purge

COSCMD = ROOT / ".venv" / "bin" / "coscmd"
ENSURE_COS_ROLE = "from roles import service; service.ensure_cos_service_role(service.root_account())"
SSE = "x-cos-server-side-encryption"
CUSTOMER_ALGORITHM = "x-cos-server-side-encryption-customer-algorithm"
SSE_C_KEY = hashlib.sha256(b"kinko coscmd customer key").digest()
# The SSE-C trio as coscmd's -H takes it (header names; coscmd maps them onto the SDK's SSECustomer* kwargs).
SSE_C_HEADERS = {
    "x-cos-server-side-encryption-customer-algorithm": "AES256",
    "x-cos-server-side-encryption-customer-key": base64.b64encode(SSE_C_KEY).decode(),
    "x-cos-server-side-encryption-customer-key-MD5": base64.b64encode(hashlib.md5(SSE_C_KEY).digest()).decode(),
}
SDK_SSE_C = {
    "SSECustomerAlgorithm": "AES256",
    "SSECustomerKey": SSE_C_HEADERS["x-cos-server-side-encryption-customer-key"],
    "SSECustomerKeyMD5": SSE_C_HEADERS["x-cos-server-side-encryption-customer-key-MD5"],
}
# A `list -v` row: path, size (empty for a delete marker), local time, version id, in PrettyTable's padded columns.
ROW = re.compile(r"^\s*(?P<path>\S+)\s{2,}(?:(?P<size>\d+)\s{2,})?\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\s{2,}(?P<id>\S+)\s*$")


@dataclass
class Coscmd:
    """coscmd with its own config and log file, pointed at one bucket of the live server through HTTP_PROXY."""

    config: Path
    log: Path
    env: dict[str, str]

    def run(self, *args: str, timeout: float = 60) -> subprocess.CompletedProcess:
        command = [str(COSCMD), "-c", str(self.config), "-l", str(self.log), *args]
        return subprocess.run(command, env=self.env, capture_output=True, text=True, timeout=timeout, cwd=ROOT)

    def run_all(self, commands: list[list[str]]) -> list[subprocess.CompletedProcess]:
        """Independent commands at once (each coscmd process idles about a second before it exits)."""
        with ThreadPoolExecutor(max_workers=len(commands)) as pool:
            return list(pool.map(lambda args: self.run(*args), commands))

    def ok(self, *args: str, timeout: float = 60) -> str:
        done = self.run(*args, timeout=timeout)
        output = done.stdout + done.stderr
        assert done.returncode == 0, f"coscmd {' '.join(args)} exited {done.returncode}:\n{output}"
        return output


@pytest.fixture(scope="module")
def kms_ready(kinko) -> None:
    """SSE-KMS on the session server: the KMS activated and COS_QcsRole present (both idempotent)."""
    env = node_env(kinko.data_dir)
    manage_py(env, "activate_kms", "--json")
    manage_py(env, "shell", "-c", ENSURE_COS_ROLE)


@pytest.fixture
def coscmd_for(kinko, tmp_path):
    """coscmd configured (`coscmd -c <file> config ... --do-not-use-ssl`, as README.md shows) for a bucket."""

    def make(bucket: str) -> Coscmd:
        env = {name: value for name, value in os.environ.items() if "proxy" not in name.lower()}
        env.update(HTTP_PROXY=kinko.url, HOME=str(tmp_path))
        tool = Coscmd(tmp_path / f"{bucket}.conf", tmp_path / f"{bucket}.log", env)
        tool.ok("config", "-a", kinko.secret_id, "-s", kinko.secret_key, "-b", bucket, "-r", REGION, "--do-not-use-ssl")
        return tool

    return make


@pytest.fixture
def versioned(cos) -> str:
    """A fresh bucket with versioning Enabled; every version and marker, and the bucket, deleted afterwards."""
    name = new_bucket(cos)
    try:
        cos.put_bucket_versioning(Bucket=name, Status="Enabled")
        yield name
    finally:
        purge(cos, name)


def rows(output: str) -> list[tuple[str, str | None, str]]:
    """(path, size or None for a delete marker, version id) of each `coscmd list -v` row, in printed order."""
    found = []
    for line in output.splitlines():
        match = ROW.match(line)
        if match:
            found.append((match["path"], match["size"], match["id"]))
    return found


def local_file(tmp_path: Path, name: str, data: bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


def test_coscmd_sets_and_reads_bucket_versioning(cos, coscmd_for, bucket):
    tool = coscmd_for(bucket)
    assert "Not configured" in tool.ok("getbucketversioning")
    tool.ok("putbucketversioning", "Enabled")
    assert cos.get_bucket_versioning(Bucket=bucket).get("Status") == "Enabled"
    assert "Enabled" in tool.ok("getbucketversioning")
    tool.ok("putbucketversioning", "Suspended")
    assert cos.get_bucket_versioning(Bucket=bucket).get("Status") == "Suspended"


def test_coscmd_list_versions_shows_every_version_and_delete_marker(cos, coscmd_for, versioned):
    """Every version and delete marker the server lists is a `list -v` row with its id; a key's versions newest
    first, a delete marker without a size."""
    for key, data in [("doc.txt", b"one"), ("doc.txt", b"two!"), ("doc.txt", b"three"), ("other.txt", b"other")]:
        cos.put_object(Bucket=versioned, Key=key, Body=data)
    cos.delete_object(Bucket=versioned, Key="other.txt")
    listing = cos.list_objects_versions(Bucket=versioned)
    expected = [(v["Key"], v["Size"], v["VersionId"]) for v in listing["Version"]]
    expected += [(m["Key"], None, m["VersionId"]) for m in listing["DeleteMarker"]]
    assert len(expected) == 5
    shown = rows(coscmd_for(versioned).ok("list", "-v"))
    assert Counter(shown) == Counter(expected)
    assert [size for path, size, _ in shown if path == "doc.txt"] == ["5", "4", "3"]
    assert [size for path, size, _ in shown if path == "other.txt"] == [None, "5"]


def test_coscmd_overwrite_keeps_each_version_with_its_own_sse(cos, coscmd_for, versioned, tmp_path, kms_ready):
    """SSE-C, then SSE-COS, then SSE-KMS uploads of one key by `upload -H`: HEAD of each version echoes its own
    encryption, and `download --versionId` gives each its own bytes (the SSE-C one with the trio via -H, and
    not without it)."""
    tool = coscmd_for(versioned)
    uploads = [
        ("sse-c", b"written under sse-c", SSE_C_HEADERS),
        ("sse-cos", b"written under sse-cos", {SSE: "AES256"}),
        ("sse-kms", b"written under sse-kms (current)", {SSE: "cos/kms"}),
    ]
    for name, data, headers in uploads:
        tool.ok("upload", "-H", json.dumps(headers), str(local_file(tmp_path, name, data)), "enc.bin")
    ids = [version_id for path, _, version_id in rows(tool.ok("list", "-v")) if path == "enc.bin"][::-1]
    assert len(set(ids)) == 3, ids
    c_id, cos_id, kms_id = ids
    assert header(cos.head_object(Bucket=versioned, Key="enc.bin", VersionId=c_id, **SDK_SSE_C), CUSTOMER_ALGORITHM)
    assert header(cos.head_object(Bucket=versioned, Key="enc.bin", VersionId=cos_id), SSE) == "AES256"
    assert header(cos.head_object(Bucket=versioned, Key="enc.bin", VersionId=kms_id), SSE) == "cos/kms"

    downloads = [
        ["download", "-f", "--versionId", c_id, "-H", json.dumps(SSE_C_HEADERS), "enc.bin", str(tmp_path / "c")],
        ["download", "-f", "--versionId", cos_id, "enc.bin", str(tmp_path / "cos")],
        ["download", "-f", "--versionId", kms_id, "enc.bin", str(tmp_path / "kms")],
        ["download", "-f", "--versionId", c_id, "enc.bin", str(tmp_path / "c-without-key")],
    ]
    *fetched, without_key = tool.run_all(downloads)
    for done in fetched:
        assert done.returncode == 0, done.stdout + done.stderr
    assert (tmp_path / "c").read_bytes() == uploads[0][1]
    assert (tmp_path / "cos").read_bytes() == uploads[1][1]
    assert (tmp_path / "kms").read_bytes() == uploads[2][1]
    assert without_key.returncode != 0
    assert not (tmp_path / "c-without-key").exists()


# Not tested: a version of a key whose *current* version is SSE-C. coscmd 1.9.0.6's `download` first HEADs the
# current version without the -H headers or --versionId, which COS (like S3) refuses for an SSE-C object, so coscmd
# stops there; the SDK test of versions with their own SSE (test_versioning.py) covers that case.


def test_coscmd_delete_version_id_removes_only_that_version(cos, coscmd_for, versioned):
    """`delete --versionId` removes exactly that version (the next newest becomes current); `delete` without an
    id adds a delete marker and keeps the version."""
    oldest, middle, newest = [
        header(cos.put_object(Bucket=versioned, Key="k", Body=data), "x-cos-version-id") for data in (b"1", b"2", b"3")
    ]
    tool = coscmd_for(versioned)
    tool.ok("delete", "-f", "--versionId", middle, "k")
    remaining = cos.list_objects_versions(Bucket=versioned)["Version"]
    assert [(v["VersionId"], v["IsLatest"]) for v in remaining] == [(newest, "true"), (oldest, "false")]
    tool.ok("delete", "-f", "--versionId", newest, "k")
    current = cos.get_object(Bucket=versioned, Key="k")
    assert header(current, "x-cos-version-id") == oldest
    assert current["Body"].get_raw_stream().read() == b"1"
    tool.ok("delete", "-f", "k")
    listing = cos.list_objects_versions(Bucket=versioned)
    assert [(v["VersionId"], v["IsLatest"]) for v in listing["Version"]] == [(oldest, "false")]
    assert [m["IsLatest"] for m in listing["DeleteMarker"]] == ["true"]


def test_coscmd_deletebucket_force_removes_versions_and_markers_quickly(cos, coscmd_for, tmp_path):
    """Versions of several keys, delete markers, a marker-only key and a Suspended null version: gone in < 20 s."""
    name = new_bucket(cos)
    try:
        cos.put_bucket_versioning(Bucket=name, Status="Enabled")
        for key in ["a", "a", "dir/b", "dir/b", "c"]:
            cos.put_object(Bucket=name, Key=key, Body=os.urandom(100))
        cos.delete_object(Bucket=name, Key="a")
        cos.delete_object(Bucket=name, Key="c")
        cos.put_bucket_versioning(Bucket=name, Status="Suspended")
        cos.put_object(Bucket=name, Key="dir/b", Body=b"null version")
        cos.delete_object(Bucket=name, Key="nothing-here")
        tool = coscmd_for(name)
        started = time.monotonic()
        tool.ok("deletebucket", "-f", timeout=60)
        elapsed = time.monotonic() - started
        assert elapsed < 20, f"coscmd deletebucket -f took {elapsed:.1f} s"
        with pytest.raises(CosServiceError) as err:
            cos.head_bucket(Bucket=name)
        assert err.value.get_status_code() == 404
    finally:
        purge(cos, name)
