"""Blob I/O behind one interface, on the backend KINKO_BLOB_BACKEND names: the local disk (the default, here) or
an S3-compatible object store (buckets/s3store.py). Either holds only the ciphertext files of segments.py.

A backend has `writer()` (write, write_many, commit, abort), `open_range(blob_id)` (a segments.BlobSource),
`delete(ids)`, `retire(ids)`, `list_orphans(grace)` and `sweep_incomplete(grace)` for the orphan sweep, and
`check()` for readiness. The module functions below use the configured one.

On local disk a blob is streamed to a temp file, fsynced and renamed into place: its file lives at
<root>/<id[:2]>/<id>. No ORM and no HTTP here.
"""

import errno
import fcntl
import logging
import os
import tempfile
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from django.conf import settings

from core import metrics
from core.text import printable

from . import errors, segments

log = logging.getLogger(__name__)

CHUNK_BYTES = 1024 * 1024
TMP_DIR = "tmp"


def root() -> Path:
    return Path(settings.STORAGE_ROOT)


def blob_path(blob_id: str) -> Path:
    return root() / blob_id[:2] / blob_id


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


NO_SPACE = (errno.ENOSPC, errno.EDQUOT)
NO_SPACE_MESSAGE = "No space left on the device that holds the object data: the write was not kept."
_no_space_logged = False
# Room held back in the data dir (where the SQLite database lives) in a file of its own, so that a full disk can
# still record deletes (release_reserve): the database needs a little space to write down what frees the rest.
RESERVE_FILE = "space-reserve"
RESERVE_BYTES = 4 * 1024 * 1024


def no_space(exc: Exception, message: str = NO_SPACE_MESSAGE) -> errors.ServiceUnavailable:
    """The 503 for a full disk; the first one per process is logged with its traceback, later ones are not."""
    global _no_space_logged
    if not _no_space_logged:
        _no_space_logged = True
        log.warning("storage: no space left on the device (logged once)", exc_info=exc)
    return errors.ServiceUnavailable(message)


def free_bytes(path: Path) -> int:
    stats = os.statvfs(path)
    return stats.f_bavail * stats.f_frsize


def keep_reserve() -> None:
    """Put the space reserve back when it is gone and the disk has room for it beyond KINKO_MIN_FREE_BYTES."""
    final = Path(settings.DATA_DIR) / RESERVE_FILE
    if final.exists() or free_bytes(final.parent) < RESERVE_BYTES + settings.KINKO_MIN_FREE_BYTES:
        return
    tmp = final.with_name(f".{RESERVE_FILE}-{uuid.uuid4().hex}")
    try:
        with open(tmp, "xb") as file:
            os.posix_fallocate(file.fileno(), 0, RESERVE_BYTES)
        os.replace(tmp, final)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        if exc.errno not in NO_SPACE:
            raise


def release_reserve() -> bool:
    """Give the reserve's room back to the disk (a delete needs it); False when there was none to give."""
    try:
        (Path(settings.DATA_DIR) / RESERVE_FILE).unlink()
    except FileNotFoundError:
        return False
    log.warning("storage: the disk is full; released the %d-byte space reserve to record a delete", RESERVE_BYTES)
    return True


