"""Blob storage failures are counted for /metrics (kinko_storage_errors_total) by operation and errno name, and
still answer as before: a full disk is 503 ServiceUnavailable with nothing kept, a missing file raises."""

import errno

import pytest
from prometheus_client import REGISTRY

from buckets import errors, storage


def counted(operation: str, error: str) -> float:
    labels = {"operation": operation, "error": error}
    return REGISTRY.get_sample_value("kinko_storage_errors_total", labels) or 0.0


def test_a_missing_blob_file_is_counted_as_a_read_error():
    before = counted("read", "ENOENT")
    with pytest.raises(FileNotFoundError):
        storage.LOCAL.open_range("ab" + "0" * 30)
    assert counted("read", "ENOENT") == before + 1


def test_a_full_disk_is_counted_as_a_write_error(monkeypatch):
    def full(fd, chunks):
        raise OSError(errno.ENOSPC, "No space left on device")

    before = counted("write", "ENOSPC")
    writer = storage.BlobWriter()
    monkeypatch.setattr(storage.os, "writev", full)  # the disk fills up mid-upload
    with pytest.raises(errors.ServiceUnavailable):
        writer.write_many([b"segment"])
    assert counted("write", "ENOSPC") == before + 1
    assert list((storage.root() / storage.TMP_DIR).iterdir()) == []
