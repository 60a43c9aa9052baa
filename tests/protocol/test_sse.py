"""Server-side encryption over the real SDK against the live server (seed cos-server-side-encryption, spec §4 and
§8 items 25-32, PRODUCT.md error contract): every write and read path in every SSE mode, byte-exact, with the echo
headers, ETag and CRC64 rules; the refusals with their exact codes; copy re-keying; bucket default encryption;
anonymous access; listings; and SSE-COS master-key rotation."""

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

import pytest
import requests
from qcloud_cos import CosS3Client, CosServiceError
from qcloud_cos.cos_comm import mapped
from tencentcloud.cam.v20190116 import cam_client
from tencentcloud.cam.v20190116 import models as cam_models
from tencentcloud.common import credential
from tencentcloud.common.exception.tencent_cloud_sdk_exception import TencentCloudSDKException
from tencentcloud.common.profile.client_profile import ClientProfile
from tencentcloud.common.profile.http_profile import HttpProfile
from tencentcloud.kms.v20190118 import kms_client
from tencentcloud.kms.v20190118 import models as kms_models

from tests.live import REGION, LiveKinko, cos_client, manage_py, node_env, running_kinko
from tests.protocol import wire
from tests.protocol.support import (
    MiB,
    anonymous,
    body_of,
    crc64ecma,
    empty_and_delete,
    error_code,
    new_bucket,
    object_url,
    proxies,
    service_error,
)

SSE = "x-cos-server-side-encryption"
KMS_KEY_ID = "x-cos-server-side-encryption-cos-kms-key-id"
CUSTOMER_ALGORITHM = "x-cos-server-side-encryption-customer-algorithm"
CUSTOMER_KEY_MD5 = "x-cos-server-side-encryption-customer-key-MD5"
COS_ROLE = "COS_QcsRole"
COS_ROLE_POLICY = "QcloudKMSAccessForCOSRole"
ENSURE_COS_ROLE = "from roles import service; service.ensure_cos_service_role(service.root_account())"
SINGAPORE = "ap-singapore"

KEY1 = b"01234567890123456789012345678901"  # the SDK tests' example key (spec §4.1)
KEY2 = hashlib.sha256(b"kinko second customer key").digest()
CONTEXT = {"purpose": "sse-tests", "team": "kinko"}
DATA = os.urandom(3 * 65536 + 4321)  # four segments at rest
RANGE = (65530, 131080)  # crosses two segment boundaries
BIG = os.urandom(3 * MiB + 1234)  # upload_file with PartSize=1: four parts


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def md5_hex(data: bytes) -> str:
    return hashlib.md5(data).hexdigest()


def customer(key: bytes) -> dict[str, str]:
    """The SSE-C trio as SDK kwargs (the SDK leaves the base64 and the MD5 to the caller, spec §8 item 26)."""
    return {
        "SSECustomerAlgorithm": "AES256",
        "SSECustomerKey": b64(key),
        "SSECustomerKeyMD5": b64(hashlib.md5(key).digest()),
    }


def copy_source_customer(key: bytes) -> dict[str, str]:
    return {"CopySource" + name: value for name, value in customer(key).items()}


def sse_headers(headers) -> dict[str, str]:
    """The SSE response headers, with the exact spelling the server used."""
    return {name: value for name, value in dict(headers).items() if name.lower().startswith(SSE)}


def etag_kind(etag: str, data: bytes) -> str:
    """md5 when the ETag is the plaintext's MD5, opaque when it is any other 32 hex digits."""
    value = etag.strip('"')
    if value == md5_hex(data):
        return "md5"
    return "opaque" if re.fullmatch(r"[0-9a-f]{32}", value) else f"malformed: {etag}"


def failure(call, *args, **kwargs) -> CosServiceError:
    with pytest.raises(CosServiceError) as err:
        call(*args, **kwargs)
    return err.value


def refusal(call, *args, **kwargs) -> tuple[int, str]:
    return service_error(failure(call, *args, **kwargs))


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


@dataclass(frozen=True)
class Mode:
    name: str
    write: dict  # SDK kwargs asking for the mode (PUT, Initiate, copy destination)
    read: dict  # SDK kwargs a GET / HEAD / Upload Part of such an object needs
    echo: dict  # the response headers of spec §4.3
    etag: str  # "md5" (SSE-COS) or "opaque" (SSE-KMS, SSE-C), spec §4.4

    @property
    def copy_source(self) -> dict:
        return {"CopySource" + name: value for name, value in self.read.items()}

    @property
    def form_fields(self) -> list[tuple[str, str]]:
        """The same request as POST form fields (the seed: fields instead of headers)."""
        return list(mapped(dict(self.write)).items())

    @property
    def complete_echo(self) -> dict:
        """Complete carries no SSE-C key; it echoes the algorithm (spec §4.3)."""
        if CUSTOMER_ALGORITHM in self.echo:
            return {CUSTOMER_ALGORITHM: "AES256"}
        return self.echo


PLAIN = Mode("plain", {}, {}, {}, "md5")
MODES = ["sse-cos", "sse-kms", "sse-kms-key-context", "sse-c"]


# -- KMS, CAM and the COS service role -------------------------------------------------------------------------


def api_profile(server: LiveKinko) -> ClientProfile:
    return ClientProfile(httpProfile=HttpProfile(protocol="http", endpoint=f"127.0.0.1:{server.port}"))


def kms_for(server: LiveKinko) -> kms_client.KmsClient:
    return kms_client.KmsClient(credential.Credential(server.secret_id, server.secret_key), REGION, api_profile(server))


def cam_for(server: LiveKinko) -> cam_client.CamClient:
    return cam_client.CamClient(credential.Credential(server.secret_id, server.secret_key), "", api_profile(server))


def api_call(client, models, action: str, **params) -> dict:
    request = getattr(models, f"{action}Request")()
    request.from_json_string(json.dumps(params))
    return json.loads(getattr(client, action)(request).to_json_string())


def kms_call(kms: kms_client.KmsClient, action: str, **params) -> dict:
    return api_call(kms, kms_models, action, **params)


def kms_failure(kms: kms_client.KmsClient, action: str, **params) -> str:
    with pytest.raises(TencentCloudSDKException) as err:
        kms_call(kms, action, **params)
    return err.value.code


def cam_call(cam: cam_client.CamClient, action: str, **params) -> dict:
    return api_call(cam, cam_models, action, **params)


def server_env(server: LiveKinko) -> dict:
    return node_env(server.data_dir)


def activate_kms(server: LiveKinko) -> dict[str, str]:
    return json.loads(manage_py(server_env(server), "activate_kms", "--json"))["DefaultKeys"]


def ensure_cos_role(server: LiveKinko) -> None:
    manage_py(server_env(server), "shell", "-c", ENSURE_COS_ROLE)


def cos_role_is_usable(cam: cam_client.CamClient) -> bool:
    try:
        attached = cam_call(cam, "ListAttachedRolePolicies", RoleName=COS_ROLE, Page=1, Rp=50)["List"]
    except TencentCloudSDKException as exc:
        if exc.code != "InvalidParameter.RoleNotExist":
            raise
        return False
    return COS_ROLE_POLICY in {policy["PolicyName"] for policy in attached}


@pytest.fixture(scope="module")
def default_keys(kinko) -> dict[str, str]:
    """The session server's KMS, activated (idempotent: another module may have done it)."""
    return activate_kms(kinko)


@pytest.fixture(scope="module")
def kms(kinko, default_keys) -> kms_client.KmsClient:
    return kms_for(kinko)


@pytest.fixture(scope="module")
def cam(kinko) -> cam_client.CamClient:
    return cam_for(kinko)


@pytest.fixture(scope="module")
def module_cos_role(kinko) -> None:
    """COS_QcsRole with QcloudKMSAccessForCOSRole, as the seed's console steps make it, for this module's fixtures."""
    ensure_cos_role(kinko)


@pytest.fixture(autouse=True)
def cos_role(kinko, cam, module_cos_role) -> None:
    """Re-ensure COS_QcsRole before each test: the CAM tests delete it, and so do some tests here."""
    if not cos_role_is_usable(cam):
        ensure_cos_role(kinko)


@pytest.fixture(scope="module")
def cmk(kms) -> str:
    """A customer-created CMK that stays enabled."""
    return kms_call(kms, "CreateKey", Alias=unique("sse"))["KeyId"]


@pytest.fixture(scope="module")
def modes(default_keys, cmk) -> dict[str, Mode]:
    default_key = default_keys[REGION]
    md5_1 = b64(hashlib.md5(KEY1).digest())
    return {
        "sse-cos": Mode("sse-cos", {"ServerSideEncryption": "AES256"}, {}, {SSE: "AES256"}, "md5"),
        "sse-kms": Mode(
            "sse-kms", {"ServerSideEncryption": "cos/kms"}, {}, {SSE: "cos/kms", KMS_KEY_ID: default_key}, "opaque"
        ),
        "sse-kms-key-context": Mode(
            "sse-kms-key-context",
            {"ServerSideEncryption": "cos/kms", "SSEKMSKeyId": cmk, "SSEKMSContext": b64(json.dumps(CONTEXT).encode())},
            {},
            {SSE: "cos/kms", KMS_KEY_ID: cmk},
            "opaque",
        ),
        "sse-c": Mode(
            "sse-c", customer(KEY1), customer(KEY1), {CUSTOMER_ALGORITHM: "AES256", CUSTOMER_KEY_MD5: md5_1}, "opaque"
        ),
    }


