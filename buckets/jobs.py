"""Bulk (re-)encryption jobs: any number of workers share a job, claiming its objects in batches.

Every object is already encrypted at rest under its own data key, so moving an object between none, SSE-COS and
SSE-KMS (or from one CMK to another) re-wraps its data keys: the object's bytes are never read or rewritten, and
the switch is one conditional update of its row. An encryption job covers every version of the objects it names,
each version on its own (each has its own data key and SSE). A client's overwrite during the job wins; SSE-C
objects are skipped (their key is not held). A worker renews its claims' lease while it works on them (a heartbeat every
HEARTBEAT), so a worker killed mid-batch leaves claims that go stale within LEASE: another worker takes them over,
queued by `resume_stalled_jobs` (every few seconds by beat). A worker told to stop hands its claims back at once
and queues the job again. An item's result is recorded only by the claim that holds it, so nothing is counted twice.
"""

import datetime
import logging
import secrets
from collections.abc import Iterator
from dataclasses import dataclass

from celery import current_app
from django.db import transaction
from django.db.models import Count, F, Q, Sum
from django.utils import timezone

from core.db import one

from . import errors, lifecycle, multipart, sse
from .models import (
    Bucket,
    Job,
    JobItem,
    JobItemState,
    JobStatus,
    MultipartUpload,
    ObjectSegment,
    SseMode,
    StoredObject,
)
from .service import delete_object, key_prefix_filter, parse_version_id, version_label

log = logging.getLogger(__name__)

ENCRYPT_OBJECTS = "encrypt_objects"
DELETE_OBJECTS = "delete_objects"  # a folder deleted recursively
LIFECYCLE = "lifecycle"  # a bucket's lifecycle rules applied: expired objects deleted, stale uploads aborted
LEASE = datetime.timedelta(seconds=15)  # a claim not renewed for this long belongs to a dead worker
HEARTBEAT = LEASE / 3  # how often a working worker renews the lease of the claims it holds
BATCH = 50
ENUMERATION_BATCH = 2000
WORKERS_PER_JOB = 2
UNFINISHED = (JobStatus.QUEUED, JobStatus.RUNNING)


def _target(bucket: Bucket, sse_mode: str, kms_key_id: str | None) -> sse.SseRequest:
    if sse_mode == SseMode.COS:
        if kms_key_id:
            raise errors.InvalidArgument("A KMS key id goes with cos/kms, not AES256.")
        return sse.SseRequest(SseMode.COS)
    if sse_mode == SseMode.KMS:
        return sse.SseRequest(SseMode.KMS, kms_key_id=sse.resolve_kms_key(bucket, kms_key_id or ""))
    raise errors.InvalidArgument("Bulk encryption targets AES256 (SSE-COS) or cos/kms (SSE-KMS).")


def start_encryption_job(
    bucket: Bucket,
    prefix: str,
    sse_mode: str,
    kms_key_id: str | None,
    requester: str,
    workers: int = WORKERS_PER_JOB,
    keys: list[str] | None = None,
) -> Job:
    """Create the job with one item per version of each object under `prefix`, or, when `keys` names objects, of
    each named object and nothing else; queue it for `workers`."""
    target = _target(bucket, sse_mode, kms_key_id)
    params = {"prefix": prefix, "sse": target.mode, "kms_key_id": target.kms_key_id}
    return _start_job(bucket, ENCRYPT_OBJECTS, params, requester, workers, keys)


def start_delete_prefix_job(bucket: Bucket, prefix: str, requester: str, workers: int = WORKERS_PER_JOB) -> Job:
    """Delete every object under `prefix` (a folder and its marker object `prefix` itself) as a job."""
    if not prefix:
        raise errors.InvalidArgument("Deleting a folder needs its prefix; the bucket root is not a folder.")
    return _start_job(bucket, DELETE_OBJECTS, {"prefix": prefix}, requester, workers, None)


