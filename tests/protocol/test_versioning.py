"""Bucket versioning over the real SDK against the live server (COS / S3 semantics): ?versioning states and
refusals, one version per write (PUT, POST, copy, Complete) each with its own SSE, delete markers, deleting a
version by id, NoSuchVersion and MethodNotAllowed, the Suspended "null" version, GET ?versions ordering, paging
and delimiters, Multi-Object Delete of versions, copying an old version, and BucketNotEmpty while versions remain."""

import base64
import hashlib
import os
import xml.etree.ElementTree as ET  # noqa: S405 - parses the test server's own responses

import pytest
from qcloud_cos import CosServiceError

from tests.live import REGION, manage_py, node_env
from tests.protocol import wire
from tests.protocol.support import body_of, empty_and_delete, new_bucket, service_error
from tests.protocol.test_post_object import signed_post

ENSURE_COS_ROLE = "from roles import service; service.ensure_cos_service_role(service.root_account())"
VERSION_ID = "x-cos-version-id"
DELETE_MARKER = "x-cos-delete-marker"
SSE = "x-cos-server-side-encryption"
CUSTOMER_ALGORITHM = "x-cos-server-side-encryption-customer-algorithm"
SSE_C_KEY = hashlib.sha256(b"kinko versioning customer key").digest()
SSE_C = {
    "SSECustomerAlgorithm": "AES256",
    "SSECustomerKey": base64.b64encode(SSE_C_KEY).decode(),
    "SSECustomerKeyMD5": base64.b64encode(hashlib.md5(SSE_C_KEY).digest()).decode(),
}
COPY_SOURCE_SSE_C = {"CopySource" + name: value for name, value in SSE_C.items()}
NS = "{http://s3.amazonaws.com/doc/2006-03-01/}"


# -- fixtures and helpers ------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def kms_ready(kinko) -> None:
    """SSE-KMS on the session server: the KMS activated and COS_QcsRole present (both idempotent)."""
    env = node_env(kinko.data_dir)
    manage_py(env, "activate_kms", "--json")
    manage_py(env, "shell", "-c", ENSURE_COS_ROLE)


def purge(cos, bucket: str) -> None:
    """Delete every version and delete marker of the bucket, then the bucket (gone already is fine)."""
    try:
        for _ in range(50):
            listing = cos.list_objects_versions(Bucket=bucket, MaxKeys=1000)
            entries = listing.get("Version", []) + listing.get("DeleteMarker", [])
            if not entries:
                break
            objects = [{"Key": entry["Key"], "VersionId": entry["VersionId"]} for entry in entries]
            cos.delete_objects(Bucket=bucket, Delete={"Quiet": "true", "Object": objects})
        empty_and_delete(cos, bucket)
    except CosServiceError as err:
        if err.get_error_code() != "NoSuchBucket":
            raise


@pytest.fixture
def versioned(cos) -> str:
    """A fresh bucket with versioning Enabled; all its versions, markers and the bucket are deleted afterwards."""
    name = new_bucket(cos)
    try:
        cos.put_bucket_versioning(Bucket=name, Status="Enabled")
        yield name
    finally:
        purge(cos, name)


def header(response: dict, name: str) -> str | None:
    """A response header by name, whatever spelling the server used."""
    return {key.lower(): value for key, value in response.items() if isinstance(value, str)}.get(name.lower())


def put(cos, bucket: str, key: str, body: bytes, **kwargs) -> str:
    """PUT Object; the version id it answered with."""
    version = header(cos.put_object(Bucket=bucket, Key=key, Body=body, **kwargs), VERSION_ID)
    assert version, f"PUT {key} on a versioned bucket answered no {VERSION_ID}"
    return version


def read(cos, bucket: str, key: str, version: str | None = None, **kwargs) -> bytes:
    if version is not None:
        kwargs["VersionId"] = version
    return body_of(cos.get_object(Bucket=bucket, Key=key, **kwargs))


