"""A signature binds what acts: a presigned URL or a signed request cannot be turned into another operation by
adding headers or parameters nobody signed, and its window is bounded. Driven as an attacker would, with the SDK's
own presigned URLs and signer, and plain `requests`."""

import time

import pytest
import requests
from qcloud_cos import CosServiceError
from qcloud_cos.cos_auth import CosS3Auth

from tests.live import cos_client
from tests.protocol import wire
from tests.protocol.support import (
    anonymous,
    body_of,
    empty_and_delete,
    error_code,
    manage,
    new_bucket,
    proxies,
    virtual_host,
)

ENSURE_COS_ROLE = "from roles import service; service.ensure_cos_service_role(service.root_account())"
SECRET = b"the plaintext of a private SSE-KMS object"


def fetch(kinko, method: str, url: str, **kwargs) -> requests.Response:
    return requests.request(method, url, proxies=proxies(kinko), timeout=10, **kwargs)


def message(response: requests.Response) -> str:
    return wire.error_fields(response.content)["Message"]


@pytest.fixture(scope="module")
def kms_ready(kinko) -> None:
    manage(kinko, "activate_kms", "--json")
    manage(kinko, "shell", "-c", ENSURE_COS_ROLE)


@pytest.fixture
def secret_bucket(cos, kms_ready) -> str:
    """Another private bucket holding an SSE-KMS object, secret.txt."""
    name = new_bucket(cos)
    cos.put_object(Bucket=name, Key="secret.txt", Body=SECRET, ServerSideEncryption="cos/kms")
    yield name
    empty_and_delete(cos, name)


# -- a presigned PUT URL turned into a copy ---------------------------------------------------------------


def test_presigned_put_url_with_an_added_copy_source_is_access_denied_naming_it(
    kinko, cos_proxy, bucket, secret_bucket
):
    url = cos_proxy.get_presigned_url(Bucket=bucket, Key="stolen.txt", Method="PUT")
    headers = {"x-cos-copy-source": f"{virtual_host(secret_bucket)}/secret.txt", "x-cos-acl": "public-read"}
    response = fetch(kinko, "PUT", url, headers=headers)
    assert (response.status_code, error_code(response)) == (403, "AccessDenied")
    assert "x-cos-copy-source" in message(response)


def test_presigned_put_url_with_an_added_copy_source_copies_nothing(kinko, cos, cos_proxy, bucket, secret_bucket):
    url = cos_proxy.get_presigned_url(Bucket=bucket, Key="stolen.txt", Method="PUT")
    headers = {"x-cos-copy-source": f"{virtual_host(secret_bucket)}/secret.txt", "x-cos-acl": "public-read"}
    fetch(kinko, "PUT", url, headers=headers)
    assert anonymous(kinko, "GET", bucket, "stolen.txt").content != SECRET
    assert cos.object_exists(Bucket=bucket, Key="stolen.txt") is False


def test_presigned_put_url_with_an_added_acl_header_is_access_denied(kinko, cos, cos_proxy, bucket):
    url = cos_proxy.get_presigned_url(Bucket=bucket, Key="mine.txt", Method="PUT")
    response = fetch(kinko, "PUT", url, data=b"x", headers={"x-cos-acl": "public-read"})
    assert (response.status_code, error_code(response), "x-cos-acl" in message(response)) == (
        403,
        "AccessDenied",
        True,
    )
    assert cos.object_exists(Bucket=bucket, Key="mine.txt") is False


def test_presigned_put_url_with_an_appended_acl_is_access_denied_and_changes_no_acl(kinko, cos, cos_proxy, bucket):
    cos.put_object(Bucket=bucket, Key="private.txt", Body=b"private")
    url = cos_proxy.get_presigned_url(Bucket=bucket, Key="private.txt", Method="PUT")
    response = fetch(kinko, "PUT", url + "&acl", headers={"x-cos-acl": "public-read"})
    assert (response.status_code, error_code(response), "acl" in message(response)) == (403, "AccessDenied", True)
    assert anonymous(kinko, "GET", bucket, "private.txt").status_code == 403


def test_presigned_post_url_with_an_appended_uploads_is_access_denied(kinko, cos, cos_proxy, bucket):
    url = cos_proxy.get_presigned_url(Bucket=bucket, Key="big.bin", Method="POST")
    response = fetch(kinko, "POST", url + "&uploads")
    assert (response.status_code, error_code(response), "uploads" in message(response)) == (
        403,
        "AccessDenied",
        True,
    )
    assert cos.list_multipart_uploads(Bucket=bucket).get("Upload", []) == []


