"""COS q-sign signatures: the math pinned by Tencent's published vectors (spec §2.5), and `authenticate()`
checked against requests signed by the real SDK signer (`qcloud_cos.cos_auth.CosS3Auth`)."""

from urllib.parse import parse_qsl, unquote, urlsplit

import pytest
import requests
from qcloud_cos import CosConfig, CosS3Client
from qcloud_cos.cos_auth import CosS3Auth
from qcloud_cos.cos_comm import format_values

from buckets import errors
from buckets.api import auth
from roles import service
from roles.models import ApiKeyStatus

# Tencent's documented example credentials (doc 436/7778) and the request of spec §2.5.
DOC_SECRET_ID = "AKIDQjz3ltompVjBni5LitkWHFlFpwkn9U5q"
DOC_SECRET_KEY = "BQYIM75p8x0iWVFSIgqEKwFprpRSVHlz"
DOC_HOST = "examplebucket-1250000000.cos.ap-beijing.myqcloud.com"
DOC_PATH = "/exampleobject(腾讯云)"
DOC_PUT_HEADERS = {
    "Host": DOC_HOST,
    "Content-Type": "text/plain",
    "Content-Length": "13",
    "Content-MD5": "mQ/fVh815F3k6TAUm8m0eg==",
    "x-cos-acl": "private",
    "x-cos-grant-read": 'uin="100000000011"',
}
EXAMPLE_2_AUTHORIZATION = (
    "q-sign-algorithm=sha1&q-ak=AKIDQjz3ltompVjBni5LitkWHFlFpwkn9U5q"
    "&q-sign-time=1557989151;1557996411&q-key-time=1557989151;1557996411"
    "&q-header-list=content-length;content-md5;content-type;host;x-cos-acl;x-cos-grant-read"
    "&q-url-param-list=&q-signature=530a264598561ba287f8af9eb227950d5a84df1e"
)
EXAMPLE_2_NOW = 1557989211

BUCKET_HOST = "examplebucket-1250000000.cos.ap-guangzhou.myqcloud.com"
OBJECT_URL = f"https://{BUCKET_HOST}/dir/hello%20world.txt"
OBJECT_PATH = "/dir/hello world.txt"


def encoded(pairs: dict[str, str]) -> list[tuple[str, str]]:
    return [(auth.encode(name).lower(), auth.encode(value)) for name, value in pairs.items()]


def sdk_config(secret_id: str, secret_key: str) -> CosConfig:
    return CosConfig(Region="ap-guangzhou", SecretId=secret_id, SecretKey=secret_key)


def sdk_signed(
    key,
    method: str,
    url: str,
    *,
    path: str = OBJECT_PATH,
    headers: dict | None = None,
    params: dict | None = None,
    data: bytes | None = None,
    secret_id: str | None = None,
) -> requests.PreparedRequest:
    """A request as the SDK prepares it: header values as bytes (format_values), then signed by CosS3Auth."""
    params = params or {}
    prepared = requests.Request(
        method, url, headers=format_values(dict(headers or {})), params=params, data=data
    ).prepare()
    config = sdk_config(secret_id or key.secret_id, key.secret_key())
    return CosS3Auth(config, path.lstrip("/"), params=params)(prepared)


def as_received(prepared: requests.PreparedRequest) -> tuple[str, str, list[tuple[str, str]], dict[str, bytes]]:
    """What the server hands authenticate(): method, decoded path, decoded query pairs, raw header bytes.

    The Host header is the URL's netloc, as the HTTP client sends it when the SDK did not set one.
    """
    url = urlsplit(prepared.url)
    headers = {
        name.lower(): value if isinstance(value, bytes) else value.encode("latin-1")
        for name, value in prepared.headers.items()
    }
    headers.setdefault("host", url.netloc.encode())
    return prepared.method, unquote(url.path), parse_qsl(url.query, keep_blank_values=True), headers