def refusal(call, *args, **kwargs) -> tuple[int, str]:
    with pytest.raises(CosServiceError) as err:
        call(*args, **kwargs)
    return service_error(err.value)


def status_of(call, *args, **kwargs) -> int:
    """The HTTP status of a refused call (HEAD answers carry no error body)."""
    with pytest.raises(CosServiceError) as err:
        call(*args, **kwargs)
    return err.value.get_status_code()


def listed(cos, bucket: str, prefix: str = "") -> list[tuple[str, str, str, str]]:
    """Every (kind, key, version id, IsLatest) of GET ?versions over all pages, via the SDK."""
    found, key_marker, version_marker = [], "", ""
    for _ in range(100):
        page = cos.list_objects_versions(
            Bucket=bucket, Prefix=prefix, KeyMarker=key_marker, VersionIdMarker=version_marker, MaxKeys=1000
        )
        found += [("Version", v["Key"], v["VersionId"], v["IsLatest"]) for v in page.get("Version", [])]
        found += [("DeleteMarker", m["Key"], m["VersionId"], m["IsLatest"]) for m in page.get("DeleteMarker", [])]
        if page.get("IsTruncated") != "true":
            return found
        key_marker, version_marker = page["NextKeyMarker"], page.get("NextVersionIdMarker", "")
    raise AssertionError("GET ?versions never stopped being truncated")


def raw_versions(kinko, cos, bucket: str, **params: str) -> ET.Element:
    """GET ?versions as the raw XML document (the SDK splits Version and DeleteMarker apart; this keeps order)."""
    response = wire.send(kinko, cos, "GET", bucket, params={"versions": "", **params})
    assert response.status_code == 200, response.content
    return ET.fromstring(response.content)  # noqa: S314 - the test server's own response


def local(element: ET.Element) -> str:
    return element.tag.removeprefix(NS)


def child(element: ET.Element, name: str) -> str | None:
    found = element.find(name)
    if found is None:
        found = element.find(NS + name)
    return None if found is None else found.text


def entries_in_order(root: ET.Element) -> list[tuple[str, str, str, str]]:
    """(kind, key, version id, IsLatest) of each Version and DeleteMarker, in document order."""
    return [
        (local(item), child(item, "Key"), child(item, "VersionId"), child(item, "IsLatest"))
        for item in root
        if local(item) in ("Version", "DeleteMarker")
    ]


# -- the ?versioning subresource ---------------------------------------------------------------------------


def test_a_never_versioned_bucket_reports_no_versioning_status(cos, bucket):
    assert "Status" not in cos.get_bucket_versioning(Bucket=bucket)


def test_versioning_status_moves_between_enabled_and_suspended(cos, bucket):
    """Enabled and Suspended read back as set; once enabled, a bucket never reads as unversioned again."""
    try:
        cos.put_bucket_versioning(Bucket=bucket, Status="Enabled")
        assert cos.get_bucket_versioning(Bucket=bucket).get("Status") == "Enabled"
        cos.put_bucket_versioning(Bucket=bucket, Status="Suspended")
        assert cos.get_bucket_versioning(Bucket=bucket).get("Status") == "Suspended"
        cos.put_bucket_versioning(Bucket=bucket, Status="Enabled")
        assert cos.get_bucket_versioning(Bucket=bucket).get("Status") == "Enabled"
    finally:
        cos.put_bucket_versioning(Bucket=bucket, Status="Suspended")


@pytest.mark.parametrize("status", ["On", "Disabled", "enabled", ""])
def test_a_status_other_than_enabled_or_suspended_is_malformed_xml(kinko, cos, bucket, status):
    """The SDK refuses such a Status client-side, so the document is sent raw; the bucket stays unversioned."""
    document = f"<VersioningConfiguration><Status>{status}</Status></VersioningConfiguration>".encode()
    headers = {"Content-MD5": base64.b64encode(hashlib.md5(document).digest()).decode()}
    response = wire.send(kinko, cos, "PUT", bucket, params={"versioning": ""}, headers=headers, data=document)
    assert response.status_code == 400, response.content
    assert wire.error_code(response.content) == "MalformedXML"
    assert "Status" not in cos.get_bucket_versioning(Bucket=bucket)


