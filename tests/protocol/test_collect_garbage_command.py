"""`manage.py collect_garbage` against the live server's data directory: stale multipart uploads are aborted, orphaned
and temp files removed, and every real object stays readable."""

import os
import re
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from qcloud_cos import CosServiceError

from tests.live import REGION
from tests.protocol.support import (
    MiB,
    blob_files,
    body_of,
    empty_and_delete,
    existing,
    files_under,
    manage,
    new_bucket,
    service_error,
)

TWO_DAYS_AGO = time.time() - 2 * 86400


def age(path: Path) -> None:
    os.utime(path, (TWO_DAYS_AGO, TWO_DAYS_AGO))


def plant(path: Path, data: bytes, old: bool) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    if old:
        age(path)
    return path


def age_every_file(directory: Path) -> None:
    """Make every stored file old enough for the orphan sweep to consider it."""
    for path in files_under(directory):
        age(path)


# -- an upload younger than the expiry (default KINKO_MULTIPART_EXPIRY_DAYS) ------------------------------


@dataclass
class YoungUpload:
    bucket: str
    upload_id: str
    part: bytes
    part_files: set[Path]


@pytest.fixture(scope="module")
def young_upload(kinko, cos):
    """An upload started just now whose part file is old, then collect_garbage with a 7-day expiry."""
    bucket = new_bucket(cos)
    upload_id = cos.create_multipart_upload(Bucket=bucket, Key="young.bin")["UploadId"]
    part = os.urandom(4096)
    before = blob_files(kinko)
    cos.upload_part(Bucket=bucket, Key="young.bin", Body=part, PartNumber=1, UploadId=upload_id)
    part_files = blob_files(kinko) - before
    age_every_file(kinko.data_dir / "objects")
    manage(kinko, "collect_garbage", KINKO_MULTIPART_EXPIRY_DAYS="7")
    yield YoungUpload(bucket, upload_id, part, part_files)
    empty_and_delete(cos, bucket)


def test_collect_garbage_keeps_an_upload_younger_than_the_expiry(cos, young_upload):
    uploads = cos.list_multipart_uploads(Bucket=young_upload.bucket).get("Upload", [])
    assert [u["UploadId"] for u in uploads] == [young_upload.upload_id]


def test_collect_garbage_keeps_the_old_part_files_of_a_young_upload(young_upload):
    assert (len(young_upload.part_files), existing(young_upload.part_files)) == (1, young_upload.part_files)


def test_an_upload_kept_by_collect_garbage_still_completes(cos, young_upload):
    etag = cos.list_parts(Bucket=young_upload.bucket, Key="young.bin", UploadId=young_upload.upload_id)["Part"][0]
    cos.complete_multipart_upload(
        Bucket=young_upload.bucket,
        Key="young.bin",
        UploadId=young_upload.upload_id,
        MultipartUpload={"Part": [{"PartNumber": 1, "ETag": etag["ETag"]}]},
    )
    assert body_of(cos.get_object(Bucket=young_upload.bucket, Key="young.bin")) == young_upload.part


# -- everything expired (KINKO_MULTIPART_EXPIRY_DAYS=0) ---------------------------------------------------

BIG = os.urandom(MiB)
OBJECTS = {
    "plain.txt": b"a plain object",
    "dir/中文 name.txt": b"an awkward key",
    "multipart.bin": BIG + b"and a small last part",
    "copy.txt": b"a plain object",
    "overwritten.txt": b"the second version",
    "empty": b"",
}


@dataclass
class Collected:
    bucket: str
    upload_id: str
    part_files: set[Path]
    old_orphan: Path
    young_orphan: Path
    old_temp: Path
    output: str = field(repr=False)


