"""Buckets and the objects stored in them. Object bodies live on disk (storage.py); rows point at blobs."""

import uuid

from django.db import models
from django.utils import timezone

from core.db import ByteOrderCharField
from roles.models import Account


class SseMode(models.TextChoices):
    """How an object's data keys are wrapped. Every object is encrypted at rest; NONE means no SSE was asked for
    (its data keys are wrapped by the service master key, and the API reports it unencrypted)."""

    NONE = ""
    COS = "AES256"
    KMS = "cos/kms"
    CUSTOMER = "SSE-C"


class Envelope(models.Model):
    """The object-level half of the encryption record (shared by StoredObject and MultipartUpload).

    `kms_blob` is the KMS-wrapped key-encryption key of an SSE-KMS object; `ssec_key_check` is
    HMAC-SHA256(customer key, salt) of an SSE-C object, to recognise the customer's key later without holding it.
    """

    sse = models.CharField(max_length=8, choices=SseMode.choices, default=SseMode.NONE, blank=True)
    kms_key_id = models.CharField(max_length=36, blank=True)
    kms_context = models.TextField(blank=True)  # the request's EncryptionContext (JSON), not secret
    kms_blob = models.TextField(blank=True)
    ssec_key_check = models.CharField(max_length=64, blank=True)
    ssec_salt = models.BinaryField(default=bytes)

    class Meta:
        abstract = True


class WrappedKey(models.Model):
    """The blob-level half: the blob's random data key, wrapped (never stored in clear). `kek_version` names the
    SSE-COS master key version when the service master key wraps it."""

    wrapped_key = models.BinaryField(default=bytes)
    kek_version = models.PositiveIntegerField(null=True, blank=True)

    class Meta:
        abstract = True


class Versioning(models.TextChoices):
    """A bucket's versioning state: never versioned (one object per key), or versions kept (Enabled) or not added
    any more (Suspended: writes replace the "null" version). Once enabled, a bucket never goes back to OFF."""

    OFF = ""
    ENABLED = "Enabled"
    SUSPENDED = "Suspended"


class Bucket(models.Model):
    name = ByteOrderCharField(max_length=64, unique=True)  # full wire name: <name>-<appid>
    owner = models.ForeignKey(Account, on_delete=models.PROTECT, related_name="buckets")
    region = models.CharField(max_length=32)
    acl = models.JSONField(default=list)  # grants, see buckets.acl; [] means owner only
    default_sse = models.CharField(max_length=8, blank=True)  # "", "AES256" or "KMS" (bucket default encryption)
    default_kms_key_id = models.CharField(max_length=36, blank=True)
    cors = models.JSONField(null=True, default=None)  # CORS rules, see buckets.cors; None: no configuration
    policy = models.JSONField(null=True, default=None)  # bucket policy document, see roles.policy; None: none
    tags = models.JSONField(default=dict)  # bucket tags (key → value), metadata: not encrypted
    lifecycle = models.JSONField(null=True, default=None)  # lifecycle rules, see buckets.lifecycle; None: none
    versioning = models.CharField(max_length=10, choices=Versioning.choices, default=Versioning.OFF, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class CurrentObjects(models.Manager):
    """What a key names now: its latest version, unless that is a delete marker."""

    def get_queryset(self):
        return super().get_queryset().filter(is_latest=True, delete_marker=False)


NULL_VERSION = ""  # the version a never-versioned or suspended bucket writes: "null" on the wire


class StoredObject(Envelope, WrappedKey):
    """One version of an object: its own blob(s) and data key(s), or a delete marker (no bytes). A key has at
    most one latest version. `objects` sees each key's current object; `versions` sees every version."""

    bucket = models.ForeignKey(Bucket, on_delete=models.CASCADE, related_name="stored_objects")
    key = ByteOrderCharField(max_length=1024)
    size_bytes = models.BigIntegerField()
    etag = models.CharField(max_length=80)  # without the quotes
    crc64 = models.CharField(max_length=24)  # CRC-64/ECMA-182 of the content, decimal
    content_type = models.CharField(max_length=255, default="application/octet-stream")
    headers = models.JSONField(default=dict)  # standard representation headers kept verbatim
    metadata = models.JSONField(default=dict)  # x-cos-meta-* (lowercase name → value)
    storage_class = models.CharField(max_length=32, default="STANDARD")
    acl = models.JSONField(null=True, default=None)  # grants; None = "default", the bucket's ACL applies
    tags = models.JSONField(default=dict)  # object tags (key → value), metadata: not encrypted
    blob = models.CharField(max_length=64, blank=True)  # "" for multipart objects: see segments
    part_count = models.PositiveIntegerField(default=0)
    last_modified = models.DateTimeField(default=timezone.now)
    version_id = ByteOrderCharField(max_length=32, blank=True, default=NULL_VERSION)
    is_latest = models.BooleanField(default=True)
    delete_marker = models.BooleanField(default=False)
    noncurrent_since = models.DateTimeField(null=True, blank=True)  # when a newer version replaced it

    versions = models.Manager()
    objects = CurrentObjects()

    class Meta:
        base_manager_name = "versions"
        default_manager_name = "objects"
        constraints = [
            models.UniqueConstraint(fields=["bucket", "key", "version_id"], name="unique_object_version"),
            models.UniqueConstraint(
                fields=["bucket", "key"], condition=models.Q(is_latest=True), name="unique_latest_version"
            ),
        ]
        ordering = ["bucket", "key", "-id"]

    def __str__(self) -> str:
        return f"{self.bucket.name}/{self.key}"


class ObjectSegment(WrappedKey):
    """One part of a multipart object: its bytes stay in the part's blob, in order."""

    obj = models.ForeignKey(StoredObject, on_delete=models.CASCADE, related_name="segments")
    number = models.PositiveIntegerField()
    blob = models.CharField(max_length=64)
    size_bytes = models.BigIntegerField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["obj", "number"], name="unique_segment_number")]
        ordering = ["obj", "number"]

    def __str__(self) -> str:
        return f"{self.obj} segment {self.number}"


