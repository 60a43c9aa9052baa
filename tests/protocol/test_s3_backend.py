"""A live node whose blobs live on an S3-compatible store (KINKO_BLOB_BACKEND=s3, SeaweedFS on loopback), driven
by the real COS SDK: every SSE mode round-trips (PUT, GET, ranged GET, HEAD, list, delete), multipart Complete
writes no data on the backend, copy works, the store holds no plaintext, and a store that is down is a 503 with the
request id, never a partial object."""

import base64
import hashlib
import os
import uuid

import pytest
from qcloud_cos import CosServiceError

from tests.live import APPID, REGION, cos_client, manage_py, running_kinko
from tests.protocol.support import MiB, body_of
from tests.seaweed import Outage

SEGMENT = 64 * 1024
ENSURE_COS_ROLE = "from roles import service; service.ensure_cos_service_role(service.root_account())"
SSE_C_KEY = os.urandom(32)
CUSTOMER = {
    "SSECustomerAlgorithm": "AES256",
    "SSECustomerKey": base64.b64encode(SSE_C_KEY).decode(),
    "SSECustomerKeyMD5": base64.b64encode(hashlib.md5(SSE_C_KEY).digest()).decode(),
}
MODES = {
    "plain": {},
    "sse-cos": {"ServerSideEncryption": "AES256"},
    "sse-kms": {"ServerSideEncryption": "cos/kms"},
    "sse-c": CUSTOMER,
}
MARKER = f"<plaintext marker {uuid.uuid4().hex}>".encode()