def _start_job(bucket: Bucket, kind: str, params: dict, requester: str, workers: int, keys: list[str] | None) -> Job:
    if keys is not None:
        keys = sorted(dict.fromkeys(keys))
        if not keys:
            raise errors.InvalidArgument("Choose at least one object.")
        params = {**params, "keys": keys}
    with transaction.atomic():
        job = Job.objects.create(kind=kind, bucket=bucket, requester=requester, params=params)
        total, batch = 0, []
        for key, version in _job_items(bucket, kind, params["prefix"], keys):
            batch.append(JobItem(job=job, key=key, version_id=version))
            if len(batch) == ENUMERATION_BATCH:
                JobItem.objects.bulk_create(batch)
                total, batch = total + len(batch), []
        JobItem.objects.bulk_create(batch)
        job.total = total + len(batch)
        job.save(update_fields=["total"])
        transaction.on_commit(lambda: _enqueue(job, workers))
    return job


def _job_items(bucket: Bucket, kind: str, prefix: str, keys: list[str] | None) -> Iterator[tuple[str, str]]:
    """(key, version label) of each item: every version of each object for an encryption job (a named key with
    none is one item, skipped when run), the current object ("") for a delete job."""
    if kind != ENCRYPT_OBJECTS:
        if keys is not None:
            yield from ((key, "") for key in keys)
            return
        found = StoredObject.objects.filter(bucket=bucket, **key_prefix_filter(prefix)).order_by("key")
        yield from ((key, "") for key in found.values_list("key", flat=True).iterator(chunk_size=ENUMERATION_BATCH))
        return
    versions = StoredObject.versions.filter(bucket=bucket, delete_marker=False).order_by("key", "-id")
    if keys is None:
        rows = versions.filter(**key_prefix_filter(prefix)).values_list("key", "version_id")
        yield from ((key, version_label(v)) for key, v in rows.iterator(chunk_size=ENUMERATION_BATCH))
        return
    for start in range(0, len(keys), ENUMERATION_BATCH):
        chunk = keys[start : start + ENUMERATION_BATCH]
        found: dict[str, list[str]] = {}
        for key, version in versions.filter(key__in=chunk).values_list("key", "version_id"):
            found.setdefault(key, []).append(version_label(version))
        for key in chunk:
            yield from ((key, label) for label in found.get(key, [""]))


def start_lifecycle_job(bucket: Bucket, now: datetime.datetime, workers: int = WORKERS_PER_JOB) -> Job | None:
    """A job deleting the objects (a delete marker in a versioned bucket), the noncurrent versions and aborting the
    uploads the bucket's lifecycle rules expire at `now`; None when there is nothing to do or the bucket's previous
    lifecycle job is still unfinished."""
    rules = bucket.lifecycle
    if Job.objects.filter(bucket=bucket, kind=LIFECYCLE, status__in=UNFINISHED).exists():
        return None
    objects = StoredObject.objects.filter(bucket=bucket).only("key", "last_modified", "tags").order_by("key")
    keys = [o.key for o in objects.iterator(chunk_size=ENUMERATION_BATCH) if lifecycle.object_expired(rules, o, now)]
    noncurrent = StoredObject.versions.filter(bucket=bucket, is_latest=False).order_by("key", "-id")
    old = [
        (v.key, v.version_id)
        for v in noncurrent.only("key", "version_id", "tags", "noncurrent_since").iterator(chunk_size=ENUMERATION_BATCH)
        if lifecycle.version_expired(rules, v, now)
    ]
    uploads = MultipartUpload.objects.filter(bucket=bucket).only("key", "upload_id", "initiated_at")
    stale = [u for u in uploads.iterator(chunk_size=ENUMERATION_BATCH) if lifecycle.upload_expired(rules, u, now)]
    if not keys and not old and not stale:
        return None
    with transaction.atomic():
        job = Job.objects.create(kind=LIFECYCLE, bucket=bucket, requester="lifecycle", params={})
        items = [JobItem(job=job, key=key) for key in keys]
        items += [JobItem(job=job, key=key, version_id=version_label(version)) for key, version in old]
        items += [JobItem(job=job, key=u.key, upload_id=u.upload_id) for u in stale]
        JobItem.objects.bulk_create(items, batch_size=ENUMERATION_BATCH)
        job.total = len(items)
        job.save(update_fields=["total"])
        transaction.on_commit(lambda: _enqueue(job, workers))
    return job