def test_a_suspended_bucket_cannot_be_put_back_to_unversioned(kinko, cos, versioned):
    """A VersioningConfiguration without Status is no way back: refused, and the state is unchanged."""
    cos.put_bucket_versioning(Bucket=versioned, Status="Suspended")
    document = b"<VersioningConfiguration></VersioningConfiguration>"
    headers = {"Content-MD5": base64.b64encode(hashlib.md5(document).digest()).decode()}
    response = wire.send(kinko, cos, "PUT", versioned, params={"versioning": ""}, headers=headers, data=document)
    assert response.status_code == 400, response.content
    assert wire.error_code(response.content) == "MalformedXML"
    assert cos.get_bucket_versioning(Bucket=versioned).get("Status") == "Suspended"


# -- never versioned -----------------------------------------------------------------------------------------


def test_a_never_versioned_bucket_overwrites_and_lists_one_null_version(cos, bucket):
    first = cos.put_object(Bucket=bucket, Key="k", Body=b"one")
    second = cos.put_object(Bucket=bucket, Key="k", Body=b"two")
    assert header(first, VERSION_ID) is None and header(second, VERSION_ID) is None
    assert header(cos.get_object(Bucket=bucket, Key="k"), VERSION_ID) is None
    assert read(cos, bucket, "k") == b"two"
    assert listed(cos, bucket) == [("Version", "k", "null", "true")]


# -- one version per write -----------------------------------------------------------------------------------


def test_each_put_on_an_enabled_bucket_keeps_the_previous_version_readable(cos, versioned):
    v1 = put(cos, versioned, "doc.txt", b"first")
    v2 = put(cos, versioned, "doc.txt", b"second")
    assert v1 != v2 and "null" not in (v1, v2)
    current = cos.get_object(Bucket=versioned, Key="doc.txt")
    assert header(current, VERSION_ID) == v2
    assert body_of(current) == b"second"
    assert read(cos, versioned, "doc.txt", v1) == b"first"
    assert read(cos, versioned, "doc.txt", v2) == b"second"
    old = cos.head_object(Bucket=versioned, Key="doc.txt", VersionId=v1)
    assert header(old, VERSION_ID) == v1
    assert header(old, "Content-Length") == "5"
    assert listed(cos, versioned) == [("Version", "doc.txt", v2, "true"), ("Version", "doc.txt", v1, "false")]


def test_each_version_keeps_its_own_server_side_encryption(cos, versioned, kms_ready):
    """SSE-COS, then SSE-KMS, then SSE-C on one key: each version by id gives its bytes and echoes its own mode."""
    v_cos = put(cos, versioned, "enc", b"under sse-cos", ServerSideEncryption="AES256")
    v_kms = put(cos, versioned, "enc", b"under sse-kms", ServerSideEncryption="cos/kms")
    v_c = put(cos, versioned, "enc", b"under sse-c", **SSE_C)
    by_cos = cos.get_object(Bucket=versioned, Key="enc", VersionId=v_cos)
    assert header(by_cos, SSE) == "AES256"
    assert body_of(by_cos) == b"under sse-cos"
    by_kms = cos.get_object(Bucket=versioned, Key="enc", VersionId=v_kms)
    assert header(by_kms, SSE) == "cos/kms"
    assert body_of(by_kms) == b"under sse-kms"
    by_c = cos.get_object(Bucket=versioned, Key="enc", VersionId=v_c, **SSE_C)
    assert header(by_c, CUSTOMER_ALGORITHM) == "AES256"
    assert header(by_c, SSE) is None
    assert body_of(by_c) == b"under sse-c"
    assert header(cos.head_object(Bucket=versioned, Key="enc", VersionId=v_kms), SSE) == "cos/kms"
    assert header(cos.head_object(Bucket=versioned, Key="enc", VersionId=v_cos), SSE) == "AES256"


