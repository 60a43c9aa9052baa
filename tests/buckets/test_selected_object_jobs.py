"""Jobs over a chosen set of objects (buckets/jobs.py): "Set encryption" on one object or a selection touches only
those objects, and "delete folder" removes everything under a prefix as a job, counted like any other."""

import io

import pytest

from buckets import errors, jobs, service
from buckets.models import JobStatus, SseMode, StoredObject
from tests.factories import BucketFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def ten(settings):
    bucket = BucketFactory()
    for n in range(10):
        data = f"object {n}".encode()
        service.put_object(bucket, f"ten/{n}.txt", io.BytesIO(data), len(data), service.WriteRequest(via_api=False))
    return bucket


def modes(bucket) -> dict[str, str]:
    return dict(StoredObject.objects.filter(bucket=bucket).values_list("key", "sse"))


def test_start_encryption_job_with_keys_lists_only_those_keys(ten):
    chosen = ["ten/1.txt", "ten/3.txt", "ten/5.txt", "ten/7.txt"]
    job = jobs.start_encryption_job(ten, "", SseMode.COS, None, requester="tests", workers=0, keys=chosen)
    assert sorted(job.items.values_list("key", flat=True)) == chosen
    assert job.total == 4


def test_an_encryption_job_on_four_of_ten_objects_changes_only_those_four(ten):
    chosen = ["ten/0.txt", "ten/2.txt", "ten/4.txt", "ten/6.txt"]
    job = jobs.start_encryption_job(ten, "", SseMode.COS, None, requester="tests", workers=0, keys=chosen)
    jobs.run_job(str(job.job_id))
    after = modes(ten)
    assert {k for k, mode in after.items() if mode == SseMode.COS} == set(chosen)
    assert {k for k, mode in after.items() if mode == SseMode.NONE} == set(after) - set(chosen)


def test_an_encryption_job_on_one_object_records_it_in_its_params(ten):
    job = jobs.start_encryption_job(ten, "", SseMode.COS, None, requester="tests", workers=0, keys=["ten/9.txt"])
    assert job.params["keys"] == ["ten/9.txt"]
    assert job.total == 1


def test_an_encryption_job_on_a_missing_key_skips_it(ten):
    job = jobs.start_encryption_job(ten, "", SseMode.COS, None, requester="tests", workers=0, keys=["ten/nope"])
    jobs.run_job(str(job.job_id))
    job.refresh_from_db()
    assert (job.total, job.skipped, job.status) == (1, 1, JobStatus.SUCCEEDED)
    assert set(modes(ten).values()) == {SseMode.NONE}


def test_an_encryption_job_names_each_key_once(ten):
    job = jobs.start_encryption_job(
        ten, "", SseMode.COS, None, requester="tests", workers=0, keys=["ten/1.txt", "ten/1.txt"]
    )
    assert job.total == 1


def test_start_encryption_job_with_an_empty_selection_is_refused(ten):
    with pytest.raises(errors.InvalidArgument):
        jobs.start_encryption_job(ten, "", SseMode.COS, None, requester="tests", workers=0, keys=[])


# -- deleting a folder ------------------------------------------------------------------------------------------


@pytest.fixture
def folders(ten):
    for key in ("ten/", "ten/deeper/x.txt", "tenant.txt", "other/ten/y.txt"):
        service.put_object(ten, key, io.BytesIO(b"x"), 1, service.WriteRequest(via_api=False))
    return ten


def test_a_delete_prefix_job_deletes_the_folder_its_marker_and_everything_below(folders):
    job = jobs.start_delete_prefix_job(folders, "ten/", requester="tests", workers=0)
    assert job.total == 12
    jobs.run_job(str(job.job_id))
    job.refresh_from_db()
    assert (job.status, job.done) == (JobStatus.SUCCEEDED, 12)
    assert set(modes(folders)) == {"tenant.txt", "other/ten/y.txt"}


def test_a_delete_prefix_job_counts_the_bytes_it_deleted(folders):
    job = jobs.start_delete_prefix_job(folders, "ten/deeper/", requester="tests", workers=0)
    jobs.run_job(str(job.job_id))
    job.refresh_from_db()
    assert (job.kind, job.bytes_processed) == (jobs.DELETE_OBJECTS, 1)


def test_a_delete_prefix_job_skips_an_object_deleted_meanwhile(folders):
    job = jobs.start_delete_prefix_job(folders, "ten/deeper/", requester="tests", workers=0)
    service.delete_object(folders, "ten/deeper/x.txt")
    jobs.run_job(str(job.job_id))
    job.refresh_from_db()
    assert (job.skipped, job.status) == (1, JobStatus.SUCCEEDED)


def test_a_delete_prefix_job_without_a_prefix_is_refused(folders):
    with pytest.raises(errors.InvalidArgument):
        jobs.start_delete_prefix_job(folders, "", requester="tests", workers=0)
    assert len(modes(folders)) == 14
