"""PUT Object - Copy through the SDK: copy sources as the SDK writes them, metadata directives, copy-source
conditions, missing sources, other buckets and accounts, and the `copy()` helper's multipart path."""

import hashlib
import os
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import pytest
from qcloud_cos import CosServiceError

from tests.live import REGION, cos_client
from tests.protocol.support import (
    MiB,
    body_of,
    empty_and_delete,
    new_bucket,
    other_account,
    service_error,
)

OTHER_REGION = "ap-shanghai"


def md5_etag(data: bytes) -> str:
    return f'"{hashlib.md5(data).hexdigest()}"'


def source_of(bucket: str, key: str, **extra) -> dict:
    return {"Bucket": bucket, "Key": key, "Region": REGION, **extra}


def http_date(moment: datetime) -> str:
    return format_datetime(moment, usegmt=True)


@pytest.fixture
def second_bucket(cos) -> str:
    name = new_bucket(cos)
    yield name
    empty_and_delete(cos, name)


@pytest.fixture
def shanghai_source(kinko) -> str:
    """A bucket in ap-shanghai holding "far.bin" (LARGE)."""
    client = cos_client(kinko, Region=OTHER_REGION)
    name = new_bucket(client)
    client.put_object(Bucket=name, Key="far.bin", Body=LARGE)
    yield name
    empty_and_delete(client, name)


# -- copy sources -----------------------------------------------------------------------------------------


def test_copy_object_copies_the_bytes(any_cos, bucket):
    any_cos.put_object(Bucket=bucket, Key="src.txt", Body=b"copy me")
    any_cos.copy_object(Bucket=bucket, Key="dst.txt", CopySource=source_of(bucket, "src.txt"))
    assert body_of(any_cos.get_object(Bucket=bucket, Key="dst.txt")) == b"copy me"


def test_copy_object_returns_the_md5_of_the_content_as_etag(any_cos, bucket):
    any_cos.put_object(Bucket=bucket, Key="src.txt", Body=b"copy me")
    result = any_cos.copy_object(Bucket=bucket, Key="dst.txt", CopySource=source_of(bucket, "src.txt"))
    assert result["ETag"] == md5_etag(b"copy me")


def test_copy_object_leaves_the_source_in_place(cos, bucket):
    cos.put_object(Bucket=bucket, Key="src.txt", Body=b"copy me")
    cos.copy_object(Bucket=bucket, Key="dst.txt", CopySource=source_of(bucket, "src.txt"))
    assert body_of(cos.get_object(Bucket=bucket, Key="src.txt")) == b"copy me"


@pytest.mark.parametrize(
    "key", ["dir/with space.txt", "中文/文件 名.txt", "plus+percent%.txt", "question?hash#.txt", "a//b/../c"]
)
def test_copy_object_from_a_key_with_awkward_characters(any_cos, bucket, key):
    any_cos.put_object(Bucket=bucket, Key=key, Body=key.encode())
    any_cos.copy_object(Bucket=bucket, Key="copy of " + key, CopySource=source_of(bucket, key))
    assert body_of(any_cos.get_object(Bucket=bucket, Key="copy of " + key, KeySimplifyCheck=False)) == key.encode()


def test_copy_object_with_a_version_id_in_the_source_copies_the_current_object(cos, bucket):
    cos.put_object(Bucket=bucket, Key="src.txt", Body=b"current")
    cos.copy_object(Bucket=bucket, Key="dst.txt", CopySource=source_of(bucket, "src.txt", VersionId="null"))
    assert body_of(cos.get_object(Bucket=bucket, Key="dst.txt")) == b"current"


def test_copy_object_with_the_appid_given_separately(cos, bucket):
    cos.put_object(Bucket=bucket, Key="src.txt", Body=b"appid")
    name, appid = bucket.rsplit("-", 1)
    cos.copy_object(
        Bucket=bucket, Key="dst.txt", CopySource={"Bucket": name, "Appid": appid, "Key": "src.txt", "Region": REGION}
    )
    assert body_of(cos.get_object(Bucket=bucket, Key="dst.txt")) == b"appid"