@pytest.fixture(scope="module", params=MODES)
def mode(request, modes) -> Mode:
    return modes[request.param]


@pytest.fixture(scope="module")
def sse_bucket(cos, module_cos_role) -> str:
    """One bucket for the matrix (deleted with its objects and uploads at the end)."""
    name = new_bucket(cos)
    yield name
    empty_and_delete(cos, name)


# -- a POST form, signed as spec §2.7 says ------------------------------------------------------------------------


def post_form(server: LiveKinko, bucket: str, key: str, fields: list[tuple[str, str]], data: bytes):
    now = int(time.time())
    key_time = f"{now - 60};{now + 3600}"
    expiration = (datetime.now(UTC) + timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%S.000Z")
    policy = json.dumps({"expiration": expiration, "conditions": [{"bucket": bucket}, ["starts-with", "$key", ""]]})
    sign_key = hmac.new(server.secret_key.encode(), key_time.encode(), hashlib.sha1).hexdigest()
    signature = hmac.new(sign_key.encode(), hashlib.sha1(policy.encode()).hexdigest().encode(), hashlib.sha1)
    form = [
        ("key", key),
        ("policy", b64(policy.encode())),
        ("q-sign-algorithm", "sha1"),
        ("q-ak", server.secret_id),
        ("q-key-time", key_time),
        ("q-signature", signature.hexdigest()),
        *fields,
    ]
    files = [(name, (None, value)) for name, value in form] + [("file", ("upload.bin", data, "text/plain"))]
    return requests.post(object_url(bucket), files=files, proxies=proxies(server), timeout=30, allow_redirects=False)


# -- the matrix: every write and read path in every mode ---------------------------------------------------------


@dataclass
class Written:
    key: str
    data: bytes
    headers: dict


@pytest.fixture(scope="module")
def put(cos, sse_bucket, mode) -> Written:
    key = f"{mode.name}/put.bin"
    return Written(key, DATA, cos.put_object(Bucket=sse_bucket, Key=key, Body=DATA, **mode.write))


@pytest.fixture(scope="module")
def got(cos, sse_bucket, mode, put) -> dict:
    result = cos.get_object(Bucket=sse_bucket, Key=put.key, **mode.read)
    result["body"] = body_of(result)
    return result


@pytest.fixture(scope="module")
def ranged(cos, sse_bucket, mode, put) -> dict:
    first, last = RANGE
    result = cos.get_object(Bucket=sse_bucket, Key=put.key, Range=f"bytes={first}-{last}", **mode.read)
    result["body"] = body_of(result)
    return result


@pytest.fixture(scope="module")
def head(cos, sse_bucket, mode, put) -> dict:
    return cos.head_object(Bucket=sse_bucket, Key=put.key, **mode.read)


@pytest.fixture(scope="module")
def posted(kinko, sse_bucket, mode) -> Written:
    key = f"{mode.name}/posted.bin"
    response = post_form(kinko, sse_bucket, key, mode.form_fields, DATA)
    assert response.status_code == 204, response.content
    return Written(key, DATA, dict(response.headers))


@pytest.fixture(scope="module")
def uploaded(cos, sse_bucket, mode, tmp_path_factory) -> Written:
    """upload_file of a four-part file (PartSize=1): Initiate, Upload Part ×4 with the mode's trio, Complete."""
    path = tmp_path_factory.mktemp("upload") / "big.bin"
    path.write_bytes(BIG)
    key = f"{mode.name}/uploaded.bin"
    return Written(
        key, BIG, cos.upload_file(Bucket=sse_bucket, Key=key, LocalFilePath=str(path), PartSize=1, **mode.write)
    )


@dataclass
class RawUpload:
    key: str
    data: bytes
    initiate: requests.Response
    parts: list[dict]
    complete: dict


@pytest.fixture(scope="module")
def raw_upload(kinko, cos, sse_bucket, mode) -> RawUpload:
    """Initiate signed by the SDK's signer (the SDK hides its headers), then the SDK's upload_part and complete."""
    key = f"{mode.name}/raw-multipart.bin"
    first, second = os.urandom(MiB), os.urandom(1000)
    initiate = wire.send(kinko, cos, "POST", sse_bucket, key, params={"uploads": ""}, headers=mapped(dict(mode.write)))
    assert initiate.status_code == 200, initiate.content
    upload_id = re.search(rb"<UploadId>([^<]+)</UploadId>", initiate.content).group(1).decode()
    parts = [
        cos.upload_part(Bucket=sse_bucket, Key=key, Body=body, PartNumber=number, UploadId=upload_id, **mode.read)
        for number, body in ((1, first), (2, second))
    ]
    listed = {"Part": [{"PartNumber": n, "ETag": part["ETag"]} for n, part in enumerate(parts, start=1)]}
    complete = cos.complete_multipart_upload(Bucket=sse_bucket, Key=key, UploadId=upload_id, MultipartUpload=listed)
    return RawUpload(
        key, first + second, initiate, [{"data": first, **parts[0]}, {"data": second, **parts[1]}], complete
    )


@pytest.fixture(scope="module")
def plain_source(cos, sse_bucket) -> Written:
    key = "plain/source.bin"
    return Written(key, DATA, cos.put_object(Bucket=sse_bucket, Key=key, Body=DATA))


@pytest.fixture(scope="module")
def copied(cos, sse_bucket, mode, plain_source) -> Written:
    """copy_object of a plain source into the mode."""
    key = f"{mode.name}/copied-from-plain.bin"
    source = {"Bucket": sse_bucket, "Key": plain_source.key, "Region": REGION}
    return Written(key, DATA, cos.copy_object(Bucket=sse_bucket, Key=key, CopySource=source, **mode.write))


@pytest.fixture(scope="module")
def copied_encrypted(cos, sse_bucket, mode, put) -> Written:
    """copy_object of an object in the mode into the mode (SSE-C: the copy-source trio too)."""
    key = f"{mode.name}/copied-from-encrypted.bin"
    source = {"Bucket": sse_bucket, "Key": put.key, "Region": REGION}
    response = cos.copy_object(Bucket=sse_bucket, Key=key, CopySource=source, **mode.copy_source, **mode.write)
    return Written(key, DATA, response)


@pytest.fixture(scope="module")
def helper_copied(cos_proxy, sse_bucket, mode, put) -> Written:
    """The copy() helper in proxy mode: HEAD of the source (SSE-C: with the trio), then copy_object."""
    key = f"{mode.name}/copy-helper.bin"
    source = {"Bucket": sse_bucket, "Key": put.key, "Region": REGION}
    return Written(
        key, DATA, cos_proxy.copy(Bucket=sse_bucket, Key=key, CopySource=source, **mode.copy_source, **mode.write)
    )


def read_back(cos: CosS3Client, bucket: str, key: str, mode: Mode) -> bytes:
    return body_of(cos.get_object(Bucket=bucket, Key=key, **mode.read))


# PUT Object


def test_put_object_echoes_the_sse_headers(mode, put):
    assert sse_headers(put.headers) == mode.echo


def test_put_object_etag_is_the_md5_only_for_sse_cos(mode, put):
    assert etag_kind(put.headers["ETag"], put.data) == mode.etag


def test_put_object_reports_the_crc64_of_the_plaintext(put):
    assert put.headers["x-cos-hash-crc64ecma"] == crc64ecma(put.data)


# GET Object


def test_get_object_returns_the_plaintext(got, put):
    assert got["body"] == put.data


def test_get_object_echoes_the_sse_headers(mode, got):
    assert sse_headers(got) == mode.echo


def test_get_object_reports_the_crc64_of_the_plaintext(got, put):
    assert got["x-cos-hash-crc64ecma"] == crc64ecma(put.data)


def test_get_object_reports_the_etag_put_returned(got, put):
    assert got["ETag"] == put.headers["ETag"]


# ranged GET Object


def test_ranged_get_returns_the_plaintext_range(ranged, put):
    first, last = RANGE
    assert ranged["body"] == put.data[first : last + 1]


def test_ranged_get_reports_the_content_range(ranged, put):
    first, last = RANGE
    assert ranged["Content-Range"] == f"bytes {first}-{last}/{len(put.data)}"


def test_ranged_get_echoes_the_sse_headers(mode, ranged):
    assert sse_headers(ranged) == mode.echo


@pytest.mark.parametrize(("first", "last"), [(0, 0), (65535, 65536), (len(DATA) - 1, len(DATA) - 1)])
def test_ranged_get_at_a_segment_boundary_returns_the_plaintext_range(cos, sse_bucket, mode, put, first, last):
    result = cos.get_object(Bucket=sse_bucket, Key=put.key, Range=f"bytes={first}-{last}", **mode.read)
    assert body_of(result) == put.data[first : last + 1]


# HEAD Object


def test_head_object_echoes_the_sse_headers(mode, head):
    assert sse_headers(head) == mode.echo


def test_head_object_reports_the_plaintext_length(head, put):
    assert head["Content-Length"] == str(len(put.data))


def test_head_object_reports_the_crc64_of_the_plaintext(head, put):
    assert head["x-cos-hash-crc64ecma"] == crc64ecma(put.data)


# POST Object


def test_post_object_echoes_the_sse_headers(mode, posted):
    assert sse_headers(posted.headers) == mode.echo


def test_post_object_etag_is_the_md5_only_for_sse_cos(mode, posted):
    assert etag_kind(posted.headers["ETag"], posted.data) == mode.etag


def test_post_object_stores_the_plaintext(cos, sse_bucket, mode, posted):
    assert read_back(cos, sse_bucket, posted.key, mode) == posted.data


def test_post_object_reads_back_with_the_sse_headers(cos, sse_bucket, mode, posted):
    assert sse_headers(cos.head_object(Bucket=sse_bucket, Key=posted.key, **mode.read)) == mode.echo


def test_post_object_reports_the_crc64_of_the_plaintext(cos, sse_bucket, mode, posted):
    head = cos.head_object(Bucket=sse_bucket, Key=posted.key, **mode.read)
    assert head["x-cos-hash-crc64ecma"] == crc64ecma(posted.data)


# multipart through upload_file


def test_upload_file_complete_echoes_the_sse_headers(mode, uploaded):
    assert {name: uploaded.headers.get(name) for name in mode.complete_echo} == mode.complete_echo


def test_upload_file_stores_the_plaintext(cos, sse_bucket, mode, uploaded):
    assert read_back(cos, sse_bucket, uploaded.key, mode) == uploaded.data


def test_upload_file_object_reports_the_crc64_of_the_whole_plaintext(cos, sse_bucket, mode, uploaded):
    head = cos.head_object(Bucket=sse_bucket, Key=uploaded.key, **mode.read)
    assert head["x-cos-hash-crc64ecma"] == crc64ecma(uploaded.data)


def test_upload_file_object_echoes_the_sse_headers_on_head(cos, sse_bucket, mode, uploaded):
    assert sse_headers(cos.head_object(Bucket=sse_bucket, Key=uploaded.key, **mode.read)) == mode.echo


def test_upload_file_object_ranged_get_across_parts_returns_the_plaintext(cos, sse_bucket, mode, uploaded):
    first, last = MiB - 10, MiB + 10
    result = cos.get_object(Bucket=sse_bucket, Key=uploaded.key, Range=f"bytes={first}-{last}", **mode.read)
    assert body_of(result) == uploaded.data[first : last + 1]


def test_download_file_with_crc_check_returns_the_plaintext(cos, sse_bucket, mode, uploaded, tmp_path):
    target = tmp_path / "downloaded.bin"
    cos.download_file(
        Bucket=sse_bucket, Key=uploaded.key, DestFilePath=str(target), PartSize=1, EnableCRC=True, **mode.read
    )
    assert target.read_bytes() == uploaded.data


def test_download_file_with_crc_check_of_a_single_put_object_returns_the_plaintext(
    cos, sse_bucket, mode, put, tmp_path
):
    target = tmp_path / "downloaded.bin"
    cos.download_file(Bucket=sse_bucket, Key=put.key, DestFilePath=str(target), EnableCRC=True, **mode.read)
    assert target.read_bytes() == put.data


# multipart through create / upload_part / complete


def test_initiate_multipart_upload_echoes_the_sse_headers(mode, raw_upload):
    assert sse_headers(raw_upload.initiate.headers) == mode.echo


@pytest.mark.parametrize("index", [0, 1])
def test_upload_part_echoes_the_sse_headers(mode, raw_upload, index):
    assert sse_headers(raw_upload.parts[index]) == mode.echo


@pytest.mark.parametrize("index", [0, 1])
def test_upload_part_etag_is_the_md5_only_for_sse_cos(mode, raw_upload, index):
    part = raw_upload.parts[index]
    assert etag_kind(part["ETag"], part["data"]) == mode.etag


def test_complete_multipart_upload_echoes_the_sse_headers(mode, raw_upload):
    assert {name: raw_upload.complete.get(name) for name in mode.complete_echo} == mode.complete_echo


def test_complete_multipart_upload_etag_counts_the_parts(raw_upload):
    assert re.fullmatch(r'"[0-9a-f]{32}-2"', raw_upload.complete["ETag"])


def test_raw_multipart_object_stores_the_plaintext(cos, sse_bucket, mode, raw_upload):
    assert read_back(cos, sse_bucket, raw_upload.key, mode) == raw_upload.data


def test_raw_multipart_object_reports_the_crc64_of_the_whole_plaintext(cos, sse_bucket, mode, raw_upload):
    head = cos.head_object(Bucket=sse_bucket, Key=raw_upload.key, **mode.read)
    assert head["x-cos-hash-crc64ecma"] == crc64ecma(raw_upload.data)


# PUT Object - Copy


def test_copy_object_echoes_the_destination_sse_headers(mode, copied):
    assert sse_headers(copied.headers) == mode.echo


def test_copy_object_into_the_mode_stores_the_plaintext(cos, sse_bucket, mode, copied):
    assert read_back(cos, sse_bucket, copied.key, mode) == copied.data


def test_copy_object_reports_the_crc64_of_the_plaintext(copied):
    assert copied.headers["CRC64"] == crc64ecma(copied.data)


def test_copy_object_etag_is_the_md5_only_for_sse_cos(mode, copied):
    assert etag_kind(copied.headers["ETag"], copied.data) == mode.etag


def test_copy_object_from_an_encrypted_source_echoes_the_sse_headers(mode, copied_encrypted):
    assert sse_headers(copied_encrypted.headers) == mode.echo


def test_copy_object_from_an_encrypted_source_stores_the_plaintext(cos, sse_bucket, mode, copied_encrypted):
    assert read_back(cos, sse_bucket, copied_encrypted.key, mode) == copied_encrypted.data


def test_copy_object_destination_reads_back_with_the_sse_headers(cos, sse_bucket, mode, copied_encrypted):
    assert sse_headers(cos.head_object(Bucket=sse_bucket, Key=copied_encrypted.key, **mode.read)) == mode.echo


# the copy() helper in proxy mode


def test_copy_helper_in_proxy_mode_echoes_the_sse_headers(mode, helper_copied):
    assert sse_headers(helper_copied.headers) == mode.echo


def test_copy_helper_in_proxy_mode_stores_the_plaintext(cos_proxy, sse_bucket, mode, helper_copied):
    assert read_back(cos_proxy, sse_bucket, helper_copied.key, mode) == helper_copied.data


# -- refusals ---------------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def stored(cos, sse_bucket, modes) -> dict[str, str]:
    """One small object per mode (and a plain one), for the refusal tests: mode name → key."""
    keys = {}
    for name, m in {**modes, "plain": PLAIN}.items():
        keys[name] = f"refusals/{name}.txt"
        cos.put_object(Bucket=sse_bucket, Key=keys[name], Body=b"refusal target", **m.write)
    return keys


@pytest.mark.parametrize("target", ["sse-cos", "sse-kms", "plain"])
@pytest.mark.parametrize("value", ["AES256", "cos/kms"])
def test_get_with_the_sse_header_is_sse_header_not_allowed(cos, sse_bucket, stored, target, value):
    found = refusal(cos.get_object, Bucket=sse_bucket, Key=stored[target], ServerSideEncryption=value)
    assert found == (400, "SSEHeaderNotAllowed")


@pytest.mark.parametrize("target", ["sse-cos", "sse-kms"])
def test_head_with_the_sse_header_is_refused_with_400(cos, sse_bucket, stored, target):
    err = failure(cos.head_object, Bucket=sse_bucket, Key=stored[target], ServerSideEncryption="AES256")
    assert err.get_status_code() == 400


def test_put_with_an_unsupported_sse_value_is_invalid_argument(cos, sse_bucket):
    found = refusal(cos.put_object, Bucket=sse_bucket, Key="aes789.txt", Body=b"x", ServerSideEncryption="AES789")
    assert found == (400, "InvalidArgument")


def test_put_with_an_unsupported_sse_value_stores_nothing(cos, sse_bucket):
    failure(cos.put_object, Bucket=sse_bucket, Key="aes789-nothing.txt", Body=b"x", ServerSideEncryption="AES789")
    assert cos.object_exists(Bucket=sse_bucket, Key="aes789-nothing.txt") is False


def test_initiate_with_an_unsupported_sse_value_is_invalid_argument(cos, sse_bucket):
    found = refusal(cos.create_multipart_upload, Bucket=sse_bucket, Key="aes789.bin", ServerSideEncryption="AES789")
    assert found == (400, "InvalidArgument")


def test_copy_with_an_unsupported_sse_value_is_invalid_argument(cos, sse_bucket, stored):
    source = {"Bucket": sse_bucket, "Key": stored["plain"], "Region": REGION}
    found = refusal(
        cos.copy_object, Bucket=sse_bucket, Key="aes789-copy.txt", CopySource=source, ServerSideEncryption="AES789"
    )
    assert found == (400, "InvalidArgument")


def test_post_with_an_unsupported_sse_value_is_invalid_argument(kinko, sse_bucket):
    response = post_form(kinko, sse_bucket, "aes789-post.txt", [(SSE, "AES789")], b"x")
    assert (response.status_code, error_code(response)) == (400, "InvalidArgument")


def test_sse_and_sse_c_together_are_invalid_argument(cos, sse_bucket):
    found = refusal(
        cos.put_object, Bucket=sse_bucket, Key="both.txt", Body=b"x", ServerSideEncryption="AES256", **customer(KEY1)
    )
    assert found == (400, "InvalidArgument")


def test_kms_and_sse_c_together_are_invalid_argument(cos, sse_bucket):
    found = refusal(
        cos.put_object, Bucket=sse_bucket, Key="both.txt", Body=b"x", ServerSideEncryption="cos/kms", **customer(KEY1)
    )
    assert found == (400, "InvalidArgument")


def test_a_kms_key_id_with_aes256_is_invalid_argument(cos, sse_bucket, cmk):
    found = refusal(
        cos.put_object,
        Bucket=sse_bucket,
        Key="aes-with-key.txt",
        Body=b"x",
        ServerSideEncryption="AES256",
        SSEKMSKeyId=cmk,
    )
    assert found == (400, "InvalidArgument")


def test_a_kms_key_id_without_the_sse_header_is_invalid_argument(cos, sse_bucket, cmk):
    found = refusal(cos.put_object, Bucket=sse_bucket, Key="key-alone.txt", Body=b"x", SSEKMSKeyId=cmk)
    assert found == (400, "InvalidArgument")


def test_a_kms_context_that_is_not_base64_json_is_invalid_argument(cos, sse_bucket):
    found = refusal(
        cos.put_object,
        Bucket=sse_bucket,
        Key="bad-context.txt",
        Body=b"x",
        ServerSideEncryption="cos/kms",
        SSEKMSContext="not json",
    )
    assert found == (400, "InvalidArgument")


# SSE-C keys


def test_get_of_an_sse_c_object_without_its_key_is_invalid_argument(cos, sse_bucket, stored):
    assert refusal(cos.get_object, Bucket=sse_bucket, Key=stored["sse-c"]) == (400, "InvalidArgument")


def test_get_of_an_sse_c_object_with_another_key_is_invalid_argument(cos, sse_bucket, stored):
    found = refusal(cos.get_object, Bucket=sse_bucket, Key=stored["sse-c"], **customer(KEY2))
    assert found == (400, "InvalidArgument")


def test_ranged_get_of_an_sse_c_object_with_another_key_is_invalid_argument(cos, sse_bucket, stored):
    found = refusal(cos.get_object, Bucket=sse_bucket, Key=stored["sse-c"], Range="bytes=0-3", **customer(KEY2))
    assert found == (400, "InvalidArgument")


def test_head_of_an_sse_c_object_without_its_key_is_refused_with_400(cos, sse_bucket, stored):
    assert failure(cos.head_object, Bucket=sse_bucket, Key=stored["sse-c"]).get_status_code() == 400


def test_head_of_an_sse_c_object_with_another_key_is_refused_with_400(cos, sse_bucket, stored):
    err = failure(cos.head_object, Bucket=sse_bucket, Key=stored["sse-c"], **customer(KEY2))
    assert err.get_status_code() == 400


def test_copy_of_an_sse_c_source_without_its_key_is_invalid_argument(cos, sse_bucket, stored):
    source = {"Bucket": sse_bucket, "Key": stored["sse-c"], "Region": REGION}
    found = refusal(cos.copy_object, Bucket=sse_bucket, Key="copy-no-key.txt", CopySource=source)
    assert found == (400, "InvalidArgument")


def test_copy_of_an_sse_c_source_with_another_key_is_invalid_argument(cos, sse_bucket, stored):
    source = {"Bucket": sse_bucket, "Key": stored["sse-c"], "Region": REGION}
    found = refusal(
        cos.copy_object, Bucket=sse_bucket, Key="copy-wrong-key.txt", CopySource=source, **copy_source_customer(KEY2)
    )
    assert found == (400, "InvalidArgument")


def test_copy_of_an_sse_c_source_with_its_key_as_the_destination_trio_only_is_invalid_argument(cos, sse_bucket, stored):
    source = {"Bucket": sse_bucket, "Key": stored["sse-c"], "Region": REGION}
    found = refusal(cos.copy_object, Bucket=sse_bucket, Key="copy-dest-trio.txt", CopySource=source, **customer(KEY1))
    assert found == (400, "InvalidArgument")


@pytest.fixture
def sse_c_upload(cos, sse_bucket) -> tuple[str, str]:
    key = unique("sse-c-upload")
    upload_id = cos.create_multipart_upload(Bucket=sse_bucket, Key=key, **customer(KEY1))["UploadId"]
    yield key, upload_id
    cos.abort_multipart_upload(Bucket=sse_bucket, Key=key, UploadId=upload_id)


def test_upload_part_of_an_sse_c_upload_without_its_key_is_invalid_argument(cos, sse_bucket, sse_c_upload):
    key, upload_id = sse_c_upload
    found = refusal(cos.upload_part, Bucket=sse_bucket, Key=key, Body=b"part", PartNumber=1, UploadId=upload_id)
    assert found == (400, "InvalidArgument")


def test_upload_part_of_an_sse_c_upload_with_another_key_is_invalid_argument(cos, sse_bucket, sse_c_upload):
    key, upload_id = sse_c_upload
    found = refusal(
        cos.upload_part, Bucket=sse_bucket, Key=key, Body=b"part", PartNumber=1, UploadId=upload_id, **customer(KEY2)
    )
    assert found == (400, "InvalidArgument")


def test_upload_part_refused_for_its_key_stores_no_part(cos, sse_bucket, sse_c_upload):
    key, upload_id = sse_c_upload
    failure(
        cos.upload_part, Bucket=sse_bucket, Key=key, Body=b"part", PartNumber=1, UploadId=upload_id, **customer(KEY2)
    )
    assert cos.list_parts(Bucket=sse_bucket, Key=key, UploadId=upload_id).get("Part", []) == []


@pytest.fixture
def sse_cos_upload(cos, sse_bucket) -> tuple[str, str]:
    key = unique("sse-cos-upload")
    upload_id = cos.create_multipart_upload(Bucket=sse_bucket, Key=key, ServerSideEncryption="AES256")["UploadId"]
    yield key, upload_id
    cos.abort_multipart_upload(Bucket=sse_bucket, Key=key, UploadId=upload_id)


def test_upload_part_with_an_sse_c_key_for_an_upload_that_is_not_sse_c_is_invalid_argument(
    cos, sse_bucket, sse_cos_upload
):
    key, upload_id = sse_cos_upload
    found = refusal(
        cos.upload_part, Bucket=sse_bucket, Key=key, Body=b"part", PartNumber=1, UploadId=upload_id, **customer(KEY1)
    )
    assert found == (400, "InvalidArgument")


def test_initiate_ignores_the_copy_source_trio_the_copy_helper_forwards(kinko, cos, sse_bucket):
    """copy() passes all its kwargs to Initiate (spec §4.4): the copy-source trio there is not an error."""
    key = unique("initiate-with-copy-trio")
    response = wire.send(
        kinko,
        cos,
        "POST",
        sse_bucket,
        key,
        params={"uploads": ""},
        headers=mapped({"ServerSideEncryption": "AES256", **copy_source_customer(KEY1)}),
    )
    upload_id = re.search(rb"<UploadId>([^<]+)</UploadId>", response.content)
    if upload_id is not None:
        cos.abort_multipart_upload(Bucket=sse_bucket, Key=key, UploadId=upload_id.group(1).decode())
    assert (response.status_code, sse_headers(response.headers)) == (200, {SSE: "AES256"})


@pytest.fixture
def sse_c_part_copy(cos, sse_bucket, stored) -> tuple[str, dict, dict]:
    """An SSE-C (KEY2) upload whose only part is copied from the SSE-C (KEY1) refusal target, then completed."""
    key = unique("part-copy")
    upload_id = cos.create_multipart_upload(Bucket=sse_bucket, Key=key, **customer(KEY2))["UploadId"]
    source = {"Bucket": sse_bucket, "Key": stored["sse-c"], "Region": REGION}
    part = cos.upload_part_copy(
        Bucket=sse_bucket,
        Key=key,
        PartNumber=1,
        UploadId=upload_id,
        CopySource=source,
        **copy_source_customer(KEY1),
        **customer(KEY2),
    )
    done = cos.complete_multipart_upload(
        Bucket=sse_bucket,
        Key=key,
        UploadId=upload_id,
        MultipartUpload={"Part": [{"PartNumber": 1, "ETag": part["ETag"]}]},
    )
    return key, part, done


def test_upload_part_copy_echoes_the_destination_sse_c_headers(sse_c_part_copy):
    _, part, _ = sse_c_part_copy
    assert sse_headers(part) == {CUSTOMER_ALGORITHM: "AES256", CUSTOMER_KEY_MD5: b64(hashlib.md5(KEY2).digest())}


def test_upload_part_copy_between_customer_keys_reads_back_with_the_new_key(cos, sse_bucket, sse_c_part_copy):
    key, _, _ = sse_c_part_copy
    assert body_of(cos.get_object(Bucket=sse_bucket, Key=key, **customer(KEY2))) == b"refusal target"


def test_upload_part_copy_of_an_sse_c_source_without_its_key_is_invalid_argument(cos, sse_bucket, stored, sse_c_upload):
    key, upload_id = sse_c_upload
    source = {"Bucket": sse_bucket, "Key": stored["sse-c"], "Region": REGION}
    found = refusal(
        cos.upload_part_copy,
        Bucket=sse_bucket,
        Key=key,
        PartNumber=1,
        UploadId=upload_id,
        CopySource=source,
        **customer(KEY1),
    )
    assert found == (400, "InvalidArgument")


def test_a_wrong_sse_c_key_md5_is_invalid_argument(cos, sse_bucket):
    trio = {**customer(KEY1), "SSECustomerKeyMD5": b64(hashlib.md5(KEY2).digest())}
    found = refusal(cos.put_object, Bucket=sse_bucket, Key="bad-md5.txt", Body=b"x", **trio)
    assert found == (400, "InvalidArgument")


def test_a_31_byte_sse_c_key_is_invalid_argument(cos, sse_bucket):
    found = refusal(cos.put_object, Bucket=sse_bucket, Key="short-key.txt", Body=b"x", **customer(KEY1[:31]))
    assert found == (400, "InvalidArgument")


def test_an_sse_c_algorithm_other_than_aes256_is_invalid_argument(cos, sse_bucket):
    trio = {**customer(KEY1), "SSECustomerAlgorithm": "AES128"}
    found = refusal(cos.put_object, Bucket=sse_bucket, Key="aes128.txt", Body=b"x", **trio)
    assert found == (400, "InvalidArgument")


def test_an_incomplete_sse_c_trio_is_invalid_argument(cos, sse_bucket):
    trio = customer(KEY1)
    del trio["SSECustomerKeyMD5"]
    found = refusal(cos.put_object, Bucket=sse_bucket, Key="two-of-three.txt", Body=b"x", **trio)
    assert found == (400, "InvalidArgument")


def test_a_presigned_put_carrying_sse_as_a_url_parameter_is_invalid_argument(kinko, cos_proxy, sse_bucket):
    url = cos_proxy.get_presigned_url(Bucket=sse_bucket, Key="presigned-sse.txt", Method="PUT", Params={SSE: "AES256"})
    response = requests.put(url, data=b"should be encrypted", proxies=proxies(kinko), timeout=10)
    assert (response.status_code, error_code(response)) == (400, "InvalidArgument")


def test_a_presigned_put_signing_the_sse_header_encrypts(kinko, cos_proxy, sse_bucket):
    """The documented way: the header is signed into the URL and sent by the uploader (spec §4.4)."""
    url = cos_proxy.get_presigned_url(
        Bucket=sse_bucket, Key="presigned-header.txt", Method="PUT", Headers={SSE: "AES256"}
    )
    response = requests.put(url, data=b"encrypted", headers={SSE: "AES256"}, proxies=proxies(kinko), timeout=10)
    assert (response.status_code, sse_headers(response.headers)) == (200, {SSE: "AES256"})


# SSE-KMS: region, role, key state


@pytest.fixture(scope="module")
def singapore_bucket(kinko) -> str:
    client = cos_client(kinko, Region=SINGAPORE)
    name = new_bucket(client)
    yield name
    empty_and_delete(client, name)


def test_sse_kms_in_a_region_outside_the_kms_regions_is_invalid_argument(kinko, singapore_bucket):
    client = cos_client(kinko, Region=SINGAPORE)
    err = failure(client.put_object, Bucket=singapore_bucket, Key="kms.txt", Body=b"x", ServerSideEncryption="cos/kms")
    assert (err.get_status_code(), err.get_error_code(), SINGAPORE in err.get_error_msg()) == (
        400,
        "InvalidArgument",
        True,
    )


def test_sse_cos_in_a_region_outside_the_kms_regions_is_served(kinko, singapore_bucket):
    client = cos_client(kinko, Region=SINGAPORE)
    response = client.put_object(Bucket=singapore_bucket, Key="cos.txt", Body=b"x", ServerSideEncryption="AES256")
    assert sse_headers(response) == {SSE: "AES256"}


@pytest.fixture
def without_cos_role(kinko, cam):
    cam_call(cam, "DeleteRole", RoleName=COS_ROLE)
    yield
    ensure_cos_role(kinko)


@pytest.fixture
def cos_role_without_policy(kinko, cam):
    cam_call(cam, "DetachRolePolicy", DetachRoleName=COS_ROLE, PolicyName=COS_ROLE_POLICY)
    yield
    ensure_cos_role(kinko)


def test_sse_kms_without_cos_qcsrole_is_access_denied_naming_the_role(cos, sse_bucket, without_cos_role):
    err = failure(cos.put_object, Bucket=sse_bucket, Key="no-role.txt", Body=b"x", ServerSideEncryption="cos/kms")
    assert (err.get_status_code(), err.get_error_code(), COS_ROLE in err.get_error_msg()) == (
        403,
        "AccessDenied",
        True,
    )


def test_get_of_an_sse_kms_object_without_cos_qcsrole_is_access_denied(cos, sse_bucket, stored, without_cos_role):
    assert refusal(cos.get_object, Bucket=sse_bucket, Key=stored["sse-kms"]) == (403, "AccessDenied")


def test_initiate_with_sse_kms_without_cos_qcsrole_is_access_denied(cos, sse_bucket, without_cos_role):
    found = refusal(cos.create_multipart_upload, Bucket=sse_bucket, Key="no-role.bin", ServerSideEncryption="cos/kms")
    assert found == (403, "AccessDenied")


def test_sse_kms_with_cos_qcsrole_lacking_its_policy_is_access_denied(cos, sse_bucket, cos_role_without_policy):
    found = refusal(cos.put_object, Bucket=sse_bucket, Key="no-policy.txt", Body=b"x", ServerSideEncryption="cos/kms")
    assert found == (403, "AccessDenied")


def test_sse_cos_does_not_need_cos_qcsrole(cos, sse_bucket, without_cos_role):
    response = cos.put_object(Bucket=sse_bucket, Key="cos-no-role.txt", Body=b"x", ServerSideEncryption="AES256")
    assert sse_headers(response) == {SSE: "AES256"}


def test_sse_kms_with_an_unknown_key_id_is_kms_key_not_exist(cos, sse_bucket):
    found = refusal(
        cos.put_object,
        Bucket=sse_bucket,
        Key="unknown-key.txt",
        Body=b"x",
        ServerSideEncryption="cos/kms",
        SSEKMSKeyId=str(uuid.uuid4()),
    )
    assert found == (400, "KmsKeyNotExist")


@pytest.fixture
def disabled_cmk(cos, kms, sse_bucket) -> tuple[str, str]:
    """A CMK with an object under it, then disabled; enabled again afterwards. (key id, object key)"""
    key_id = kms_call(kms, "CreateKey", Alias=unique("doomed"))["KeyId"]
    object_key = unique("under-disabled")
    cos.put_object(
        Bucket=sse_bucket, Key=object_key, Body=b"under a cmk", ServerSideEncryption="cos/kms", SSEKMSKeyId=key_id
    )
    kms_call(kms, "DisableKey", KeyId=key_id)
    yield key_id, object_key
    kms_call(kms, "EnableKey", KeyId=key_id)


def test_put_with_a_disabled_cmk_is_kms_key_disabled(cos, sse_bucket, disabled_cmk):
    key_id, _ = disabled_cmk
    found = refusal(
        cos.put_object,
        Bucket=sse_bucket,
        Key="disabled.txt",
        Body=b"x",
        ServerSideEncryption="cos/kms",
        SSEKMSKeyId=key_id,
    )
    assert found == (400, "KmsKeyDisabled")


def test_initiate_with_a_disabled_cmk_is_kms_key_disabled(cos, sse_bucket, disabled_cmk):
    key_id, _ = disabled_cmk
    found = refusal(
        cos.create_multipart_upload,
        Bucket=sse_bucket,
        Key="disabled.bin",
        ServerSideEncryption="cos/kms",
        SSEKMSKeyId=key_id,
    )
    assert found == (400, "KmsKeyDisabled")


def test_get_of_an_object_under_a_disabled_cmk_is_kms_key_disabled(cos, sse_bucket, disabled_cmk):
    _, object_key = disabled_cmk
    assert refusal(cos.get_object, Bucket=sse_bucket, Key=object_key) == (400, "KmsKeyDisabled")


def test_copy_of_an_object_under_a_disabled_cmk_is_kms_key_disabled(cos, sse_bucket, disabled_cmk):
    _, object_key = disabled_cmk
    source = {"Bucket": sse_bucket, "Key": object_key, "Region": REGION}
    found = refusal(cos.copy_object, Bucket=sse_bucket, Key="copy-of-disabled.txt", CopySource=source)
    assert found == (400, "KmsKeyDisabled")


def test_an_object_under_a_re_enabled_cmk_reads_again(cos, kms, sse_bucket, disabled_cmk):
    key_id, object_key = disabled_cmk
    kms_call(kms, "EnableKey", KeyId=key_id)
    assert body_of(cos.get_object(Bucket=sse_bucket, Key=object_key)) == b"under a cmk"


# SSE-C over plain HTTP, and SSE-KMS before KMS activation: a second server with the defaults


@pytest.fixture(scope="module")
def strict(tmp_path_factory) -> LiveKinko:
    """A second server with KINKO_SSE_C_ALLOW_HTTP unset, an HTTPS listener, its KMS never activated, and
    COS_QcsRole in place (so that only the activation is missing)."""

    def ensure_cos_role(env: dict[str, str]) -> None:
        manage_py(env, "shell", "-c", ENSURE_COS_ROLE)

    folder = tmp_path_factory.mktemp("kinko-strict")
    with running_kinko(
        folder, drop=("KINKO_SSE_C_ALLOW_HTTP",), workers=1, threads=2, prepare=ensure_cos_role
    ) as server:
        yield server


@pytest.fixture(scope="module")
def strict_http(strict) -> CosS3Client:
    return cos_client(strict)


@pytest.fixture(scope="module")
def strict_bucket(strict_http) -> str:
    return new_bucket(strict_http)


@pytest.fixture
def strict_https(strict, monkeypatch) -> CosS3Client:
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(strict.ca_bundle))
    monkeypatch.delenv("CURL_CA_BUNDLE", raising=False)
    return cos_client(strict, Scheme="https", IP="127.0.0.1", Port=strict.https_port)


