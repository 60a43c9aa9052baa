"""Readiness of what the server depends on: database, object storage, the Celery broker, and the worker and beat
when `manage.py serve` supervises them (console/supervision.py)."""

import os
from pathlib import Path

from django.conf import settings
from django.db import connection

from buckets import storage
from console import supervision
from console.celery import app as celery_app


def check_database() -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")


def check_storage() -> None:
    storage.backend().check()


def check_broker() -> None:
    # The embedded broker is its folders: gone or not writable, no message can be queued or taken.
    for name in ("data_folder_in", "data_folder_out"):
        folder = settings.CELERY_BROKER_TRANSPORT_OPTIONS.get(name)
        if isinstance(folder, str) and not os.access(folder, os.W_OK | os.X_OK):
            raise OSError(f"broker folder {folder} is missing or not writable")
    with celery_app.connection_for_write() as conn:
        conn.ensure_connection(max_retries=1, timeout=2)


CHECKS = {"database": check_database, "storage": check_storage, "broker": check_broker}


def low_space() -> str | None:
    """Why the data dir is short of space (below KINKO_MIN_FREE_BYTES), or None."""
    free = storage.free_bytes(settings.DATA_DIR)
    if free < settings.KINKO_MIN_FREE_BYTES:
        reserve = settings.KINKO_MIN_FREE_BYTES
        return f"free space: {free} bytes left in the data dir, below KINKO_MIN_FREE_BYTES={reserve}"
    return None


def readiness_reasons() -> list[str]:
    """What keeps the node from taking writes: each failing check, and low free space (before writes fail)."""
    reasons = failing_checks()
    try:
        space = low_space()
    except OSError:
        space = "free space: the data dir cannot be examined"
    return reasons + ([space] if space else [])


def failing_checks() -> list[str]:
    failed = []
    for name, check in CHECKS.items():
        try:
            check()
        except Exception:  # noqa: BLE001 - any failure means "not ready"; the name is reported, not the detail
            failed.append(name)
    return failed + supervision.part_failures(Path(settings.DATA_DIR))


def ensure_broker_dirs() -> None:
    for folder in settings.CELERY_BROKER_TRANSPORT_OPTIONS.values():
        if isinstance(folder, str):
            os.makedirs(folder, mode=0o700, exist_ok=True)
