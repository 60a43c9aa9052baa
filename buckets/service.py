"""Operations that span the database and blob storage: buckets, objects, listings, garbage collection."""

import contextlib
import dataclasses
import functools
import logging
import re
import secrets
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import BinaryIO, TypeVar

from django.conf import settings
from django.db import IntegrityError, OperationalError, transaction
from django.db.models import Count, F, Q, Sum, Value
from django.db.models.functions import StrIndex, Substr
from django.utils import timezone

from core import crypto
from core.db import lock, one, serialize
from roles.models import Account

from . import conditions, errors, segments, sse, storage
from .digest import ContentDigest
from .models import NULL_VERSION, Bucket, ObjectSegment, SseMode, StoredObject, Versioning

log = logging.getLogger(__name__)
T = TypeVar("T")

MAX_OBJECT_BYTES = 5 * 1024**3
MAX_KEY_BYTES = 850
BUCKET_LABEL = re.compile(r"^[a-z0-9](?:[a-z0-9-]*[a-z0-9])?$")
MAX_BUCKET_LABEL = 50
STORAGE_CLASSES = {
    "STANDARD",
    "STANDARD_IA",
    "ARCHIVE",
    "DEEP_ARCHIVE",
    "INTELLIGENT_TIERING",
    "MAZ_STANDARD",
    "MAZ_STANDARD_IA",
    "MAZ_INTELLIGENT_TIERING",
}


@dataclass(frozen=True)
class ObjectAttributes:
    """What a PUT keeps besides the bytes: Content-Type, standard headers, x-cos-meta-*, storage class, tags."""

    content_type: str = "application/octet-stream"
    headers: dict[str, str] = field(default_factory=dict)
    metadata: dict[str, str] = field(default_factory=dict)
    storage_class: str = "STANDARD"
    tags: dict[str, str] = field(default_factory=dict)


DATABASE_FULL_MESSAGE = "No space left on the device that holds the database: the change was not kept."


def database_full(exc: BaseException) -> bool:
    """SQLite's "database or disk is full" (SQLITE_FULL): the database file or its journal could not grow."""
    return isinstance(exc, OperationalError) and "database or disk is full" in str(exc)


@contextlib.contextmanager
def disk_full_is_unavailable() -> Iterator[None]:
    """A database that cannot grow answers 503 ServiceUnavailable, like a full blob disk."""
    try:
        yield
    except OperationalError as exc:
        if not database_full(exc):
            raise
        raise storage.no_space(exc, DATABASE_FULL_MESSAGE) from None


def freeing_space(delete: Callable[[], T]) -> T:
    """Run a delete; on a full disk, release the space reserve (storage.RESERVE_BYTES) and run it once more, so
    space can always be freed through the API. A delete with room to spare puts the reserve back."""
    try:
        with disk_full_is_unavailable():
            result = delete()
    except errors.ServiceUnavailable:
        if not storage.release_reserve():
            raise
        with disk_full_is_unavailable():
            return delete()
    storage.keep_reserve()
    return result


# -- buckets ----------------------------------------------------------------------------------------------


def validate_bucket_name(name: str, appid: str) -> None:
    label, sep, suffix = name.rpartition("-")
    if not sep or suffix != appid:
        raise errors.InvalidBucketName(f"Bucket names end with -<AppId>: expected '<name>-{appid}'.")
    if not BUCKET_LABEL.match(label) or len(label) > MAX_BUCKET_LABEL:
        raise errors.InvalidBucketName(
            f"The bucket name must be 1-{MAX_BUCKET_LABEL} lowercase letters, digits and '-', "
            "not starting or ending with '-', followed by -<AppId>."
        )


def create_bucket(
    owner: Account,
    name: str,
    region: str,
    acl: list[dict] | None = None,
    default_sse: str = "",
    default_kms_key_id: str = "",
) -> Bucket:
    """A new bucket, with its default encryption when one is given: both or neither."""
    validate_bucket_name(name, owner.appid)
    if region not in settings.KINKO_REGIONS:
        raise errors.InvalidArgument(
            f"Region {region} is not served here; KINKO_REGIONS is {', '.join(settings.KINKO_REGIONS)}."
        )
    existing = Bucket.objects.filter(name=name).first()
    if existing is None:
        try:
            with transaction.atomic():
                bucket = Bucket.objects.create(name=name, owner=owner, region=region, acl=acl or [])
                if default_sse:
                    sse.set_bucket_encryption(bucket, default_sse, default_kms_key_id)
                return bucket
        except IntegrityError:
            existing = Bucket.objects.get(name=name)
    # Names are unique across regions: the same owner asking again in the region it has it "owns it";
    # anywhere else the name is simply not available.
    if existing.owner_id == owner.id and existing.region == region:
        raise errors.BucketAlreadyOwnedByYou()
    raise errors.BucketAlreadyExists()


