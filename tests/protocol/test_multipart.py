"""Multipart upload through the SDK: initiate, upload (and copy) parts, complete, abort, list; upload_file and
download_file round-tripping a 300 MiB file."""

import base64
import hashlib
import os

import pytest
from qcloud_cos import CosServiceError

from tests.live import REGION
from tests.protocol.support import (
    MiB,
    blob_files,
    body_of,
    crc64ecma,
    crc64ecma_of,
    empty_and_delete,
    existing,
    new_bucket,
    service_error,
)


def md5_etag(data: bytes) -> str:
    return f'"{hashlib.md5(data).hexdigest()}"'


def start(client, bucket: str, key: str = "mp.bin", **kwargs) -> str:
    return client.create_multipart_upload(Bucket=bucket, Key=key, **kwargs)["UploadId"]


def put_part(client, bucket: str, key: str, upload_id: str, number: int, data: bytes) -> dict:
    etag = client.upload_part(Bucket=bucket, Key=key, Body=data, PartNumber=number, UploadId=upload_id)["ETag"]
    return {"PartNumber": number, "ETag": etag}


def complete(client, bucket: str, key: str, upload_id: str, parts: list[dict]) -> dict:
    return client.complete_multipart_upload(Bucket=bucket, Key=key, UploadId=upload_id, MultipartUpload={"Part": parts})


def source_of(bucket: str, key: str) -> dict:
    return {"Bucket": bucket, "Key": key, "Region": REGION}


BIG = os.urandom(MiB)  # a part of the minimum size a non-last part may have
SMALL = b"the small last part"


# -- initiate and upload part -----------------------------------------------------------------------------


def test_create_multipart_upload_echoes_bucket_and_key_with_an_upload_id(any_cos, bucket):
    result = any_cos.create_multipart_upload(Bucket=bucket, Key="dir/mp.bin")
    assert (result["Bucket"], result["Key"], bool(result["UploadId"])) == (bucket, "dir/mp.bin", True)


def test_upload_part_returns_the_md5_of_the_part_as_etag(any_cos, bucket):
    upload_id = start(any_cos, bucket)
    result = any_cos.upload_part(Bucket=bucket, Key="mp.bin", Body=b"part one", PartNumber=1, UploadId=upload_id)
    assert result["ETag"] == md5_etag(b"part one")


@pytest.mark.parametrize("number", [1, 10000])
def test_upload_part_accepts_part_numbers_one_to_ten_thousand(cos, bucket, number):
    upload_id = start(cos, bucket)
    cos.upload_part(Bucket=bucket, Key="mp.bin", Body=b"edge", PartNumber=number, UploadId=upload_id)
    parts = cos.list_parts(Bucket=bucket, Key="mp.bin", UploadId=upload_id)["Part"]
    assert [p["PartNumber"] for p in parts] == [str(number)]


@pytest.mark.parametrize("number", [0, 10001])
def test_upload_part_outside_one_to_ten_thousand_is_invalid_argument(cos, bucket, number):
    upload_id = start(cos, bucket)
    with pytest.raises(CosServiceError) as err:
        cos.upload_part(Bucket=bucket, Key="mp.bin", Body=b"edge", PartNumber=number, UploadId=upload_id)
    assert service_error(err.value) == (400, "InvalidArgument")


def test_upload_part_with_a_bogus_upload_id_is_no_such_upload(cos, bucket):
    start(cos, bucket)
    with pytest.raises(CosServiceError) as err:
        cos.upload_part(Bucket=bucket, Key="mp.bin", Body=b"x", PartNumber=1, UploadId="bogus-upload-id")
    assert service_error(err.value) == (404, "NoSuchUpload")


def test_upload_part_with_an_upload_id_of_another_key_is_no_such_upload(cos, bucket):
    upload_id = start(cos, bucket, key="one.bin")
    with pytest.raises(CosServiceError) as err:
        cos.upload_part(Bucket=bucket, Key="two.bin", Body=b"x", PartNumber=1, UploadId=upload_id)
    assert service_error(err.value) == (404, "NoSuchUpload")


def test_reuploading_a_part_number_replaces_the_listed_part(cos, bucket):
    upload_id = start(cos, bucket)
    put_part(cos, bucket, "mp.bin", upload_id, 1, b"first attempt")
    put_part(cos, bucket, "mp.bin", upload_id, 1, b"second, longer attempt")
    parts = cos.list_parts(Bucket=bucket, Key="mp.bin", UploadId=upload_id)["Part"]
    assert [(p["PartNumber"], p["ETag"], p["Size"]) for p in parts] == [
        ("1", md5_etag(b"second, longer attempt"), str(len(b"second, longer attempt")))
    ]


