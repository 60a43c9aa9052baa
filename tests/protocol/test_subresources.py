"""A closed operation table: every subresource the SDK can send (read from the SDK's own source) is either
implemented or answers 501 NotImplemented without touching anything; nothing falls through to a plain object or
bucket operation; duplicate and case-variant parameters are refused."""

import ast
import inspect
import uuid

import pytest
import requests
from qcloud_cos import CosServiceError, cos_client

from tests.live import APPID
from tests.protocol import wire
from tests.protocol.support import body_of, error_code, virtual_host

ORIGINAL = b"object k as it was stored"

# What Kinko implements, as (HTTP method, scope, subresource); everything else the SDK can send must answer 501.
IMPLEMENTED = {
    ("POST", "bucket", "delete"),
    ("GET", "bucket", "location"),
    ("GET", "bucket", "acl"),
    ("PUT", "bucket", "acl"),
    ("GET", "bucket", "uploads"),
    ("PUT", "bucket", "encryption"),
    ("GET", "bucket", "encryption"),
    ("DELETE", "bucket", "encryption"),
    ("PUT", "bucket", "cors"),
    ("GET", "bucket", "cors"),
    ("DELETE", "bucket", "cors"),
    ("PUT", "bucket", "lifecycle"),
    ("GET", "bucket", "lifecycle"),
    ("DELETE", "bucket", "lifecycle"),
    ("PUT", "bucket", "policy"),
    ("GET", "bucket", "policy"),
    ("DELETE", "bucket", "policy"),
    ("GET", "object", "acl"),
    ("PUT", "object", "acl"),
    ("POST", "object", "uploads"),
    ("PUT", "bucket", "tagging"),
    ("GET", "bucket", "tagging"),
    ("DELETE", "bucket", "tagging"),
    ("PUT", "object", "tagging"),
    ("GET", "object", "tagging"),
    ("DELETE", "object", "tagging"),
    ("PUT", "bucket", "versioning"),
    ("GET", "bucket", "versioning"),
    ("GET", "bucket", "versions"),
}


def _uri_calls(function: ast.FunctionDef) -> list[ast.Call]:
    return [
        node
        for node in ast.walk(function)
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "uri"
    ]


def _selecting_parameters(function: ast.FunctionDef) -> dict[str, str]:
    """Flag parameters (`params = {'acl': ''}`, `params['live'] = ''`), `?name` URL suffixes, and `ci-process`."""
    found = {}
    for node in ast.walk(function):
        pairs = []
        if isinstance(node, ast.Dict):
            pairs = list(zip(node.keys, node.values, strict=True))
        elif isinstance(node, ast.Assign) and isinstance(node.targets[0], ast.Subscript):
            target = node.targets[0]
            if isinstance(target.value, ast.Name) and target.value.id == "params":
                pairs = [(target.slice, node.value)]
        elif isinstance(node, ast.BinOp) and isinstance(node.right, ast.Constant):
            suffix = node.right.value
            if isinstance(suffix, str) and suffix.startswith("?") and len(suffix) > 1:
                found[suffix[1:]] = ""
        for name, value in pairs:
            if not (isinstance(name, ast.Constant) and isinstance(value, ast.Constant)):
                continue
            if isinstance(name.value, str) and value.value == "":
                found[name.value] = ""
            elif name.value == "ci-process":
                found[name.value] = value.value
    return found


def sdk_subresource_requests() -> list[tuple[str, str, str, dict[str, str]]]:
    """(SDK method, HTTP method, "bucket" | "object", selecting parameters) for every CosS3Client method that sends
    an operation-selecting parameter to the bucket's COS host (not the CI or other endpoints)."""
    tree = ast.parse(inspect.getsource(cos_client))
    client = next(node for node in tree.body if isinstance(node, ast.ClassDef) and node.name == "CosS3Client")
    found = []
    for function in client.body:
        if not isinstance(function, ast.FunctionDef):
            continue
        calls = _uri_calls(function)
        if not calls or any(k.arg in ("endpoint", "domain") for call in calls for k in call.keywords):
            continue
        methods = {
            k.value.value
            for node in ast.walk(function)
            if isinstance(node, ast.Call)
            for k in node.keywords
            if k.arg == "method" and isinstance(k.value, ast.Constant)
        }
        params = _selecting_parameters(function)
        if len(methods) != 1 or not params:
            continue
        scope = "object" if any(k.arg == "path" for call in calls for k in call.keywords) else "bucket"
        found.append((function.name, methods.pop(), scope, params))
    return found


SDK_REQUESTS = sdk_subresource_requests()


