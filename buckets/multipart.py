"""Multipart uploads: initiate, upload (or copy) parts, complete atomically, abort, list, expire."""

import functools
import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import BinaryIO

from django.db import transaction
from django.utils import timezone

from core import keystore
from core.db import lock, one
from roles.models import Account

from . import errors, service, sse, storage
from .digest import ContentDigest, crc64_combine
from .models import Bucket, MultipartUpload, Part, StoredObject

MIN_PART_BYTES = 1024 * 1024
MAX_PART_BYTES = 5 * 1024**3
MAX_PART_NUMBER = 10000


def create_multipart_upload(
    bucket: Bucket, key: str, initiator: Account, write: service.WriteRequest
) -> tuple[MultipartUpload, dict[str, str]]:
    """Start an upload; its SSE (request, else bucket default) is fixed here and inherited by every part."""
    service.validate_key(key)
    service.validate_storage_class(write.attributes.storage_class)
    keys = sse.new_envelope(bucket, write.sse_request, write.request_id, write.via_api)
    attributes = write.attributes
    upload_id = secrets.token_hex(24)
    sealed_md5 = b""
    if keys.customer_key_md5:  # echoed by Complete, which carries no SSE-C headers; never kept in clear
        sealed_md5 = keystore.seal_secret(keys.customer_key_md5.encode(), _key_md5_purpose(upload_id))
    upload = MultipartUpload.objects.create(
        bucket=bucket,
        key=key,
        upload_id=upload_id,
        initiator=initiator,
        content_type=attributes.content_type,
        headers=attributes.headers,
        metadata=attributes.metadata,
        storage_class=attributes.storage_class,
        tags=attributes.tags,
        acl=write.acl,
        ssec_key_md5_sealed=sealed_md5,
        **keys.fields,
    )
    return upload, keys.echo_headers()


def _key_md5_purpose(upload_id: str) -> bytes:
    return f"kinko/ssec-key-md5/{upload_id}".encode()


def completion_echo(upload: MultipartUpload) -> dict[str, str]:
    """The SSE headers Complete answers with: the upload's SSE, and for SSE-C the key MD5 Initiate was sent."""
    md5 = ""
    if upload.ssec_key_md5_sealed:
        md5 = keystore.unseal_secret(bytes(upload.ssec_key_md5_sealed), _key_md5_purpose(upload.upload_id)).decode()
    return sse.echo_headers(upload.sse, upload.kms_key_id, md5)


def get_upload(bucket: Bucket, key: str, upload_id: str) -> MultipartUpload:
    upload = one(MultipartUpload.objects.filter(bucket=bucket, key=key, upload_id=upload_id))
    if upload is None:
        raise errors.NoSuchUpload()
    return upload


def validate_part_number(value: str) -> int:
    if not value.isdecimal() or not 1 <= int(value) <= MAX_PART_NUMBER:
        raise errors.InvalidArgument(f"partNumber must be an integer from 1 to {MAX_PART_NUMBER}.")
    return int(value)


def _store_part(
    upload: MultipartUpload, number: int, written: service.WrittenBlob, digest: ContentDigest, keys: sse.ObjectKeys
) -> Part:
    """Record a written part, replacing an earlier upload of the same number; the blob is discarded on failure."""
    try:
        wrapped = keys.wrap(written.data_key, sse.identity(upload.bucket.name, upload.key, written.blob_id))
        with transaction.atomic():
            if not lock(upload):
                raise errors.NoSuchUpload()  # completed or aborted while this part was streaming
            old = Part.objects.filter(upload=upload, number=number).first()
            if old is not None:
                transaction.on_commit(functools.partial(storage.delete_blob, old.blob))
                old.delete()
            return Part.objects.create(
                upload=upload,
                number=number,
                size_bytes=digest.size_bytes,
                etag=service.content_etag(keys, digest),
                crc64=str(digest.crc64),
                blob=written.blob_id,
                **wrapped,
            )
    except BaseException:
        storage.delete_blob(written.blob_id)
        raise


