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

from django.core.cache import cache
from django.core.validators import MaxValueValidator, MinValueValidator
from django.http import HttpRequest, HttpResponse
from rest_framework import serializers

import gate
from core import metrics
from core.apierror import ApiError, error
from core.db import one
from roles.models import ApiKey
from roles.principal import Principal

log = logging.getLogger(__name__)

VERSIONS = {"2019-01-18": "kms", "2019-01-16": "cam"}
MAX_SKEW_SECONDS = 300
MAX_BODY_BYTES = 10 * 1024 * 1024
MAX_PARAM_DEPTH = 8  # the deepest real parameter is three levels (TagFilters.0.TagValue.0)
MAX_INTEGER = 2**63 - 1  # what the database holds; a larger value is a bad value, not a server error
TC3_PREFIX = "TC3-HMAC-SHA256 "


@dataclass(frozen=True)
class ApiRequest:
    """An authenticated API 3.0 call: who, which service/action, the region, the request id and what a policy
    condition may test about it."""

    principal: Principal
    service: str
    action: str
    region: str | None
    request_id: str
    language: str
    context: gate.Context = gate.SYSTEM


Handler = Callable[[ApiRequest, dict], dict]
# What a call acts on: (CAM action, CAM resource) pairs, each of which the gate must allow before the handler runs.
Resources = Callable[[ApiRequest, dict], list[tuple[str, str]]]


@dataclass(frozen=True)
class Action:
    handler: Handler
    params: type[serializers.Serializer] | None
    resources: Resources


ACTIONS: dict[tuple[str, str], Action] = {}
# Parameters that name a resource: an action taking one must say which resource it acts on.
RESOURCE_PARAMS = {"KeyId", "KeyIds", "CiphertextBlob", "DestinationKeyId"}


def account_wide(service: str, name: str) -> Resources:
    """For actions on no one resource (CreateKey, ListKeys, GetRegions …): `*`, as Tencent Cloud documents."""
    return lambda request, params: [(f"{service}:{name}", "*")]


def action(
    service: str, name: str, params: type[serializers.Serializer] | None = None, resources: Resources | None = None
):
    """Register `handler(request, params) -> dict` as API 3.0 action `name` of `service` ("kms" or "cam");
    `resources(request, params)` names what the gate must allow first. Every CAM action names its target, and so
    does every KMS action that takes a key: only keyless KMS actions are authorised against `*`."""
    if resources is None:
        fields = set(params().fields) if params is not None else set()
        if service != "kms" or fields & RESOURCE_PARAMS:
            raise TypeError(f"{service}:{name} must say which resources it acts on")
        resources = account_wide(service, name)

    def register(handler: Handler) -> Handler:
        ACTIONS[(service, name)] = Action(handler, params, resources)
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
    string_to_sign = "\n".join(
        [
            "TC3-HMAC-SHA256",
            timestamp,
            f"{date}/{service}/tc3_request",
            hashlib.sha256(canonical_request.encode("utf-8")).hexdigest(),
        ]
    )
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
    return "\n".join(
        [
            call.method,
            "/",
            call.raw_query if call.method == "GET" else "",
            "".join(values),
            ";".join(signed_headers),
            hashlib.sha256(payload).hexdigest(),
        ]
    )


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


SAME_SECOND_SECONDS = 2  # how long after its signed timestamp a TC3 signature may be used again (see _first_use)


def _first_use(secret_id: str, signature: str, timestamp: int, now: float, *, same_second: bool = False) -> None:
    """A signature is accepted once, by every worker (the cache is the one they share; an entry outlives the
    window in which its timestamp is accepted). TC3 signs no nonce and the SDK does not sign X-TC-Action, so
    without this a captured request could be sent again, or as another action with the same body, for minutes.

    `same_second` keeps the real SDK working: its timestamps are whole seconds and it signs neither the action nor
    the region, so calls a client makes within one second with the same body (ListKeys then GetRegions, both `{}`)
    carry one signature. Such a reuse is accepted while the clock is within SAME_SECOND_SECONDS of the signed
    timestamp; later, any use of a used signature is a replay.
    """
    key = (
        "kinko:api3:signature:"
        + hashlib.sha256(f"{secret_id}\n{signature.lower()}".encode("utf-8", "surrogateescape")).hexdigest()
    )
    ttl = max(1, int(timestamp + MAX_SKEW_SECONDS - now) + 1)
    if cache.add(key, 1, timeout=ttl):
        return
    if same_second and abs(now - timestamp) <= SAME_SECOND_SECONDS:
        return
    raise error("AuthFailure.SignatureFailure", "The request was replayed: each signature is accepted once.")


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
        expected = tc3_signature(
            secret_key, date, service, str(timestamp), canonical_request(call, signed_headers, lowercase)
        )
        if hmac.compare_digest(expected.encode(), signature.lower().encode("utf-8", "surrogateescape")):
            _first_use(secret_id, signature, timestamp, now, same_second=True)
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
    timestamp = _check_timestamp(form.get("Timestamp", ""), now)
    pairs = "&".join(f"{name.replace('_', '.')}={form[name]}" for name in sorted(form) if name != "Signature")
    string_to_sign = f"{call.method}{call.host}/?{pairs}"
    expected = base64.b64encode(
        hmac.new(api_key.secret_key().encode(), string_to_sign.encode(), digests[method]).digest()
    ).decode()
    if not hmac.compare_digest(expected.encode(), form["Signature"].encode("utf-8", "surrogateescape")):
        raise error("AuthFailure.SignatureFailure", "The signature does not match.")
    _first_use(form["SecretId"], form["Signature"], timestamp, now)
    return Principal(account=api_key.account, api_key=api_key)


