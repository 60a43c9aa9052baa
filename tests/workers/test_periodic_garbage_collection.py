"""The periodic garbage collection runs on a real worker and frees stale uploads without touching objects."""

import time

import pytest
from qcloud_cos.cos_exception import CosServiceError


def wait_for(condition, timeout: float = 30.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.2)
    return False


def test_collect_garbage_task_aborts_stale_uploads_and_keeps_objects(start_worker, cos, bucket):
    cos.put_object(Bucket=bucket, Key="kept.txt", Body=b"still here")
    upload_id = cos.create_multipart_upload(Bucket=bucket, Key="stale.bin")["UploadId"]
    cos.upload_part(Bucket=bucket, Key="stale.bin", Body=b"x" * 1024, PartNumber=1, UploadId=upload_id)
    worker = start_worker(KINKO_MULTIPART_EXPIRY_DAYS="0")

    worker.send("buckets.tasks.collect_garbage")

    def upload_gone() -> bool:
        return "Upload" not in cos.list_multipart_uploads(Bucket=bucket)

    assert wait_for(upload_gone), worker.log()
    with pytest.raises(CosServiceError) as refused:
        cos.upload_part(Bucket=bucket, Key="stale.bin", Body=b"y", PartNumber=2, UploadId=upload_id)
    assert refused.value.get_error_code() == "NoSuchUpload"
    assert cos.get_object(Bucket=bucket, Key="kept.txt")["Body"].get_raw_stream().read() == b"still here"