def test_a_sse_c_version_needs_its_key_even_when_older_versions_do_not(cos, versioned):
    v_plain = put(cos, versioned, "c", b"plain first")
    v_c = put(cos, versioned, "c", b"customer second", **SSE_C)
    assert refusal(cos.get_object, Bucket=versioned, Key="c", VersionId=v_c)[0] == 400
    assert status_of(cos.head_object, Bucket=versioned, Key="c", VersionId=v_c) == 400
    assert refusal(cos.get_object, Bucket=versioned, Key="c")[0] == 400
    assert read(cos, versioned, "c", v_plain) == b"plain first"
    assert read(cos, versioned, "c", v_c, **SSE_C) == b"customer second"


def test_post_copy_and_complete_multipart_each_create_a_version(kinko, cos, versioned):
    """Four writes of one key by four paths: four distinct ids, newest first in the listing, each readable."""
    v_put = put(cos, versioned, "multi", b"by put")
    posted = signed_post(kinko, versioned, "multi", data=b"by post")
    assert posted.status_code == 204, posted.content
    v_post = posted.headers.get(VERSION_ID)
    put(cos, versioned, "source", b"by copy")
    copied = cos.copy_object(
        Bucket=versioned, Key="multi", CopySource={"Bucket": versioned, "Key": "source", "Region": REGION}
    )
    v_copy = header(copied, VERSION_ID)
    upload = cos.create_multipart_upload(Bucket=versioned, Key="multi")["UploadId"]
    part = cos.upload_part(Bucket=versioned, Key="multi", Body=b"by multipart", PartNumber=1, UploadId=upload)
    completed = cos.complete_multipart_upload(
        Bucket=versioned,
        Key="multi",
        UploadId=upload,
        MultipartUpload={"Part": [{"PartNumber": 1, "ETag": part["ETag"]}]},
    )
    v_complete = header(completed, VERSION_ID)
    ids = [v_put, v_post, v_copy, v_complete]
    assert None not in ids and "null" not in ids and len(set(ids)) == 4, ids
    expected = {v_put: b"by put", v_post: b"by post", v_copy: b"by copy", v_complete: b"by multipart"}
    assert {version: read(cos, versioned, "multi", version) for version in ids} == expected
    assert [entry[2] for entry in listed(cos, versioned, "multi")] == ids[::-1]
    assert read(cos, versioned, "multi") == b"by multipart"


# -- delete markers and deleting versions --------------------------------------------------------------------


def test_a_delete_without_version_id_adds_a_delete_marker(cos, versioned):
    v1 = put(cos, versioned, "gone.txt", b"still here by id")
    deleted = cos.delete_object(Bucket=versioned, Key="gone.txt")
    assert header(deleted, DELETE_MARKER) == "true"
    marker = header(deleted, VERSION_ID)
    assert marker and marker not in (v1, "null")
    assert refusal(cos.get_object, Bucket=versioned, Key="gone.txt") == (404, "NoSuchKey")
    assert status_of(cos.head_object, Bucket=versioned, Key="gone.txt") == 404
    assert "Contents" not in cos.list_objects(Bucket=versioned)
    assert read(cos, versioned, "gone.txt", v1) == b"still here by id"
    assert listed(cos, versioned) == [
        ("Version", "gone.txt", v1, "false"),
        ("DeleteMarker", "gone.txt", marker, "true"),
    ]


def test_deleting_the_delete_marker_by_id_restores_the_object(cos, versioned):
    v1 = put(cos, versioned, "back.txt", b"restored")
    marker = header(cos.delete_object(Bucket=versioned, Key="back.txt"), VERSION_ID)
    removed = cos.delete_object(Bucket=versioned, Key="back.txt", VersionId=marker)
    assert header(removed, VERSION_ID) == marker
    current = cos.get_object(Bucket=versioned, Key="back.txt")
    assert header(current, VERSION_ID) == v1
    assert body_of(current) == b"restored"
    assert [item["Key"] for item in cos.list_objects(Bucket=versioned)["Contents"]] == ["back.txt"]
    assert listed(cos, versioned) == [("Version", "back.txt", v1, "true")]