def test_copy_object_to_another_bucket(any_cos, bucket, second_bucket):
    any_cos.put_object(Bucket=bucket, Key="src.txt", Body=b"travels")
    any_cos.copy_object(Bucket=second_bucket, Key="arrived.txt", CopySource=source_of(bucket, "src.txt"))
    assert body_of(any_cos.get_object(Bucket=second_bucket, Key="arrived.txt")) == b"travels"


def test_copy_object_from_a_bucket_in_another_region(cos, bucket, shanghai_source):
    source = {"Bucket": shanghai_source, "Key": "far.bin", "Region": OTHER_REGION}
    cos.copy_object(Bucket=bucket, Key="near.bin", CopySource=source)
    assert body_of(cos.get_object(Bucket=bucket, Key="near.bin")) == LARGE


def test_copy_object_with_a_canned_acl_applies_it_to_the_copy(cos, bucket):
    cos.put_object(Bucket=bucket, Key="src.txt", Body=b"x")
    cos.copy_object(Bucket=bucket, Key="dst.txt", CopySource=source_of(bucket, "src.txt"), ACL="public-read")
    assert cos.get_object_acl(Bucket=bucket, Key="dst.txt")["CannedACL"] == "public-read"


def test_copy_object_overwrites_an_existing_destination(cos, bucket):
    cos.put_object(Bucket=bucket, Key="src.txt", Body=b"new")
    cos.put_object(Bucket=bucket, Key="dst.txt", Body=b"old and longer")
    cos.copy_object(Bucket=bucket, Key="dst.txt", CopySource=source_of(bucket, "src.txt"))
    assert body_of(cos.get_object(Bucket=bucket, Key="dst.txt")) == b"new"


def test_copy_object_of_a_multipart_object_copies_every_part(cos, bucket):
    data = os.urandom(MiB) + b"tail"
    upload_id = cos.create_multipart_upload(Bucket=bucket, Key="mp.bin")["UploadId"]
    parts = []
    for number, chunk in ((1, data[:MiB]), (2, data[MiB:])):
        etag = cos.upload_part(Bucket=bucket, Key="mp.bin", Body=chunk, PartNumber=number, UploadId=upload_id)["ETag"]
        parts.append({"PartNumber": number, "ETag": etag})
    cos.complete_multipart_upload(Bucket=bucket, Key="mp.bin", UploadId=upload_id, MultipartUpload={"Part": parts})
    cos.copy_object(Bucket=bucket, Key="copy.bin", CopySource=source_of(bucket, "mp.bin"))
    assert body_of(cos.get_object(Bucket=bucket, Key="copy.bin")) == data


# -- metadata directive -----------------------------------------------------------------------------------


@pytest.fixture
def described(cos, bucket) -> str:
    """An object "src.txt" with a Content-Type, a Cache-Control and two x-cos-meta-* values."""
    cos.put_object(
        Bucket=bucket,
        Key="src.txt",
        Body=b"described",
        ContentType="text/x-source",
        CacheControl="no-cache",
        Metadata={"x-cos-meta-color": "blue", "x-cos-meta-shape": "round"},
    )
    return "src.txt"


def test_copy_object_with_copy_directive_keeps_content_type_and_metadata(cos, bucket, described):
    cos.copy_object(Bucket=bucket, Key="dst.txt", CopySource=source_of(bucket, described), CopyStatus="Copy")
    head = cos.head_object(Bucket=bucket, Key="dst.txt")
    assert (head["Content-Type"], head["Cache-Control"], head["x-cos-meta-color"], head["x-cos-meta-shape"]) == (
        "text/x-source",
        "no-cache",
        "blue",
        "round",
    )


def test_copy_object_with_copy_directive_ignores_metadata_sent_with_the_copy(cos, bucket, described):
    cos.copy_object(
        Bucket=bucket,
        Key="dst.txt",
        CopySource=source_of(bucket, described),
        CopyStatus="Copy",
        ContentType="text/x-ignored",
        Metadata={"x-cos-meta-color": "red"},
    )
    head = cos.head_object(Bucket=bucket, Key="dst.txt")
    assert (head["Content-Type"], head["x-cos-meta-color"]) == ("text/x-source", "blue")


