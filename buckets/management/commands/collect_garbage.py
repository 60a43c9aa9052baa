"""Abort stale multipart uploads and remove orphaned files, as the periodic task does."""

from django.core.management.base import BaseCommand

from buckets import housekeeping


class Command(BaseCommand):
    help = "Abort stale multipart uploads and remove temp files and blobs that nothing points at."

    def handle(self, *args, **options) -> None:
        collected = housekeeping.collect_garbage()
        self.stdout.write(
            f"Aborted {collected.stale_uploads} stale upload(s); removed {collected.orphan_files} orphan file(s)."
        )
