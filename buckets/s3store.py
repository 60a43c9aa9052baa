"""Blobs in an S3-compatible object store (boto3, SigV4): the same ciphertext files as on local disk, one object
each under <prefix>blobs/<id>. No ORM, no HTTP handling, no settings: buckets/storage.py picks and configures it.

- A write streams: up to PART_BYTES are buffered, then sent as one part of a backend multipart upload; a blob that
  ends before the first part is full is one PUT. Only `commit()` (Complete, or the PUT) makes it visible under its
  id; `abort()` aborts the backend upload. Memory is flat whatever the size.
- A read is ranged: the header and the stored size (Content-Range) first, then one streaming GET of exactly the
  segments a range touches (segments.BlobSource).
- A blob is never modified once written, so its LastModified is when it was written. A retired blob (one a reader
  of a multipart object may still be about to open, see storage.retire_blobs) gets a marker object
  <prefix>retired/<id>, whose own LastModified restarts the orphan sweep's grace period; it goes with the blob.
- A backend that cannot be reached, times out or answers 5xx is ServiceUnavailable (503); one that refuses (a
  wrong key or bucket: a misconfiguration) is InternalError. Either is logged once, in one line, until the backend
  answers again. Deletes are best effort: a blob left behind has no row, and the orphan sweep collects it.
"""

import functools
import logging
import threading
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from core import metrics

from . import errors

log = logging.getLogger(__name__)

PART_BYTES = 8 * 1024 * 1024  # one part of a backend multipart upload: the most a writer holds in memory
DELETE_BATCH = 1000  # keys per DeleteObjects request (the S3 maximum)
BLOBS = "blobs/"
RETIRED = "retired/"
UNAVAILABLE_MESSAGE = "The object data store is unavailable: please try again later."
REFUSED_MESSAGE = "The object data store refused the request."


@dataclass(frozen=True)
class S3Config:
    endpoint: str  # "" for the AWS default
    bucket: str
    access_key: str
    secret_key: str = field(repr=False)
    region: str
    prefix: str = ""


class _Health:
    """Log a backend failure once, in one line, until the backend answers again."""

    def __init__(self) -> None:
        self._failing = False
        self._lock = threading.Lock()

    def failed(self, what: str, exc: Exception) -> None:
        with self._lock:
            first, self._failing = not self._failing, True
        if first:
            log.warning("blob backend: %s failed: %s (logged once until it answers again)", what, _describe(exc))

    def answered(self) -> None:
        if self._failing:
            with self._lock:
                self._failing = False
            log.info("blob backend: answering again")


HEALTH = _Health()


def _describe(exc: Exception) -> str:
    if isinstance(exc, ClientError):
        error = exc.response.get("Error", {})
        status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
        return f"HTTP {status} {error.get('Code', '')}".strip()
    return f"{type(exc).__name__}: {exc}"


def _code(exc: ClientError) -> str:
    return str(exc.response.get("Error", {}).get("Code", ""))