def test_reuploading_a_part_number_puts_the_new_bytes_in_the_object(cos, bucket):
    upload_id = start(cos, bucket)
    put_part(cos, bucket, "mp.bin", upload_id, 1, b"first attempt")
    part = put_part(cos, bucket, "mp.bin", upload_id, 1, b"second attempt")
    complete(cos, bucket, "mp.bin", upload_id, [part])
    assert body_of(cos.get_object(Bucket=bucket, Key="mp.bin")) == b"second attempt"


def test_upload_part_with_enable_md5_is_accepted(cos, bucket):
    upload_id = start(cos, bucket)
    result = cos.upload_part(
        Bucket=bucket, Key="mp.bin", Body=b"checked part", PartNumber=1, UploadId=upload_id, EnableMD5=True
    )
    assert result["ETag"] == md5_etag(b"checked part")


def test_upload_part_with_a_wrong_content_md5_is_bad_digest(cos, bucket):
    upload_id = start(cos, bucket)
    wrong = base64.b64encode(hashlib.md5(b"other bytes").digest()).decode()
    with pytest.raises(CosServiceError) as err:
        cos.upload_part(
            Bucket=bucket, Key="mp.bin", Body=b"checked part", PartNumber=1, UploadId=upload_id, ContentMD5=wrong
        )
    assert service_error(err.value) == (400, "BadDigest")


def test_upload_part_with_a_wrong_content_md5_records_no_part(cos, bucket):
    upload_id = start(cos, bucket)
    wrong = base64.b64encode(hashlib.md5(b"other bytes").digest()).decode()
    with pytest.raises(CosServiceError):
        cos.upload_part(
            Bucket=bucket, Key="mp.bin", Body=b"checked part", PartNumber=1, UploadId=upload_id, ContentMD5=wrong
        )
    assert "Part" not in cos.list_parts(Bucket=bucket, Key="mp.bin", UploadId=upload_id)


def test_reuploading_a_part_number_frees_the_replaced_part(kinko, cos, bucket):
    upload_id = start(cos, bucket)
    before = blob_files(kinko)
    put_part(cos, bucket, "mp.bin", upload_id, 1, b"the first attempt")
    replaced = blob_files(kinko) - before
    assert len(replaced) == 1  # the first attempt is on disk
    put_part(cos, bucket, "mp.bin", upload_id, 1, b"the replacement")
    assert existing(replaced) == set()


# -- complete ---------------------------------------------------------------------------------------------


def test_complete_assembles_the_parts_in_order(any_cos, bucket):
    upload_id = start(any_cos, bucket)
    parts = [put_part(any_cos, bucket, "mp.bin", upload_id, 2, SMALL)]
    parts.insert(0, put_part(any_cos, bucket, "mp.bin", upload_id, 1, BIG))
    complete(any_cos, bucket, "mp.bin", upload_id, parts)
    assert body_of(any_cos.get_object(Bucket=bucket, Key="mp.bin")) == BIG + SMALL


def test_complete_returns_an_etag_suffixed_with_the_part_count(cos, bucket):
    upload_id = start(cos, bucket)
    parts = [put_part(cos, bucket, "mp.bin", upload_id, 1, BIG), put_part(cos, bucket, "mp.bin", upload_id, 2, SMALL)]
    result = complete(cos, bucket, "mp.bin", upload_id, parts)
    assert result["ETag"].endswith('-2"')


def test_complete_returns_bucket_key_and_location(cos, bucket):
    upload_id = start(cos, bucket, key="dir/a b.bin")
    parts = [put_part(cos, bucket, "dir/a b.bin", upload_id, 1, SMALL)]
    result = complete(cos, bucket, "dir/a b.bin", upload_id, parts)
    assert (result["Bucket"], result["Key"], result["Location"].endswith("/dir/a%20b.bin")) == (
        bucket,
        "dir/a b.bin",
        True,
    )


def test_head_of_a_multipart_object_reports_size_and_crc64_of_the_whole_content(cos, bucket):
    upload_id = start(cos, bucket)
    parts = [put_part(cos, bucket, "mp.bin", upload_id, 1, BIG), put_part(cos, bucket, "mp.bin", upload_id, 2, SMALL)]
    complete(cos, bucket, "mp.bin", upload_id, parts)
    head = cos.head_object(Bucket=bucket, Key="mp.bin")
    assert (head["Content-Length"], head["x-cos-hash-crc64ecma"]) == (str(len(BIG + SMALL)), crc64ecma(BIG + SMALL))