def test_deleting_a_delete_marker_by_id_answers_that_it_was_a_marker(cos, versioned):
    """S3/COS: a DELETE that removes a delete marker answers x-cos-delete-marker: true (and the marker's id)."""
    put(cos, versioned, "m", b"x")
    marker = header(cos.delete_object(Bucket=versioned, Key="m"), VERSION_ID)
    removed = cos.delete_object(Bucket=versioned, Key="m", VersionId=marker)
    assert header(removed, DELETE_MARKER) == "true"


def test_deleting_a_version_by_id_removes_it_and_the_next_newest_becomes_latest(cos, versioned):
    v1 = put(cos, versioned, "k", b"one")
    v2 = put(cos, versioned, "k", b"two")
    v3 = put(cos, versioned, "k", b"three")
    removed = cos.delete_object(Bucket=versioned, Key="k", VersionId=v3)
    assert header(removed, VERSION_ID) == v3
    assert header(removed, DELETE_MARKER) != "true"
    current = cos.get_object(Bucket=versioned, Key="k")
    assert header(current, VERSION_ID) == v2
    assert body_of(current) == b"two"
    assert refusal(cos.get_object, Bucket=versioned, Key="k", VersionId=v3) == (404, "NoSuchVersion")
    cos.delete_object(Bucket=versioned, Key="k", VersionId=v1)
    assert read(cos, versioned, "k") == b"two"
    assert listed(cos, versioned) == [("Version", "k", v2, "true")]
    cos.delete_object(Bucket=versioned, Key="k", VersionId=v2)
    assert refusal(cos.get_object, Bucket=versioned, Key="k") == (404, "NoSuchKey")
    assert listed(cos, versioned) == []


def test_an_unknown_version_id_is_no_such_version(cos, versioned):
    put(cos, versioned, "k", b"x")
    assert refusal(cos.get_object, Bucket=versioned, Key="k", VersionId="no-such-version-id") == (404, "NoSuchVersion")
    assert status_of(cos.head_object, Bucket=versioned, Key="k", VersionId="no-such-version-id") == 404


def test_get_by_the_version_id_of_a_delete_marker_is_method_not_allowed(cos, versioned):
    put(cos, versioned, "k", b"x")
    marker = header(cos.delete_object(Bucket=versioned, Key="k"), VERSION_ID)
    assert refusal(cos.get_object, Bucket=versioned, Key="k", VersionId=marker) == (405, "MethodNotAllowed")


# -- Suspended -----------------------------------------------------------------------------------------------


def test_a_suspended_bucket_writes_and_replaces_the_null_version(cos, versioned):
    v1 = put(cos, versioned, "s", b"enabled-era")
    cos.put_bucket_versioning(Bucket=versioned, Status="Suspended")
    cos.put_object(Bucket=versioned, Key="s", Body=b"null one")
    cos.put_object(Bucket=versioned, Key="s", Body=b"null two")
    assert listed(cos, versioned) == [("Version", "s", "null", "true"), ("Version", "s", v1, "false")]
    assert read(cos, versioned, "s") == b"null two"
    assert read(cos, versioned, "s", "null") == b"null two"
    assert read(cos, versioned, "s", v1) == b"enabled-era"


def test_a_delete_on_a_suspended_bucket_puts_a_null_delete_marker(cos, versioned):
    """The null version is replaced by a null delete marker; the id'd version stays readable."""
    v1 = put(cos, versioned, "s", b"kept")
    cos.put_bucket_versioning(Bucket=versioned, Status="Suspended")
    cos.put_object(Bucket=versioned, Key="s", Body=b"replaced by the marker")
    deleted = cos.delete_object(Bucket=versioned, Key="s")
    assert header(deleted, DELETE_MARKER) == "true"
    assert header(deleted, VERSION_ID) == "null"
    assert refusal(cos.get_object, Bucket=versioned, Key="s") == (404, "NoSuchKey")
    assert listed(cos, versioned) == [("Version", "s", v1, "false"), ("DeleteMarker", "s", "null", "true")]
    assert read(cos, versioned, "s", v1) == b"kept"