def set_bucket_acl(bucket: Bucket, grants: list[dict]) -> None:
    bucket.acl = grants
    bucket.save(update_fields=["acl"])


def bucket_policy_named(name: str) -> dict | None:
    """The policy document of bucket `name`, or None (no such bucket, or no policy)."""
    return one(Bucket.objects.filter(name=name).values_list("policy", flat=True))


def set_bucket_policy(bucket: Bucket, document: dict | None) -> None:
    """PUT ?policy (a document roles.policy.parse_bucket_policy validated) or DELETE ?policy (None)."""
    bucket.policy = document
    bucket.save(update_fields=["policy"])


def set_object_acl(obj: StoredObject, grants: list[dict] | None) -> None:
    obj.acl = grants
    obj.save(update_fields=["acl"])


def delete_bucket(bucket: Bucket) -> None:
    with transaction.atomic():
        # Held, a PUT into the bucket commits after this (and finds it gone) or before (and is seen here).
        lock(bucket)
        if StoredObject.versions.filter(bucket=bucket).exists():  # noncurrent versions and delete markers too
            raise errors.BucketNotEmpty()
        if bucket.default_sse:
            sse.delete_bucket_encryption(bucket)  # releases the CMK bound to the bucket
        bucket.delete()


# -- versions ---------------------------------------------------------------------------------------------

NULL_LABEL = "null"  # how the null version is named to clients (COS, S3)
VERSION_ID = re.compile(r"^[A-Za-z0-9_-]{1,32}$")


def version_label(version_id: str) -> str:
    return version_id or NULL_LABEL


def parse_version_id(label: str) -> str:
    """The stored id of the version a client names ("null" for the null version)."""
    if label == NULL_LABEL:
        return NULL_VERSION
    if not VERSION_ID.match(label):
        raise errors.InvalidArgument("Invalid version id specified.")
    return label


def set_bucket_versioning(bucket: Bucket, status: str) -> None:
    """PUT ?versioning: Enabled or Suspended; a bucket once versioned cannot return to never versioned."""
    if status not in (Versioning.ENABLED, Versioning.SUSPENDED):
        raise errors.MalformedXML("VersioningConfiguration Status must be Enabled or Suspended.")
    bucket.versioning = status
    bucket.save(update_fields=["versioning"])


def _new_version_id() -> str:
    return secrets.token_urlsafe(18)  # 24 characters of [A-Za-z0-9_-]: never "null"


def _discard(obj: StoredObject) -> None:
    """Delete one version's row; its blobs are freed after commit (a delete marker has none)."""
    if not obj.delete_marker:
        _discard_after_commit(obj)
    obj.delete()


def _make_room(bucket: Bucket, key: str, now: datetime) -> str:
    """Under the key's turn: set aside what a new latest version replaces, as the bucket's versioning says, and
    return the new version's id. Never versioned: the object is deleted. Enabled: the latest version becomes
    noncurrent. Suspended: the null version is deleted and any other latest one becomes noncurrent."""
    latest = one(StoredObject.versions.select_for_update().filter(bucket=bucket, key=key, is_latest=True))
    if bucket.versioning == Versioning.OFF:
        if latest is not None:
            _discard(latest)
        return NULL_VERSION
    if bucket.versioning == Versioning.SUSPENDED:
        null = one(StoredObject.versions.select_for_update().filter(bucket=bucket, key=key, version_id=NULL_VERSION))
        if null is not None:
            _discard(null)
            latest = None if latest is not None and latest.pk == null.pk else latest
    if latest is not None:
        StoredObject.versions.filter(pk=latest.pk).update(is_latest=False, noncurrent_since=now)
    return _new_version_id() if bucket.versioning == Versioning.ENABLED else NULL_VERSION


# -- objects ----------------------------------------------------------------------------------------------


def validate_key_text(key: str) -> None:
    """A key every database can hold and look up: valid UTF-8 (a lone surrogate stands for a byte that was not)
    and no NUL, which PostgreSQL's text cannot store. Checked for every request that names a key."""
    if "\x00" in key:
        raise errors.InvalidArgument("Object keys cannot contain the NUL character (%00).")
    try:
        key.encode("utf-8")
    except UnicodeEncodeError:
        raise errors.InvalidArgument("Object keys must be valid UTF-8.") from None