def test_ranged_get_across_the_part_boundary_of_a_multipart_object(cos, bucket):
    upload_id = start(cos, bucket)
    parts = [put_part(cos, bucket, "mp.bin", upload_id, 1, BIG), put_part(cos, bucket, "mp.bin", upload_id, 2, SMALL)]
    complete(cos, bucket, "mp.bin", upload_id, parts)
    got = cos.get_object(Bucket=bucket, Key="mp.bin", Range=f"bytes={MiB - 3}-{MiB + 3}")
    assert body_of(got) == (BIG + SMALL)[MiB - 3 : MiB + 4]


def test_complete_keeps_content_type_and_metadata_given_at_initiate(cos, bucket):
    upload_id = start(cos, bucket, ContentType="video/mp4", Metadata={"x-cos-meta-origin": "camera"})
    complete(cos, bucket, "mp.bin", upload_id, [put_part(cos, bucket, "mp.bin", upload_id, 1, SMALL)])
    head = cos.head_object(Bucket=bucket, Key="mp.bin")
    assert (head["Content-Type"], head["x-cos-meta-origin"]) == ("video/mp4", "camera")


def test_complete_accepts_part_etags_without_quotes(cos, bucket):
    upload_id = start(cos, bucket)
    part = put_part(cos, bucket, "mp.bin", upload_id, 1, SMALL)
    complete(cos, bucket, "mp.bin", upload_id, [{"PartNumber": 1, "ETag": part["ETag"].strip('"')}])
    assert body_of(cos.get_object(Bucket=bucket, Key="mp.bin")) == SMALL


def test_complete_applies_the_acl_given_at_initiate(cos, bucket):
    upload_id = start(cos, bucket, ACL="public-read")
    complete(cos, bucket, "mp.bin", upload_id, [put_part(cos, bucket, "mp.bin", upload_id, 1, SMALL)])
    assert cos.get_object_acl(Bucket=bucket, Key="mp.bin")["CannedACL"] == "public-read"


def test_the_object_does_not_exist_before_complete(cos, bucket):
    upload_id = start(cos, bucket)
    put_part(cos, bucket, "mp.bin", upload_id, 1, BIG)
    assert cos.object_exists(Bucket=bucket, Key="mp.bin") is False


def test_the_object_is_not_listed_before_complete(cos, bucket):
    upload_id = start(cos, bucket)
    put_part(cos, bucket, "mp.bin", upload_id, 1, BIG)
    assert "Contents" not in cos.list_objects(Bucket=bucket)


def test_an_upload_in_progress_leaves_the_existing_object_untouched(cos, bucket):
    cos.put_object(Bucket=bucket, Key="mp.bin", Body=b"the old version")
    upload_id = start(cos, bucket)
    put_part(cos, bucket, "mp.bin", upload_id, 1, BIG)
    assert body_of(cos.get_object(Bucket=bucket, Key="mp.bin")) == b"the old version"


def test_complete_replaces_the_existing_object(cos, bucket):
    cos.put_object(Bucket=bucket, Key="mp.bin", Body=b"the old version")
    upload_id = start(cos, bucket)
    complete(cos, bucket, "mp.bin", upload_id, [put_part(cos, bucket, "mp.bin", upload_id, 1, SMALL)])
    assert body_of(cos.get_object(Bucket=bucket, Key="mp.bin")) == SMALL


def test_complete_ends_the_upload(cos, bucket):
    upload_id = start(cos, bucket)
    complete(cos, bucket, "mp.bin", upload_id, [put_part(cos, bucket, "mp.bin", upload_id, 1, SMALL)])
    with pytest.raises(CosServiceError) as err:
        cos.list_parts(Bucket=bucket, Key="mp.bin", UploadId=upload_id)
    assert service_error(err.value) == (404, "NoSuchUpload")


def test_complete_with_only_some_parts_makes_the_object_from_those(cos, bucket):
    upload_id = start(cos, bucket)
    first = put_part(cos, bucket, "mp.bin", upload_id, 1, BIG)
    put_part(cos, bucket, "mp.bin", upload_id, 2, b"left out")
    third = put_part(cos, bucket, "mp.bin", upload_id, 3, SMALL)
    complete(cos, bucket, "mp.bin", upload_id, [first, third])
    assert body_of(cos.get_object(Bucket=bucket, Key="mp.bin")) == BIG + SMALL


def test_complete_frees_the_parts_it_does_not_list(kinko, cos, bucket):
    upload_id = start(cos, bucket)
    first = put_part(cos, bucket, "mp.bin", upload_id, 1, SMALL)
    before = blob_files(kinko)
    put_part(cos, bucket, "mp.bin", upload_id, 2, b"left out")
    left_out = blob_files(kinko) - before
    assert len(left_out) == 1  # the part is on disk before Complete
    complete(cos, bucket, "mp.bin", upload_id, [first])
    assert existing(left_out) == set()