# -- GET ?versions -------------------------------------------------------------------------------------------


def test_list_versions_orders_keys_by_bytes_and_versions_newest_first(kinko, cos, versioned):
    """Version and DeleteMarker entries interleave in one order: keys in byte order, newest first within a key."""
    b1 = put(cos, versioned, "b", b"b1")
    a1 = put(cos, versioned, "a", b"a1")
    b_marker = header(cos.delete_object(Bucket=versioned, Key="b"), VERSION_ID)
    b2 = put(cos, versioned, "b", b"b2")
    upper = put(cos, versioned, "B", b"upper")
    slash = put(cos, versioned, "a/x", b"under a/")
    a2 = put(cos, versioned, "a", b"a2")
    expected = [
        ("Version", "B", upper, "true"),
        ("Version", "a", a2, "true"),
        ("Version", "a", a1, "false"),
        ("Version", "a/x", slash, "true"),
        ("Version", "b", b2, "true"),
        ("DeleteMarker", "b", b_marker, "false"),
        ("Version", "b", b1, "false"),
    ]
    root = raw_versions(kinko, cos, versioned)
    assert entries_in_order(root) == expected
    assert child(root, "IsTruncated") == "false"


def test_list_versions_entries_carry_the_documented_fields(cos, versioned):
    data = os.urandom(1000)
    version = put(cos, versioned, "f", data)
    marker = header(cos.delete_object(Bucket=versioned, Key="f"), VERSION_ID)
    listing = cos.list_objects_versions(Bucket=versioned)
    [entry] = listing["Version"]
    assert entry["Key"] == "f" and entry["VersionId"] == version and entry["IsLatest"] == "false"
    assert entry["ETag"].strip('"') == hashlib.md5(data).hexdigest()
    assert entry["Size"] == "1000"
    assert entry["StorageClass"] == "STANDARD"
    assert entry["LastModified"].endswith("Z")
    assert entry["Owner"].get("UID") or entry["Owner"].get("ID"), entry["Owner"]
    [dm] = listing["DeleteMarker"]
    assert dm["Key"] == "f" and dm["VersionId"] == marker and dm["IsLatest"] == "true"
    assert dm["LastModified"].endswith("Z")
    assert dm["Owner"].get("UID") or dm["Owner"].get("ID"), dm["Owner"]
    assert "Size" not in dm and "ETag" not in dm


def test_list_versions_with_a_prefix_and_delimiter_rolls_up_common_prefixes(cos, versioned):
    put(cos, versioned, "docs/a", b"1")
    put(cos, versioned, "docs/a", b"2")
    put(cos, versioned, "docs/sub/b", b"3")
    cos.delete_object(Bucket=versioned, Key="docs/sub/b")
    top = put(cos, versioned, "docs/top", b"4")
    put(cos, versioned, "other", b"5")
    listing = cos.list_objects_versions(Bucket=versioned, Prefix="docs/", Delimiter="/")
    assert [p["Prefix"] for p in listing["CommonPrefixes"]] == ["docs/sub/"]
    assert [(v["Key"], v["IsLatest"]) for v in listing["Version"]] == [
        ("docs/a", "true"),
        ("docs/a", "false"),
        ("docs/top", "true"),
    ]
    assert listing["Version"][2]["VersionId"] == top
    assert "DeleteMarker" not in listing
    root = cos.list_objects_versions(Bucket=versioned, Delimiter="/")
    assert [p["Prefix"] for p in root["CommonPrefixes"]] == ["docs/"]
    assert [v["Key"] for v in root["Version"]] == ["other"]