def validate_key(key: str) -> None:
    validate_key_text(key)
    if len(key.encode("utf-8", "surrogateescape")) > MAX_KEY_BYTES:
        raise errors.KeyTooLong(f"Object keys are at most {MAX_KEY_BYTES} bytes.")


def validate_storage_class(storage_class: str) -> None:
    if storage_class not in STORAGE_CLASSES:
        raise errors.InvalidArgument(f"Storage class {storage_class} is not supported.")


def read_body(body: BinaryIO, content_length: int | None) -> Iterator[bytes]:
    """Chunks of a request body: exactly `content_length` bytes, or up to EOF for a chunked body."""
    remaining = content_length
    while remaining is None or remaining > 0:
        want = storage.CHUNK_BYTES if remaining is None else min(storage.CHUNK_BYTES, remaining)
        try:
            chunk = body.read(want)
        except OSError as exc:  # the client went away in the middle of the body
            raise errors.IncompleteBody() from exc
        if not chunk:
            if remaining is not None:
                raise errors.IncompleteBody()
            return
        if remaining is not None:
            remaining -= len(chunk)
        yield chunk


@dataclass(frozen=True)
class WrittenBlob:
    blob_id: str
    data_key: bytes = field(repr=False)


def write_blob(chunks: Iterator[bytes], digest: ContentDigest, limit: int = MAX_OBJECT_BYTES) -> WrittenBlob:
    """Encrypt chunks under a fresh data key into a new durable blob, feeding `digest` the plaintext; nothing is
    left on disk if anything fails."""
    data_key = crypto.random_bytes(crypto.KEY_BYTES)
    with storage.writer() as writer:
        encryptor = segments.SegmentEncryptor(writer.blob_id, data_key)
        writer.write(encryptor.header())
        for chunk in chunks:
            digest.update(chunk)
            if digest.size_bytes > limit:
                raise errors.EntityTooLarge()
            writer.write_many(encryptor.update(chunk))
        writer.write(encryptor.finish())
        return WrittenBlob(writer.commit(), data_key)


def _discard_after_commit(obj: StoredObject) -> None:
    """Free a replaced or deleted object's blobs once the transaction commits.

    A single blob is deleted at once: a reader already holds it open. A multipart object's readers open its
    segments one after another, so its blobs are only retired: left to garbage collection after the grace period.
    """
    blobs = [blob for blob, _ in object_blobs(obj)]
    release = storage.delete_blobs if obj.part_count == 0 else storage.retire_blobs
    transaction.on_commit(functools.partial(release, blobs))


def _writing_key(bucket: Bucket, key: str) -> None:
    """Writers of one key take turns until their transactions end: the row a writer finds (or that it finds none)
    stays true until it has replaced it. A row lock alone would not do on PostgreSQL: the row it waits for is gone
    once the writer ahead commits, and every writer behind it would then insert the key at once."""
    serialize(f"object {bucket.pk} {key}")


def replace_object(bucket: Bucket, key: str, values: dict, segments: list[dict] = ()) -> StoredObject:
    """Make new bytes the latest version of (bucket, key) in one transaction (see _make_room for what becomes of
    the one it replaces); replaced blobs are freed after commit.

    `segments` are the ObjectSegment fields (blob, size_bytes, wrapped key) of a multipart object, in order."""
    for attempt in range(3):
        try:
            with disk_full_is_unavailable(), transaction.atomic():
                _writing_key(bucket, key)
                version_id = _make_room(bucket, key, values["last_modified"])
                obj = StoredObject.objects.create(
                    bucket=bucket, key=key, version_id=version_id, part_count=len(segments), **values
                )
                ObjectSegment.objects.bulk_create(
                    ObjectSegment(obj=obj, number=n, **fields) for n, fields in enumerate(segments, start=1)
                )
                return obj
        except IntegrityError:  # a concurrent first PUT of the same key won the insert, or the bucket went
            if not Bucket.objects.filter(pk=bucket.pk).exists():
                raise errors.NoSuchBucket() from None
            if attempt == 2:
                raise
    raise AssertionError("unreachable")


