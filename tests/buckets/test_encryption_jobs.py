"""Bulk encryption jobs in-process (buckets/jobs.py): enumeration, re-wrapping between none, SSE-COS and SSE-KMS
without touching blob files, SSE-C skips, client overwrites, leased claims, cancellation, status and resumption."""

import datetime
import io
import os
from pathlib import Path

import pytest
from django.utils import timezone

from buckets import errors, jobs, multipart, service, sse
from buckets.models import Job, JobItem, JobItemState, JobStatus, ObjectSegment, SseMode, StoredObject, Versioning
from keys import service as kms
from tests.factories import BucketFactory

pytestmark = pytest.mark.django_db

MiB = 1024 * 1024
SSE_C_KEY = sse.CustomerKey(b"c" * 32, "not-checked-here")


@pytest.fixture
def bucket():
    return BucketFactory()


@pytest.fixture
def default_key(bucket) -> str:
    """The KMS activated for the bucket's owner; the KeyId of the region's default CMK."""
    return kms.activate_kms(bucket.owner)[bucket.region]


@pytest.fixture
def caller(bucket, default_key) -> kms.KmsCaller:
    return kms.KmsCaller(bucket.owner, "AKIDjobtests", bucket.region)


@pytest.fixture
def key_a(caller) -> str:
    return str(kms.create_key(caller, "job-key-a").key_id)


@pytest.fixture
def key_b(caller) -> str:
    return str(kms.create_key(caller, "job-key-b").key_id)


@pytest.fixture
def root(settings) -> Path:
    return Path(settings.STORAGE_ROOT)


def as_sse(mode: str = SseMode.NONE, kms_key_id: str = "") -> sse.SseRequest | None:
    if mode == SseMode.NONE:
        return None
    if mode == SseMode.CUSTOMER:
        return sse.SseRequest(SseMode.CUSTOMER, customer_key=SSE_C_KEY)
    return sse.SseRequest(mode, kms_key_id=kms_key_id)


def put(bucket, key: str, data: bytes, mode: str = SseMode.NONE, kms_key_id: str = "") -> StoredObject:
    write = service.WriteRequest(sse_request=as_sse(mode, kms_key_id), via_api=False)
    return service.put_object(bucket, key, io.BytesIO(data), len(data), write).obj


def put_multipart(bucket, key: str, parts: list[bytes], mode: str = SseMode.NONE, kms_key_id: str = ""):
    write = service.WriteRequest(sse_request=as_sse(mode, kms_key_id), via_api=False)
    upload, _ = multipart.create_multipart_upload(bucket, key, bucket.owner, write)
    sent = []
    for number, data in enumerate(parts, start=1):
        part, _ = multipart.upload_part(upload, number, io.BytesIO(data), len(data), multipart.PartWrite(via_api=False))
        sent.append((part.number, part.etag))
    return multipart.complete_multipart_upload(upload, sent)


def read(bucket, key: str, customer_key: sse.CustomerKey | None = None) -> bytes:
    got = service.read_object(bucket, key, {}, want_body=True, customer_key=customer_key, via_api=False)
    return b"".join(got.body)


def stored(bucket, key: str) -> StoredObject:
    return StoredObject.objects.get(bucket=bucket, key=key)


def start(bucket, sse_mode: str = SseMode.COS, kms_key_id: str | None = None, prefix: str = "") -> Job:
    return jobs.start_encryption_job(bucket, prefix, sse_mode, kms_key_id, requester="tests", workers=0)


def run(job: Job) -> Job:
    jobs.run_job(str(job.job_id))
    job.refresh_from_db()
    return job


def item(job: Job, key: str) -> JobItem:
    return JobItem.objects.get(job=job, key=key)


def blob_snapshot(root: Path) -> dict[Path, tuple[bytes, int]]:
    """Every blob file with its bytes and modification time."""
    return {path: (path.read_bytes(), path.stat().st_mtime_ns) for path in root.rglob("*") if path.is_file()}


# -- enumeration ----------------------------------------------------------------------------------------------


@pytest.fixture
def prefixed(bucket):
    for key in ("log", "logs", "logs/a", "logs/b/c", "logs0", "logsx", "Logs/d", "LOGS/e", "other"):
        put(bucket, key, key.encode())
    return bucket


def test_start_encryption_job_lists_exactly_the_objects_under_the_prefix(prefixed):
    job = start(prefixed, prefix="logs/")
    assert set(job.items.values_list("key", flat=True)) == {"logs/a", "logs/b/c"}