def test_complete_with_a_part_never_uploaded_is_invalid_part(cos, bucket):
    upload_id = start(cos, bucket)
    first = put_part(cos, bucket, "mp.bin", upload_id, 1, BIG)
    with pytest.raises(CosServiceError) as err:
        complete(cos, bucket, "mp.bin", upload_id, [first, {"PartNumber": 2, "ETag": md5_etag(SMALL)}])
    assert service_error(err.value) == (400, "InvalidPart")


def test_complete_with_a_wrong_etag_is_invalid_part(cos, bucket):
    upload_id = start(cos, bucket)
    put_part(cos, bucket, "mp.bin", upload_id, 1, SMALL)
    with pytest.raises(CosServiceError) as err:
        complete(cos, bucket, "mp.bin", upload_id, [{"PartNumber": 1, "ETag": md5_etag(b"other bytes")}])
    assert service_error(err.value) == (400, "InvalidPart")


def test_complete_with_descending_part_numbers_is_invalid_part_order(cos, bucket):
    upload_id = start(cos, bucket)
    first = put_part(cos, bucket, "mp.bin", upload_id, 1, BIG)
    second = put_part(cos, bucket, "mp.bin", upload_id, 2, BIG)
    with pytest.raises(CosServiceError) as err:
        complete(cos, bucket, "mp.bin", upload_id, [second, first])
    assert service_error(err.value) == (400, "InvalidPartOrder")


def test_complete_with_a_duplicated_part_number_is_invalid_part_order(cos, bucket):
    upload_id = start(cos, bucket)
    first = put_part(cos, bucket, "mp.bin", upload_id, 1, BIG)
    with pytest.raises(CosServiceError) as err:
        complete(cos, bucket, "mp.bin", upload_id, [first, first])
    assert service_error(err.value) == (400, "InvalidPartOrder")


def test_complete_with_a_non_last_part_under_one_mib_is_entity_too_small(cos, bucket):
    upload_id = start(cos, bucket)
    parts = [
        put_part(cos, bucket, "mp.bin", upload_id, 1, BIG[:-1]),
        put_part(cos, bucket, "mp.bin", upload_id, 2, SMALL),
    ]
    with pytest.raises(CosServiceError) as err:
        complete(cos, bucket, "mp.bin", upload_id, parts)
    assert service_error(err.value) == (400, "EntityTooSmall")


def test_complete_with_a_bogus_upload_id_is_no_such_upload(cos, bucket):
    upload_id = start(cos, bucket)
    part = put_part(cos, bucket, "mp.bin", upload_id, 1, SMALL)
    with pytest.raises(CosServiceError) as err:
        complete(cos, bucket, "mp.bin", "bogus-upload-id", [part])
    assert service_error(err.value) == (404, "NoSuchUpload")


def test_a_refused_complete_creates_no_object(cos, bucket):
    upload_id = start(cos, bucket)
    put_part(cos, bucket, "mp.bin", upload_id, 1, SMALL)
    with pytest.raises(CosServiceError):
        complete(cos, bucket, "mp.bin", upload_id, [{"PartNumber": 1, "ETag": md5_etag(b"other bytes")}])
    assert cos.object_exists(Bucket=bucket, Key="mp.bin") is False


def test_a_refused_complete_leaves_the_upload_completable(cos, bucket):
    upload_id = start(cos, bucket)
    part = put_part(cos, bucket, "mp.bin", upload_id, 1, SMALL)
    with pytest.raises(CosServiceError):
        complete(cos, bucket, "mp.bin", upload_id, [part, {"PartNumber": 2, "ETag": md5_etag(b"never sent")}])
    complete(cos, bucket, "mp.bin", upload_id, [part])
    assert body_of(cos.get_object(Bucket=bucket, Key="mp.bin")) == SMALL


# -- abort ------------------------------------------------------------------------------------------------


def test_abort_then_upload_part_is_no_such_upload(any_cos, bucket):
    upload_id = start(any_cos, bucket)
    put_part(any_cos, bucket, "mp.bin", upload_id, 1, SMALL)
    any_cos.abort_multipart_upload(Bucket=bucket, Key="mp.bin", UploadId=upload_id)
    with pytest.raises(CosServiceError) as err:
        any_cos.upload_part(Bucket=bucket, Key="mp.bin", Body=b"late", PartNumber=2, UploadId=upload_id)
    assert service_error(err.value) == (404, "NoSuchUpload")


def test_abort_then_complete_is_no_such_upload(cos, bucket):
    upload_id = start(cos, bucket)
    part = put_part(cos, bucket, "mp.bin", upload_id, 1, SMALL)
    cos.abort_multipart_upload(Bucket=bucket, Key="mp.bin", UploadId=upload_id)
    with pytest.raises(CosServiceError) as err:
        complete(cos, bucket, "mp.bin", upload_id, [part])
    assert service_error(err.value) == (404, "NoSuchUpload")