def content_etag(keys: sse.ObjectKeys, digest: ContentDigest) -> str:
    """Plain and SSE-COS ETags are the content's MD5; SSE-KMS and SSE-C ETags are opaque (spec §4.4)."""
    if keys.mode in (SseMode.NONE, SseMode.COS):
        return digest.md5().hex()
    return secrets.token_hex(16)


def needs_md5(keys: sse.ObjectKeys, content_md5: bytes | None) -> bool:
    return keys.mode in (SseMode.NONE, SseMode.COS) or content_md5 is not None


@dataclass(frozen=True)
class WriteRequest:
    """What a write of object bytes carries besides them: attributes, ACL, SSE and the request id."""

    attributes: ObjectAttributes = field(default_factory=ObjectAttributes)
    acl: list[dict] | None = None
    sse_request: sse.SseRequest | None = None
    request_id: str = ""
    via_api: bool = True


@dataclass(frozen=True)
class Written:
    obj: StoredObject
    echo: dict[str, str]  # SSE response headers


def put_object(
    bucket: Bucket,
    key: str,
    body: BinaryIO,
    content_length: int | None,
    write: WriteRequest,
    content_md5: bytes | None = None,
) -> Written:
    validate_key(key)
    validate_storage_class(write.attributes.storage_class)
    if content_length is not None and content_length > MAX_OBJECT_BYTES:
        raise errors.EntityTooLarge()
    keys = sse.new_envelope(bucket, write.sse_request, write.request_id, write.via_api)
    digest = ContentDigest(md5=needs_md5(keys, content_md5))
    written = write_blob(read_body(body, content_length), digest)
    if content_md5 is not None and digest.md5() != content_md5:
        storage.delete_blob(written.blob_id)
        raise errors.BadDigest()
    return commit_blob(bucket, key, written, digest, keys, write)


def commit_blob(
    bucket: Bucket, key: str, written: WrittenBlob, digest: ContentDigest, keys: sse.ObjectKeys, write: WriteRequest
) -> Written:
    """Make an already written blob the object at (bucket, key), its data key wrapped by `keys`."""
    try:
        validate_key(key)
        validate_storage_class(write.attributes.storage_class)
        attributes = write.attributes
        obj = replace_object(
            bucket,
            key,
            {
                "size_bytes": digest.size_bytes,
                "etag": content_etag(keys, digest),
                "crc64": str(digest.crc64),
                "content_type": attributes.content_type,
                "headers": attributes.headers,
                "metadata": attributes.metadata,
                "storage_class": attributes.storage_class,
                "tags": attributes.tags,
                "acl": write.acl,
                "blob": written.blob_id,
                "last_modified": timezone.now(),
                **keys.fields,
                **keys.wrap(written.data_key, sse.identity(bucket.name, key, written.blob_id)),
            },
        )
    except BaseException:
        storage.delete_blob(written.blob_id)
        raise
    return Written(obj, keys.echo_headers())


def copy_object(
    source: StoredObject,
    source_keys: sse.ObjectKeys,
    bucket: Bucket,
    key: str,
    replace: bool,
    write: WriteRequest,
    replace_tags: bool = False,
) -> Written:
    """PUT Object - Copy: the source's bytes, re-encrypted under the destination's own SSE (headers or bucket
    default), with the source's metadata (replace False) or the request's, and the source's tags (replace_tags
    False) or the request's."""
    validate_key(key)
    if source.size_bytes > MAX_OBJECT_BYTES:
        raise errors.EntityTooLarge("Objects over 5 GiB are copied with multipart Upload Part - Copy.")
    tags = write.attributes.tags if replace_tags else source.tags
    if not replace:
        if source.bucket_id == bucket.id and source.key == key and source.is_latest:
            raise errors.InvalidRequest(
                "This copy request is illegal because it is trying to copy an object to itself without changing "
                "the object's metadata (use x-cos-metadata-directive: Replaced)."
            )
        attributes = ObjectAttributes(source.content_type, source.headers, source.metadata, source.storage_class)
        write = dataclasses.replace(write, attributes=attributes)
    write = dataclasses.replace(write, attributes=dataclasses.replace(write.attributes, tags=tags))
    validate_storage_class(write.attributes.storage_class)
    keys = sse.new_envelope(bucket, write.sse_request, write.request_id, write.via_api)
    digest = ContentDigest(md5=needs_md5(keys, None))
    written = write_blob(iter(open_object(source, source_keys, 0, source.size_bytes)), digest)
    return commit_blob(bucket, key, written, digest, keys, write)


