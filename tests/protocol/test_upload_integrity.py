"""Storage integrity seen from the wire: a failed or cut-off upload leaves nothing behind, and an overwrite
never exposes a partial object."""

import base64
import hashlib
import http.client
import os
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from qcloud_cos import CosServiceError

from tests.protocol import wire

DECLARED = 1024 * 1024
SENT = 100 * 1024


def objects_dir(kinko) -> Path:
    return kinko.data_dir / "objects"


def tmp_dir(kinko) -> Path:
    return objects_dir(kinko) / "tmp"


def blob_files(kinko) -> set[Path]:
    return wire.files_under(objects_dir(kinko)) - wire.files_under(tmp_dir(kinko))


def begin_upload(kinko, cos, bucket: str, key: str, declared: int, first: bytes) -> http.client.HTTPConnection:
    """A raw PUT that has sent its headers and the first bytes, and is being written by the server."""
    already_there = wire.files_under(tmp_dir(kinko))
    conn = wire.connection(kinko)
    wire.start_request(conn, cos, "PUT", bucket, key, {"Content-Length": str(declared)})
    conn.send(first)
    in_flight = wire.wait_until(lambda: bool(wire.files_under(tmp_dir(kinko)) - already_there))
    assert in_flight, "the upload never reached the server's temporary storage"
    return conn


def cut_off_upload(kinko, cos, bucket: str, key: str) -> None:
    """Declare 1 MiB, send 100 KiB, and hang up."""
    begin_upload(kinko, cos, bucket, key, DECLARED, os.urandom(SENT)).close()


def temporary_files_are_gone(kinko) -> bool:
    return wire.wait_until(lambda: not wire.files_under(tmp_dir(kinko)))


def test_cut_off_upload_leaves_no_object(kinko, cos, bucket):
    cut_off_upload(kinko, cos, bucket, "cut.bin")
    temporary_files_are_gone(kinko)
    with pytest.raises(CosServiceError) as err:
        cos.get_object(Bucket=bucket, Key="cut.bin")
    assert err.value.get_error_code() == "NoSuchKey"


def test_cut_off_upload_leaves_no_temporary_file(kinko, cos, bucket):
    cut_off_upload(kinko, cos, bucket, "cut.bin")
    assert temporary_files_are_gone(kinko), sorted(wire.files_under(tmp_dir(kinko)))


def test_cut_off_upload_leaves_no_blob(kinko, cos, bucket):
    before = blob_files(kinko)
    cut_off_upload(kinko, cos, bucket, "cut.bin")
    temporary_files_are_gone(kinko)
    assert blob_files(kinko) == before


def test_cut_off_overwrite_keeps_the_previous_object(kinko, cos, bucket):
    cos.put_object(Bucket=bucket, Key="o.bin", Body=b"previous")
    cut_off_upload(kinko, cos, bucket, "o.bin")
    temporary_files_are_gone(kinko)
    assert cos.get_object(Bucket=bucket, Key="o.bin")["Body"].get_raw_stream().read() == b"previous"


def test_overwrite_in_progress_serves_the_previous_object(kinko, cos, bucket):
    cos.put_object(Bucket=bucket, Key="o.bin", Body=b"previous")
    new = os.urandom(DECLARED)
    conn = begin_upload(kinko, cos, bucket, "o.bin", len(new), new[:SENT])
    try:
        got = cos.get_object(Bucket=bucket, Key="o.bin")
        assert (got["Content-Length"], got["Body"].get_raw_stream().read()) == ("8", b"previous")
    finally:
        conn.close()
        temporary_files_are_gone(kinko)


def test_overwrite_in_progress_lists_the_previous_size(kinko, cos, bucket):
    cos.put_object(Bucket=bucket, Key="o.bin", Body=b"previous")
    new = os.urandom(DECLARED)
    conn = begin_upload(kinko, cos, bucket, "o.bin", len(new), new[:SENT])
    try:
        assert [item["Size"] for item in cos.list_objects(Bucket=bucket)["Contents"]] == ["8"]
    finally:
        conn.close()
        temporary_files_are_gone(kinko)


def test_overwrite_becomes_visible_once_its_body_is_complete(kinko, cos, bucket):
    cos.put_object(Bucket=bucket, Key="o.bin", Body=b"previous")
    new = os.urandom(DECLARED)
    conn = begin_upload(kinko, cos, bucket, "o.bin", len(new), new[:SENT])
    try:
        conn.send(new[SENT:])
        response = conn.getresponse()
        response.read()
    finally:
        conn.close()
    assert response.status == 200
    assert cos.get_object(Bucket=bucket, Key="o.bin")["Body"].get_raw_stream().read() == new


def test_reads_during_concurrent_overwrites_always_see_a_whole_version(cos, bucket):
    versions = [bytes([n]) * (256 * 1024 + n) for n in range(8)]
    cos.put_object(Bucket=bucket, Key="hot.bin", Body=versions[0])
    seen = []
    with ThreadPoolExecutor(8) as pool:
        writes = [pool.submit(cos.put_object, Bucket=bucket, Key="hot.bin", Body=body) for body in versions * 3]
        while not all(write.done() for write in writes):
            got = cos.get_object(Bucket=bucket, Key="hot.bin")
            seen.append((got["ETag"], got["Body"].get_raw_stream().read()))
        for write in writes:
            write.result()
    assert seen
    assert all(body in versions and etag == f'"{hashlib.md5(body).hexdigest()}"' for etag, body in seen)


def test_upload_with_a_bad_digest_leaves_no_file(kinko, cos, bucket):
    before = wire.files_under(objects_dir(kinko))
    wrong = base64.b64encode(hashlib.md5(b"other").digest()).decode()
    with pytest.raises(CosServiceError):
        cos.put_object(Bucket=bucket, Key="d.bin", Body=os.urandom(SENT), ContentMD5=wrong)
    assert wire.files_under(objects_dir(kinko)) == before


def test_overwrite_leaves_one_blob_per_object(kinko, cos, bucket):
    cos.put_object(Bucket=bucket, Key="o.bin", Body=b"first")
    before = blob_files(kinko)
    cos.put_object(Bucket=bucket, Key="o.bin", Body=b"second")
    assert len(blob_files(kinko)) == len(before)


def test_delete_object_removes_its_blob(kinko, cos, bucket):
    before = blob_files(kinko)
    cos.put_object(Bucket=bucket, Key="o.bin", Body=b"gone soon")
    cos.delete_object(Bucket=bucket, Key="o.bin")
    assert blob_files(kinko) == before