def _status(exc: ClientError) -> int:
    return int(exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode") or 0)


def backend_error(what: str, exc: Exception) -> errors.CosError:
    """The COS error for a failed backend call, logged once and counted each time."""
    HEALTH.failed(what, exc)
    metrics.count_backend_error(what, _code(exc) if isinstance(exc, ClientError) else type(exc).__name__)
    if isinstance(exc, ClientError) and 400 <= _status(exc) < 500 and _code(exc) not in ("SlowDown", "RequestTimeout"):
        return errors.InternalError(REFUSED_MESSAGE)
    return errors.ServiceUnavailable(UNAVAILABLE_MESSAGE)


class S3Store:
    def __init__(self, config: S3Config) -> None:
        self.config = config
        self.bucket = config.bucket
        self._client = boto3.session.Session().client(
            "s3",
            endpoint_url=config.endpoint or None,
            aws_access_key_id=config.access_key or None,
            aws_secret_access_key=config.secret_key or None,
            region_name=config.region,
            config=Config(
                signature_version="s3v4",
                s3={"addressing_style": "path" if config.endpoint else "auto"},
                connect_timeout=3,
                read_timeout=30,
                retries={"mode": "standard", "max_attempts": 3},
                max_pool_connections=32,
            ),
        )

    def key(self, blob_id: str) -> str:
        return f"{self.config.prefix}{BLOBS}{blob_id}"

    def _marker(self, blob_id: str) -> str:
        return f"{self.config.prefix}{RETIRED}{blob_id}"

    def call(self, what: str, method: str, expected: tuple[str, ...] = (), **params):
        """One backend request; a ClientError whose code is `expected` is the caller's to handle."""
        try:
            result = getattr(self._client, method)(Bucket=self.bucket, **params)
        except ClientError as exc:
            if _code(exc) in expected:
                HEALTH.answered()
                raise
            raise backend_error(what, exc) from None
        except BotoCoreError as exc:
            raise backend_error(what, exc) from None
        HEALTH.answered()
        return result

    # -- the interface storage.py uses ----------------------------------------------------------------------

    def writer(self) -> "S3Writer":
        return S3Writer(self)

    def open_range(self, blob_id: str) -> "S3Source":
        return S3Source(self, blob_id)

    def delete(self, blob_ids: list[str]) -> None:
        keys = [key for blob_id in blob_ids for key in (self.key(blob_id), self._marker(blob_id))]
        for start in range(0, len(keys), DELETE_BATCH):
            batch = [{"Key": key} for key in keys[start : start + DELETE_BATCH]]
            try:
                self.call("delete", "delete_objects", Delete={"Objects": batch, "Quiet": True})
            except errors.CosError:
                return  # logged; what is left has no row, and the orphan sweep collects it

    def retire(self, blob_ids: list[str]) -> None:
        for blob_id in blob_ids:
            try:
                self.call("retire", "put_object", Key=self._marker(blob_id), Body=b"")
            except errors.CosError:
                return  # logged; the sweep may then collect the blob before its grace: only a cut-off read

    def _listing(self, prefix: str) -> Iterator[list[dict]]:
        token = None
        while True:
            params = {"Prefix": prefix, "MaxKeys": 1000, **({"ContinuationToken": token} if token else {})}
            page = self.call("list", "list_objects_v2", **params)
            yield page.get("Contents", [])
            token = page.get("NextContinuationToken")
            if not page.get("IsTruncated") or not token:
                return

    def list_orphans(self, older_than_seconds: float, now: float | None = None) -> Iterator[list[str]]:
        """Page by page, the ids of blobs written (or retired) longer ago than the grace: the sweep's candidates."""
        cutoff = _cutoff(older_than_seconds, now)
        marker_prefix = self.config.prefix + RETIRED
        young = {
            item["Key"][len(marker_prefix) :]
            for page in self._listing(marker_prefix)
            for item in page
            if item["LastModified"] >= cutoff
        }
        blob_prefix = self.config.prefix + BLOBS
        for page in self._listing(blob_prefix):
            ids = [item["Key"][len(blob_prefix) :] for item in page if item["LastModified"] < cutoff]
            ids = [blob_id for blob_id in ids if blob_id not in young]
            if ids:
                yield ids

    def sweep_incomplete(self, older_than_seconds: float, now: float | None = None) -> int:
        """Abort backend multipart uploads left by crashed writers: initiated, and last given a part, before the
        grace. A live writer sends a part every PART_BYTES, so it is never taken."""
        cutoff = _cutoff(older_than_seconds, now)
        aborted = 0
        params = {"Prefix": self.config.prefix + BLOBS}
        while True:
            page = self.call("list uploads", "list_multipart_uploads", **params)
            for upload in page.get("Uploads", []):
                if upload["Initiated"] < cutoff and not self._has_part_since(upload, cutoff):
                    try:
                        self.call("abort", "abort_multipart_upload", ("NoSuchUpload",), **_upload(upload))
                    except ClientError:
                        continue  # finished or aborted meanwhile
                    aborted += 1
            if not page.get("IsTruncated"):
                return aborted
            params.update(KeyMarker=page["NextKeyMarker"], UploadIdMarker=page["NextUploadIdMarker"])

    def _has_part_since(self, upload: dict, cutoff: datetime) -> bool:
        try:
            for page in self._client.get_paginator("list_parts").paginate(Bucket=self.bucket, **_upload(upload)):
                if any(part["LastModified"] >= cutoff for part in page.get("Parts", [])):
                    return True
        except ClientError as exc:
            if _code(exc) == "NoSuchUpload":
                return True  # gone already: nothing to abort
            raise backend_error("list parts", exc) from None
        except BotoCoreError as exc:
            raise backend_error("list parts", exc) from None
        return False

    def check(self) -> None:
        self.call("check", "head_bucket")


@functools.cache
def store(config: S3Config) -> S3Store:
    """One client per configuration, shared by the threads of a process (boto3 clients are thread-safe)."""
    return S3Store(config)


def _upload(upload: dict) -> dict:
    return {"Key": upload["Key"], "UploadId": upload["UploadId"]}


def _cutoff(older_than_seconds: float, now: float | None) -> datetime:
    moment = datetime.now(UTC) if now is None else datetime.fromtimestamp(now, UTC)
    return moment - timedelta(seconds=older_than_seconds)


class S3Writer:
    """Write one blob (storage.BlobWriter's interface): parts of PART_BYTES as they fill, then Complete."""

    def __init__(self, store: S3Store) -> None:
        self.blob_id = uuid.uuid4().hex
        self._store = store
        self._key = store.key(self.blob_id)
        self._buffer = bytearray()
        self._upload_id: str | None = None
        self._parts: list[dict] = []
        self._done = False

    def write(self, chunk: bytes | memoryview) -> None:
        self._buffer += chunk
        self._send_full_parts()

    def write_many(self, chunks: list[bytes]) -> None:
        for chunk in chunks:
            self._buffer += chunk
        self._send_full_parts()

    def _send_full_parts(self) -> None:
        while len(self._buffer) >= PART_BYTES:
            part = bytes(self._buffer[:PART_BYTES])
            del self._buffer[:PART_BYTES]
            self._send_part(part)

    def _send_part(self, body: bytes) -> None:
        try:
            if self._upload_id is None:
                self._upload_id = self._store.call("write", "create_multipart_upload", Key=self._key)["UploadId"]
            number = len(self._parts) + 1
            sent = self._store.call(
                "write", "upload_part", Key=self._key, UploadId=self._upload_id, PartNumber=number, Body=body
            )
        except errors.CosError:
            self.abort()
            raise
        self._parts.append({"PartNumber": number, "ETag": sent["ETag"]})

    def commit(self) -> str:
        body, self._buffer = bytes(self._buffer), bytearray()
        if self._upload_id is None:
            try:
                self._store.call("write", "put_object", Key=self._key, Body=body)
            except errors.CosError:
                self._done = True
                raise
        else:
            if body:
                self._send_part(body)
            try:
                self._store.call(
                    "write",
                    "complete_multipart_upload",
                    Key=self._key,
                    UploadId=self._upload_id,
                    MultipartUpload={"Parts": self._parts},
                )
            except errors.CosError:
                self.abort()
                raise
        self._done = True
        return self.blob_id

    def abort(self) -> None:
        if self._done:
            return
        self._done = True
        self._buffer = bytearray()
        if self._upload_id is not None:
            try:
                self._store.call(
                    "abort", "abort_multipart_upload", ("NoSuchUpload",), Key=self._key, UploadId=self._upload_id
                )
            except (errors.CosError, ClientError):
                pass  # logged; the sweep aborts an upload that gets no more parts

    def __enter__(self) -> "S3Writer":
        return self

    def __exit__(self, *exc_info) -> None:
        self.abort()


class _Body:
    """A GET's body whose read errors (a reset or timed-out connection) are backend errors, not tracebacks."""

    def __init__(self, body) -> None:
        self._body = body

    def read(self, length: int) -> bytes:
        try:
            return self._body.read(length)
        except (BotoCoreError, OSError) as exc:
            raise backend_error("read", exc) from None

    def close(self) -> None:
        self._body.close()


class S3Source:
    """A `segments.BlobSource` over ranged GETs of one blob object."""

    def __init__(self, store: S3Store, blob_id: str) -> None:
        self._store = store
        self._key = store.key(blob_id)
        self._body: _Body | None = None

    def _get(self, first: int, last: int) -> dict:
        try:
            return self._store.call(
                "read", "get_object", ("NoSuchKey", "InvalidRange"), Key=self._key, Range=f"bytes={first}-{last}"
            )
        except ClientError as exc:
            if _code(exc) == "NoSuchKey":
                raise FileNotFoundError(self._key) from None
            raise  # InvalidRange: the caller's

    def head(self, length: int) -> tuple[bytes, int]:
        try:
            got = self._get(0, length - 1)
        except ClientError:  # InvalidRange: an empty object
            return b"", 0
        body = _Body(got["Body"])
        try:
            head = body.read(length)
        finally:
            body.close()
        content_range = got.get("ContentRange", "")
        total = int(content_range.rpartition("/")[2]) if content_range else int(got["ContentLength"])
        return head, total

    def span(self, offset: int, length: int) -> _Body:
        self.close()
        self._body = _Body(self._get(offset, offset + length - 1)["Body"])
        return self._body

    def close(self) -> None:
        if self._body is not None:
            self._body.close()
            self._body = None