@dataclass(frozen=True)
class PartWrite:
    """An Upload Part's SSE context: the SSE-C key it repeats (if the upload is SSE-C) and the request id."""

    customer_key: sse.CustomerKey | None = None
    request_id: str = ""
    via_api: bool = True


def upload_part(
    upload: MultipartUpload,
    number: int,
    body: BinaryIO,
    content_length: int | None,
    context: PartWrite,
    content_md5: bytes | None = None,
) -> tuple[Part, dict[str, str]]:
    if content_length is not None and content_length > MAX_PART_BYTES:
        raise errors.EntityTooLarge()
    keys = sse.open_envelope(upload.bucket, upload, context.customer_key, context.request_id, context.via_api)
    digest = ContentDigest(md5=service.needs_md5(keys, content_md5))
    written = service.write_blob(service.read_body(body, content_length), digest, limit=MAX_PART_BYTES)
    if content_md5 is not None and digest.md5() != content_md5:
        storage.delete_blob(written.blob_id)
        raise errors.BadDigest()
    return _store_part(upload, number, written, digest, keys), keys.echo_headers()


def upload_part_copy(
    upload: MultipartUpload,
    number: int,
    source: StoredObject,
    source_keys: sse.ObjectKeys,
    span: tuple[int, int] | None,
    context: PartWrite,
) -> tuple[Part, dict[str, str]]:
    first, last = span if span is not None else (0, source.size_bytes - 1)
    if last - first + 1 > MAX_PART_BYTES:
        raise errors.EntityTooLarge()
    keys = sse.open_envelope(upload.bucket, upload, context.customer_key, context.request_id, context.via_api)
    digest = ContentDigest(md5=service.needs_md5(keys, None))
    reader = service.open_object(source, source_keys, first, max(0, last - first + 1))
    written = service.write_blob(iter(reader), digest, limit=MAX_PART_BYTES)
    return _store_part(upload, number, written, digest, keys), keys.echo_headers()


def _normal_etag(value: str) -> str:
    return value.strip().strip('"').lower()


def complete_multipart_upload(upload: MultipartUpload, listed: list[tuple[int, str]]) -> StoredObject:
    """Make the object from the listed parts in one transaction; parts not listed are freed."""
    if not listed:
        raise errors.MalformedXML("CompleteMultipartUpload lists no parts.")
    numbers = [number for number, _ in listed]
    if any(b <= a for a, b in zip(numbers, numbers[1:], strict=False)):
        raise errors.InvalidPartOrder()
    with transaction.atomic():
        if not lock(upload):  # an Abort or another Complete of the upload waits, then finds it gone
            raise errors.NoSuchUpload()
        stored = {part.number: part for part in upload.parts.all()}
        chosen = []
        for number, etag in listed:
            part = stored.get(number)
            if part is None or part.etag != _normal_etag(etag):
                raise errors.InvalidPart(f"Part {number} was not uploaded or its ETag does not match.")
            chosen.append(part)
        for part in chosen[:-1]:
            if part.size_bytes < MIN_PART_BYTES:
                raise errors.EntityTooSmall(f"Part {part.number} is smaller than 1 MiB and is not the last part.")
        crc = 0
        for part in chosen:
            crc = crc64_combine(crc, int(part.crc64), part.size_bytes)
        etag_md5 = hashlib.md5(b"".join(bytes.fromhex(part.etag) for part in chosen)).hexdigest()
        obj = service.replace_object(
            upload.bucket,
            upload.key,
            {
                "size_bytes": sum(part.size_bytes for part in chosen),
                "etag": f"{etag_md5}-{len(chosen)}",
                "crc64": str(crc),
                "content_type": upload.content_type,
                "headers": upload.headers,
                "metadata": upload.metadata,
                "storage_class": upload.storage_class,
                "tags": upload.tags,
                "acl": upload.acl,
                "blob": "",
                "last_modified": timezone.now(),
                **_envelope_fields(upload),
            },
            segments=[
                {
                    "blob": part.blob,
                    "size_bytes": part.size_bytes,
                    "wrapped_key": part.wrapped_key,
                    "kek_version": part.kek_version,
                }
                for part in chosen
            ],
        )
        unused = [part.blob for number, part in stored.items() if number not in set(numbers)]
        upload.delete()
        transaction.on_commit(functools.partial(storage.delete_blobs, unused))
    return obj


