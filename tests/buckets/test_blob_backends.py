"""The blob backend contract (buckets/storage.py), run on both backends: the local disk and an S3-compatible store
(SeaweedFS on loopback, tests/seaweed.py). Writes stream and become visible only on commit, ranged reads decrypt
exactly what they ask for, tampered bytes are CorruptObject, the orphan sweep takes crash leftovers and nothing live,
and a backend that is down is a 503, never a partial object."""

import io
import logging
import os
import time
import uuid
from dataclasses import dataclass

import boto3
import pytest
from botocore import UNSIGNED
from botocore.config import Config
from botocore.exceptions import ClientError

from buckets import errors, housekeeping, s3store, segments, service, storage
from buckets.models import StoredObject
from tests.factories import BucketFactory
from tests.live import free_port
from tests.seaweed import Seaweed

SEG = segments.SEGMENT_BYTES
GRACE = 600
LATER = 2 * GRACE  # seconds ahead of now: what the sweep sees once the grace period is over
MiB = 1024 * 1024


@dataclass
class Backend:
    """The backend under test, and raw access to the bytes it holds, as an operator (or an attacker) has."""

    name: str
    seaweed: Seaweed | None = None
    bucket: str = ""
    prefix: str = ""

    def raw(self, blob_id: str) -> bytes:
        if self.seaweed is None:
            return storage.blob_path(blob_id).read_bytes()
        return self.seaweed.client().get_object(Bucket=self.bucket, Key=self._key(blob_id))["Body"].read()

    def overwrite(self, blob_id: str, data: bytes) -> None:
        if self.seaweed is None:
            storage.blob_path(blob_id).write_bytes(data)
        else:
            self.seaweed.client().put_object(Bucket=self.bucket, Key=self._key(blob_id), Body=data)

    def _key(self, blob_id: str) -> str:
        return f"{self.prefix}blobs/{blob_id}"

    def retired_at(self, blob_id: str) -> float:
        head = self.seaweed.client().head_object(Bucket=self.bucket, Key=f"{self.prefix}retired/{blob_id}")
        return head["LastModified"].timestamp()

    def crash(self, writer) -> None:
        """The writer's process died: on disk its lock goes with it; on S3 nothing of it is left but its upload."""
        if self.seaweed is None:
            writer._file.close()

    def keys(self) -> list[str]:
        """Every object the backend holds for this test (S3), or every file under the storage root (disk)."""
        if self.seaweed is None:
            root = storage.root()
            return sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file()) if root.exists() else []
        listing = self.seaweed.client().list_objects_v2(Bucket=self.bucket, Prefix=self.prefix)
        return sorted(item["Key"] for item in listing.get("Contents", []))


@pytest.fixture(scope="session")
def seaweed_bucket(seaweed) -> str:
    return seaweed.new_bucket()


def use_s3(settings, seaweed: Seaweed, bucket: str, prefix: str) -> None:
    for name, value in seaweed.env(bucket, prefix).items():
        setattr(settings, name, value)


@pytest.fixture(params=["local", "s3"])
def backend(request, settings) -> Backend:
    if request.param == "local":
        return Backend("local")
    seaweed = request.getfixturevalue("seaweed")
    bucket = request.getfixturevalue("seaweed_bucket")
    prefix = f"t{uuid.uuid4().hex[:12]}/"  # each test its own corner of the shared bucket
    use_s3(settings, seaweed, bucket, prefix)
    return Backend("s3", seaweed, bucket, prefix)


@dataclass(frozen=True)
class Sealed:
    blob_id: str
    key: bytes
    size: int


def write(data: bytes, chunk: int = MiB) -> Sealed:
    """Encrypt `data` into a new blob through the configured backend's writer, as service.write_blob does."""
    key = os.urandom(32)
    with storage.writer() as writer:
        encryptor = segments.SegmentEncryptor(writer.blob_id, key)
        writer.write(encryptor.header())
        for start in range(0, len(data), chunk):
            writer.write_many(encryptor.update(data[start : start + chunk]))
        writer.write(encryptor.finish())
        return Sealed(writer.commit(), key, len(data))


