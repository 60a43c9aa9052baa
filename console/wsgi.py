"""WSGI entry point (gunicorn)."""

import os

from django.core.wsgi import get_wsgi_application

from console import datadir

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "console.settings")
datadir.restrict_umask()  # blobs, parts, queued messages and cache files are private

application = get_wsgi_application()