def test_start_encryption_job_matches_the_prefix_case_sensitively(prefixed):
    job = start(prefixed, prefix="Logs/")
    assert set(job.items.values_list("key", flat=True)) == {"Logs/d"}


def test_start_encryption_job_sets_the_total_to_the_objects_listed(prefixed):
    job = start(prefixed, prefix="logs/")
    assert Job.objects.get(pk=job.pk).total == 2


def test_start_encryption_job_with_an_empty_prefix_lists_every_object(prefixed):
    job = start(prefixed)
    assert job.items.count() == job.total == 9


def test_a_new_job_is_queued_with_its_items_pending(prefixed):
    job = Job.objects.get(pk=start(prefixed).pk)
    assert (job.status, set(job.items.values_list("state", flat=True))) == (JobStatus.QUEUED, {JobItemState.PENDING})


def test_a_kms_job_without_a_key_id_targets_the_default_cmk(bucket, default_key):
    job = start(bucket, SseMode.KMS)
    assert job.params == {"prefix": "", "sse": SseMode.KMS, "kms_key_id": default_key}


def test_a_job_with_a_kms_key_id_for_aes256_is_refused(bucket, key_a):
    with pytest.raises(errors.InvalidArgument):
        start(bucket, SseMode.COS, key_a)


def test_start_encryption_job_queues_its_workers_after_commit(bucket, monkeypatch, django_capture_on_commit_callbacks):
    queued = []
    monkeypatch.setattr(jobs, "_enqueue", lambda job, workers: queued.append((job.job_id, workers)))
    with django_capture_on_commit_callbacks(execute=True):
        job = jobs.start_encryption_job(bucket, "", SseMode.COS, None, requester="tests", workers=3)
    assert queued == [(job.job_id, 3)]


# -- re-wrapping ----------------------------------------------------------------------------------------------


def test_run_job_moves_a_plain_object_to_sse_cos(bucket):
    put(bucket, "plain.txt", b"plain bytes")
    run(start(bucket, SseMode.COS))
    assert stored(bucket, "plain.txt").sse == SseMode.COS


def test_a_plain_object_moved_to_sse_cos_reads_back_byte_exactly(bucket):
    put(bucket, "plain.txt", b"plain bytes")
    run(start(bucket, SseMode.COS))
    assert read(bucket, "plain.txt") == b"plain bytes"


def test_run_job_moves_an_sse_cos_object_to_the_default_kms_key(bucket, default_key):
    put(bucket, "cos.txt", b"sse-cos bytes", SseMode.COS)
    run(start(bucket, SseMode.KMS))
    assert (stored(bucket, "cos.txt").sse, stored(bucket, "cos.txt").kms_key_id) == (SseMode.KMS, default_key)


def test_an_sse_cos_object_moved_to_sse_kms_reads_back_byte_exactly(bucket, default_key):
    put(bucket, "cos.txt", b"sse-cos bytes", SseMode.COS)
    run(start(bucket, SseMode.KMS))
    assert read(bucket, "cos.txt") == b"sse-cos bytes"


def test_an_sse_cos_object_moved_to_sse_kms_has_its_key_wrapped_by_the_kms(bucket, default_key):
    put(bucket, "cos.txt", b"sse-cos bytes", SseMode.COS)
    run(start(bucket, SseMode.KMS))
    obj = stored(bucket, "cos.txt")
    assert (obj.kek_version, bool(obj.kms_blob)) == (None, True)


def test_run_job_moves_an_object_from_kms_key_a_to_key_b(bucket, key_a, key_b):
    put(bucket, "kms.txt", b"kms bytes", SseMode.KMS, key_a)
    run(start(bucket, SseMode.KMS, key_b))
    assert stored(bucket, "kms.txt").kms_key_id == key_b


def test_an_object_moved_between_kms_keys_reads_back_byte_exactly(bucket, key_a, key_b):
    put(bucket, "kms.txt", b"kms bytes", SseMode.KMS, key_a)
    run(start(bucket, SseMode.KMS, key_b))
    assert read(bucket, "kms.txt") == b"kms bytes"


def test_an_object_moved_to_key_b_stays_readable_with_key_a_disabled(bucket, caller, key_a, key_b):
    put(bucket, "kms.txt", b"kms bytes", SseMode.KMS, key_a)
    run(start(bucket, SseMode.KMS, key_b))
    kms.disable_key(caller, key_a)
    assert read(bucket, "kms.txt") == b"kms bytes"


