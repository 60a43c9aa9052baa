"""COS bad input never gives a 5xx, and POST Object is authorised before its file is accepted: odd code points in
listings, CR/LF/NUL in response overrides and form fields, malformed copy sources, malformed POST policies,
content-length-range enforced while streaming, redirects only where the signed policy names them."""

import base64
import hashlib
import hmac
import json
import socket
import time
import uuid
from datetime import UTC, datetime, timedelta

import pytest
import requests

from tests.protocol import wire
from tests.protocol.support import body_of, error_code, files_under, manage, object_url, proxies, virtual_host

DATA = b"uploaded from a browser form"

# -- listings ---------------------------------------------------------------------------------------------

ODD = ["\U0010ffff", "a\U0010ffff", "\U0010ffff\U0010ffff", "\ufffe", "\uffff", "\x01", "\x7f", "\u2028"]


@pytest.mark.parametrize("value", ODD, ids=[f"U+{ord(v[-1]):04X}-{len(v)}" for v in ODD])
@pytest.mark.parametrize("name", ["prefix", "delimiter", "marker"])
def test_list_objects_with_an_odd_code_point_is_not_a_server_error(kinko, cos, bucket, name, value):
    cos.put_object(Bucket=bucket, Key="a/b.txt", Body=b"x")
    response = wire.send(kinko, cos, "GET", bucket, params={name: value, "encoding-type": "url"})
    assert response.status_code == 200, response.content


@pytest.mark.parametrize("name", ["prefix", "delimiter", "key-marker"])
def test_list_multipart_uploads_with_u10ffff_is_not_a_server_error(kinko, cos, bucket, name):
    cos.create_multipart_upload(Bucket=bucket, Key="a/b.bin")
    response = wire.send(kinko, cos, "GET", bucket, params={"uploads": "", name: "\U0010ffff", "encoding-type": "url"})
    assert response.status_code == 200, response.content


def test_prefix_ending_in_u10ffff_lists_the_keys_under_it(cos, bucket):
    cos.put_object(Bucket=bucket, Key="p\U0010ffff/x", Body=b"x")
    cos.put_object(Bucket=bucket, Key="q", Body=b"x")
    keys = [item["Key"] for item in cos.list_objects(Bucket=bucket, Prefix="p\U0010ffff").get("Contents", [])]
    assert keys == ["p\U0010ffff/x"]


# -- response overrides -----------------------------------------------------------------------------------


@pytest.mark.parametrize("value", ["a\r\nSet-Cookie: x=1", "a\nb", "a\rb", "a\x00b"], ids=["crlf", "lf", "cr", "nul"])
@pytest.mark.parametrize("name", ["response-content-type", "response-content-disposition", "response-expires"])
def test_response_override_with_a_control_character_is_invalid_argument(kinko, cos, bucket, name, value):
    cos.put_object(Bucket=bucket, Key="a.txt", Body=b"x")
    response = wire.send(kinko, cos, "GET", bucket, "a.txt", params={name: value})
    assert (response.status_code, error_code(response)) == (400, "InvalidArgument")
    assert "Set-Cookie" not in response.headers


# -- copy source ------------------------------------------------------------------------------------------

MALFORMED_SOURCES = [
    "",
    "/",
    "%",
    "http://",
    "http://[::1",
    "http://[zz]/k",
    "nohost/k",
    "a.cos.ap-guangzhou.myqcloud.com",
    "a.cos.ap-guangzhou.myqcloud.com/%ff%fe",
    "a.cos.ap-guangzhou.myqcloud.com:notaport/k",
    "a.cos.ap-guangzhou.myqcloud.com/k\x00",
    "\udcff",
    "a.cos..myqcloud.com/k",
    "x" * 5000,
]


@pytest.mark.parametrize("source", MALFORMED_SOURCES)
def test_malformed_copy_source_is_a_client_error(kinko, cos, bucket, source):
    response = wire.send(
        kinko,
        cos,
        "PUT",
        bucket,
        "copy.txt",
        headers={"x-cos-copy-source": source.encode("utf-8", "surrogateescape")},
        data=b"",
    )
    assert 400 <= response.status_code < 500, response.content
    assert cos.object_exists(Bucket=bucket, Key="copy.txt") is False


# -- stored headers that cannot be sent -------------------------------------------------------------------

CORRUPT = """
from buckets.models import StoredObject
obj = StoredObject.objects.get(bucket__name={bucket!r}, key={key!r})
obj.headers = {{"Content-Disposition": "a\\r\\nSet-Cookie: x=1", "Cache-Control": "ok\\x00"}}
obj.metadata = {{"x-cos-meta-a": "b\\nc"}}
obj.save()
"""


