"""The periodic lifecycle task on a real worker: the job it starts deletes expired objects and aborts a stale upload;
in a versioned bucket it deletes noncurrent versions for good and gives an expired current object a delete marker."""

import pytest
from qcloud_cos.cos_exception import CosServiceError

from tests.protocol.support import age_rows, manage
from tests.workers.support import wait_for

RULES = [
    {"ID": "dated", "Filter": {"Prefix": "old/"}, "Status": "Enabled", "Expiration": {"Date": "2020-01-01T00:00:00Z"}},
    {
        "ID": "uploads",
        "Filter": {"Prefix": ""},
        "Status": "Enabled",
        "AbortIncompleteMultipartUpload": {"DaysAfterInitiation": "1"},
    },
]


def test_apply_lifecycle_task_expires_objects_and_aborts_uploads_on_a_worker(start_worker, kinko, cos, bucket):
    cos.put_object(Bucket=bucket, Key="old/expired.txt", Body=b"expired", ServerSideEncryption="AES256")
    cos.put_object(Bucket=bucket, Key="new/kept.txt", Body=b"still here")
    upload_id = cos.create_multipart_upload(Bucket=bucket, Key="stale.bin")["UploadId"]
    cos.upload_part(Bucket=bucket, Key="stale.bin", Body=b"x" * 1024, PartNumber=1, UploadId=upload_id)
    age_rows(kinko, bucket, "MultipartUpload", "initiated_at", ["stale.bin"], 2)
    cos.put_bucket_lifecycle(Bucket=bucket, LifecycleConfiguration={"Rule": RULES})
    worker = start_worker()
    try:
        worker.send("buckets.tasks.apply_lifecycle")

        def done() -> bool:
            uploads = cos.list_multipart_uploads(Bucket=bucket).get("Upload")
            return not uploads and [o["Key"] for o in cos.list_objects(Bucket=bucket).get("Contents", [])] == [
                "new/kept.txt"
            ]

        assert wait_for(done), worker.log()
    finally:
        cos.delete_bucket_lifecycle(Bucket=bucket)
    with pytest.raises(CosServiceError) as refused:
        cos.head_object(Bucket=bucket, Key="old/expired.txt")
    assert refused.value.get_status_code() == 404
    assert cos.get_object(Bucket=bucket, Key="new/kept.txt")["Body"].get_raw_stream().read() == b"still here"


def test_noncurrent_versions_expire_on_a_worker_and_an_expired_current_object_gets_a_delete_marker(
    start_worker, kinko, cos, bucket
):
    cos.put_bucket_versioning(Bucket=bucket, Status="Enabled")
    old = cos.put_object(Bucket=bucket, Key="doc.txt", Body=b"old", ServerSideEncryption="AES256")["x-cos-version-id"]
    new = cos.put_object(Bucket=bucket, Key="doc.txt", Body=b"new")["x-cos-version-id"]
    dated = cos.put_object(Bucket=bucket, Key="old/dated.txt", Body=b"dated")["x-cos-version-id"]
    script = (
        "import datetime; from django.utils import timezone; from buckets.models import StoredObject; "
        f"StoredObject.versions.filter(bucket__name={bucket!r}, version_id={old!r})"
        ".update(noncurrent_since=timezone.now() - datetime.timedelta(days=2))"
    )
    manage(kinko, "shell", "-c", script)
    rules = [
        {
            "ID": "old",
            "Filter": {"Prefix": ""},
            "Status": "Enabled",
            "NoncurrentVersionExpiration": {"NoncurrentDays": "1"},
        },
        RULES[0],
    ]
    cos.put_bucket_lifecycle(Bucket=bucket, LifecycleConfiguration={"Rule": rules})
    worker = start_worker()

    def versions() -> list[tuple[str, str, str]]:
        listing = cos.list_objects_versions(Bucket=bucket)
        found = [("version", v["Key"], v["VersionId"]) for v in listing.get("Version", [])]
        return sorted(found + [("marker", m["Key"], "") for m in listing.get("DeleteMarker", [])])

    try:
        worker.send("buckets.tasks.apply_lifecycle")
        expected = sorted(
            [("version", "doc.txt", new), ("version", "old/dated.txt", dated), ("marker", "old/dated.txt", "")]
        )
        assert wait_for(lambda: versions() == expected), (versions(), worker.log())
    finally:
        cos.delete_bucket_lifecycle(Bucket=bucket)
        listing = cos.list_objects_versions(Bucket=bucket)
        for entry in [*listing.get("Version", []), *listing.get("DeleteMarker", [])]:
            cos.delete_object(Bucket=bucket, Key=entry["Key"], VersionId=entry["VersionId"])
