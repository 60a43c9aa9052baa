"""Blob I/O on local disk: stream to a temp file, fsync, rename into place; open, range-read, delete, sweep.

No ORM and no HTTP here. A blob id is a random hex name; its file lives at <root>/<id[:2]>/<id>.
"""

import os
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

from django.conf import settings

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


class BlobWriter:
    """Write one blob: chunks go to a temp file; `commit()` makes it durable under its id, `abort()` removes it.

    Used as a context manager, a writer that was not committed is always aborted, so a failed or cut-off upload
    leaves no file behind (a crash leaves a temp file, which `sweep_temp_files` collects).
    """

    def __init__(self) -> None:
        self.blob_id = uuid.uuid4().hex
        tmp_dir = root() / TMP_DIR
        tmp_dir.mkdir(parents=True, exist_ok=True)
        self._tmp = tmp_dir / f"{self.blob_id}.part"
        self._file = open(self._tmp, "xb", buffering=0)  # noqa: SIM115 - closed by commit/abort
        self._done = False

    def write(self, chunk: bytes | memoryview) -> None:
        view = memoryview(chunk)
        while view:
            view = view[self._file.write(view) :]

    def commit(self) -> str:
        self._file.flush()
        os.fsync(self._file.fileno())
        self._file.close()
        final = blob_path(self.blob_id)
        final.parent.mkdir(parents=True, exist_ok=True)
        os.replace(self._tmp, final)
        _fsync_dir(final.parent)
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


def open_blob(blob_id: str):
    return open(blob_path(blob_id), "rb", buffering=0)  # noqa: SIM115 - the caller owns the handle


class BlobReader:
    """Iterate `length` bytes from `offset` of a sequence of blobs read back to back, in bounded chunks.

    The first blob is opened at once (so a missing blob is noticed before a response starts); later ones when
    the read reaches them. Iterating to the end, or `close()`, closes whatever is open.
    """

    def __init__(self, blobs: list[tuple[str, int]], offset: int, length: int) -> None:
        self._blobs = blobs
        self._offset = offset
        self._remaining = length
        self._file = None
        start = 0
        self._index = 0
        while self._index < len(blobs) and start + blobs[self._index][1] <= offset:
            start += blobs[self._index][1]
            self._index += 1
        self._skip = offset - start
        if self._remaining > 0:
            self._file = open_blob(blobs[self._index][0])

    def __iter__(self) -> Iterator[bytes]:
        try:
            while self._remaining > 0:
                if self._file is None:
                    self._file = open_blob(self._blobs[self._index][0])
                self._file.seek(self._skip)
                left_in_blob = self._blobs[self._index][1] - self._skip
                while self._remaining > 0 and left_in_blob > 0:
                    chunk = self._file.read(min(CHUNK_BYTES, self._remaining, left_in_blob))
                    if not chunk:
                        raise OSError("blob is shorter than its recorded size")
                    self._remaining -= len(chunk)
                    left_in_blob -= len(chunk)
                    yield chunk
                self._file.close()
                self._file, self._skip = None, 0
                self._index += 1
        finally:
            self.close()

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None


def delete_blob(blob_id: str) -> None:
    blob_path(blob_id).unlink(missing_ok=True)


def delete_blobs(blob_ids: list[str]) -> None:
    for blob_id in blob_ids:
        delete_blob(blob_id)


def retire_blobs(blob_ids: list[str]) -> None:
    """Leave unreferenced blobs to the orphan sweep, which skips files younger than its grace period."""
    now = time.time()
    for blob_id in blob_ids:
        try:
            os.utime(blob_path(blob_id), (now, now))
        except FileNotFoundError:
            continue


def sweep_temp_files(older_than_seconds: float, now: float | None = None) -> int:
    """Remove temp files left by crashed writers."""
    now = time.time() if now is None else now
    removed = 0
    tmp_dir = root() / TMP_DIR
    if not tmp_dir.is_dir():
        return 0
    for entry in os.scandir(tmp_dir):
        if entry.is_file() and now - entry.stat().st_mtime > older_than_seconds:
            Path(entry.path).unlink(missing_ok=True)
            removed += 1
    return removed


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
