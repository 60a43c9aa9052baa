"""PUT / HEAD / DELETE Object and DELETE Multiple Objects: bytes, digests, stored headers and metadata."""

import base64
import gzip
import hashlib
import os
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime

import pytest
from qcloud_cos import CosServiceError

from tests.live import cos_client
from tests.protocol import wire

AWKWARD_KEYS = [
    "with space.txt",
    "plus+sign",
    "100%",
    "percent%20literal",
    "中文/文件.txt",
    "question?mark",
    "hash#tag",
    "amp&er=sand",
    "semi;colon,comma",
    "quote'and\"double",
    "tilde~and!bang*(paren)",
    "a//b/../c",
    "./dot/./segments",
    "../../etc/passwd",
    "trailing-dot.",
    "folder/",
]


def body_of(result: dict) -> bytes:
    return result["Body"].get_raw_stream().read()


def md5_etag(data: bytes) -> str:
    return f'"{hashlib.md5(data).hexdigest()}"'


def b64_md5(data: bytes) -> str:
    return base64.b64encode(hashlib.md5(data).digest()).decode()


# -- PUT Object -------------------------------------------------------------------------------------------


def test_put_object_returns_the_md5_as_etag(any_cos, bucket):
    result = any_cos.put_object(Bucket=bucket, Key="a.txt", Body=b"hello world")
    assert result["ETag"] == md5_etag(b"hello world")


def test_put_object_returns_the_crc64ecma_of_the_content(any_cos, bucket):
    result = any_cos.put_object(Bucket=bucket, Key="a.txt", Body=b"hello world")
    assert result["x-cos-hash-crc64ecma"] == wire.crc64ecma(b"hello world")


def test_put_object_of_several_megabytes_round_trips(cos, bucket):
    data = os.urandom(2 * 1024 * 1024 + 12345)
    cos.put_object(Bucket=bucket, Key="big.bin", Body=data)
    assert body_of(cos.get_object(Bucket=bucket, Key="big.bin")) == data


def test_head_object_reports_the_crc64ecma_and_md5_of_a_multi_megabyte_object(cos, bucket):
    data = os.urandom(2 * 1024 * 1024 + 12345)
    cos.put_object(Bucket=bucket, Key="big.bin", Body=data)
    head = cos.head_object(Bucket=bucket, Key="big.bin")
    assert (head["ETag"], head["x-cos-hash-crc64ecma"]) == (md5_etag(data), wire.crc64ecma(data))


@pytest.mark.parametrize("key", AWKWARD_KEYS)
def test_put_object_with_an_awkward_key_round_trips(any_cos, bucket, key):
    any_cos.put_object(Bucket=bucket, Key=key, Body=key.encode())
    assert body_of(any_cos.get_object(Bucket=bucket, Key=key, KeySimplifyCheck=False)) == key.encode()


def test_put_object_does_not_normalise_the_key(cos, bucket):
    cos.put_object(Bucket=bucket, Key="a//b/../c", Body=b"x")
    keys = [item["Key"] for item in cos.list_objects(Bucket=bucket)["Contents"]]
    assert keys == ["a//b/../c"]


@pytest.mark.parametrize("read", ["get_object", "head_object"])
def test_put_object_keeps_user_metadata(any_cos, bucket, read):
    any_cos.put_object(Bucket=bucket, Key="m.txt", Body=b"x", Metadata={"x-cos-meta-color": "blue"})
    assert getattr(any_cos, read)(Bucket=bucket, Key="m.txt")["x-cos-meta-color"] == "blue"


def test_user_metadata_names_come_back_in_lowercase(any_cos, bucket):
    any_cos.put_object(Bucket=bucket, Key="m.txt", Body=b"x", Metadata={"x-cos-meta-CamelCase": "v"})
    assert any_cos.head_object(Bucket=bucket, Key="m.txt")["x-cos-meta-camelcase"] == "v"