def test_abort_twice_is_no_such_upload(cos, bucket):
    upload_id = start(cos, bucket)
    cos.abort_multipart_upload(Bucket=bucket, Key="mp.bin", UploadId=upload_id)
    with pytest.raises(CosServiceError) as err:
        cos.abort_multipart_upload(Bucket=bucket, Key="mp.bin", UploadId=upload_id)
    assert service_error(err.value) == (404, "NoSuchUpload")


def test_abort_removes_the_upload_from_the_listing(cos, bucket):
    upload_id = start(cos, bucket)
    cos.abort_multipart_upload(Bucket=bucket, Key="mp.bin", UploadId=upload_id)
    assert "Upload" not in cos.list_multipart_uploads(Bucket=bucket)


def test_abort_creates_no_object(cos, bucket):
    upload_id = start(cos, bucket)
    put_part(cos, bucket, "mp.bin", upload_id, 1, SMALL)
    cos.abort_multipart_upload(Bucket=bucket, Key="mp.bin", UploadId=upload_id)
    assert "Contents" not in cos.list_objects(Bucket=bucket)


def test_abort_frees_the_uploaded_parts(kinko, cos, bucket):
    upload_id = start(cos, bucket)
    before = blob_files(kinko)
    put_part(cos, bucket, "mp.bin", upload_id, 1, SMALL)
    part = blob_files(kinko) - before
    assert len(part) == 1  # the part is on disk before the abort
    cos.abort_multipart_upload(Bucket=bucket, Key="mp.bin", UploadId=upload_id)
    assert existing(part) == set()


# -- upload part copy -------------------------------------------------------------------------------------

SOURCE = os.urandom(3 * MiB + 17)


def test_upload_part_copy_with_a_range_returns_the_md5_of_the_range_as_etag(any_cos, bucket):
    any_cos.put_object(Bucket=bucket, Key="source.bin", Body=SOURCE)
    upload_id = start(any_cos, bucket)
    result = any_cos.upload_part_copy(
        Bucket=bucket,
        Key="mp.bin",
        PartNumber=1,
        UploadId=upload_id,
        CopySource=source_of(bucket, "source.bin"),
        CopySourceRange=f"bytes=5-{MiB + 4}",
    )
    assert result["ETag"] == md5_etag(SOURCE[5 : MiB + 5])


def test_upload_part_copy_without_a_range_copies_the_whole_object(any_cos, bucket):
    any_cos.put_object(Bucket=bucket, Key="source.bin", Body=SOURCE)
    upload_id = start(any_cos, bucket)
    result = any_cos.upload_part_copy(
        Bucket=bucket, Key="mp.bin", PartNumber=1, UploadId=upload_id, CopySource=source_of(bucket, "source.bin")
    )
    assert result["ETag"] == md5_etag(SOURCE)


def test_upload_part_copy_parts_assemble_into_the_object(cos, bucket):
    cos.put_object(Bucket=bucket, Key="source.bin", Body=SOURCE)
    upload_id = start(cos, bucket)
    source = source_of(bucket, "source.bin")
    parts = []
    for number, copy_range in ((1, f"bytes=0-{MiB - 1}"), (2, ""), (3, "bytes=100-199")):
        result = cos.upload_part_copy(
            Bucket=bucket,
            Key="mp.bin",
            PartNumber=number,
            UploadId=upload_id,
            CopySource=source,
            CopySourceRange=copy_range,
        )
        parts.append({"PartNumber": number, "ETag": result["ETag"]})
    complete(cos, bucket, "mp.bin", upload_id, parts)
    assert body_of(cos.get_object(Bucket=bucket, Key="mp.bin")) == SOURCE[:MiB] + SOURCE + SOURCE[100:200]


def test_upload_part_copy_of_a_range_spanning_the_parts_of_a_multipart_source(cos, bucket):
    upload_id = start(cos, bucket, key="source.bin")
    parts = [put_part(cos, bucket, "source.bin", upload_id, n, SOURCE[(n - 1) * MiB : n * MiB]) for n in (1, 2)]
    parts.append(put_part(cos, bucket, "source.bin", upload_id, 3, SOURCE[2 * MiB :]))
    complete(cos, bucket, "source.bin", upload_id, parts)
    copy_id = start(cos, bucket)
    result = cos.upload_part_copy(
        Bucket=bucket,
        Key="mp.bin",
        PartNumber=1,
        UploadId=copy_id,
        CopySource=source_of(bucket, "source.bin"),
        CopySourceRange=f"bytes={MiB - 10}-{2 * MiB + 9}",
    )
    assert result["ETag"] == md5_etag(SOURCE[MiB - 10 : 2 * MiB + 10])


