"""Readiness of what the server depends on: database, object storage and the Celery broker."""

import os
import tempfile

from django.conf import settings
from django.db import connection

from console.celery import app as celery_app


def check_database() -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")


def check_storage() -> None:
    root = settings.STORAGE_ROOT
    root.mkdir(parents=True, exist_ok=True)
    with tempfile.NamedTemporaryFile(dir=root, prefix=".health-"):
        pass


def check_broker() -> None:
    with celery_app.connection_for_write() as conn:
        conn.ensure_connection(max_retries=1, timeout=2)


CHECKS = {"database": check_database, "storage": check_storage, "broker": check_broker}


def failing_checks() -> list[str]:
    failed = []
    for name, check in CHECKS.items():
        try:
            check()
        except Exception:  # noqa: BLE001 - any failure means "not ready"; the name is reported, not the detail
            failed.append(name)
    return failed


def ensure_broker_dirs() -> None:
    for folder in settings.CELERY_BROKER_TRANSPORT_OPTIONS.values():
        if isinstance(folder, str):
            os.makedirs(folder, mode=0o700, exist_ok=True)