def test_sse_c_put_over_plain_http_is_invalid_request_requiring_https(strict_http, strict_bucket):
    err = failure(strict_http.put_object, Bucket=strict_bucket, Key="http.txt", Body=b"x", **customer(KEY1))
    assert (err.get_status_code(), err.get_error_code(), "SSE-C requires HTTPS" in err.get_error_msg()) == (
        400,
        "InvalidRequest",
        True,
    )


def test_sse_c_put_over_plain_http_stores_nothing(strict_http, strict_bucket):
    failure(strict_http.put_object, Bucket=strict_bucket, Key="http-nothing.txt", Body=b"x", **customer(KEY1))
    assert strict_http.object_exists(Bucket=strict_bucket, Key="http-nothing.txt") is False


def test_sse_c_initiate_over_plain_http_is_invalid_request(strict_http, strict_bucket):
    found = refusal(strict_http.create_multipart_upload, Bucket=strict_bucket, Key="http.bin", **customer(KEY1))
    assert found == (400, "InvalidRequest")


def test_sse_c_post_form_over_plain_http_is_invalid_request(strict, strict_bucket, modes):
    response = post_form(strict, strict_bucket, "http-post.txt", modes["sse-c"].form_fields, b"x")
    assert (response.status_code, error_code(response)) == (400, "InvalidRequest")