def test_run_job_moves_an_sse_kms_object_to_sse_cos(bucket, key_a):
    put(bucket, "kms.txt", b"kms bytes", SseMode.KMS, key_a)
    run(start(bucket, SseMode.COS))
    obj = stored(bucket, "kms.txt")
    assert (obj.sse, obj.kms_key_id, obj.kms_blob, read(bucket, "kms.txt")) == (SseMode.COS, "", "", b"kms bytes")


@pytest.fixture
def multipart_object(bucket):
    data = [os.urandom(MiB), os.urandom(MiB + 17), b"the short last part"]
    put_multipart(bucket, "big.bin", data, SseMode.COS)
    return b"".join(data)


def test_run_job_rewraps_every_segment_of_a_multipart_object(bucket, default_key, multipart_object):
    before = {seg.number: bytes(seg.wrapped_key) for seg in ObjectSegment.objects.filter(obj__key="big.bin")}
    run(start(bucket, SseMode.KMS))
    after = {seg.number: bytes(seg.wrapped_key) for seg in ObjectSegment.objects.filter(obj__key="big.bin")}
    assert sorted(after) == [1, 2, 3] and all(after[n] != before[n] for n in after)


def test_run_job_takes_every_segment_of_a_multipart_object_off_the_master_key(bucket, default_key, multipart_object):
    run(start(bucket, SseMode.KMS))
    versions = ObjectSegment.objects.filter(obj__key="big.bin").values_list("kek_version", flat=True)
    assert list(versions) == [None, None, None]


def test_a_multipart_object_moved_to_sse_kms_reads_back_byte_exactly(bucket, default_key, multipart_object):
    run(start(bucket, SseMode.KMS))
    assert read(bucket, "big.bin") == multipart_object


def test_run_job_leaves_every_blob_file_untouched(bucket, root, key_a, multipart_object):
    put(bucket, "plain.txt", b"plain bytes")
    put(bucket, "cos.txt", b"sse-cos bytes", SseMode.COS)
    put(bucket, "kms.txt", b"kms bytes", SseMode.KMS, key_a)
    before = blob_snapshot(root)
    run(start(bucket, SseMode.KMS))
    assert blob_snapshot(root) == before


def test_run_job_counts_converted_objects_and_their_bytes(bucket):
    put(bucket, "a", b"12345")
    put(bucket, "b", b"1234567")
    job = run(start(bucket, SseMode.COS))
    assert (job.done, job.failed, job.skipped, job.bytes_processed) == (2, 0, 0, 12)


# -- what a job leaves alone ----------------------------------------------------------------------------------


def test_run_job_skips_an_sse_c_object_saying_why(bucket):
    put(bucket, "ssec.bin", b"customer bytes", SseMode.CUSTOMER)
    job = run(start(bucket, SseMode.COS))
    found = item(job, "ssec.bin")
    assert found.state == JobItemState.SKIPPED and "SSE-C" in found.reason


def test_run_job_counts_sse_c_objects_as_skipped(bucket):
    put(bucket, "ssec.bin", b"customer bytes", SseMode.CUSTOMER)
    put(bucket, "plain.txt", b"plain bytes")
    job = run(start(bucket, SseMode.COS))
    assert (job.done, job.skipped) == (1, 1)


def test_a_skipped_sse_c_object_keeps_its_mode_and_reads_with_its_key(bucket):
    put(bucket, "ssec.bin", b"customer bytes", SseMode.CUSTOMER)
    run(start(bucket, SseMode.COS))
    assert (stored(bucket, "ssec.bin").sse, read(bucket, "ssec.bin", SSE_C_KEY)) == (
        SseMode.CUSTOMER,
        b"customer bytes",
    )


def test_an_object_already_in_the_target_mode_counts_as_done(bucket):
    put(bucket, "cos.txt", b"sse-cos bytes", SseMode.COS)
    job = run(start(bucket, SseMode.COS))
    found = item(job, "cos.txt")
    assert (job.done, found.state, found.reason) == (1, JobItemState.DONE, "already encrypted as requested")


def test_an_object_already_in_the_target_mode_is_not_changed(bucket):
    obj = put(bucket, "cos.txt", b"sse-cos bytes", SseMode.COS)
    run(start(bucket, SseMode.COS))
    after = stored(bucket, "cos.txt")
    assert (bytes(after.wrapped_key), after.kek_version, after.last_modified) == (
        bytes(obj.wrapped_key),
        obj.kek_version,
        obj.last_modified,
    )


