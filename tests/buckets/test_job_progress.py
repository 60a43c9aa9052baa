"""What /metrics reads of jobs (buckets.jobs.progress): jobs by kind and status, and the items of unfinished jobs
by state."""

import pytest

from buckets import jobs
from buckets.models import Job, JobStatus
from tests.factories import BucketFactory

pytestmark = pytest.mark.django_db


def test_progress_counts_jobs_by_kind_and_status_and_the_items_of_unfinished_ones():
    bucket = BucketFactory()
    Job.objects.create(kind=jobs.ENCRYPT_OBJECTS, bucket=bucket, status=JobStatus.RUNNING, total=10, done=4, failed=1)
    Job.objects.create(kind=jobs.ENCRYPT_OBJECTS, bucket=bucket, status=JobStatus.QUEUED, total=5, skipped=2)
    Job.objects.create(kind=jobs.ENCRYPT_OBJECTS, bucket=bucket, status=JobStatus.SUCCEEDED, total=7, done=7)
    Job.objects.create(kind=jobs.DELETE_OBJECTS, bucket=bucket, status=JobStatus.CANCELLED, total=3, done=1)

    by_status, items = jobs.progress()

    assert by_status == {
        (jobs.ENCRYPT_OBJECTS, JobStatus.RUNNING): 1,
        (jobs.ENCRYPT_OBJECTS, JobStatus.QUEUED): 1,
        (jobs.ENCRYPT_OBJECTS, JobStatus.SUCCEEDED): 1,
        (jobs.DELETE_OBJECTS, JobStatus.CANCELLED): 1,
    }
    assert items == {
        (jobs.ENCRYPT_OBJECTS, "done"): 4,
        (jobs.ENCRYPT_OBJECTS, "failed"): 1,
        (jobs.ENCRYPT_OBJECTS, "skipped"): 2,
        (jobs.ENCRYPT_OBJECTS, "remaining"): 8,
    }
