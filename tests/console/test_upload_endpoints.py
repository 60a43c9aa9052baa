"""The upload manager's console endpoints over HTTP (requests, as the panel's XHRs send them), each result confirmed
through qcloud_cos: one PUT, a multipart upload through initiate / part / complete, abort leaving nothing behind, the
gate and CSRF in front of every call, bad input answered 4xx with a reason in words, and a part's body streamed to
storage (the server's memory stays flat while 64 MiB go through)."""

import hashlib
import json
import os
import threading
import time
import uuid

import pytest
import requests
from qcloud_cos import CosS3Client
from tencentcloud.cam.v20190116 import cam_client
from tencentcloud.cam.v20190116 import models as cam_models
from tencentcloud.common import credential
from tencentcloud.common.profile.client_profile import ClientProfile
from tencentcloud.common.profile.http_profile import HttpProfile

from tests.console.test_console_gate import django_user, post, signed_in, unique
from tests.live import APPID, LiveKinko, cos_client, running_kinko
from tests.protocol.support import empty_and_delete, new_bucket

MIB = 1024 * 1024


def url(kinko: LiveKinko, bucket: str, kind: str, key: str = "") -> str:
    return f"{kinko.url}/buckets/{bucket}/uploads/{kind}/{key}"


def csrf(session: requests.Session) -> dict[str, str]:
    return {"X-CSRFToken": session.cookies["csrftoken"], "Referer": "http://127.0.0.1/"}


@pytest.fixture(scope="module")
def admin(kinko) -> requests.Session:
    session = signed_in(kinko, *django_user(kinko, superuser=True))
    session.get(f"{kinko.url}/buckets/", timeout=10)  # a page sets the CSRF cookie the panel reads
    return session


@pytest.fixture
def bucket(cos) -> str:
    name = new_bucket(cos)
    yield name
    for upload in cos.list_multipart_uploads(Bucket=name).get("Upload", []):
        cos.abort_multipart_upload(Bucket=name, Key=upload["Key"], UploadId=upload["UploadId"])
    empty_and_delete(cos, name)


def pending_uploads(cos: CosS3Client, bucket: str) -> list:
    return cos.list_multipart_uploads(Bucket=bucket).get("Upload", [])


def body_of(cos: CosS3Client, bucket: str, key: str) -> bytes:
    return cos.get_object(Bucket=bucket, Key=key)["Body"].get_raw_stream().read()


def initiate(session, kinko, bucket: str, key: str, **query) -> str:
    response = session.post(url(kinko, bucket, "multipart", key), params=query, headers=csrf(session), timeout=10)
    assert response.status_code == 201, response.text
    return response.json()["upload_id"]


def put_part(session, kinko, bucket: str, key: str, upload_id: str, number: int, body) -> requests.Response:
    return session.put(
        url(kinko, bucket, "part", key),
        params={"upload_id": upload_id, "part_number": number},
        data=body,
        headers=csrf(session),
        timeout=60,
    )


def complete(session, kinko, bucket: str, key: str, upload_id: str, etags: list[str]) -> requests.Response:
    parts = [{"part_number": n, "etag": etag} for n, etag in enumerate(etags, start=1)]
    return session.post(
        url(kinko, bucket, "complete", key),
        params={"upload_id": upload_id},
        json={"parts": parts},
        headers=csrf(session),
        timeout=30,
    )


# -- one PUT ---------------------------------------------------------------------------------------------------


def test_a_small_file_is_put_in_one_request_with_the_chosen_encryption(kinko, admin, cos, bucket):
    body = os.urandom(300_000)
    response = admin.put(
        url(kinko, bucket, "object", "docs/a b.bin"),
        params={"sse": "AES256"},
        data=body,
        headers={**csrf(admin), "Content-Type": "application/pdf"},
        timeout=10,
    )
    assert response.status_code == 201, response.text
    assert response.json()["sse"] == "AES256"
    head = cos.head_object(Bucket=bucket, Key="docs/a b.bin")
    assert head["x-cos-server-side-encryption"] == "AES256"
    assert head["Content-Type"] == "application/pdf"
    assert body_of(cos, bucket, "docs/a b.bin") == body


