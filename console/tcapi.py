"""Tencent Cloud API 3.0 plumbing for keys/ and roles/: signature checks (TC3-HMAC-SHA256 and the legacy
HmacSHA1/HmacSHA256 form), action dispatch by version and credential-scope service, and the response envelope.

Every answer is HTTP 200 with `Content-Type: application/json` exactly (the SDK treats anything else as success).
"""

import base64
import datetime
import hashlib
import hmac
import json
import logging
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import parse_qsl

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from rest_framework import serializers

from core.apierror import ApiError, error
from core.db import one
from roles import policy
from roles import service as roles
from roles.models import ApiKey
from roles.principal import Principal

log = logging.getLogger(__name__)

VERSIONS = {"2019-01-18": "kms", "2019-01-16": "cam"}
MAX_SKEW_SECONDS = 300
MAX_BODY_BYTES = 10 * 1024 * 1024
TC3_PREFIX = "TC3-HMAC-SHA256 "


@dataclass(frozen=True)
class ApiRequest:
    """An authenticated API 3.0 call: who, which service/action, the region and the request id."""

    principal: Principal
    service: str
    action: str
    region: str | None
    request_id: str
    language: str


Handler = Callable[[ApiRequest, dict], dict]


@dataclass(frozen=True)
class Action:
    handler: Handler
    params: type[serializers.Serializer] | None


ACTIONS: dict[tuple[str, str], Action] = {}


def action(service: str, name: str, params: type[serializers.Serializer] | None = None):
    """Register `handler(request, params) -> dict` as API 3.0 action `name` of `service` ("kms" or "cam")."""

    def register(handler: Handler) -> Handler:
        ACTIONS[(service, name)] = Action(handler, params)
        return handler

    return register


# -- request parsing ----------------------------------------------------------------------------------------


@dataclass
class RawCall:
    method: str
    host: str
    content_type: str
    raw_query: str
    body: bytes
    headers: dict[str, str]  # lowercase names
    form: dict[str, str] | None  # legacy v1 parameters (form body or query)


def is_api_call(meta: dict, path: str) -> bool:
    """API 3.0 calls are `POST /` (or GET) carrying X-TC-Action, or the legacy form with Action=…"""
    if path != "/" or meta.get("REQUEST_METHOD") not in ("POST", "GET"):
        return False
    if "HTTP_X_TC_ACTION" in meta:
        return True
    content_type = meta.get("CONTENT_TYPE", "")
    query = meta.get("QUERY_STRING", "")
    return (content_type.startswith("application/x-www-form-urlencoded") and meta.get("REQUEST_METHOD") == "POST") or (
        "Action=" in query and "SignatureMethod=" in query
    )


def _raw_call(request: HttpRequest) -> RawCall:
    body = request.read(MAX_BODY_BYTES + 1)
    if len(body) > MAX_BODY_BYTES:
        raise error("RequestSizeLimitExceeded", "The request body exceeds 10 MB.")
    headers = {name.lower(): value for name, value in request.headers.items()}
    meta = request.META
    form = None
    if "x-tc-action" not in headers:
        text = body.decode("utf-8", "replace") if request.method == "POST" else meta.get("QUERY_STRING", "")
        form = dict(parse_qsl(text, keep_blank_values=True))
    return RawCall(
        method=request.method,
        host=meta.get("HTTP_HOST", ""),
        content_type=meta.get("CONTENT_TYPE", ""),
        raw_query=meta.get("QUERY_STRING", ""),
        body=body,
        headers=headers,
        form=form,
    )


# -- signatures ---------------------------------------------------------------------------------------------


def _hmac256(key: bytes, message: str) -> bytes:
    return hmac.new(key, message.encode("utf-8"), hashlib.sha256).digest()