# -- parameters ---------------------------------------------------------------------------------------------


def _too_deep(value: object, limit: int = MAX_PARAM_DEPTH) -> bool:
    """Whether lists and objects nest deeper than `limit` (iterative: the value may be as deep as the parser let
    it be)."""
    pending = [(value, 0)]
    while pending:
        node, depth = pending.pop()
        if isinstance(node, (dict, list)):
            if depth >= limit:
                return True
            children = node.values() if isinstance(node, dict) else node
            pending.extend((child, depth + 1) for child in children)
    return False


TOO_DEEP = "The request parameters nest too deeply."


def _unflatten(form: dict[str, str]) -> dict:
    """Legacy flattened parameters (`Tags.0.TagKey=…`) back into nested lists and objects."""
    root: dict = {}
    for name, value in form.items():
        node = root
        parts = name.split(".")
        if len(parts) > MAX_PARAM_DEPTH:
            raise error("InvalidParameter", TOO_DEEP)
        for part in parts[:-1]:
            node = node.setdefault(part, {})
            if not isinstance(node, dict):
                raise error("InvalidParameter", f"The parameter {name} puts fields under a value.")
        if isinstance(node.get(parts[-1]), dict):
            raise error("InvalidParameter", f"The parameter {name} is a value where fields were given.")
        node[parts[-1]] = value
    return _listify(root)


def _listify(node):
    if not isinstance(node, dict):
        return node
    items = {name: _listify(value) for name, value in node.items()}
    if items and all(name.isdecimal() for name in items):
        return [items[name] for name in sorted(items, key=int)]
    return items


LEGACY_COMMON = {
    "Action",
    "Version",
    "Region",
    "Timestamp",
    "Nonce",
    "SecretId",
    "SignatureMethod",
    "Signature",
    "Language",
    "Token",
    "RequestClient",
}


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
    except RecursionError:
        raise error("InvalidParameter", TOO_DEEP) from None
    if not isinstance(params, dict):
        raise error("InvalidParameter", "The request body must be a JSON object.")
    if _too_deep(params):
        raise error("InvalidParameter", TOO_DEEP)
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


def _bounded(field: serializers.Field) -> None:
    """Strings arrive exactly as sent (DRF would trim whitespace); integers stay within what the database holds."""
    if isinstance(field, serializers.ListField):
        _bounded(field.child)
    elif isinstance(field, serializers.CharField):
        field.trim_whitespace = False
    elif isinstance(field, serializers.IntegerField):
        if field.max_value is None:
            field.max_value = MAX_INTEGER
            field.validators.append(MaxValueValidator(MAX_INTEGER))
        if field.min_value is None:
            field.min_value = -MAX_INTEGER
            field.validators.append(MinValueValidator(-MAX_INTEGER))


class Params(serializers.Serializer):
    """Base of every action's parameters (and of nested ones): an unknown name at any depth is refused."""

    def get_fields(self) -> dict:
        fields = super().get_fields()
        for field in fields.values():
            _bounded(field)
        return fields

    def to_internal_value(self, data):
        if isinstance(data, dict):
            unknown = sorted(set(data) - set(self.fields))
            if unknown:
                raise serializers.ValidationError(
                    {unknown[0]: [serializers.ErrorDetail("Unknown parameter.", code="unknown")]}
                )
        return super().to_internal_value(data)


VALUE_PROBLEMS = {
    "min_value",
    "max_value",
    "invalid_choice",
    "min_length",
    "max_length",
    "blank",
    "empty",
    "max_string_length",
}


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
        if code == "unknown":
            raise error("UnknownParameter", f"Unknown parameter: {path}.")
        if code == "required":
            raise error("MissingParameter", f"The parameter {path} is required.")
        if service == "cam":
            raise error("InvalidParameter.ParamError", f"The parameter {path} is invalid: {problem}")
        if code in VALUE_PROBLEMS:
            raise error("InvalidParameterValue", f"The parameter {path} is invalid: {problem}")
        raise error("InvalidParameter", f"The parameter {path} is invalid: {problem}")
    return serializer.validated_data


# -- authorization ------------------------------------------------------------------------------------------


def request_context(request: HttpRequest) -> gate.Context:
    """What a policy condition sees of an API 3.0 call: the peer address and whether it came over TLS."""
    return gate.Context(ip=request.META.get("REMOTE_ADDR") or None, secure=request.is_secure())


def authorize(request: ApiRequest, registered: Action, params: dict) -> None:
    """Ask the gate about every (action, resource) the call acts on; any refusal refuses the whole call."""
    for cam_action, resource in registered.resources(request, params):
        try:
            gate.authorise(request.principal, cam_action, resource, request.context)
        except gate.Denied as denied:
            raise error("AuthFailure.UnauthorizedOperation", denied.reason) from None


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
    named = ("api3", "unknown")  # a client's unregistered action is not a label of its own
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
        named = (service, action_name)
        params = validate(registered.params, _params(call), service)
        api_request = ApiRequest(
            principal, service, action_name, region, request_id, language, request_context(request)
        )
        authorize(api_request, registered, params)
        payload = registered.handler(api_request, params)
    except ApiError as exc:
        log.info("API %s.%s -> %s", service, action_name, exc.code)
        return json_response({"Error": {"Code": exc.code, "Message": exc.message}, "RequestId": request_id})
    except Exception:
        log.exception("API %s.%s failed", service, action_name)
        return json_response(
            {"Error": {"Code": "InternalError", "Message": "An internal error occurred."}, "RequestId": request_id}
        )
    finally:
        metrics.name_operation(request.META, *named)
    return json_response({**payload, "RequestId": request_id})
