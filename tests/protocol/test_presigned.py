"""Presigned URLs made by the SDK (proxy mode, so they carry the bucket's virtual host) and used with `requests`."""

import time
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import pytest
import requests
from qcloud_cos import cos_auth

from tests.protocol.support import body_of, empty_and_delete, error_code, new_bucket, proxies


def fetch(kinko, method: str, url: str, **kwargs) -> requests.Response:
    return requests.request(method, url, proxies=proxies(kinko), timeout=10, **kwargs)


def presign_at(monkeypatch, client, moment: float, **kwargs) -> str:
    """A presigned URL generated as if the clock read `moment` (the SDK's signer reads time.time())."""
    with monkeypatch.context() as frozen:
        frozen.setattr(cos_auth.time, "time", lambda: moment)
        return client.get_presigned_url(**kwargs)


def with_query_value(url: str, name: str, change) -> str:
    parts = urlsplit(url)
    query = [(k, change(v) if k == name else v) for k, v in parse_qsl(parts.query, keep_blank_values=True)]
    return urlunsplit(parts._replace(query=urlencode(query)))


def flip_first_hex_digit(value: str) -> str:
    return ("1" if value[0] == "0" else "0") + value[1:]


# -- GET, PUT, DELETE -------------------------------------------------------------------------------------


def test_presigned_get_url_downloads_the_object(kinko, cos_proxy, bucket):
    cos_proxy.put_object(Bucket=bucket, Key="shared.txt", Body=b"presigned content")
    url = cos_proxy.get_presigned_url(Bucket=bucket, Key="shared.txt", Method="GET")
    assert fetch(kinko, "GET", url).content == b"presigned content"


def test_presigned_download_url_downloads_the_object(kinko, cos_proxy, bucket):
    cos_proxy.put_object(Bucket=bucket, Key="shared.txt", Body=b"presigned content")
    url = cos_proxy.get_presigned_download_url(Bucket=bucket, Key="shared.txt")
    assert fetch(kinko, "GET", url).content == b"presigned content"


def test_presigned_download_url_for_an_awkward_key(kinko, cos_proxy, bucket):
    key = "dir/中文 file+plus%.txt"
    cos_proxy.put_object(Bucket=bucket, Key=key, Body=b"awkward")
    url = cos_proxy.get_presigned_download_url(Bucket=bucket, Key=key)
    assert fetch(kinko, "GET", url).content == b"awkward"


def test_presigned_download_url_honours_signed_response_overrides(kinko, cos_proxy, bucket):
    cos_proxy.put_object(Bucket=bucket, Key="shared.txt", Body=b"presigned content")
    url = cos_proxy.get_presigned_download_url(
        Bucket=bucket, Key="shared.txt", Params={"response-content-disposition": 'attachment; filename="a b.txt"'}
    )
    assert fetch(kinko, "GET", url).headers["Content-Disposition"] == 'attachment; filename="a b.txt"'


def test_presigned_put_url_uploads_the_body(kinko, cos_proxy, bucket):
    url = cos_proxy.get_presigned_url(Bucket=bucket, Key="uploaded.txt", Method="PUT")
    fetch(kinko, "PUT", url, data=b"put through a presigned url")
    assert body_of(cos_proxy.get_object(Bucket=bucket, Key="uploaded.txt")) == b"put through a presigned url"


def test_presigned_put_url_answers_200_with_the_md5_etag(kinko, cos_proxy, bucket):
    url = cos_proxy.get_presigned_url(Bucket=bucket, Key="uploaded.txt", Method="PUT")
    response = fetch(kinko, "PUT", url, data=b"abc")
    assert (response.status_code, response.headers["ETag"]) == (200, '"900150983cd24fb0d6963f7d28e17f72"')


def test_presigned_delete_url_deletes_the_object(kinko, cos_proxy, bucket):
    cos_proxy.put_object(Bucket=bucket, Key="doomed.txt", Body=b"x")
    url = cos_proxy.get_presigned_url(Bucket=bucket, Key="doomed.txt", Method="DELETE")
    fetch(kinko, "DELETE", url)
    assert cos_proxy.object_exists(Bucket=bucket, Key="doomed.txt") is False


# -- refusals ---------------------------------------------------------------------------------------------


def test_expired_presigned_url_is_access_denied(kinko, cos_proxy, bucket, monkeypatch):
    cos_proxy.put_object(Bucket=bucket, Key="shared.txt", Body=b"x")
    url = presign_at(
        monkeypatch, cos_proxy, time.time() - 3600, Bucket=bucket, Key="shared.txt", Method="GET", Expired=60
    )
    response = fetch(kinko, "GET", url)
    assert (response.status_code, error_code(response)) == (403, "AccessDenied")


def test_expired_presigned_put_url_stores_nothing(kinko, cos_proxy, bucket, monkeypatch):
    url = presign_at(
        monkeypatch, cos_proxy, time.time() - 3600, Bucket=bucket, Key="late.txt", Method="PUT", Expired=60
    )
    fetch(kinko, "PUT", url, data=b"too late")
    assert cos_proxy.object_exists(Bucket=bucket, Key="late.txt") is False