def tc3_signature(secret_key: str, date: str, service: str, timestamp: str, canonical_request: str) -> str:
    string_to_sign = "\n".join([
        "TC3-HMAC-SHA256", timestamp, f"{date}/{service}/tc3_request",
        hashlib.sha256(canonical_request.encode("utf-8")).hexdigest(),
    ])  # fmt: skip
    k_date = _hmac256(("TC3" + secret_key).encode("utf-8"), date)
    k_signing = _hmac256(_hmac256(k_date, service), "tc3_request")
    return hmac.new(k_signing, string_to_sign.encode("utf-8"), hashlib.sha256).hexdigest()


def canonical_request(call: RawCall, signed_headers: list[str], lowercase_values: bool = False) -> str:
    values = []
    for name in signed_headers:
        value = call.headers.get(name, "").strip()
        values.append(f"{name}:{value.lower() if lowercase_values else value}\n")
    if call.headers.get("x-tc-content-sha256") == "UNSIGNED-PAYLOAD":
        payload = b"UNSIGNED-PAYLOAD"
    else:
        payload = call.body if call.method == "POST" else b""
    return "\n".join([
        call.method, "/", call.raw_query if call.method == "GET" else "", "".join(values),
        ";".join(signed_headers), hashlib.sha256(payload).hexdigest(),
    ])  # fmt: skip


def _lookup_key(secret_id: str) -> ApiKey:
    api_key = one(ApiKey.objects.select_related("account").filter(secret_id=secret_id))
    if api_key is None or not api_key.is_active:
        raise error("AuthFailure.SecretIdNotFound", "The SecretId does not exist or is disabled.")
    return api_key


def _check_timestamp(value: str, now: float) -> int:
    if not value.lstrip("-").isdecimal():
        raise error("AuthFailure.InvalidAuthorization", "The timestamp is missing or malformed.")
    timestamp = int(value)
    if abs(now - timestamp) > MAX_SKEW_SECONDS:
        raise error("AuthFailure.SignatureExpire", "The signature expired: the timestamp is more than 5 minutes off.")
    return timestamp


def verify_tc3(call: RawCall, now: float) -> tuple[Principal, str]:
    """Check a TC3-HMAC-SHA256 Authorization header; returns the principal and the credential-scope service."""
    authorization = call.headers.get("authorization", "")
    if not authorization.startswith(TC3_PREFIX):
        raise error("AuthFailure.InvalidAuthorization", "Authorization must be TC3-HMAC-SHA256.")
    fields = {}
    for part in authorization[len(TC3_PREFIX) :].split(","):
        name, _, value = part.strip().partition("=")
        fields[name] = value
    scope = fields.get("Credential", "").split("/")
    signed_headers = [h for h in fields.get("SignedHeaders", "").lower().split(";") if h]
    signature = fields.get("Signature", "")
    if len(scope) != 4 or scope[3] != "tc3_request" or not signed_headers or len(signature) != 64:
        raise error("AuthFailure.InvalidAuthorization", "The Authorization header is malformed.")
    secret_id, date, service, _ = scope
    api_key = _lookup_key(secret_id)
    timestamp = _check_timestamp(call.headers.get("x-tc-timestamp", ""), now)
    if datetime.datetime.fromtimestamp(timestamp, datetime.UTC).strftime("%Y-%m-%d") != date:
        raise error("AuthFailure.SignatureFailure", "The credential scope date is not the timestamp's UTC date.")
    secret_key = api_key.secret_key()
    for lowercase in (False, True):
        expected = tc3_signature(secret_key, date, service, str(timestamp),
                                 canonical_request(call, signed_headers, lowercase))  # fmt: skip
        if hmac.compare_digest(expected.encode(), signature.lower().encode("utf-8", "surrogateescape")):
            return Principal(account=api_key.account, api_key=api_key), service
    raise error("AuthFailure.SignatureFailure", "The signature does not match.")


