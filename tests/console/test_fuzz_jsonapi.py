"""Property-based test of the JSON API edge (issue 12), beside the schema-driven run of test_jsonapi_schema.py:
generated bodies for every POST, PUT and PATCH under /api/v1/ (each route's own field names holding values of
every JSON type, wrong types, huge integers, deep nesting; bodies that are not JSON objects, or not JSON, in any
content type) and junk query parameters on the listings, with the API token, against resources of the test's own
and names that do not exist. Whatever comes in, the answer is never a 5xx, a refusal is `{"code", "detail"}`,
and the server logs no traceback. Cases are derandomized (tests/fuzzing.py)."""

import json
import uuid
from urllib.parse import quote, urlencode

import pytest
import requests
from hypothesis import strategies as st
from tencentcloud.cam.v20190116 import models as cam_models

from tests.console.jsonapi_support import TRUST_POLICY, Api, listed, ok
from tests.fuzzing import fuzz_settings, json_scalars, json_values, nested, send_cases
from tests.live import APPID

SETTINGS = fuzz_settings(150)
# (method, path with {placeholders}, the fields of its body)
ROUTES = [
    ("POST", "/buckets/", ["name", "region", "acl", "encryption"]),
    ("PUT", "/buckets/{bucket}/encryption/", ["algorithm", "kms_key_id"]),
    ("POST", "/buckets/{bucket}/encryption-jobs/", ["prefix", "sse", "kms_key_id"]),
    ("PUT", "/buckets/{bucket}/objects/{key}", []),
    ("PUT", "/buckets/{bucket}/versioning/", ["status"]),
    ("POST", "/buckets/{bucket}/versions/{key}", ["version_id"]),
    ("POST", "/jobs/{job_id}/cancel/", []),
    ("POST", "/kms/activate/", []),
    ("POST", "/kms/keys/", ["alias", "description", "origin", "region"]),
    ("PATCH", "/kms/keys/{key_id}/", ["alias", "description", "state", "rotation_enabled", "rotate_days"]),
    ("POST", "/kms/keys/{key_id}/{operation}/", []),
    ("POST", "/kms/keys/{key_id}/schedule-deletion/", ["pending_window_in_days"]),
    ("POST", "/kms/keys/{key_id}/import-parameters/", ["wrapping_algorithm"]),
    ("POST", "/kms/keys/{key_id}/import/", ["import_token", "encrypted_key_material", "valid_to"]),
    ("POST", "/cam/roles/", ["name", "trust_policy", "description", "policies"]),
    ("POST", "/cam/cos-service-role/", []),
    ("POST", "/cam/users/", ["name", "remark", "policies"]),
    ("POST", "/cam/users/{name}/access-keys/", []),
]
LISTINGS = [
    "/buckets/",
    "/buckets/{bucket}/objects/",
    "/buckets/{bucket}/encryption-jobs/",
    "/jobs/",
    "/kms/keys/",
    "/kms/keys/{key_id}/audit/",
    "/cam/roles/",
    "/cam/policies/",
    "/cam/users/",
    "/cam/users/{name}/access-keys/",
]
QUERY_NAMES = [
    "limit",
    "offset",
    "max_keys",
    "prefix",
    "delimiter",
    "marker",
    "region",
    "download",
    "sse",
    "kms_key_id",
    "page",
    "format",
]


def names_of(api: Api, path: str) -> set[str]:
    return {item["name"] for item in listed(api, path)}


@pytest.fixture(scope="module")
def world(kinko, api, cam, cos):
    """A bucket (with an object and a job), a CMK, a role and a sub-user of the test's own. Buckets, roles and
    sub-users the run creates are deleted afterwards (CMKs cannot be: they are at most scheduled for deletion)."""
    ok(api.post("/kms/activate/"))
    before = {path: names_of(api, path) for path in ("/buckets/", "/cam/roles/", "/cam/users/")}
    suffix = uuid.uuid4().hex[:8]
    bucket = f"jfuzz{suffix}-{APPID}"
    ok(api.post("/buckets/", json={"name": bucket, "region": "ap-guangzhou"}))
    ok(api.put(f"/buckets/{bucket}/objects/a.txt", data=b"fuzz"))
    job = ok(api.post(f"/buckets/{bucket}/encryption-jobs/", json={"sse": "AES256"}))
    key = ok(api.post("/kms/keys/", json={"alias": f"jfuzz{suffix}"}))
    ok(api.post("/cam/roles/", json={"name": f"jfuzz{suffix}", "trust_policy": TRUST_POLICY}))
    ok(api.post("/cam/users/", json={"name": f"jfuzz{suffix}"}))
    yield {"bucket": bucket, "job_id": job["id"], "key_id": key["key_id"], "name": f"jfuzz{suffix}"}
    for created in sorted(names_of(api, "/buckets/") - before["/buckets/"]):
        listing = cos.list_objects(Bucket=created, MaxKeys=1000)
        for item in listing.get("Contents", []):
            cos.delete_object(Bucket=created, Key=item["Key"])
        cos.delete_bucket(Bucket=created)
    for created in sorted(names_of(api, "/cam/roles/") - before["/cam/roles/"]):
        api.delete(f"/cam/roles/{quote(created, safe='')}/")
    for created in sorted(names_of(api, "/cam/users/") - before["/cam/users/"]):
        request = cam_models.DeleteUserRequest()
        request.Name, request.Force = created, 1
        cam.DeleteUser(request)