def _envelope_fields(upload: MultipartUpload) -> dict:
    return {
        name: getattr(upload, name)
        for name in ("sse", "kms_key_id", "kms_context", "kms_blob", "ssec_key_check", "ssec_salt")
    }


def abort_multipart_upload(upload: MultipartUpload) -> None:
    service.freeing_space(functools.partial(_abort_multipart_upload, upload))


def _abort_multipart_upload(upload: MultipartUpload) -> None:
    with transaction.atomic():
        if not lock(upload):  # completed or aborted meanwhile: a Complete holding it is waited for
            raise errors.NoSuchUpload()
        blobs = list(upload.parts.values_list("blob", flat=True))
        MultipartUpload.objects.filter(pk=upload.pk).delete()
        transaction.on_commit(functools.partial(storage.delete_blobs, blobs))


@dataclass
class PartPage:
    parts: list[Part]
    is_truncated: bool
    next_marker: int


def list_parts(upload: MultipartUpload, marker: int, max_parts: int) -> PartPage:
    parts = list(upload.parts.filter(number__gt=marker).order_by("number")[: max_parts + 1])
    truncated = len(parts) > max_parts
    parts = parts[:max_parts]
    return PartPage(parts, truncated, parts[-1].number if parts else marker)


@dataclass
class UploadPage:
    uploads: list[MultipartUpload]
    common_prefixes: list[str]
    is_truncated: bool
    next_key_marker: str
    next_upload_id_marker: str


def list_multipart_uploads(
    bucket: Bucket,
    prefix: str = "",
    delimiter: str = "",
    key_marker: str = "",
    upload_id_marker: str = "",
    max_uploads: int = 1000,
) -> UploadPage:
    """In-progress uploads ordered by key then initiation, after (key_marker, upload_id_marker)."""
    qs = MultipartUpload.objects.filter(bucket=bucket).order_by("key", "initiated_at", "upload_id")
    if prefix:
        qs = qs.filter(**service.key_prefix_filter(prefix))
    uploads: list[MultipartUpload] = []
    prefixes: list[str] = []
    past_marker = not key_marker
    for upload in qs.iterator(chunk_size=1000):
        if not past_marker:
            if upload.key < key_marker:
                continue
            if upload.key == key_marker:
                if not upload_id_marker or upload.upload_id == upload_id_marker:
                    past_marker = bool(upload_id_marker)
                continue
            past_marker = True
        if delimiter:
            cut = upload.key.find(delimiter, len(prefix))
            if cut >= 0:
                common = upload.key[: cut + len(delimiter)]
                if common in prefixes or key_marker.startswith(common):
                    continue
                if len(uploads) + len(prefixes) >= max_uploads:
                    return _upload_page(uploads, prefixes, True)
                prefixes.append(common)
                continue
        if len(uploads) + len(prefixes) >= max_uploads:
            return _upload_page(uploads, prefixes, True)
        uploads.append(upload)
    return _upload_page(uploads, prefixes, False)


def _upload_page(uploads: list[MultipartUpload], prefixes: list[str], truncated: bool) -> UploadPage:
    if not truncated:
        return UploadPage(uploads, prefixes, False, "", "")
    last_upload = uploads[-1] if uploads else None
    last_prefix = prefixes[-1] if prefixes else None
    if last_upload is not None and (last_prefix is None or last_upload.key > last_prefix):
        return UploadPage(uploads, prefixes, True, last_upload.key, last_upload.upload_id)
    return UploadPage(uploads, prefixes, True, last_prefix or "", "")


def abort_stale_uploads(older_than: timedelta, now: datetime | None = None) -> int:
    """Abort uploads initiated before now - older_than, freeing their parts."""
    cutoff = (now or timezone.now()) - older_than
    count = 0
    for upload in MultipartUpload.objects.filter(initiated_at__lt=cutoff).iterator():
        try:
            abort_multipart_upload(upload)
            count += 1
        except errors.NoSuchUpload:
            continue
    return count