def test_existing_names_are_reported_before_an_upload_replaces_them(kinko, admin, cos, bucket):
    cos.put_object(Bucket=bucket, Key="here.txt", Body=b"1")
    response = admin.post(
        url(kinko, bucket, "existing"), json={"keys": ["here.txt", "not-here.txt"]}, headers=csrf(admin), timeout=10
    )
    assert response.status_code == 200, response.text
    assert response.json() == {"existing": ["here.txt"]}


# -- multipart -------------------------------------------------------------------------------------------------


def test_a_large_file_goes_up_in_parts_and_completes_as_a_multipart_object(kinko, admin, cos, bucket):
    parts = [os.urandom(MIB + 11), os.urandom(MIB), os.urandom(12345)]
    upload_id = initiate(admin, kinko, bucket, "big/file.bin", sse="AES256")
    assert [u["UploadId"] for u in pending_uploads(cos, bucket)] == [upload_id]
    etags = []
    for number, part in enumerate(parts, start=1):
        response = put_part(admin, kinko, bucket, "big/file.bin", upload_id, number, part)
        assert response.status_code == 200, response.text
        etags.append(response.json()["etag"])
    response = complete(admin, kinko, bucket, "big/file.bin", upload_id, etags)
    assert response.status_code == 200, response.text
    assert pending_uploads(cos, bucket) == []
    head = cos.head_object(Bucket=bucket, Key="big/file.bin")
    assert head["ETag"].strip('"').endswith("-3")
    assert head["x-cos-server-side-encryption"] == "AES256"
    assert body_of(cos, bucket, "big/file.bin") == b"".join(parts)


def test_aborting_frees_the_upload_and_a_later_part_is_refused_in_words(kinko, admin, cos, bucket):
    upload_id = initiate(admin, kinko, bucket, "gone.bin")
    assert put_part(admin, kinko, bucket, "gone.bin", upload_id, 1, os.urandom(MIB)).status_code == 200
    response = admin.delete(
        url(kinko, bucket, "multipart", "gone.bin"), params={"upload_id": upload_id}, headers=csrf(admin), timeout=10
    )
    assert response.status_code == 204, response.text
    assert pending_uploads(cos, bucket) == []
    late = put_part(admin, kinko, bucket, "gone.bin", upload_id, 2, b"late")
    assert late.status_code == 404
    assert late.json()["code"] == "NoSuchUpload"
    assert "cancelled" in late.json()["reason"]


# -- the gate, CSRF and signing in -----------------------------------------------------------------------------


def test_a_call_without_the_csrf_token_is_refused_and_stores_nothing(kinko, admin, cos, bucket):
    response = admin.post(url(kinko, bucket, "multipart", "x.bin"), headers={"Referer": kinko.url}, timeout=10)
    assert response.status_code == 403
    assert pending_uploads(cos, bucket) == []
    response = admin.put(url(kinko, bucket, "object", "x.bin"), data=b"x", timeout=10)
    assert response.status_code == 403
    assert cos.list_objects(Bucket=bucket).get("Contents", []) == []


def test_a_caller_who_is_not_signed_in_gets_a_json_refusal(kinko, bucket):
    session = requests.Session()
    session.get(f"{kinko.url}/login/", timeout=10)
    response = session.post(url(kinko, bucket, "multipart", "x.bin"), headers=csrf(session), timeout=10)
    assert response.status_code == 401
    assert response.json()["code"] == "NotSignedIn"


@pytest.fixture(scope="module")
def reader(kinko, admin) -> requests.Session:
    """A console sub-user whose policy allows listing and reading, but no write."""
    profile = ClientProfile(httpProfile=HttpProfile(protocol="http", endpoint=f"127.0.0.1:{kinko.port}"))
    cam = cam_client.CamClient(credential.Credential(kinko.secret_id, kinko.secret_key), "", profile)
    request = cam_models.CreatePolicyRequest()
    request.PolicyName = unique("uploads-read")
    request.PolicyDocument = json.dumps(
        {
            "version": "2.0",
            "statement": [
                {"effect": "allow", "action": ["name/cos:GetBucket", "name/cos:HeadObject"], "resource": "*"}
            ],
        }
    )
    cam.CreatePolicy(request)
    name, password = unique("ur"), f"S{uuid.uuid4().hex}!"
    response = post(admin, kinko, "/cam/users/", {"name": name, "password": password, "policies": [request.PolicyName]})
    assert response.status_code == 200 and name in response.text, response.text
    session = signed_in(kinko, f"{name}@{APPID}", password)
    session.get(f"{kinko.url}/buckets/", timeout=10)
    return session


