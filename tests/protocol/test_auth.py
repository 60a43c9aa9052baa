"""Request signatures: wrong keys, expired or missing signatures, tampering, presigned URLs."""

import time

import pytest
import requests
from qcloud_cos import CosServiceError

from tests.live import cos_client
from tests.protocol import wire


@pytest.fixture(params=["ip", "proxy"])
def proxy(request) -> bool:
    return request.param == "proxy"


def test_request_signed_with_a_wrong_secret_key_fails_with_signature_does_not_match(kinko, bucket, proxy):
    client = cos_client(kinko, secret_key="not-the-secret-key", proxy=proxy)
    with pytest.raises(CosServiceError) as err:
        client.list_objects(Bucket=bucket)
    assert (err.value.get_status_code(), err.value.get_error_code()) == (403, "SignatureDoesNotMatch")


def test_put_object_signed_with_a_wrong_secret_key_stores_nothing(kinko, cos, bucket):
    client = cos_client(kinko, secret_key="not-the-secret-key")
    with pytest.raises(CosServiceError):
        client.put_object(Bucket=bucket, Key="a.txt", Body=b"x")
    assert cos.object_exists(Bucket=bucket, Key="a.txt") is False


def test_request_with_an_unknown_secret_id_fails_with_invalid_access_key_id(kinko, bucket, proxy):
    client = cos_client(kinko, secret_id="AKIDunknownSecretId0000000000000000", proxy=proxy)
    with pytest.raises(CosServiceError) as err:
        client.list_objects(Bucket=bucket)
    assert (err.value.get_status_code(), err.value.get_error_code()) == (403, "InvalidAccessKeyId")


def test_head_with_a_wrong_secret_key_fails_with_403(kinko, bucket):
    client = cos_client(kinko, secret_key="not-the-secret-key")
    with pytest.raises(CosServiceError) as err:
        client.head_bucket(Bucket=bucket)
    assert err.value.get_status_code() == 403


def test_expired_signature_fails_with_access_denied(kinko, cos, bucket):
    response = wire.send(kinko, cos, "GET", bucket, "a.txt", expired=600, signed_at=time.time() - 3600)
    fields = wire.error_fields(response.content)
    assert (response.status_code, fields["Code"], fields["Message"]) == (403, "AccessDenied", "Request has expired")


def test_signature_valid_only_in_the_future_fails_with_request_time_too_skewed(kinko, cos, bucket):
    response = wire.send(kinko, cos, "GET", bucket, "a.txt", expired=600, signed_at=time.time() + 3600)
    assert (response.status_code, wire.error_code(response.content)) == (403, "RequestTimeTooSkewed")


def test_signature_with_a_short_window_that_is_still_open_is_accepted(kinko, cos, bucket):
    cos.put_object(Bucket=bucket, Key="a.txt", Body=b"x")
    response = wire.send(kinko, cos, "GET", bucket, "a.txt", expired=120, signed_at=time.time() - 30)
    assert (response.status_code, response.content) == (200, b"x")


@pytest.mark.parametrize(
    ("method", "key", "params"),
    [("GET", "a.txt", None), ("PUT", "a.txt", None), ("DELETE", "a.txt", None), ("GET", "", None)],
    ids=["get-object", "put-object", "delete-object", "list-objects"],
)
def test_request_without_authorization_fails_with_access_denied(kinko, cos, bucket, method, key, params):
    cos.put_object(Bucket=bucket, Key="a.txt", Body=b"x")
    response = wire.send(kinko, None, method, bucket, key, params=params, data=b"y" if method == "PUT" else None)
    assert (response.status_code, wire.error_code(response.content)) == (403, "AccessDenied")


def test_request_without_authorization_changes_nothing(kinko, cos, bucket):
    cos.put_object(Bucket=bucket, Key="a.txt", Body=b"x")
    wire.send(kinko, None, "PUT", bucket, "a.txt", data=b"overwritten")
    wire.send(kinko, None, "DELETE", bucket, "a.txt")
    assert cos.get_object(Bucket=bucket, Key="a.txt")["Body"].get_raw_stream().read() == b"x"