def key_versions(bucket: Bucket, key: str) -> list[StoredObject]:
    """Every version and delete marker of one key, newest first."""
    return list(StoredObject.versions.filter(bucket=bucket, key=key).order_by("-id"))


def restore_version(bucket: Bucket, key: str, version_id: str, request_id: str = "", via_api: bool = True) -> Written:
    """Make an older version the current object again: a copy of it (a new version, in a versioned bucket) with its
    metadata, tags, ACL and SSE. An SSE-C version is restored by a copy that sends its key (the key is not held)."""
    source = get_object(bucket, key, version_id)
    if source.is_latest:
        raise errors.InvalidRequest("This version is already the current object.")
    if source.sse == SseMode.CUSTOMER:
        raise errors.InvalidRequest(
            "An SSE-C version is restored by a copy that sends its key (x-cos-copy-source with ?versionId=)."
        )
    keys = sse.open_envelope(bucket, source, None, request_id, via_api)
    kept = sse.SseRequest(source.sse, kms_key_id=source.kms_key_id, kms_context=source.kms_context)
    write = WriteRequest(
        acl=source.acl, sse_request=kept if source.sse else None, request_id=request_id, via_api=via_api
    )
    return copy_object(source, keys, bucket, key, replace=False, write=write)


def get_object(bucket: Bucket, key: str, version_id: str | None = None) -> StoredObject:
    """The current object, or with `version_id` (a stored id) that version; a delete marker is no object: the
    current one is NoSuchKey (naming the marker), one asked for by id MethodNotAllowed, as COS answers."""
    if version_id is None:
        obj = one(StoredObject.objects.filter(bucket=bucket, key=key))
        if obj is None:
            missing = errors.NoSuchKey()
            if bucket.versioning != Versioning.OFF:
                missing.delete_marker = one(
                    StoredObject.versions.filter(bucket=bucket, key=key, is_latest=True).values_list(
                        "version_id", flat=True
                    )
                )
            raise missing
    else:
        obj = one(StoredObject.versions.filter(bucket=bucket, key=key, version_id=version_id))
        if obj is None:
            raise errors.NoSuchVersion()
        if obj.delete_marker:
            refused = errors.MethodNotAllowed("The specified version is a delete marker.")
            refused.delete_marker = version_id
            raise refused
    obj.bucket = bucket  # already loaded: spare a query
    return obj


def object_blobs(obj: StoredObject) -> list[tuple[str, int]]:
    """The (blob id, size) list that holds the object's bytes, in order."""
    if obj.part_count == 0:
        return [(obj.blob, obj.size_bytes)]
    return list(obj.segments.order_by("number").values_list("blob", "size_bytes"))


def open_object(
    obj: StoredObject, keys: sse.ObjectKeys, first: int, length: int, request_id: str = ""
) -> storage.ObjectReader:
    """A reader of plaintext bytes [first, first + length), the blobs' data keys unwrapped with `keys`. With the
    `request_id` of a GET, corruption found once the response has started cuts it, logged as one line."""
    bucket_name = obj.bucket.name
    records = [obj] if obj.part_count == 0 else list(obj.segments.order_by("number"))
    blobs = []
    for record in records:
        blob_id, size = (obj.blob, obj.size_bytes) if record is obj else (record.blob, record.size_bytes)
        data_key = keys.unwrap(
            bytes(record.wrapped_key), record.kek_version, sse.identity(bucket_name, obj.key, blob_id)
        )
        blobs.append(storage.OpenBlob(blob_id, size, data_key))
    label = f"{bucket_name}/{obj.key} (request {request_id})" if request_id else ""
    try:
        return storage.ObjectReader(blobs, first, length, label)
    except segments.CorruptObject as exc:  # logged by the edge, with the request, as the 500 it answers
        raise errors.InternalError(f"The object's stored data failed its integrity check: {exc}.") from None


@dataclass
class ObjectRead:
    """GET/HEAD Object: what to answer. `span` is the inclusive byte range for a 206, `body` None for HEAD/304."""

    obj: StoredObject
    echo: dict[str, str]
    not_modified: bool = False
    span: tuple[int, int] | None = None
    body: storage.ObjectReader | None = None

    @property
    def length(self) -> int:
        return self.obj.size_bytes if self.span is None else self.span[1] - self.span[0] + 1