def test_the_sdk_source_yields_the_subresources_named_in_the_issue():
    names = {(name, method, scope, *params) for name, method, scope, params in SDK_REQUESTS}
    assert {
        ("put_live_channel", "PUT", "object", "live"),
        ("delete_live_channel", "DELETE", "object", "live"),
        ("delete_bucket_domain_certificate", "DELETE", "bucket", "domaincertificate"),
        ("put_bucket_intelligenttiering_v2", "PUT", "bucket", "intelligent-tiering"),
    } <= names
    assert len(SDK_REQUESTS) > 60


@pytest.fixture(scope="module")
def full_bucket(cos) -> str:
    name = f"f{uuid.uuid4().hex[:12]}-{APPID}"
    cos.create_bucket(Bucket=name)
    cos.put_object(Bucket=name, Key="k", Body=ORIGINAL)
    yield name
    for item in cos.list_objects(Bucket=name).get("Contents", []):
        cos.delete_object(Bucket=name, Key=item["Key"])
    for upload in cos.list_multipart_uploads(Bucket=name).get("Upload", []):
        cos.abort_multipart_upload(Bucket=name, Key=upload["Key"], UploadId=upload["UploadId"])
    cos.delete_bucket(Bucket=name)


def upload_ids(cos, bucket: str) -> list[str]:
    return sorted(upload["UploadId"] for upload in cos.list_multipart_uploads(Bucket=bucket).get("Upload", []))


@pytest.fixture(scope="module")
def empty_bucket(cos) -> str:
    name = f"e{uuid.uuid4().hex[:12]}-{APPID}"
    cos.create_bucket(Bucket=name)
    yield name
    cos.delete_bucket(Bucket=name)


def listing(cos, bucket: str) -> list[tuple[str, str]]:
    return [(item["Key"], item["ETag"]) for item in cos.list_objects(Bucket=bucket).get("Contents", [])]


def bucket_exists(cos, bucket: str) -> bool:
    return cos.bucket_exists(Bucket=bucket)


@pytest.mark.parametrize(
    ("method", "scope", "params"),
    [(method, scope, params) for _, method, scope, params in SDK_REQUESTS],
    ids=[name for name, *_ in SDK_REQUESTS],
)
def test_every_sdk_subresource_is_implemented_or_not_implemented_without_side_effects(
    kinko, cos, full_bucket, empty_bucket, method, scope, params
):
    selector = next(name for name in params if name != "ci-process") if set(params) - {"ci-process"} else "ci-process"
    key = "k" if scope == "object" else ""
    before = listing(cos, full_bucket)
    data = b"" if method in ("PUT", "POST") else None
    response = wire.send(kinko, cos, method, full_bucket, key, params=params, data=data)
    if (method, scope, selector) in IMPLEMENTED:
        assert response.status_code != 501 and response.status_code < 500
        return
    assert (response.status_code, error_code(response) if method != "HEAD" else None) == (501, "NotImplemented")
    assert listing(cos, full_bucket) == before
    assert body_of(cos.get_object(Bucket=full_bucket, Key="k")) == ORIGINAL
    response = wire.send(kinko, cos, method, empty_bucket, key, params=params, data=data)
    assert response.status_code == 501
    assert bucket_exists(cos, empty_bucket) and listing(cos, empty_bucket) == []
    if method == "PUT" and scope == "bucket":
        missing = f"m{uuid.uuid4().hex[:12]}-{APPID}"
        assert wire.send(kinko, cos, method, missing, params=params, data=data).status_code == 501
        assert not bucket_exists(cos, missing)


# -- the SDK calls of the issue ---------------------------------------------------------------------------


def refusal(call, **kwargs) -> tuple[int, str]:
    with pytest.raises(CosServiceError) as err:
        call(**kwargs)
    return err.value.get_status_code(), err.value.get_error_code()


def test_put_live_channel_is_not_implemented_and_leaves_the_object(cos, full_bucket):
    config = {
        "Description": "x",
        "Switch": "Enabled",
        "Target": {"Type": "HLS", "FragDuration": "3", "FragCount": "5", "PlaylistName": "p.m3u8"},
    }
    assert refusal(cos.put_live_channel, Bucket=full_bucket, ChannelName="k", LiveChannelConfiguration=config) == (
        501,
        "NotImplemented",
    )
    assert body_of(cos.get_object(Bucket=full_bucket, Key="k")) == ORIGINAL


def test_delete_live_channel_is_not_implemented_and_keeps_the_object(cos, full_bucket):
    assert refusal(cos.delete_live_channel, Bucket=full_bucket, ChannelName="k") == (501, "NotImplemented")
    assert body_of(cos.get_object(Bucket=full_bucket, Key="k")) == ORIGINAL


def test_delete_bucket_domain_certificate_is_not_implemented_and_keeps_an_empty_bucket(cos, empty_bucket):
    result = refusal(cos.delete_bucket_domain_certificate, Bucket=empty_bucket, DomainName="www.example.com")
    assert result == (501, "NotImplemented")
    assert bucket_exists(cos, empty_bucket)