def test_upload_part_copy_from_another_bucket(cos, bucket):
    other = new_bucket(cos)
    try:
        cos.put_object(Bucket=other, Key="elsewhere.bin", Body=SOURCE)
        upload_id = start(cos, bucket)
        result = cos.upload_part_copy(
            Bucket=bucket, Key="mp.bin", PartNumber=1, UploadId=upload_id, CopySource=source_of(other, "elsewhere.bin")
        )
        complete(cos, bucket, "mp.bin", upload_id, [{"PartNumber": 1, "ETag": result["ETag"]}])
    finally:
        empty_and_delete(cos, other)
    assert body_of(cos.get_object(Bucket=bucket, Key="mp.bin")) == SOURCE


def test_upload_part_copy_with_a_failing_copy_source_condition_is_precondition_failed(cos, bucket):
    cos.put_object(Bucket=bucket, Key="source.bin", Body=SOURCE)
    upload_id = start(cos, bucket)
    with pytest.raises(CosServiceError) as err:
        cos.upload_part_copy(
            Bucket=bucket,
            Key="mp.bin",
            PartNumber=1,
            UploadId=upload_id,
            CopySource=source_of(bucket, "source.bin"),
            CopySourceIfMatch=md5_etag(b"another version"),
        )
    assert service_error(err.value) == (412, "PreconditionFailed")


def test_upload_part_copy_from_a_missing_key_is_no_such_key(cos, bucket):
    upload_id = start(cos, bucket)
    with pytest.raises(CosServiceError) as err:
        cos.upload_part_copy(
            Bucket=bucket, Key="mp.bin", PartNumber=1, UploadId=upload_id, CopySource=source_of(bucket, "missing")
        )
    assert service_error(err.value) == (404, "NoSuchKey")


def test_upload_part_copy_with_a_range_beyond_the_source_is_invalid_argument(cos, bucket):
    cos.put_object(Bucket=bucket, Key="source.bin", Body=b"short")
    upload_id = start(cos, bucket)
    with pytest.raises(CosServiceError) as err:
        cos.upload_part_copy(
            Bucket=bucket,
            Key="mp.bin",
            PartNumber=1,
            UploadId=upload_id,
            CopySource=source_of(bucket, "source.bin"),
            CopySourceRange="bytes=10-20",
        )
    assert service_error(err.value) == (400, "InvalidArgument")


# -- list parts -------------------------------------------------------------------------------------------


@pytest.fixture
def five_parts(cos, bucket) -> str:
    """An upload of "mp.bin" with parts 1..5, each b"part <n>"."""
    upload_id = start(cos, bucket)
    for number in range(1, 6):
        put_part(cos, bucket, "mp.bin", upload_id, number, f"part {number}".encode())
    return upload_id


def test_list_parts_reports_number_size_and_etag_of_each_part(cos, bucket, five_parts):
    parts = cos.list_parts(Bucket=bucket, Key="mp.bin", UploadId=five_parts)["Part"]
    assert [(p["PartNumber"], p["Size"], p["ETag"]) for p in parts] == [
        (str(n), "6", md5_etag(f"part {n}".encode())) for n in range(1, 6)
    ]


def test_list_parts_first_page_is_truncated_with_the_next_marker(cos, bucket, five_parts):
    page = cos.list_parts(Bucket=bucket, Key="mp.bin", UploadId=five_parts, MaxParts=2)
    assert ([p["PartNumber"] for p in page["Part"]], page["IsTruncated"], page["NextPartNumberMarker"]) == (
        ["1", "2"],
        "true",
        "2",
    )


def test_list_parts_continues_after_the_part_number_marker(cos, bucket, five_parts):
    page = cos.list_parts(Bucket=bucket, Key="mp.bin", UploadId=five_parts, MaxParts=2, PartNumberMarker=2)
    assert [p["PartNumber"] for p in page["Part"]] == ["3", "4"]


def test_list_parts_last_page_is_not_truncated(cos, bucket, five_parts):
    page = cos.list_parts(Bucket=bucket, Key="mp.bin", UploadId=five_parts, MaxParts=2, PartNumberMarker=4)
    assert ([p["PartNumber"] for p in page["Part"]], page["IsTruncated"]) == (["5"], "false")


def test_list_parts_paged_by_next_marker_visits_every_part_once(cos, bucket, five_parts):
    seen, marker = [], 0
    while True:
        page = cos.list_parts(Bucket=bucket, Key="mp.bin", UploadId=five_parts, MaxParts=2, PartNumberMarker=marker)
        seen += [p["PartNumber"] for p in page.get("Part", [])]
        if page["IsTruncated"] == "false":
            break
        marker = int(page["NextPartNumberMarker"])
    assert seen == ["1", "2", "3", "4", "5"]


