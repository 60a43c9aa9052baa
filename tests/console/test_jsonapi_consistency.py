"""The JSON API speaks one dialect (issue 13): encryption jobs on chosen keys only, request bodies that refuse
unknown fields, `"sse": "AES256" | "cos/kms" | null` everywhere (old names kept), one paginated jobs list authorised
per job, one error shape with JSON 404/405, X-Request-Id on every /api/ response and in the audit trail, and a
schema with readable operation ids and no warnings. Real HTTP (requests, qcloud_cos, the CAM SDK) against the
session's live server."""

import re
import subprocess
import sys

import pytest
import requests
import yaml

from tests.console.jsonapi_support import TRUST_POLICY, new_bucket, ok, put_object, unique, wait_for_job
from tests.live import APPID, REGION, ROOT, LiveKinko, Worker, cos_client, node_env
from tests.protocol.support import manage

SSE_HEADER = "x-cos-server-side-encryption"
UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


def error(response: requests.Response) -> tuple[int, str]:
    body = response.json()
    assert set(body) <= {"code", "detail", "fields"} and isinstance(body["detail"], str), body
    return response.status_code, body["code"]


# -- encryption jobs on chosen keys ----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def chosen_job(kinko, api) -> tuple[str, dict]:
    """Four plain objects; a job asked to encrypt two of them, run by a real worker."""
    bucket = new_bucket(api)
    for key in ("a.txt", "b.txt", "c/d.txt", "c/e.txt"):
        put_object(api, bucket, key, key.encode())
    worker = Worker("filesystem://", kinko.data_dir, {"KINKO_APPID": APPID})
    try:
        started = ok(
            api.post(f"/buckets/{bucket}/encryption-jobs/", json={"keys": ["b.txt", "c/e.txt"], "sse": "AES256"})
        )
        finished = wait_for_job(api, started["id"])
    finally:
        worker.stop()
    return bucket, finished


def test_an_encryption_job_on_chosen_keys_changes_only_those_objects(kinko, chosen_job):
    bucket, job = chosen_job
    cos = cos_client(kinko)
    seen = {
        key: cos.head_object(Bucket=bucket, Key=key).get(SSE_HEADER) for key in ("a.txt", "b.txt", "c/d.txt", "c/e.txt")
    }
    assert (job["status"], seen) == (
        "succeeded",
        {"a.txt": None, "b.txt": "AES256", "c/d.txt": None, "c/e.txt": "AES256"},
    )


def test_an_encryption_job_on_chosen_keys_counts_only_those(chosen_job):
    _, job = chosen_job
    assert (job["total"], job["done"], job["params"]["keys"]) == (2, 2, ["b.txt", "c/e.txt"])


def test_an_encryption_job_refuses_a_field_it_does_not_know(api):
    bucket = new_bucket(api)
    response = api.post(f"/buckets/{bucket}/encryption-jobs/", json={"sse": "AES256", "key": ["a.txt"]})
    assert error(response) == (400, "InvalidParameter")
    assert list(response.json()["fields"]) == ["key"]


def test_an_encryption_job_refusing_a_field_starts_nothing(api):
    bucket = new_bucket(api)
    put_object(api, bucket, "a.txt", b"a.txt")
    api.post(f"/buckets/{bucket}/encryption-jobs/", json={"sse": "AES256", "keyz": ["a.txt"]})
    assert ok(api.get("/jobs/", params={"bucket": bucket}))["count"] == 0


def test_an_encryption_job_names_keys_or_a_prefix_not_both(api):
    bucket = new_bucket(api)
    response = api.post(f"/buckets/{bucket}/encryption-jobs/", json={"sse": "AES256", "prefix": "c/", "keys": ["a"]})
    assert error(response) == (400, "InvalidParameter")


@pytest.mark.parametrize("keys", [[], [f"k{n}" for n in range(1001)], "a.txt", [1, {"a": 1}], ["x" * 851]])
def test_an_encryption_job_with_keys_out_of_bounds_is_a_400(api, keys):
    bucket = new_bucket(api)
    response = api.post(f"/buckets/{bucket}/encryption-jobs/", json={"sse": "AES256", "keys": keys})
    assert error(response) == (400, "InvalidParameter")