def test_put_intelligent_tiering_is_not_implemented_and_creates_no_bucket(cos):
    name = f"i{uuid.uuid4().hex[:12]}-{APPID}"
    config = {"Status": "Enabled", "Tiering": {"Days": "30", "AccessTier": "INFREQUENT"}}
    result = refusal(cos.put_bucket_intelligenttiering_v2, Bucket=name, IntelligentTieringConfiguration=config, Id="1")
    assert result == (501, "NotImplemented")
    assert not bucket_exists(cos, name)


def test_unsigned_unimplemented_subresource_answers_501(kinko, full_bucket):
    response = wire.send(kinko, None, "DELETE", full_bucket, "k", params={"live": ""})
    assert (response.status_code, error_code(response)) == (501, "NotImplemented")


def test_an_unimplemented_subresource_logs_one_info_line_and_no_traceback(kinko, cos, full_bucket):
    marker = uuid.uuid4().hex
    before = len(kinko.log())  # what earlier tests made the shared server log is theirs
    wire.send(kinko, cos, "GET", full_bucket, f"{marker}.txt", params={"website": ""})
    written = kinko.log()[before:]
    access_line = f'"GET /{marker}.txt" 501 '  # the server's access log, one line per request
    lines = [line for line in written.splitlines() if marker in line and access_line not in line]
    assert len(lines) == 1, lines
    assert " INFO " in lines[0] and "501 NotImplemented" in lines[0]
    assert "Traceback" not in written


# -- malformed parameter lists ----------------------------------------------------------------------------


def raw(kinko, cos, method: str, bucket: str, path: str, query: str, signed: dict | None = None) -> requests.Response:
    headers = {"Host": virtual_host(bucket), "Content-Length": "0"}
    headers["Authorization"] = wire.authorization(cos, method, path.lstrip("/"), headers, params=signed)
    return requests.request(method, f"{kinko.url}{path}?{query}", headers=headers, timeout=10)


@pytest.mark.parametrize(
    ("method", "path", "query", "signed"),
    [
        ("GET", "/", "prefix=a&prefix=b", {"prefix": "a"}),
        ("GET", "/", "acl&acl", {"acl": ""}),
        ("GET", "/", "ACL", {"acl": ""}),
        ("GET", "/k", "Acl", {"acl": ""}),
        ("POST", "/k", "Uploads", {"uploads": ""}),
        ("GET", "/", "Prefix=a", {"prefix": "a"}),
        ("DELETE", "/k", "uploadid=x", {"uploadid": "x"}),
        ("GET", "/k", "uploadId=a&UploadId=b", {"uploadid": "a"}),
    ],
    ids=[
        "dup-prefix",
        "dup-acl",
        "upper-acl",
        "mixed-acl",
        "mixed-uploads",
        "upper-prefix",
        "lower-uploadid",
        "two-upload-ids",
    ],
)
def test_duplicate_or_case_variant_parameters_are_invalid_argument(
    kinko, cos, full_bucket, method, path, query, signed
):
    response = raw(kinko, cos, method, full_bucket, path, query, signed)
    assert (response.status_code, error_code(response)) == (400, "InvalidArgument")
    assert body_of(cos.get_object(Bucket=full_bucket, Key="k")) == ORIGINAL


@pytest.mark.parametrize(
    ("method", "path", "query", "signed"),
    [
        ("GET", "/k", "acl&uploadId=x", {"acl": "", "uploadid": "x"}),
        ("POST", "/k", "uploads&uploadId=x", {"uploads": "", "uploadid": "x"}),
        ("PUT", "/k", "uploadId=x", {"uploadid": "x"}),
        ("DELETE", "/", "acl", {"acl": ""}),
        ("POST", "/", "location", {"location": ""}),
    ],
    ids=["acl-and-upload", "uploads-and-upload", "part-without-number", "delete-acl", "post-location"],
)
def test_contradictory_combinations_are_refused_and_touch_nothing(kinko, cos, full_bucket, method, path, query, signed):
    uploads = upload_ids(cos, full_bucket)
    response = raw(kinko, cos, method, full_bucket, path, query, signed)
    assert response.status_code in (400, 405)
    assert body_of(cos.get_object(Bucket=full_bucket, Key="k")) == ORIGINAL
    assert upload_ids(cos, full_bucket) == uploads


def test_copy_source_on_an_operation_that_does_not_copy_is_refused(kinko, cos, full_bucket):
    uploads = upload_ids(cos, full_bucket)
    headers = {"x-cos-copy-source": f"{virtual_host(full_bucket)}/k"}
    response = wire.send(kinko, cos, "POST", full_bucket, "n", params={"uploads": ""}, headers=headers, data=b"")
    assert (response.status_code, error_code(response)) == (400, "InvalidRequest")
    assert upload_ids(cos, full_bucket) == uploads
