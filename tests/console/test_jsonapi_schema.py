"""The JSON API's own OpenAPI description, served at /api/v1/schema/, holds for what the server answers: a bounded,
deterministic schemathesis run over every operation (unsafe ones included) against a second live server whose data
dir nobody else uses, so any request may change or delete anything. No 5xx, and no documented response that breaks
its own schema."""

import uuid

import hypothesis
import pytest
import requests
import schemathesis
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error, response_schema_conformance
from schemathesis.config import SchemathesisConfig

from tests.console.jsonapi_support import TRUST_POLICY, Api, ok
from tests.live import APPID, LiveKinko, running_kinko

EXAMPLES_PER_OPERATION = 15
OPERATIONS = [
    ("GET", "/api/v1/buckets/"),
    ("POST", "/api/v1/buckets/"),
    ("GET", "/api/v1/buckets/{bucket}/"),
    ("DELETE", "/api/v1/buckets/{bucket}/"),
    ("GET", "/api/v1/buckets/{bucket}/encryption/"),
    ("PUT", "/api/v1/buckets/{bucket}/encryption/"),
    ("DELETE", "/api/v1/buckets/{bucket}/encryption/"),
    ("GET", "/api/v1/buckets/{bucket}/tags/"),
    ("PUT", "/api/v1/buckets/{bucket}/tags/"),
    ("DELETE", "/api/v1/buckets/{bucket}/tags/"),
    ("GET", "/api/v1/buckets/{bucket}/cors/"),
    ("PUT", "/api/v1/buckets/{bucket}/cors/"),
    ("DELETE", "/api/v1/buckets/{bucket}/cors/"),
    ("GET", "/api/v1/buckets/{bucket}/policy/"),
    ("PUT", "/api/v1/buckets/{bucket}/policy/"),
    ("DELETE", "/api/v1/buckets/{bucket}/policy/"),
    ("GET", "/api/v1/buckets/{bucket}/encryption-jobs/"),
    ("POST", "/api/v1/buckets/{bucket}/encryption-jobs/"),
    ("GET", "/api/v1/buckets/{bucket}/objects/"),
    ("GET", "/api/v1/buckets/{bucket}/objects/{key}"),
    ("PUT", "/api/v1/buckets/{bucket}/objects/{key}"),
    ("DELETE", "/api/v1/buckets/{bucket}/objects/{key}"),
    ("GET", "/api/v1/buckets/{bucket}/object-tags/{key}"),
    ("PUT", "/api/v1/buckets/{bucket}/object-tags/{key}"),
    ("DELETE", "/api/v1/buckets/{bucket}/object-tags/{key}"),
    ("GET", "/api/v1/buckets/{bucket}/versioning/"),
    ("PUT", "/api/v1/buckets/{bucket}/versioning/"),
    ("GET", "/api/v1/buckets/{bucket}/versions/{key}"),
    ("POST", "/api/v1/buckets/{bucket}/versions/{key}"),
    ("DELETE", "/api/v1/buckets/{bucket}/versions/{key}"),
    ("GET", "/api/v1/jobs/"),
    ("GET", "/api/v1/jobs/{job_id}/"),
    ("POST", "/api/v1/jobs/{job_id}/cancel/"),
    ("GET", "/api/v1/kms/"),
    ("POST", "/api/v1/kms/activate/"),
    ("GET", "/api/v1/kms/keys/"),
    ("POST", "/api/v1/kms/keys/"),
    ("GET", "/api/v1/kms/keys/{key_id}/"),
    ("PATCH", "/api/v1/kms/keys/{key_id}/"),
    ("POST", "/api/v1/kms/keys/{key_id}/{operation}/"),
    ("POST", "/api/v1/kms/keys/{key_id}/schedule-deletion/"),
    ("GET", "/api/v1/kms/keys/{key_id}/impact/"),
    ("POST", "/api/v1/kms/keys/{key_id}/import-parameters/"),
    ("POST", "/api/v1/kms/keys/{key_id}/import/"),
    ("GET", "/api/v1/kms/keys/{key_id}/usage/"),
    ("GET", "/api/v1/kms/keys/{key_id}/audit/"),
    ("POST", "/api/v1/cam/cos-service-role/"),
    ("GET", "/api/v1/cam/policies/"),
    ("GET", "/api/v1/cam/roles/"),
    ("POST", "/api/v1/cam/roles/"),
    ("GET", "/api/v1/cam/roles/{name}/"),
    ("DELETE", "/api/v1/cam/roles/{name}/"),
    ("GET", "/api/v1/cam/users/"),
    ("POST", "/api/v1/cam/users/"),
    ("GET", "/api/v1/cam/users/{name}/access-keys/"),
    ("POST", "/api/v1/cam/users/{name}/access-keys/"),
]


@pytest.fixture(scope="module")
def fuzz_server(tmp_path_factory) -> LiveKinko:
    """A server of its own: the run may delete its buckets, keys and roles."""
    with running_kinko(tmp_path_factory.mktemp("kinko-schemathesis"), https=False) as server:
        yield server