@pytest.mark.parametrize("read", ["get_object", "head_object"])
def test_put_object_keeps_a_utf8_metadata_value(any_cos, bucket, read):
    any_cos.put_object(Bucket=bucket, Key="m.txt", Body=b"x", Metadata={"x-cos-meta-note": "中文 value ünï"})
    wire_value = getattr(any_cos, read)(Bucket=bucket, Key="m.txt")["x-cos-meta-note"]
    # http.client hands header values over Latin-1 decoded; the bytes on the wire are UTF-8.
    assert wire_value.encode("latin-1").decode("utf-8") == "中文 value ünï"


@pytest.mark.parametrize("read", ["get_object", "head_object"])
def test_put_object_keeps_the_content_type(any_cos, bucket, read):
    any_cos.put_object(Bucket=bucket, Key="page.html", Body=b"<p>", ContentType="text/html; charset=utf-8")
    assert getattr(any_cos, read)(Bucket=bucket, Key="page.html")["Content-Type"] == "text/html; charset=utf-8"


STANDARD_HEADERS = {
    "Cache-Control": "max-age=3600, public",
    "Content-Disposition": 'attachment; filename="report 2024.pdf"',
    "Content-Encoding": "identity",
    "Expires": "Wed, 21 Oct 2037 07:28:00 GMT",
}


@pytest.mark.parametrize("read", ["get_object", "head_object"])
def test_put_object_keeps_the_standard_representation_headers(any_cos, bucket, read):
    any_cos.put_object(
        Bucket=bucket,
        Key="doc.pdf",
        Body=b"%PDF",
        CacheControl=STANDARD_HEADERS["Cache-Control"],
        ContentDisposition=STANDARD_HEADERS["Content-Disposition"],
        ContentEncoding=STANDARD_HEADERS["Content-Encoding"],
        Expires=STANDARD_HEADERS["Expires"],
    )
    result = getattr(any_cos, read)(Bucket=bucket, Key="doc.pdf")
    assert {name: result.get(name) for name in STANDARD_HEADERS} == STANDARD_HEADERS


def test_get_object_returns_a_gzip_encoded_object_byte_for_byte(any_cos, bucket):
    data = gzip.compress(b"compressible " * 1000)
    any_cos.put_object(Bucket=bucket, Key="a.txt.gz", Body=data, ContentEncoding="gzip", ContentType="text/plain")
    got = any_cos.get_object(Bucket=bucket, Key="a.txt.gz")
    assert (got["Content-Encoding"], got["Content-Length"], body_of(got)) == ("gzip", str(len(data)), data)


def test_get_object_is_never_transport_compressed(any_cos, bucket):
    # The SDK always sends Accept-Encoding: gzip, deflate, but reads the raw bytes.
    data = b"very compressible text " * 2000
    any_cos.put_object(Bucket=bucket, Key="plain.txt", Body=data, ContentType="text/plain")
    got = any_cos.get_object(Bucket=bucket, Key="plain.txt")
    assert ("Content-Encoding" in got, body_of(got)) == (False, data)


def test_short_connection_request_is_answered_with_connection_close(kinko, bucket):
    client = cos_client(kinko, KeepAlive=False)
    assert client.put_object(Bucket=bucket, Key="a.txt", Body=b"x")["Connection"] == "close"


def test_put_object_with_enable_md5_is_stored(any_cos, bucket):
    any_cos.put_object(Bucket=bucket, Key="md5.txt", Body=b"checked", EnableMD5=True)
    assert body_of(any_cos.get_object(Bucket=bucket, Key="md5.txt")) == b"checked"


def test_put_object_with_wrong_content_md5_fails_with_bad_digest(any_cos, bucket):
    with pytest.raises(CosServiceError) as err:
        any_cos.put_object(Bucket=bucket, Key="md5.txt", Body=b"checked", ContentMD5=b64_md5(b"something else"))
    assert (err.value.get_status_code(), err.value.get_error_code()) == (400, "BadDigest")