def test_copy_object_with_replaced_directive_takes_the_new_content_type_and_metadata(cos, bucket, described):
    cos.copy_object(
        Bucket=bucket,
        Key="dst.txt",
        CopySource=source_of(bucket, described),
        CopyStatus="Replaced",
        ContentType="text/x-new",
        Metadata={"x-cos-meta-color": "red"},
    )
    head = cos.head_object(Bucket=bucket, Key="dst.txt")
    assert (head["Content-Type"], head["x-cos-meta-color"]) == ("text/x-new", "red")


def test_copy_object_with_replaced_directive_drops_the_old_metadata(cos, bucket, described):
    cos.copy_object(
        Bucket=bucket,
        Key="dst.txt",
        CopySource=source_of(bucket, described),
        CopyStatus="Replaced",
        Metadata={"x-cos-meta-color": "red"},
    )
    head = cos.head_object(Bucket=bucket, Key="dst.txt")
    assert ("x-cos-meta-shape" in head, "Cache-Control" in head) == (False, False)


def test_copy_object_onto_itself_with_replaced_directive_replaces_the_metadata(cos, bucket, described):
    cos.copy_object(
        Bucket=bucket,
        Key=described,
        CopySource=source_of(bucket, described),
        CopyStatus="Replaced",
        ContentType="text/x-renamed",
        Metadata={"x-cos-meta-color": "green"},
    )
    head = cos.head_object(Bucket=bucket, Key=described)
    assert (head["Content-Type"], head["x-cos-meta-color"], "x-cos-meta-shape" in head) == (
        "text/x-renamed",
        "green",
        False,
    )


def test_copy_object_onto_itself_with_replaced_directive_keeps_the_bytes(cos, bucket, described):
    cos.copy_object(
        Bucket=bucket,
        Key=described,
        CopySource=source_of(bucket, described),
        CopyStatus="Replaced",
        ContentType="text/x-renamed",
    )
    assert body_of(cos.get_object(Bucket=bucket, Key=described)) == b"described"


def test_copy_object_onto_itself_with_copy_directive_is_invalid_request(cos, bucket, described):
    with pytest.raises(CosServiceError) as err:
        cos.copy_object(Bucket=bucket, Key=described, CopySource=source_of(bucket, described), CopyStatus="Copy")
    assert service_error(err.value) == (400, "InvalidRequest")


# -- copy-source conditions -------------------------------------------------------------------------------


def days_from_now(days: int) -> str:
    return http_date(datetime.now(UTC) + timedelta(days=days))


OTHER_ETAG = md5_etag(b"something else")
FAILING = {
    "if-match-another-etag": lambda etag: {"CopySourceIfMatch": OTHER_ETAG},
    "if-none-match-its-etag": lambda etag: {"CopySourceIfNoneMatch": etag},
    "if-modified-since-tomorrow": lambda etag: {"CopySourceIfModifiedSince": days_from_now(1)},
    "if-unmodified-since-yesterday": lambda etag: {"CopySourceIfUnmodifiedSince": days_from_now(-1)},
}
HOLDING = {
    "if-match-its-etag": lambda etag: {"CopySourceIfMatch": etag},
    "if-none-match-another-etag": lambda etag: {"CopySourceIfNoneMatch": OTHER_ETAG},
    "if-modified-since-yesterday": lambda etag: {"CopySourceIfModifiedSince": days_from_now(-1)},
    "if-unmodified-since-tomorrow": lambda etag: {"CopySourceIfUnmodifiedSince": days_from_now(1)},
}


@pytest.mark.parametrize("condition", FAILING.values(), ids=FAILING.keys())
def test_copy_object_with_a_failing_copy_source_condition_is_precondition_failed(cos, bucket, condition):
    etag = cos.put_object(Bucket=bucket, Key="src.txt", Body=b"guarded")["ETag"]
    with pytest.raises(CosServiceError) as err:
        cos.copy_object(Bucket=bucket, Key="dst.txt", CopySource=source_of(bucket, "src.txt"), **condition(etag))
    assert service_error(err.value) == (412, "PreconditionFailed")


@pytest.mark.parametrize("condition", FAILING.values(), ids=FAILING.keys())
def test_copy_object_with_a_failing_copy_source_condition_creates_nothing(cos, bucket, condition):
    etag = cos.put_object(Bucket=bucket, Key="src.txt", Body=b"guarded")["ETag"]
    with pytest.raises(CosServiceError):
        cos.copy_object(Bucket=bucket, Key="dst.txt", CopySource=source_of(bucket, "src.txt"), **condition(etag))
    assert cos.object_exists(Bucket=bucket, Key="dst.txt") is False