def test_an_object_whose_stored_headers_hold_control_characters_still_reads(kinko, cos, bucket):
    cos.put_object(Bucket=bucket, Key="old.txt", Body=b"old bytes")
    manage(kinko, "shell", "-c", CORRUPT.format(bucket=bucket, key="old.txt"))
    response = wire.send(kinko, cos, "GET", bucket, "old.txt")
    assert (response.status_code, response.content) == (200, b"old bytes")
    assert "Set-Cookie" not in response.headers


# -- log lines --------------------------------------------------------------------------------------------


def test_an_object_key_with_control_characters_is_escaped_in_the_log(kinko, cos, bucket):
    marker = uuid.uuid4().hex
    with socket.create_connection(("127.0.0.1", kinko.port), timeout=10) as conn:
        conn.sendall(
            f"GET /{marker}%0D%0Aforged-{marker}%1B[31m HTTP/1.1\r\nHost: {virtual_host(bucket)}\r\n"
            "Connection: close\r\n\r\n".encode()
        )
        while conn.recv(65536):
            pass
    time.sleep(0.2)
    log = kinko.log()
    assert marker in log
    assert not any(line.startswith(f"forged-{marker}") for line in log.splitlines())
    assert "\x1b" not in log


# -- POST Object ------------------------------------------------------------------------------------------


def iso8601(moment: datetime, zone: str = ".000Z") -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S") + zone


def signed_fields(kinko, bucket: str, key: str, *conditions, expiration: str | None = None) -> list:
    keytime = f"{int(time.time()) - 60};{int(time.time()) + 3600}"
    policy = {
        "expiration": expiration or iso8601(datetime.now(UTC) + timedelta(hours=1)),
        "conditions": [{"bucket": bucket}, ["starts-with", "$key", ""], *conditions],
    }
    text = json.dumps(policy)
    sign_key = hmac.new(kinko.secret_key.encode(), keytime.encode(), hashlib.sha1).hexdigest()
    signature = hmac.new(sign_key.encode(), hashlib.sha1(text.encode()).hexdigest().encode(), hashlib.sha1)
    return [
        ("key", key),
        ("policy", base64.b64encode(text.encode()).decode()),
        ("q-sign-algorithm", "sha1"),
        ("q-ak", kinko.secret_id),
        ("q-key-time", keytime),
        ("q-signature", signature.hexdigest()),
    ]


def post_form(kinko, bucket: str, fields: list, data: bytes = DATA) -> requests.Response:
    files = [(name, (None, value)) for name, value in fields]
    files.append(("file", ("photo.jpg", data, "application/octet-stream")))
    return requests.post(object_url(bucket), files=files, proxies=proxies(kinko), allow_redirects=False, timeout=30)


def stored_files(kinko) -> set:
    return files_under(kinko.data_dir / "objects")


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("Content-Type", "text/plain\r\nX-Evil: 1"),
        ("Cache-Control", "a\nb"),
        ("Content-Disposition", "a\x00b"),
        ("x-cos-meta-note", "a\rb"),
        ("Expires", "\x7f"),
    ],
    ids=["content-type", "cache-control", "content-disposition", "meta", "expires"],
)
def test_post_object_field_with_a_control_character_is_invalid_argument(kinko, cos, bucket, name, value):
    response = post_form(kinko, bucket, [*signed_fields(kinko, bucket, "f.txt"), (name, value)])
    assert (response.status_code, error_code(response)) == (400, "InvalidArgument")
    assert cos.object_exists(Bucket=bucket, Key="f.txt") is False


def test_post_object_metadata_over_the_put_limit_is_metadata_too_large(kinko, cos, bucket):
    extra = [(f"x-cos-meta-m{i}", "v" * 200) for i in range(12)]
    response = post_form(kinko, bucket, [*signed_fields(kinko, bucket, "f.txt"), *extra])
    assert (response.status_code, error_code(response)) == (400, "MetadataTooLarge")
    assert cos.object_exists(Bucket=bucket, Key="f.txt") is False


@pytest.mark.parametrize("expiration", ["2099-01-01T00:00:00", "2099-01-01T00:00:00.000", "2099-01-01"])
def test_post_policy_expiration_without_a_zone_is_invalid_policy_document(kinko, bucket, expiration):
    response = post_form(kinko, bucket, signed_fields(kinko, bucket, "f.txt", expiration=expiration))
    assert (response.status_code, error_code(response)) == (400, "InvalidPolicyDocument")


@pytest.mark.parametrize("low_high", [("a", "b"), ("0", "x"), (None, 10), ([1], 10), ("1e3", "2e3"), (10, 1)])
def test_post_policy_with_a_malformed_content_length_range_is_invalid_policy_document(kinko, bucket, low_high):
    fields = signed_fields(kinko, bucket, "f.txt", ["content-length-range", *low_high])
    response = post_form(kinko, bucket, fields)
    assert (response.status_code, error_code(response)) == (400, "InvalidPolicyDocument")