def start_lifecycle_jobs(now: datetime.datetime | None = None, workers: int = WORKERS_PER_JOB) -> list[Job]:
    """One lifecycle job for each bucket whose enabled rules expire something now."""
    now = now or timezone.now()
    started = []
    for bucket in Bucket.objects.filter(lifecycle__isnull=False).select_related("owner"):
        if lifecycle.has_enabled_rules(bucket.lifecycle):
            job = start_lifecycle_job(bucket, now, workers)
            if job is not None:
                started.append(job)
    return started


RUN_JOB_TASK = "buckets.tasks.run_job"  # the Celery task that wraps run_job, sent by name: tasks import this module


def _enqueue(job: Job, workers: int) -> None:
    for _ in range(workers):
        current_app.send_task(RUN_JOB_TASK, args=[str(job.job_id)])


def cancel_job(job: Job) -> Job:
    Job.objects.filter(pk=job.pk).update(cancel_requested=True)
    job.refresh_from_db()
    if job.status == JobStatus.QUEUED:
        _finish(job, timezone.now())
        job.refresh_from_db()
    return job


# -- running ---------------------------------------------------------------------------------------------------


def claim_batch(job: Job, now: datetime.datetime, size: int = BATCH) -> list[JobItem]:
    """Claim up to `size` pending items (or items whose claim's lease ran out) with one conditional update.

    On PostgreSQL the items another worker is claiming right now are skipped (FOR UPDATE SKIP LOCKED), so workers
    take different batches; on SQLite claims take turns. The update's condition is checked again either way."""
    claimable = Q(state=JobItemState.PENDING) | Q(state=JobItemState.CLAIMED, claimed_at__lt=now - LEASE)
    token = secrets.token_hex(12)
    with transaction.atomic():
        pending = job.items.filter(claimable).order_by("id").select_for_update(skip_locked=True, of=("self",))
        ids = list(pending.values_list("id", flat=True)[:size])
        if not ids:
            return []
        JobItem.objects.filter(claimable, id__in=ids).update(state=JobItemState.CLAIMED, claim=token, claimed_at=now)
    claimed = list(JobItem.objects.filter(claim=token, state=JobItemState.CLAIMED))
    if claimed:
        Job.objects.filter(pk=job.pk, status=JobStatus.QUEUED).update(status=JobStatus.RUNNING, started_at=now)
    return claimed


def renew_claims(claim: str, now: datetime.datetime) -> int:
    """The heartbeat: push the lease of the items `claim` still holds forward (not those another worker took)."""
    return JobItem.objects.filter(claim=claim, state=JobItemState.CLAIMED).update(claimed_at=now)


def release_claims(claim: str) -> int:
    """Hand the items `claim` still holds back, pending, for any worker to take at once."""
    return JobItem.objects.filter(claim=claim, state=JobItemState.CLAIMED).update(
        state=JobItemState.PENDING, claim="", claimed_at=None
    )


def run_job(job_id: str, now_fn=timezone.now, should_stop=lambda: False) -> int:
    """Work on a job until nothing is left to claim; returns how many items this call finished.

    `should_stop()` is asked between items: when it says so (the worker is shutting down) the claims held are
    handed back and the job is queued again, for another worker or this one once it is back."""
    finished = 0
    while True:
        job = one(Job.objects.select_related("bucket__owner").filter(job_id=job_id))
        if job is None or job.is_finished:
            return finished
        if job.cancel_requested:
            _finish(job, now_fn())
            return finished
        items = claim_batch(job, now_fn())
        if not items:
            if not job.items.filter(state__in=[JobItemState.PENDING, JobItemState.CLAIMED]).exists():
                _finish(job, now_fn())
            return finished
        claim, renewed = items[0].claim, now_fn()
        for item in items:
            if should_stop():
                release_claims(claim)
                _enqueue(job, 1)
                log.info("job %s: handed its claims back on shutdown, queued again", job.job_id)
                return finished
            _record(job, item, *_process(job, item, now_fn()))
            finished += 1
            if now_fn() - renewed >= HEARTBEAT:
                renewed = now_fn()
                renew_claims(claim, renewed)


