"""SSE-COS master-key rotation in-process (buckets/rotation.py): every data key the service master key wraps is
re-wrapped to the new version, blob files stay untouched, and old versions are retired only when safe."""

import datetime
import io
import os
from pathlib import Path

import pytest
from django.utils import timezone

from buckets import multipart, rotation, service, sse
from buckets.models import ObjectSegment, Part, SseMode, StoredObject
from keys import master
from keys.models import ServiceMasterKey
from tests.factories import BucketFactory

pytestmark = pytest.mark.django_db

MiB = 1024 * 1024
SSE_C_KEY = sse.CustomerKey(b"k" * 32, "not-checked-here")


@pytest.fixture(autouse=True)
def _fresh_master_cache():
    """Master versions are numbered from 1 in every test database; forget material cached by an earlier test."""
    master.material.cache_clear()
    yield
    master.material.cache_clear()


@pytest.fixture
def bucket():
    return BucketFactory()


def write(mode: str = SseMode.NONE) -> service.WriteRequest:
    request = None
    if mode == SseMode.COS:
        request = sse.SseRequest(SseMode.COS)
    elif mode == SseMode.CUSTOMER:
        request = sse.SseRequest(SseMode.CUSTOMER, customer_key=SSE_C_KEY)
    return service.WriteRequest(sse_request=request, via_api=False)


def put(bucket, key: str, data: bytes, mode: str = SseMode.NONE) -> StoredObject:
    return service.put_object(bucket, key, io.BytesIO(data), len(data), write(mode)).obj


def start_upload(bucket, key: str, mode: str = SseMode.NONE):
    upload, _ = multipart.create_multipart_upload(bucket, key, bucket.owner, write(mode))
    return upload


def send_part(upload, number: int, data: bytes) -> Part:
    part, _ = multipart.upload_part(upload, number, io.BytesIO(data), len(data), multipart.PartWrite(via_api=False))
    return part


def put_multipart(bucket, key: str, first: bytes, second: bytes, mode: str = SseMode.NONE) -> StoredObject:
    upload = start_upload(bucket, key, mode)
    parts = [send_part(upload, 1, first), send_part(upload, 2, second)]
    return multipart.complete_multipart_upload(upload, [(part.number, part.etag) for part in parts])


def read(bucket, key: str, customer_key: sse.CustomerKey | None = None) -> bytes:
    got = service.read_object(bucket, key, {}, want_body=True, customer_key=customer_key, via_api=False)
    return b"".join(got.body)


def blob_snapshot(root: Path) -> dict[Path, tuple[bytes, int]]:
    """Every committed blob file with its bytes and modification time."""
    return {path: (path.read_bytes(), path.stat().st_mtime_ns) for path in root.rglob("*") if path.is_file()}


@pytest.fixture
def root(settings) -> Path:
    return Path(settings.STORAGE_ROOT)


@pytest.fixture
def populated(bucket):
    """A plain object, an SSE-COS object, a multipart object and an upload in progress, all under version 1."""
    first = os.urandom(MiB)
    objects = {
        "plain": (put(bucket, "plain.bin", b"plain bytes"), b"plain bytes"),
        "sse-cos": (put(bucket, "cos.bin", b"sse-cos bytes", SseMode.COS), b"sse-cos bytes"),
        "multipart": (put_multipart(bucket, "mp.bin", first, b"tail"), first + b"tail"),
    }
    upload = start_upload(bucket, "pending.bin", SseMode.COS)
    part = send_part(upload, 1, b"pending part")
    return objects, upload, part


# -- re-wrapping ----------------------------------------------------------------------------------------------


def test_data_keys_start_under_the_first_version(populated):
    assert set(StoredObject.objects.exclude(kek_version=None).values_list("kek_version", flat=True)) == {1}


def test_rotation_adds_a_new_version(populated):
    assert rotation.rotate_master_key().version == 2


def test_rotation_rewraps_a_plain_objects_key_to_the_new_version(populated):
    objects, _, _ = populated
    version = rotation.rotate_master_key().version
    assert StoredObject.objects.get(pk=objects["plain"][0].pk).kek_version == version


def test_rotation_rewraps_an_sse_cos_objects_key_to_the_new_version(populated):
    objects, _, _ = populated
    version = rotation.rotate_master_key().version
    assert StoredObject.objects.get(pk=objects["sse-cos"][0].pk).kek_version == version


def test_rotation_rewraps_every_segment_of_a_multipart_object(populated):
    objects, _, _ = populated
    version = rotation.rotate_master_key().version
    assert list(ObjectSegment.objects.filter(obj=objects["multipart"][0]).values_list("kek_version", flat=True)) == [
        version,
        version,
    ]


def test_rotation_rewraps_the_parts_of_an_upload_in_progress(populated):
    _, _, part = populated
    version = rotation.rotate_master_key().version
    assert Part.objects.get(pk=part.pk).kek_version == version


def test_rotation_replaces_the_wrapped_keys(populated):
    objects, _, _ = populated
    before = bytes(objects["plain"][0].wrapped_key)
    rotation.rotate_master_key()
    assert bytes(StoredObject.objects.get(pk=objects["plain"][0].pk).wrapped_key) != before


def test_rotation_counts_every_data_key_it_rewrapped(populated):
    # plain + SSE-COS objects, two multipart segments, one part in progress
    assert rotation.rotate_master_key().rewrapped == 5


def test_after_rotation_no_data_key_names_the_old_version(populated):
    rotation.rotate_master_key()
    names_old = [model.objects.filter(kek_version=1).count() for model in (StoredObject, ObjectSegment, Part)]
    assert names_old == [0, 0, 0]