def sign_window(headers: dict[str, bytes]) -> tuple[int, int]:
    fields = auth.signature_fields(headers["authorization"].decode(), {})
    start, end = fields["q-sign-time"].split(";")
    return int(start), int(end)


def with_authorization_field(headers: dict[str, bytes], name: str, value: str) -> dict[str, bytes]:
    fields = dict(part.split("=", 1) for part in headers["authorization"].decode("latin-1").split("&"))
    fields[name] = value
    text = "&".join(f"{k}={v}" for k, v in fields.items())
    return {**headers, "authorization": text.encode("latin-1")}


@pytest.fixture
def account(db):
    return service.create_account("1250000000")


@pytest.fixture
def key(account):
    return service.create_api_key(account)


# -- the math, pinned by published vectors ---------------------------------------------------------------


def test_compute_signature_reproduces_tencents_published_put_vector():
    headers = {**DOC_PUT_HEADERS, "Date": "Thu, 16 May 2019 06:45:51 GMT"}
    signature = auth.compute_signature(DOC_SECRET_KEY, "1557989151;1557996351", "PUT", DOC_PATH, [], encoded(headers))
    assert signature == "3b8851a11a569213c17ba8fa7dcf2abec6935172"


def test_compute_signature_reproduces_the_sdk_signature_of_a_put_without_date():
    signature = auth.compute_signature(
        DOC_SECRET_KEY, "1557989151;1557996411", "PUT", DOC_PATH, [], encoded(DOC_PUT_HEADERS)
    )
    assert signature == "530a264598561ba287f8af9eb227950d5a84df1e"


def test_compute_signature_reproduces_the_sdk_signature_of_a_listing_with_parameters():
    params = {"prefix": "dir/", "delimiter": "/", "marker": "", "max-keys": "1000", "encoding-type": "url"}
    signature = auth.compute_signature(
        DOC_SECRET_KEY, "1557989151;1557999211", "GET", "/", encoded(params), encoded({"host": DOC_HOST})
    )
    assert signature == "08bf3eae99b895a70578f28dc51c31e14c2be464"


def test_compute_signature_does_not_depend_on_the_order_of_pairs():
    pairs = encoded(DOC_PUT_HEADERS)
    forward = auth.compute_signature(DOC_SECRET_KEY, "1;2", "PUT", DOC_PATH, [], pairs)
    assert auth.compute_signature(DOC_SECRET_KEY, "1;2", "PUT", DOC_PATH, [], pairs[::-1]) == forward


def test_encode_leaves_only_unreserved_characters_and_uses_uppercase_hex():
    assert auth.encode("a b/c+d=é~_.-") == "a%20b%2Fc%2Bd%3D%C3%A9~_.-"


# -- authenticate(): header form -------------------------------------------------------------------------


@pytest.mark.django_db
def test_authenticate_accepts_the_published_sdk_authorization_header():
    account = service.create_account("1250000000")
    service.create_api_key(account, DOC_SECRET_ID, DOC_SECRET_KEY)
    headers = {name.lower(): value.encode() for name, value in DOC_PUT_HEADERS.items()}
    headers["authorization"] = EXAMPLE_2_AUTHORIZATION.encode()
    principal = auth.authenticate("PUT", DOC_PATH, [], headers, now=EXAMPLE_2_NOW)
    assert principal.api_key.secret_id == DOC_SECRET_ID
    assert principal.account == account


def test_authenticate_accepts_a_put_signed_by_the_sdk(key):
    prepared = sdk_signed(key, "PUT", OBJECT_URL, headers={"Content-MD5": "XrY7u+Ae7tCTyyK7j1rNww=="}, data=b"hello")
    principal = auth.authenticate(*as_received(prepared))
    assert principal.api_key == key
    assert principal.account == key.account