def verify_legacy(call: RawCall, now: float) -> Principal:
    """HmacSHA1 / HmacSHA256: sorted, unencoded k=v parameters after `<METHOD><host>/?`, base64 HMAC."""
    form = call.form or {}
    method = form.get("SignatureMethod", "HmacSHA1")
    digests = {"HmacSHA1": hashlib.sha1, "HmacSHA256": hashlib.sha256}
    if method not in digests or "Signature" not in form or "SecretId" not in form:
        raise error("AuthFailure.InvalidAuthorization", "The request is not signed.")
    api_key = _lookup_key(form["SecretId"])
    _check_timestamp(form.get("Timestamp", ""), now)
    pairs = "&".join(f"{name.replace('_', '.')}={form[name]}" for name in sorted(form) if name != "Signature")
    string_to_sign = f"{call.method}{call.host}/?{pairs}"
    expected = base64.b64encode(
        hmac.new(api_key.secret_key().encode(), string_to_sign.encode(), digests[method]).digest()
    ).decode()
    if not hmac.compare_digest(expected.encode(), form["Signature"].encode("utf-8", "surrogateescape")):
        raise error("AuthFailure.SignatureFailure", "The signature does not match.")
    return Principal(account=api_key.account, api_key=api_key)


# -- parameters ---------------------------------------------------------------------------------------------


def _unflatten(form: dict[str, str]) -> dict:
    """Legacy flattened parameters (`Tags.0.TagKey=…`) back into nested lists and objects."""
    root: dict = {}
    for name, value in form.items():
        node = root
        parts = name.split(".")
        for part in parts[:-1]:
            node = node.setdefault(part, {})
        node[parts[-1]] = value
    return _listify(root)


def _listify(node):
    if not isinstance(node, dict):
        return node
    items = {name: _listify(value) for name, value in node.items()}
    if items and all(name.isdecimal() for name in items):
        return [items[name] for name in sorted(items, key=int)]
    return items


LEGACY_COMMON = {"Action", "Version", "Region", "Timestamp", "Nonce", "SecretId", "SignatureMethod", "Signature",
                 "Language", "Token", "RequestClient"}  # fmt: skip


def _params(call: RawCall) -> dict:
    if call.form is not None:
        return _unflatten({k: v for k, v in call.form.items() if k not in LEGACY_COMMON})
    if call.method == "GET":
        return _unflatten(dict(parse_qsl(call.raw_query, keep_blank_values=True)))
    if not call.body.strip():
        return {}
    try:
        params = json.loads(call.body)
    except (ValueError, UnicodeDecodeError):
        raise error("InvalidParameter", "The request body is not valid JSON.") from None
    if not isinstance(params, dict):
        raise error("InvalidParameter", "The request body must be a JSON object.")
    return params


def _first_problem(problems, path: str = "") -> tuple[str, object]:
    """The dotted name (Tags.0.Key, as the legacy form spells it) and the first error of DRF's nested errors."""
    if isinstance(problems, dict):
        name, inner = next(iter(problems.items()))
        return _first_problem(inner, f"{path}.{name}" if path else str(name))
    if isinstance(problems, list) and problems and isinstance(problems[0], (dict, list)):
        index = next(i for i, p in enumerate(problems) if p)
        return _first_problem(problems[index], f"{path}.{index}")
    return path, problems[0] if isinstance(problems, list) else problems


class Params(serializers.Serializer):
    """Base of every action's parameters: strings arrive exactly as sent (DRF would trim whitespace)."""

    def get_fields(self) -> dict:
        fields = super().get_fields()
        for field in fields.values():
            if isinstance(field, serializers.CharField):
                field.trim_whitespace = False
        return fields


VALUE_PROBLEMS = {"min_value", "max_value", "invalid_choice", "min_length", "max_length", "blank", "empty",
                  "max_string_length"}  # fmt: skip


