"""Celery wrappers for bucket housekeeping."""

from celery import shared_task

from buckets import housekeeping, jobs, rotation, usage


@shared_task
def collect_garbage() -> dict:
    collected = housekeeping.collect_garbage()
    return {"stale_uploads": collected.stale_uploads, "orphan_files": collected.orphan_files}


@shared_task
def snapshot_usage() -> int:
    return usage.snapshot_usage()


@shared_task
def rotate_master_key() -> int:
    return rotation.rotate_master_key().version


def _worker_stopping() -> bool:
    from celery.worker import state

    return any(flag is not None and flag is not False for flag in (state.should_stop, state.should_terminate))


# Acknowledged once run (a worker lost mid-job leaves its message to be delivered again); running it twice is safe:
# items are claimed, and each result is recorded by the claim that holds it only.
@shared_task(acks_late=True, reject_on_worker_lost=True)
def run_job(job_id: str) -> int:
    return jobs.run_job(job_id, should_stop=_worker_stopping)


@shared_task
def apply_lifecycle() -> int:
    """Start a lifecycle job for each bucket whose rules expire objects or uploads now; workers run them."""
    return len(jobs.start_lifecycle_jobs())


@shared_task
def resume_stalled_jobs() -> int:
    return jobs.resume_stalled_jobs()