def test_an_object_already_under_the_target_cmk_is_not_changed(bucket, key_a):
    obj = put(bucket, "kms.txt", b"kms bytes", SseMode.KMS, key_a)
    job = run(start(bucket, SseMode.KMS, key_a))
    after = stored(bucket, "kms.txt")
    assert (job.done, after.kms_blob, bytes(after.wrapped_key)) == (1, obj.kms_blob, bytes(obj.wrapped_key))


def test_an_object_deleted_after_the_job_started_is_skipped(bucket):
    put(bucket, "gone.txt", b"soon deleted")
    job = start(bucket, SseMode.COS)
    service.delete_object(bucket, "gone.txt")
    job = run(job)
    assert (job.skipped, item(job, "gone.txt").state) == (1, JobItemState.SKIPPED)


@pytest.fixture
def overwritten_during_rewrap(bucket, monkeypatch):
    """A client overwrites the object (plain) after the job has read its row and before the job switches it."""
    put(bucket, "race.txt", b"original bytes")
    real_new_envelope = sse.new_envelope

    def overwrite_then_wrap(*args, **kwargs):
        monkeypatch.setattr(sse, "new_envelope", real_new_envelope)
        put(bucket, "race.txt", b"the client's newer bytes")
        return real_new_envelope(*args, **kwargs)

    job = start(bucket, SseMode.COS)
    monkeypatch.setattr(sse, "new_envelope", overwrite_then_wrap)
    return run(job)


def test_an_object_overwritten_during_its_rewrap_keeps_the_clients_bytes(bucket, overwritten_during_rewrap):
    assert read(bucket, "race.txt") == b"the client's newer bytes"


def test_an_object_overwritten_during_its_rewrap_keeps_the_clients_mode(bucket, overwritten_during_rewrap):
    assert stored(bucket, "race.txt").sse == SseMode.NONE


def test_an_object_overwritten_during_its_rewrap_is_skipped_saying_why(overwritten_during_rewrap):
    found = item(overwritten_during_rewrap, "race.txt")
    assert found.state == JobItemState.SKIPPED and "overwritten by a client" in found.reason


def test_a_multipart_object_overwritten_during_its_rewrap_keeps_the_clients_version(bucket, monkeypatch):
    put_multipart(bucket, "big.bin", [os.urandom(MiB), b"old tail"])
    newer = [os.urandom(MiB), b"the client's newer tail"]
    real_new_envelope = sse.new_envelope

    def overwrite_then_wrap(*args, **kwargs):
        monkeypatch.setattr(sse, "new_envelope", real_new_envelope)
        put_multipart(bucket, "big.bin", newer)
        return real_new_envelope(*args, **kwargs)

    job = start(bucket, SseMode.COS)
    monkeypatch.setattr(sse, "new_envelope", overwrite_then_wrap)
    run(job)
    assert (stored(bucket, "big.bin").sse, read(bucket, "big.bin")) == (SseMode.NONE, b"".join(newer))


def test_an_object_overwritten_after_its_claim_is_converted_with_the_clients_bytes(bucket):
    put(bucket, "race.txt", b"original bytes")
    job = start(bucket, SseMode.COS)
    [claimed] = jobs.claim_batch(job, timezone.now())
    put(bucket, "race.txt", b"the client's newer bytes")
    state, _, size = jobs.reencrypt_object(bucket, claimed.key, sse.SseRequest(SseMode.COS))
    assert (state, size, stored(bucket, "race.txt").sse, read(bucket, "race.txt")) == (
        JobItemState.DONE,
        len(b"the client's newer bytes"),
        SseMode.COS,
        b"the client's newer bytes",
    )


# -- claims ---------------------------------------------------------------------------------------------------


@pytest.fixture
def five_item_job(bucket) -> Job:
    for n in range(5):
        put(bucket, f"obj-{n}", b"x" * (n + 1))
    return start(bucket, SseMode.COS)


def ids(items: list[JobItem]) -> set[int]:
    return {found.pk for found in items}


def test_two_claims_never_get_the_same_item(five_item_job):
    now = timezone.now()
    first = jobs.claim_batch(five_item_job, now, size=3)
    second = jobs.claim_batch(five_item_job, now, size=3)
    assert (len(first), len(second), ids(first) & ids(second)) == (3, 2, set())