def read_object(
    bucket: Bucket,
    key: str,
    request_headers,
    want_body: bool,
    customer_key: sse.CustomerKey | None,
    request_id: str = "",
    via_api: bool = True,
    version_id: str | None = None,
) -> ObjectRead:
    """Look the object up, check its SSE-C key, apply the conditional headers and Range, and open (decrypting)
    its bytes when a body is wanted. HEAD never calls the KMS.

    An overwrite deletes the replaced blobs right after its commit; a reader that lost that race looks again.
    """
    for _ in range(3):
        obj = get_object(bucket, key, version_id)
        keys = None
        if want_body or obj.sse == SseMode.CUSTOMER:
            keys = sse.open_envelope(bucket, obj, customer_key, request_id, via_api)
        elif customer_key is not None:
            raise errors.InvalidArgument("SSE-C headers were sent for an object that is not SSE-C encrypted.")
        echo = keys.echo_headers() if keys is not None else sse.echo_headers(obj.sse, obj.kms_key_id)
        if not conditions.check_preconditions(request_headers, obj.etag, obj.last_modified):
            return ObjectRead(obj, echo, not_modified=True)
        span = conditions.parse_range(request_headers.get("Range"), obj.size_bytes)
        read = ObjectRead(obj, echo, span=span)
        if not want_body:
            return read
        first = 0 if span is None else span[0]
        try:
            read.body = open_object(obj, keys, first, read.length, request_id)
        except FileNotFoundError:
            continue
        return read
    raise errors.InternalError("The object's data is missing.")


@dataclass(frozen=True)
class Deletion:
    """What a DELETE did: `removed`, the version deleted for good (its bytes freed); `marker`, the delete marker it
    added; `current`, the object that was current and no longer is."""

    removed: StoredObject | None = None
    marker: StoredObject | None = None
    current: StoredObject | None = None


def delete_object(
    bucket: Bucket,
    key: str,
    only_if: Callable[[StoredObject], bool] | None = None,
    version_id: str | None = None,
) -> Deletion | None:
    """Delete the current object, or with `version_id` (a stored id) that version for good, when `only_if` says
    yes of it (checked under the lock); None when there was nothing to delete. In a versioned bucket, deleting the
    current object adds a delete marker (the null one when suspended, which replaces the null version)."""
    return freeing_space(functools.partial(_delete_object, bucket, key, only_if, version_id))


def _delete_object(
    bucket: Bucket, key: str, only_if: Callable[[StoredObject], bool] | None, version_id: str | None
) -> Deletion | None:
    with transaction.atomic():
        _writing_key(bucket, key)
        if version_id is not None:
            return _delete_version(bucket, key, version_id, only_if)
        latest = one(StoredObject.versions.select_for_update().filter(bucket=bucket, key=key, is_latest=True))
        current = latest if latest is not None and not latest.delete_marker else None
        if only_if is not None and (current is None or not only_if(current)):
            return None
        if bucket.versioning == Versioning.OFF:
            if current is None:
                return None
            _discard(current)
            return Deletion(removed=current, current=current)
        now = timezone.now()
        removed = None
        if bucket.versioning == Versioning.SUSPENDED:
            removed = one(StoredObject.versions.filter(bucket=bucket, key=key, version_id=NULL_VERSION))
        version = _make_room(bucket, key, now)
        marker = StoredObject.versions.create(
            bucket=bucket, key=key, version_id=version, delete_marker=True, size_bytes=0, last_modified=now
        )
        return Deletion(removed=removed, marker=marker, current=current)


def _delete_version(
    bucket: Bucket, key: str, version_id: str, only_if: Callable[[StoredObject], bool] | None
) -> Deletion | None:
    """Delete one version for good (if `only_if` says yes of it); when it was the latest, the newest one left
    becomes the latest."""
    row = one(StoredObject.versions.select_for_update().filter(bucket=bucket, key=key, version_id=version_id))
    if row is None or (only_if is not None and not only_if(row)):
        return None
    _discard(row)
    if row.is_latest:
        successor = StoredObject.versions.filter(bucket=bucket, key=key).order_by("-id").first()
        if successor is not None:
            StoredObject.versions.filter(pk=successor.pk).update(is_latest=True, noncurrent_since=None)
    return Deletion(removed=row, current=row if row.is_latest and not row.delete_marker else None)


def delete_objects(
    bucket: Bucket, entries: list[tuple[str, str | None]]
) -> list[tuple[str, str | None, Deletion | None, errors.CosError | None]]:
    """DELETE Multiple Objects: (key, version label or None) entries; a missing key or version counts as deleted.
    Each result: the entry's key and version label, what was done, or the error that refused it."""
    results: list[tuple[str, str | None, Deletion | None, errors.CosError | None]] = []
    for key, label in entries:
        try:
            validate_key(key)
            version_id = None if label is None else parse_version_id(label)
            results.append((key, label, delete_object(bucket, key, version_id=version_id), None))
        except errors.CosError as exc:
            results.append((key, label, None, exc))
    return results