def test_anonymous_sdk_request_fails_with_access_denied(kinko, bucket, proxy):
    client = cos_client(kinko, proxy=proxy, Anonymous=True)
    with pytest.raises(CosServiceError) as err:
        client.get_object(Bucket=bucket, Key="a.txt")
    assert (err.value.get_status_code(), err.value.get_error_code()) == (403, "AccessDenied")


def test_anonymous_head_object_fails_with_403_and_a_request_id(kinko, cos, bucket):
    cos.put_object(Bucket=bucket, Key="a.txt", Body=b"x")
    client = cos_client(kinko, Anonymous=True)
    with pytest.raises(CosServiceError) as err:
        client.head_object(Bucket=bucket, Key="a.txt")
    assert err.value.get_status_code() == 403
    assert "x-cos-request-id" in err.value.get_digest_msg()


def test_signature_for_another_key_fails_with_signature_does_not_match(kinko, cos, bucket):
    cos.put_object(Bucket=bucket, Key="b.txt", Body=b"x")
    headers = {"Host": wire.virtual_host(bucket)}
    headers["Authorization"] = wire.authorization(cos, "GET", "a.txt", headers)
    response = requests.get(f"{kinko.url}/b.txt", headers=headers, timeout=10)
    assert (response.status_code, wire.error_code(response.content)) == (403, "SignatureDoesNotMatch")


def test_signature_for_another_method_fails_with_signature_does_not_match(kinko, cos, bucket):
    headers = {"Host": wire.virtual_host(bucket), "Content-Length": "0"}
    headers["Authorization"] = wire.authorization(cos, "GET", "a.txt", headers)
    response = requests.delete(f"{kinko.url}/a.txt", headers=headers, timeout=10)
    assert (response.status_code, wire.error_code(response.content)) == (403, "SignatureDoesNotMatch")


def test_changed_signed_header_fails_with_signature_does_not_match(kinko, cos, bucket):
    headers = {"Host": wire.virtual_host(bucket), "x-cos-meta-color": "blue", "Content-Length": "1"}
    headers["Authorization"] = wire.authorization(cos, "PUT", "a.txt", headers)
    headers["x-cos-meta-color"] = "red"
    response = requests.put(f"{kinko.url}/a.txt", headers=headers, data=b"x", timeout=10)
    assert (response.status_code, wire.error_code(response.content)) == (403, "SignatureDoesNotMatch")


def test_changed_signed_parameter_fails_with_signature_does_not_match(kinko, cos, bucket):
    headers = {"Host": wire.virtual_host(bucket)}
    headers["Authorization"] = wire.authorization(cos, "GET", "", headers, params={"prefix": "a"})
    response = requests.get(f"{kinko.url}/", params={"prefix": "b"}, headers=headers, timeout=10)
    assert (response.status_code, wire.error_code(response.content)) == (403, "SignatureDoesNotMatch")


def test_presigned_url_downloads_the_object_through_the_proxy(kinko, cos_proxy, bucket):
    cos_proxy.put_object(Bucket=bucket, Key="shared file.txt", Body=b"shared")
    url = cos_proxy.get_presigned_url(Bucket=bucket, Key="shared file.txt", Method="GET")
    response = requests.get(url, proxies={"http": kinko.url}, timeout=10)
    assert (response.status_code, response.content) == (200, b"shared")


def test_presigned_url_for_another_key_fails_with_signature_does_not_match(kinko, cos_proxy, bucket):
    cos_proxy.put_object(Bucket=bucket, Key="other.txt", Body=b"secret")
    url = cos_proxy.get_presigned_url(Bucket=bucket, Key="shared.txt", Method="GET")
    response = requests.get(url.replace("/shared.txt?", "/other.txt?"), proxies={"http": kinko.url}, timeout=10)
    assert (response.status_code, wire.error_code(response.content)) == (403, "SignatureDoesNotMatch")