def test_an_encryption_job_on_chosen_keys_needs_put_object_on_each_key(api, make_user):
    bucket = new_bucket(api)
    resource = f"qcs::cos:{REGION}:uid/{APPID}:{bucket}/mine/*"
    writer, _ = make_user({"effect": "allow", "action": ["name/cos:*"], "resource": [resource]})
    response = writer.post(
        f"/buckets/{bucket}/encryption-jobs/", json={"sse": "AES256", "keys": ["mine/a", "theirs/b"]}
    )
    assert error(response) == (403, "AuthFailure.UnauthorizedOperation")
    assert ok(api.get("/jobs/", params={"bucket": bucket}))["count"] == 0


def test_an_encryption_job_on_keys_the_caller_may_write_starts(api, make_user):
    bucket = new_bucket(api)
    resource = f"qcs::cos:{REGION}:uid/{APPID}:{bucket}/mine/*"
    writer, _ = make_user({"effect": "allow", "action": ["name/cos:*"], "resource": [resource]})
    response = writer.post(f"/buckets/{bucket}/encryption-jobs/", json={"sse": "AES256", "keys": ["mine/a", "mine/b"]})
    assert response.status_code == 202, response.text


@pytest.mark.parametrize(
    "body",
    [
        {"name": "x", "region": REGION, "colour": "red"},
        {"name": "x", "region": REGION, "encryption": {"sse": "AES256", "extra": 1}},
    ],
)
def test_creating_a_bucket_refuses_a_field_it_does_not_know(api, body):
    assert error(api.post("/buckets/", json=body)) == (400, "InvalidParameter")


# -- one vocabulary for encryption ------------------------------------------------------------------------------


def test_a_plain_object_has_sse_null_and_no_kms_key(api):
    body = put_object(api, new_bucket(api), "plain.txt", b"plain.txt")
    assert (body["sse"], body["kms_key_id"]) == (None, None)


def test_an_sse_cos_object_answers_sse_aes256(api):
    body = put_object(api, new_bucket(api), "cos.txt", b"cos.txt", sse="AES256")
    assert (body["sse"], body["kms_key_id"], body["encryption"]) == ("AES256", None, "SSE-COS")


def test_an_sse_kms_object_answers_sse_cos_kms_with_its_key(api, default_keys):
    body = put_object(api, new_bucket(api), "kms.txt", b"kms.txt", sse="cos/kms")
    assert (body["sse"], body["kms_key_id"], body["encryption"]) == ("cos/kms", default_keys[REGION], "SSE-KMS")


def test_a_bucket_default_is_set_with_sse(api, default_keys):
    bucket = new_bucket(api)
    body = ok(api.put(f"/buckets/{bucket}/encryption/", json={"sse": "cos/kms"}))
    assert body == {"sse": "cos/kms", "kms_key_id": default_keys[REGION], "algorithm": "KMS"}


def test_a_bucket_created_with_sse_reads_back_in_both_vocabularies(api):
    bucket = new_bucket(api, encryption={"sse": "AES256"})
    assert ok(api.get(f"/buckets/{bucket}/"))["encryption"] == {
        "sse": "AES256",
        "kms_key_id": None,
        "algorithm": "AES256",
    }


def test_a_bucket_default_still_takes_the_old_algorithm_name(api, default_keys):
    bucket = new_bucket(api)
    body = ok(api.put(f"/buckets/{bucket}/encryption/", json={"algorithm": "KMS"}))
    assert (body["sse"], body["kms_key_id"]) == ("cos/kms", default_keys[REGION])


def test_a_bucket_default_naming_two_different_encryptions_is_a_400(api):
    bucket = new_bucket(api)
    response = api.put(f"/buckets/{bucket}/encryption/", json={"sse": "AES256", "algorithm": "KMS"})
    assert error(response) == (400, "InvalidParameter")


