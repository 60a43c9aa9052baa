"""Bucket versioning through the JSON API against the live server: the state as PUT/GET Bucket versioning, a key's
versions listed newest first, one downloaded, restored (a new version with the old one's SSE) and deleted for good,
each confirmed through the COS SDK; the domain's refusals as JSON errors."""

import pytest

from tests.console.jsonapi_support import failure, new_bucket, ok, put_object, unique
from tests.protocol.support import body_of


@pytest.fixture
def bucket(api, cos) -> str:
    """A new bucket with versioning enabled; every version and marker deleted afterwards."""
    name = new_bucket(api)
    ok(api.put(f"/buckets/{name}/versioning/", json={"status": "Enabled"}))
    yield name
    listing = cos.list_objects_versions(Bucket=name)
    entries = [*listing.get("Version", []), *listing.get("DeleteMarker", [])]
    for entry in entries:
        cos.delete_object(Bucket=name, Key=entry["Key"], VersionId=entry["VersionId"])
    cos.delete_bucket(Bucket=name)


@pytest.fixture
def service_role(api) -> None:
    """COS_QcsRole, which an SSE-KMS read through the COS API needs."""
    ok(api.post("/cam/cos-service-role/"))


def versions_of(api, bucket: str, key: str) -> list[dict]:
    return ok(api.get(f"/buckets/{bucket}/versions/{key}"))["results"]


def test_a_new_bucket_is_never_versioned_and_versioning_set_through_the_api_is_what_cos_answers(api, cos):
    name = new_bucket(api)
    try:
        assert ok(api.get(f"/buckets/{name}/versioning/")) == {"status": None}
        assert ok(api.put(f"/buckets/{name}/versioning/", json={"status": "Suspended"})) == {"status": "Suspended"}
        assert cos.get_bucket_versioning(Bucket=name) == {"Status": "Suspended"}
    finally:
        cos.delete_bucket(Bucket=name)


def test_versioning_cannot_be_switched_off_once_set(api, bucket):
    response = api.put(f"/buckets/{bucket}/versioning/", json={"status": None})
    assert failure(response)[0] == 400
    assert ok(api.get(f"/buckets/{bucket}/versioning/")) == {"status": "Enabled"}


def test_versions_of_a_key_are_listed_newest_first_with_their_own_sse(api, cos, bucket, default_keys):
    first = put_object(api, bucket, "doc.txt", b"first", sse="AES256")
    second = put_object(api, bucket, "doc.txt", b"second", sse="cos/kms")
    rows = versions_of(api, bucket, "doc.txt")
    assert [(r["version_id"], r["is_latest"], r["sse"], r["size"]) for r in rows] == [
        (second["version_id"], True, "cos/kms", 6),
        (first["version_id"], False, "AES256", 5),
    ]
    assert first["version_id"] != second["version_id"] and "null" not in (first["version_id"], second["version_id"])


def test_an_older_version_is_downloaded_by_its_id(api, bucket):
    first = put_object(api, bucket, "doc.txt", b"first")
    put_object(api, bucket, "doc.txt", b"second")
    got = api.get(f"/buckets/{bucket}/versions/doc.txt", params={"version_id": first["version_id"], "download": 1})
    assert (got.status_code, got.content) == (200, b"first")


def test_restoring_a_version_makes_a_new_current_version_with_its_bytes_and_sse(
    api, cos, bucket, default_keys, service_role
):
    first = put_object(api, bucket, "doc.txt", b"first", sse="cos/kms")
    put_object(api, bucket, "doc.txt", b"second", sse="AES256")
    restored = api.post(f"/buckets/{bucket}/versions/doc.txt", json={"version_id": first["version_id"]})
    assert restored.status_code == 201
    body = restored.json()
    assert body["sse"] == "cos/kms" and body["version_id"] not in ("null", first["version_id"])
    current = cos.get_object(Bucket=bucket, Key="doc.txt")
    assert (body_of(current), current["x-cos-server-side-encryption"]) == (b"first", "cos/kms")
    assert len(versions_of(api, bucket, "doc.txt")) == 3  # restoring keeps every version


def test_a_deleted_object_is_brought_back_by_restoring_its_last_version(api, cos, bucket):
    first = put_object(api, bucket, "gone.txt", b"kept")
    assert api.delete(f"/buckets/{bucket}/objects/gone.txt").status_code == 204
    rows = versions_of(api, bucket, "gone.txt")
    assert [(r["delete_marker"], r["is_latest"]) for r in rows] == [(True, True), (False, False)]
    ok(api.post(f"/buckets/{bucket}/versions/gone.txt", json={"version_id": first["version_id"]}))
    assert body_of(cos.get_object(Bucket=bucket, Key="gone.txt")) == b"kept"


def test_deleting_a_version_for_good_leaves_the_others(api, cos, bucket):
    first = put_object(api, bucket, "doc.txt", b"first")
    second = put_object(api, bucket, "doc.txt", b"second")
    response = api.delete(f"/buckets/{bucket}/versions/doc.txt", params={"version_id": second["version_id"]})
    assert response.status_code == 204
    assert [r["version_id"] for r in versions_of(api, bucket, "doc.txt")] == [first["version_id"]]
    assert body_of(cos.get_object(Bucket=bucket, Key="doc.txt")) == b"first"  # the older one is current again


def test_restoring_the_current_version_or_a_missing_one_is_refused(api, bucket):
    current = put_object(api, bucket, "doc.txt", b"only")
    path = f"/buckets/{bucket}/versions/doc.txt"
    assert failure(api.post(path, json={"version_id": current["version_id"]})) == (400, "InvalidRequest")
    assert failure(api.post(path, json={"version_id": "AAAAAAAAAAAAAAAAAAAAAAAA"})) == (404, "NoSuchVersion")
    assert failure(api.post(path, json={"version_id": "not a version"}))[0] == 400


def test_a_download_without_a_version_is_refused_naming_the_parameter(api, bucket):
    put_object(api, bucket, "doc.txt", b"only")
    assert failure(api.get(f"/buckets/{bucket}/versions/doc.txt", params={"download": 1}))[0] == 400


def test_the_key_impact_counts_the_older_versions_under_a_key(api, bucket, default_keys):
    key_id = ok(api.post("/kms/keys/", json={"alias": unique("v")}))["key_id"]
    put_object(api, bucket, "doc.txt", b"1" * 10, sse="cos/kms", kms_key_id=key_id)
    put_object(api, bucket, "doc.txt", b"2" * 20, sse="cos/kms", kms_key_id=key_id)
    body = ok(api.get(f"/kms/keys/{key_id}/impact/"))
    assert (body["objects"], body["versions"], body["bytes"]) == (1, 2, 30)
