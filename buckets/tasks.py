"""Celery wrappers for bucket housekeeping."""

from celery import shared_task

from buckets import housekeeping, jobs, rotation


@shared_task
def collect_garbage() -> dict:
    collected = housekeeping.collect_garbage()
    return {"stale_uploads": collected.stale_uploads, "orphan_files": collected.orphan_files}


@shared_task
def rotate_master_key() -> int:
    return rotation.rotate_master_key().version


@shared_task
def run_job(job_id: str) -> int:
    return jobs.run_job(job_id)


@shared_task
def resume_stalled_jobs() -> int:
    return jobs.resume_stalled_jobs()