def read(blob: Sealed, first: int = 0, length: int | None = None) -> bytes:
    length = blob.size - first if length is None else length
    return b"".join(storage.ObjectReader([storage.OpenBlob(blob.blob_id, blob.size, blob.key)], first, length))


def missing(blob_id: str) -> bool:
    """Whether no blob is readable under `blob_id`."""
    try:
        storage.backend().open_range(blob_id).head(segments.HEADER.size)
    except FileNotFoundError:
        return True
    return False


@pytest.fixture(scope="module")
def data() -> bytes:
    return os.urandom(3 * SEG + 1000)


# -- write, commit, abort ----------------------------------------------------------------------------------------


def test_a_committed_blob_reads_back_whole(backend, data):
    assert read(write(data)) == data


def test_an_empty_blob_reads_back_empty(backend):
    assert read(write(b"")) == b""


def test_a_blob_larger_than_one_backend_part_reads_back_whole(backend):
    big = os.urandom(s3store.PART_BYTES + 3 * MiB)  # two parts of a backend multipart upload on S3
    assert read(write(big)) == big


def test_the_backend_holds_only_ciphertext(backend):
    marker = b"PLAINTEXT-MARKER-" * 1000
    blob = write(marker)
    assert b"PLAINTEXT-MARKER-" not in backend.raw(blob.blob_id)
    assert len(backend.raw(blob.blob_id)) == segments.stored_size(len(marker))


def test_a_blob_being_written_is_not_visible_under_its_id(backend):
    with storage.writer() as writer:
        writer.write(os.urandom(s3store.PART_BYTES + MiB))  # on S3 a part has been sent already
        assert missing(writer.blob_id)


def test_an_aborted_write_leaves_nothing_behind(backend):
    writer = storage.writer()
    writer.write(os.urandom(s3store.PART_BYTES + MiB))
    writer.abort()
    assert missing(writer.blob_id)
    assert backend.keys() == []
    assert storage.backend().sweep_incomplete(GRACE, now=time.time() + LATER) == 0  # no upload left to abort


def test_a_writer_left_by_an_exception_is_aborted(backend):
    with pytest.raises(RuntimeError), storage.writer() as writer:
        writer.write(b"partial")
        raise RuntimeError("the request failed")
    assert missing(writer.blob_id)
    assert storage.backend().sweep_incomplete(GRACE, now=time.time() + LATER) == 0


# -- ranged reads ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "first, length",
    [(0, 1), (SEG - 10, 20), (SEG, SEG), (SEG + 1, 2 * SEG), (3 * SEG, 1000), (3 * SEG + 999, 1), (5, 3 * SEG)],
    ids=["first-byte", "across-0-1", "segment-1", "across-1-3", "last-segment", "last-byte", "nearly-all"],
)
def test_a_ranged_read_returns_exactly_the_range(backend, data, first, length):
    blob = write(data)
    assert read(blob, first, length) == data[first : first + length]


def test_a_ranged_read_does_not_need_the_segments_before_it(backend, data):
    blob = write(data)
    raw = bytearray(backend.raw(blob.blob_id))
    raw[segments.HEADER.size + 5] ^= 1  # segment 0 damaged
    backend.overwrite(blob.blob_id, bytes(raw))
    assert read(blob, 2 * SEG, SEG) == data[2 * SEG : 3 * SEG]


# -- tampering ---------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("where", ["header", "segment", "truncated", "extended", "emptied"])
def test_tampered_backend_bytes_are_a_corrupt_object(backend, data, where):
    blob = write(data)
    raw = bytearray(backend.raw(blob.blob_id))
    if where == "header":
        raw[0] ^= 1
    elif where == "segment":
        raw[segments.HEADER.size + SEG + 100] ^= 1
    elif where == "truncated":
        del raw[-1]
    elif where == "extended":
        raw += b"\0"
    else:
        raw = bytearray()
    backend.overwrite(blob.blob_id, bytes(raw))
    with pytest.raises(segments.CorruptObject):
        read(blob)


