"""Object tags are row metadata: an encryption job's re-wrap and a master-key rotation keep them, and an SSE-C
upload keeps its key MD5 only sealed, until Complete echoes it."""

import io

import pytest

from buckets import jobs, multipart, rotation, service, sse
from buckets.models import MultipartUpload, SseMode, StoredObject
from tests.factories import BucketFactory

pytestmark = pytest.mark.django_db

TAGS = {"team": "kinko", "stage": "prod"}


def put_tagged(bucket, key: str, mode: str = SseMode.NONE) -> StoredObject:
    write = service.WriteRequest(
        attributes=service.ObjectAttributes(tags=TAGS),
        sse_request=sse.SseRequest(mode) if mode else None,
        via_api=False,
    )
    return service.put_object(bucket, key, io.BytesIO(b"tagged"), 6, write).obj


def test_an_encryption_job_rewrap_keeps_the_object_tags():
    bucket = BucketFactory()
    put_tagged(bucket, "k")
    state, _, _ = jobs.reencrypt_object(bucket, "k", sse.SseRequest(SseMode.COS))
    assert state == "done"
    obj = StoredObject.objects.get(bucket=bucket, key="k")
    assert (obj.sse, obj.tags) == (SseMode.COS, TAGS)


def test_a_master_key_rotation_keeps_the_object_tags():
    bucket = BucketFactory()
    put_tagged(bucket, "k", SseMode.COS)
    assert rotation.rotate_master_key().rewrapped == 1
    assert StoredObject.objects.get(bucket=bucket, key="k").tags == TAGS


def test_an_sse_c_upload_keeps_its_key_md5_sealed_until_complete():
    bucket = BucketFactory()
    key = sse.CustomerKey(b"k" * 32, "bWQ1LW9mLXRoZS1rZXk=")
    write = service.WriteRequest(sse_request=sse.SseRequest(SseMode.CUSTOMER, customer_key=key), via_api=False)
    upload, _ = multipart.create_multipart_upload(bucket, "mp", bucket.owner, write)
    stored = MultipartUpload.objects.get(pk=upload.pk)
    assert key.key_md5_b64.encode() not in bytes(stored.ssec_key_md5_sealed)
    assert multipart.completion_echo(stored)[sse.CUSTOMER + "key-MD5"] == key.key_md5_b64