def _process(job: Job, item: JobItem, now: datetime.datetime) -> tuple[str, str, int]:
    """(state, reason, bytes) for one item."""
    try:
        if job.kind == DELETE_OBJECTS:
            return delete_job_object(job.bucket, item.key)
        if job.kind == LIFECYCLE:
            return expire_item(job.bucket, item, now)
        target = sse.SseRequest(job.params["sse"], kms_key_id=job.params.get("kms_key_id", ""))
        return reencrypt_object(job.bucket, item.key, target, item.version_id)
    except errors.CosError as exc:
        return JobItemState.FAILED, f"{exc.code}: {exc.message}"[:255], 0


def delete_job_object(bucket: Bucket, key: str) -> tuple[str, str, int]:
    """Delete one object of a delete-folder job; one already gone counts as skipped."""
    size = StoredObject.objects.filter(bucket=bucket, key=key).values_list("size_bytes", flat=True).first()
    if size is None:
        return JobItemState.SKIPPED, "deleted since the job started", 0
    delete_object(bucket, key)
    return JobItemState.DONE, "", size


def expire_item(bucket: Bucket, item: JobItem, now: datetime.datetime) -> tuple[str, str, int]:
    """Delete the object, or abort the upload, of a lifecycle job's item if the bucket's rules still expire it (a
    client may have overwritten the object, or changed the rules, since the job started)."""
    if item.upload_id:
        upload = one(MultipartUpload.objects.filter(bucket=bucket, key=item.key, upload_id=item.upload_id))
        if upload is None or not lifecycle.upload_expired(bucket.lifecycle, upload, now):
            return JobItemState.SKIPPED, "completed, aborted or no longer expired since the job started", 0
        size = sum(upload.parts.values_list("size_bytes", flat=True))
        try:
            multipart.abort_multipart_upload(upload)
        except errors.NoSuchUpload:
            return JobItemState.SKIPPED, "completed or aborted since the job started", 0
        return JobItemState.DONE, "", size
    if item.version_id:
        deleted = delete_object(
            bucket,
            item.key,
            only_if=lambda version: lifecycle.version_expired(bucket.lifecycle, version, now),
            version_id=parse_version_id(item.version_id),
        )
        if deleted is None:
            return JobItemState.SKIPPED, "deleted, current again or no longer expired since the job started", 0
        return JobItemState.DONE, "", deleted.removed.size_bytes
    deleted = delete_object(bucket, item.key, only_if=lambda obj: lifecycle.object_expired(bucket.lifecycle, obj, now))
    if deleted is None:
        return JobItemState.SKIPPED, "deleted, overwritten or no longer expired since the job started", 0
    return JobItemState.DONE, "", deleted.current.size_bytes


def _record(job: Job, item: JobItem, state: str, reason: str, size: int) -> None:
    with transaction.atomic():
        # Only the claim that still holds the item records it: a worker whose lease ran out counts nothing.
        if not JobItem.objects.filter(pk=item.pk, claim=item.claim, state=JobItemState.CLAIMED).update(
            state=state, reason=reason
        ):
            return
        counter = {JobItemState.DONE: "done", JobItemState.FAILED: "failed", JobItemState.SKIPPED: "skipped"}[state]
        Job.objects.filter(pk=job.pk).update(**{counter: F(counter) + 1}, bytes_processed=F("bytes_processed") + size)


def _finish(job: Job, now: datetime.datetime) -> None:
    if job.cancel_requested:
        status = JobStatus.CANCELLED
    elif job.items.filter(state=JobItemState.FAILED).exists():
        status = JobStatus.FAILED
    else:
        status = JobStatus.SUCCEEDED
    Job.objects.filter(pk=job.pk).exclude(
        status__in=[JobStatus.SUCCEEDED, JobStatus.FAILED, JobStatus.CANCELLED]
    ).update(status=status, finished_at=now)


