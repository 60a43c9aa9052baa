"""Object and bucket tags over the real SDK against the live server: x-cos-tagging on PUT, POST, copy and Initiate
in every SSE mode, ?tagging on objects and buckets, x-cos-tagging-count, and COS's limits with their codes."""

import base64
import hashlib
import os
from urllib.parse import urlencode

import pytest
import requests
from qcloud_cos import CosServiceError

from tests.live import manage_py, node_env
from tests.protocol.support import MiB, body_of, object_url, proxies, service_error

ENSURE_COS_ROLE = "from roles import service; service.ensure_cos_service_role(service.root_account())"
SSE_C_KEY = hashlib.sha256(b"kinko tagging customer key").digest()
SSE_C = {
    "SSECustomerAlgorithm": "AES256",
    "SSECustomerKey": base64.b64encode(SSE_C_KEY).decode(),
    "SSECustomerKeyMD5": base64.b64encode(hashlib.md5(SSE_C_KEY).digest()).decode(),
}
# Write kwargs, and the read kwargs each mode needs.
MODES = {
    "plain": ({}, {}),
    "sse-cos": ({"ServerSideEncryption": "AES256"}, {}),
    "sse-kms": ({"ServerSideEncryption": "cos/kms"}, {}),
    "sse-c": (SSE_C, SSE_C),
}
TAGS = {"team": "kinko", "stage": "a b+c-d=e.f_g:h/i@j"}


@pytest.fixture(scope="module")
def kms_ready(kinko) -> None:
    """SSE-KMS on the session server: the KMS activated and COS_QcsRole present (both idempotent)."""
    env = node_env(kinko.data_dir)
    manage_py(env, "activate_kms", "--json")
    manage_py(env, "shell", "-c", ENSURE_COS_ROLE)


@pytest.fixture(params=list(MODES))
def mode(request, kms_ready) -> tuple[dict, dict]:
    return MODES[request.param]


def tags_of(cos, bucket: str, key: str) -> dict[str, str]:
    found = cos.get_object_tagging(Bucket=bucket, Key=key)
    return {tag["Key"]: tag["Value"] for tag in (found.get("TagSet") or {}).get("Tag", [])}


def tag_set(tags: dict[str, str]) -> dict:
    return {"TagSet": {"Tag": [{"Key": key, "Value": value} for key, value in tags.items()]}}


def refusal(call, *args, **kwargs) -> tuple[int, str]:
    with pytest.raises(CosServiceError) as err:
        call(*args, **kwargs)
    return service_error(err.value)


def test_put_object_tags_are_read_back_in_every_sse_mode(cos, bucket, mode):
    write, read = mode
    cos.put_object(Bucket=bucket, Key="t.txt", Body=b"tagged", Tagging=urlencode(TAGS), **write)
    assert tags_of(cos, bucket, "t.txt") == TAGS
    assert cos.head_object(Bucket=bucket, Key="t.txt", **read)["x-cos-tagging-count"] == "2"
    assert body_of(cos.get_object(Bucket=bucket, Key="t.txt", **read)) == b"tagged"


def test_object_tagging_subresource_sets_replaces_and_deletes_tags(cos, bucket, mode):
    write, read = mode
    cos.put_object(Bucket=bucket, Key="o", Body=b"x", **write)
    assert tags_of(cos, bucket, "o") == {}
    assert "x-cos-tagging-count" not in cos.head_object(Bucket=bucket, Key="o", **read)
    cos.put_object_tagging(Bucket=bucket, Key="o", Tagging=tag_set(TAGS))
    assert tags_of(cos, bucket, "o") == TAGS
    cos.put_object_tagging(Bucket=bucket, Key="o", Tagging=tag_set({"only": "one"}))
    assert tags_of(cos, bucket, "o") == {"only": "one"}
    cos.delete_object_tagging(Bucket=bucket, Key="o")
    assert tags_of(cos, bucket, "o") == {}
    assert body_of(cos.get_object(Bucket=bucket, Key="o", **read)) == b"x"


def test_copy_keeps_the_source_tags_unless_the_tagging_directive_replaces_them(cos, bucket, mode):
    write, read = mode
    cos.put_object(Bucket=bucket, Key="src", Body=b"copied", Tagging="a=1&b=2")
    source = {"Bucket": bucket, "Key": "src", "Region": "ap-guangzhou"}
    cos.copy_object(Bucket=bucket, Key="kept", CopySource=source, **write)
    assert tags_of(cos, bucket, "kept") == {"a": "1", "b": "2"}
    replaced = {"x-cos-tagging-directive": "Replaced"}
    cos.copy_object(Bucket=bucket, Key="new", CopySource=source, Tagging="c=3", Metadata=replaced, **write)
    assert tags_of(cos, bucket, "new") == {"c": "3"}
    assert body_of(cos.get_object(Bucket=bucket, Key="new", **read)) == b"copied"


def test_a_bad_tagging_directive_is_invalid_argument(cos, bucket):
    cos.put_object(Bucket=bucket, Key="src", Body=b"x")
    source = {"Bucket": bucket, "Key": "src", "Region": "ap-guangzhou"}
    bad = {"x-cos-tagging-directive": "Merge"}
    assert refusal(cos.copy_object, Bucket=bucket, Key="dst", CopySource=source, Metadata=bad) == (
        400,
        "InvalidArgument",
    )