def test_presigned_put_url_with_an_appended_uploads_is_refused(kinko, cos_proxy, bucket):
    url = cos_proxy.get_presigned_url(Bucket=bucket, Key="big.bin", Method="PUT")
    response = fetch(kinko, "PUT", url + "&uploads", data=b"x")
    assert response.status_code in (400, 403)
    assert cos_proxy.object_exists(Bucket=bucket, Key="big.bin") is False


@pytest.fixture
def two_uploads(cos, bucket):
    first = cos.create_multipart_upload(Bucket=bucket, Key="big.bin")["UploadId"]
    second = cos.create_multipart_upload(Bucket=bucket, Key="big.bin")["UploadId"]
    return first, second


def test_presigned_upload_part_url_with_a_second_upload_id_is_invalid_argument(
    kinko, cos, cos_proxy, bucket, two_uploads
):
    first, second = two_uploads
    url = cos_proxy.get_presigned_url(
        Bucket=bucket, Key="big.bin", Method="PUT", Params={"partNumber": "1", "uploadId": first}
    )
    base, query = url.split("?", 1)
    response = fetch(kinko, "PUT", f"{base}?uploadId={second}&{query}", data=b"part")
    assert (response.status_code, error_code(response)) == (400, "InvalidArgument")
    assert cos.list_parts(Bucket=bucket, Key="big.bin", UploadId=second).get("Part", []) == []
    assert cos.list_parts(Bucket=bucket, Key="big.bin", UploadId=first).get("Part", []) == []


@pytest.mark.parametrize("variant", ["uploadid", "UploadId", "UPLOADID"])
def test_presigned_upload_part_url_with_a_case_variant_upload_id_is_invalid_argument(
    kinko, cos, cos_proxy, bucket, two_uploads, variant
):
    first, second = two_uploads
    url = cos_proxy.get_presigned_url(
        Bucket=bucket, Key="big.bin", Method="PUT", Params={"partNumber": "1", variant: first}
    )
    base, query = url.split("?", 1)
    response = fetch(kinko, "PUT", f"{base}?uploadId={second}&{query}", data=b"part")
    assert (response.status_code, error_code(response)) == (400, "InvalidArgument")
    assert cos.list_parts(Bucket=bucket, Key="big.bin", UploadId=second).get("Part", []) == []


def test_presigned_put_url_still_uploads(kinko, cos, cos_proxy, bucket):
    url = cos_proxy.get_presigned_url(Bucket=bucket, Key="fine.txt", Method="PUT")
    assert fetch(kinko, "PUT", url, data=b"fine").status_code == 200
    assert body_of(cos.get_object(Bucket=bucket, Key="fine.txt")) == b"fine"


# -- a signed request must list every header and parameter that acts ---------------------------------------


def signed_without(
    client, method: str, key: str, headers: dict, unsigned: dict, params: dict | None = None, sign_host: bool = True
) -> dict:
    """`headers` signed by the SDK's signer, then `unsigned` added after signing."""
    request = requests.Request(method, "http://127.0.0.1/", headers=dict(headers))
    signed = CosS3Auth(client.get_conf(), key, params or {}, 300, sign_host=sign_host)(request).headers
    return {**signed, **unsigned}


@pytest.mark.parametrize(
    "header",
    ["x-cos-meta-color", "x-cos-storage-class", "x-cos-server-side-encryption", "x-amz-meta-color", "Content-MD5"],
)
def test_put_object_with_an_unsigned_acting_header_is_access_denied_naming_it(kinko, cos, bucket, header):
    value = {
        "x-cos-storage-class": "STANDARD_IA",
        "x-cos-server-side-encryption": "AES256",
        "Content-MD5": "LZzB8Ew3ZtVM6xbrspGeqg==",
    }.get(header, "red")
    headers = signed_without(
        cos, "PUT", "a.txt", {"Host": virtual_host(bucket), "Content-Length": "1"}, {header: value}
    )
    response = requests.put(f"{kinko.url}/a.txt", headers=headers, data=b"x", timeout=10)
    assert (response.status_code, error_code(response)) == (403, "AccessDenied")
    assert header.lower() in message(response).lower()
    assert cos.object_exists(Bucket=bucket, Key="a.txt") is False


def test_request_that_does_not_sign_host_is_access_denied(kinko, cos, bucket):
    cos.put_object(Bucket=bucket, Key="a.txt", Body=b"x")
    headers = signed_without(cos, "GET", "a.txt", {}, {"Host": virtual_host(bucket)}, sign_host=False)
    response = requests.get(f"{kinko.url}/a.txt", headers=headers, timeout=10)
    assert (response.status_code, error_code(response), "host" in message(response)) == (403, "AccessDenied", True)


