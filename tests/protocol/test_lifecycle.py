"""PUT/GET/DELETE ?lifecycle through the real SDK, COS's refusals of bad rules, and `manage.py apply_lifecycle`
applying the rules: expired objects in every SSE mode deleted (their blobs freed), objects the rules do not match
kept, and a stale incomplete upload aborted."""

import base64
import hashlib
import json

import pytest
from qcloud_cos import CosServiceError

from tests.live import cos_client
from tests.protocol.api3 import SubUsers, allow
from tests.protocol.support import (
    age_rows,
    blob_files,
    empty_and_delete,
    existing,
    manage,
    new_bucket,
    service_error,
)

ENSURE_COS_ROLE = "from roles import service; service.ensure_cos_service_role(service.root_account())"
SSE_C_KEY = hashlib.sha256(b"kinko lifecycle customer key").digest()
SSE_C = {
    "SSECustomerAlgorithm": "AES256",
    "SSECustomerKey": base64.b64encode(SSE_C_KEY).decode(),
    "SSECustomerKeyMD5": base64.b64encode(hashlib.md5(SSE_C_KEY).digest()).decode(),
}
# Write kwargs, and the read kwargs each mode needs.
MODES = {
    "plain": ({}, {}),
    "sse-cos": ({"ServerSideEncryption": "AES256"}, {}),
    "sse-kms": ({"ServerSideEncryption": "cos/kms"}, {}),
    "sse-c": (SSE_C, SSE_C),
}
RULES = [
    {"ID": "logs", "Filter": {"Prefix": "logs/"}, "Status": "Enabled", "Expiration": {"Days": "30"}},
    {
        "ID": "temporary",
        "Filter": {"And": {"Prefix": "tagged", "Tag": [{"Key": "temp", "Value": "yes"}, {"Key": "t2", "Value": "on"}]}},
        "Status": "Enabled",
        "Expiration": {"Days": "1"},
    },
    {
        "ID": "dated",
        "Filter": {"Prefix": "dated/"},
        "Status": "Enabled",
        "Expiration": {"Date": "2020-01-01T00:00:00+08:00"},
    },
    {"ID": "off", "Filter": {"Prefix": "off/"}, "Status": "Disabled", "Expiration": {"Days": "1"}},
    {
        "ID": "uploads",
        "Filter": {"Prefix": "up/"},
        "Status": "Enabled",
        "AbortIncompleteMultipartUpload": {"DaysAfterInitiation": "2"},
        "NoncurrentVersionExpiration": {"NoncurrentDays": "5"},
    },
]
EXPIRED_TAGS = "temp=yes&t2=on"


@pytest.fixture(scope="module")
def kms_ready(kinko) -> None:
    """SSE-KMS on the session server: the KMS activated and COS_QcsRole present (both idempotent)."""
    manage(kinko, "activate_kms", "--json")
    manage(kinko, "shell", "-c", ENSURE_COS_ROLE)


@pytest.fixture
def lifecycle_bucket(cos) -> str:
    name = new_bucket(cos)
    yield name
    cos.delete_bucket_lifecycle(Bucket=name)
    empty_and_delete(cos, name)


def refusal(call, **kwargs) -> tuple[int, str]:
    with pytest.raises(CosServiceError) as err:
        call(**kwargs)
    return service_error(err.value)


def rule(**fields) -> dict:
    return {"ID": "r", "Filter": {"Prefix": ""}, "Status": "Enabled", "Expiration": {"Days": "1"}, **fields}


# -- the configuration ------------------------------------------------------------------------------------


def test_get_bucket_lifecycle_returns_the_rules_put(cos, lifecycle_bucket):
    cos.put_bucket_lifecycle(Bucket=lifecycle_bucket, LifecycleConfiguration={"Rule": RULES})
    assert cos.get_bucket_lifecycle(Bucket=lifecycle_bucket)["Rule"] == RULES


def test_a_tag_filter_round_trips(cos, lifecycle_bucket):
    tagged = rule(Filter={"Tag": [{"Key": "team", "Value": "kinko"}]})
    cos.put_bucket_lifecycle(Bucket=lifecycle_bucket, LifecycleConfiguration={"Rule": [tagged]})
    assert cos.get_bucket_lifecycle(Bucket=lifecycle_bucket)["Rule"] == [tagged]