def test_authenticate_accepts_a_listing_signed_by_the_sdk_with_empty_parameters(key):
    params = {"prefix": "dir/", "delimiter": "/", "marker": "", "max-keys": "1000", "encoding-type": "url"}
    prepared = sdk_signed(key, "GET", f"https://{BUCKET_HOST}/", path="/", params=params)
    assert auth.authenticate(*as_received(prepared)).api_key == key


def test_authenticate_accepts_a_host_header_with_a_port_the_sdk_signed_without(key):
    prepared = sdk_signed(key, "GET", f"http://{BUCKET_HOST}:8080/dir/hello%20world.txt")
    method, path, query, headers = as_received(prepared)
    assert headers["host"] == f"{BUCKET_HOST}:8080".encode()
    assert auth.authenticate(method, path, query, headers).api_key == key


def test_authenticate_accepts_an_explicit_host_header_signed_by_the_sdk(key):
    # IP mode: the SDK talks to 127.0.0.1:PORT but sets and signs the bucket's Host itself.
    prepared = sdk_signed(key, "GET", "http://127.0.0.1:8080/dir/hello%20world.txt", headers={"Host": BUCKET_HOST})
    method, path, query, headers = as_received(prepared)
    assert headers["host"] == BUCKET_HOST.encode()
    assert auth.authenticate(method, path, query, headers).api_key == key


def test_authenticate_accepts_a_utf8_metadata_value_signed_as_its_raw_bytes(key):
    prepared = sdk_signed(key, "PUT", OBJECT_URL, headers={"x-cos-meta-note": "中文 value"}, data=b"x")
    method, path, query, headers = as_received(prepared)
    assert headers["x-cos-meta-note"] == "中文 value".encode()
    assert auth.authenticate(method, path, query, headers).api_key == key


def test_authenticate_ignores_headers_and_parameters_that_were_not_signed(key):
    method, path, query, headers = as_received(sdk_signed(key, "GET", OBJECT_URL))
    headers = {**headers, "user-agent": b"changed in transit", "date": b"Thu, 01 Jan 1970 00:00:00 GMT"}
    assert auth.authenticate(method, path, [*query, ("unsigned", "value")], headers).api_key == key


def test_authenticate_rejects_a_tampered_signed_header(key):
    prepared = sdk_signed(key, "PUT", OBJECT_URL, headers={"x-cos-acl": "private"}, data=b"hello")
    method, path, query, headers = as_received(prepared)
    with pytest.raises(errors.SignatureDoesNotMatch):
        auth.authenticate(method, path, query, {**headers, "x-cos-acl": b"public-read"})


def test_authenticate_rejects_a_signed_header_that_was_dropped(key):
    prepared = sdk_signed(key, "PUT", OBJECT_URL, headers={"x-cos-acl": "private"}, data=b"hello")
    method, path, query, headers = as_received(prepared)
    del headers["x-cos-acl"]
    with pytest.raises(errors.SignatureDoesNotMatch):
        auth.authenticate(method, path, query, headers)


def test_authenticate_rejects_a_tampered_signed_parameter(key):
    params = {"prefix": "dir/", "max-keys": "10"}
    prepared = sdk_signed(key, "GET", f"https://{BUCKET_HOST}/", path="/", params=params)
    method, path, query, headers = as_received(prepared)
    tampered = [(name, "other/" if name == "prefix" else value) for name, value in query]
    with pytest.raises(errors.SignatureDoesNotMatch):
        auth.authenticate(method, path, tampered, headers)


def test_authenticate_rejects_a_request_replayed_on_another_key(key):
    method, _, query, headers = as_received(sdk_signed(key, "GET", OBJECT_URL))
    with pytest.raises(errors.SignatureDoesNotMatch):
        auth.authenticate(method, "/dir/other.txt", query, headers)


def test_authenticate_rejects_a_request_replayed_with_another_method(key):
    _, path, query, headers = as_received(sdk_signed(key, "GET", OBJECT_URL))
    with pytest.raises(errors.SignatureDoesNotMatch):
        auth.authenticate("DELETE", path, query, headers)


