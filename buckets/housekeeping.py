"""Garbage collection: stale multipart uploads, temp files of crashed writers, blobs no row points at."""

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.utils import timezone

from . import errors, multipart, storage
from .models import ObjectSegment, Part, StoredObject

log = logging.getLogger(__name__)


def collect_orphan_blobs(older_than_seconds: float | None = None, now: float | None = None) -> int:
    """Remove temp files of crashed writers and committed blobs no row points at (a crash between the
    rename and the commit), on the configured backend; on S3 also its multipart uploads abandoned by a crash.
    Young files are left alone: their upload may still be committing."""
    grace = settings.KINKO_ORPHAN_GRACE_SECONDS if older_than_seconds is None else older_than_seconds
    blobs = storage.backend()
    removed = blobs.sweep_incomplete(grace, now)
    for ids in blobs.list_orphans(grace, now):
        referenced = {
            *StoredObject.versions.filter(blob__in=ids).values_list("blob", flat=True),
            *ObjectSegment.objects.filter(blob__in=ids).values_list("blob", flat=True),
            *Part.objects.filter(blob__in=ids).values_list("blob", flat=True),
        }
        orphans = sorted(set(ids) - referenced)
        blobs.delete(orphans)
        removed += len(orphans)
    return removed


@dataclass(frozen=True)
class Collected:
    stale_uploads: int
    orphan_files: int


def collect_garbage(now: datetime | None = None) -> Collected:
    """Abort multipart uploads older than KINKO_MULTIPART_EXPIRY_DAYS, then sweep orphaned files."""
    now = now or timezone.now()
    stale = multipart.abort_stale_uploads(timedelta(days=settings.KINKO_MULTIPART_EXPIRY_DAYS), now=now)
    try:
        orphans = collect_orphan_blobs()
    except errors.CosError:  # the blob backend is down: logged once by it; the next sweep tries again
        orphans = 0
    if stale or orphans:
        log.info("garbage collection: aborted %d stale upload(s), removed %d orphan file(s)", stale, orphans)
    return Collected(stale, orphans)
