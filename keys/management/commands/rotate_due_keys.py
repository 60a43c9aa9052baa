"""Rotate every CMK whose rotation is due and destroy keys whose deletion date passed (the periodic task)."""

from django.core.management.base import BaseCommand

from keys import service


class Command(BaseCommand):
    help = "Rotate the KMS keys that are due, and carry out scheduled key deletions."

    def handle(self, *args, **options) -> None:
        rotated = service.rotate_due_keys()
        purged = service.purge_pending_deletions()
        self.stdout.write(f"Rotated {rotated} key(s); destroyed {purged} key(s) whose deletion date passed.")
