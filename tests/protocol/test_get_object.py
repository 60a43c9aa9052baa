"""GET Object: ranges, response-* overrides, conditional requests and the SSE header it refuses."""

from datetime import timedelta
from email.utils import format_datetime, parsedate_to_datetime

import pytest
from qcloud_cos import CosServiceError

from tests.protocol import wire

DATA = b"0123456789"
KEY = "digits.txt"


@pytest.fixture
def stored(cos, bucket) -> dict:
    """An object of ten bytes with stored representation headers; returns its HEAD."""
    cos.put_object(Bucket=bucket, Key=KEY, Body=DATA, ContentType="text/plain", CacheControl="no-cache")
    return cos.head_object(Bucket=bucket, Key=KEY)


def read(result: dict) -> tuple[int, bytes]:
    raw = result["Body"].get_raw_stream()
    return raw.status, raw.read()


# -- Range ------------------------------------------------------------------------------------------------


def test_get_object_with_a_range_returns_206_and_the_bytes(any_cos, bucket, stored):
    got = any_cos.get_object(Bucket=bucket, Key=KEY, Range="bytes=2-5")
    assert read(got) == (206, b"2345")


def test_get_object_with_a_range_reports_content_range_and_length(any_cos, bucket, stored):
    got = any_cos.get_object(Bucket=bucket, Key=KEY, Range="bytes=2-5")
    assert (got["Content-Range"], got["Content-Length"]) == ("bytes 2-5/10", "4")


def test_get_object_with_a_suffix_range_returns_the_last_bytes(any_cos, bucket, stored):
    got = any_cos.get_object(Bucket=bucket, Key=KEY, Range="bytes=-3")
    assert (read(got), got["Content-Range"]) == ((206, b"789"), "bytes 7-9/10")


def test_get_object_with_a_suffix_range_longer_than_the_object_returns_all_of_it(cos, bucket, stored):
    got = cos.get_object(Bucket=bucket, Key=KEY, Range="bytes=-50")
    assert (read(got), got["Content-Range"]) == ((206, DATA), "bytes 0-9/10")


def test_get_object_with_an_open_ended_range_returns_the_rest(any_cos, bucket, stored):
    got = any_cos.get_object(Bucket=bucket, Key=KEY, Range="bytes=7-")
    assert (read(got), got["Content-Range"]) == ((206, b"789"), "bytes 7-9/10")


def test_get_object_with_a_range_past_the_end_is_clamped(cos, bucket, stored):
    got = cos.get_object(Bucket=bucket, Key=KEY, Range="bytes=8-100")
    assert (read(got), got["Content-Range"]) == ((206, b"89"), "bytes 8-9/10")


@pytest.mark.parametrize("value", ["bytes=10-20", "bytes=10-", "bytes=-0"])
def test_get_object_with_an_unsatisfiable_range_fails_with_invalid_range(any_cos, bucket, stored, value):
    with pytest.raises(CosServiceError) as err:
        any_cos.get_object(Bucket=bucket, Key=KEY, Range=value)
    assert (err.value.get_status_code(), err.value.get_error_code()) == (416, "InvalidRange")


def test_unsatisfiable_range_response_reports_the_object_size(kinko, cos, bucket, stored):
    response = wire.send(kinko, cos, "GET", bucket, KEY, headers={"Range": "bytes=10-20"})
    assert (response.status_code, response.headers.get("Content-Range")) == (416, "bytes */10")


@pytest.mark.parametrize("value", ["bytes=abc", "items=0-1", "bytes=5-2", "bytes=-", "bytes 0-1", "0-1"])
def test_get_object_with_a_syntactically_invalid_range_returns_the_whole_object(any_cos, bucket, stored, value):
    got = any_cos.get_object(Bucket=bucket, Key=KEY, Range=value)
    assert (read(got), "Content-Range" in got) == ((200, DATA), False)


# -- response-* overrides ---------------------------------------------------------------------------------

OVERRIDES = [
    ("ResponseCacheControl", "Cache-Control", "private"),
    ("ResponseContentType", "Content-Type", "application/json"),
    ("ResponseContentDisposition", "Content-Disposition", 'attachment; filename="a b.txt"'),
    ("ResponseContentEncoding", "Content-Encoding", "identity"),
    ("ResponseContentLanguage", "Content-Language", "zh-CN"),
    ("ResponseExpires", "Expires", "Thu, 01 Jan 2037 00:00:00 GMT"),
]


@pytest.mark.parametrize(("param", "header", "value"), OVERRIDES, ids=[o[0] for o in OVERRIDES])
def test_get_object_applies_a_response_header_override(any_cos, bucket, stored, param, header, value):
    got = any_cos.get_object(Bucket=bucket, Key=KEY, **{param: value})
    assert got[header] == value


