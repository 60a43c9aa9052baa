"""Encryption at rest, seen from the raw files of the live server's data dir (the SQLite database, objects/, the log):
no plaintext and no SSE-C key ever lands on disk, and tampered blobs never come back as a 200 with wrong bytes."""

import base64
import hashlib
import hmac
import json
import os
import re
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import requests
from qcloud_cos import CosS3Client, CosServiceError
from qcloud_cos.cos_comm import mapped
from urllib3.exceptions import HTTPError as Urllib3Error

from tests.live import REGION, manage_py, node_env
from tests.protocol.support import (
    MiB,
    blob_files,
    body_of,
    empty_and_delete,
    new_bucket,
    object_url,
    proxies,
)

SEGMENT = 64 * 1024
HEADER = 17  # b"KNKO" | version | segment size | nonce prefix (buckets/segments.py)
TAG = 16
STRIDE = SEGMENT + TAG
ENSURE_COS_ROLE = "from roles import service; service.ensure_cos_service_role(service.root_account())"

SSE_C_KEY = os.urandom(32)
OTHER_SSE_C_KEY = os.urandom(32)


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def customer(key: bytes, prefix: str = "") -> dict[str, str]:
    return {
        prefix + "SSECustomerAlgorithm": "AES256",
        prefix + "SSECustomerKey": b64(key),
        prefix + "SSECustomerKeyMD5": b64(hashlib.md5(key).digest()),
    }


def server_env(kinko) -> dict:
    return node_env(kinko.data_dir)


def all_files(directory: Path) -> dict[Path, bytes]:
    """Every file under the data dir, read raw: the database (and its journal), blobs, keystore, log."""
    return {path: path.read_bytes() for path in sorted(directory.rglob("*")) if path.is_file()}


def holding(files: dict[Path, bytes], needle: bytes) -> list[str]:
    return [str(path) for path, content in files.items() if needle in content]


@pytest.fixture(scope="module")
def kms_ready(kinko) -> None:
    """The KMS activated and COS_QcsRole in place, both idempotently (other modules may have done it)."""
    manage_py(server_env(kinko), "activate_kms", "--json")
    manage_py(server_env(kinko), "shell", "-c", ENSURE_COS_ROLE)


@pytest.fixture(scope="module")
def rest_bucket(cos, kms_ready) -> str:
    name = new_bucket(cos)
    yield name
    empty_and_delete(cos, name)