def test_list_parts_returns_an_awkward_key_decoded(cos, bucket):
    key = "dir/a b+c%d/中文?.bin"
    upload_id = start(cos, bucket, key=key)
    assert cos.list_parts(Bucket=bucket, Key=key, UploadId=upload_id)["Key"] == key


def test_list_parts_with_a_bogus_upload_id_is_no_such_upload(cos, bucket):
    start(cos, bucket)
    with pytest.raises(CosServiceError) as err:
        cos.list_parts(Bucket=bucket, Key="mp.bin", UploadId="bogus-upload-id")
    assert service_error(err.value) == (404, "NoSuchUpload")


# -- list multipart uploads -------------------------------------------------------------------------------

AWKWARD_KEYS = ["with space.bin", "100%", "plus+sign", "中文/文件.bin", "amp&er=sand?", "a//b/../c", "tilde~"]


def all_uploads(client, bucket: str, **kwargs) -> list[tuple[str, str]]:
    """(Key, UploadId) of every page, following NextKeyMarker / NextUploadIdMarker."""
    seen, key_marker, upload_id_marker = [], "", ""
    while True:
        page = client.list_multipart_uploads(
            Bucket=bucket, KeyMarker=key_marker, UploadIdMarker=upload_id_marker, **kwargs
        )
        seen += [(u["Key"], u["UploadId"]) for u in page.get("Upload", [])]
        if page["IsTruncated"] == "false":
            return seen
        key_marker, upload_id_marker = page["NextKeyMarker"], page.get("NextUploadIdMarker") or ""


def test_list_multipart_uploads_returns_awkward_keys_decoded(any_cos, bucket):
    for key in AWKWARD_KEYS:
        start(any_cos, bucket, key=key)
    listed = [u["Key"] for u in any_cos.list_multipart_uploads(Bucket=bucket)["Upload"]]
    assert sorted(listed) == sorted(AWKWARD_KEYS)


def test_list_multipart_uploads_percent_encodes_keys_when_the_caller_decodes_them(cos, bucket):
    for key in ("with space.bin", "100%", "plus+sign", "中文"):
        start(cos, bucket, key=key)
    listed = [u["Key"] for u in cos.list_multipart_uploads(Bucket=bucket, EncodingType="url")["Upload"]]
    assert sorted(listed) == sorted(["with%20space.bin", "100%25", "plus%2Bsign", "%E4%B8%AD%E6%96%87"])


def test_list_multipart_uploads_reports_the_upload_id_of_each_key(cos, bucket):
    expected = {(key, start(cos, bucket, key=key)) for key in ("a.bin", "b.bin")}
    listed = {(u["Key"], u["UploadId"]) for u in cos.list_multipart_uploads(Bucket=bucket)["Upload"]}
    assert listed == expected


def test_list_multipart_uploads_first_page_is_truncated_with_next_markers(cos, bucket):
    for key in ("a.bin", "b.bin", "c.bin"):
        start(cos, bucket, key=key)
    page = cos.list_multipart_uploads(Bucket=bucket, MaxUploads=2)
    assert ([u["Key"] for u in page["Upload"]], page["IsTruncated"], page["NextKeyMarker"]) == (
        ["a.bin", "b.bin"],
        "true",
        "b.bin",
    )


def test_list_multipart_uploads_paged_one_at_a_time_visits_every_upload_once(cos, bucket):
    created = [(key, start(cos, bucket, key=key)) for key in AWKWARD_KEYS]
    created.append(("with space.bin", start(cos, bucket, key="with space.bin")))  # two uploads of one key
    assert sorted(all_uploads(cos, bucket, MaxUploads=1)) == sorted(created)


def test_list_multipart_uploads_filters_by_prefix(cos, bucket):
    for key in ("logs/a", "logs/b", "logs-old", "data/c"):
        start(cos, bucket, key=key)
    listed = [u["Key"] for u in cos.list_multipart_uploads(Bucket=bucket, Prefix="logs/")["Upload"]]
    assert listed == ["logs/a", "logs/b"]


def test_list_multipart_uploads_rolls_keys_up_at_the_delimiter(cos, bucket):
    for key in ("photos/2024/a.jpg", "photos/2024/b.jpg", "photos/cat.jpg", "videos/x.mp4", "readme"):
        start(cos, bucket, key=key)
    page = cos.list_multipart_uploads(Bucket=bucket, Delimiter="/")
    assert ([u["Key"] for u in page["Upload"]], [p["Prefix"] for p in page["CommonPrefixes"]]) == (
        ["readme"],
        ["photos/", "videos/"],
    )


