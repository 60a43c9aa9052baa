"""Celery wrappers for KMS housekeeping."""

from celery import shared_task

from keys import service


@shared_task
def rotate_due_keys() -> int:
    return service.rotate_due_keys()


@shared_task
def purge_pending_deletions() -> int:
    return service.purge_pending_deletions()


@shared_task
def prune_audit_log() -> int:
    return service.prune_audit_log()