# -- strategies ----------------------------------------------------------------------------------------------

scalars = json_scalars(
    [
        "",
        "AES256",
        "KMS",
        "cos/kms",
        "SSE-C",
        "private",
        "public-read",
        "ap-guangzhou",
        "Enabled",
        "Disabled",
        "TENCENT_KMS",
        "EXTERNAL",
        "RSAES_OAEP_SHA_256",
        "QcloudCOSFullAccess",
        TRUST_POLICY,
        "{}",
        f"jfuzz-{APPID}",
        "\x00",
        "\U0010ffff",
        "7",
        "-1",
    ]
)
any_json = json_values(scalars)
path_text = st.text(max_size=20)


@st.composite
def api_requests(draw, world):
    if draw(st.integers(0, 4)) == 0:
        method, template, fields = "GET", draw(st.sampled_from(LISTINGS)), []
    else:
        method, template, fields = draw(st.sampled_from(ROUTES))
    values = {
        "bucket": draw(st.one_of(st.just(world["bucket"]), path_text)),
        "key": draw(st.one_of(st.just("a.txt"), st.text(min_size=1, max_size=20))),
        "job_id": draw(st.one_of(st.just(world["job_id"]), st.uuids().map(str))),
        "key_id": draw(st.one_of(st.just(world["key_id"]), path_text)),
        "name": draw(st.one_of(st.just(world["name"]), path_text)),
        "operation": draw(
            st.one_of(
                st.sampled_from(
                    [
                        "enable",
                        "disable",
                        "rotate",
                        "archive",
                        "cancel-archive",
                        "cancel-deletion",
                        "delete-imported-material",
                    ]
                ),
                path_text,
            )
        ),
    }
    path = template.format(**{name: quote(value, safe="") or "x" for name, value in values.items()})
    query = draw(st.lists(st.tuples(st.one_of(st.sampled_from(QUERY_NAMES), path_text), scalars.map(str)), max_size=3))
    document = draw(st.dictionaries(st.sampled_from(fields), any_json, max_size=len(fields)) if fields else st.just({}))
    body, content_type = draw(
        st.one_of(
            st.tuples(st.just(json.dumps(document).encode()), st.just("application/json")),
            st.tuples(st.just(json.dumps(document).encode()), st.just("application/json")),
            st.tuples(any_json.map(lambda value: json.dumps(value).encode()), st.just("application/json")),
            st.tuples(
                st.integers(1, 20000).map(lambda n: f'{{"name": {nested(n)}}}'.encode()), st.just("application/json")
            ),
            st.tuples(
                st.binary(max_size=100),
                st.sampled_from(
                    [
                        "application/json",
                        "application/octet-stream",
                        "text/plain",
                        "application/x-www-form-urlencoded",
                        "multipart/form-data",
                        "multipart/form-data; boundary=x",
                        "",
                    ]
                ),
            ),
            st.tuples(
                st.just(urlencode({k: json.dumps(v) for k, v in document.items()}).encode()),
                st.just("application/x-www-form-urlencoded"),
            ),
        )
    )
    return {"method": method, "path": path, "query": query, "body": body, "content_type": content_type}


def send(api: Api, case: dict) -> requests.Response:
    path = case["path"] + (f"?{urlencode(case['query'])}" if case["query"] else "")
    headers = {"Content-Type": case["content_type"]} if case["content_type"] else {}
    return api.request(case["method"], path, data=case["body"], headers=headers)


def check_answer(case: dict, response: requests.Response) -> None:
    assert response.status_code < 500, (response.status_code, response.text[:500])
    if response.status_code >= 400:
        body = response.json()
        # the one error shape; a refused body adds its per-field messages under "fields"
        assert set(body) in ({"code", "detail"}, {"code", "detail", "fields"}), body
        assert isinstance(body["code"], str) and isinstance(body["detail"], str), body


def test_generated_json_api_requests_never_answer_a_server_error_nor_log_a_traceback(
    kinko, api, world, record_property
):
    cases = api_requests(world)
    send_cases("jsonapi", SETTINGS, cases, lambda case: send(api, case), check_answer, kinko.log_path, record_property)
