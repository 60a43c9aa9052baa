"""Helpers for API 3.0 gate tests: real tencentcloud CAM/KMS clients, sub-users with exactly one policy, and a
recorder of the exact requests the SDK sent (for replaying them with `requests`)."""

import base64
import datetime
import hashlib
import hmac
import json
import re
import time
import types
import urllib.parse
import uuid

import pytest
import requests
from tencentcloud.cam.v20190116 import cam_client
from tencentcloud.cam.v20190116 import models as cam
from tencentcloud.common import abstract_client, credential
from tencentcloud.common.exception.tencent_cloud_sdk_exception import TencentCloudSDKException
from tencentcloud.common.profile.client_profile import ClientProfile
from tencentcloud.common.profile.http_profile import HttpProfile
from tencentcloud.kms.v20190118 import kms_client
from tencentcloud.kms.v20190118 import models as kms

from tests.live import REGION, LiveKinko, cos_client, manage_py, node_env

DENIED = "AuthFailure.UnauthorizedOperation"


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:12]}"


def profile(kinko: LiveKinko) -> ClientProfile:
    return ClientProfile(httpProfile=HttpProfile(protocol="http", endpoint=f"127.0.0.1:{kinko.port}"))


def cam_for(kinko: LiveKinko, secret_id: str | None = None, secret_key: str | None = None) -> cam_client.CamClient:
    cred = credential.Credential(secret_id or kinko.secret_id, secret_key or kinko.secret_key)
    return cam_client.CamClient(cred, "", profile(kinko))


def kms_for(
    kinko: LiveKinko, secret_id: str | None = None, secret_key: str | None = None, region: str = REGION
) -> kms_client.KmsClient:
    cred = credential.Credential(secret_id or kinko.secret_id, secret_key or kinko.secret_key)
    return kms_client.KmsClient(cred, region, profile(kinko))


def _models(client) -> object:
    return cam if isinstance(client, cam_client.CamClient) else kms


def call(client, action: str, **params):
    """The SDK's own method and request model for `action`."""
    request = getattr(_models(client), f"{action}Request")()
    request.from_json_string(json.dumps(params))
    return getattr(client, action)(request)


def error_of(client, action: str, **params) -> TencentCloudSDKException:
    with pytest.raises(TencentCloudSDKException) as err:
        call(client, action, **params)
    return err.value


def code_of(client, action: str, **params) -> str:
    return error_of(client, action, **params).code


def key_metadata(client: kms_client.KmsClient, key_id: str) -> kms.KeyMetadata:
    return call(client, "DescribeKey", KeyId=key_id).KeyMetadata


def document(*statements: dict) -> str:
    return json.dumps({"version": "2.0", "statement": list(statements)})


def allow(action: str, resource: str | list[str] = "*", **extra) -> dict:
    return {"effect": "allow", "action": action, "resource": resource, **extra}


def deny(action: str, resource: str | list[str] = "*") -> dict:
    return {"effect": "deny", "action": action, "resource": resource}


def root_uin(kinko: LiveKinko) -> str:
    """The root account's uin, as anyone reads it from a COS owner id (`qcs::cam::uin/<uin>:uin/<uin>`)."""
    owner = cos_client(kinko).list_buckets()["Owner"]["ID"]
    return re.fullmatch(r"qcs::cam::uin/(\d+):uin/\d+", owner).group(1)


def activate_kms(kinko: LiveKinko) -> dict[str, str]:
    return json.loads(manage_py(node_env(kinko.data_dir), "activate_kms", "--json"))["DefaultKeys"]


class SubUsers:
    """Sub-users made by the root over CAM, each with API keys and the policies a test gives it; all deleted
    (with their policies) afterwards."""

    def __init__(self, kinko: LiveKinko):
        self.kinko = kinko
        self.root = cam_for(kinko)
        self.names: list[str] = []
        self.policies: list[int] = []

    def create(self, *statements: dict) -> "SubUser":
        reply = call(self.root, "AddUser", Name=unique("gate"), UseApi=1)
        self.names.append(reply.Name)
        made = SubUser(self.kinko, reply)
        if statements:
            self.grant(made, *statements)
        return made

    def grant(self, user: "SubUser", *statements: dict) -> None:
        policy_id = call(
            self.root, "CreatePolicy", PolicyName=unique("gate"), PolicyDocument=document(*statements)
        ).PolicyId
        self.policies.append(policy_id)
        call(self.root, "AttachUserPolicy", PolicyId=policy_id, AttachUin=user.uin)

    def cleanup(self) -> None:
        for name in self.names:
            try:
                call(self.root, "DeleteUser", Name=name, Force=1)
            except TencentCloudSDKException as exc:
                if exc.code != "ResourceNotFound.UserNotExist":
                    raise
        for policy_id in self.policies:
            call(self.root, "DeletePolicy", PolicyId=[policy_id])


