"""A NUL character (%00) in a key or a listing parameter is refused with 400 InvalidArgument on every database,
through the COS SDK and the JSON API: PostgreSQL's text cannot hold one, and it must never become a 500. Runs in
the PostgreSQL pass of `make test` too."""

import pytest
import requests
from qcloud_cos import CosServiceError

from tests.protocol.support import service_error

NUL_KEY = "before\x00after"


def expect_error(action, status: int, code: str) -> None:
    with pytest.raises(CosServiceError) as err:
        action()
    assert service_error(err.value) == (status, code)


def test_a_put_of_a_key_with_nul_is_refused_and_nothing_is_stored(cos, bucket):
    expect_error(lambda: cos.put_object(Bucket=bucket, Key=NUL_KEY, Body=b"x"), 400, "InvalidArgument")
    assert cos.list_objects(Bucket=bucket).get("Contents", []) == []


@pytest.mark.parametrize("operation", ["get_object", "head_object", "delete_object"])
def test_reading_or_deleting_a_key_with_nul_is_refused(cos, bucket, operation):
    with pytest.raises(CosServiceError) as err:
        getattr(cos, operation)(Bucket=bucket, Key=NUL_KEY)
    assert err.value.get_status_code() == 400


def test_a_multipart_upload_of_a_key_with_nul_is_refused(cos, bucket):
    expect_error(lambda: cos.create_multipart_upload(Bucket=bucket, Key=NUL_KEY), 400, "InvalidArgument")


def test_a_copy_from_a_source_key_with_nul_is_refused(cos, bucket):
    cos.put_object(Bucket=bucket, Key="target-source", Body=b"x")
    source = {"Bucket": bucket, "Key": NUL_KEY, "Region": "ap-guangzhou"}
    expect_error(lambda: cos.copy_object(Bucket=bucket, Key="copy", CopySource=source), 400, "InvalidArgument")


@pytest.mark.parametrize("parameter", ["Prefix", "Marker", "Delimiter"])
def test_a_listing_with_nul_in_a_parameter_is_refused(cos, bucket, parameter):
    expect_error(lambda: cos.list_objects(Bucket=bucket, **{parameter: "a\x00"}), 400, "InvalidArgument")


def test_a_delete_multiple_naming_a_key_with_nul_is_malformed_xml_and_deletes_nothing(cos, bucket):
    cos.put_object(Bucket=bucket, Key="plain", Body=b"x")
    document = {"Object": [{"Key": "plain"}, {"Key": NUL_KEY}], "Quiet": "false"}
    expect_error(lambda: cos.delete_objects(Bucket=bucket, Delete=document), 400, "MalformedXML")  # XML has no NUL
    assert cos.head_object(Bucket=bucket, Key="plain")


def api(kinko, path: str, **params) -> requests.Response:
    headers = {"Authorization": f"Token {kinko.api_token}"}
    return requests.get(f"{kinko.url}/api/v1/{path}", headers=headers, params=params, timeout=30)


def test_the_json_api_refuses_nul_in_an_object_path_and_in_listing_parameters(kinko, bucket):
    for path, params in [
        (f"buckets/{bucket}/objects/before%00after", {}),
        (f"buckets/{bucket}/objects/", {"prefix": "a\x00"}),
        (f"buckets/{bucket}/objects/", {"marker": "a\x00"}),
        (f"buckets/{bucket}/objects/", {"delimiter": "\x00"}),
        ("jobs/", {"bucket": "\x00"}),
    ]:
        answer = api(kinko, path, **params)
        assert (answer.status_code, answer.json()) == (
            400,
            {"code": "InvalidParameter", "detail": "A NUL character (%00) is not allowed in a URL."},
        ), (path, params)


def test_a_console_page_with_nul_in_its_query_is_a_plain_400_page(kinko):
    answer = requests.get(f"{kinko.url}/audit/", params={"action": "\x00"}, timeout=30, allow_redirects=False)
    assert answer.status_code == 400
    assert "Traceback" not in answer.text
