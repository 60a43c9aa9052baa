"""Celery wrappers for bucket housekeeping."""

from celery import shared_task

from buckets import housekeeping, rotation


@shared_task
def collect_garbage() -> dict:
    collected = housekeeping.collect_garbage()
    return {"stale_uploads": collected.stale_uploads, "orphan_files": collected.orphan_files}


@shared_task
def rotate_master_key() -> int:
    return rotation.rotate_master_key().version
