"""Start a bulk (re-)encryption job: the same job the console and the JSON API start."""

import json

from django.core.management.base import BaseCommand, CommandError

from buckets import errors, jobs
from buckets.models import Bucket


class Command(BaseCommand):
    help = "Encrypt (or re-encrypt) every object of a bucket, or of a prefix, as SSE-COS or SSE-KMS."

    def add_arguments(self, parser) -> None:
        parser.add_argument("bucket", help="full bucket name, e.g. examplebucket-1250000000")
        parser.add_argument("--prefix", default="")
        parser.add_argument("--sse", required=True, choices=["AES256", "cos/kms"])
        parser.add_argument("--kms-key-id", default=None)
        parser.add_argument("--wait", action="store_true", help="run the job here instead of on the workers")

    def handle(self, *args, **options) -> None:
        bucket = Bucket.objects.filter(name=options["bucket"]).select_related("owner").first()
        if bucket is None:
            raise CommandError(f"No bucket named {options['bucket']}.")
        try:
            job = jobs.start_encryption_job(
                bucket,
                options["prefix"],
                options["sse"],
                options["kms_key_id"],
                requester="manage.py encrypt_objects",
                workers=0 if options["wait"] else jobs.WORKERS_PER_JOB,
            )
        except errors.CosError as exc:
            raise CommandError(f"{exc.code}: {exc.message}") from None
        if options["wait"]:
            jobs.run_job(str(job.job_id))
        job.refresh_from_db()
        self.stdout.write(
            json.dumps(
                {
                    "id": str(job.job_id),
                    "status": job.status,
                    "total": job.total,
                    "done": job.done,
                    "failed": job.failed,
                    "skipped": job.skipped,
                }
            )
        )