@pytest.fixture(scope="module")
def existing(fuzz_server) -> dict[str, list[str]]:
    """Values naming real resources, by path parameter, so that generated requests reach more than 404s."""
    api = Api.root(fuzz_server)
    ok(api.post("/kms/activate/"))
    ok(api.post("/cam/cos-service-role/"))
    bucket = f"fuzz{uuid.uuid4().hex[:8]}-{APPID}"
    ok(api.post("/buckets/", json={"name": bucket, "region": "ap-guangzhou", "encryption": None}))
    for key in ("a.txt", "dir/b.txt"):
        ok(api.put(f"/buckets/{bucket}/objects/{key}?sse=AES256", data=b"fuzz"))
    job = ok(api.post(f"/buckets/{bucket}/encryption-jobs/", json={"sse": "cos/kms"}))
    key = ok(api.post("/kms/keys/", json={"alias": "fuzz", "description": "schemathesis"}))
    ok(api.post("/cam/roles/", json={"name": "fuzz", "trust_policy": TRUST_POLICY}))
    ok(api.post("/cam/users/", json={"name": "fuzz", "policies": ["QcloudCOSReadOnlyAccess"]}))
    return {
        "bucket": [bucket],
        "key": ["a.txt"],  # schemathesis leaves out path values holding a "/"
        "job_id": [job["id"]],
        "key_id": [key["key_id"]],
        "operation": ["enable", "disable", "rotate", "archive", "cancel-archive", "cancel-deletion"],
        "name": ["fuzz"],
    }


@pytest.fixture(scope="module")
def api_schema(fuzz_server, existing):
    """The served schema; a path parameter names a real resource 70% of the time, and a new bucket, role or user
    gets a valid bucket name half of the time; anything else otherwise."""
    config = SchemathesisConfig.from_dict(
        {
            "headers": {"Authorization": f"Token {fuzz_server.api_token}"},
            "request-timeout": 10,
            "dictionaries": {
                **{name: {"values": values} for name, values in existing.items()},
                "new_name": {"values": [f"fuzz{n}-{APPID}" for n in range(10)]},
            },
            "parameters": {
                **{f"path.{name}": {"dictionary": name, "probability": 0.7} for name in existing},
                "body.name": {"dictionary": "new_name", "probability": 0.5},
            },
        }
    )
    return schemathesis.openapi.from_url(f"{fuzz_server.url}/api/v1/schema/?format=json", config=config)


def test_schema_is_openapi_3_and_lists_every_resource(fuzz_server):
    response = requests.get(f"{fuzz_server.url}/api/v1/schema/?format=json", timeout=10)
    document = response.json()
    assert response.status_code == 200
    assert document["openapi"].startswith("3.")
    assert {
        "/api/v1/buckets/",
        "/api/v1/buckets/{bucket}/",
        "/api/v1/buckets/{bucket}/encryption/",
        "/api/v1/buckets/{bucket}/encryption-jobs/",
        "/api/v1/buckets/{bucket}/tags/",
        "/api/v1/buckets/{bucket}/cors/",
        "/api/v1/buckets/{bucket}/policy/",
        "/api/v1/buckets/{bucket}/object-tags/{key}",
        "/api/v1/buckets/{bucket}/versioning/",
        "/api/v1/buckets/{bucket}/versions/{key}",
        "/api/v1/buckets/{bucket}/objects/",
        "/api/v1/buckets/{bucket}/objects/{key}",
        "/api/v1/jobs/",
        "/api/v1/jobs/{job_id}/",
        "/api/v1/jobs/{job_id}/cancel/",
        "/api/v1/kms/",
        "/api/v1/kms/activate/",
        "/api/v1/kms/keys/",
        "/api/v1/kms/keys/{key_id}/",
        "/api/v1/cam/roles/",
        "/api/v1/cam/cos-service-role/",
        "/api/v1/cam/policies/",
        "/api/v1/cam/users/",
        "/api/v1/cam/users/{name}/access-keys/",
    } <= set(document["paths"])


def test_schema_is_served_as_yaml_by_default(fuzz_server):
    response = requests.get(f"{fuzz_server.url}/api/v1/schema/", timeout=10)
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("application/vnd.oai.openapi")
    assert response.text.startswith("openapi: 3.")


def test_docs_page_is_html_pointing_at_the_schema(fuzz_server):
    response = requests.get(f"{fuzz_server.url}/api/v1/docs/", timeout=10)
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("text/html")
    # Swagger UI's start-up script is a file of its own (no inline script under the CSP); it names the schema.
    script = requests.get(f"{fuzz_server.url}/api/v1/docs/?script=", timeout=10)
    assert '<script src="/api/v1/docs/?script="></script>' in response.text
    assert script.headers["Content-Type"].startswith("application/javascript")
    assert "/api/v1/schema/" in script.text


def test_every_operation_of_the_schema_is_fuzzed(api_schema):
    served = {(method.upper(), path) for path in api_schema for method in api_schema[path]}
    assert served == set(OPERATIONS)


@pytest.mark.parametrize(("method", "path"), OPERATIONS, ids=[f"{m} {p}" for m, p in OPERATIONS])
def test_operation_never_answers_5xx_nor_breaks_its_own_schema(api_schema, method, path):
    operation = api_schema[path][method]
    cases = st.one_of(operation.as_strategy(GenerationMode.POSITIVE), operation.as_strategy(GenerationMode.NEGATIVE))

    # No shrinking: a failure is reported as found, which keeps the run bounded.
    @hypothesis.settings(
        max_examples=EXAMPLES_PER_OPERATION,
        derandomize=True,
        database=None,
        deadline=None,
        phases=[hypothesis.Phase.explicit, hypothesis.Phase.generate],
        suppress_health_check=list(hypothesis.HealthCheck),
    )
    @hypothesis.given(case=cases)
    def check(case):
        case.call_and_validate(checks=[not_a_server_error, response_schema_conformance])

    check()
