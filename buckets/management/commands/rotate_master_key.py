"""Rotate the SSE-COS master key and re-wrap every data key it protects (the periodic task does the same)."""

from django.core.management.base import BaseCommand

from buckets import rotation


class Command(BaseCommand):
    help = "Add an SSE-COS master key version, re-wrap all data keys to it, retire versions no longer used."

    def handle(self, *args, **options) -> None:
        done = rotation.rotate_master_key()
        retired = ", ".join(f"v{v}" for v in done.retired) or "none"
        self.stdout.write(
            f"Master key is now v{done.version}; re-wrapped {done.rewrapped} data key(s); retired {retired}."
        )