def test_a_bucket_default_without_sse_is_a_400_naming_sse(api):
    response = api.put(f"/buckets/{new_bucket(api)}/encryption/", json={})
    assert (error(response), list(response.json()["fields"])) == ((400, "InvalidParameter"), ["sse"])


def test_a_job_answers_sse_and_a_null_kms_key(api):
    bucket = new_bucket(api)
    job = ok(api.post(f"/buckets/{bucket}/encryption-jobs/", json={"sse": "AES256"}))
    assert (job["params"]["sse"], job["params"]["kms_key_id"]) == ("AES256", None)


# -- the jobs list -----------------------------------------------------------------------------------------------


def test_the_jobs_list_is_a_page(api):
    bucket = new_bucket(api)
    ok(api.post(f"/buckets/{bucket}/encryption-jobs/", json={"sse": "AES256"}))
    body = ok(api.get("/jobs/", params={"bucket": bucket}))
    assert (set(body), body["count"], body["next"], body["previous"]) == (
        {"count", "next", "previous", "results"},
        1,
        None,
        None,
    )


def test_the_jobs_list_pages_with_limit_and_offset(api):
    bucket = new_bucket(api)
    started = [ok(api.post(f"/buckets/{bucket}/encryption-jobs/", json={"sse": "AES256"}))["id"] for _ in range(3)]
    first = ok(api.get("/jobs/", params={"bucket": bucket, "limit": 2}))
    second = ok(requests.get(first["next"], headers=api.session.headers, timeout=30))
    listed = [job["id"] for job in first["results"] + second["results"]]
    assert (first["count"], listed, second["next"]) == (3, started[::-1], None)


def test_the_jobs_list_filters_by_status_and_kind(api):
    bucket = new_bucket(api)
    job = ok(api.post(f"/buckets/{bucket}/encryption-jobs/", json={"sse": "AES256"}))
    ok(api.post(f"/jobs/{job['id']}/cancel/"))
    ok(api.post(f"/buckets/{bucket}/encryption-jobs/", json={"sse": "AES256"}))
    cancelled = ok(api.get("/jobs/", params={"bucket": bucket, "status": "cancelled", "kind": "encrypt_objects"}))
    assert [found["id"] for found in cancelled["results"]] == [job["id"]]


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("limit", "0"),
        ("limit", "1001"),
        ("limit", "-1"),
        ("limit", "1e3"),
        ("limit", "٣"),
        ("offset", "-1"),
        ("offset", "99999999999999999999"),
        ("status", "sleeping"),
    ],
)
def test_a_jobs_list_query_out_of_range_is_a_400(api, name, value):
    response = api.get("/jobs/", params={name: value})
    assert (error(response), list(response.json()["fields"])) == ((400, "InvalidParameter"), [name])


def test_the_jobs_list_shows_no_job_of_a_bucket_the_caller_may_not_read(api, make_user):
    bucket = new_bucket(api)
    ok(api.post(f"/buckets/{bucket}/encryption-jobs/", json={"sse": "AES256"}))
    other = new_bucket(api)
    resource = f"qcs::cos:{REGION}:uid/{APPID}:{other}/*"
    reader, _ = make_user({"effect": "allow", "action": ["name/cos:GetBucket"], "resource": [resource]})
    assert ok(reader.get("/jobs/", params={"bucket": bucket}))["count"] == 0


def test_the_jobs_list_shows_a_job_of_a_bucket_the_caller_may_read(api, make_user):
    bucket = new_bucket(api)
    job = ok(api.post(f"/buckets/{bucket}/encryption-jobs/", json={"sse": "AES256"}))
    resource = f"qcs::cos:{REGION}:uid/{APPID}:{bucket}/*"
    reader, _ = make_user({"effect": "allow", "action": ["name/cos:GetBucket"], "resource": [resource]})
    assert [found["id"] for found in ok(reader.get("/jobs/"))["results"]] == [job["id"]]


# -- every list is a page -----------------------------------------------------------------------------------------