def test_a_claim_holds_its_items_until_the_lease_ends(five_item_job):
    now = timezone.now()
    jobs.claim_batch(five_item_job, now)
    assert jobs.claim_batch(five_item_job, now + jobs.LEASE - datetime.timedelta(seconds=1)) == []


def test_items_whose_lease_ran_out_can_be_claimed_again(five_item_job):
    now = timezone.now()
    first = jobs.claim_batch(five_item_job, now)
    second = jobs.claim_batch(five_item_job, now + jobs.LEASE + datetime.timedelta(seconds=1))
    assert ids(second) == ids(first) and {i.claim for i in second}.isdisjoint({i.claim for i in first})


def counters(job: Job) -> tuple[int, int, int, int]:
    job.refresh_from_db()
    return job.done, job.failed, job.skipped, job.bytes_processed


def test_a_claim_that_lost_its_lease_records_nothing(five_item_job):
    now = timezone.now()
    [stale] = jobs.claim_batch(five_item_job, now, size=1)
    jobs.claim_batch(five_item_job, now + jobs.LEASE + datetime.timedelta(seconds=1), size=1)
    jobs._record(five_item_job, stale, JobItemState.DONE, "", 1)
    assert counters(five_item_job) == (0, 0, 0, 0)


def test_a_claim_that_lost_its_lease_leaves_the_item_with_the_new_claim(five_item_job):
    now = timezone.now()
    [stale] = jobs.claim_batch(five_item_job, now, size=1)
    [fresh] = jobs.claim_batch(five_item_job, now + jobs.LEASE + datetime.timedelta(seconds=1), size=1)
    jobs._record(five_item_job, stale, JobItemState.FAILED, "stale", 0)
    found = JobItem.objects.get(pk=fresh.pk)
    assert (found.state, found.claim, found.reason) == (JobItemState.CLAIMED, fresh.claim, "")


def test_the_claim_holding_an_item_records_it_once(five_item_job):
    now = timezone.now()
    [stale] = jobs.claim_batch(five_item_job, now, size=1)
    [fresh] = jobs.claim_batch(five_item_job, now + jobs.LEASE + datetime.timedelta(seconds=1), size=1)
    jobs._record(five_item_job, fresh, JobItemState.DONE, "", 1)
    jobs._record(five_item_job, stale, JobItemState.DONE, "", 1)
    jobs._record(five_item_job, fresh, JobItemState.DONE, "", 1)
    assert counters(five_item_job) == (1, 0, 0, 1)


def test_claiming_marks_a_queued_job_running(five_item_job):
    jobs.claim_batch(five_item_job, timezone.now(), size=1)
    assert Job.objects.get(pk=five_item_job.pk).status == JobStatus.RUNNING


def test_run_job_finishes_the_items_a_dead_worker_claimed_once_their_lease_ran_out(five_item_job):
    jobs.claim_batch(five_item_job, timezone.now() - jobs.LEASE - datetime.timedelta(seconds=1), size=2)
    job = run(five_item_job)
    assert (job.status, job.done, job.items.filter(state=JobItemState.DONE).count()) == (JobStatus.SUCCEEDED, 5, 5)


def test_run_job_leaves_items_another_worker_holds_and_does_not_finish_the_job(five_item_job):
    jobs.claim_batch(five_item_job, timezone.now(), size=2)
    job = run(five_item_job)
    assert (job.status, job.done, job.items.filter(state=JobItemState.CLAIMED).count()) == (JobStatus.RUNNING, 3, 2)


# -- cancelling -----------------------------------------------------------------------------------------------


def test_cancel_job_cancels_a_queued_job(five_item_job):
    jobs.cancel_job(five_item_job)
    assert Job.objects.get(pk=five_item_job.pk).status == JobStatus.CANCELLED


def test_cancel_job_returns_the_queued_job_as_cancelled(five_item_job):
    # The JSON API renders the job cancel_job returns (POST /api/v1/jobs/<id>/cancel/).
    assert jobs.cancel_job(five_item_job).status == JobStatus.CANCELLED


def test_a_cancelled_queued_job_converts_nothing(bucket, five_item_job):
    jobs.cancel_job(five_item_job)
    assert (jobs.run_job(str(five_item_job.job_id)), stored(bucket, "obj-0").sse) == (0, SseMode.NONE)