def test_paging_through_versions_with_any_max_keys_yields_every_entry_exactly_once(kinko, cos, versioned):
    """For MaxKeys 1..n+1, KeyMarker/VersionIdMarker paging returns each version and marker once, in order."""
    for key, body in [("p1", b"a"), ("p2", b"b"), ("p1", b"c"), ("p3", b"d"), ("p2", b"e"), ("p1", b"f")]:
        put(cos, versioned, key, body)
    cos.delete_object(Bucket=versioned, Key="p2")
    cos.delete_object(Bucket=versioned, Key="p3")
    expected = entries_in_order(raw_versions(kinko, cos, versioned))
    assert len(expected) == 8
    for max_keys in range(1, len(expected) + 2):
        seen, params = [], {"max-keys": str(max_keys)}
        for _ in range(len(expected) + 1):
            page = raw_versions(kinko, cos, versioned, **params)
            entries = entries_in_order(page)
            assert 0 < len(entries) <= max_keys
            seen += entries
            if child(page, "IsTruncated") != "true":
                break
            assert child(page, "NextKeyMarker") == entries[-1][1]
            assert child(page, "NextVersionIdMarker") == entries[-1][2]
            params = {
                "max-keys": str(max_keys),
                "key-marker": child(page, "NextKeyMarker"),
                "version-id-marker": child(page, "NextVersionIdMarker"),
            }
        assert seen == expected, f"MaxKeys={max_keys}"


def test_paging_through_versions_with_the_sdk_yields_every_entry_exactly_once(cos, versioned):
    """The SDK's KeyMarker / VersionIdMarker / MaxKeys, as coscmd and other clients page."""
    made = set()
    for key in ["k1", "k2", "k1", "k3", "k1"]:
        made.add((key, put(cos, versioned, key, b"x")))
    made.add(("k3", header(cos.delete_object(Bucket=versioned, Key="k3"), VERSION_ID)))
    for max_keys in (1, 2, 3, 6):
        seen, key_marker, version_marker = [], "", ""
        for _ in range(10):
            page = cos.list_objects_versions(
                Bucket=versioned, KeyMarker=key_marker, VersionIdMarker=version_marker, MaxKeys=max_keys
            )
            entries = page.get("Version", []) + page.get("DeleteMarker", [])
            assert 0 < len(entries) <= max_keys
            seen += [(entry["Key"], entry["VersionId"]) for entry in entries]
            if page["IsTruncated"] != "true":
                break
            key_marker, version_marker = page["NextKeyMarker"], page["NextVersionIdMarker"]
        assert sorted(seen) == sorted(made), f"MaxKeys={max_keys}"


# -- Multi-Object Delete, copy and bucket deletion ---------------------------------------------------------


def test_delete_objects_with_version_ids_deletes_those_versions(cos, versioned):
    a1 = put(cos, versioned, "a", b"a1")
    a2 = put(cos, versioned, "a", b"a2")
    put(cos, versioned, "b", b"b1")
    b_marker = header(cos.delete_object(Bucket=versioned, Key="b"), VERSION_ID)
    put(cos, versioned, "c", b"c1")
    objects = [{"Key": "a", "VersionId": a2}, {"Key": "b", "VersionId": b_marker}, {"Key": "c"}]
    result = cos.delete_objects(Bucket=versioned, Delete={"Quiet": "false", "Object": objects})
    assert "Error" not in result, result
    deleted = {entry["Key"]: entry for entry in result["Deleted"]}
    assert deleted["a"].get("VersionId") == a2
    assert deleted["a"].get("DeleteMarker") in (None, "false")
    assert deleted["b"].get("VersionId") == b_marker
    assert deleted["b"].get("DeleteMarker") == "true"
    assert deleted["b"].get("DeleteMarkerVersionId") == b_marker
    assert deleted["c"].get("DeleteMarker") == "true"
    c_marker = deleted["c"].get("DeleteMarkerVersionId")
    assert c_marker and c_marker != "null"
    assert read(cos, versioned, "a") == b"a1"
    assert header(cos.head_object(Bucket=versioned, Key="a"), VERSION_ID) == a1
    assert read(cos, versioned, "b") == b"b1"
    assert refusal(cos.get_object, Bucket=versioned, Key="c") == (404, "NoSuchKey")
    assert ("DeleteMarker", "c", c_marker, "true") in listed(cos, versioned, "c")