@pytest.mark.parametrize(
    ("method", "key", "params"),
    [
        ("GET", "", {"acl": ""}),
        ("GET", "a.txt", {"acl": ""}),
        ("GET", "", {"uploads": ""}),
        ("POST", "a.txt", {"uploads": ""}),
        ("GET", "", {"location": ""}),
        ("GET", "", {"encryption": ""}),
        ("POST", "", {"delete": ""}),
    ],
    ids=["bucket-acl", "object-acl", "list-uploads", "initiate", "location", "encryption", "delete"],
)
def test_request_with_an_unsigned_subresource_is_access_denied_naming_it(kinko, cos, bucket, method, key, params):
    cos.put_object(Bucket=bucket, Key="a.txt", Body=b"x")
    headers = signed_without(cos, method, key, {"Host": virtual_host(bucket), "Content-Length": "0"}, {})
    response = requests.request(method, f"{kinko.url}/{key}", params=params, headers=headers, timeout=10)
    name = next(iter(params))
    assert (response.status_code, error_code(response), name in message(response)) == (403, "AccessDenied", True)


def test_sdk_client_that_does_not_sign_parameters_cannot_read_an_acl(kinko, bucket):
    client = cos_client(kinko, SignParams=False)
    with pytest.raises(CosServiceError) as err:
        client.get_bucket_acl(Bucket=bucket)
    assert (err.value.get_status_code(), err.value.get_error_code()) == (403, "AccessDenied")


def test_sdk_requests_sign_everything_that_acts(cos, bucket):
    cos.put_object(
        Bucket=bucket,
        Key="a.txt",
        Body=b"x",
        Metadata={"x-cos-meta-a": "b"},
        EnableMD5=True,
        ServerSideEncryption="AES256",
        ACL="private",
        StorageClass="STANDARD",
    )
    upload = cos.create_multipart_upload(Bucket=bucket, Key="m.bin")["UploadId"]
    part = cos.upload_part(Bucket=bucket, Key="m.bin", Body=b"p", PartNumber=1, UploadId=upload, EnableMD5=True)
    cos.complete_multipart_upload(
        Bucket=bucket, Key="m.bin", UploadId=upload, MultipartUpload={"Part": [{"PartNumber": 1, "ETag": part["ETag"]}]}
    )
    cos.copy_object(Bucket=bucket, Key="c.txt", CopySource={"Bucket": bucket, "Key": "a.txt", "Region": "ap-guangzhou"})
    cos.put_object_acl(Bucket=bucket, Key="c.txt", ACL="public-read")
    assert body_of(cos.get_object(Bucket=bucket, Key="c.txt")) == b"x"


# -- the signature's window ---------------------------------------------------------------------------------


def test_presigned_url_valid_longer_than_the_maximum_is_access_denied(kinko, cos, cos_proxy, bucket):
    cos.put_object(Bucket=bucket, Key="a.txt", Body=b"x")
    url = cos_proxy.get_presigned_url(Bucket=bucket, Key="a.txt", Method="GET", Expired=8 * 86400)
    response = fetch(kinko, "GET", url)
    assert (response.status_code, error_code(response)) == (403, "AccessDenied")


def test_presigned_url_valid_for_the_maximum_is_accepted(kinko, cos, cos_proxy, bucket):
    cos.put_object(Bucket=bucket, Key="a.txt", Body=b"x")
    url = cos_proxy.get_presigned_url(Bucket=bucket, Key="a.txt", Method="GET", Expired=7 * 86400 - 60)
    assert fetch(kinko, "GET", url).content == b"x"


def test_signature_whose_key_time_ends_before_it_starts_is_access_denied(kinko, cos, bucket):
    cos.put_object(Bucket=bucket, Key="a.txt", Body=b"x")
    headers = {"Host": virtual_host(bucket)}
    now = int(time.time())
    authorization = wire.authorization(cos, "GET", "a.txt", headers)
    fields = dict(part.split("=", 1) for part in authorization.split("&"))
    fields["q-sign-time"] = fields["q-key-time"] = f"{now + 60};{now - 60}"
    headers["Authorization"] = "&".join(f"{k}={v}" for k, v in fields.items())
    response = requests.get(f"{kinko.url}/a.txt", headers=headers, timeout=10)
    assert (response.status_code, error_code(response)) == (403, "AccessDenied")