def test_cancel_job_stops_a_running_job_at_the_next_batch(bucket, monkeypatch):
    for n in range(jobs.BATCH + 1):
        put(bucket, f"obj-{n:03}", b"x")
    job = start(bucket, SseMode.COS)
    real_reencrypt = jobs.reencrypt_object

    def cancel_during_first_object(*args, **kwargs):
        monkeypatch.setattr(jobs, "reencrypt_object", real_reencrypt)
        jobs.cancel_job(job)
        return real_reencrypt(*args, **kwargs)

    monkeypatch.setattr(jobs, "reencrypt_object", cancel_during_first_object)
    job = run(job)
    assert (job.status, job.done, job.items.filter(state=JobItemState.PENDING).count()) == (
        JobStatus.CANCELLED,
        jobs.BATCH,
        1,
    )


# -- status ---------------------------------------------------------------------------------------------------


def test_a_job_whose_objects_all_convert_succeeds(five_item_job):
    job = run(five_item_job)
    assert (job.status, job.done, job.total) == (JobStatus.SUCCEEDED, 5, 5)


def test_a_finished_job_records_when_it_started_and_finished(five_item_job):
    job = run(five_item_job)
    assert job.started_at is not None and job.finished_at >= job.started_at


def test_a_job_with_only_sse_c_skips_succeeds(bucket):
    put(bucket, "ssec.bin", b"customer bytes", SseMode.CUSTOMER)
    assert run(start(bucket, SseMode.COS)).status == JobStatus.SUCCEEDED


def test_run_job_returns_how_many_items_it_finished(five_item_job):
    assert jobs.run_job(str(five_item_job.job_id)) == 5


@pytest.fixture
def key_disabled_mid_job(bucket, caller, key_b, monkeypatch) -> Job:
    """Two plain objects moved to key B; B is disabled right after the first one was re-encrypted."""
    put(bucket, "first.txt", b"first bytes")
    put(bucket, "second.txt", b"second bytes")
    job = start(bucket, SseMode.KMS, key_b)
    real_reencrypt = jobs.reencrypt_object

    def disable_after_first(*args, **kwargs):
        monkeypatch.setattr(jobs, "reencrypt_object", real_reencrypt)
        result = real_reencrypt(*args, **kwargs)
        kms.disable_key(caller, key_b)
        return result

    monkeypatch.setattr(jobs, "reencrypt_object", disable_after_first)
    return run(job)


def test_a_target_key_disabled_mid_job_fails_the_next_item_saying_why(key_disabled_mid_job):
    found = item(key_disabled_mid_job, "second.txt")
    assert found.state == JobItemState.FAILED and found.reason.startswith("KmsKeyDisabled: ")


def test_a_job_with_a_failed_item_fails(key_disabled_mid_job):
    job = key_disabled_mid_job
    assert (job.status, job.done, job.failed) == (JobStatus.FAILED, 1, 1)


def test_an_item_that_failed_leaves_its_object_as_it_was(bucket, key_disabled_mid_job):
    assert (stored(bucket, "second.txt").sse, read(bucket, "second.txt")) == (SseMode.NONE, b"second bytes")


# -- versions -------------------------------------------------------------------------------------------------


def test_a_job_re_encrypts_every_version_of_each_object_each_under_its_own_data_key(bucket, key_a):
    service.set_bucket_versioning(bucket, Versioning.ENABLED)
    put(bucket, "v.txt", b"first")
    put_multipart(bucket, "v.txt", [b"s" * (5 * 1024 * 1024), b"econd"])
    put(bucket, "v.txt", b"third")
    service.delete_object(bucket, "v.txt")  # the marker has no bytes and no item
    job = run(start(bucket, SseMode.KMS, key_a))
    versions = list(StoredObject.versions.filter(bucket=bucket, delete_marker=False).order_by("id"))
    assert (job.status, job.total, job.done) == (JobStatus.SUCCEEDED, 3, 3)
    assert [(v.sse, v.kms_key_id) for v in versions] == [(SseMode.KMS, key_a)] * 3
    bodies = []
    for v in versions:
        got = service.read_object(bucket, "v.txt", {}, True, None, via_api=False, version_id=v.version_id)
        bodies.append(b"".join(got.body))
    assert bodies == [b"first", b"s" * (5 * 1024 * 1024) + b"econd", b"third"]
    assert len({bytes(v.kms_blob.encode()) for v in versions}) == 3  # each version keeps its own wrapped key