def progress() -> tuple[dict[tuple[str, str], int], dict[tuple[str, str], int]]:
    """Jobs by (kind, status), and the items of the jobs not finished yet by (kind, state): done, failed, skipped
    and remaining. Two aggregate queries."""
    jobs = {
        (row["kind"], row["status"]): row["n"] for row in Job.objects.values("kind", "status").annotate(n=Count("id"))
    }
    items: dict[tuple[str, str], int] = {}
    sums = Job.objects.filter(status__in=UNFINISHED).values("kind")
    for row in sums.annotate(total=Sum("total"), done=Sum("done"), failed=Sum("failed"), skipped=Sum("skipped")):
        finished = 0
        for state in ("done", "failed", "skipped"):
            items[(row["kind"], state)] = row[state]
            finished += row[state]
        items[(row["kind"], "remaining")] = max(row["total"] - finished, 0)
    return jobs, items


def reencrypt_object(bucket: Bucket, key: str, target: sse.SseRequest, version: str = "") -> tuple[str, str, int]:
    """Re-wrap the data keys of one object (`version` "") or one version of it (its label) for `target`, switching
    its row only if no client changed it meanwhile."""
    if version:
        found = StoredObject.versions.filter(bucket=bucket, key=key, version_id=parse_version_id(version))
        obj = one(found.filter(delete_marker=False))
    else:
        obj = one(StoredObject.objects.filter(bucket=bucket, key=key))
    if obj is None:
        return JobItemState.SKIPPED, "deleted since the job started", 0
    if obj.sse == SseMode.CUSTOMER:
        return JobItemState.SKIPPED, "SSE-C: the customer's key is not held, so Kinko cannot re-encrypt it", 0
    if obj.sse == target.mode and (target.mode != SseMode.KMS or obj.kms_key_id == target.kms_key_id):
        return JobItemState.DONE, "already encrypted as requested", 0
    obj.bucket = bucket
    old_keys = sse.open_envelope(bucket, obj, None, via_api=False)
    new_keys = sse.new_envelope(bucket, target, via_api=False)
    records = [obj] if obj.part_count == 0 else list(obj.segments.order_by("number"))
    rewrapped = []
    for record in records:
        blob = obj.blob if record is obj else record.blob
        identity = sse.identity(bucket.name, key, blob)
        data_key = old_keys.unwrap(bytes(record.wrapped_key), record.kek_version, identity)
        rewrapped.append((record, new_keys.wrap(data_key, identity)))
    with transaction.atomic():
        unchanged = StoredObject.versions.select_for_update().filter(
            pk=obj.pk, blob=obj.blob, last_modified=obj.last_modified, sse=obj.sse, kms_blob=obj.kms_blob
        )
        if not unchanged.exists():
            return JobItemState.SKIPPED, "overwritten by a client during the job: the client's version is kept", 0
        for record, wrapped in rewrapped:
            if record is obj:
                continue
            ObjectSegment.objects.filter(pk=record.pk).update(**wrapped)
        fields = {"sse": "", "kms_key_id": "", "kms_context": "", "kms_blob": "", **new_keys.fields}
        if obj.part_count == 0:
            fields.update(rewrapped[0][1])
        unchanged.update(**fields)
    return JobItemState.DONE, "", obj.size_bytes


def resume_stalled_jobs(now: datetime.datetime | None = None) -> int:
    """Queue workers again for unfinished jobs whose claims all ran out (their workers died)."""
    now = now or timezone.now()
    resumed = 0
    for job in Job.objects.filter(status__in=UNFINISHED):
        live = job.items.filter(state=JobItemState.CLAIMED, claimed_at__gte=now - LEASE).exists()
        if not live:
            _enqueue(job, WORKERS_PER_JOB)
            resumed += 1
    return resumed


@dataclass(frozen=True)
class KeyImpact:
    objects: int  # current objects
    bytes: int  # of every version
    versions: int  # every version, current or not


def objects_using_kms_key(account, key_id: str) -> KeyImpact:
    """What a CMK's deletion would make unreadable (crypto-shredding impact): every version under it."""
    found = StoredObject.versions.filter(bucket__owner=account, sse=SseMode.KMS, kms_key_id=key_id)
    totals = found.aggregate(
        versions=Count("id"), current=Count("id", filter=Q(is_latest=True)), size=Sum("size_bytes")
    )
    return KeyImpact(totals["current"], totals["size"] or 0, totals["versions"])