def test_sse_c_copy_source_over_plain_http_is_invalid_request(strict_https, strict_http, strict_bucket):
    strict_https.put_object(Bucket=strict_bucket, Key="copy-source.txt", Body=b"x", **customer(KEY1))
    source = {"Bucket": strict_bucket, "Key": "copy-source.txt", "Region": REGION}
    found = refusal(
        strict_http.copy_object,
        Bucket=strict_bucket,
        Key="copy-over-http.txt",
        CopySource=source,
        **copy_source_customer(KEY1),
    )
    assert found == (400, "InvalidRequest")


def test_sse_c_put_over_https_echoes_the_sse_c_headers(strict_https, strict_bucket):
    response = strict_https.put_object(Bucket=strict_bucket, Key="https.txt", Body=b"over tls", **customer(KEY1))
    assert sse_headers(response) == {CUSTOMER_ALGORITHM: "AES256", CUSTOMER_KEY_MD5: b64(hashlib.md5(KEY1).digest())}


def test_sse_c_over_https_round_trips(strict_https, strict_bucket):
    strict_https.put_object(Bucket=strict_bucket, Key="round-trip.txt", Body=b"over tls", **customer(KEY1))
    result = strict_https.get_object(Bucket=strict_bucket, Key="round-trip.txt", **customer(KEY1))
    assert body_of(result) == b"over tls"