def test_rotation_does_not_touch_blob_files(populated, root):
    before = blob_snapshot(root)
    rotation.rotate_master_key()
    assert blob_snapshot(root) == before


def test_rotation_leaves_sse_c_objects_alone(bucket):
    obj = put(bucket, "ssec.bin", b"customer bytes", SseMode.CUSTOMER)
    rotation.rotate_master_key()
    stored = StoredObject.objects.get(pk=obj.pk)
    assert (stored.kek_version, bytes(stored.wrapped_key)) == (None, bytes(obj.wrapped_key))


@pytest.mark.parametrize("name", ["plain", "sse-cos", "multipart"])
def test_objects_read_back_after_rotation(bucket, populated, name):
    objects, _, _ = populated
    rotation.rotate_master_key()
    assert read(bucket, objects[name][0].key) == objects[name][1]


def test_objects_read_back_after_two_rotations(bucket, populated):
    objects, _, _ = populated
    rotation.rotate_master_key()
    rotation.rotate_master_key()
    assert read(bucket, "mp.bin") == objects["multipart"][1]


def test_an_upload_in_progress_completes_and_reads_after_rotation(bucket, populated):
    _, upload, part = populated
    rotation.rotate_master_key()
    multipart.complete_multipart_upload(upload, [(1, part.etag)])
    assert read(bucket, "pending.bin") == b"pending part"


def test_a_part_uploaded_after_rotation_is_wrapped_under_the_new_version(populated):
    _, upload, _ = populated
    version = rotation.rotate_master_key().version
    assert send_part(upload, 2, b"late part").kek_version == version


def test_an_sse_c_object_reads_back_after_rotation(bucket):
    put(bucket, "ssec.bin", b"customer bytes", SseMode.CUSTOMER)
    rotation.rotate_master_key()
    assert read(bucket, "ssec.bin", SSE_C_KEY) == b"customer bytes"


# -- retiring versions ------------------------------------------------------------------------------------------


def live_versions() -> list[int]:
    return list(ServiceMasterKey.objects.filter(retired_at=None).values_list("version", flat=True))


def test_rotation_retires_nothing_superseded_just_now(populated):
    assert rotation.rotate_master_key().retired == []


def test_a_version_superseded_less_than_an_hour_ago_is_not_retired(populated):
    rotation.rotate_master_key()
    assert rotation.retire_unused_versions(now=timezone.now() + datetime.timedelta(minutes=50)) == []


def test_a_version_superseded_less_than_an_hour_ago_stays_live(populated):
    rotation.rotate_master_key()
    rotation.retire_unused_versions(now=timezone.now() + datetime.timedelta(minutes=50))
    assert live_versions() == [1, 2]


def test_an_unused_version_superseded_over_an_hour_ago_is_retired(populated):
    rotation.rotate_master_key()
    assert rotation.retire_unused_versions(now=timezone.now() + datetime.timedelta(minutes=70)) == [1]


def test_a_retired_versions_material_is_destroyed(populated):
    rotation.rotate_master_key()
    rotation.retire_unused_versions(now=timezone.now() + datetime.timedelta(minutes=70))
    assert bytes(ServiceMasterKey.objects.get(version=1).material_sealed) == b""


def test_a_retired_version_can_no_longer_unwrap(populated):
    rotation.rotate_master_key()
    rotation.retire_unused_versions(now=timezone.now() + datetime.timedelta(minutes=70))
    with pytest.raises(LookupError):
        master.material(1)


def test_objects_read_back_after_the_old_version_is_retired(bucket, populated):
    objects, _, _ = populated
    rotation.rotate_master_key()
    rotation.retire_unused_versions(now=timezone.now() + datetime.timedelta(minutes=70))
    assert read(bucket, "mp.bin") == objects["multipart"][1]


def test_a_version_still_named_by_an_object_is_never_retired(bucket):
    put(bucket, "old.bin", b"wrapped under v1")
    master.add_version()
    assert rotation.retire_unused_versions(now=timezone.now() + datetime.timedelta(days=30)) == []


def test_a_version_still_named_by_a_multipart_segment_is_never_retired(bucket):
    put_multipart(bucket, "old.bin", os.urandom(MiB), b"tail")
    master.add_version()
    assert rotation.retire_unused_versions(now=timezone.now() + datetime.timedelta(days=30)) == []


def test_a_version_still_named_by_a_part_in_progress_is_never_retired(bucket):
    send_part(start_upload(bucket, "pending.bin"), 1, b"pending part")
    master.add_version()
    assert rotation.retire_unused_versions(now=timezone.now() + datetime.timedelta(days=30)) == []


def test_an_object_under_a_version_that_was_not_retired_still_reads(bucket):
    put(bucket, "old.bin", b"wrapped under v1")
    master.add_version()
    rotation.retire_unused_versions(now=timezone.now() + datetime.timedelta(days=30))
    assert read(bucket, "old.bin") == b"wrapped under v1"


def test_the_newest_version_is_never_retired(populated):
    rotation.rotate_master_key()
    rotation.retire_unused_versions(now=timezone.now() + datetime.timedelta(days=30))
    assert live_versions() == [2]


def test_new_objects_after_retirement_wrap_under_the_newest_version(bucket, populated):
    rotation.rotate_master_key()
    rotation.retire_unused_versions(now=timezone.now() + datetime.timedelta(minutes=70))
    assert put(bucket, "new.bin", b"fresh").kek_version == 2