def store_objects(cos, bucket: str) -> None:
    """OBJECTS: single PUTs, a two-part multipart object, a copy and an overwrite."""
    for key in ("plain.txt", "dir/中文 name.txt", "empty"):
        cos.put_object(Bucket=bucket, Key=key, Body=OBJECTS[key])
    upload_id = cos.create_multipart_upload(Bucket=bucket, Key="multipart.bin")["UploadId"]
    parts = []
    for number, chunk in ((1, BIG), (2, OBJECTS["multipart.bin"][len(BIG) :])):
        result = cos.upload_part(Bucket=bucket, Key="multipart.bin", Body=chunk, PartNumber=number, UploadId=upload_id)
        parts.append({"PartNumber": number, "ETag": result["ETag"]})
    cos.complete_multipart_upload(
        Bucket=bucket, Key="multipart.bin", UploadId=upload_id, MultipartUpload={"Part": parts}
    )
    cos.copy_object(Bucket=bucket, Key="copy.txt", CopySource={"Bucket": bucket, "Key": "plain.txt", "Region": REGION})
    cos.put_object(Bucket=bucket, Key="overwritten.txt", Body=b"the first version, longer")
    cos.put_object(Bucket=bucket, Key="overwritten.txt", Body=OBJECTS["overwritten.txt"])


@pytest.fixture(scope="module")
def collected(kinko, cos):
    """Real objects, an upload in progress, an old and a young orphan blob and an old temp file, every stored
    file aged past the grace period; then collect_garbage with KINKO_MULTIPART_EXPIRY_DAYS=0."""
    root = kinko.data_dir / "objects"
    bucket = new_bucket(cos)
    store_objects(cos, bucket)
    upload_id = cos.create_multipart_upload(Bucket=bucket, Key="pending.bin")["UploadId"]
    before = blob_files(kinko)
    cos.upload_part(Bucket=bucket, Key="pending.bin", Body=b"never completed", PartNumber=1, UploadId=upload_id)
    part_files = blob_files(kinko) - before
    old_orphan = plant(root / "ab" / ("ab" + uuid.uuid4().hex[2:]), b"nobody points at me", old=True)
    old_temp = plant(root / "tmp" / f"{uuid.uuid4().hex}.part", b"a crashed writer's leftovers", old=True)
    age_every_file(root)
    young_orphan = plant(root / "cd" / ("cd" + uuid.uuid4().hex[2:]), b"maybe still committing", old=False)
    output = manage(kinko, "collect_garbage", KINKO_MULTIPART_EXPIRY_DAYS="0")
    yield Collected(bucket, upload_id, part_files, old_orphan, young_orphan, old_temp, output)
    young_orphan.unlink(missing_ok=True)
    empty_and_delete(cos, bucket)


def test_collect_garbage_aborts_an_expired_upload(cos, collected):
    assert "Upload" not in cos.list_multipart_uploads(Bucket=collected.bucket)


def test_upload_part_to_an_upload_collect_garbage_aborted_is_no_such_upload(cos, collected):
    with pytest.raises(CosServiceError) as err:
        cos.upload_part(
            Bucket=collected.bucket, Key="pending.bin", Body=b"late", PartNumber=2, UploadId=collected.upload_id
        )
    assert service_error(err.value) == (404, "NoSuchUpload")


def test_collect_garbage_frees_the_parts_of_the_aborted_upload(collected):
    assert (len(collected.part_files), existing(collected.part_files)) == (1, set())


def test_collect_garbage_creates_no_object_from_the_aborted_upload(cos, collected):
    assert cos.object_exists(Bucket=collected.bucket, Key="pending.bin") is False


def test_collect_garbage_removes_an_old_orphan_blob(collected):
    assert collected.old_orphan.exists() is False


def test_collect_garbage_keeps_a_young_orphan_blob(collected):
    assert collected.young_orphan.exists() is True


def test_collect_garbage_removes_an_old_temp_file(collected):
    assert collected.old_temp.exists() is False


def test_collect_garbage_reports_at_least_the_aborted_upload_and_the_two_old_files(collected):
    counts = re.search(r"Aborted (\d+) stale upload\(s\); removed (\d+) orphan file\(s\)", collected.output)
    assert (int(counts[1]) >= 1, int(counts[2]) >= 2) == (True, True)


@pytest.mark.parametrize("key", OBJECTS)
def test_collect_garbage_keeps_every_object_readable(cos, collected, key):
    assert body_of(cos.get_object(Bucket=collected.bucket, Key=key)) == OBJECTS[key]


def test_collect_garbage_keeps_every_object_listed(cos, collected):
    listing = cos.list_objects(Bucket=collected.bucket)["Contents"]
    assert sorted(item["Key"] for item in listing) == sorted(OBJECTS)
