"""Project package: settings, routing, the Celery app and the browser console."""

from console.celery import app as celery_app

__all__ = ["celery_app"]