@pytest.mark.parametrize("condition", HOLDING.values(), ids=HOLDING.keys())
def test_copy_object_with_a_holding_copy_source_condition_copies(cos, bucket, condition):
    etag = cos.put_object(Bucket=bucket, Key="src.txt", Body=b"guarded")["ETag"]
    cos.copy_object(Bucket=bucket, Key="dst.txt", CopySource=source_of(bucket, "src.txt"), **condition(etag))
    assert body_of(cos.get_object(Bucket=bucket, Key="dst.txt")) == b"guarded"


# -- missing sources --------------------------------------------------------------------------------------


def test_copy_object_from_a_missing_key_is_no_such_key(any_cos, bucket):
    with pytest.raises(CosServiceError) as err:
        any_cos.copy_object(Bucket=bucket, Key="dst.txt", CopySource=source_of(bucket, "missing.txt"))
    assert service_error(err.value) == (404, "NoSuchKey")


def test_copy_object_from_a_missing_bucket_is_no_such_bucket(cos, bucket):
    missing = f"missing{os.urandom(4).hex()}-{bucket.rsplit('-', 1)[1]}"
    with pytest.raises(CosServiceError) as err:
        cos.copy_object(Bucket=bucket, Key="dst.txt", CopySource=source_of(missing, "src.txt"))
    assert service_error(err.value) == (404, "NoSuchBucket")


def test_copy_object_from_a_missing_key_creates_nothing(cos, bucket):
    with pytest.raises(CosServiceError):
        cos.copy_object(Bucket=bucket, Key="dst.txt", CopySource=source_of(bucket, "missing.txt"))
    assert cos.object_exists(Bucket=bucket, Key="dst.txt") is False


# -- the copy() helper ------------------------------------------------------------------------------------

LARGE = os.urandom(5 * MiB + 12345)


@pytest.fixture
def copier(kinko):
    """A proxy-mode client whose copy() takes the multipart path for sources of 1 MiB and more."""
    client = cos_client(kinko, proxy=True)
    client._conf.set_copy_part_threshold_size(MiB)
    return client


def test_copy_helper_for_a_small_object_copies_the_bytes(cos_proxy, bucket):
    cos_proxy.put_object(Bucket=bucket, Key="small.txt", Body=b"small")
    cos_proxy.copy(Bucket=bucket, Key="copied.txt", CopySource=source_of(bucket, "small.txt"))
    assert body_of(cos_proxy.get_object(Bucket=bucket, Key="copied.txt")) == b"small"


def test_copy_helper_from_another_region_copies_the_bytes(copier, bucket, shanghai_source):
    source = {"Bucket": shanghai_source, "Key": "far.bin", "Region": OTHER_REGION}
    copier.copy(Bucket=bucket, Key="near.bin", CopySource=source, PartSize=2, MAXThread=3)
    assert body_of(copier.get_object(Bucket=bucket, Key="near.bin")) == LARGE


def test_copy_helper_from_another_region_copies_in_parts_of_the_given_size(copier, bucket, shanghai_source):
    source = {"Bucket": shanghai_source, "Key": "far.bin", "Region": OTHER_REGION}
    result = copier.copy(Bucket=bucket, Key="near.bin", CopySource=source, PartSize=2, MAXThread=3)
    assert result["ETag"].endswith('-3"')


def test_copy_helper_multipart_copy_copies_the_bytes(copier, bucket, second_bucket):
    copier.put_object(Bucket=bucket, Key="large.bin", Body=LARGE)
    copier.copy(
        Bucket=second_bucket,
        Key="large copy.bin",
        CopySource=source_of(bucket, "large.bin"),
        PartSize=1,
        MAXThread=3,
        StorageClass="STANDARD_IA",
    )
    assert body_of(copier.get_object(Bucket=second_bucket, Key="large copy.bin")) == LARGE


def test_copy_helper_multipart_copy_makes_one_part_per_mib(copier, bucket):
    copier.put_object(Bucket=bucket, Key="large.bin", Body=LARGE)
    result = copier.copy(
        Bucket=bucket,
        Key="large copy.bin",
        CopySource=source_of(bucket, "large.bin"),
        PartSize=1,
        MAXThread=3,
        StorageClass="STANDARD_IA",
    )
    assert result["ETag"].endswith('-6"')