def test_list_multipart_uploads_rolls_up_below_a_prefix_with_awkward_characters(cos, bucket):
    for key in ("dir with space/中文/x.bin", "dir with space/中文/y.bin", "dir with space/100%.bin"):
        start(cos, bucket, key=key)
    page = cos.list_multipart_uploads(Bucket=bucket, Prefix="dir with space/", Delimiter="/")
    assert ([u["Key"] for u in page["Upload"]], [p["Prefix"] for p in page["CommonPrefixes"]]) == (
        ["dir with space/100%.bin"],
        ["dir with space/中文/"],
    )


def test_list_multipart_uploads_paged_with_a_delimiter_visits_each_prefix_and_upload_once(cos, bucket):
    for key in ("a/1", "a/2", "b", "c/x/1", "c/y", "d e/1", "f"):
        start(cos, bucket, key=key)
    seen, key_marker, upload_id_marker = [], "", ""
    while True:
        page = cos.list_multipart_uploads(
            Bucket=bucket, Delimiter="/", MaxUploads=1, KeyMarker=key_marker, UploadIdMarker=upload_id_marker
        )
        seen += [u["Key"] for u in page.get("Upload", [])] + [p["Prefix"] for p in page.get("CommonPrefixes", [])]
        if page["IsTruncated"] == "false":
            break
        key_marker, upload_id_marker = page["NextKeyMarker"], page.get("NextUploadIdMarker") or ""
    assert seen == ["a/", "b", "c/", "d e/", "f"]


def test_list_multipart_uploads_on_a_fresh_bucket_lists_nothing(cos, bucket):
    page = cos.list_multipart_uploads(Bucket=bucket, Prefix="anything")
    assert ("Upload" in page, page["IsTruncated"]) == (False, "false")


# -- upload_file / download_file of 300 MiB ---------------------------------------------------------------

BIG_FILE_BYTES = 300 * MiB
CHUNK = 4 * MiB


def stream_digest(path) -> tuple[str, str]:
    """(MD5 hex, CRC-64/ECMA decimal) of a file, read in chunks."""
    md5, crc = hashlib.md5(), 0
    with open(path, "rb") as f:
        while chunk := f.read(CHUNK):
            md5.update(chunk)
            crc = crc64ecma_of(chunk, crc)
    return md5.hexdigest(), str(crc)


@pytest.fixture(scope="module")
def big_file(tmp_path_factory):
    """A 300 MiB random file and its (MD5 hex, CRC-64/ECMA decimal), generated once per module."""
    path = tmp_path_factory.mktemp("big") / "300mib.bin"
    md5, crc = hashlib.md5(), 0
    with open(path, "wb") as f:
        for _ in range(BIG_FILE_BYTES // CHUNK):
            chunk = os.urandom(CHUNK)
            md5.update(chunk)
            crc = crc64ecma_of(chunk, crc)
            f.write(chunk)
    yield path, md5.hexdigest(), str(crc)
    path.unlink()


@pytest.fixture(scope="module")
def big_upload(cos, big_file):
    """The 300 MiB file uploaded with upload_file (10 MiB parts, 5 threads): (bucket, key, upload_file result)."""
    bucket = new_bucket(cos)
    path, _, _ = big_file
    result = cos.upload_file(Bucket=bucket, Key="big/300mib.bin", LocalFilePath=str(path), PartSize=10, MAXThread=5)
    yield bucket, "big/300mib.bin", result
    empty_and_delete(cos, bucket)


def test_upload_file_stores_300_mib_as_a_thirty_part_object(big_upload):
    _, _, result = big_upload
    assert result["ETag"].endswith('-30"')


def test_head_of_the_uploaded_file_reports_its_length_and_crc64ecma(cos, big_file, big_upload):
    bucket, key, _ = big_upload
    _, _, crc = big_file
    head = cos.head_object(Bucket=bucket, Key=key)
    assert (head["Content-Length"], head["x-cos-hash-crc64ecma"]) == (str(BIG_FILE_BYTES), crc)


def test_download_file_with_parallel_ranged_gets_and_crc_check_returns_the_file_byte_exactly(
    cos, big_file, big_upload, tmp_path
):
    bucket, key, _ = big_upload
    _, md5, crc = big_file
    dest = tmp_path / "downloaded.bin"
    cos.download_file(
        Bucket=bucket,
        Key=key,
        DestFilePath=str(dest),
        PartSize=10,
        MAXThread=5,
        EnableCRC=True,
        DumpRecordDir=str(tmp_path),
    )
    try:
        assert (dest.stat().st_size, stream_digest(dest)) == (BIG_FILE_BYTES, (md5, crc))
    finally:
        dest.unlink()