@pytest.mark.parametrize("kind", ["object", "multipart"])
def test_a_sub_user_without_write_rights_is_refused_with_access_denied_in_words(kinko, reader, cos, bucket, kind):
    call = reader.put if kind == "object" else reader.post
    response = call(url(kinko, bucket, kind, "no.bin"), data=b"no", headers=csrf(reader), timeout=10)
    assert response.status_code == 403, response.text
    assert response.json()["code"] == "AuthFailure.UnauthorizedOperation"
    assert response.json()["reason"].startswith("Access denied")
    assert pending_uploads(cos, bucket) == []
    assert cos.list_objects(Bucket=bucket).get("Contents", []) == []


# -- bad input -------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "kind", "params", "body"),
    [
        ("put", "object", {"sse": "SSE-C"}, b"x"),
        ("put", "object", {"sse": "AES256", "kms_key_id": "k"}, b"x"),
        ("post", "multipart", {"kms_key_id": "k"}, b""),
        ("put", "part", {"upload_id": "nope", "part_number": "abc"}, b"x"),
        ("put", "part", {"upload_id": "nope", "part_number": "99999"}, b"x"),
        ("put", "part", {"upload_id": "nope", "part_number": "1"}, b"x"),
        ("post", "complete", {"upload_id": "nope"}, b"{}"),
        ("delete", "multipart", {"upload_id": ""}, b""),
    ],
)  # fmt: skip
def test_bad_input_is_a_4xx_with_a_reason_never_a_5xx(kinko, admin, bucket, method, kind, params, body):
    response = getattr(admin, method)(
        url(kinko, bucket, kind, "k.bin"), params=params, data=body, headers=csrf(admin), timeout=10
    )
    assert 400 <= response.status_code < 500, response.text
    assert response.json()["reason"], response.text


@pytest.mark.parametrize(
    "body", [b"not json", b"[]", b'{"parts": "x"}', b'{"parts": [{"part_number": true}]}', b'{"parts": []}']
)
def test_a_malformed_completion_is_refused_and_the_upload_stays(kinko, admin, cos, bucket, body):
    upload_id = initiate(admin, kinko, bucket, "c.bin")
    response = admin.post(
        url(kinko, bucket, "complete", "c.bin"),
        params={"upload_id": upload_id},
        data=body,
        headers={**csrf(admin), "Content-Type": "application/json"},
        timeout=10,
    )
    assert response.status_code == 400, response.text
    assert [u["UploadId"] for u in pending_uploads(cos, bucket)] == [upload_id]


def test_an_unknown_bucket_is_no_such_bucket(kinko, admin):
    response = admin.put(
        url(kinko, f"nope{uuid.uuid4().hex[:8]}-{APPID}", "object", "k"), data=b"x", headers=csrf(admin), timeout=10
    )
    assert response.status_code == 404
    assert response.json()["code"] == "NoSuchBucket"


# -- memory stays flat -----------------------------------------------------------------------------------------


class Pattern:
    """`size` deterministic bytes, made as they are read (never held whole). As a file (it has `len`), requests
    sends it with a Content-Length, as a browser sends a slice; as an iterator, chunked."""

    def __init__(self, size: int, seed: int) -> None:
        self.size = self.len = size
        self.sent = 0
        self.block = hashlib.sha256(str(seed).encode()).digest() * 2048  # 64 KiB

    def read(self, amount: int = -1) -> bytes:
        amount = self.size - self.sent if amount is None or amount < 0 else min(amount, self.size - self.sent)
        out = bytearray()
        while len(out) < amount:
            offset = (self.sent + len(out)) % len(self.block)
            out += self.block[offset : offset + amount - len(out)]
        self.sent += len(out)
        return bytes(out)

    def __iter__(self):
        while chunk := self.read(256 * 1024):
            yield chunk