class BlobWriter:
    """Write one blob: chunks go to a temp file; `commit()` makes it durable under its id, `abort()` removes it.

    Used as a context manager, a writer that was not committed is always aborted, so a failed or cut-off upload
    leaves no file behind (a crash leaves a temp file, which `sweep_temp_files` collects).
    """

    def __init__(self) -> None:
        self.blob_id = uuid.uuid4().hex
        tmp_dir = root() / TMP_DIR
        tmp_dir.mkdir(parents=True, exist_ok=True)
        keep_reserve()  # a new blob never takes the room the reserve can have back
        self._tmp = tmp_dir / f"{self.blob_id}.part"
        try:
            self._file = open(self._tmp, "xb", buffering=0)  # noqa: SIM115 - closed by commit/abort
        except OSError as exc:
            metrics.count_storage_error("write", exc)
            if exc.errno in NO_SPACE:
                raise no_space(exc) from None
            raise
        # Held while the upload lives, however slowly its body arrives: the orphan sweep never takes a locked file.
        fcntl.flock(self._file.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        self._done = False

    def _no_space(self, exc: OSError) -> Exception:
        metrics.count_storage_error("write", exc)
        if exc.errno not in NO_SPACE:
            return exc
        self.abort()  # nothing partial is kept
        return no_space(exc)

    def write(self, chunk: bytes | memoryview) -> None:
        view = memoryview(chunk)
        try:
            while view:
                view = view[self._file.write(view) :]
        except OSError as exc:
            raise self._no_space(exc) from None

    def write_many(self, chunks: list[bytes]) -> None:
        """Write several chunks with one writev (the encrypted segments of one incoming chunk)."""
        if not chunks:
            return
        try:
            written = os.writev(self._file.fileno(), chunks)
        except OSError as exc:
            raise self._no_space(exc) from None
        total = sum(map(len, chunks))
        if written < total:  # a short write: finish the rest the slow way
            self.write(b"".join(chunks)[written:])

    def commit(self) -> str:
        final = blob_path(self.blob_id)
        try:
            self._file.flush()
            os.fsync(self._file.fileno())
            final.parent.mkdir(parents=True, exist_ok=True)
            os.replace(self._tmp, final)
            _fsync_dir(final.parent)
        except OSError as exc:
            if exc.errno in NO_SPACE:
                final.unlink(missing_ok=True)
            raise self._no_space(exc) from None
        self._file.close()
        self._done = True
        return self.blob_id

    def abort(self) -> None:
        if self._done:
            return
        self._done = True
        self._file.close()
        self._tmp.unlink(missing_ok=True)

    def __enter__(self) -> "BlobWriter":
        return self

    def __exit__(self, *exc_info) -> None:
        self.abort()


class Writer(Protocol):
    blob_id: str

    def write(self, chunk: bytes | memoryview) -> None: ...
    def write_many(self, chunks: list[bytes]) -> None: ...
    def commit(self) -> str: ...
    def abort(self) -> None: ...
    def __enter__(self) -> "Writer": ...
    def __exit__(self, *exc_info) -> None: ...


class Backend(Protocol):
    def writer(self) -> Writer: ...
    def open_range(self, blob_id: str) -> segments.BlobSource: ...
    def delete(self, blob_ids: list[str]) -> None: ...
    def retire(self, blob_ids: list[str]) -> None: ...
    def list_orphans(self, older_than_seconds: float, now: float | None = None) -> Iterator[list[str]]: ...
    def sweep_incomplete(self, older_than_seconds: float, now: float | None = None) -> int: ...
    def check(self) -> None: ...


class LocalDisk:
    """Blobs as files under STORAGE_ROOT."""

    def writer(self) -> BlobWriter:
        return BlobWriter()

    def open_range(self, blob_id: str) -> segments.FileSource:
        try:
            file = open(blob_path(blob_id), "rb", buffering=0)  # noqa: SIM115 - closed by the reader
        except OSError as exc:
            metrics.count_storage_error("read", exc)
            raise
        return segments.FileSource(file)

    def delete(self, blob_ids: list[str]) -> None:
        for blob_id in blob_ids:
            blob_path(blob_id).unlink(missing_ok=True)

    def retire(self, blob_ids: list[str]) -> None:
        now = time.time()
        for blob_id in blob_ids:
            try:
                os.utime(blob_path(blob_id), (now, now))
            except FileNotFoundError:
                continue

    def list_orphans(self, older_than_seconds: float, now: float | None = None) -> Iterator[list[str]]:
        return iter_blob_ids(older_than_seconds, now)

    def sweep_incomplete(self, older_than_seconds: float, now: float | None = None) -> int:
        return sweep_temp_files(older_than_seconds, now)

    def check(self) -> None:
        root().mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=root(), prefix=".health-"):
            pass


LOCAL = LocalDisk()


def backend() -> Backend:
    """The configured blob backend (one S3 client per configuration, shared by the threads of a process)."""
    if settings.KINKO_BLOB_BACKEND != "s3":
        return LOCAL
    from . import s3store  # only an S3 node imports boto3

    config = s3store.S3Config(
        endpoint=settings.KINKO_BLOB_S3_ENDPOINT,
        bucket=settings.KINKO_BLOB_S3_BUCKET,
        access_key=settings.KINKO_BLOB_S3_ACCESS_KEY,
        secret_key=settings.KINKO_BLOB_S3_SECRET_KEY,
        region=settings.KINKO_BLOB_S3_REGION,
        prefix=settings.KINKO_BLOB_S3_PREFIX,
    )
    return s3store.store(config)