def test_sse_c_get_over_plain_http_is_invalid_request(strict_https, strict_http, strict_bucket):
    strict_https.put_object(Bucket=strict_bucket, Key="read-over-http.txt", Body=b"x", **customer(KEY1))
    found = refusal(strict_http.get_object, Bucket=strict_bucket, Key="read-over-http.txt", **customer(KEY1))
    assert found == (400, "InvalidRequest")


def test_sse_cos_over_plain_http_is_served_where_sse_c_is_not(strict_http, strict_bucket):
    response = strict_http.put_object(Bucket=strict_bucket, Key="cos.txt", Body=b"x", ServerSideEncryption="AES256")
    assert sse_headers(response) == {SSE: "AES256"}


def test_sse_kms_before_kms_activation_is_kms_exception_saying_how_to_activate(strict_http, strict_bucket):
    err = failure(
        strict_http.put_object, Bucket=strict_bucket, Key="kms.txt", Body=b"x", ServerSideEncryption="cos/kms"
    )
    assert (err.get_status_code(), err.get_error_code(), "activate" in err.get_error_msg()) == (
        400,
        "KmsException",
        True,
    )


def test_bucket_default_kms_before_kms_activation_is_kms_exception(strict_http, strict_bucket):
    config = {"Rule": [{"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "KMS"}}]}
    found = refusal(strict_http.put_bucket_encryption, Bucket=strict_bucket, ServerSideEncryptionConfiguration=config)
    assert found == (400, "KmsException")


# -- copy re-keying ---------------------------------------------------------------------------------------------


@pytest.fixture
def sse_c_source(cos, sse_bucket) -> str:
    key = unique("sse-c-source")
    cos.put_object(Bucket=sse_bucket, Key=key, Body=DATA, **customer(KEY1))
    return key


def source_of(bucket: str, key: str) -> dict:
    return {"Bucket": bucket, "Key": key, "Region": REGION}


def test_copy_rekeys_an_sse_c_object_to_another_customer_key(cos, sse_bucket, sse_c_source):
    cos.copy_object(
        Bucket=sse_bucket,
        Key="rekeyed.bin",
        CopySource=source_of(sse_bucket, sse_c_source),
        **copy_source_customer(KEY1),
        **customer(KEY2),
    )
    assert body_of(cos.get_object(Bucket=sse_bucket, Key="rekeyed.bin", **customer(KEY2))) == DATA


def test_copy_rekeyed_object_echoes_the_new_key_md5(cos, sse_bucket, sse_c_source):
    response = cos.copy_object(
        Bucket=sse_bucket,
        Key="rekeyed-echo.bin",
        CopySource=source_of(sse_bucket, sse_c_source),
        **copy_source_customer(KEY1),
        **customer(KEY2),
    )
    assert sse_headers(response) == {CUSTOMER_ALGORITHM: "AES256", CUSTOMER_KEY_MD5: b64(hashlib.md5(KEY2).digest())}


def test_copy_rekeyed_object_no_longer_opens_with_the_old_key(cos, sse_bucket, sse_c_source):
    cos.copy_object(
        Bucket=sse_bucket,
        Key="rekeyed-old.bin",
        CopySource=source_of(sse_bucket, sse_c_source),
        **copy_source_customer(KEY1),
        **customer(KEY2),
    )
    assert refusal(cos.get_object, Bucket=sse_bucket, Key="rekeyed-old.bin", **customer(KEY1)) == (
        400,
        "InvalidArgument",
    )


def test_copy_of_an_sse_c_object_onto_itself_replaced_without_sse_decrypts_it(cos, sse_bucket, sse_c_source):
    cos.copy_object(
        Bucket=sse_bucket,
        Key=sse_c_source,
        CopySource=source_of(sse_bucket, sse_c_source),
        CopyStatus="Replaced",
        **copy_source_customer(KEY1),
    )
    assert body_of(cos.get_object(Bucket=sse_bucket, Key=sse_c_source)) == DATA


def test_an_sse_c_object_decrypted_in_place_reports_no_sse(cos, sse_bucket, sse_c_source):
    cos.copy_object(
        Bucket=sse_bucket,
        Key=sse_c_source,
        CopySource=source_of(sse_bucket, sse_c_source),
        CopyStatus="Replaced",
        **copy_source_customer(KEY1),
    )
    assert sse_headers(cos.head_object(Bucket=sse_bucket, Key=sse_c_source)) == {}


def test_copy_of_a_plain_object_to_sse_kms_echoes_kms(cos, sse_bucket, stored, cmk):
    response = cos.copy_object(
        Bucket=sse_bucket,
        Key="plain-to-kms.txt",
        CopySource=source_of(sse_bucket, stored["plain"]),
        ServerSideEncryption="cos/kms",
        SSEKMSKeyId=cmk,
    )
    assert sse_headers(response) == {SSE: "cos/kms", KMS_KEY_ID: cmk}


def test_copy_of_an_sse_kms_object_to_sse_cos_echoes_aes256(cos, sse_bucket, stored):
    response = cos.copy_object(
        Bucket=sse_bucket,
        Key="kms-to-cos.txt",
        CopySource=source_of(sse_bucket, stored["sse-kms"]),
        ServerSideEncryption="AES256",
    )
    assert sse_headers(response) == {SSE: "AES256"}


def test_copy_of_an_sse_kms_object_to_sse_cos_reads_back(cos, sse_bucket, stored):
    cos.copy_object(
        Bucket=sse_bucket,
        Key="kms-to-cos-read.txt",
        CopySource=source_of(sse_bucket, stored["sse-kms"]),
        ServerSideEncryption="AES256",
    )
    assert body_of(cos.get_object(Bucket=sse_bucket, Key="kms-to-cos-read.txt")) == b"refusal target"


@pytest.mark.parametrize("source_mode", MODES)
def test_a_copy_without_sse_headers_is_unencrypted_whatever_its_source(cos, sse_bucket, stored, modes, source_mode):
    key = f"unencrypted-copy-of-{source_mode}.txt"
    cos.copy_object(
        Bucket=sse_bucket,
        Key=key,
        CopySource=source_of(sse_bucket, stored[source_mode]),
        **modes[source_mode].copy_source,
    )
    assert sse_headers(cos.head_object(Bucket=sse_bucket, Key=key)) == {}


# -- bucket default encryption ----------------------------------------------------------------------------------

AES256_DEFAULT = {"Rule": [{"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}]}


def kms_default(key_id: str | None = None) -> dict:
    default = {"SSEAlgorithm": "KMS"}
    if key_id:
        default["KMSMasterKeyID"] = key_id
    return {"Rule": [{"ApplyServerSideEncryptionByDefault": default}]}


def bucket_default(cos: CosS3Client, bucket: str) -> dict:
    return cos.get_bucket_encryption(Bucket=bucket)["Rule"][0]["ApplyServerSideEncryptionByDefault"]


@pytest.fixture
def aes_bucket(cos, bucket) -> str:
    cos.put_bucket_encryption(Bucket=bucket, ServerSideEncryptionConfiguration=AES256_DEFAULT)
    return bucket


@pytest.fixture
def kms_bucket(cos, cmk) -> str:
    name = new_bucket(cos)
    cos.put_bucket_encryption(Bucket=name, ServerSideEncryptionConfiguration=kms_default(cmk))
    yield name
    empty_and_delete(cos, name)


def test_get_bucket_encryption_without_a_configuration_is_no_such_encryption_configuration(cos, bucket):
    assert refusal(cos.get_bucket_encryption, Bucket=bucket) == (404, "NoSuchEncryptionConfiguration")


def test_put_bucket_encryption_aes256_reads_back(cos, aes_bucket):
    assert bucket_default(cos, aes_bucket) == {"SSEAlgorithm": "AES256"}


def test_put_bucket_encryption_kms_with_a_key_reads_back(cos, kms_bucket, cmk):
    assert bucket_default(cos, kms_bucket) == {"SSEAlgorithm": "KMS", "KMSMasterKeyID": cmk}


def test_put_bucket_encryption_kms_without_a_key_reads_back_as_kms(cos, bucket):
    cos.put_bucket_encryption(Bucket=bucket, ServerSideEncryptionConfiguration=kms_default())
    assert bucket_default(cos, bucket)["SSEAlgorithm"] == "KMS"


def test_put_bucket_encryption_with_the_sdk_tests_element_name_is_accepted(cos, bucket):
    lenient = {"Rule": [{"ApplySideEncryptionConfiguration": {"SSEAlgorithm": "AES256"}}]}
    cos.put_bucket_encryption(Bucket=bucket, ServerSideEncryptionConfiguration=lenient)
    assert bucket_default(cos, bucket) == {"SSEAlgorithm": "AES256"}


def test_put_bucket_encryption_with_an_unknown_algorithm_is_refused_with_400(cos, bucket):
    config = {"Rule": [{"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "AES789"}}]}
    err = failure(cos.put_bucket_encryption, Bucket=bucket, ServerSideEncryptionConfiguration=config)
    assert err.get_status_code() == 400


def test_put_bucket_encryption_kms_in_a_region_outside_the_kms_regions_is_invalid_argument(kinko, singapore_bucket):
    client = cos_client(kinko, Region=SINGAPORE)
    found = refusal(
        client.put_bucket_encryption, Bucket=singapore_bucket, ServerSideEncryptionConfiguration=kms_default()
    )
    assert found == (400, "InvalidArgument")


def test_delete_bucket_encryption_removes_the_configuration(cos, aes_bucket):
    cos.delete_bucket_encryption(Bucket=aes_bucket)
    assert refusal(cos.get_bucket_encryption, Bucket=aes_bucket) == (404, "NoSuchEncryptionConfiguration")


def test_delete_bucket_encryption_answers_204(kinko, cos, aes_bucket):
    response = wire.send(kinko, cos, "DELETE", aes_bucket, params={"encryption": ""})
    assert response.status_code == 204


def test_after_delete_bucket_encryption_new_objects_are_unencrypted(cos, aes_bucket):
    cos.delete_bucket_encryption(Bucket=aes_bucket)
    assert sse_headers(cos.put_object(Bucket=aes_bucket, Key="after.txt", Body=b"x")) == {}


def test_bucket_default_aes256_applies_to_put(cos, aes_bucket):
    assert sse_headers(cos.put_object(Bucket=aes_bucket, Key="put.txt", Body=b"x")) == {SSE: "AES256"}


def test_bucket_default_aes256_is_reported_on_get(cos, aes_bucket):
    cos.put_object(Bucket=aes_bucket, Key="get.txt", Body=b"x")
    assert sse_headers(cos.get_object(Bucket=aes_bucket, Key="get.txt")) == {SSE: "AES256"}


def test_bucket_default_aes256_applies_to_post(kinko, aes_bucket):
    response = post_form(kinko, aes_bucket, "posted.txt", [], b"x")
    assert sse_headers(response.headers) == {SSE: "AES256"}


def test_bucket_default_aes256_applies_to_multipart(cos, aes_bucket):
    upload_id = cos.create_multipart_upload(Bucket=aes_bucket, Key="mp.bin")["UploadId"]
    part = cos.upload_part(Bucket=aes_bucket, Key="mp.bin", Body=b"only part", PartNumber=1, UploadId=upload_id)
    done = cos.complete_multipart_upload(
        Bucket=aes_bucket,
        Key="mp.bin",
        UploadId=upload_id,
        MultipartUpload={"Part": [{"PartNumber": 1, "ETag": part["ETag"]}]},
    )
    assert (sse_headers(part), done.get(SSE)) == ({SSE: "AES256"}, "AES256")


def test_bucket_default_aes256_applies_to_copy(cos, aes_bucket, sse_bucket, stored):
    response = cos.copy_object(Bucket=aes_bucket, Key="copied.txt", CopySource=source_of(sse_bucket, stored["plain"]))
    assert sse_headers(response) == {SSE: "AES256"}


def test_bucket_default_does_not_touch_existing_objects(cos, bucket):
    cos.put_object(Bucket=bucket, Key="before.txt", Body=b"x")
    cos.put_bucket_encryption(Bucket=bucket, ServerSideEncryptionConfiguration=AES256_DEFAULT)
    assert sse_headers(cos.head_object(Bucket=bucket, Key="before.txt")) == {}


def test_bucket_default_kms_applies_to_put_with_its_key(cos, kms_bucket, cmk):
    response = cos.put_object(Bucket=kms_bucket, Key="put.txt", Body=b"x")
    assert sse_headers(response) == {SSE: "cos/kms", KMS_KEY_ID: cmk}


def test_bucket_default_kms_object_reads_back(cos, kms_bucket):
    cos.put_object(Bucket=kms_bucket, Key="read.txt", Body=b"under the default")
    assert body_of(cos.get_object(Bucket=kms_bucket, Key="read.txt")) == b"under the default"


def test_bucket_default_kms_without_a_key_applies_the_default_cmk(cos, bucket, default_keys):
    cos.put_bucket_encryption(Bucket=bucket, ServerSideEncryptionConfiguration=kms_default())
    response = cos.put_object(Bucket=bucket, Key="put.txt", Body=b"x")
    assert sse_headers(response) == {SSE: "cos/kms", KMS_KEY_ID: default_keys[REGION]}


def test_explicit_sse_kms_wins_over_a_bucket_default_aes256(cos, aes_bucket, cmk):
    response = cos.put_object(
        Bucket=aes_bucket, Key="kms.txt", Body=b"x", ServerSideEncryption="cos/kms", SSEKMSKeyId=cmk
    )
    assert sse_headers(response) == {SSE: "cos/kms", KMS_KEY_ID: cmk}


def test_explicit_sse_c_wins_over_a_bucket_default_aes256(cos, aes_bucket):
    response = cos.put_object(Bucket=aes_bucket, Key="ssec.txt", Body=b"x", **customer(KEY1))
    assert sse_headers(response) == {CUSTOMER_ALGORITHM: "AES256", CUSTOMER_KEY_MD5: b64(hashlib.md5(KEY1).digest())}


def test_explicit_sse_cos_wins_over_a_bucket_default_kms(cos, kms_bucket):
    response = cos.put_object(Bucket=kms_bucket, Key="cos.txt", Body=b"x", ServerSideEncryption="AES256")
    assert sse_headers(response) == {SSE: "AES256"}


def test_explicit_sse_c_wins_over_a_bucket_default_on_post(kinko, aes_bucket, modes):
    response = post_form(kinko, aes_bucket, "posted-ssec.txt", modes["sse-c"].form_fields, b"x")
    assert sse_headers(response.headers) == modes["sse-c"].echo


def test_a_cmk_named_by_a_bucket_default_cannot_be_disabled(cos, kms, bucket):
    key_id = kms_call(kms, "CreateKey", Alias=unique("bound"))["KeyId"]
    cos.put_bucket_encryption(Bucket=bucket, ServerSideEncryptionConfiguration=kms_default(key_id))
    assert kms_failure(kms, "DisableKey", KeyId=key_id) == "FailedOperation.CmkUsedByCloudProduct"


def test_a_cmk_can_be_disabled_once_the_bucket_default_is_deleted(cos, kms, bucket):
    key_id = kms_call(kms, "CreateKey", Alias=unique("released"))["KeyId"]
    cos.put_bucket_encryption(Bucket=bucket, ServerSideEncryptionConfiguration=kms_default(key_id))
    cos.delete_bucket_encryption(Bucket=bucket)
    kms_call(kms, "DisableKey", KeyId=key_id)
    assert kms_call(kms, "DescribeKey", KeyId=key_id)["KeyMetadata"]["KeyState"] == "Disabled"


def test_a_cmk_can_be_disabled_once_the_bucket_default_names_another(cos, kms, bucket, cmk):
    key_id = kms_call(kms, "CreateKey", Alias=unique("replaced"))["KeyId"]
    cos.put_bucket_encryption(Bucket=bucket, ServerSideEncryptionConfiguration=kms_default(key_id))
    cos.put_bucket_encryption(Bucket=bucket, ServerSideEncryptionConfiguration=kms_default(cmk))
    kms_call(kms, "DisableKey", KeyId=key_id)
    assert kms_call(kms, "DescribeKey", KeyId=key_id)["KeyMetadata"]["KeyState"] == "Disabled"


def test_deleting_a_bucket_releases_the_cmk_of_its_default(cos, kms):
    key_id = kms_call(kms, "CreateKey", Alias=unique("deleted-bucket"))["KeyId"]
    name = new_bucket(cos)
    cos.put_bucket_encryption(Bucket=name, ServerSideEncryptionConfiguration=kms_default(key_id))
    cos.delete_bucket(Bucket=name)
    kms_call(kms, "DisableKey", KeyId=key_id)
    assert kms_call(kms, "DescribeKey", KeyId=key_id)["KeyMetadata"]["KeyState"] == "Disabled"


# -- anonymous access -------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def public_bucket(cos, modes) -> str:
    """A public-read bucket with one object per mode and a plain neighbour."""
    name = new_bucket(cos, ACL="public-read")
    for mode_name, m in {**modes, "plain": PLAIN}.items():
        cos.put_object(Bucket=name, Key=f"{mode_name}.txt", Body=f"{mode_name} content".encode(), **m.write)
    yield name
    empty_and_delete(cos, name)


def test_anonymous_get_of_a_plain_object_in_a_public_read_bucket_is_served(kinko, public_bucket):
    response = anonymous(kinko, "GET", public_bucket, "plain.txt")
    assert (response.status_code, response.content) == (200, b"plain content")


@pytest.mark.parametrize("mode_name", MODES)
def test_anonymous_get_of_an_encrypted_object_is_access_denied(kinko, public_bucket, mode_name):
    response = anonymous(kinko, "GET", public_bucket, f"{mode_name}.txt")
    assert (response.status_code, error_code(response)) == (403, "AccessDenied")


def test_anonymous_get_of_an_sse_c_object_with_its_key_is_access_denied(kinko, public_bucket):
    response = anonymous(kinko, "GET", public_bucket, "sse-c.txt", headers=mapped(customer(KEY1)))
    assert (response.status_code, error_code(response)) == (403, "AccessDenied")


@pytest.mark.parametrize("mode_name", MODES)
def test_anonymous_head_of_an_encrypted_object_is_refused_with_403(kinko, public_bucket, mode_name):
    assert anonymous(kinko, "HEAD", public_bucket, f"{mode_name}.txt").status_code == 403


@pytest.mark.parametrize("mode_name", MODES)
def test_signed_get_of_an_encrypted_object_in_a_public_read_bucket_is_served(cos, public_bucket, modes, mode_name):
    result = cos.get_object(Bucket=public_bucket, Key=f"{mode_name}.txt", **modes[mode_name].read)
    assert body_of(result) == f"{mode_name} content".encode()


# -- listing ----------------------------------------------------------------------------------------------------


def test_listing_returns_encrypted_and_plain_objects_alike(cos, public_bucket):
    listing = cos.list_objects(Bucket=public_bucket)
    found = {item["Key"]: item["Size"] for item in listing["Contents"]}
    assert found == {f"{name}.txt": str(len(f"{name} content")) for name in [*MODES, "plain"]}


# -- SSE-COS master-key rotation --------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def rotated(kinko, cos, modes) -> tuple[str, dict[str, tuple[str, bytes, Mode]]]:
    """Objects of every kind written before `manage.py rotate_master_key` ran against the server's data dir."""
    name = new_bucket(cos)
    written = {}
    for label, m in {
        "plain": PLAIN,
        "sse-cos": modes["sse-cos"],
        "sse-kms": modes["sse-kms"],
        "sse-c": modes["sse-c"],
    }.items():
        data = os.urandom(70_000)
        cos.put_object(Bucket=name, Key=f"{label}.bin", Body=data, **m.write)
        written[label] = (f"{label}.bin", data, m)
    for label, m in (("multipart-plain", PLAIN), ("multipart-sse-cos", modes["sse-cos"])):
        first, second = os.urandom(MiB), os.urandom(500)
        upload_id = cos.create_multipart_upload(Bucket=name, Key=f"{label}.bin", **m.write)["UploadId"]
        parts = [
            cos.upload_part(Bucket=name, Key=f"{label}.bin", Body=body, PartNumber=n, UploadId=upload_id)
            for n, body in ((1, first), (2, second))
        ]
        listed = {"Part": [{"PartNumber": n, "ETag": p["ETag"]} for n, p in enumerate(parts, start=1)]}
        cos.complete_multipart_upload(Bucket=name, Key=f"{label}.bin", UploadId=upload_id, MultipartUpload=listed)
        written[label] = (f"{label}.bin", first + second, m)
    manage_py(server_env(kinko), "rotate_master_key")
    yield name, written
    empty_and_delete(cos, name)


@pytest.mark.parametrize("label", ["plain", "sse-cos", "multipart-plain", "multipart-sse-cos", "sse-kms", "sse-c"])
def test_objects_read_back_byte_exactly_after_master_key_rotation(cos, rotated, label):
    name, written = rotated
    key, data, m = written[label]
    assert body_of(cos.get_object(Bucket=name, Key=key, **m.read)) == data


def test_new_sse_cos_objects_after_rotation_read_back(cos, rotated):
    name, _ = rotated
    cos.put_object(Bucket=name, Key="after-rotation.bin", Body=b"after", ServerSideEncryption="AES256")
    assert body_of(cos.get_object(Bucket=name, Key="after-rotation.bin")) == b"after"
