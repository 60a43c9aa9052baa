"""The Celery app; each Django app's tasks.py is autodiscovered."""

import os

from celery import Celery
from celery.signals import beat_init, worker_init, worker_process_init

import console.broker  # noqa: F401 - registers the kinkofs:// transport of the embedded broker
from console import datadir
from console.supervision import die_with_parent

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "console.settings")

app = Celery("kinko")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@worker_init.connect
@beat_init.connect
def _private_files(**kwargs) -> None:
    """Files a worker or beat creates in the data dir (blobs, queued messages, the schedule) are private."""
    datadir.restrict_umask()


@worker_process_init.connect
def _die_with_the_worker(**kwargs) -> None:
    """A pool process dies with its worker, so a SIGKILLed worker leaves no orphan running tasks."""
    die_with_parent()
