"""WSGI entry point (gunicorn)."""

import os

from django.core.wsgi import get_wsgi_application

from console import datadir
from console.unread_body import FinishUnreadBodies

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "console.settings")
datadir.restrict_umask()  # blobs, parts, queued messages and cache files are private

# A body the application did not read is drained (bounded) or the connection closed: see console/unread_body.py.
application = FinishUnreadBodies(get_wsgi_application())