def test_copy_helper_multipart_copy_applies_the_storage_class(copier, bucket):
    copier.put_object(Bucket=bucket, Key="large.bin", Body=LARGE)
    copier.copy(
        Bucket=bucket,
        Key="large copy.bin",
        CopySource=source_of(bucket, "large.bin"),
        PartSize=1,
        MAXThread=3,
        StorageClass="STANDARD_IA",
    )
    assert copier.head_object(Bucket=bucket, Key="large copy.bin")["x-cos-storage-class"] == "STANDARD_IA"


def test_copy_helper_multipart_copy_leaves_no_upload_behind(copier, bucket):
    copier.put_object(Bucket=bucket, Key="large.bin", Body=LARGE)
    copier.copy(
        Bucket=bucket,
        Key="large copy.bin",
        CopySource=source_of(bucket, "large.bin"),
        PartSize=1,
        MAXThread=3,
        StorageClass="STANDARD_IA",
    )
    assert "Upload" not in copier.list_multipart_uploads(Bucket=bucket)


# -- another account --------------------------------------------------------------------------------------


@pytest.fixture
def stranger(kinko):
    """A second account and a bucket of its own."""
    account = other_account(kinko)
    client = account.client(kinko)
    name = new_bucket(client, appid=account.appid)
    yield account, client, name
    empty_and_delete(client, name)


def test_another_account_cannot_copy_from_a_private_bucket(cos, bucket, stranger):
    _, client, own_bucket = stranger
    cos.put_object(Bucket=bucket, Key="secret.txt", Body=b"private")
    with pytest.raises(CosServiceError) as err:
        client.copy_object(Bucket=own_bucket, Key="stolen.txt", CopySource=source_of(bucket, "secret.txt"))
    assert service_error(err.value) == (403, "AccessDenied")


def test_another_account_cannot_copy_into_a_private_bucket(cos, bucket, stranger):
    _, client, own_bucket = stranger
    client.put_object(Bucket=own_bucket, Key="mine.txt", Body=b"mine")
    with pytest.raises(CosServiceError) as err:
        client.copy_object(Bucket=bucket, Key="planted.txt", CopySource=source_of(own_bucket, "mine.txt"))
    assert service_error(err.value) == (403, "AccessDenied")


def test_another_account_copies_an_object_whose_acl_grants_it_read(cos, bucket, stranger):
    account, client, own_bucket = stranger
    cos.put_object(Bucket=bucket, Key="shared.txt", Body=b"shared with you")
    cos.put_object_acl(Bucket=bucket, Key="shared.txt", GrantRead=f'id="{account.uin}"')
    client.copy_object(Bucket=own_bucket, Key="received.txt", CopySource=source_of(bucket, "shared.txt"))
    assert body_of(client.get_object(Bucket=own_bucket, Key="received.txt")) == b"shared with you"


def test_another_account_copies_from_a_bucket_whose_acl_grants_it_read(cos, bucket, stranger):
    account, client, own_bucket = stranger
    cos.put_object(Bucket=bucket, Key="shared.txt", Body=b"bucket-wide")
    cos.put_bucket_acl(Bucket=bucket, GrantRead=f'id="{account.uin}"')
    client.copy_object(Bucket=own_bucket, Key="received.txt", CopySource=source_of(bucket, "shared.txt"))
    assert body_of(client.get_object(Bucket=own_bucket, Key="received.txt")) == b"bucket-wide"


def test_a_read_grant_on_one_object_does_not_open_its_neighbours(cos, bucket, stranger):
    account, client, own_bucket = stranger
    cos.put_object(Bucket=bucket, Key="shared.txt", Body=b"shared")
    cos.put_object(Bucket=bucket, Key="private.txt", Body=b"private")
    cos.put_object_acl(Bucket=bucket, Key="shared.txt", GrantRead=f'id="{account.uin}"')
    with pytest.raises(CosServiceError) as err:
        client.copy_object(Bucket=own_bucket, Key="received.txt", CopySource=source_of(bucket, "private.txt"))
    assert service_error(err.value) == (403, "AccessDenied")
