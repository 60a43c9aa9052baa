"""Races answer correctly: many clients overwriting one key never get a 500 nor a dropped connection, and the object
left is one of the bodies written, whole; a PUT racing the deletion of its bucket answers 404 NoSuchBucket (or wins
and the delete answers 409 BucketNotEmpty) and leaves no blob behind; Complete racing Abort of one multipart upload:
exactly one wins, the other answers 404 NoSuchUpload, and the object is whole or absent. Through the real SDK, one
client per thread."""

import hashlib
import os
import threading
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from qcloud_cos.cos_exception import CosClientError, CosServiceError

from tests.live import APPID, cos_client

THREADS = 16
PUTS = 25


def outcome(call) -> str:
    try:
        call()
    except CosServiceError as error:
        return f"{error.get_status_code()} {error.get_error_code()}"
    except CosClientError as error:
        return f"client error {error}"
    return "ok"


def test_concurrent_same_key_puts_all_succeed_and_leave_one_whole_body(kinko, bucket):
    bodies = {n: os.urandom(32 * 1024 + n) for n in range(THREADS)}

    def writer(n: int) -> list[str]:
        client = cos_client(kinko)
        return [outcome(lambda: client.put_object(Bucket=bucket, Key="same", Body=bodies[n])) for _ in range(PUTS)]

    with ThreadPoolExecutor(THREADS) as pool:
        results = [r for rs in pool.map(writer, range(THREADS)) for r in rs]
    failures = [r for r in results if r != "ok"]
    assert failures == [], (len(failures), sorted(set(failures)))
    final = cos_client(kinko).get_object(Bucket=bucket, Key="same")["Body"].get_raw_stream().read()
    assert hashlib.sha256(final).digest() in {hashlib.sha256(b).digest() for b in bodies.values()}


def blob_files(root: Path) -> set[str]:
    return {str(path) for path in root.rglob("*") if path.is_file()}


def test_a_put_racing_the_deletion_of_its_bucket_answers_no_such_bucket_and_leaves_no_blob(kinko, cos):
    before = blob_files(kinko.data_dir / "objects")
    seen: set[str] = set()
    for _ in range(12):
        name = f"r{uuid.uuid4().hex[:12]}-{APPID}"
        cos.create_bucket(Bucket=name)
        go = threading.Barrier(5)

        def put(n: int, name: str = name, go: threading.Barrier = go) -> str:
            client = cos_client(kinko)
            go.wait()
            return "put " + outcome(lambda: client.put_object(Bucket=name, Key=f"k{n}", Body=os.urandom(256 * 1024)))

        def delete(name: str = name, go: threading.Barrier = go) -> str:
            client = cos_client(kinko)
            go.wait()
            return "delete " + outcome(lambda: client.delete_bucket(Bucket=name))

        with ThreadPoolExecutor(5) as pool:
            answers = [f.result() for f in [pool.submit(put, n) for n in range(4)] + [pool.submit(delete)]]
        seen.update(answers)
        assert set(answers) <= {"put ok", "put 404 NoSuchBucket", "delete ok", "delete 409 BucketNotEmpty"}, answers
        if "delete ok" not in answers:  # a PUT won: empty the bucket and delete it
            for n in range(4):
                cos.delete_object(Bucket=name, Key=f"k{n}")
            cos.delete_bucket(Bucket=name)
    assert blob_files(kinko.data_dir / "objects") - before == set()
    assert seen  # every round answered


def test_complete_racing_abort_of_one_upload_lets_exactly_one_win(kinko, cos, bucket):
    seen: set[tuple[str, str]] = set()
    for round_ in range(10):
        key = f"mp{round_}"
        body = os.urandom(64 * 1024)
        upload_id = cos.create_multipart_upload(Bucket=bucket, Key=key)["UploadId"]
        part = cos.upload_part(Bucket=bucket, Key=key, UploadId=upload_id, PartNumber=1, Body=body)
        listed = {"Part": [{"PartNumber": 1, "ETag": part["ETag"]}]}
        go = threading.Barrier(2)

        def complete(key: str = key, upload_id: str = upload_id, listed=listed, go=go) -> str:
            client = cos_client(kinko)
            go.wait()
            call = lambda: client.complete_multipart_upload(  # noqa: E731
                Bucket=bucket, Key=key, UploadId=upload_id, MultipartUpload=listed
            )
            return "complete " + outcome(call)

        def abort(key: str = key, upload_id: str = upload_id, go=go) -> str:
            client = cos_client(kinko)
            go.wait()
            return "abort " + outcome(lambda: client.abort_multipart_upload(Bucket=bucket, Key=key, UploadId=upload_id))

        with ThreadPoolExecutor(2) as pool:
            racing = pool.submit(complete), pool.submit(abort)
            answers = (racing[0].result(), racing[1].result())
        seen.add(answers)
        assert answers in {
            ("complete ok", "abort 404 NoSuchUpload"),
            ("complete 404 NoSuchUpload", "abort ok"),
        }, answers
        if answers[0] == "complete ok":
            assert cos.get_object(Bucket=bucket, Key=key)["Body"].get_raw_stream().read() == body
        else:
            listed_keys = [item["Key"] for item in cos.list_objects(Bucket=bucket, Prefix=key).get("Contents", [])]
            assert key not in listed_keys
    assert cos.list_multipart_uploads(Bucket=bucket).get("Upload", []) == []
    assert seen  # every round answered