def test_response_overrides_do_not_change_the_stored_headers(cos, bucket, stored):
    read(cos.get_object(Bucket=bucket, Key=KEY, ResponseCacheControl="private", ResponseContentType="x/y"))
    head = cos.head_object(Bucket=bucket, Key=KEY)
    assert (head["Cache-Control"], head["Content-Type"]) == ("no-cache", "text/plain")


# -- conditional requests ---------------------------------------------------------------------------------


def test_get_object_with_a_matching_if_match_returns_the_object(any_cos, bucket, stored):
    assert read(any_cos.get_object(Bucket=bucket, Key=KEY, IfMatch=stored["ETag"])) == (200, DATA)


def test_get_object_with_another_if_match_fails_with_precondition_failed(any_cos, bucket, stored):
    with pytest.raises(CosServiceError) as err:
        any_cos.get_object(Bucket=bucket, Key=KEY, IfMatch='"00000000000000000000000000000000"')
    assert (err.value.get_status_code(), err.value.get_error_code()) == (412, "PreconditionFailed")


def test_get_object_with_a_matching_if_none_match_is_not_modified(any_cos, bucket, stored):
    # The SDK treats 304 as success; the status is on the raw stream.
    got = any_cos.get_object(Bucket=bucket, Key=KEY, IfNoneMatch=stored["ETag"])
    assert read(got) == (304, b"")


def test_not_modified_response_carries_the_etag(cos, bucket, stored):
    got = cos.get_object(Bucket=bucket, Key=KEY, IfNoneMatch=stored["ETag"])
    assert got["ETag"] == stored["ETag"]


def test_get_object_with_another_if_none_match_returns_the_object(any_cos, bucket, stored):
    got = any_cos.get_object(Bucket=bucket, Key=KEY, IfNoneMatch='"00000000000000000000000000000000"')
    assert read(got) == (200, DATA)


def _http_date(stored: dict, shift: timedelta) -> str:
    return format_datetime(parsedate_to_datetime(stored["Last-Modified"]) + shift, usegmt=True)


def test_get_object_modified_since_a_later_date_is_not_modified(any_cos, bucket, stored):
    got = any_cos.get_object(Bucket=bucket, Key=KEY, IfModifiedSince=_http_date(stored, timedelta(hours=1)))
    assert read(got) == (304, b"")


def test_get_object_modified_since_its_own_last_modified_is_not_modified(cos, bucket, stored):
    got = cos.get_object(Bucket=bucket, Key=KEY, IfModifiedSince=stored["Last-Modified"])
    assert read(got) == (304, b"")


def test_get_object_modified_since_an_earlier_date_returns_the_object(any_cos, bucket, stored):
    got = any_cos.get_object(Bucket=bucket, Key=KEY, IfModifiedSince=_http_date(stored, timedelta(hours=-1)))
    assert read(got) == (200, DATA)


def test_get_object_unmodified_since_an_earlier_date_fails_with_precondition_failed(any_cos, bucket, stored):
    with pytest.raises(CosServiceError) as err:
        any_cos.get_object(Bucket=bucket, Key=KEY, IfUnmodifiedSince=_http_date(stored, timedelta(hours=-1)))
    assert (err.value.get_status_code(), err.value.get_error_code()) == (412, "PreconditionFailed")


def test_get_object_unmodified_since_a_later_date_returns_the_object(any_cos, bucket, stored):
    got = any_cos.get_object(Bucket=bucket, Key=KEY, IfUnmodifiedSince=_http_date(stored, timedelta(hours=1)))
    assert read(got) == (200, DATA)


def test_head_object_with_another_if_match_fails_with_precondition_failed(cos, bucket, stored):
    with pytest.raises(CosServiceError) as err:
        cos.head_object(Bucket=bucket, Key=KEY, IfMatch='"00000000000000000000000000000000"')
    assert err.value.get_status_code() == 412


# -- SSE header on reads ----------------------------------------------------------------------------------


def test_get_object_with_an_sse_header_fails_with_sse_header_not_allowed(any_cos, bucket, stored):
    with pytest.raises(CosServiceError) as err:
        any_cos.get_object(Bucket=bucket, Key=KEY, ServerSideEncryption="AES256")
    assert (err.value.get_status_code(), err.value.get_error_code()) == (400, "SSEHeaderNotAllowed")


def test_head_object_with_an_sse_header_fails_with_400(cos, bucket, stored):
    with pytest.raises(CosServiceError) as err:
        cos.head_object(Bucket=bucket, Key=KEY, ServerSideEncryption="AES256")
    assert err.value.get_status_code() == 400