def test_delete_bucket_lifecycle_removes_the_rules(cos, lifecycle_bucket):
    cos.put_bucket_lifecycle(Bucket=lifecycle_bucket, LifecycleConfiguration={"Rule": [rule()]})
    cos.delete_bucket_lifecycle(Bucket=lifecycle_bucket)
    assert refusal(cos.get_bucket_lifecycle, Bucket=lifecycle_bucket) == (404, "NoSuchLifecycleConfiguration")


def test_a_bucket_without_rules_has_no_lifecycle_configuration(cos, lifecycle_bucket):
    assert refusal(cos.get_bucket_lifecycle, Bucket=lifecycle_bucket) == (404, "NoSuchLifecycleConfiguration")


@pytest.mark.parametrize(
    ("rules", "code"),
    [
        ([], "MalformedXML"),
        ([rule(Status="On")], "MalformedXML"),
        ([rule(Expiration={"Days": "0"})], "InvalidArgument"),
        ([rule(Expiration={"Days": "soon"})], "InvalidArgument"),
        ([rule(Expiration={"Days": "1", "Date": "2030-01-01T00:00:00+08:00"})], "MalformedXML"),
        ([rule(Expiration={"Date": "tomorrow"})], "InvalidArgument"),
        ([{"ID": "r", "Filter": {"Prefix": ""}, "Status": "Enabled"}], "InvalidArgument"),
        ([rule(), rule()], "InvalidArgument"),
        ([rule(ID="x" * 256)], "InvalidArgument"),
        ([rule(Filter={"Prefix": "a/", "Tag": [{"Key": "k", "Value": "v"}]})], "MalformedXML"),
        ([rule(Filter={"Tag": [{"Key": "bad<>key", "Value": "v"}]})], "InvalidTag"),
        (
            [
                rule(
                    Filter={"Tag": [{"Key": "k", "Value": "v"}]},
                    AbortIncompleteMultipartUpload={"DaysAfterInitiation": "1"},
                )
            ],
            "InvalidArgument",
        ),
        ([rule(Transition={"Days": "30", "StorageClass": "ARCHIVE"})], "InvalidArgument"),
        ([rule(ID=f"r{n}") for n in range(1001)], "MalformedXML"),
    ],
    ids=[
        "no-rule",
        "status",
        "zero-days",
        "days-not-a-number",
        "days-and-date",
        "date",
        "no-action",
        "duplicate-id",
        "long-id",
        "prefix-and-tag-without-and",
        "tag-key",
        "abort-with-tag-filter",
        "transition",
        "1001-rules",
    ],
)
def test_an_invalid_configuration_is_refused_and_not_stored(cos, lifecycle_bucket, rules, code):
    status, refused = refusal(cos.put_bucket_lifecycle, Bucket=lifecycle_bucket, LifecycleConfiguration={"Rule": rules})
    assert (status, refused) == (400, code)
    assert refusal(cos.get_bucket_lifecycle, Bucket=lifecycle_bucket) == (404, "NoSuchLifecycleConfiguration")


def test_a_thousand_rules_are_accepted(cos, lifecycle_bucket):
    rules = [rule(ID=f"r{n}", Filter={"Prefix": f"p{n}/"}) for n in range(1000)]
    cos.put_bucket_lifecycle(Bucket=lifecycle_bucket, LifecycleConfiguration={"Rule": rules})
    assert len(cos.get_bucket_lifecycle(Bucket=lifecycle_bucket)["Rule"]) == 1000


@pytest.fixture
def users(kinko) -> SubUsers:
    made = SubUsers(kinko)
    yield made
    made.cleanup()


def test_each_lifecycle_operation_is_its_own_cam_action(kinko, cos, lifecycle_bucket, users):
    cos.put_bucket_lifecycle(Bucket=lifecycle_bucket, LifecycleConfiguration={"Rule": [rule()]})
    reader = users.create(allow("name/cos:GetBucketLifecycle"))
    client = cos_client(kinko, secret_id=reader.secret_id, secret_key=reader.secret_key)
    assert [found["ID"] for found in client.get_bucket_lifecycle(Bucket=lifecycle_bucket)["Rule"]] == ["r"]
    put = {"LifecycleConfiguration": {"Rule": [rule(ID="mine")]}}
    assert refusal(client.put_bucket_lifecycle, Bucket=lifecycle_bucket, **put) == (403, "AccessDenied")
    assert refusal(client.delete_bucket_lifecycle, Bucket=lifecycle_bucket) == (403, "AccessDenied")
    users.grant(reader, allow("name/cos:PutBucketLifecycle"), allow("name/cos:DeleteBucketLifecycle"))
    client.put_bucket_lifecycle(Bucket=lifecycle_bucket, **put)
    assert [found["ID"] for found in cos.get_bucket_lifecycle(Bucket=lifecycle_bucket)["Rule"]] == ["mine"]
    client.delete_bucket_lifecycle(Bucket=lifecycle_bucket)
    assert refusal(cos.get_bucket_lifecycle, Bucket=lifecycle_bucket) == (404, "NoSuchLifecycleConfiguration")