PAGE = {"count", "next", "previous", "results"}
LISTS = [
    "/buckets/",
    "/buckets/{bucket}/objects/",
    "/buckets/{bucket}/encryption-jobs/",
    "/jobs/",
    "/kms/keys/",
    "/kms/keys/{key_id}/audit/",
    "/cam/roles/",
    "/cam/policies/",
    "/cam/users/",
    "/cam/users/{user}/access-keys/",
]
LISTED_KEYS = ["a.txt", "b/1.txt", "b/2.txt", "c/3.txt", "d.txt"]


@pytest.fixture(scope="module")
def one_of_each(api, default_keys) -> dict[str, str]:
    """Something in every list: a bucket with LISTED_KEYS and a job, a CMK, a role and a sub-user."""
    bucket = new_bucket(api)
    for key in LISTED_KEYS:
        put_object(api, bucket, key, key.encode())
    ok(api.post(f"/buckets/{bucket}/encryption-jobs/", json={"sse": "AES256"}))
    key_id = ok(api.post("/kms/keys/", json={"alias": unique("page")}))["key_id"]
    ok(api.post("/cam/roles/", json={"name": unique("page"), "trust_policy": TRUST_POLICY}))
    user = ok(api.post("/cam/users/", json={"name": unique("page")}))["name"]
    return {"bucket": bucket, "key_id": key_id, "user": user}


@pytest.mark.parametrize("path", LISTS)
def test_every_list_answers_a_page_with_rows(api, one_of_each, path):
    body = ok(api.get(path.format(**one_of_each), params={"limit": 1}))
    assert (PAGE <= set(body), len(body["results"]), body["count"] >= 1) == (True, 1, True), body


