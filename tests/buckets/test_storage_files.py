"""put_object / delete_object over real blob files, and the orphan-blob garbage collector."""

import hashlib
import io
import os
import time
from pathlib import Path

import crcmod
import pytest

from buckets import errors, housekeeping, multipart, service, sse, storage
from buckets.models import SseMode, StoredObject
from tests.factories import BucketFactory

# CRC-64/ECMA-182 as the COS SDK computes x-cos-hash-crc64ecma.
crc64ecma = crcmod.mkCrcFun(0x142F0E1EBA9EA3693, initCrc=0, xorOut=0xFFFFFFFFFFFFFFFF, rev=True)

ATTRIBUTES = service.ObjectAttributes()
WRITE = service.WriteRequest()
DAY = 24 * 3600


def files_under(path: Path) -> list[Path]:
    return sorted(p for p in path.rglob("*") if p.is_file())


def put(bucket, key: str, data: bytes, **options) -> StoredObject:
    return service.put_object(bucket, key, io.BytesIO(data), len(data), WRITE, **options).obj


def put_body(bucket, key: str, body, length, attributes=ATTRIBUTES) -> StoredObject:
    return service.put_object(bucket, key, body, length, service.WriteRequest(attributes=attributes)).obj


def read(bucket, key: str) -> bytes:
    return b"".join(service.read_object(bucket, key, {}, want_body=True, customer_key=None).body)


def reading(bucket, key: str):
    return service.read_object(bucket, key, {}, want_body=True, customer_key=None)


def blob_plaintext(bucket, key: str, record, blob_id: str, size: int) -> bytes:
    """Decrypt one stored blob (an object's, or an upload part's) with its data key, as the service does."""
    keys = sse.ObjectKeys(SseMode.NONE, {})
    data_key = keys.unwrap(bytes(record.wrapped_key), record.kek_version, sse.identity(bucket.name, key, blob_id))
    return b"".join(storage.ObjectReader([storage.OpenBlob(blob_id, size, data_key)], 0, size))


def stored(obj: StoredObject) -> bytes:
    """The plaintext in an object's blob file, read from disk and decrypted (the file itself is ciphertext)."""
    return blob_plaintext(obj.bucket, obj.key, obj, obj.blob, obj.size_bytes)


def start_upload(bucket, key: str):
    upload, _ = multipart.create_multipart_upload(bucket, key, bucket.owner, WRITE)
    return upload


def send_part(upload, number: int, data: bytes):
    part, _ = multipart.upload_part(upload, number, io.BytesIO(data), len(data), multipart.PartWrite())
    return part


def age(path: Path, seconds: float) -> None:
    past = time.time() - seconds
    os.utime(path, (past, past))


def orphan_blob(data: bytes = b"orphan") -> str:
    """A committed blob file that no row points at, as left by a crash between rename and commit."""
    with storage.BlobWriter() as writer:
        writer.write(data)
        return writer.commit()


class CutOffBody(io.BytesIO):
    """A request body whose client went away: the socket read fails part-way."""

    def read(self, size: int = -1) -> bytes:
        chunk = super().read(size)
        if not chunk:
            raise ConnectionResetError("client went away")
        return chunk


@pytest.fixture
def bucket(db):
    return BucketFactory()


@pytest.fixture
def root(settings) -> Path:
    return Path(settings.STORAGE_ROOT)


# -- put_object -------------------------------------------------------------------------------------------


def test_put_object_stores_the_bytes_in_a_blob(bucket):
    obj = put(bucket, "a/b.txt", b"hello")
    assert stored(obj) == b"hello"


def test_put_object_records_size_md5_etag_and_crc64_of_the_body(bucket):
    data = b"hello world"
    obj = StoredObject.objects.get(pk=put(bucket, "a/b.txt", data).pk)
    assert obj.size_bytes == 11
    assert obj.etag == hashlib.md5(data).hexdigest()
    assert obj.crc64 == str(crc64ecma(data))


def test_put_object_digests_a_body_of_several_chunks_as_one(bucket):
    data = os.urandom(2 * storage.CHUNK_BYTES + 12345)
    obj = put(bucket, "big.bin", data)
    assert stored(obj) == data
    assert obj.etag == hashlib.md5(data).hexdigest()
    assert obj.crc64 == str(crc64ecma(data))


def test_put_object_crc64_matches_the_published_check_value(bucket):
    # CRC-64/XZ (the ECMA-182 polynomial, reflected, inverted) of "123456789" is 0x995DC9BBDF1939FA.
    assert put(bucket, "check", b"123456789").crc64 == str(0x995DC9BBDF1939FA)


def test_put_object_of_an_empty_body_stores_an_empty_blob(bucket):
    obj = put(bucket, "empty", b"")
    assert stored(obj) == b""
    assert (obj.size_bytes, obj.etag, obj.crc64) == (0, hashlib.md5(b"").hexdigest(), "0")


def test_put_object_without_content_length_reads_to_the_end_of_the_body(bucket):
    obj = put_body(bucket, "chunked", io.BytesIO(b"chunked body"), None)
    assert stored(obj) == b"chunked body"


