"""What real clients found: Complete of an SSE-C upload echoes the key MD5, GET Service honours its filters, and
x-cos-meta-* names with `_` are kept and signed as sent."""

import base64
import hashlib
import os
import time
import uuid

import pytest
from qcloud_cos import CosServiceError

from tests.live import APPID
from tests.protocol.support import MiB, body_of, service_error

KEY = hashlib.sha256(b"kinko fidelity customer key").digest()
KEY_MD5 = base64.b64encode(hashlib.md5(KEY).digest()).decode()
SSE_C = {
    "SSECustomerAlgorithm": "AES256",
    "SSECustomerKey": base64.b64encode(KEY).decode(),
    "SSECustomerKeyMD5": KEY_MD5,
}


def test_complete_of_an_sse_c_upload_echoes_the_algorithm_and_key_md5(cos, bucket):
    upload = cos.create_multipart_upload(Bucket=bucket, Key="mp", **SSE_C)
    parts = []
    for number, data in enumerate([os.urandom(MiB), b"end"], start=1):
        sent = cos.upload_part(
            Bucket=bucket, Key="mp", Body=data, PartNumber=number, UploadId=upload["UploadId"], **SSE_C
        )
        parts.append({"PartNumber": number, "ETag": sent["ETag"]})
    done = cos.complete_multipart_upload(
        Bucket=bucket, Key="mp", UploadId=upload["UploadId"], MultipartUpload={"Part": parts}
    )
    assert done["x-cos-server-side-encryption-customer-algorithm"] == "AES256"
    assert done["x-cos-server-side-encryption-customer-key-MD5"] == KEY_MD5


@pytest.fixture
def tagged_buckets(cos, cos_shanghai):
    """Three buckets: one tagged in Guangzhou, one untagged there, one tagged in Shanghai."""
    names = [f"f{uuid.uuid4().hex[:12]}-{APPID}" for _ in range(3)]
    cos.create_bucket(Bucket=names[0])
    cos.create_bucket(Bucket=names[1])
    cos_shanghai.create_bucket(Bucket=names[2])
    tag = {"TagSet": {"Tag": [{"Key": "project", "Value": names[0]}]}}
    cos.put_bucket_tagging(Bucket=names[0], Tagging=tag)
    cos_shanghai.put_bucket_tagging(Bucket=names[2], Tagging=tag)
    yield names
    cos.delete_bucket(Bucket=names[0])
    cos.delete_bucket(Bucket=names[1])
    cos_shanghai.delete_bucket(Bucket=names[2])


def listed(cos, **filters) -> set[str]:
    found = cos.list_buckets(**filters)["Buckets"]
    return {entry["Name"] for entry in (found or {}).get("Bucket", [])}


def test_list_buckets_filters_by_tag_and_region(cos, tagged_buckets):
    tagged, untagged, shanghai = tagged_buckets
    assert listed(cos, TagKey="project", TagValue=tagged) == {tagged, shanghai}
    assert listed(cos, TagKey="project", TagValue=tagged, Region="ap-shanghai") == {shanghai}
    assert untagged in listed(cos, Region="ap-guangzhou")
    assert shanghai not in listed(cos, Region="ap-guangzhou")


def test_list_buckets_filters_by_creation_time(cos, tagged_buckets):
    now = int(time.time())
    assert set(tagged_buckets) <= listed(cos, CreateTime=now - 3600, Range="gt")
    assert set(tagged_buckets) <= listed(cos, CreateTime=now + 3600, Range="lte")
    assert not set(tagged_buckets) & listed(cos, CreateTime=now + 3600, Range="gte")
    assert not set(tagged_buckets) & listed(cos, CreateTime=now - 3600, Range="lt")


def test_list_buckets_with_an_unknown_range_is_invalid_argument(cos):
    with pytest.raises(CosServiceError) as err:
        cos.list_buckets(CreateTime=int(time.time()), Range="between")
    assert service_error(err.value) == (400, "InvalidArgument")


def test_metadata_names_with_underscores_are_kept_and_signed(cos, bucket):
    metadata = {"x-cos-meta-my_field": "under", "x-cos-meta-my-field": "hyphen"}
    cos.put_object(Bucket=bucket, Key="m", Body=b"meta", Metadata=metadata)
    head = cos.head_object(Bucket=bucket, Key="m")
    assert (head["x-cos-meta-my_field"], head["x-cos-meta-my-field"]) == ("under", "hyphen")
    assert body_of(cos.get_object(Bucket=bucket, Key="m")) == b"meta"


def test_a_client_cannot_forge_the_header_that_carries_underscored_names(cos, bucket):
    forged = {"X-Kinko-Underscored-Meta": "x-cos-meta-forged_name=1", "x-cos-meta-real_name": "2"}
    cos.put_object(Bucket=bucket, Key="m", Body=b"x", Metadata=forged)
    head = cos.head_object(Bucket=bucket, Key="m")
    assert head["x-cos-meta-real_name"] == "2"
    assert "x-cos-meta-forged_name" not in head