# -- delete, retire and the orphan sweep -------------------------------------------------------------------------


def test_a_deleted_blob_is_gone_and_deleting_it_again_is_harmless(backend, data):
    blob = write(data)
    storage.delete_blobs([blob.blob_id])
    assert missing(blob.blob_id)
    storage.delete_blob(blob.blob_id)


def test_list_orphans_lists_a_blob_only_once_its_grace_is_over(backend, data):
    blob = write(data)
    blobs = storage.backend()
    assert [blob_id for page in blobs.list_orphans(GRACE) for blob_id in page] == []
    assert [blob_id for page in blobs.list_orphans(GRACE, now=time.time() + LATER) for blob_id in page] == [
        blob.blob_id
    ]


def test_the_sweep_removes_an_old_orphan_and_keeps_an_old_referenced_blob(backend, db):
    obj = service.put_object(BucketFactory(), "kept", io.BytesIO(b"kept"), 4, service.WriteRequest()).obj
    orphan = write(b"no row points at me")
    assert housekeeping.collect_orphan_blobs(GRACE, now=time.time() + LATER) == 1
    assert missing(orphan.blob_id)
    assert not missing(obj.blob)
    assert StoredObject.objects.get(pk=obj.pk).blob == obj.blob


def test_the_sweep_keeps_a_young_orphan(backend, db):
    orphan = write(b"its upload may still be committing")
    assert housekeeping.collect_orphan_blobs(GRACE) == 0
    assert not missing(orphan.blob_id)


def test_the_sweep_takes_the_upload_of_a_crashed_writer_after_the_grace(backend, db):
    writer = storage.writer()
    writer.write(os.urandom(s3store.PART_BYTES + MiB))
    backend.crash(writer)
    assert housekeeping.collect_orphan_blobs(GRACE) == 0  # young: it may be a slow upload
    assert housekeeping.collect_orphan_blobs(GRACE, now=time.time() + LATER) == 1
    assert housekeeping.collect_orphan_blobs(GRACE, now=time.time() + LATER) == 0
    assert missing(writer.blob_id)


def test_the_sweep_keeps_a_live_upload(backend, db):
    with storage.writer() as writer:
        writer.write(os.urandom(s3store.PART_BYTES + MiB))
        assert housekeeping.collect_orphan_blobs(GRACE) == 0
        writer.write(b"the rest")
        blob_id = writer.commit()
    assert not missing(blob_id)


def orphan_ids(older_than: float, now: float | None = None) -> list[str]:
    return sorted(blob_id for page in storage.backend().list_orphans(older_than, now) for blob_id in page)


def test_a_retired_blob_gets_a_new_grace_period(backend, data):
    retired, other = write(data), write(data)
    if backend.seaweed is None:
        for blob in (retired, other):
            past = time.time() - LATER
            os.utime(storage.blob_path(blob.blob_id), (past, past))
        storage.retire_blobs([retired.blob_id])
        older_than, now = GRACE, None
    else:
        # An S3 object's LastModified cannot be set, and has a resolution of one second: for the blobs to be older
        # than the retirement, a second passes between them. The sweep then looks from the retirement's moment.
        time.sleep(1.1)
        storage.retire_blobs([retired.blob_id])
        older_than, now = 0, backend.retired_at(retired.blob_id)
    assert orphan_ids(older_than, now) == [other.blob_id]
    assert orphan_ids(GRACE, time.time() + LATER) == sorted([retired.blob_id, other.blob_id])
    storage.delete_blobs([retired.blob_id, other.blob_id])  # as the sweep does: a retired blob with its marker
    assert backend.keys() == []


# -- a backend that is down --------------------------------------------------------------------------------------


