"""Celery wrappers for bucket housekeeping."""

from celery import shared_task

from buckets import service


@shared_task
def collect_orphan_blobs() -> int:
    return service.collect_orphan_blobs()
