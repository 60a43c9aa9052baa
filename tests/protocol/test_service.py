"""GET Service (list_buckets): IP mode reaches it through ServiceDomain, proxy mode as service.cos.myqcloud.com."""

import xml.etree.ElementTree as ET  # noqa: S405 - parses the test server's own responses
from datetime import UTC, datetime, timedelta

from tests.protocol import wire


def bucket_entries(result: dict) -> dict[str, dict]:
    buckets = result["Buckets"] or {"Bucket": []}
    return {entry["Name"]: entry for entry in buckets["Bucket"]}


def test_list_buckets_includes_a_new_bucket(any_cos, bucket):
    assert bucket in bucket_entries(any_cos.list_buckets())


def test_list_buckets_reports_the_bucket_region(any_cos, bucket):
    assert bucket_entries(any_cos.list_buckets())[bucket]["Location"] == "ap-guangzhou"


def test_list_buckets_creation_date_has_no_fractional_seconds(cos, bucket):
    text = bucket_entries(cos.list_buckets())[bucket]["CreationDate"]
    created = datetime.strptime(text, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
    assert abs(datetime.now(UTC) - created) < timedelta(minutes=5)


def test_list_buckets_with_a_region_filter_lists_only_that_region(cos, bucket, shanghai_bucket):
    entries = bucket_entries(cos.list_buckets(Region="ap-shanghai"))
    assert shanghai_bucket in entries
    assert bucket not in entries
    assert {entry["Location"] for entry in entries.values()} == {"ap-shanghai"}


def test_list_buckets_with_max_keys_pages_through_every_bucket_once(cos, bucket, shanghai_bucket):
    everything = list(bucket_entries(cos.list_buckets()))
    seen, marker = [], ""
    while True:
        result = cos.list_buckets(Marker=marker, MaxKeys=1)
        page = list(bucket_entries(result))
        assert len(page) == 1
        seen += page
        if result["IsTruncated"] == "false":
            break
        assert result["IsTruncated"] == "true"
        marker = result["NextMarker"]
    assert seen == everything


def test_list_buckets_reaches_the_service_host_through_the_proxy(kinko, cos, bucket):
    response = wire.send(kinko, cos, "GET", "", host="service.cos.myqcloud.com", proxy=True)
    assert response.status_code == 200
    names = [element.text for element in ET.fromstring(response.content).iter("Name")]  # noqa: S314
    assert bucket in names


def test_list_buckets_reaches_a_plain_address_with_a_signature(kinko, cos, bucket):
    response = wire.send(kinko, cos, "GET", "", host=f"127.0.0.1:{kinko.port}")
    assert response.status_code == 200
    assert ET.fromstring(response.content).tag == "ListAllMyBucketsResult"  # noqa: S314


def test_unsigned_list_buckets_fails_with_access_denied(kinko):
    response = wire.send(kinko, None, "GET", "", host="service.cos.myqcloud.com", proxy=True)
    assert (response.status_code, wire.error_code(response.content)) == (403, "AccessDenied")
