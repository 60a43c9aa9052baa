"""POST Object: browser-style multipart/form-data uploads built with `requests`, signed per spec §2.7 (the policy's
SHA-1 under a SignKey of the KeyTime), sent to the bucket's virtual host through the proxy listener."""

import base64
import hashlib
import hmac
import json
import time
import xml.etree.ElementTree as ET  # noqa: S405 - parses the test server's own responses
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
import requests

from tests.protocol.support import (
    body_of,
    error_code,
    files_under,
    object_url,
    proxies,
)

DATA = b"uploaded from a browser form"


def iso8601(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S.000Z")


def key_time(now: float | None = None) -> str:
    now = int(time.time() if now is None else now)
    return f"{now - 60};{now + 3600}"


def signature_fields(secret_id: str, secret_key: str, policy: dict, keytime: str | None = None) -> list:
    """policy, q-sign-algorithm, q-ak, q-key-time, q-signature for `policy` (spec §2.7)."""
    keytime = keytime or key_time()
    policy_text = json.dumps(policy)
    sign_key = hmac.new(secret_key.encode(), keytime.encode(), hashlib.sha1).hexdigest()
    string_to_sign = hashlib.sha1(policy_text.encode()).hexdigest()
    signature = hmac.new(sign_key.encode(), string_to_sign.encode(), hashlib.sha1).hexdigest()
    return [
        ("policy", base64.b64encode(policy_text.encode()).decode()),
        ("q-sign-algorithm", "sha1"),
        ("q-ak", secret_id),
        ("q-key-time", keytime),
        ("q-signature", signature),
    ]


def policy_for(kinko, bucket: str, *conditions, expires_in: timedelta = timedelta(hours=1)) -> dict:
    return {
        "expiration": iso8601(datetime.now(UTC) + expires_in),
        "conditions": [{"bucket": bucket}, {"q-sign-algorithm": "sha1"}, {"q-ak": kinko.secret_id}, *conditions],
    }


def post_form(kinko, bucket: str, fields: list, file_name: str = "photo.jpg", data: bytes = DATA):
    """The form as a browser sends it: the fields in order, the file last."""
    files = [(name, (None, value)) for name, value in fields]
    files.append(("file", (file_name, data, "application/x-browser-guess")))
    return requests.post(object_url(bucket), files=files, proxies=proxies(kinko), allow_redirects=False, timeout=10)


def signed_post(kinko, bucket: str, key: str, *conditions, extra: list = (), **kwargs):
    """A form signed by the root account's key: key, the signature fields, `extra`, then the file."""
    policy = policy_for(kinko, bucket, ["starts-with", "$key", ""], *conditions)
    fields = [("key", key), *signature_fields(kinko.secret_id, kinko.secret_key, policy), *extra]
    return post_form(kinko, bucket, fields, **kwargs)


# -- success ----------------------------------------------------------------------------------------------


def test_signed_post_object_answers_204_by_default(kinko, bucket):
    assert signed_post(kinko, bucket, "form.txt").status_code == 204


def test_signed_post_object_stores_the_file(kinko, cos, bucket):
    signed_post(kinko, bucket, "form.txt")
    assert body_of(cos.get_object(Bucket=bucket, Key="form.txt")) == DATA


def test_signed_post_object_returns_the_md5_as_etag(kinko, bucket):
    response = signed_post(kinko, bucket, "form.txt")
    assert response.headers.get("ETag") == f'"{hashlib.md5(DATA).hexdigest()}"'


def test_signed_post_object_returns_the_object_location(kinko, bucket):
    response = signed_post(kinko, bucket, "dir/form.txt")
    assert response.headers.get("Location") == object_url(bucket, "dir/form.txt")


def test_signed_post_object_carries_a_request_id(kinko, bucket):
    assert signed_post(kinko, bucket, "form.txt").headers.get("x-cos-request-id")


def test_post_object_with_the_documented_q_sign_time_condition_is_accepted(kinko, cos, bucket):
    keytime = key_time()
    policy = policy_for(kinko, bucket, {"q-sign-time": keytime}, ["starts-with", "$key", ""])
    fields = [("key", "form.txt"), *signature_fields(kinko.secret_id, kinko.secret_key, policy, keytime)]
    assert post_form(kinko, bucket, fields).status_code == 204


@pytest.mark.parametrize("status", ["200", "201", "204"])
def test_success_action_status_chooses_the_status(kinko, bucket, status):
    response = signed_post(kinko, bucket, "form.txt", extra=[("success_action_status", status)])
    assert response.status_code == int(status)


def test_success_action_status_201_returns_a_post_response_document(kinko, bucket):
    response = signed_post(kinko, bucket, "dir/form.txt", extra=[("success_action_status", "201")])
    root = ET.fromstring(response.content)  # noqa: S314 - the test server's own response
    assert (root.tag, root.findtext("Bucket"), root.findtext("Key"), root.findtext("ETag")) == (
        "PostResponse",
        bucket,
        "dir/form.txt",
        f'"{hashlib.md5(DATA).hexdigest()}"',
    )


def test_success_action_redirect_answers_303(kinko, bucket):
    target = "https://app.example/done"
    redirect = [("success_action_redirect", target)]
    response = signed_post(kinko, bucket, "form.txt", {"success_action_redirect": target}, extra=redirect)
    assert response.status_code == 303


def test_success_action_redirect_location_names_bucket_key_and_etag(kinko, bucket):
    target = "https://app.example/done?from=form"
    response = signed_post(
        kinko, bucket, "dir/a b.txt", {"success_action_redirect": target}, extra=[("success_action_redirect", target)]
    )
    location = urlsplit(response.headers.get("Location", ""))
    assert (location.netloc, location.path, parse_qs(location.query)) == (
        "app.example",
        "/done",
        {
            "from": ["form"],
            "bucket": [bucket],
            "key": ["dir/a b.txt"],
            "etag": [f'"{hashlib.md5(DATA).hexdigest()}"'],
        },
    )


def test_success_action_redirect_stores_the_file(kinko, cos, bucket):
    target = "https://app.example/done"
    signed_post(
        kinko, bucket, "form.txt", {"success_action_redirect": target}, extra=[("success_action_redirect", target)]
    )
    assert body_of(cos.get_object(Bucket=bucket, Key="form.txt")) == DATA


def test_filename_placeholder_in_the_key_is_replaced_by_the_file_name(kinko, cos, bucket):
    signed_post(kinko, bucket, "uploads/${filename}", file_name="holiday photo 1.jpg")
    assert body_of(cos.get_object(Bucket=bucket, Key="uploads/holiday photo 1.jpg")) == DATA


def test_post_object_stores_the_content_type_field_not_the_part_type(kinko, cos, bucket):
    signed_post(kinko, bucket, "form.txt", extra=[("Content-Type", "text/x-form")])
    assert cos.head_object(Bucket=bucket, Key="form.txt")["Content-Type"] == "text/x-form"


def test_post_object_stores_metadata_fields(kinko, cos, bucket):
    signed_post(kinko, bucket, "form.txt", extra=[("x-cos-meta-album", "summer"), ("x-cos-meta-rating", "5")])
    head = cos.head_object(Bucket=bucket, Key="form.txt")
    assert (head["x-cos-meta-album"], head["x-cos-meta-rating"]) == ("summer", "5")


def test_post_object_stores_cache_control_and_content_disposition_fields(kinko, cos, bucket):
    signed_post(
        kinko,
        bucket,
        "form.txt",
        extra=[("Cache-Control", "max-age=60"), ("Content-Disposition", 'attachment; filename="x.txt"')],
    )
    head = cos.head_object(Bucket=bucket, Key="form.txt")
    assert (head["Cache-Control"], head["Content-Disposition"]) == ("max-age=60", 'attachment; filename="x.txt"')


def test_post_object_meeting_every_condition_is_accepted(kinko, bucket):
    conditions = [
        ["starts-with", "$key", "user/eric/"],
        ["eq", "$Content-Type", "text/plain"],
        {"x-cos-meta-album": "summer"},
        ["content-length-range", len(DATA), len(DATA)],
    ]
    extra = [("Content-Type", "text/plain"), ("x-cos-meta-album", "summer")]
    response = signed_post(kinko, bucket, "user/eric/form.txt", *conditions, extra=extra)
    assert response.status_code == 204


def test_post_object_with_a_public_read_acl_field_opens_the_object_to_anonymous_get(kinko, bucket):
    signed_post(kinko, bucket, "open.txt", extra=[("acl", "public-read")])
    response = requests.get(object_url(bucket, "open.txt"), proxies=proxies(kinko), timeout=10)
    assert (response.status_code, response.content) == (200, DATA)


def test_post_object_with_a_matching_content_md5_field_is_accepted(kinko, bucket):
    md5 = base64.b64encode(hashlib.md5(DATA).digest()).decode()
    assert signed_post(kinko, bucket, "form.txt", extra=[("Content-MD5", md5)]).status_code == 204


def test_post_object_overwrites_an_existing_object(kinko, cos, bucket):
    cos.put_object(Bucket=bucket, Key="form.txt", Body=b"older")
    signed_post(kinko, bucket, "form.txt")
    assert body_of(cos.get_object(Bucket=bucket, Key="form.txt")) == DATA


def test_unsigned_post_object_to_a_public_read_write_bucket_is_accepted(kinko, cos, bucket):
    cos.put_bucket_acl(Bucket=bucket, ACL="public-read-write")
    response = post_form(kinko, bucket, [("key", "anonymous.txt")])
    assert response.status_code == 204


def test_unsigned_post_object_to_a_public_read_write_bucket_stores_the_file(kinko, cos, bucket):
    cos.put_bucket_acl(Bucket=bucket, ACL="public-read-write")
    post_form(kinko, bucket, [("key", "anonymous.txt")])
    assert body_of(cos.get_object(Bucket=bucket, Key="anonymous.txt")) == DATA


# -- refusals ---------------------------------------------------------------------------------------------


def expired_policy(kinko, bucket):
    policy = policy_for(kinko, bucket, expires_in=timedelta(minutes=-1))
    return [("key", "refused.txt"), *signature_fields(kinko.secret_id, kinko.secret_key, policy)]


def key_not_equal(kinko, bucket):
    policy = policy_for(kinko, bucket, ["eq", "$key", "allowed.txt"])
    return [("key", "refused.txt"), *signature_fields(kinko.secret_id, kinko.secret_key, policy)]


def key_without_prefix(kinko, bucket):
    policy = policy_for(kinko, bucket, ["starts-with", "$key", "user/eric/"])
    return [("key", "refused.txt"), *signature_fields(kinko.secret_id, kinko.secret_key, policy)]


def file_too_small(kinko, bucket):
    policy = policy_for(kinko, bucket, {"key": "refused.txt"}, ["content-length-range", len(DATA) + 1, 1000])
    return [("key", "refused.txt"), *signature_fields(kinko.secret_id, kinko.secret_key, policy)]


def file_too_large(kinko, bucket):
    policy = policy_for(kinko, bucket, {"key": "refused.txt"}, ["content-length-range", 0, len(DATA) - 1])
    return [("key", "refused.txt"), *signature_fields(kinko.secret_id, kinko.secret_key, policy)]


def bad_signature(kinko, bucket):
    policy = policy_for(kinko, bucket, {"key": "refused.txt"})
    fields = dict(signature_fields(kinko.secret_id, kinko.secret_key, policy))
    fields["q-signature"] = ("0" if fields["q-signature"][0] != "0" else "1") + fields["q-signature"][1:]
    return [("key", "refused.txt"), *fields.items()]


def policy_changed_after_signing(kinko, bucket):
    fields = dict(signature_fields(kinko.secret_id, kinko.secret_key, policy_for(kinko, bucket, {"key": "other"})))
    fields["policy"] = base64.b64encode(json.dumps(policy_for(kinko, bucket, {"key": "refused.txt"})).encode()).decode()
    return [("key", "refused.txt"), *fields.items()]


def unknown_secret_id(kinko, bucket):
    policy = policy_for(kinko, bucket, {"key": "refused.txt"})
    return [("key", "refused.txt"), *signature_fields("AKIDunknownunknownunknown", kinko.secret_key, policy)]


def unsigned(kinko, bucket):
    return [("key", "refused.txt")]


def condition_on_a_missing_field(kinko, bucket):
    policy = policy_for(kinko, bucket, {"key": "refused.txt"}, ["eq", "$x-cos-meta-album", "summer"])
    return [("key", "refused.txt"), *signature_fields(kinko.secret_id, kinko.secret_key, policy)]


def policy_not_base64(kinko, bucket):
    fields = dict(signature_fields(kinko.secret_id, kinko.secret_key, policy_for(kinko, bucket)))
    fields["policy"] = "{not base64}"
    return [("key", "refused.txt"), *fields.items()]


def wrong_content_md5(kinko, bucket):
    policy = policy_for(kinko, bucket, {"key": "refused.txt"})
    wrong = base64.b64encode(hashlib.md5(b"other bytes").digest()).decode()
    return [
        ("key", "refused.txt"),
        *signature_fields(kinko.secret_id, kinko.secret_key, policy),
        ("Content-MD5", wrong),
    ]


REFUSALS = {
    "expired-policy": (expired_policy, 403, "AccessDenied"),
    "key-not-equal": (key_not_equal, 403, "AccessDenied"),
    "key-without-prefix": (key_without_prefix, 403, "AccessDenied"),
    "file-too-small": (file_too_small, 403, "AccessDenied"),
    "file-too-large": (file_too_large, 403, "AccessDenied"),
    "bad-signature": (bad_signature, 403, "SignatureDoesNotMatch"),
    "policy-changed-after-signing": (policy_changed_after_signing, 403, "SignatureDoesNotMatch"),
    "unknown-secret-id": (unknown_secret_id, 403, "InvalidAccessKeyId"),
    "unsigned-to-private-bucket": (unsigned, 403, "AccessDenied"),
    "condition-on-a-missing-field": (condition_on_a_missing_field, 403, "AccessDenied"),
    "policy-not-base64": (policy_not_base64, 400, "InvalidPolicyDocument"),
    "wrong-content-md5": (wrong_content_md5, 400, "BadDigest"),
}


@pytest.mark.parametrize("refusal", REFUSALS.values(), ids=REFUSALS.keys())
def test_refused_post_object_answers_with_the_cos_error(kinko, bucket, refusal):
    make_fields, status, code = refusal
    response = post_form(kinko, bucket, make_fields(kinko, bucket))
    assert (response.status_code, error_code(response)) == (status, code)


@pytest.mark.parametrize("refusal", REFUSALS.values(), ids=REFUSALS.keys())
def test_refused_post_object_stores_nothing(kinko, cos, bucket, refusal):
    make_fields, _, _ = refusal
    post_form(kinko, bucket, make_fields(kinko, bucket))
    assert "Contents" not in cos.list_objects(Bucket=bucket)


@pytest.mark.parametrize("refusal", REFUSALS.values(), ids=REFUSALS.keys())
def test_refused_post_object_leaves_no_blob_or_temp_file_behind(kinko, bucket, refusal):
    make_fields, _, _ = refusal
    before = files_under(kinko.data_dir / "objects")  # blobs in <xx>/ shards, temp files in tmp/
    post_form(kinko, bucket, make_fields(kinko, bucket), data=b"refused bytes " * 1000)
    assert files_under(kinko.data_dir / "objects") - before == set()


@pytest.mark.parametrize("refusal", REFUSALS.values(), ids=REFUSALS.keys())
def test_refused_post_object_keeps_the_existing_object(kinko, cos, bucket, refusal):
    make_fields, _, _ = refusal
    cos.put_object(Bucket=bucket, Key="refused.txt", Body=b"keep me")
    post_form(kinko, bucket, make_fields(kinko, bucket))
    assert body_of(cos.get_object(Bucket=bucket, Key="refused.txt")) == b"keep me"


def test_post_object_to_a_missing_bucket_is_no_such_bucket(kinko, bucket):
    missing = "missing" + bucket[1:]
    policy = policy_for(kinko, missing, {"key": "form.txt"})
    response = post_form(
        kinko, missing, [("key", "form.txt"), *signature_fields(kinko.secret_id, kinko.secret_key, policy)]
    )
    assert (response.status_code, error_code(response)) == (404, "NoSuchBucket")


def test_post_object_for_another_bucket_than_the_policy_names_is_refused(kinko, bucket):
    policy = policy_for(kinko, "other-bucket-1250000000", ["starts-with", "$key", ""])
    fields = [("key", "form.txt"), *signature_fields(kinko.secret_id, kinko.secret_key, policy)]
    response = post_form(kinko, bucket, fields)
    assert (response.status_code, error_code(response)) == (403, "AccessDenied")


def test_post_object_without_a_key_field_is_invalid_argument(kinko, bucket):
    policy = policy_for(kinko, bucket)
    response = post_form(kinko, bucket, signature_fields(kinko.secret_id, kinko.secret_key, policy))
    assert (response.status_code, error_code(response)) == (400, "InvalidArgument")
