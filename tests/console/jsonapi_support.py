"""What the JSON API tests share: a `requests` client for /api/v1/ with one Authorization header, sub-users with
chosen policies, and the small steps a test's setup takes. The fixtures built on them (the root's client, the
activated KMS's default keys, the CAM SDK, `make_user`) are in tests/console/conftest.py."""

import json
import time
import uuid
from urllib.parse import quote

import requests
from tencentcloud.cam.v20190116 import cam_client
from tencentcloud.cam.v20190116 import models as cam_models

from tests.live import APPID, REGION, LiveKinko

TRUST_POLICY = json.dumps(
    {
        "version": "2.0",
        "statement": [
            {"action": "name/sts:AssumeRole", "effect": "allow", "principal": {"service": ["cos.qcloud.com"]}}
        ],
    }
)


class Api:
    """`requests` against /api/v1/ with one Authorization header (or none)."""

    def __init__(self, kinko: LiveKinko, authorization: str | None = None) -> None:
        self.base = f"{kinko.url}/api/v1"
        self.session = requests.Session()
        if authorization is not None:
            self.session.headers["Authorization"] = authorization

    @classmethod
    def root(cls, kinko: LiveKinko) -> "Api":
        """As the account's root, with its ApiToken."""
        return cls(kinko, f"Token {kinko.api_token}")

    @classmethod
    def with_key(cls, kinko: LiveKinko, pair: dict) -> "Api":
        """With an API key pair as the JSON API answers it (`secret_id`, `secret_key`)."""
        return cls(kinko, f"Token {pair['secret_id']}:{pair['secret_key']}")

    def request(self, method: str, path: str, **kwargs) -> requests.Response:
        return self.session.request(method, self.base + path, timeout=30, **kwargs)

    def get(self, path: str, **kwargs) -> requests.Response:
        return self.request("GET", path, **kwargs)

    def post(self, path: str, **kwargs) -> requests.Response:
        return self.request("POST", path, **kwargs)

    def put(self, path: str, **kwargs) -> requests.Response:
        return self.request("PUT", path, **kwargs)

    def patch(self, path: str, **kwargs) -> requests.Response:
        return self.request("PATCH", path, **kwargs)

    def delete(self, path: str, **kwargs) -> requests.Response:
        return self.request("DELETE", path, **kwargs)


def unique(prefix: str) -> str:
    return f"{prefix}{uuid.uuid4().hex[:12]}"


def bucket_name() -> str:
    return f"{unique('j')}-{APPID}"


def object_path(bucket: str, key: str) -> str:
    return f"/buckets/{bucket}/objects/{quote(key, safe='/')}"


def ok(response: requests.Response) -> dict:
    """The body of a setup call that has to succeed (the tests assert on what follows it)."""
    assert response.status_code in (200, 201, 202), response.text
    return response.json()


def listed(api: Api, path: str, **params) -> list[dict]:
    """Every row of a list (`results`), page after page as `next` links them."""
    page = ok(api.get(path, params={"limit": 1000, **params}))
    rows = page["results"]
    while page["next"]:
        page = ok(api.session.get(page["next"], timeout=30))
        rows += page["results"]
    return rows


def failure(response: requests.Response) -> tuple[int, str | None]:
    """(status, code) of an error response; a body without a code (a success) gives None."""
    body = response.json() if response.content else None
    return response.status_code, body.get("code") if isinstance(body, dict) else None


def new_bucket(api: Api, **body) -> str:
    """A new bucket in ap-guangzhou (with `body`'s other fields); its name."""
    name = bucket_name()
    ok(api.post("/buckets/", json={"name": name, "region": REGION, **body}))
    return name


def put_object(api: Api, bucket: str, key: str, body: bytes, **query: str) -> dict:
    return ok(api.put(object_path(bucket, key), data=body, params=query))


def wait_for_job(api: Api, job_id: str, timeout: float = 60.0) -> dict:
    """The job once it finished, or as it was when `timeout` ran out."""
    deadline = time.monotonic() + timeout
    while True:
        job = ok(api.get(f"/jobs/{job_id}/"))
        if job["status"] in ("succeeded", "failed", "cancelled") or time.monotonic() > deadline:
            return job
        time.sleep(0.2)


def custom_policy(cam: cam_client.CamClient, *statements: dict) -> str:
    """A new custom policy with `statements`, created over CAM; its name."""
    request = cam_models.CreatePolicyRequest()
    request.PolicyName = unique("policy")
    request.PolicyDocument = json.dumps({"version": "2.0", "statement": list(statements)})
    cam.CreatePolicy(request)
    return request.PolicyName


def sub_user(kinko: LiveKinko, api: Api, policies: list[str]) -> tuple[Api, dict]:
    """A new sub-user with `policies` (names), created by `api`: a client with its key, and the user as answered."""
    user = ok(api.post("/cam/users/", json={"name": unique("u"), "policies": policies}))
    return Api.with_key(kinko, user), user