def test_initiate_tags_land_on_the_object_at_complete(cos, bucket, mode):
    write, read = mode
    upload = cos.create_multipart_upload(Bucket=bucket, Key="mp", Tagging="part=of&the=upload", **write)
    parts = []
    for number, data in enumerate([os.urandom(MiB), b"tail"], start=1):
        sent = cos.upload_part(
            Bucket=bucket, Key="mp", Body=data, PartNumber=number, UploadId=upload["UploadId"], **read
        )
        parts.append({"PartNumber": number, "ETag": sent["ETag"]})
    assert refusal(cos.get_object_tagging, Bucket=bucket, Key="mp") == (404, "NoSuchKey")
    cos.complete_multipart_upload(Bucket=bucket, Key="mp", UploadId=upload["UploadId"], MultipartUpload={"Part": parts})
    assert tags_of(cos, bucket, "mp") == {"part": "of", "the": "upload"}
    assert cos.head_object(Bucket=bucket, Key="mp", **read)["x-cos-tagging-count"] == "2"


def test_post_object_form_tags_are_kept(kinko, cos, bucket):
    cos.put_bucket_acl(Bucket=bucket, ACL="public-read-write")
    response = requests.post(
        object_url(bucket),
        data={"key": "form.txt", "x-cos-tagging": "via=form&n=1"},
        files={"file": ("form.txt", b"posted")},
        proxies=proxies(kinko),
        timeout=30,
    )
    assert response.status_code == 204, response.text
    assert tags_of(cos, bucket, "form.txt") == {"via": "form", "n": "1"}


@pytest.mark.parametrize(
    "tags, code",
    [
        ({f"k{n}": "v" for n in range(11)}, "BadRequest"),
        ({"k" * 129: "v"}, "InvalidTag"),
        ({"k": "v" * 257}, "InvalidTag"),
        ({"": "v"}, "InvalidTag"),
        ({"semi;colon": "v"}, "InvalidTag"),
        ({"k": "<angle>"}, "InvalidTag"),
    ],
)
def test_object_tags_beyond_cos_limits_are_refused(cos, bucket, tags, code):
    cos.put_object(Bucket=bucket, Key="o", Body=b"x")
    assert refusal(cos.put_object_tagging, Bucket=bucket, Key="o", Tagging=tag_set(tags)) == (400, code)
    assert refusal(cos.put_object, Bucket=bucket, Key="h", Body=b"x", Tagging=urlencode(tags)) == (400, code)
    assert tags_of(cos, bucket, "o") == {}


def test_longest_tag_key_and_value_cos_allows_are_kept(cos, bucket):
    tags = {"k" * 128: "v" * 256, "\u6807\u7b7e": "\u503c"}
    cos.put_object(Bucket=bucket, Key="o", Body=b"x", Tagging=urlencode(tags))
    assert tags_of(cos, bucket, "o") == tags


def test_a_duplicate_tag_key_is_invalid_tag(cos, bucket):
    cos.put_object(Bucket=bucket, Key="o", Body=b"x")
    twice = {"TagSet": {"Tag": [{"Key": "k", "Value": "1"}, {"Key": "k", "Value": "2"}]}}
    assert refusal(cos.put_object_tagging, Bucket=bucket, Key="o", Tagging=twice) == (400, "InvalidTag")
    assert refusal(cos.put_object, Bucket=bucket, Key="h", Body=b"x", Tagging="k=1&k=2") == (400, "InvalidTag")


def test_a_malformed_tagging_header_is_invalid_tag(cos, bucket):
    assert refusal(cos.put_object, Bucket=bucket, Key="h", Body=b"x", Tagging="no-equals") == (400, "InvalidTag")


def test_object_tagging_of_a_missing_object_is_no_such_key(cos, bucket):
    assert refusal(cos.get_object_tagging, Bucket=bucket, Key="absent") == (404, "NoSuchKey")
    assert refusal(cos.put_object_tagging, Bucket=bucket, Key="absent", Tagging=tag_set(TAGS)) == (404, "NoSuchKey")


def test_bucket_tagging_sets_reads_and_deletes_tags(cos, bucket):
    assert refusal(cos.get_bucket_tagging, Bucket=bucket) == (404, "NoSuchTagSet")
    cos.put_bucket_tagging(Bucket=bucket, Tagging=tag_set(TAGS))
    found = cos.get_bucket_tagging(Bucket=bucket)
    assert {tag["Key"]: tag["Value"] for tag in found["TagSet"]["Tag"]} == TAGS
    cos.delete_bucket_tagging(Bucket=bucket)
    assert refusal(cos.get_bucket_tagging, Bucket=bucket) == (404, "NoSuchTagSet")


def test_bucket_tags_allow_fifty_and_refuse_fifty_one(cos, bucket):
    fifty = {f"k{n}": str(n) for n in range(50)}
    cos.put_bucket_tagging(Bucket=bucket, Tagging=tag_set(fifty))
    assert len(cos.get_bucket_tagging(Bucket=bucket)["TagSet"]["Tag"]) == 50
    many = {**fifty, "one": "more"}
    assert refusal(cos.put_bucket_tagging, Bucket=bucket, Tagging=tag_set(many)) == (400, "BadRequest")


def test_a_tagging_document_without_tag_set_is_malformed_xml(cos, bucket):
    assert refusal(cos.put_bucket_tagging, Bucket=bucket, Tagging={}) == (400, "MalformedXML")