# -- crypto-shredding impact ----------------------------------------------------------------------------------


def test_objects_using_kms_key_counts_the_objects_and_bytes_under_that_key(bucket, key_a, key_b):
    put(bucket, "a1", b"123", SseMode.KMS, key_a)
    put(bucket, "a2", b"12345", SseMode.KMS, key_a)
    put(bucket, "b1", b"1234567", SseMode.KMS, key_b)
    put(bucket, "cos", b"123456789", SseMode.COS)
    assert jobs.objects_using_kms_key(bucket.owner, key_a) == jobs.KeyImpact(objects=2, bytes=8, versions=2)


def test_objects_using_kms_key_counts_every_version_a_deletion_would_shred(bucket, key_a):
    service.set_bucket_versioning(bucket, Versioning.ENABLED)
    put(bucket, "a", b"1", SseMode.KMS, key_a)
    put(bucket, "a", b"22", SseMode.KMS, key_a)
    put(bucket, "a", b"333", SseMode.COS)  # the current version is not under the key; the two older ones are
    put(bucket, "b", b"4444", SseMode.KMS, key_a)
    service.delete_object(bucket, "b")  # a delete marker: b's version stays, under the key
    assert jobs.objects_using_kms_key(bucket.owner, key_a) == jobs.KeyImpact(objects=0, bytes=7, versions=3)


def test_objects_using_kms_key_of_an_unused_key_is_zero(bucket, key_a):
    put(bucket, "cos", b"123456789", SseMode.COS)
    assert jobs.objects_using_kms_key(bucket.owner, key_a) == jobs.KeyImpact(objects=0, bytes=0, versions=0)


def test_objects_using_kms_key_follows_objects_a_job_moved(bucket, key_a, key_b):
    put(bucket, "a1", b"123", SseMode.KMS, key_a)
    put(bucket, "a2", b"12345", SseMode.KMS, key_a)
    run(start(bucket, SseMode.KMS, key_b))
    impact = (jobs.objects_using_kms_key(bucket.owner, key_a), jobs.objects_using_kms_key(bucket.owner, key_b))
    assert impact == (jobs.KeyImpact(0, 0, 0), jobs.KeyImpact(2, 8, 2))


# -- resuming -------------------------------------------------------------------------------------------------


@pytest.fixture
def enqueued(monkeypatch) -> list[tuple[str, int]]:
    """The job ids and worker counts the jobs module queues (its own enqueue function, recorded instead)."""
    calls = []
    monkeypatch.setattr(jobs, "_enqueue", lambda job, workers: calls.append((str(job.job_id), workers)))
    return calls


def test_resume_stalled_jobs_requeues_a_job_whose_claims_all_ran_out(five_item_job, enqueued):
    now = timezone.now()
    jobs.claim_batch(five_item_job, now - jobs.LEASE - datetime.timedelta(seconds=1), size=2)
    jobs.resume_stalled_jobs(now=now)
    assert enqueued == [(str(five_item_job.job_id), jobs.WORKERS_PER_JOB)]


def test_resume_stalled_jobs_leaves_a_job_with_a_live_claim(five_item_job, enqueued):
    now = timezone.now()
    jobs.claim_batch(five_item_job, now - jobs.LEASE - datetime.timedelta(seconds=1), size=2)
    jobs.claim_batch(five_item_job, now - datetime.timedelta(seconds=1), size=1)
    assert (jobs.resume_stalled_jobs(now=now), enqueued) == (0, [])


def test_resume_stalled_jobs_ignores_finished_jobs(five_item_job, enqueued):
    run(five_item_job)
    jobs.cancel_job(start(five_item_job.bucket, SseMode.COS))
    assert (jobs.resume_stalled_jobs(now=timezone.now()), enqueued) == (0, [])


def test_resume_stalled_jobs_counts_the_jobs_it_requeued(bucket, enqueued):
    put(bucket, "a", b"1")
    stalled = [start(bucket, SseMode.COS), start(bucket, SseMode.COS)]
    now = timezone.now()
    for job in stalled:
        jobs.claim_batch(job, now - jobs.LEASE - datetime.timedelta(seconds=1))
    live = start(bucket, SseMode.COS)
    jobs.claim_batch(live, now)
    assert (jobs.resume_stalled_jobs(now=now), {job_id for job_id, _ in enqueued}) == (
        2,
        {str(job.job_id) for job in stalled},
    )