# -- applying the rules -----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def applied(kinko, cos, kms_ready):
    """A bucket with RULES, objects in every SSE mode on both sides of each rule and three uploads, aged; then
    `manage.py apply_lifecycle` once."""
    name = new_bucket(cos)
    cos.put_bucket_lifecycle(Bucket=name, LifecycleConfiguration={"Rule": RULES})
    expired, kept, freed = [], [], set()
    for mode, (write, _) in MODES.items():
        for key, tags, gone in [
            (f"logs/{mode}", "", True),
            (f"logs/young-{mode}", "", False),
            (f"other/{mode}", "", False),
            (f"tagged/{mode}", EXPIRED_TAGS, True),
            (f"tagged/half-{mode}", "temp=yes", False),
            (f"off/{mode}", "", False),
            (f"dated/{mode}", "", True),
        ]:
            before = blob_files(kinko)
            cos.put_object(
                Bucket=name, Key=key, Body=f"body of {key}".encode(), **write, **({"Tagging": tags} if tags else {})
            )
            if gone:
                freed |= blob_files(kinko) - before
            (expired if gone else kept).append((key, mode))
    old = [key for key, _ in expired + kept if "young" not in key]
    age_rows(kinko, name, "StoredObject", "last_modified", old, 40)
    uploads = {}
    for key in ("up/old.bin", "up/young.bin", "elsewhere/old.bin"):
        uploads[key] = cos.create_multipart_upload(Bucket=name, Key=key)["UploadId"]
        before = blob_files(kinko)
        cos.upload_part(Bucket=name, Key=key, Body=b"part" * 1024, PartNumber=1, UploadId=uploads[key])
        if key == "up/old.bin":
            freed |= blob_files(kinko) - before
    age_rows(kinko, name, "MultipartUpload", "initiated_at", ["up/old.bin", "elsewhere/old.bin"], 3)
    summary = json.loads(manage(kinko, "apply_lifecycle").strip().splitlines()[-1])
    yield {"bucket": name, "expired": expired, "kept": kept, "freed": freed, "uploads": uploads, "summary": summary}
    cos.delete_bucket_lifecycle(Bucket=name)
    empty_and_delete(cos, name)


def test_apply_lifecycle_runs_one_job_for_the_bucket(applied):
    jobs = [job for job in applied["summary"] if job["bucket"] == applied["bucket"]]
    expected = len(applied["expired"]) + 1  # and the stale upload
    assert [(j["status"], j["total"], j["done"], j["failed"]) for j in jobs] == [("succeeded", expected, expected, 0)]


def test_expired_objects_are_gone_in_every_sse_mode(cos, applied):
    for key, mode in applied["expired"]:
        status, _ = refusal(cos.head_object, Bucket=applied["bucket"], Key=key, **MODES[mode][1])
        assert status == 404, key


def test_the_blobs_of_expired_objects_and_the_aborted_upload_are_freed(applied):
    assert len(applied["freed"]) == len(applied["expired"]) + 1
    assert existing(applied["freed"]) == set()


def test_objects_the_rules_do_not_expire_are_kept_and_readable(cos, applied):
    for key, mode in applied["kept"]:
        body = cos.get_object(Bucket=applied["bucket"], Key=key, **MODES[mode][1])["Body"].get_raw_stream().read()
        assert body == f"body of {key}".encode()


def test_only_the_stale_upload_under_the_prefix_is_aborted(cos, applied):
    listed = cos.list_multipart_uploads(Bucket=applied["bucket"]).get("Upload", [])
    uploads = applied["uploads"]
    assert sorted(u["UploadId"] for u in listed) == sorted([uploads["up/young.bin"], uploads["elsewhere/old.bin"]])


def test_a_second_run_finds_nothing_more_to_do(kinko, applied):
    summary = json.loads(manage(kinko, "apply_lifecycle").strip().splitlines()[-1])
    assert [job for job in summary if job["bucket"] == applied["bucket"]] == []