def marked(size: int) -> bytes:
    return (MARKER * (size // len(MARKER) + 1))[:size]


def prepare_kms(env: dict[str, str]) -> None:
    manage_py(env, "activate_kms", "--json")
    manage_py(env, "shell", "-c", ENSURE_COS_ROLE)


@pytest.fixture(scope="module")
def store_bucket(seaweed) -> str:
    return seaweed.new_bucket()


@pytest.fixture(scope="module")
def outage(seaweed) -> Outage:
    return Outage(seaweed.endpoint)


@pytest.fixture(scope="module")
def node(tmp_path_factory, seaweed, store_bucket, outage):
    """A node reaching the store through `outage`, so a test can take the store away."""
    env = {"KINKO_SSE_C_ALLOW_HTTP": "true", **seaweed.env(store_bucket, "node/")}
    env["KINKO_BLOB_S3_ENDPOINT"] = outage.endpoint
    data_dir = tmp_path_factory.mktemp("kinko-s3")
    with running_kinko(data_dir, env=env, https=False, workers=1, prepare=prepare_kms) as server:
        yield server


@pytest.fixture(scope="module")
def s3cos(node):
    return cos_client(node)


@pytest.fixture(scope="module")
def bucket(s3cos) -> str:
    name = f"s3b{uuid.uuid4().hex[:10]}-{APPID}"
    s3cos.create_bucket(Bucket=name)
    return name


def backend_keys(seaweed, store_bucket) -> set[str]:
    return {key for key, _ in seaweed.objects(store_bucket)}


@pytest.mark.parametrize("mode", list(MODES))
def test_every_sse_mode_round_trips_through_the_s3_backend(s3cos, bucket, mode):
    sse = MODES[mode]
    read = CUSTOMER if mode == "sse-c" else {}
    key = f"modes/{mode}.bin"
    data = marked(3 * SEGMENT + 123)
    s3cos.put_object(Bucket=bucket, Key=key, Body=data, **sse)
    assert body_of(s3cos.get_object(Bucket=bucket, Key=key, **read)) == data
    ranged = s3cos.get_object(Bucket=bucket, Key=key, Range=f"bytes={SEGMENT - 5}-{2 * SEGMENT + 5}", **read)
    assert body_of(ranged) == data[SEGMENT - 5 : 2 * SEGMENT + 6]
    assert int(s3cos.head_object(Bucket=bucket, Key=key, **read)["Content-Length"]) == len(data)
    listed = s3cos.list_objects(Bucket=bucket, Prefix="modes/")
    assert key in {item["Key"] for item in listed["Contents"]}
    s3cos.delete_object(Bucket=bucket, Key=key)
    with pytest.raises(CosServiceError) as missing:
        s3cos.head_object(Bucket=bucket, Key=key, **read)
    assert missing.value.get_status_code() == 404


@pytest.mark.parametrize("mode", ["sse-cos", "sse-c"])
def test_multipart_complete_writes_no_data_on_the_backend(s3cos, bucket, seaweed, store_bucket, mode):
    sse = MODES[mode]
    read = CUSTOMER if mode == "sse-c" else {}
    key = f"mp/{mode}"
    first, second = marked(MiB), marked(1000)
    upload_id = s3cos.create_multipart_upload(Bucket=bucket, Key=key, **sse)["UploadId"]
    parts = [
        s3cos.upload_part(Bucket=bucket, Key=key, Body=body, PartNumber=number, UploadId=upload_id, **read)
        for number, body in ((1, first), (2, second))
    ]
    before = backend_keys(seaweed, store_bucket)
    listed = {"Part": [{"PartNumber": n, "ETag": part["ETag"]} for n, part in enumerate(parts, start=1)]}
    s3cos.complete_multipart_upload(Bucket=bucket, Key=key, UploadId=upload_id, MultipartUpload=listed)
    assert backend_keys(seaweed, store_bucket) == before  # the parts are the object's segments, as they are
    assert body_of(s3cos.get_object(Bucket=bucket, Key=key, **read)) == first + second
    span = f"bytes={MiB - 10}-{MiB + 9}"  # across the two parts
    assert (
        body_of(s3cos.get_object(Bucket=bucket, Key=key, Range=span, **read)) == (first + second)[MiB - 10 : MiB + 10]
    )


def test_copy_reencrypts_onto_the_s3_backend(s3cos, bucket):
    data = marked(200_000)
    s3cos.put_object(Bucket=bucket, Key="copy/source", Body=data, **CUSTOMER)
    source = {"Bucket": bucket, "Key": "copy/source", "Region": REGION}
    copy_source_key = {f"CopySource{name}": value for name, value in CUSTOMER.items()}
    s3cos.copy_object(
        Bucket=bucket, Key="copy/target", CopySource=source, ServerSideEncryption="AES256", **copy_source_key
    )
    assert body_of(s3cos.get_object(Bucket=bucket, Key="copy/target")) == data


def test_the_s3_backend_and_the_data_dir_hold_no_plaintext(node, s3cos, bucket, seaweed, store_bucket):
    for mode, sse in MODES.items():
        s3cos.put_object(Bucket=bucket, Key=f"scan/{mode}", Body=marked(200_000), **sse)
    stored = dict(seaweed.objects(store_bucket))
    assert len([key for key in stored if key.startswith("node/blobs/")]) >= len(MODES)
    assert [key for key, body in stored.items() if MARKER in body] == []
    assert [str(path) for path, raw in seaweed.raw_files() if MARKER in raw] == []
    local_blobs = [p for p in (node.data_dir / "objects").rglob("*") if p.is_file()]
    assert local_blobs == [], "with the s3 backend no blob is written to the local disk"


# -- a store that is down ----------------------------------------------------------------------------------------


def test_a_store_outage_is_a_503_with_the_request_id_and_never_a_partial_object(node, s3cos, bucket, outage):
    s3cos.put_object(Bucket=bucket, Key="outage/before", Body=b"stored before the outage")
    outage.cut()
    try:
        for attempt in range(2):
            with pytest.raises(CosServiceError) as failed:
                s3cos.put_object(Bucket=bucket, Key=f"outage/k{attempt}", Body=marked(100_000))
            assert (failed.value.get_status_code(), failed.value.get_error_code()) == (503, "ServiceUnavailable")
            assert failed.value.get_request_id()
        with pytest.raises(CosServiceError) as failed:
            s3cos.get_object(Bucket=bucket, Key="outage/before")
        assert (failed.value.get_status_code(), failed.value.get_error_code()) == (503, "ServiceUnavailable")
    finally:
        outage.restore()
    listed = s3cos.list_objects(Bucket=bucket, Prefix="outage/").get("Contents", [])
    assert [item["Key"] for item in listed] == ["outage/before"]  # never a partial object
    assert body_of(s3cos.get_object(Bucket=bucket, Key="outage/before")) == b"stored before the outage"
    log = node.log()
    assert log.count("blob backend:") == 2, log  # the failure once, then that it answers again
    assert "answering again" in log
    assert "Traceback" not in log