def test_authenticate_rejects_a_signature_made_with_another_secret_key(key):
    prepared = requests.Request("GET", OBJECT_URL).prepare()
    CosS3Auth(sdk_config(key.secret_id, "NotTheSecretKey0000000000000000x"), OBJECT_PATH, params={})(prepared)
    with pytest.raises(errors.SignatureDoesNotMatch):
        auth.authenticate(*as_received(prepared))


def test_authenticate_rejects_a_signature_with_non_ascii_characters_as_not_matching(key):
    method, path, query, headers = as_received(sdk_signed(key, "GET", OBJECT_URL))
    headers = with_authorization_field(headers, "q-signature", "\xe9" * 40)
    with pytest.raises(errors.SignatureDoesNotMatch):
        auth.authenticate(method, path, query, headers)


def test_authenticate_rejects_an_unknown_secret_id(key):
    prepared = sdk_signed(key, "GET", OBJECT_URL, secret_id="AKIDunknown00000000000000000000000000")
    with pytest.raises(errors.InvalidAccessKeyId):
        auth.authenticate(*as_received(prepared))


def test_authenticate_rejects_an_inactive_key(key):
    prepared = sdk_signed(key, "GET", OBJECT_URL)
    key.status = ApiKeyStatus.INACTIVE
    key.save()
    with pytest.raises(errors.InvalidAccessKeyId):
        auth.authenticate(*as_received(prepared))


def test_authenticate_rejects_a_request_after_its_sign_time_ended(key):
    method, path, query, headers = as_received(sdk_signed(key, "GET", OBJECT_URL))
    _, end = sign_window(headers)
    with pytest.raises(errors.AccessDenied) as err:
        auth.authenticate(method, path, query, headers, now=end + 1)
    assert err.value.message == "Request has expired"


def test_authenticate_accepts_a_request_at_the_last_second_of_its_sign_time(key):
    method, path, query, headers = as_received(sdk_signed(key, "GET", OBJECT_URL))
    _, end = sign_window(headers)
    assert auth.authenticate(method, path, query, headers, now=end).api_key == key


def test_authenticate_rejects_a_sign_time_starting_far_in_the_future(key):
    method, path, query, headers = as_received(sdk_signed(key, "GET", OBJECT_URL))
    start, _ = sign_window(headers)
    with pytest.raises(errors.RequestTimeTooSkewed):
        auth.authenticate(method, path, query, headers, now=start - 24 * 3600)


def test_authenticate_accepts_a_sign_time_starting_a_minute_ahead_of_the_server_clock(key):
    method, path, query, headers = as_received(sdk_signed(key, "GET", OBJECT_URL))
    start, _ = sign_window(headers)
    assert auth.authenticate(method, path, query, headers, now=start - 60).api_key == key


def test_authenticate_rejects_a_key_time_that_ended_even_if_the_sign_time_did_not(key):
    method, path, query, headers = as_received(sdk_signed(key, "GET", OBJECT_URL))
    start, end = sign_window(headers)
    headers = with_authorization_field(headers, "q-key-time", f"{start};{start + 1}")
    with pytest.raises(errors.AccessDenied, match="expired"):
        auth.authenticate(method, path, query, headers, now=start + 2)


def test_authenticate_rejects_a_malformed_sign_time(key):
    method, path, query, headers = as_received(sdk_signed(key, "GET", OBJECT_URL))
    with pytest.raises(errors.AccessDenied):
        auth.authenticate(method, path, query, with_authorization_field(headers, "q-sign-time", "soon;later"))


def test_authenticate_rejects_a_sign_time_of_non_ascii_digits_as_malformed(key):
    # Header bytes arrive Latin-1 decoded: b"\xb2" is "²", which str.isdigit() accepts and int() refuses.
    method, path, query, headers = as_received(sdk_signed(key, "GET", OBJECT_URL))
    with pytest.raises(errors.AccessDenied):
        auth.authenticate(method, path, query, with_authorization_field(headers, "q-sign-time", "\xb2;\xb2"))