def post_form(kinko, bucket: str, key: str, fields: list[tuple[str, str]], data: bytes) -> requests.Response:
    """A POST Object form signed as spec §2.7 says."""
    now = int(time.time())
    key_time = f"{now - 60};{now + 3600}"
    expiration = (datetime.now(UTC) + timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%S.000Z")
    policy = json.dumps({"expiration": expiration, "conditions": [{"bucket": bucket}, ["starts-with", "$key", ""]]})
    sign_key = hmac.new(kinko.secret_key.encode(), key_time.encode(), hashlib.sha1).hexdigest()
    signature = hmac.new(sign_key.encode(), hashlib.sha1(policy.encode()).hexdigest().encode(), hashlib.sha1)
    form = [
        ("key", key),
        ("policy", b64(policy.encode())),
        ("q-sign-algorithm", "sha1"),
        ("q-ak", kinko.secret_id),
        ("q-key-time", key_time),
        ("q-signature", signature.hexdigest()),
        *fields,
    ]
    files = [(name, (None, value)) for name, value in form] + [("file", ("marker.bin", data, "text/plain"))]
    response = requests.post(object_url(bucket), files=files, proxies=proxies(kinko), timeout=30)
    assert response.status_code == 204, response.content
    return response


def multipart_put(cos: CosS3Client, bucket: str, key: str, first: bytes, second: bytes, **sse) -> None:
    upload_id = cos.create_multipart_upload(Bucket=bucket, Key=key, **sse)["UploadId"]
    read = {name: value for name, value in sse.items() if name.startswith("SSECustomer")}
    parts = [
        cos.upload_part(Bucket=bucket, Key=key, Body=body, PartNumber=number, UploadId=upload_id, **read)
        for number, body in ((1, first), (2, second))
    ]
    listed = {"Part": [{"PartNumber": n, "ETag": part["ETag"]} for n, part in enumerate(parts, start=1)]}
    cos.complete_multipart_upload(Bucket=bucket, Key=key, UploadId=upload_id, MultipartUpload=listed)


# -- no plaintext at rest ----------------------------------------------------------------------------------------

WRITE_PATHS = [
    "put-plain",
    "put-sse-cos",
    "put-sse-kms",
    "put-sse-c",
    "multipart-plain",
    "multipart-sse-c",
    "post-plain",
    "post-sse-c",
    "copy-to-plain",
]


def marker(path: str) -> bytes:
    return f"<plaintext marker {path} {uuid.uuid4().hex}>".encode()


@pytest.fixture(scope="module")
def markers(kinko, cos, rest_bucket) -> dict[str, bytes]:
    """One marker per write path, each stored (repeated, so it spans segments) by that path."""
    made = {path: marker(path) for path in WRITE_PATHS}

    def body(path: str, size: int = 200_000) -> bytes:
        return (made[path] * (size // len(made[path]) + 1))[:size]

    cos.put_object(Bucket=rest_bucket, Key="marker/plain", Body=body("put-plain"))
    cos.put_object(Bucket=rest_bucket, Key="marker/cos", Body=body("put-sse-cos"), ServerSideEncryption="AES256")
    cos.put_object(Bucket=rest_bucket, Key="marker/kms", Body=body("put-sse-kms"), ServerSideEncryption="cos/kms")
    cos.put_object(Bucket=rest_bucket, Key="marker/ssec", Body=body("put-sse-c"), **customer(SSE_C_KEY))
    multipart_put(cos, rest_bucket, "marker/mp", body("multipart-plain", MiB), body("multipart-plain", 999))
    multipart_put(cos, rest_bucket, "marker/mp-ssec", body("multipart-sse-c", MiB), b"tail", **customer(SSE_C_KEY))
    post_form(kinko, rest_bucket, "marker/post", [], body("post-plain"))
    post_form(kinko, rest_bucket, "marker/post-ssec", list(mapped(customer(SSE_C_KEY)).items()), body("post-sse-c"))
    cos.put_object(Bucket=rest_bucket, Key="marker/copy-source", Body=body("copy-to-plain"), **customer(SSE_C_KEY))
    cos.copy_object(
        Bucket=rest_bucket,
        Key="marker/copy",
        CopySource={"Bucket": rest_bucket, "Key": "marker/copy-source", "Region": REGION},
        **customer(SSE_C_KEY, prefix="CopySource"),
    )
    return made


@pytest.fixture(scope="module")
def disk_after_markers(kinko, markers) -> dict[Path, bytes]:
    return all_files(kinko.data_dir)


def test_every_marker_reads_back_through_the_api(cos, rest_bucket, markers):
    """The scans below only mean something if the markers were really stored."""
    got = body_of(cos.get_object(Bucket=rest_bucket, Key="marker/copy"))
    assert got.startswith(markers["copy-to-plain"])


def test_the_data_dir_holds_the_database_and_the_blobs(kinko, disk_after_markers):
    names = {path.relative_to(kinko.data_dir).parts[0] for path in disk_after_markers}
    assert {"kinko.sqlite3", "objects"} <= names


@pytest.mark.parametrize("path", WRITE_PATHS)
def test_a_plaintext_marker_never_appears_in_any_file(disk_after_markers, markers, path):
    assert holding(disk_after_markers, markers[path]) == []


# -- no SSE-C key at rest or in the log ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def sse_c_traffic(kinko, cos, rest_bucket, markers) -> None:
    """Every SSE-C path once more, with both keys: writes, reads, copy re-keying, and refused requests."""
    trio = customer(SSE_C_KEY)
    cos.put_object(Bucket=rest_bucket, Key="keys/one", Body=b"x" * 1000, **trio)
    cos.get_object(Bucket=rest_bucket, Key="keys/one", Range="bytes=0-9", **trio)["Body"].get_raw_stream().read()
    cos.head_object(Bucket=rest_bucket, Key="keys/one", **trio)
    cos.copy_object(
        Bucket=rest_bucket,
        Key="keys/two",
        CopySource={"Bucket": rest_bucket, "Key": "keys/one", "Region": REGION},
        **customer(SSE_C_KEY, prefix="CopySource"),
        **customer(OTHER_SSE_C_KEY),
    )
    refused = [
        lambda: cos.get_object(Bucket=rest_bucket, Key="keys/two", **trio),  # the wrong key
        lambda: cos.get_object(Bucket=rest_bucket, Key="marker/plain", **trio),  # not an SSE-C object
        lambda: cos.put_object(
            Bucket=rest_bucket, Key="keys/bad-md5", Body=b"x", **{**trio, "SSECustomerKeyMD5": b64(b"0" * 16)}
        ),
        lambda: cos.put_object(Bucket=rest_bucket, Key="keys/both", Body=b"x", ServerSideEncryption="AES256", **trio),
    ]
    for request in refused:
        with pytest.raises(CosServiceError):
            request()


def key_forms(key: bytes) -> dict[str, bytes]:
    return {"raw": key, "base64": b64(key).encode(), "hex": key.hex().encode()}


@pytest.mark.parametrize("form", ["raw", "base64", "hex"])
@pytest.mark.parametrize("which", ["first", "second"])
def test_an_sse_c_key_never_appears_in_any_file(kinko, sse_c_traffic, which, form):
    key = SSE_C_KEY if which == "first" else OTHER_SSE_C_KEY
    assert holding(all_files(kinko.data_dir), key_forms(key)[form]) == []


@pytest.mark.parametrize("form", ["base64", "hex"])
@pytest.mark.parametrize("which", ["first", "second"])
def test_an_sse_c_keys_text_never_appears_in_the_server_log(kinko, sse_c_traffic, which, form):
    key = SSE_C_KEY if which == "first" else OTHER_SSE_C_KEY
    assert key_forms(key)[form].decode() not in kinko.log()


@pytest.mark.parametrize("which", ["first", "second"])
def test_an_sse_c_keys_raw_bytes_never_appear_in_the_server_log(kinko, sse_c_traffic, which):
    key = SSE_C_KEY if which == "first" else OTHER_SSE_C_KEY
    assert key not in kinko.log_path.read_bytes()


# -- tampering with stored blobs ----------------------------------------------------------------------------------


@dataclass
class Stored:
    key: str
    data: bytes
    blob: Path


def store(kinko, cos: CosS3Client, bucket: str, size: int, **sse) -> Stored:
    """PUT a random object and find its blob file: the one file new under objects/."""
    before = blob_files(kinko)
    key = f"tamper/{uuid.uuid4().hex}"
    data = os.urandom(size)
    cos.put_object(Bucket=bucket, Key=key, Body=data, **sse)
    (blob,) = blob_files(kinko) - before
    return Stored(key, data, blob)


def segment_offset(index: int) -> int:
    return HEADER + index * STRIDE


def read_until_cut(stream) -> bytes:
    """The body bytes that arrive before the response ends or the connection is cut."""
    received = bytearray()
    try:
        while chunk := stream.read(SEGMENT):
            received += chunk
    except (Urllib3Error, OSError):
        return bytes(received)
    return bytes(received)


def verdict(cos: CosS3Client, bucket: str, stored: Stored, **read) -> str:
    """How a GET of a tampered object ended: "refused" (5xx), "cut short" (the connection ended before
    Content-Length, every byte that arrived right), "served intact" or "wrong bytes"."""
    try:
        result = cos.get_object(Bucket=bucket, Key=stored.key, **read)
    except CosServiceError as err:
        return "refused" if err.get_status_code() >= 500 else f"status {err.get_status_code()}"
    received = read_until_cut(result["Body"].get_raw_stream())
    if received == stored.data:
        return "served intact"
    if stored.data.startswith(received):
        return "cut short"
    return "wrong bytes"


DETECTED = {"refused", "cut short"}
SMALL = 3 * SEGMENT + 1000  # read in one batch: tampering is found before the response starts
LARGE = 2 * MiB + 1000  # tampering past the first MiB is found mid-stream


def flip_byte(path: Path, offset: int) -> None:
    content = bytearray(path.read_bytes())
    content[offset] ^= 0x01
    path.write_bytes(bytes(content))


def swap_segments(path: Path, a: int, b: int) -> None:
    content = bytearray(path.read_bytes())
    first, second = slice(segment_offset(a), segment_offset(a + 1)), slice(segment_offset(b), segment_offset(b + 1))
    content[first], content[second] = content[second], content[first]
    path.write_bytes(bytes(content))


@pytest.mark.parametrize(
    ("size", "offset"),
    [
        (SMALL, 3),
        (SMALL, 10),
        (SMALL, segment_offset(1) + 100),
        (SMALL, segment_offset(3) + TAG),
        (SMALL, -1),
        (LARGE, segment_offset(20) + 100),
        (LARGE, -1),
    ],
    ids=["magic", "nonce-prefix", "segment", "last-segment", "last-tag", "late-segment", "late-last-tag"],
)
def test_a_flipped_byte_makes_get_fail(kinko, cos, rest_bucket, size, offset):
    stored = store(kinko, cos, rest_bucket, size)
    flip_byte(stored.blob, offset)
    assert verdict(cos, rest_bucket, stored) in DETECTED


@pytest.mark.parametrize("mode", ["sse-cos", "sse-kms", "sse-c"])
def test_a_flipped_byte_makes_get_of_an_encrypted_object_fail(kinko, cos, rest_bucket, mode):
    sse = {
        "sse-cos": {"ServerSideEncryption": "AES256"},
        "sse-kms": {"ServerSideEncryption": "cos/kms"},
        "sse-c": customer(SSE_C_KEY),
    }[mode]
    stored = store(kinko, cos, rest_bucket, SMALL, **sse)
    flip_byte(stored.blob, segment_offset(2) + 5)
    read = customer(SSE_C_KEY) if mode == "sse-c" else {}
    assert verdict(cos, rest_bucket, stored, **read) in DETECTED


@pytest.mark.parametrize(
    ("size", "length"),
    [
        (SMALL, segment_offset(2)),
        (SMALL, segment_offset(2) + 500),
        (SMALL, -1),
        (SMALL, HEADER),
        (LARGE, segment_offset(24)),
        (LARGE, -1),
    ],
    ids=["segment-boundary", "mid-segment", "last-byte", "header-only", "late-segment-boundary", "late-last-byte"],
)
def test_a_truncated_blob_makes_get_fail(kinko, cos, rest_bucket, size, length):
    stored = store(kinko, cos, rest_bucket, size)
    stored.blob.write_bytes(stored.blob.read_bytes()[:length])
    assert verdict(cos, rest_bucket, stored) in DETECTED


@pytest.mark.parametrize(
    ("size", "a", "b"),
    [(SMALL, 0, 1), (SMALL, 1, 2), (LARGE, 20, 21), (LARGE, 0, 30)],
    ids=["first-two", "middle", "late", "far-apart"],
)
def test_swapped_segments_make_get_fail(kinko, cos, rest_bucket, size, a, b):
    stored = store(kinko, cos, rest_bucket, size)
    swap_segments(stored.blob, a, b)
    assert verdict(cos, rest_bucket, stored) in DETECTED


@pytest.fixture
def swapped_pair(kinko, cos, rest_bucket) -> tuple[Stored, Stored]:
    """Two objects of the same size whose blob files were exchanged."""
    one = store(kinko, cos, rest_bucket, SMALL)
    two = store(kinko, cos, rest_bucket, SMALL)
    first, second = one.blob.read_bytes(), two.blob.read_bytes()
    one.blob.write_bytes(second)
    two.blob.write_bytes(first)
    return one, two


@pytest.mark.parametrize("which", [0, 1])
def test_swapped_files_of_two_same_size_objects_make_get_fail(cos, rest_bucket, swapped_pair, which):
    assert verdict(cos, rest_bucket, swapped_pair[which]) in DETECTED


def test_swapped_files_of_two_same_size_sse_cos_objects_make_get_fail(kinko, cos, rest_bucket):
    one = store(kinko, cos, rest_bucket, SMALL, ServerSideEncryption="AES256")
    two = store(kinko, cos, rest_bucket, SMALL, ServerSideEncryption="AES256")
    first, second = one.blob.read_bytes(), two.blob.read_bytes()
    one.blob.write_bytes(second)
    two.blob.write_bytes(first)
    assert verdict(cos, rest_bucket, one) in DETECTED


def test_a_ranged_get_of_a_tampered_segment_fails(kinko, cos, rest_bucket):
    stored = store(kinko, cos, rest_bucket, SMALL)
    flip_byte(stored.blob, segment_offset(2) + 5)
    with pytest.raises(CosServiceError) as err:
        cos.get_object(Bucket=rest_bucket, Key=stored.key, Range=f"bytes={2 * SEGMENT}-{2 * SEGMENT + 9}")
    assert err.value.get_status_code() == 500


def test_the_server_keeps_serving_after_a_tampered_read(kinko, cos, rest_bucket):
    stored = store(kinko, cos, rest_bucket, LARGE)
    flip_byte(stored.blob, segment_offset(20) + 100)
    verdict(cos, rest_bucket, stored)
    cos.put_object(Bucket=rest_bucket, Key="tamper/after", Body=b"still here")
    assert body_of(cos.get_object(Bucket=rest_bucket, Key="tamper/after")) == b"still here"


REQUEST_ID = r"\(request [A-Za-z0-9+/]{22}\)"


@pytest.mark.parametrize(("size", "segment"), [(SMALL, 2), (LARGE, 20)], ids=["before-the-response", "mid-stream"])
def test_a_tampered_read_logs_one_error_line_naming_the_object_and_request(kinko, cos, rest_bucket, size, segment):
    stored = store(kinko, cos, rest_bucket, size)
    flip_byte(stored.blob, segment_offset(segment) + 5)
    before = len(kinko.log())  # what earlier tests made the shared server log is theirs
    assert verdict(cos, rest_bucket, stored) in DETECTED
    cos.head_object(Bucket=rest_bucket, Key=stored.key)  # answered after the GET's lines were written
    written = kinko.log()[before:]
    lines = [line for line in written.splitlines() if stored.key in line and f'"GET /{stored.key}"' not in line]
    lines = [line for line in lines if " HEAD " not in line and f'"HEAD /{stored.key}"' not in line]
    assert len(lines) == 1, lines
    assert " ERROR " in lines[0] and ("integrity check" in lines[0] or "is corrupt" in lines[0]), lines
    assert rest_bucket in lines[0] and re.search(REQUEST_ID, lines[0]), lines
    assert "Traceback" not in written


def test_a_stored_blob_is_as_long_as_the_format_says(kinko, cos, rest_bucket):
    stored = store(kinko, cos, rest_bucket, SMALL)
    assert stored.blob.stat().st_size == HEADER + SMALL + 4 * TAG