def test_put_object_reads_no_further_than_content_length(bucket):
    body = io.BytesIO(b"0123456789next request")
    obj = put_body(bucket, "k", body, 10)
    assert stored(obj) == b"0123456789"
    assert body.read() == b"next request"


def test_put_object_with_matching_content_md5_is_stored(bucket):
    obj = put(bucket, "k", b"hello", content_md5=hashlib.md5(b"hello").digest())
    assert StoredObject.objects.filter(pk=obj.pk).exists()


def test_put_object_with_a_body_shorter_than_content_length_is_an_incomplete_body(bucket):
    with pytest.raises(errors.IncompleteBody):
        put_body(bucket, "k", io.BytesIO(b"short"), 100)


def test_incomplete_body_leaves_no_row_and_no_file(bucket, root):
    with pytest.raises(errors.IncompleteBody):
        put_body(bucket, "k", io.BytesIO(b"short"), 100)
    assert not StoredObject.objects.exists()
    assert files_under(root) == []


def test_body_cut_off_by_the_client_is_an_incomplete_body_that_leaves_no_file(bucket, root):
    with pytest.raises(errors.IncompleteBody):
        put_body(bucket, "k", CutOffBody(b"partial"), 100)
    assert not StoredObject.objects.exists()
    assert files_under(root) == []


def test_put_object_with_mismatched_content_md5_is_a_bad_digest(bucket):
    with pytest.raises(errors.BadDigest):
        put(bucket, "k", b"hello", content_md5=hashlib.md5(b"other").digest())


def test_bad_digest_leaves_no_row_and_no_file(bucket, root):
    with pytest.raises(errors.BadDigest):
        put(bucket, "k", b"hello", content_md5=hashlib.md5(b"other").digest())
    assert not StoredObject.objects.exists()
    assert files_under(root) == []