def test_authenticate_rejects_an_algorithm_other_than_sha1(key):
    method, path, query, headers = as_received(sdk_signed(key, "GET", OBJECT_URL))
    with pytest.raises(errors.AccessDenied, match="sha1"):
        auth.authenticate(method, path, query, with_authorization_field(headers, "q-sign-algorithm", "sha256"))


def test_authenticate_rejects_an_authorization_missing_a_field(key):
    method, path, query, headers = as_received(sdk_signed(key, "GET", OBJECT_URL))
    text = headers["authorization"].decode().replace("&q-key-time=", "&q-other=")
    with pytest.raises(errors.AccessDenied, match="q-key-time"):
        auth.authenticate(method, path, query, {**headers, "authorization": text.encode()})


@pytest.mark.django_db
def test_authenticate_returns_none_for_a_request_without_authorization():
    assert auth.authenticate("GET", OBJECT_PATH, [], {"host": BUCKET_HOST.encode()}) is None


@pytest.mark.django_db
def test_authenticate_returns_none_for_an_empty_authorization_header():
    # The SDK's Anonymous=True sends "Authorization: " with an empty value.
    headers = {"host": BUCKET_HOST.encode(), "authorization": b""}
    assert auth.authenticate("GET", OBJECT_PATH, [], headers) is None


def test_authenticate_accepts_an_anonymous_request_prepared_by_the_sdk(key):
    prepared = requests.Request("GET", OBJECT_URL).prepare()
    config = CosConfig(Region="ap-guangzhou", Anonymous=True)
    CosS3Auth(config, OBJECT_PATH, params={})(prepared)
    assert auth.authenticate(*as_received(prepared)) is None


# -- authenticate(): presigned query form ----------------------------------------------------------------


def presigned(key, **options) -> tuple[str, str, list[tuple[str, str]], dict[str, bytes]]:
    client = CosS3Client(sdk_config(key.secret_id, key.secret_key()))
    url = urlsplit(client.get_presigned_url(Bucket="examplebucket-1250000000", Key="dir/hello world.txt", **options))
    return "GET", unquote(url.path), parse_qsl(url.query, keep_blank_values=True), {"host": url.netloc.encode()}


def test_authenticate_accepts_a_presigned_url_from_the_sdk(key):
    assert auth.authenticate(*presigned(key, Method="GET")).api_key == key


def test_authenticate_accepts_a_presigned_url_with_signed_parameters_containing_spaces(key):
    params = {"response-content-disposition": 'attachment; filename="a b.txt"'}
    method, path, query, headers = presigned(key, Method="GET", Params=params)
    assert ("response-content-disposition", 'attachment; filename="a b.txt"') in query
    assert auth.authenticate(method, path, query, headers).api_key == key


def test_authenticate_rejects_a_presigned_url_with_a_tampered_signed_parameter(key):
    params = {"response-content-disposition": "attachment"}
    method, path, query, headers = presigned(key, Method="GET", Params=params)
    tampered = [(n, "inline" if n == "response-content-disposition" else v) for n, v in query]
    with pytest.raises(errors.SignatureDoesNotMatch):
        auth.authenticate(method, path, tampered, headers)


def test_authenticate_rejects_a_presigned_url_after_it_expired(key):
    method, path, query, headers = presigned(key, Method="GET", Expired=300)
    _, end = (int(t) for t in dict(query)["q-sign-time"].split(";"))
    with pytest.raises(errors.AccessDenied, match="expired"):
        auth.authenticate(method, path, query, headers, now=end + 1)


def test_authenticate_rejects_a_presigned_url_used_for_another_key(key):
    method, _, query, headers = presigned(key, Method="GET")
    with pytest.raises(errors.SignatureDoesNotMatch):
        auth.authenticate(method, "/dir/other.txt", query, headers)