def test_put_object_with_wrong_content_md5_stores_nothing(cos, bucket):
    with pytest.raises(CosServiceError):
        cos.put_object(Bucket=bucket, Key="md5.txt", Body=b"checked", ContentMD5=b64_md5(b"something else"))
    assert cos.object_exists(Bucket=bucket, Key="md5.txt") is False


def test_put_object_with_wrong_content_md5_keeps_the_previous_version(cos, bucket):
    cos.put_object(Bucket=bucket, Key="md5.txt", Body=b"old")
    with pytest.raises(CosServiceError):
        cos.put_object(Bucket=bucket, Key="md5.txt", Body=b"new", ContentMD5=b64_md5(b"something else"))
    assert body_of(cos.get_object(Bucket=bucket, Key="md5.txt")) == b"old"


@pytest.mark.parametrize(
    "content_md5",
    ["not base64!", "AAAA", base64.b64encode(b"x" * 20).decode(), hashlib.md5(b"checked").hexdigest()],
    ids=["not-base64", "too-short", "too-long", "hex-instead-of-base64"],
)
def test_put_object_with_malformed_content_md5_fails_with_invalid_digest(cos, bucket, content_md5):
    with pytest.raises(CosServiceError) as err:
        cos.put_object(Bucket=bucket, Key="md5.txt", Body=b"checked", ContentMD5=content_md5)
    assert (err.value.get_status_code(), err.value.get_error_code()) == (400, "InvalidDigest")


def test_put_object_with_a_generator_body_is_stored(any_cos, bucket):
    chunks = [b"first chunk ", b"x" * 100_000, b" last"]
    any_cos.put_object(Bucket=bucket, Key="chunked.bin", Body=(chunk for chunk in chunks))
    assert body_of(any_cos.get_object(Bucket=bucket, Key="chunked.bin")) == b"".join(chunks)


def test_put_object_with_a_generator_body_returns_the_md5_as_etag(cos, bucket):
    chunks = [b"first chunk ", b"x" * 100_000, b" last"]
    result = cos.put_object(Bucket=bucket, Key="chunked.bin", Body=(chunk for chunk in chunks))
    assert result["ETag"] == md5_etag(b"".join(chunks))


def test_put_empty_object_is_stored_with_zero_length(any_cos, bucket):
    any_cos.put_object(Bucket=bucket, Key="empty", Body=b"")
    head = any_cos.head_object(Bucket=bucket, Key="empty")
    assert (head["Content-Length"], head["ETag"]) == ("0", md5_etag(b""))


def test_get_empty_object_returns_no_bytes(any_cos, bucket):
    any_cos.put_object(Bucket=bucket, Key="empty", Body=b"")
    assert body_of(any_cos.get_object(Bucket=bucket, Key="empty")) == b""


def test_put_object_overwrite_replaces_the_content(any_cos, bucket):
    any_cos.put_object(Bucket=bucket, Key="o.txt", Body=b"first version")
    any_cos.put_object(Bucket=bucket, Key="o.txt", Body=b"second")
    assert body_of(any_cos.get_object(Bucket=bucket, Key="o.txt")) == b"second"


def test_put_object_overwrite_replaces_the_metadata(cos, bucket):
    cos.put_object(Bucket=bucket, Key="o.txt", Body=b"1", Metadata={"x-cos-meta-old": "1"}, CacheControl="no-cache")
    cos.put_object(Bucket=bucket, Key="o.txt", Body=b"2", Metadata={"x-cos-meta-new": "2"})
    head = cos.head_object(Bucket=bucket, Key="o.txt")
    assert (head.get("x-cos-meta-new"), "x-cos-meta-old" in head, "Cache-Control" in head) == ("2", False, False)