def validate(params_class: type[serializers.Serializer] | None, data: dict, service: str = "") -> dict:
    """Params → validated dict. Missing → MissingParameter; CAM's bad values → InvalidParameter.ParamError (as
    CAM documents); others: out-of-range or not-allowed values → InvalidParameterValue, wrong types →
    InvalidParameter."""
    if params_class is None:
        if data:
            raise error("UnknownParameter", f"Unknown parameter: {sorted(data)[0]}.")
        return {}
    serializer = params_class(data=data)
    known = set(serializer.fields)
    unknown = sorted(set(data) - known)
    if unknown:
        raise error("UnknownParameter", f"Unknown parameter: {unknown[0]}.")
    if not serializer.is_valid():
        path, problem = _first_problem(serializer.errors)
        code = getattr(problem, "code", "")
        if code == "required":
            raise error("MissingParameter", f"The parameter {path} is required.")
        if service == "cam":
            raise error("InvalidParameter.ParamError", f"The parameter {path} is invalid: {problem}")
        if code in VALUE_PROBLEMS:
            raise error("InvalidParameterValue", f"The parameter {path} is invalid: {problem}")
        raise error("InvalidParameter", f"The parameter {path} is invalid: {problem}")
    return serializer.validated_data


# -- authorization ------------------------------------------------------------------------------------------


def authorize(principal: Principal, service: str, action_name: str, region: str | None, params: dict) -> None:
    """Root keys may call anything; a sub-user what its CAM policies allow on the key (KMS) or account (CAM)."""
    account = principal.account
    resource = "*"
    if service == "kms" and params.get("KeyId"):
        region = region or settings.KINKO_KMS_REGIONS[0]
        resource = policy.kms_resource(region, account.uin, account.uin, str(params["KeyId"]))
    if not roles.principal_may(principal, f"{service}:{action_name}", resource):
        raise error("AuthFailure.UnauthorizedOperation",
                    f"CAM policies do not allow {service}:{action_name} on {resource}.")  # fmt: skip


# -- dispatch -----------------------------------------------------------------------------------------------


def json_response(payload: dict) -> HttpResponse:
    body = json.dumps({"Response": payload}, ensure_ascii=False).encode("utf-8")
    response = HttpResponse(body, content_type="application/json")
    response["Content-Length"] = str(len(body))
    return response


def handle(request: HttpRequest, now: float | None = None) -> HttpResponse:
    """Entry point for every API 3.0 call (see console.routing)."""
    request_id = str(uuid.uuid4())
    action_name = service = ""
    try:
        call = _raw_call(request)
        now = time.time() if now is None else now
        if call.form is None:
            action_name = call.headers.get("x-tc-action", "")
            version = call.headers.get("x-tc-version", "")
            principal, service = verify_tc3(call, now)
            region = call.headers.get("x-tc-region") or None
            language = call.headers.get("x-tc-language", "zh-CN")
        else:
            action_name, version = call.form.get("Action", ""), call.form.get("Version", "")
            principal = verify_legacy(call, now)
            service = VERSIONS.get(version, "")
            region = call.form.get("Region") or None
            language = call.form.get("Language", "zh-CN")
        if version not in VERSIONS:
            raise error("NoSuchVersion", f"The API version {version!r} does not exist.")
        if VERSIONS[version] != service:
            raise error("AuthFailure.SignatureFailure", f"The credential scope names {service!r}, not this API.")
        registered = ACTIONS.get((service, action_name))
        if registered is None:
            raise error("InvalidAction", f"The action {action_name!r} does not exist.")
        params = validate(registered.params, _params(call), service)
        authorize(principal, service, action_name, region, params)
        api_request = ApiRequest(principal, service, action_name, region, request_id, language)
        payload = registered.handler(api_request, params)
    except ApiError as exc:
        log.info("API %s.%s -> %s", service, action_name, exc.code)
        return json_response({"Error": {"Code": exc.code, "Message": exc.message}, "RequestId": request_id})
    except Exception:
        log.exception("API %s.%s failed", service, action_name)
        return json_response({"Error": {"Code": "InternalError", "Message": "An internal error occurred."},
                              "RequestId": request_id})  # fmt: skip
    return json_response({**payload, "RequestId": request_id})