def test_copy_object_copies_an_old_version_under_the_destination_encryption(cos, versioned, bucket, kms_ready):
    """An SSE-C old version copied by VersionId (with its copy-source key) lands as SSE-KMS in another bucket."""
    old = put(cos, versioned, "src", b"the old version", **SSE_C)
    put(cos, versioned, "src", b"the current version")
    source = {"Bucket": versioned, "Key": "src", "Region": REGION, "VersionId": old}
    cos.copy_object(Bucket=bucket, Key="dst", CopySource=source, ServerSideEncryption="cos/kms", **COPY_SOURCE_SSE_C)
    copied = cos.get_object(Bucket=bucket, Key="dst")
    assert header(copied, SSE) == "cos/kms"
    assert body_of(copied) == b"the old version"
    assert refusal(cos.copy_object, Bucket=bucket, Key="dst2", CopySource=source)[0] == 400


def test_copy_object_within_a_versioned_bucket_restores_an_old_version(cos, versioned):
    """Copying version 1 onto its own key makes a third version holding version 1's bytes under SSE-COS."""
    v1 = put(cos, versioned, "k", b"version one")
    v2 = put(cos, versioned, "k", b"version two")
    source = {"Bucket": versioned, "Key": "k", "Region": REGION, "VersionId": v1}
    copied = cos.copy_object(Bucket=versioned, Key="k", CopySource=source, ServerSideEncryption="AES256")
    v3 = header(copied, VERSION_ID)
    assert v3 and v3 not in (v1, v2)
    current = cos.get_object(Bucket=versioned, Key="k")
    assert header(current, VERSION_ID) == v3
    assert header(current, SSE) == "AES256"
    assert body_of(current) == b"version one"
    assert read(cos, versioned, "k", v2) == b"version two"


def test_upload_part_copy_copies_an_old_version(cos, versioned):
    old = put(cos, versioned, "src", b"old part bytes")
    put(cos, versioned, "src", b"new part bytes, not these")
    upload = cos.create_multipart_upload(Bucket=versioned, Key="dst")["UploadId"]
    part = cos.upload_part_copy(
        Bucket=versioned,
        Key="dst",
        PartNumber=1,
        UploadId=upload,
        CopySource={"Bucket": versioned, "Key": "src", "Region": REGION, "VersionId": old},
    )
    completed = cos.complete_multipart_upload(
        Bucket=versioned,
        Key="dst",
        UploadId=upload,
        MultipartUpload={"Part": [{"PartNumber": 1, "ETag": part["ETag"]}]},
    )
    assert header(completed, VERSION_ID)
    assert read(cos, versioned, "dst") == b"old part bytes"


def test_a_bucket_holding_versions_or_delete_markers_is_not_empty(cos):
    name = new_bucket(cos)
    try:
        cos.put_bucket_versioning(Bucket=name, Status="Enabled")
        version = put(cos, name, "k", b"x")
        marker = header(cos.delete_object(Bucket=name, Key="k"), VERSION_ID)
        assert "Contents" not in cos.list_objects(Bucket=name)
        assert refusal(cos.delete_bucket, Bucket=name) == (409, "BucketNotEmpty")
        cos.delete_object(Bucket=name, Key="k", VersionId=version)
        assert refusal(cos.delete_bucket, Bucket=name) == (409, "BucketNotEmpty")
        cos.delete_object(Bucket=name, Key="k", VersionId=marker)
        cos.delete_bucket(Bucket=name)
        assert status_of(cos.head_bucket, Bucket=name) == 404
    finally:
        purge(cos, name)
