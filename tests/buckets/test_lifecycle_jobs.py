"""Lifecycle jobs (buckets/jobs.py, buckets/lifecycle.py) in-process: what a job lists, one job per bucket at a time,
and an object overwritten after the job listed it is skipped, not deleted."""

import datetime
import io

import pytest
from django.utils import timezone

from buckets import jobs, lifecycle, service
from buckets.models import JobItemState, JobStatus, StoredObject
from tests.factories import BucketFactory

pytestmark = pytest.mark.django_db

THIRTY_DAYS = {"id": "logs", "enabled": True, "filter": {"prefix": "logs/", "tags": [], "and": False}}
THIRTY_DAYS |= {"expiration": {"days": 30}, "noncurrent_days": None, "abort_days": None}


def put(bucket, key: str, days_old: int) -> None:
    service.put_object(bucket, key, io.BytesIO(b"data"), 4, service.WriteRequest(via_api=False))
    StoredObject.objects.filter(bucket=bucket, key=key).update(
        last_modified=timezone.now() - datetime.timedelta(days=days_old)
    )


@pytest.fixture
def logs(settings):
    bucket = BucketFactory()
    lifecycle.set_bucket_lifecycle(bucket, [THIRTY_DAYS])
    put(bucket, "logs/old.txt", 31)
    put(bucket, "logs/recent.txt", 29)
    put(bucket, "other/old.txt", 31)
    return bucket


def test_a_lifecycle_job_lists_only_what_the_rules_expire(logs):
    job = jobs.start_lifecycle_job(logs, timezone.now(), workers=0)
    assert list(job.items.values_list("key", "upload_id")) == [("logs/old.txt", "")]


def test_no_second_lifecycle_job_starts_while_one_is_unfinished(logs):
    assert jobs.start_lifecycle_job(logs, timezone.now(), workers=0) is not None
    assert jobs.start_lifecycle_jobs(workers=0) == []


def test_nothing_to_expire_starts_no_job(logs):
    assert jobs.start_lifecycle_job(logs, timezone.now() - datetime.timedelta(days=2), workers=0) is None


def test_an_object_overwritten_after_the_job_listed_it_is_kept(logs):
    job = jobs.start_lifecycle_job(logs, timezone.now(), workers=0)
    put(logs, "logs/old.txt", 0)
    jobs.run_job(str(job.job_id))
    job.refresh_from_db()
    assert (job.status, job.done, job.skipped) == (JobStatus.SUCCEEDED, 0, 1)
    assert job.items.get().state == JobItemState.SKIPPED
    assert service.get_object(logs, "logs/old.txt").size_bytes == 4


def test_a_disabled_rule_expires_nothing(logs):
    lifecycle.set_bucket_lifecycle(logs, [{**THIRTY_DAYS, "enabled": False}])
    assert jobs.start_lifecycle_jobs(workers=0) == []