def test_put_object_declaring_more_than_5_gib_fails_with_entity_too_large_at_once(kinko, cos, bucket):
    conn = wire.connection(kinko, timeout=5)
    try:
        wire.start_request(conn, cos, "PUT", bucket, "huge.bin", {"Content-Length": str(5 * 1024**3 + 1)})
        conn.send(b"tiny")
        # The server must answer without waiting for the announced body (the socket times out otherwise).
        response = conn.getresponse()
        body = response.read()
    finally:
        conn.close()
    assert (response.status, wire.error_code(body)) == (400, "EntityTooLarge")


def test_put_object_with_too_long_a_key_fails_with_key_too_long(cos, bucket):
    with pytest.raises(CosServiceError) as err:
        cos.put_object(Bucket=bucket, Key="k" * 851, Body=b"x")
    assert (err.value.get_status_code(), err.value.get_error_code()) == (400, "KeyTooLong")


def test_put_object_with_too_much_metadata_fails_with_metadata_too_large(cos, bucket):
    with pytest.raises(CosServiceError) as err:
        cos.put_object(Bucket=bucket, Key="m.txt", Body=b"x", Metadata={"x-cos-meta-big": "v" * 4096})
    assert (err.value.get_status_code(), err.value.get_error_code()) == (400, "MetadataTooLarge")


# -- HEAD Object ------------------------------------------------------------------------------------------


def test_head_object_reports_length_etag_and_crc64ecma(any_cos, bucket):
    data = b"head me please"
    any_cos.put_object(Bucket=bucket, Key="h.txt", Body=data)
    head = any_cos.head_object(Bucket=bucket, Key="h.txt")
    assert (head["Content-Length"], head["ETag"], head["x-cos-hash-crc64ecma"]) == (
        str(len(data)),
        md5_etag(data),
        wire.crc64ecma(data),
    )


def test_head_object_reports_last_modified_as_an_http_date(any_cos, bucket):
    any_cos.put_object(Bucket=bucket, Key="h.txt", Body=b"x")
    modified = parsedate_to_datetime(any_cos.head_object(Bucket=bucket, Key="h.txt")["Last-Modified"])
    assert abs(datetime.now(UTC) - modified) < timedelta(minutes=5)


def test_head_object_uses_the_canonical_header_names(any_cos, bucket):
    any_cos.put_object(Bucket=bucket, Key="h.txt", Body=b"x")
    head = any_cos.head_object(Bucket=bucket, Key="h.txt")
    # The SDK returns a plain dict: these exact spellings are what callers index.
    assert {"ETag", "Content-Length", "Last-Modified", "x-cos-request-id", "x-cos-hash-crc64ecma"} <= set(head)


def test_get_object_uses_the_canonical_header_names(any_cos, bucket):
    any_cos.put_object(Bucket=bucket, Key="g.txt", Body=b"x")
    got = any_cos.get_object(Bucket=bucket, Key="g.txt")
    assert {"ETag", "Content-Length", "Last-Modified", "x-cos-request-id", "x-cos-hash-crc64ecma"} <= set(got)


def test_head_missing_object_fails_with_no_such_resource(any_cos, bucket):
    with pytest.raises(CosServiceError) as err:
        any_cos.head_object(Bucket=bucket, Key="missing.txt")
    assert (err.value.get_status_code(), err.value.get_error_code()) == (404, "NoSuchResource")


def test_object_exists_is_false_for_a_missing_key(any_cos, bucket):
    assert any_cos.object_exists(Bucket=bucket, Key="missing.txt") is False


def test_object_exists_is_true_for_a_stored_key(any_cos, bucket):
    any_cos.put_object(Bucket=bucket, Key="here.txt", Body=b"x")
    assert any_cos.object_exists(Bucket=bucket, Key="here.txt") is True


def test_get_missing_object_fails_with_no_such_key(any_cos, bucket):
    with pytest.raises(CosServiceError) as err:
        any_cos.get_object(Bucket=bucket, Key="missing.txt")
    assert (err.value.get_status_code(), err.value.get_error_code()) == (404, "NoSuchKey")