def test_bad_digest_on_overwrite_keeps_the_old_object(bucket, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        old = put(bucket, "k", b"old")
    with pytest.raises(errors.BadDigest), django_capture_on_commit_callbacks(execute=True):
        put(bucket, "k", b"new", content_md5=hashlib.md5(b"other").digest())
    assert StoredObject.objects.get(bucket=bucket, key="k").blob == old.blob
    assert stored(old) == b"old"


def test_put_object_with_an_unsupported_storage_class_writes_nothing(bucket, root):
    attributes = service.ObjectAttributes(storage_class="GLACIER")
    with pytest.raises(errors.InvalidArgument):
        put_body(bucket, "k", io.BytesIO(b"x"), 1, attributes)
    assert files_under(root) == []


def test_put_object_with_a_key_over_850_bytes_is_too_long(bucket, root):
    with pytest.raises(errors.KeyTooLong):
        put(bucket, "é" * 426, b"x")
    assert files_under(root) == []


def test_put_object_keeps_content_type_headers_and_metadata(bucket):
    attributes = service.ObjectAttributes(
        content_type="text/plain", headers={"Cache-Control": "no-cache"}, metadata={"x-cos-meta-note": "中文"}
    )
    obj = put_body(bucket, "k", io.BytesIO(b"x"), 1, attributes)
    stored = StoredObject.objects.get(pk=obj.pk)
    assert (stored.content_type, stored.headers, stored.metadata) == (
        "text/plain",
        {"Cache-Control": "no-cache"},
        {"x-cos-meta-note": "中文"},
    )


# -- overwrite and delete ---------------------------------------------------------------------------------


def test_overwrite_points_the_key_at_the_new_bytes(bucket, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        put(bucket, "k", b"old")
        put(bucket, "k", b"new")
    assert read(bucket, "k") == b"new"
    assert StoredObject.objects.filter(bucket=bucket, key="k").count() == 1


def test_overwrite_deletes_the_old_blob_file_after_commit(bucket, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        old = put(bucket, "k", b"old")
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        new = put(bucket, "k", b"new")
        assert storage.blob_path(old.blob).exists()  # readers of the old row can still open it until commit
    assert callbacks
    assert not storage.blob_path(old.blob).exists()
    assert stored(new) == b"new"


def test_a_reader_holding_the_old_blob_open_still_reads_it_after_an_overwrite(
    bucket, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        old = put(bucket, "k", b"old content")
    held = reading(bucket, "k")
    with django_capture_on_commit_callbacks(execute=True):
        put(bucket, "k", b"new content")
    assert not storage.blob_path(old.blob).exists()
    assert b"".join(held.body) == b"old content"


def test_a_reader_of_a_multipart_object_still_reads_all_of_it_after_an_overwrite(
    bucket, django_capture_on_commit_callbacks
):
    first, second = os.urandom(multipart.MIN_PART_BYTES), b"second part"
    upload = start_upload(bucket, "mp")
    parts = [send_part(upload, n, data) for n, data in ((1, first), (2, second))]
    with django_capture_on_commit_callbacks(execute=True):
        multipart.complete_multipart_upload(upload, [(part.number, part.etag) for part in parts])
    held = reading(bucket, "mp")
    with django_capture_on_commit_callbacks(execute=True):
        put(bucket, "mp", b"new content")
    assert b"".join(held.body) == first + second


def test_delete_object_removes_the_row_and_the_blob_after_commit(bucket, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        obj = put(bucket, "k", b"bytes")
    with django_capture_on_commit_callbacks(execute=True):
        service.delete_object(bucket, "k")
        assert storage.blob_path(obj.blob).exists()
    assert not StoredObject.objects.filter(bucket=bucket, key="k").exists()
    assert not storage.blob_path(obj.blob).exists()


def test_delete_object_of_a_missing_key_succeeds(bucket):
    service.delete_object(bucket, "never-stored")
    assert not StoredObject.objects.exists()


def test_get_object_of_a_deleted_key_is_no_such_key(bucket, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        put(bucket, "k", b"bytes")
        service.delete_object(bucket, "k")
    with pytest.raises(errors.NoSuchKey):
        service.get_object(bucket, "k")


# -- garbage collection -----------------------------------------------------------------------------------


def test_collect_orphan_blobs_removes_an_old_unreferenced_blob(db):
    blob = orphan_blob()
    age(storage.blob_path(blob), DAY)
    assert housekeeping.collect_orphan_blobs(older_than_seconds=3600) == 1
    assert not storage.blob_path(blob).exists()


def test_collect_orphan_blobs_removes_an_old_temp_file(db, root):
    writer = storage.BlobWriter()  # a writer whose process crashed: never committed nor aborted
    writer.write(b"partial")
    writer._file.close()  # its process is gone, and with it the lock it held
    temp = root / storage.TMP_DIR / f"{writer.blob_id}.part"
    age(temp, DAY)
    assert housekeeping.collect_orphan_blobs(older_than_seconds=3600) == 1
    assert not temp.exists()


def test_collect_orphan_blobs_keeps_an_old_referenced_blob(bucket):
    obj = put(bucket, "k", b"kept")
    age(storage.blob_path(obj.blob), DAY)
    assert housekeeping.collect_orphan_blobs(older_than_seconds=3600) == 0
    assert stored(obj) == b"kept"


def test_collect_orphan_blobs_keeps_an_old_part_of_an_upload_in_progress(bucket):
    upload = start_upload(bucket, "mp")
    part = send_part(upload, 1, b"part one")
    age(storage.blob_path(part.blob), DAY)
    assert housekeeping.collect_orphan_blobs(older_than_seconds=3600) == 0
    assert blob_plaintext(bucket, "mp", part, part.blob, part.size_bytes) == b"part one"


def test_collect_orphan_blobs_keeps_the_old_segments_of_a_multipart_object(bucket):
    upload = start_upload(bucket, "mp")
    part = send_part(upload, 1, b"only part")
    multipart.complete_multipart_upload(upload, [(1, part.etag)])
    age(storage.blob_path(part.blob), DAY)
    assert housekeeping.collect_orphan_blobs(older_than_seconds=3600) == 0
    assert read(bucket, "mp") == b"only part"


def test_collect_orphan_blobs_keeps_a_young_unreferenced_blob(db):
    blob = orphan_blob()  # its upload may still be committing
    assert housekeeping.collect_orphan_blobs(older_than_seconds=3600) == 0
    assert storage.blob_path(blob).exists()


def test_collect_orphan_blobs_keeps_a_young_temp_file(db, root):
    writer = storage.BlobWriter()
    writer.write(b"still uploading")
    assert housekeeping.collect_orphan_blobs(older_than_seconds=3600) == 0
    assert (root / storage.TMP_DIR / f"{writer.blob_id}.part").exists()
    writer.abort()


def test_collect_orphan_blobs_removes_only_the_orphans_among_many(bucket):
    kept = [put(bucket, f"k{i}", b"kept").blob for i in range(20)]
    orphans = [orphan_blob() for _ in range(20)]
    for blob in kept + orphans:
        age(storage.blob_path(blob), DAY)
    assert housekeeping.collect_orphan_blobs(older_than_seconds=3600) == 20
    assert all(storage.blob_path(blob).exists() for blob in kept)
    assert not any(storage.blob_path(blob).exists() for blob in orphans)


def test_collect_orphan_blobs_uses_the_configured_grace_period(db, settings):
    settings.KINKO_ORPHAN_GRACE_SECONDS = 2 * DAY
    blob = orphan_blob()
    age(storage.blob_path(blob), DAY)
    assert housekeeping.collect_orphan_blobs() == 0
    assert storage.blob_path(blob).exists()


def test_collect_orphan_blobs_on_an_empty_storage_root_removes_nothing(db):
    assert housekeeping.collect_orphan_blobs(older_than_seconds=0) == 0


def test_the_blob_file_holds_ciphertext_never_the_plaintext(bucket):
    marker = b"PLAINTEXT-MARKER-" * 1000
    obj = put(bucket, "secret.txt", marker)
    raw = storage.blob_path(obj.blob).read_bytes()
    assert b"PLAINTEXT-MARKER-" not in raw
    assert stored(obj) == marker