def test_post_object_over_its_content_length_range_stores_nothing(kinko, cos, bucket):
    before = stored_files(kinko)
    fields = signed_fields(kinko, bucket, "big.bin", ["content-length-range", 0, 1024])
    response = post_form(kinko, bucket, fields, data=b"x" * (3 * 1024 * 1024))
    assert (response.status_code, error_code(response)) == (403, "AccessDenied")
    assert cos.object_exists(Bucket=bucket, Key="big.bin") is False
    assert stored_files(kinko) - before == set()


def test_post_object_under_its_content_length_range_is_refused(kinko, cos, bucket):
    fields = signed_fields(kinko, bucket, "small.bin", ["content-length-range", 100, 1024])
    response = post_form(kinko, bucket, fields, data=b"x")
    assert (response.status_code, error_code(response)) == (403, "AccessDenied")
    assert cos.object_exists(Bucket=bucket, Key="small.bin") is False


def _start_form(kinko, bucket: str, fields: list, declared: int) -> socket.socket:
    """A form whose fields and the start of its file part are sent; the rest of the declared body is not."""
    boundary = "kinkoboundary" + uuid.uuid4().hex
    head = b"".join(
        f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode()
        for name, value in fields
    )
    head += f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="x.bin"\r\n\r\n'.encode()
    conn = socket.create_connection(("127.0.0.1", kinko.port), timeout=10)
    conn.sendall(
        f"POST / HTTP/1.1\r\nHost: {virtual_host(bucket)}\r\nContent-Type: multipart/form-data; boundary={boundary}\r\n"
        f"Content-Length: {len(head) + declared}\r\nConnection: close\r\n\r\n".encode()
        + head
        + b"y" * 65536
    )
    return conn


def _status_before_the_body_ends(conn: socket.socket) -> int:
    conn.settimeout(5)
    reply = b""
    try:
        while b"\r\n" not in reply:
            chunk = conn.recv(4096)
            if not chunk:
                break
            reply += chunk
    except TimeoutError:
        return 0
    finally:
        conn.close()
    return int(reply.split(b" ", 2)[1]) if reply.startswith(b"HTTP/") else 0


def test_post_object_with_a_bad_signature_is_refused_before_its_file_is_read(kinko, bucket):
    fields = signed_fields(kinko, bucket, "f.bin")
    fields = [(name, "0" * 40 if name == "q-signature" else value) for name, value in fields]
    before = stored_files(kinko)
    assert _status_before_the_body_ends(_start_form(kinko, bucket, fields, 50 * 1024 * 1024)) == 403
    assert stored_files(kinko) - before == set()


def test_unsigned_post_object_to_a_private_bucket_is_refused_before_its_file_is_read(kinko, bucket):
    assert _status_before_the_body_ends(_start_form(kinko, bucket, [("key", "f.bin")], 50 * 1024 * 1024)) == 403


def test_post_object_over_its_content_length_range_is_refused_while_streaming(kinko, bucket):
    fields = signed_fields(kinko, bucket, "f.bin", ["content-length-range", 0, 1024])
    assert _status_before_the_body_ends(_start_form(kinko, bucket, fields, 50 * 1024 * 1024)) == 403


def test_success_action_redirect_not_named_by_the_policy_is_refused(kinko, cos, bucket):
    fields = [*signed_fields(kinko, bucket, "f.txt"), ("success_action_redirect", "https://evil.example/")]
    response = post_form(kinko, bucket, fields)
    assert (response.status_code, error_code(response)) == (403, "AccessDenied")
    assert cos.object_exists(Bucket=bucket, Key="f.txt") is False


def test_success_action_redirect_named_by_the_policy_redirects(kinko, cos, bucket):
    target = "https://app.example/done"
    fields = [
        *signed_fields(kinko, bucket, "f.txt", {"success_action_redirect": target}),
        ("success_action_redirect", target),
    ]
    response = post_form(kinko, bucket, fields)
    assert (response.status_code, response.headers["Location"].split("?")[0]) == (303, target)
    assert body_of(cos.get_object(Bucket=bucket, Key="f.txt")) == DATA


def test_unsigned_post_object_with_a_redirect_is_refused(kinko, cos, bucket):
    cos.put_bucket_acl(Bucket=bucket, ACL="public-read-write")
    response = post_form(kinko, bucket, [("key", "f.txt"), ("success_action_redirect", "https://evil.example/")])
    assert (response.status_code, error_code(response)) == (403, "AccessDenied")
    assert cos.object_exists(Bucket=bucket, Key="f.txt") is False