class MultipartUpload(Envelope):
    bucket = models.ForeignKey(Bucket, on_delete=models.CASCADE, related_name="uploads")
    key = ByteOrderCharField(max_length=1024)
    upload_id = ByteOrderCharField(max_length=64, unique=True)
    initiator = models.ForeignKey(Account, on_delete=models.PROTECT, related_name="uploads")
    content_type = models.CharField(max_length=255, default="application/octet-stream")
    headers = models.JSONField(default=dict)
    metadata = models.JSONField(default=dict)
    storage_class = models.CharField(max_length=32, default="STANDARD")
    acl = models.JSONField(null=True, default=None)
    tags = models.JSONField(default=dict)  # given at Initiate, the object's at Complete
    # SSE-C: the customer key's MD5 (base64), sealed under the SSE-COS master key, echoed by Complete.
    ssec_key_md5_sealed = models.BinaryField(default=bytes)
    initiated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["bucket", "key", "initiated_at", "upload_id"]

    def __str__(self) -> str:
        return f"{self.bucket.name}/{self.key} ({self.upload_id})"


class Part(WrappedKey):
    upload = models.ForeignKey(MultipartUpload, on_delete=models.CASCADE, related_name="parts")
    number = models.PositiveIntegerField()
    size_bytes = models.BigIntegerField()
    etag = models.CharField(max_length=80)
    crc64 = models.CharField(max_length=24)
    blob = models.CharField(max_length=64)
    last_modified = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["upload", "number"], name="unique_part_number")]
        ordering = ["upload", "number"]

    def __str__(self) -> str:
        return f"{self.upload} part {self.number}"


class JobStatus(models.TextChoices):
    QUEUED = "queued"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    CANCELLED = "cancelled"


class Job(models.Model):
    """A bulk job over a bucket's objects (encrypt_objects), shared by any number of workers."""

    job_id = models.UUIDField(default=uuid.uuid4, unique=True)
    kind = models.CharField(max_length=32)
    bucket = models.ForeignKey(Bucket, on_delete=models.CASCADE, related_name="jobs")
    params = models.JSONField(default=dict)
    requester = models.CharField(max_length=128)
    status = models.CharField(max_length=12, choices=JobStatus.choices, default=JobStatus.QUEUED)
    total = models.PositiveIntegerField(default=0)
    done = models.PositiveIntegerField(default=0)
    failed = models.PositiveIntegerField(default=0)
    skipped = models.PositiveIntegerField(default=0)
    bytes_processed = models.PositiveBigIntegerField(default=0)
    cancel_requested = models.BooleanField(default=False)
    created_at = models.DateTimeField(default=timezone.now)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.kind} {self.job_id} ({self.status})"

    @property
    def is_finished(self) -> bool:
        return self.status in (JobStatus.SUCCEEDED, JobStatus.FAILED, JobStatus.CANCELLED)


class JobItemState(models.TextChoices):
    PENDING = "pending"
    CLAIMED = "claimed"
    DONE = "done"
    FAILED = "failed"
    SKIPPED = "skipped"


class JobItem(models.Model):
    """One object, or one version of it (or, for a lifecycle job, one incomplete upload) of a job. Workers claim
    pending items in batches with a conditional update; a claim whose worker died is taken over once its lease has
    run out."""

    job = models.ForeignKey(Job, on_delete=models.CASCADE, related_name="items")
    key = models.CharField(max_length=1024)
    upload_id = models.CharField(max_length=64, blank=True)  # a lifecycle job's incomplete upload to abort
    version_id = models.CharField(max_length=32, blank=True)  # one version (its wire id, "null" too); "": current
    state = models.CharField(max_length=8, choices=JobItemState.choices, default=JobItemState.PENDING)
    claim = models.CharField(max_length=32, blank=True)
    claimed_at = models.DateTimeField(null=True, blank=True)
    reason = models.CharField(max_length=255, blank=True)

    class Meta:
        indexes = [models.Index(fields=["job", "state"])]
        ordering = ["job", "id"]

    def __str__(self) -> str:
        return f"{self.job.job_id}: {self.key} ({self.state})"


class UsageSnapshot(models.Model):
    """An account's stored objects and bytes in one encryption mode on one day (UTC): the overview's history.
    Written by the periodic `snapshot_usage` task and by the first overview of the day (buckets.usage)."""

    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="usage_snapshots")
    day = models.DateField()
    sse = models.CharField(max_length=8, blank=True)  # an SseMode value
    object_count = models.PositiveBigIntegerField(default=0)
    size_bytes = models.PositiveBigIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["account", "day", "sse"], name="unique_usage_day_mode")]
        ordering = ["day", "sse"]

    def __str__(self) -> str:
        return f"{self.account_id} {self.day} {self.sse or 'none'}: {self.object_count} / {self.size_bytes} B"


class RequestCount(models.Model):
    """COS requests an account's buckets answered on one day (UTC), counted by the COS edge once each request
    has been authorised (buckets.usage.count_request)."""

    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="request_counts")
    day = models.DateField()
    requests = models.PositiveBigIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["account", "day"], name="unique_request_count_day")]
        ordering = ["day"]

    def __str__(self) -> str:
        return f"{self.account_id} {self.day}: {self.requests}"