# -- listing ----------------------------------------------------------------------------------------------


@dataclass
class Listing:
    objects: list[StoredObject]
    common_prefixes: list[str]
    is_truncated: bool
    next_marker: str | None


def _successor(prefix: str) -> str | None:
    """The smallest string greater than every string that starts with `prefix` (code-point order); None when
    there is none (`prefix` is all U+10FFFF, the last code point)."""
    stem = prefix.rstrip(chr(sys.maxunicode))
    return stem[:-1] + chr(ord(stem[-1]) + 1) if stem else None


def key_prefix_filter(prefix: str, field: str = "key") -> dict[str, str]:
    """Keys starting with `prefix`, case-sensitively (SQLite's LIKE, behind __startswith, ignores ASCII case)."""
    upper = _successor(prefix)
    return {f"{field}__gte": prefix, **({f"{field}__lt": upper} if upper is not None else {})}


def list_objects(
    bucket: Bucket, prefix: str = "", delimiter: str = "", marker: str = "", max_keys: int = 1000
) -> Listing:
    """GET Bucket: keys after `marker` under `prefix`, rolled up at `delimiter`, in UTF-8 byte order."""
    base = StoredObject.objects.filter(bucket=bucket).order_by("key")
    if prefix:
        base = base.filter(**key_prefix_filter(prefix))
    objects: list[StoredObject] = []
    prefixes: list[str] = []
    lower: str | None = marker
    inclusive = False
    batch_size = min(max_keys + 1, 1000)

    def next_batch() -> list[StoredObject]:
        qs = base.filter(key__gte=lower) if inclusive else base.filter(key__gt=lower) if lower else base
        return list(qs[:batch_size])

    last_returned: str | None = None
    while True:
        batch = next_batch()
        if not batch:
            return Listing(objects, prefixes, False, None)
        restart = False
        for obj in batch:
            common = None
            if delimiter:
                cut = obj.key.find(delimiter, len(prefix))
                if cut >= 0:
                    common = obj.key[: cut + len(delimiter)]
            if common is not None and marker.startswith(common):
                lower, inclusive, restart = _successor(common), True, True
                if lower is None:
                    return Listing(objects, prefixes, False, None)
                break
            if len(objects) + len(prefixes) >= max_keys:
                return Listing(objects, prefixes, True, last_returned)
            if common is not None:
                prefixes.append(common)
                last_returned = common
                lower, inclusive, restart = _successor(common), True, True
                if lower is None:
                    return Listing(objects, prefixes, False, None)
                break
            objects.append(obj)
            last_returned = obj.key
            lower, inclusive = obj.key, False
        if restart and lower is None:  # nothing sorts after a run of U+10FFFF
            return Listing(objects, prefixes, False, None)
        if not restart and len(batch) < batch_size:
            return Listing(objects, prefixes, False, None)


@dataclass
class VersionListing:
    versions: list[StoredObject]  # versions and delete markers: keys in order, each key's newest first
    common_prefixes: list[str]
    is_truncated: bool
    next_key_marker: str | None
    next_version_marker: str | None  # a stored id