def test_presigned_url_not_yet_valid_is_request_time_too_skewed(kinko, cos_proxy, bucket, monkeypatch):
    cos_proxy.put_object(Bucket=bucket, Key="shared.txt", Body=b"x")
    url = presign_at(monkeypatch, cos_proxy, time.time() + 3600, Bucket=bucket, Key="shared.txt", Method="GET")
    response = fetch(kinko, "GET", url)
    assert (response.status_code, error_code(response)) == (403, "RequestTimeTooSkewed")


def test_presigned_url_with_a_changed_signature_is_signature_does_not_match(kinko, cos_proxy, bucket):
    cos_proxy.put_object(Bucket=bucket, Key="shared.txt", Body=b"x")
    url = cos_proxy.get_presigned_download_url(Bucket=bucket, Key="shared.txt")
    response = fetch(kinko, "GET", with_query_value(url, "q-signature", flip_first_hex_digit))
    assert (response.status_code, error_code(response)) == (403, "SignatureDoesNotMatch")


def test_presigned_url_with_a_changed_key_is_signature_does_not_match(kinko, cos_proxy, bucket):
    cos_proxy.put_object(Bucket=bucket, Key="shared.txt", Body=b"x")
    cos_proxy.put_object(Bucket=bucket, Key="secret.txt", Body=b"y")
    url = cos_proxy.get_presigned_download_url(Bucket=bucket, Key="shared.txt")
    response = fetch(kinko, "GET", url.replace("/shared.txt?", "/secret.txt?"))
    assert (response.status_code, error_code(response)) == (403, "SignatureDoesNotMatch")


def test_presigned_url_with_a_changed_bucket_is_signature_does_not_match(kinko, cos, cos_proxy, bucket):
    other = new_bucket(cos)
    try:
        cos_proxy.put_object(Bucket=other, Key="shared.txt", Body=b"y")
        url = cos_proxy.get_presigned_download_url(Bucket=bucket, Key="shared.txt")
        response = fetch(kinko, "GET", url.replace(f"//{bucket}.", f"//{other}."))
    finally:
        empty_and_delete(cos, other)
    assert (response.status_code, error_code(response)) == (403, "SignatureDoesNotMatch")


def test_presigned_url_with_a_longer_expiry_written_in_is_signature_does_not_match(kinko, cos_proxy, bucket):
    cos_proxy.put_object(Bucket=bucket, Key="shared.txt", Body=b"x")
    url = cos_proxy.get_presigned_download_url(Bucket=bucket, Key="shared.txt")

    def later(value: str) -> str:
        start, end = value.split(";")
        return f"{start};{int(end) + 86400}"

    url = with_query_value(with_query_value(url, "q-sign-time", later), "q-key-time", later)
    response = fetch(kinko, "GET", url)
    assert (response.status_code, error_code(response)) == (403, "SignatureDoesNotMatch")


def test_presigned_put_url_used_for_get_is_signature_does_not_match(kinko, cos_proxy, bucket):
    cos_proxy.put_object(Bucket=bucket, Key="shared.txt", Body=b"x")
    url = cos_proxy.get_presigned_url(Bucket=bucket, Key="shared.txt", Method="PUT")
    response = fetch(kinko, "GET", url)
    assert (response.status_code, error_code(response)) == (403, "SignatureDoesNotMatch")


def test_presigned_url_of_an_unknown_secret_id_is_invalid_access_key_id(kinko, cos_proxy, bucket):
    cos_proxy.put_object(Bucket=bucket, Key="shared.txt", Body=b"x")
    url = cos_proxy.get_presigned_download_url(Bucket=bucket, Key="shared.txt")
    response = fetch(kinko, "GET", with_query_value(url, "q-ak", lambda _: "AKIDnobodynobodynobody"))
    assert (response.status_code, error_code(response)) == (403, "InvalidAccessKeyId")


def test_presigned_put_with_server_side_encryption_as_url_parameter_is_invalid_argument(kinko, cos_proxy, bucket):
    url = cos_proxy.get_presigned_url(
        Bucket=bucket, Key="encrypted.txt", Method="PUT", Params={"x-cos-server-side-encryption": "AES256"}
    )
    response = fetch(kinko, "PUT", url, data=b"should be encrypted")
    assert (response.status_code, error_code(response)) == (400, "InvalidArgument")


def test_presigned_put_with_server_side_encryption_as_url_parameter_stores_nothing(kinko, cos_proxy, bucket):
    url = cos_proxy.get_presigned_url(
        Bucket=bucket, Key="encrypted.txt", Method="PUT", Params={"x-cos-server-side-encryption": "AES256"}
    )
    fetch(kinko, "PUT", url, data=b"should be encrypted")
    assert cos_proxy.object_exists(Bucket=bucket, Key="encrypted.txt") is False


@pytest.mark.parametrize("method", ["GET", "HEAD"])
def test_presigned_error_responses_carry_a_request_id(kinko, cos_proxy, bucket, method):
    url = cos_proxy.get_presigned_url(Bucket=bucket, Key="missing.txt", Method=method)
    response = fetch(kinko, method, url)
    assert (response.status_code, bool(response.headers.get("x-cos-request-id"))) == (404, True)