def tree_rss_kib(root: int) -> int:
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as stat:
                    children.setdefault(int(stat.read().rpartition(")")[2].split()[1]), []).append(int(entry))
            except OSError:
                continue
    total, todo = 0, [root]
    while todo:
        pid = todo.pop()
        todo.extend(children.get(pid, []))
        try:
            with open(f"/proc/{pid}/status") as status:
                total += next((int(line.split()[1]) for line in status if line.startswith("VmRSS:")), 0)
        except OSError:
            continue
    return total


def server_pid(port: int) -> int:
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/cmdline", "rb") as cmdline:
                    args = cmdline.read().split(b"\0")
            except OSError:
                continue
            if b"serve" in args and str(port).encode() in args:
                return int(entry)
    raise AssertionError(f"no server process for port {port}")


@pytest.fixture(scope="module")
def lone_kinko(tmp_path_factory):
    """A server of its own (one worker), so its memory is this test's alone."""
    with running_kinko(tmp_path_factory.mktemp("uploads-memory"), https=False, workers=1, threads=2) as server:
        yield server


def test_parts_are_streamed_to_storage_so_the_servers_memory_stays_flat(lone_kinko):
    kinko = lone_kinko
    cos = cos_client(kinko)
    bucket = new_bucket(cos)
    session = signed_in(kinko, *django_user(kinko, superuser=True))
    session.get(f"{kinko.url}/buckets/", timeout=10)
    # Warm up: the first upload imports and caches what every later one uses.
    warm = initiate(session, kinko, bucket, "warm.bin", sse="AES256")
    assert put_part(session, kinko, bucket, "warm.bin", warm, 1, Pattern(2 * MIB, 0)).status_code == 200
    root = server_pid(kinko.port)
    time.sleep(0.5)
    start = tree_rss_kib(root)
    peak = [start]
    done = threading.Event()

    def sample() -> None:
        while not done.wait(0.05):
            peak[0] = max(peak[0], tree_rss_kib(root))

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    upload_id = initiate(session, kinko, bucket, "flat.bin", sse="AES256")
    # Part 1 with a Content-Length (as the panel's XHR sends a Blob slice), part 2 chunked.
    bodies = [Pattern(32 * MIB, 1), iter(Pattern(32 * MIB, 2))]
    etags = []
    for number, body in enumerate(bodies, start=1):
        response = put_part(session, kinko, bucket, "flat.bin", upload_id, number, body)
        assert response.status_code == 200, response.text
        etags.append(response.json()["etag"])
    assert complete(session, kinko, bucket, "flat.bin", upload_id, etags).status_code == 200
    done.set()
    sampler.join()
    growth_mib = (peak[0] - start) / 1024
    # A part read whole would hold 32 MiB (and a copy) at once; streamed, the server holds a few chunks.
    assert growth_mib < 16, f"server RSS grew {growth_mib:.1f} MiB while 64 MiB of parts went through"
    stored, expected = hashlib.md5(), hashlib.md5()
    stream = cos.get_object(Bucket=bucket, Key="flat.bin")["Body"].get_raw_stream()
    while chunk := stream.read(MIB):
        stored.update(chunk)
    for seed in (1, 2):
        expected.update(b"".join(Pattern(32 * MIB, seed)))
    assert stored.hexdigest() == expected.hexdigest()
    cos.delete_object(Bucket=bucket, Key="flat.bin")
    cos.abort_multipart_upload(Bucket=bucket, Key="warm.bin", UploadId=warm)
    cos.delete_bucket(Bucket=bucket)


# -- the panel is offered only to those who may upload ---------------------------------------------------------


def test_the_upload_panel_is_offered_only_to_a_principal_who_may_put_objects(kinko, admin, reader, bucket):
    page = admin.get(f"{kinko.url}/buckets/{bucket}/", timeout=10)
    assert page.status_code == 200
    assert 'id="upload-files"' in page.text and 'id="upload-refused"' not in page.text
    page = reader.get(f"{kinko.url}/buckets/{bucket}/", timeout=10)
    assert page.status_code == 200, page.text
    assert 'id="upload-files"' not in page.text
    assert "do not allow uploads into this folder" in page.text