class SubUser:
    def __init__(self, kinko: LiveKinko, reply):
        self.kinko = kinko
        self.name, self.uin = reply.Name, str(reply.Uin)
        self.secret_id, self.secret_key = reply.SecretId, reply.SecretKey

    def cam(self) -> cam_client.CamClient:
        return cam_for(self.kinko, self.secret_id, self.secret_key)

    def kms(self, region: str = REGION) -> kms_client.KmsClient:
        return kms_for(self.kinko, self.secret_id, self.secret_key, region)


def clock_behind(monkeypatch, seconds: int) -> None:
    """Make the tencentcloud SDK sign as a client whose clock runs `seconds` behind: its requests look as a captured
    request does that long after it was made (still inside the five minutes a timestamp is accepted)."""
    real = time.time
    monkeypatch.setattr(abstract_client, "time", types.SimpleNamespace(time=lambda: real() - seconds))


class Recorder:
    """Every request a tencentcloud client sends, exactly as it went on the wire (a `requests` response hook on
    the SDK's own session)."""

    def __init__(self, client):
        self.sent: list[requests.PreparedRequest] = []
        client.request.conn._session.hooks["response"].append(self._record)

    def _record(self, response, *args, **kwargs):
        self.sent.append(response.request.copy())

    def replay(self, request: requests.PreparedRequest | None = None, **header_changes: str) -> dict:
        """Send a recorded request again (with some headers changed) and return its `Response` object."""
        request = (request or self.sent[-1]).copy()
        headers = dict(request.headers)
        headers.update(header_changes)
        response = requests.request(request.method, request.url, data=request.body, headers=headers, timeout=10)
        return response.json()["Response"]


VERSIONS = {"kms": "2019-01-18", "cam": "2019-01-16"}


def _hmac(key: bytes, message: str) -> bytes:
    return hmac.new(key, message.encode(), hashlib.sha256).digest()


def signed_post(
    kinko: LiveKinko,
    service: str,
    action: str,
    body: bytes,
    *,
    age: int = 0,
    version: str | None = None,
    region: str = REGION,
) -> requests.Response:
    """A TC3-signed POST of any body, written from the API 3.0 signature spec (not from the server's code); `age`
    seconds old (within the five minutes a timestamp is accepted). The action, version and region may be any text
    (sent as their UTF-8 bytes)."""
    host, content_type, timestamp = f"127.0.0.1:{kinko.port}", "application/json", int(time.time()) - age
    date = datetime.datetime.fromtimestamp(timestamp, datetime.UTC).strftime("%Y-%m-%d")
    canonical = f"POST\n/\n\ncontent-type:{content_type}\nhost:{host}\n\ncontent-type;host\n" + (
        hashlib.sha256(body).hexdigest()
    )
    scope = f"{date}/{service}/tc3_request"
    to_sign = f"TC3-HMAC-SHA256\n{timestamp}\n{scope}\n{hashlib.sha256(canonical.encode()).hexdigest()}"
    key = _hmac(_hmac(_hmac(("TC3" + kinko.secret_key).encode(), date), service), "tc3_request")
    signature = hmac.new(key, to_sign.encode(), hashlib.sha256).hexdigest()
    headers = {
        "Content-Type": content_type,
        "Host": host,
        "X-TC-Action": action,
        "X-TC-Version": VERSIONS[service] if version is None else version,
        "X-TC-Timestamp": str(timestamp),
        "X-TC-Region": region,
        "Authorization": f"TC3-HMAC-SHA256 Credential={kinko.secret_id}/{scope}, SignedHeaders=content-type;host, "
        f"Signature={signature}",
    }
    headers = {name: value.encode("utf-8").decode("latin-1") for name, value in headers.items()}
    return requests.post(f"{kinko.url}/", data=body, headers=headers, timeout=30)


def legacy_post(
    kinko: LiveKinko,
    service: str,
    action: str,
    params: dict[str, str],
    *,
    region: str = REGION,
    version: str | None = None,
) -> requests.Response:
    """A legacy (v1) form call signed with HmacSHA256, written from the spec: sorted, unencoded `k=v` pairs after
    `POST<host>/?`, base64 HMAC. `params` are already flattened (`Tags.0.TagKey=…`)."""
    host = f"127.0.0.1:{kinko.port}"
    form = {
        **params,
        "Action": action,
        "Version": version if version is not None else VERSIONS.get(service, ""),
        "Region": region,
        "SecretId": kinko.secret_id,
        "Timestamp": str(int(time.time())),
        "Nonce": str(uuid.uuid4().int % 10**9),
        "SignatureMethod": "HmacSHA256",
    }
    pairs = "&".join(f"{name.replace('_', '.')}={form[name]}" for name in sorted(form))
    digest = hmac.new(kinko.secret_key.encode(), f"POST{host}/?{pairs}".encode(), hashlib.sha256).digest()
    form["Signature"] = base64.b64encode(digest).decode()
    headers = {"Host": host, "Content-Type": "application/x-www-form-urlencoded"}
    return requests.post(f"{kinko.url}/", data=urllib.parse.urlencode(form), headers=headers, timeout=30)