# -- DELETE Object / DELETE Multiple Objects --------------------------------------------------------------


def test_delete_object_removes_it(any_cos, bucket):
    any_cos.put_object(Bucket=bucket, Key="d.txt", Body=b"x")
    any_cos.delete_object(Bucket=bucket, Key="d.txt")
    assert any_cos.object_exists(Bucket=bucket, Key="d.txt") is False


def test_delete_object_answers_204(kinko, cos, bucket):
    cos.put_object(Bucket=bucket, Key="d.txt", Body=b"x")
    assert wire.send(kinko, cos, "DELETE", bucket, "d.txt").status_code == 204


def test_delete_missing_object_answers_204(kinko, cos, bucket):
    assert wire.send(kinko, cos, "DELETE", bucket, "never-stored.txt").status_code == 204


def test_delete_missing_object_through_the_sdk_succeeds(any_cos, bucket):
    assert "x-cos-request-id" in any_cos.delete_object(Bucket=bucket, Key="never-stored.txt")


def test_delete_objects_verbose_reports_every_key_as_deleted(any_cos, bucket):
    for key in ("one", "two"):
        any_cos.put_object(Bucket=bucket, Key=key, Body=b"x")
    result = any_cos.delete_objects(
        Bucket=bucket, Delete={"Quiet": "false", "Object": [{"Key": "one"}, {"Key": "two"}, {"Key": "never-stored"}]}
    )
    assert sorted(item["Key"] for item in result["Deleted"]) == ["never-stored", "one", "two"]
    assert "Error" not in result


def test_delete_objects_quiet_reports_nothing(any_cos, bucket):
    any_cos.put_object(Bucket=bucket, Key="one", Body=b"x")
    result = any_cos.delete_objects(Bucket=bucket, Delete={"Quiet": "true", "Object": [{"Key": "one"}]})
    assert "Deleted" not in result
    assert "Error" not in result


def test_delete_objects_removes_the_objects(any_cos, bucket):
    for key in ("one", "two", "three"):
        any_cos.put_object(Bucket=bucket, Key=key, Body=b"x")
    any_cos.delete_objects(Bucket=bucket, Delete={"Quiet": "true", "Object": [{"Key": "one"}, {"Key": "three"}]})
    assert [item["Key"] for item in any_cos.list_objects(Bucket=bucket)["Contents"]] == ["two"]


def test_delete_objects_with_awkward_keys_removes_them(cos, bucket):
    for key in AWKWARD_KEYS:
        cos.put_object(Bucket=bucket, Key=key, Body=b"x")
    result = cos.delete_objects(Bucket=bucket, Delete={"Quiet": "false", "Object": [{"Key": k} for k in AWKWARD_KEYS]})
    assert sorted(item["Key"] for item in result["Deleted"]) == sorted(AWKWARD_KEYS)
    assert "Contents" not in cos.list_objects(Bucket=bucket)


def test_delete_objects_with_wrong_content_md5_fails_with_bad_digest(kinko, cos, bucket):
    cos.put_object(Bucket=bucket, Key="one", Body=b"x")
    body = b"<Delete><Quiet>true</Quiet><Object><Key>one</Key></Object></Delete>"
    response = wire.send(
        kinko, cos, "POST", bucket, params={"delete": ""}, data=body, headers={"Content-MD5": b64_md5(b"other")}
    )
    assert (response.status_code, wire.error_code(response.content)) == (400, "BadDigest")


def test_delete_objects_with_wrong_content_md5_deletes_nothing(kinko, cos, bucket):
    cos.put_object(Bucket=bucket, Key="one", Body=b"x")
    body = b"<Delete><Quiet>true</Quiet><Object><Key>one</Key></Object></Delete>"
    wire.send(kinko, cos, "POST", bucket, params={"delete": ""}, data=body, headers={"Content-MD5": b64_md5(b"other")})
    assert cos.object_exists(Bucket=bucket, Key="one") is True