def list_versions(
    bucket: Bucket,
    prefix: str = "",
    delimiter: str = "",
    key_marker: str = "",
    version_marker: str | None = None,
    max_keys: int = 1000,
) -> VersionListing:
    """GET Bucket Object versions: every version and delete marker after (key_marker, version_marker) under
    `prefix`, rolled up at `delimiter`. Without a version marker, listing starts after every version of
    key_marker; with one, after that version of it (an id the key no longer has starts after the key)."""
    base = StoredObject.versions.filter(bucket=bucket).order_by("key", "-id")
    if prefix:
        base = base.filter(**key_prefix_filter(prefix))
    after_id = None
    if key_marker and version_marker is not None:
        after_id = one(base.filter(key=key_marker, version_id=version_marker).values_list("id", flat=True))
    entries: list[StoredObject] = []
    prefixes: list[str] = []
    lower, inclusive = key_marker, False
    batch_size = min(max_keys + 1, 1000)
    last: tuple[str, str | None] | None = None

    def done(truncated: bool) -> VersionListing:
        key, version = last if truncated and last is not None else (None, None)
        return VersionListing(entries, prefixes, truncated, key, version)

    while True:
        if inclusive:
            found = base.filter(key__gte=lower)
        elif after_id is not None:
            found = base.filter(Q(key=lower, id__lt=after_id) | Q(key__gt=lower))
        else:
            found = base.filter(key__gt=lower) if lower else base
        batch = list(found[:batch_size])
        if not batch:
            return done(False)
        jumped = False
        for row in batch:
            common = None
            if delimiter:
                cut = row.key.find(delimiter, len(prefix))
                if cut >= 0:
                    common = row.key[: cut + len(delimiter)]
            if common is not None and key_marker.startswith(common):
                jumped = True
            elif len(entries) + len(prefixes) >= max_keys:
                return done(True)
            elif common is not None:
                prefixes.append(common)
                last, jumped = (common, None), True
            else:
                entries.append(row)
                last = (row.key, row.version_id)
                lower, inclusive, after_id = row.key, False, row.id
                continue
            successor = _successor(common)
            if successor is None:
                return done(False)
            lower, inclusive, after_id = successor, True, None
            break
        if not jumped and len(batch) < batch_size:
            return done(False)


def listing_entries(
    bucket: Bucket, prefix: str = "", delimiter: str = "", marker: str = ""
) -> Iterator[StoredObject | str]:
    """What list_objects lists after `marker`, one entry at a time in key order (read a thousand at a time): each
    object, and each common prefix (a str) once."""
    while True:
        listing = list_objects(bucket, prefix, delimiter, marker)
        entries: list[StoredObject | str] = [*listing.objects, *listing.common_prefixes]
        yield from sorted(entries, key=lambda entry: entry if isinstance(entry, str) else entry.key)
        if not listing.is_truncated or listing.next_marker is None:
            return
        marker = listing.next_marker


def count_listing_entries(bucket: Bucket, prefix: str = "", delimiter: str = "", marker: str = "") -> int:
    """How many entries listing_entries yields, counted by the database: the objects after `marker` under `prefix`
    that hold no `delimiter` past it, and the distinct common prefixes after `marker` (one that `marker` starts with
    lies before it)."""
    found = StoredObject.objects.filter(bucket=bucket)
    if prefix:
        found = found.filter(**key_prefix_filter(prefix))
    if not delimiter:
        return (found.filter(key__gt=marker) if marker else found).count()
    # StrIndex and Substr count characters, as len() does; StrIndex is case-sensitive where SQLite's LIKE is not.
    found = found.annotate(cut=StrIndex(Substr("key", len(prefix) + 1), Value(delimiter)))
    objects = found.filter(cut=0)
    folders = found.filter(cut__gt=0).annotate(folder=Substr("key", 1, F("cut") + len(prefix) + len(delimiter) - 1))
    if marker:
        objects, folders = objects.filter(key__gt=marker), folders.filter(folder__gt=marker)
    return objects.count() + folders.values("folder").distinct().count()


@dataclass(frozen=True)
class PrefixUsage:
    objects: int
    bytes: int


def prefix_usage(bucket: Bucket, prefix: str) -> PrefixUsage:
    """How many objects, and bytes, lie under `prefix` at every depth (what deleting that folder removes)."""
    found = StoredObject.objects.filter(bucket=bucket)
    if prefix:
        found = found.filter(**key_prefix_filter(prefix))
    totals = found.aggregate(objects=Count("id"), size=Sum("size_bytes"))
    return PrefixUsage(totals["objects"], totals["size"] or 0)


CREATED = {"lt": "created_at__lt", "gt": "created_at__gt", "lte": "created_at__lte", "gte": "created_at__gte"}


def list_buckets(
    owner: Account,
    region: str | None = None,
    tag: tuple[str, str] | None = None,
    created: tuple[str, datetime] | None = None,
) -> list[Bucket]:
    """GET Service: the owner's buckets, in a region, with a tag (key, value), created before or after a moment
    (comparison, a CREATED key, and the moment)."""
    buckets = Bucket.objects.filter(owner=owner)
    if region:
        buckets = buckets.filter(region=region)
    if created is not None:
        comparison, moment = created
        buckets = buckets.filter(**{CREATED[comparison]: moment})
    found = list(buckets.order_by("name"))
    if tag is not None:  # JSON key lookups differ between databases; an account has few buckets
        key, value = tag
        found = [bucket for bucket in found if bucket.tags.get(key) == value]
    return found