@pytest.mark.parametrize("path", LISTS)
def test_every_list_pages_through_all_its_rows_by_next(api, one_of_each, path):
    url = path.format(**one_of_each)
    whole = ok(api.get(url, params={"limit": 1000}))
    size = -(-whole["count"] // 3)  # three pages, the last one maybe shorter
    pages = [ok(api.get(url, params={"limit": size}))]
    while pages[-1]["next"] and len(pages) <= 3:
        pages.append(ok(requests.get(pages[-1]["next"], headers=api.session.headers, timeout=30)))
    rows = [row for page in pages for row in page["results"]]
    assert (len(pages), rows) == (-(-whole["count"] // size), whole["results"])


@pytest.mark.parametrize("path", LISTS)
@pytest.mark.parametrize(("name", "value"), [("limit", "0"), ("limit", "1001"), ("offset", "-1"), ("offset", "x")])
def test_every_list_refuses_a_page_out_of_range(api, one_of_each, path, name, value):
    response = api.get(path.format(**one_of_each), params={name: value})
    assert (error(response), list(response.json()["fields"])) == ((400, "InvalidParameter"), [name])


def test_a_page_links_back_to_the_one_before(api, one_of_each):
    second = ok(api.get("/cam/policies/", params={"limit": 2, "offset": 2}))
    first = ok(requests.get(second["previous"], headers=api.session.headers, timeout=30))
    assert (first["previous"], first["results"]) == (
        None,
        ok(api.get("/cam/policies/", params={"limit": 2}))["results"],
    )


def test_the_objects_page_counts_every_object_and_says_where_a_marker_continues(api, one_of_each):
    body = ok(api.get(f"/buckets/{one_of_each['bucket']}/objects/", params={"limit": 2}))
    assert ([row["key"] for row in body["results"]], body["count"], body["is_truncated"], body["next_marker"]) == (
        ["a.txt", "b/1.txt"],
        5,
        True,
        "b/1.txt",
    )


def test_the_objects_page_continues_by_offset_or_by_marker_alike(api, one_of_each):
    path = f"/buckets/{one_of_each['bucket']}/objects/"
    first = ok(api.get(path, params={"limit": 2}))
    by_offset = ok(requests.get(first["next"], headers=api.session.headers, timeout=30))
    by_marker = ok(api.get(path, params={"limit": 2, "marker": first["next_marker"]}))
    assert (
        [row["key"] for row in by_offset["results"]]
        == [row["key"] for row in by_marker["results"]]
        == [
            "b/2.txt",
            "c/3.txt",
        ]
    )


def test_the_objects_page_counts_a_common_prefix_as_one_row(api, one_of_each):
    body = ok(api.get(f"/buckets/{one_of_each['bucket']}/objects/", params={"delimiter": "/", "limit": 2}))
    rows = ([row["key"] for row in body["results"]], body["common_prefixes"], body["count"], body["next_marker"])
    assert rows == (["a.txt"], ["b/"], 4, "b/")


def test_the_objects_page_after_a_marker_counts_what_follows_it(api, one_of_each):
    body = ok(api.get(f"/buckets/{one_of_each['bucket']}/objects/", params={"delimiter": "/", "marker": "b/1.txt"}))
    rows = ([row["key"] for row in body["results"]], body["common_prefixes"], body["count"], body["next"])
    assert rows == (["d.txt"], ["c/"], 2, None)


def test_max_keys_is_still_the_objects_page_size(api, one_of_each):
    body = ok(api.get(f"/buckets/{one_of_each['bucket']}/objects/", params={"max_keys": 3}))
    assert (len(body["results"]), body["next_marker"]) == (3, "b/2.txt")


def test_max_keys_and_limit_together_are_a_400(api, one_of_each):
    response = api.get(f"/buckets/{one_of_each['bucket']}/objects/", params={"max_keys": 3, "limit": 3})
    assert (error(response), list(response.json()["fields"])) == ((400, "InvalidParameter"), ["max_keys"])


# -- one error shape ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("method", ["GET", "POST", "PUT", "DELETE"])
def test_an_unknown_api_route_is_a_json_not_found(api, method):
    response = api.request(method, "/no-such-thing/")
    assert (response.headers["Content-Type"], error(response)) == ("application/json", (404, "NotFound"))


def test_a_method_the_route_lacks_is_a_json_405(api):
    response = api.request("DELETE", "/jobs/")
    assert (response.headers["Content-Type"], error(response)) == ("application/json", (405, "MethodNotAllowed"))


def test_an_accept_header_the_api_cannot_answer_is_a_json_406(api):
    response = api.get("/buckets/", headers={"Accept": "text/csv"})
    assert (response.headers["Content-Type"], error(response)) == ("application/json", (406, "NotAcceptable"))


def test_a_body_in_a_content_type_the_route_does_not_read_is_a_415(api):
    response = api.post("/buckets/", data=b"name=x", headers={"Content-Type": "text/plain"})
    assert error(response) == (415, "UnsupportedMediaType")


def test_a_missing_token_is_an_auth_failure_in_the_same_shape(kinko):
    response = requests.get(f"{kinko.url}/api/v1/buckets/", timeout=10)
    assert error(response) == (401, "AuthFailure.TokenMissing")


def test_a_validation_error_says_what_is_wrong_in_a_sentence(api):
    body = api.post("/buckets/", json={"region": REGION}).json()
    assert (body["code"], body["fields"], body["detail"]) == (
        "InvalidParameter",
        {"name": ["This field is required."]},
        "name: This field is required.",
    )


def test_a_nested_validation_error_names_the_nested_field(api):
    body = api.post("/buckets/", json={"name": "x", "region": REGION, "encryption": {"sse": "DES"}}).json()
    assert list(body["fields"]) == ["encryption.sse"]


# -- request ids and the audit trail ------------------------------------------------------------------------------


def test_every_api_response_carries_a_fresh_request_id(api):
    ids = [api.get(path).headers["X-Request-Id"] for path in ("/buckets/", "/no-such-thing/", "/jobs/?limit=0")]
    assert all(UUID.fullmatch(found) for found in ids) and len(set(ids)) == 3


def test_a_safe_request_id_of_the_caller_is_kept(api):
    assert api.get("/buckets/", headers={"X-Request-Id": "client-42.a:b"}).headers["X-Request-Id"] == "client-42.a:b"


@pytest.mark.parametrize("offered", ["a b", "x" * 65, "../etc", "é", "-leading"])
def test_an_unsafe_request_id_of_the_caller_is_replaced(api, offered):
    assert UUID.fullmatch(api.get("/buckets/", headers={"X-Request-Id": offered}).headers["X-Request-Id"])


def test_a_console_page_gets_no_request_id_header(kinko):
    assert "X-Request-Id" not in requests.get(f"{kinko.url}/login/", timeout=10).headers


def test_a_key_change_through_the_api_is_audited_with_its_principal_and_request_id(kinko, api, default_keys):
    request_id = unique("rid-")
    key = ok(api.post("/kms/keys/", json={"alias": unique("a")}))
    ok(api.post(f"/kms/keys/{key['key_id']}/disable/", headers={"X-Request-Id": request_id}))
    events = ok(api.get(f"/kms/keys/{key['key_id']}/audit/"))["results"]
    disabled = [event for event in events if event["action"] == "DisableKey"]
    assert [(event["request_id"], event["actor"]) for event in disabled] == [(request_id, f"jsonapi:{kinko.secret_id}")]


def audit_rows(kinko: LiveKinko) -> int:
    found = manage(
        kinko, "shell", "-v", "0", "-c", "from keys.models import AuditEvent; print(AuditEvent.objects.count())"
    )
    return int(found.strip().splitlines()[-1])


def test_reading_the_kms_through_the_api_writes_no_audit_row(kinko, api, default_keys):
    key_id = ok(api.post("/kms/keys/", json={"alias": unique("r")}))["key_id"]
    before = audit_rows(kinko)
    for path in (
        "/kms/",
        "/kms/keys/",
        f"/kms/keys/{key_id}/",
        f"/kms/keys/{key_id}/audit/",
        f"/kms/keys/{key_id}/usage/",
        f"/kms/keys/{key_id}/impact/",
    ):
        ok(api.get(path))
    assert audit_rows(kinko) == before


def test_the_kms_status_read_without_audit_still_counts_the_keys(api, default_keys):
    ok(api.post("/kms/keys/", json={"alias": unique("s")}))
    body = ok(api.get("/kms/"))
    assert body["activated"] is True and body["key_count"] >= 1 and body["key_limit"] == 200


# -- the schema ----------------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def schema(kinko) -> dict:
    return yaml.safe_load(requests.get(f"{kinko.url}/api/v1/schema/", timeout=30).text)


def operation_ids(schema: dict) -> list[str]:
    return [op["operationId"] for path in schema["paths"].values() for op in path.values()]


def test_schema_generation_has_no_warning(kinko):
    command = [sys.executable, "manage.py", "spectacular", "--validate", "--fail-on-warn", "--file", "/dev/null"]
    env = node_env(kinko.data_dir)
    done = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr


def test_operation_ids_are_readable_snake_case(schema):
    ids = operation_ids(schema)
    assert [found for found in ids if not re.fullmatch(r"[a-z]+(_[a-z]+)*", found)] == []
    assert len(ids) == len(set(ids))


def test_operation_ids_name_what_the_operation_does(schema):
    assert {
        "buckets_list",
        "bucket_create",
        "bucket_encryption_update",
        "jobs_list",
        "job_cancel",
        "bucket_encryption_job_create",
        "keys_list",
        "key_partial_update",
    } <= set(operation_ids(schema))


def test_schema_marks_the_old_encryption_names_deprecated(schema):
    components = schema["components"]["schemas"]
    assert components["EncryptionOut"]["properties"]["algorithm"]["deprecated"] is True
    assert components["Object"]["properties"]["encryption"]["deprecated"] is True


def test_schema_property_names_are_snake_case(schema):
    names = {name for component in schema["components"]["schemas"].values() for name in component.get("properties", {})}
    assert [name for name in names if not re.fullmatch(r"[a-z][a-z0-9]*(_[a-z0-9]+)*", name)] == []