def writer() -> Writer:
    """A writer of one new blob on the configured backend; see BlobWriter."""
    return backend().writer()


@dataclass(frozen=True)
class OpenBlob:
    """A blob ready to read: its id, plaintext size and unwrapped data key."""

    blob_id: str
    size: int
    data_key: bytes = field(repr=False)


class ObjectReader:
    """Iterate plaintext bytes [first, first + length) of blobs read back to back, decrypting only the segments
    the range touches, in chunks of up to 1 MiB.

    The first chunk is decrypted at once, so a missing or corrupt object fails before a response starts; a fault
    further on raises mid-stream, which cuts the connection: a reader never receives wrong bytes.
    """

    def __init__(self, blobs: list[OpenBlob], first: int, length: int, label: str = "") -> None:
        self._file = None
        self._label = label
        self._chunks = self._generate(blobs, first, length)
        self._head = next(self._chunks, None)

    def _generate(self, blobs: list[OpenBlob], first: int, length: int) -> Iterator[bytes]:
        offset = 0
        for blob in blobs:
            if length <= 0:
                return
            if first >= offset + blob.size:
                offset += blob.size
                continue
            start = first - offset
            take = min(blob.size - start, length)
            self._file = backend().open_range(blob.blob_id)
            try:
                yield from segments.decrypt_range(self._file, blob.blob_id, blob.data_key, blob.size, start, take)
            except OSError as exc:
                metrics.count_storage_error("read", exc)
                raise
            finally:
                self.close()
            first += take
            length -= take
            offset += blob.size

    def __iter__(self) -> Iterator[bytes]:
        """With a label (a response's object and request), a fault found mid-stream is one ERROR line and a
        connection reset, which the web server ends quietly: the response has started, cutting it is all that is
        left. Without one (a copy), the fault itself is raised."""
        try:
            if self._head is not None:
                head, self._head = self._head, None
                yield head
            yield from self._chunks
        except segments.CorruptObject as exc:
            if not self._label:
                raise
            log.error("object %s is corrupt: %s; the response was cut short", printable(self._label), exc)
            raise ConnectionResetError(
                errno.ECONNRESET, "the object's stored data failed its integrity check"
            ) from None

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None


def delete_blob(blob_id: str) -> None:
    backend().delete([blob_id])


def delete_blobs(blob_ids: list[str]) -> None:
    backend().delete(blob_ids)


def retire_blobs(blob_ids: list[str]) -> None:
    """Leave unreferenced blobs to the orphan sweep, which skips blobs younger than its grace period: on disk their
    mtime is set to now; on S3 a marker object is written beside them."""
    backend().retire(blob_ids)


def sweep_temp_files(older_than_seconds: float, now: float | None = None) -> int:
    """Remove temp files left by crashed writers."""
    now = time.time() if now is None else now
    removed = 0
    tmp_dir = root() / TMP_DIR
    if not tmp_dir.is_dir():
        return 0
    for entry in os.scandir(tmp_dir):
        if entry.is_file() and now - entry.stat().st_mtime > older_than_seconds and not _in_use(entry.path):
            Path(entry.path).unlink(missing_ok=True)
            removed += 1
    return removed


def _in_use(path: str) -> bool:
    """Whether a live writer holds the temp file's lock (an upload still receiving its body)."""
    try:
        fd = os.open(path, os.O_RDONLY)
    except FileNotFoundError:
        return True  # gone already: nothing to remove
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    finally:
        os.close(fd)
    return False


def iter_blob_ids(older_than_seconds: float, now: float | None = None) -> Iterator[list[str]]:
    """Yield, one shard directory at a time, the ids of committed blobs older than the given age."""
    now = time.time() if now is None else now
    if not root().is_dir():
        return
    for shard in sorted(os.scandir(root()), key=lambda e: e.name):
        if shard.name == TMP_DIR or not shard.is_dir():
            continue
        ids = [e.name for e in os.scandir(shard.path) if e.is_file() and now - e.stat().st_mtime > older_than_seconds]
        if ids:
            yield ids
