"""Apply every bucket's lifecycle rules once, here: the jobs the periodic task starts, run to the end."""

import json

from django.core.management.base import BaseCommand

from buckets import jobs


class Command(BaseCommand):
    help = "Delete the objects and abort the multipart uploads that the buckets' lifecycle rules expire now."

    def handle(self, *args, **options) -> None:
        started = jobs.start_lifecycle_jobs(workers=0)
        for job in started:
            jobs.run_job(str(job.job_id))
            job.refresh_from_db()
        summary = [
            {"id": str(job.job_id), "bucket": job.bucket.name, "status": job.status, "total": job.total}
            | {"done": job.done, "failed": job.failed, "skipped": job.skipped}
            for job in started
        ]
        self.stdout.write(json.dumps(summary))