@pytest.fixture
def s3_down(settings, seaweed, seaweed_bucket, caplog):
    """The S3 backend configured at an address where nothing listens (the store is down)."""
    use_s3(settings, seaweed, seaweed_bucket, f"t{uuid.uuid4().hex[:12]}/")
    settings.KINKO_BLOB_S3_ENDPOINT = f"http://127.0.0.1:{free_port()}"
    caplog.set_level(logging.INFO, logger="buckets.s3store")
    s3store.HEALTH.answered()
    return caplog


def test_a_put_while_the_backend_is_down_is_service_unavailable_and_stores_nothing(db, s3_down):
    bucket = BucketFactory()
    for _ in range(2):
        with pytest.raises(errors.ServiceUnavailable):
            service.put_object(bucket, "k", io.BytesIO(b"x" * 100), 100, service.WriteRequest())
    assert not StoredObject.objects.filter(bucket=bucket).exists()
    warnings = [r for r in s3_down.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1, "logged once, not once per request"
    assert warnings[0].exc_info is None and "logged once" in warnings[0].getMessage()
    assert s3_down.text.count(s3_down.records[0].getMessage()) == 1


def test_a_large_put_while_the_backend_is_down_fails_at_its_first_part(db, s3_down):
    body = io.BytesIO(os.urandom(s3store.PART_BYTES + MiB))
    with pytest.raises(errors.ServiceUnavailable):
        service.put_object(BucketFactory(), "big", body, len(body.getvalue()), service.WriteRequest())


def test_a_get_while_the_backend_is_down_is_service_unavailable(db, settings, seaweed, seaweed_bucket, caplog):
    use_s3(settings, seaweed, seaweed_bucket, f"t{uuid.uuid4().hex[:12]}/")
    bucket = BucketFactory()
    service.put_object(bucket, "k", io.BytesIO(b"stored"), 6, service.WriteRequest())
    settings.KINKO_BLOB_S3_ENDPOINT = f"http://127.0.0.1:{free_port()}"
    with pytest.raises(errors.ServiceUnavailable):
        service.read_object(bucket, "k", {}, want_body=True, customer_key=None)
    assert "Traceback" not in caplog.text


def test_a_delete_while_the_backend_is_down_still_deletes_the_object(db, settings, seaweed, seaweed_bucket):
    """The row goes; the blob left on the backend has no row, so the orphan sweep collects it once it answers."""
    prefix = f"t{uuid.uuid4().hex[:12]}/"
    use_s3(settings, seaweed, seaweed_bucket, prefix)
    bucket = BucketFactory()
    blob = service.put_object(bucket, "k", io.BytesIO(b"stored"), 6, service.WriteRequest()).obj.blob
    endpoint = settings.KINKO_BLOB_S3_ENDPOINT
    settings.KINKO_BLOB_S3_ENDPOINT = f"http://127.0.0.1:{free_port()}"
    service.delete_object(bucket, "k")
    assert not StoredObject.objects.filter(bucket=bucket).exists()
    settings.KINKO_BLOB_S3_ENDPOINT = endpoint
    assert housekeeping.collect_orphan_blobs(GRACE, now=time.time() + LATER) == 1
    assert missing(blob)


def test_a_backend_that_refuses_the_credentials_is_an_internal_error(db, settings, seaweed, seaweed_bucket):
    use_s3(settings, seaweed, seaweed_bucket, f"t{uuid.uuid4().hex[:12]}/")
    settings.KINKO_BLOB_S3_SECRET_KEY = "not-the-secret"
    with pytest.raises(errors.InternalError):
        service.put_object(BucketFactory(), "k", io.BytesIO(b"x"), 1, service.WriteRequest())


def test_the_store_needs_the_signature(seaweed, seaweed_bucket):
    """SeaweedFS checks SigV4 against its -s3.config identities: an unsigned request is refused."""
    anonymous = boto3.client("s3", endpoint_url=seaweed.endpoint, config=Config(signature_version=UNSIGNED))
    with pytest.raises(ClientError):
        anonymous.put_object(Bucket=seaweed_bucket, Key="anonymous", Body=b"x")
