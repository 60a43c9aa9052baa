"""One function per COS operation: parse, authorize, one service call, render. `handle` routes and renders errors."""

import base64
import datetime
import hashlib
import json
import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import wraps
from urllib.parse import parse_qs, quote, unquote, urlencode, urlsplit

from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.utils import timezone
from django.utils.http import http_date

import gate
from buckets import acl, conditions, cors, errors, lifecycle, multipart, service, sse, tagging, usage
from buckets.models import Bucket, StoredObject, Versioning
from core import metrics
from core.db import one
from core.text import printable
from roles import policy
from roles.principal import Principal

from . import acl_headers, auth, operations, sse_headers, xml
from . import post_object as form
from .headers import (
    META_PREFIX,
    RESPONSE_OVERRIDES,
    STORED_HEADERS,
    RequestBody,
    check_attributes,
    content_length,
    content_md5,
    header_safe,
    object_attributes,
    raw_headers,
    to_text,
    to_wire,
)
from .responses import empty_response, error_response, xml_response
from .urls import BUCKET_HOST, CosTarget

log = logging.getLogger(__name__)

MAX_DELETE_OBJECTS = 1000
OWNER = "OWNER"  # operations only the bucket's owner may perform
# Request headers a CAM condition may test as cos:<header>; absent ones are None, so a condition on them holds
# only when they are sent.
CONDITION_HEADERS = (
    "x-cos-server-side-encryption",
    "x-cos-server-side-encryption-customer-algorithm",
    "x-cos-acl",
    "x-cos-storage-class",
)
SECRET_HEADERS = ("x-cos-server-side-encryption-customer-key", "x-cos-copy-source-server-side-encryption-customer-key")


def new_request_id() -> str:
    return base64.b64encode(uuid.uuid4().bytes).decode().rstrip("=")


class CosRequest:
    """What an operation needs of a request: the Django request, its target, and who signed it."""

    def __init__(
        self, request: HttpRequest, target: CosTarget, principal: Principal | None, request_id: str = ""
    ) -> None:
        self.http = request
        self.target = target
        self.principal = principal
        self.request_id = request_id
        self.query = request.GET
        self.meta = request.META

    @property
    def key(self) -> str:
        return self.target.key

    @property
    def uin(self) -> str | None:
        return self.principal.account.uin if self.principal else None


Operation = Callable[[CosRequest], HttpResponse]


def handle(request: HttpRequest, target: CosTarget) -> HttpResponse:
    """Entry point for every COS XML request (see console.routing): the operation table first, then the signature
    (which must cover what the table read), then the operation."""
    request_id = new_request_id()
    name = "refused"  # what the operation table does not name
    if request.method == "OPTIONS" and target.bucket is not None:
        return _preflight(request, target, request_id)
    try:
        operation, selection = route(request, target)
        name = operation.__name__
        headers = raw_headers(request)
        principal = auth.authenticate(
            request.method, "/" + target.key, list(request.GET.items()), headers, selectors=selection.selectors
        )
        service.validate_key_text(target.key)
        if any("\x00" in value for _, values in request.GET.lists() for value in values):
            raise errors.InvalidArgument("Query parameters cannot contain the NUL character (%00).")
        with service.disk_full_is_unavailable():  # any write's database, not only an object's, may be full
            response = operation(CosRequest(request, target, principal, request_id))
    except errors.CosError as exc:
        # One line per refusal; an internal error (tampered or missing data) is the server's problem: ERROR.
        level, detail = (logging.ERROR, f": {exc.message}") if exc.status == 500 else (logging.INFO, "")
        resource = printable(target.resource)
        log.log(
            level,
            "COS %s %s -> %s %s%s (request %s)",
            request.method,
            resource,
            exc.status,
            exc.code,
            detail,
            request_id,
        )
        response = error_response(exc, target, request_id, request.method)
    except Exception:
        log.exception("COS %s %s failed", request.method, printable(target.resource))
        response = error_response(errors.InternalError(), target, request_id, request.method)
    response["x-cos-request-id"] = request_id
    metrics.name_operation(request.META, "cos", name)
    if "HTTP_ORIGIN" in request.META and target.bucket is not None:
        _with_echo(response, _cors_headers(request, target))
    return response


def _bucket_cors(target: CosTarget) -> list[dict] | None:
    return one(Bucket.objects.filter(name=target.bucket, region=target.region).values_list("cors", flat=True))


def _preflight(request: HttpRequest, target: CosTarget, request_id: str) -> HttpResponse:
    """OPTIONS Object: answered from the bucket's CORS rules alone. A preflight is unsigned by nature (its query
    may carry the signature of the request it asks about), so it is neither authenticated nor routed, and it tells
    a bucket without a matching rule from a missing bucket in nothing."""
    origin = to_text(request.META.get("HTTP_ORIGIN", ""))
    method = to_text(request.META.get("HTTP_ACCESS_CONTROL_REQUEST_METHOD", ""))
    try:
        if not origin or not method:
            raise errors.InvalidRequest("A preflight needs Origin and Access-Control-Request-Method.")
        names = to_text(request.META.get("HTTP_ACCESS_CONTROL_REQUEST_HEADERS", ""))
        asked = cors.Preflight(origin, method, tuple(h.strip().lower() for h in names.split(",") if h.strip()))
        rule = cors.matching_rule(_bucket_cors(target), asked)
        if rule is None:
            raise errors.CorsForbidden()
        response = _with_echo(empty_response(), cors.preflight_headers(rule, asked))
    except errors.CosError as exc:
        log.info("COS OPTIONS %s -> %s %s (request %s)", printable(target.resource), exc.status, exc.code, request_id)
        response = error_response(exc, target, request_id, request.method)
    response["x-cos-request-id"] = request_id
    metrics.name_operation(request.META, "cos", "options_object")
    return response


def _cors_headers(request: HttpRequest, target: CosTarget) -> dict[str, str]:
    """The CORS headers of an actual cross-origin request the bucket's rules allow (none otherwise)."""
    origin = to_text(request.META["HTTP_ORIGIN"])
    rule = cors.matching_rule(_bucket_cors(target), cors.Preflight(origin, request.method))
    return cors.response_headers(rule, origin) if rule is not None else {}


def route(request: HttpRequest, target: CosTarget) -> tuple[Operation, operations.Selection]:
    """The one operation the closed table names for this request, or the COS error that refuses it."""
    scope = "service" if target.bucket is None else "object" if target.key else "bucket"
    copy = "HTTP_X_COS_COPY_SOURCE" in request.META
    selection = operations.select(scope, request.method, request.GET.lists(), copy)
    operation = OPERATIONS.get(selection.key())
    if operation is None:
        raise operations.refusal(selection, OPERATIONS)
    return operation, selection


# -- authorization ----------------------------------------------------------------------------------------


def load_bucket(name: str, region: str | None) -> Bucket:
    bucket = one(Bucket.objects.filter(name=name).select_related("owner"))
    if bucket is None or (region is not None and bucket.region != region):
        raise errors.NoSuchBucket()
    return bucket


def gate_context(req: CosRequest) -> gate.Context:
    """What a CAM condition may test: qcs:ip, secure transport, and cos:<header> for the request's x-cos-*
    headers (never the SSE-C key material)."""
    values: dict[str, object] = {f"cos:{name}": None for name in CONDITION_HEADERS}
    for name, value in req.meta.items():
        header = name[5:].lower().replace("_", "-") if name.startswith("HTTP_X_COS_") else ""
        if header and header not in SECRET_HEADERS:
            values[f"cos:{header}"] = to_text(value)
    return gate.Context(ip=req.meta.get("REMOTE_ADDR"), secure=req.http.is_secure(), values=values)


def authorise(
    req: CosRequest,
    action: str,
    resource: str,
    acl_grants: list[dict] | None = None,
    permission: str = "",
    bucket_policy: dict | None | object = gate.READ_POLICY,
) -> None:
    """Ask the gate; its refusal is a COS AccessDenied."""
    grants = gate.Acl(acl_grants, "" if permission == OWNER else permission) if acl_grants is not None else None
    try:
        gate.authorise(
            req.principal, f"cos:{action}", resource, gate_context(req), acl=grants, bucket_policy=bucket_policy
        )
    except gate.Denied as exc:
        raise errors.AccessDenied(exc.reason) from None


def authorize(
    req: CosRequest, bucket: Bucket, action: str, permission: str, key: str = "", object_acl: bool = False
) -> None:
    """`cos:<action>` on qcs::cos:<region>:uid/<appid>:<bucket>/<key>, through the gate: the owner account by its
    CAM policies, anyone else by what the ACL grants (`permission`; an object without its own ACL, "default",
    follows its bucket's), all under the bucket's policy."""
    grants = bucket.acl
    if object_acl:
        own = one(StoredObject.objects.filter(bucket=bucket, key=key).values_list("acl", flat=True))
        grants = bucket.acl if own is None else own
    resource = policy.cos_resource(bucket.region, bucket.owner.appid, bucket.name, key)
    authorise(req, action, resource, grants, permission, bucket.policy)


def cos_operation(action: str, permission: str, on: str = "bucket") -> Callable[[Callable], Operation]:
    """Load the addressed bucket and authorize `name/cos:<action>` (CAM) or `permission` (ACL) on the bucket or,
    with on="object", on the addressed object."""

    def decorate(view: Callable[[CosRequest, Bucket], HttpResponse]) -> Operation:
        @wraps(view)
        def wrapper(req: CosRequest) -> HttpResponse:
            bucket = load_bucket(req.target.bucket, req.target.region)
            authorize(req, bucket, action, permission, req.key, object_acl=on == "object")
            usage.count_request(bucket.owner_id)  # requests per day, for the console's overview
            return view(req, bucket)

        return wrapper

    return decorate


# -- request parsing --------------------------------------------------------------------------------------


def _int_param(req: CosRequest, name: str, default: int, low: int, high: int) -> int:
    value = req.query.get(name, "")
    if value == "":
        return default
    if not value.isdecimal() or not low <= int(value) <= high:
        raise errors.InvalidArgument(f"{name} must be an integer from {low} to {high}.")
    return int(value)


def _encoding_type(req: CosRequest) -> str | None:
    value = req.query.get("encoding-type", "")
    if value not in ("", "url"):
        raise errors.InvalidArgument("encoding-type must be 'url'.")
    return value or None


def _read_xml_body(req: CosRequest) -> bytes:
    """A bounded request document, its Content-MD5 checked when sent."""
    body = req.http.read(xml.MAX_XML_BYTES + 1)
    if len(body) > xml.MAX_XML_BYTES:
        raise errors.MalformedXML("The request document is too large.")
    expected = content_md5(req.http)
    if expected is not None and hashlib.md5(body).digest() != expected:
        raise errors.BadDigest()
    return body


def _request_headers(req: CosRequest) -> dict[str, str]:
    return {name.lower(): value for name, value in req.http.headers.items()}


def _acl_from_headers(req: CosRequest, owner_id: str, allowed: tuple[str, ...]) -> list[dict] | None:
    """The ACL a write asks for: grant headers, else x-cos-acl; None when neither (object: "default")."""
    grants = acl_headers.header_grants(_request_headers(req), owner_id)
    if grants is not None:
        return grants
    canned = req.meta.get("HTTP_X_COS_ACL")
    if canned is None or (canned == "default" and "default" in allowed):
        return None
    return acl.canned_grants(canned, owner_id, allowed)


def _sse_request(req: CosRequest) -> sse.SseRequest | None:
    """The SSE a write asks for in its headers. URL parameters cannot ask for it (presigned uploads, the seed): the
    operation table refuses them."""
    return sse_headers.parse_request(_request_headers(req), req.http.is_secure())


def _customer_key(req: CosRequest, copy_source: bool = False) -> sse.CustomerKey | None:
    return sse_headers.customer_key(_request_headers(req), req.http.is_secure(), copy_source=copy_source)


def _write(req: CosRequest, bucket: Bucket, attributes: service.ObjectAttributes | None = None) -> service.WriteRequest:
    return service.WriteRequest(
        attributes=attributes if attributes is not None else object_attributes(req.http),
        acl=_acl_from_headers(req, bucket.owner.owner_id, acl.OBJECT_CANNED),
        sse_request=_sse_request(req),
        request_id=req.request_id,
    )


def _with_echo(response: HttpResponse, echo: dict[str, str]) -> HttpResponse:
    for name, value in echo.items():
        response[name] = value
    return response


def _version_asked(req: CosRequest) -> str | None:
    """The stored id of the version ?versionId names; None without it (the current object)."""
    label = req.query.get("versionId")
    return None if label is None else service.parse_version_id(label)


def _version_headers(response: HttpResponse, bucket: Bucket, obj: StoredObject) -> HttpResponse:
    """x-cos-version-id of the version written or read, once the bucket has ever been versioned."""
    if bucket.versioning != Versioning.OFF:
        response["x-cos-version-id"] = service.version_label(obj.version_id)
    return response


def refuse_anonymous_encrypted(req: CosRequest, obj: StoredObject) -> None:
    """Encrypted objects need a valid signature, whatever the ACL says (the seed)."""
    if req.principal is None and obj.sse:
        raise errors.AccessDenied("Encrypted objects can only be accessed with a signed request.")


def _body(req: CosRequest) -> tuple[RequestBody, int | None]:
    length = content_length(req.http)
    # Django only reads Content-Length bodies; a chunked body is read de-chunked from the server's input.
    return RequestBody(req.http if length is not None else req.meta["wsgi.input"]), length


@dataclass(frozen=True)
class CopySource:
    bucket: str
    region: str
    key: str
    version_id: str | None  # a stored id; None: the current object


def parse_copy_source(value: str) -> CopySource:
    """x-cos-copy-source: <bucket>-<appid>.cos.<region>.<any domain>/<percent-encoded key>[?versionId=…]."""
    text = to_text(value).strip()
    if "://" not in text:
        text = "http://" + text.lstrip("/")
    try:
        parts = urlsplit(text)
        hostname = parts.hostname or ""
    except ValueError:
        raise errors.InvalidCopySource("x-cos-copy-source is not a valid URL.") from None
    match = BUCKET_HOST.match(hostname)
    key = unquote(parts.path)[1:]
    if not match or not key:
        raise errors.InvalidCopySource("x-cos-copy-source must be <bucket>-<appid>.cos.<region>.<domain>/<key>.")
    service.validate_key_text(key)
    query = parse_qs(parts.query, keep_blank_values=True)
    if set(query) - {"versionId"} or len(query.get("versionId", [])) > 1:
        raise errors.InvalidCopySource("x-cos-copy-source takes no parameter but one versionId.")
    version = query["versionId"][0] if query else None
    version_id = None if version is None else service.parse_version_id(version)
    return CopySource(match["bucket"].lower(), match["region"].lower(), key, version_id)


def load_copy_source(req: CosRequest) -> tuple[StoredObject, sse.ObjectKeys]:
    """The copy source, authorized for reading, its conditions checked, and its envelope opened (with the
    copy-source SSE-C trio when the source is SSE-C)."""
    named = parse_copy_source(req.meta["HTTP_X_COS_COPY_SOURCE"])
    try:
        bucket = load_bucket(named.bucket, named.region)
    except errors.NoSuchBucket:
        raise errors.NoSuchBucket("The copy source bucket does not exist.") from None
    authorize(req, bucket, "GetObject", "READ", named.key, object_acl=True)
    try:
        source = service.get_object(bucket, named.key, named.version_id)
    except errors.NoSuchKey:
        raise errors.NoSuchKey("The copy source key does not exist.") from None
    except errors.MethodNotAllowed:
        raise errors.InvalidRequest("The copy source version is a delete marker.") from None
    refuse_anonymous_encrypted(req, source)
    copy_conditions = {
        header: req.meta.get("HTTP_X_COS_COPY_SOURCE_" + header.upper().replace("-", "_"))
        for header in ("If-Match", "If-None-Match", "If-Modified-Since", "If-Unmodified-Since")
    }
    present = {name: value for name, value in copy_conditions.items() if value is not None}
    if not conditions.check_preconditions(present, source.etag, source.last_modified):
        raise errors.PreconditionFailed()
    keys = sse.open_envelope(bucket, source, _customer_key(req, copy_source=True), req.request_id)
    return source, keys


# -- service ----------------------------------------------------------------------------------------------


def _tag_filter(req: CosRequest) -> tuple[str, str] | None:
    key, value = req.query.get("tagkey"), req.query.get("tagvalue")
    if key is None and value is None:
        return None
    if not key or value is None:
        raise errors.InvalidArgument("tagkey and tagvalue filter together.")
    return key, value


def _created_filter(req: CosRequest) -> tuple[str, datetime.datetime] | None:
    """create-time (Unix seconds) with range lt, gt, lte or gte."""
    moment, comparison = req.query.get("create-time"), req.query.get("range")
    if moment is None and comparison is None:
        return None
    if comparison not in service.CREATED or moment is None or not moment.isdecimal():
        raise errors.InvalidArgument("create-time (Unix seconds) and range (lt, gt, lte or gte) filter together.")
    try:
        return comparison, datetime.datetime.fromtimestamp(int(moment), tz=datetime.UTC)
    except (OverflowError, ValueError, OSError):
        raise errors.InvalidArgument("create-time is out of range.") from None


def list_buckets(req: CosRequest) -> HttpResponse:
    authorise(req, "GetService", "*")
    account = req.principal.account
    buckets = service.list_buckets(
        account, region=req.query.get("region") or None, tag=_tag_filter(req), created=_created_filter(req)
    )
    marker = req.query.get("marker", "")
    max_keys = _int_param(req, "max-keys", 2000, 1, 2000)
    after = [b for b in buckets if b.name > marker] if marker else buckets
    page = after[:max_keys]
    truncated = len(after) > max_keys
    owner = [("ID", account.owner_id), ("DisplayName", account.uin)]
    body = [
        ("Owner", owner),
        (
            "Buckets",
            [
                (
                    "Bucket",
                    [
                        ("Name", b.name),
                        ("Location", b.region),
                        ("CreationDate", xml.iso8601(b.created_at, False)),
                        ("BucketType", "cos"),
                    ],
                )
                for b in page
            ],
        ),
        ("Marker", marker or None),
        ("IsTruncated", xml.bool_text(truncated)),
    ]
    if truncated:
        body.append(("NextMarker", page[-1].name))
    return xml_response(xml.render("ListAllMyBucketsResult", body))


# -- buckets ----------------------------------------------------------------------------------------------


def create_bucket(req: CosRequest) -> HttpResponse:
    if req.principal is None:
        raise errors.AccessDenied("Anonymous access is not allowed; sign the request.")
    account = req.principal.account
    authorise(req, "PutBucket", policy.cos_resource(req.target.region, account.appid, req.target.bucket))
    body = _read_xml_body(req)
    if body.strip():
        xml.parse(body, "CreateBucketConfiguration")
    grants = _acl_from_headers(req, account.owner_id, acl.BUCKET_CANNED)
    service.create_bucket(account, req.target.bucket, req.target.region, grants)
    return empty_response()


@cos_operation("HeadBucket", "READ")
def head_bucket(req: CosRequest, bucket: Bucket) -> HttpResponse:
    response = empty_response()
    response["x-cos-bucket-region"] = bucket.region
    return response


@cos_operation("DeleteBucket", OWNER)
def delete_bucket(req: CosRequest, bucket: Bucket) -> HttpResponse:
    service.delete_bucket(bucket)
    return empty_response(204)


@cos_operation("GetBucketLocation", "READ")
def get_bucket_location(req: CosRequest, bucket: Bucket) -> HttpResponse:
    return xml_response(xml.render("LocationConstraint", bucket.region))


@cos_operation("GetBucket", "READ")
def list_objects(req: CosRequest, bucket: Bucket) -> HttpResponse:
    q = req.query
    prefix, delimiter, marker = q.get("prefix", ""), q.get("delimiter", ""), q.get("marker", "")
    max_keys = _int_param(req, "max-keys", 1000, 0, 1000)
    listing = service.list_objects(bucket, prefix=prefix, delimiter=delimiter, marker=marker, max_keys=max_keys)
    names = [prefix, marker, delimiter, listing.next_marker or "", *listing.common_prefixes]
    encoding = xml.listing_encoding(_encoding_type(req), names + [o.key for o in listing.objects])

    def enc(value: str) -> str:
        return xml.url_encode(value, encoding)

    owner = [("ID", bucket.owner.appid), ("DisplayName", bucket.owner.appid)]
    body: list = [("Name", bucket.name)]
    if encoding:
        body.append(("EncodingType", encoding))
    body += [
        ("Prefix", enc(prefix) or None),
        ("Marker", enc(marker) or None),
        ("MaxKeys", str(max_keys)),
        ("Delimiter", enc(delimiter) or None),
        ("IsTruncated", xml.bool_text(listing.is_truncated)),
    ]
    if listing.is_truncated and listing.next_marker is not None:
        body.append(("NextMarker", enc(listing.next_marker)))
    body += [("CommonPrefixes", [("Prefix", enc(p))]) for p in listing.common_prefixes]
    body += [
        (
            "Contents",
            [
                ("Key", enc(o.key)),
                ("LastModified", xml.iso8601(o.last_modified)),
                ("ETag", f'"{o.etag}"'),
                ("Size", str(o.size_bytes)),
                ("Owner", owner),
                ("StorageClass", o.storage_class),
            ],
        )
        for o in listing.objects
    ]
    response = xml_response(xml.render("ListBucketResult", body))
    response["x-cos-bucket-region"] = bucket.region
    return response


@cos_operation("DeleteMultipleObjects", "WRITE")
def delete_objects(req: CosRequest, bucket: Bucket) -> HttpResponse:
    root = xml.parse(_read_xml_body(req), "Delete")
    quiet = (root.findtext("Quiet") or "false").strip().lower() == "true"
    entries = [(element.findtext("Key") or "", element.findtext("VersionId")) for element in root.findall("Object")]
    if not entries or len(entries) > MAX_DELETE_OBJECTS or any(not key for key, _ in entries):
        raise errors.MalformedXML(f"Delete names 1 to {MAX_DELETE_OBJECTS} objects, each with a Key.")
    children = []
    for key, version, deletion, failure in service.delete_objects(bucket, entries):
        named = [("Key", key)] + ([("VersionId", version)] if version is not None else [])
        if failure is not None:
            children.append(("Error", [*named, ("Code", failure.code), ("Message", failure.message)]))
        elif not quiet:
            children.append(("Deleted", named + _deleted_marker(version, deletion)))
    return xml_response(xml.render("DeleteResult", children))


def _deleted_marker(version: str | None, deletion: service.Deletion | None) -> list:
    """DeleteMarker and DeleteMarkerVersionId of a Deleted entry: the marker added, or the one removed by id."""
    if version is None and deletion is not None and deletion.marker is not None:
        return [("DeleteMarker", "true"), ("DeleteMarkerVersionId", service.version_label(deletion.marker.version_id))]
    if version is not None and deletion is not None and deletion.removed.delete_marker:
        return [("DeleteMarker", "true"), ("DeleteMarkerVersionId", version)]
    return []


@cos_operation("GetBucketObjectVersions", "READ")
def list_object_versions(req: CosRequest, bucket: Bucket) -> HttpResponse:
    q = req.query
    prefix, delimiter, key_marker = q.get("prefix", ""), q.get("delimiter", ""), q.get("key-marker", "")
    version_label = q.get("version-id-marker") or None  # the SDKs send it empty
    if version_label is not None and not key_marker:
        raise errors.InvalidArgument("version-id-marker goes with key-marker.")
    version_marker = None if version_label is None else service.parse_version_id(version_label)
    max_keys = _int_param(req, "max-keys", 1000, 0, 1000)
    listing = service.list_versions(bucket, prefix, delimiter, key_marker, version_marker, max_keys)
    names = [prefix, key_marker, delimiter, listing.next_key_marker or "", *listing.common_prefixes]
    encoding = xml.listing_encoding(_encoding_type(req), names + [v.key for v in listing.versions])

    def enc(value: str) -> str:
        return xml.url_encode(value, encoding)

    owner = [("UID", bucket.owner.appid), ("DisplayName", bucket.owner.appid)]
    body: list = [("Name", bucket.name)]
    if encoding:
        body.append(("EncodingType", encoding))
    body += [
        ("Prefix", enc(prefix) or None),
        ("KeyMarker", enc(key_marker) or None),
        ("VersionIdMarker", version_label),
        ("MaxKeys", str(max_keys)),
        ("Delimiter", enc(delimiter) or None),
        ("IsTruncated", xml.bool_text(listing.is_truncated)),
    ]
    if listing.is_truncated:
        body.append(("NextKeyMarker", enc(listing.next_key_marker or "")))
        if listing.next_version_marker is not None:
            body.append(("NextVersionIdMarker", service.version_label(listing.next_version_marker)))
    body += [("CommonPrefixes", [("Prefix", enc(p))]) for p in listing.common_prefixes]
    for v in listing.versions:
        common = [
            ("Key", enc(v.key)),
            ("VersionId", service.version_label(v.version_id)),
            ("IsLatest", xml.bool_text(v.is_latest)),
            ("LastModified", xml.iso8601(v.last_modified)),
        ]
        if v.delete_marker:
            body.append(("DeleteMarker", [*common, ("Owner", owner)]))
        else:
            details = [("ETag", f'"{v.etag}"'), ("Size", str(v.size_bytes)), ("StorageClass", v.storage_class)]
            body.append(("Version", [*common, *details, ("Owner", owner)]))
    response = xml_response(xml.render("ListVersionsResult", body))
    response["x-cos-bucket-region"] = bucket.region
    return response


@cos_operation("PutBucketVersioning", OWNER)
def put_bucket_versioning(req: CosRequest, bucket: Bucket) -> HttpResponse:
    root = xml.parse(_read_xml_body(req), "VersioningConfiguration")
    service.set_bucket_versioning(bucket, (root.findtext("Status") or "").strip())
    return empty_response()


@cos_operation("GetBucketVersioning", OWNER)
def get_bucket_versioning(req: CosRequest, bucket: Bucket) -> HttpResponse:
    status = [("Status", bucket.versioning)] if bucket.versioning != Versioning.OFF else []
    return xml_response(xml.render("VersioningConfiguration", status))


def _acl_document(owner_id: str, grants: list[dict]) -> bytes:
    rendered = []
    for grant in grants:
        if grant["type"] == "Group":
            grantee = ("Grantee", [("URI", grant["uri"])], {f"{{{xml.XSI}}}type": "Group"})
        else:
            grantee = (
                "Grantee",
                [("ID", grant["id"]), ("DisplayName", grant["id"])],
                {f"{{{xml.XSI}}}type": "CanonicalUser"},
            )
        rendered.append(("Grant", [grantee, ("Permission", grant["permission"])]))
    owner = [("ID", owner_id), ("DisplayName", owner_id)]
    return xml.render("AccessControlPolicy", [("Owner", owner), ("AccessControlList", rendered)])


def _acl_from_request(req: CosRequest, owner_id: str, allowed: tuple[str, ...]) -> list[dict] | None:
    """PUT ?acl: an AccessControlPolicy body, else grant headers, else x-cos-acl."""
    body = _read_xml_body(req)
    if body.strip():
        return acl_headers.policy_grants(xml.parse(body, "AccessControlPolicy"))
    grants = _acl_from_headers(req, owner_id, allowed)
    if grants is None and req.meta.get("HTTP_X_COS_ACL") is None:
        raise errors.InvalidArgument("PUT ?acl needs x-cos-acl, x-cos-grant-* headers or an AccessControlPolicy.")
    return grants


@cos_operation("GetBucketACL", "READ_ACP")
def get_bucket_acl(req: CosRequest, bucket: Bucket) -> HttpResponse:
    owner_id = bucket.owner.owner_id
    return xml_response(_acl_document(owner_id, bucket.acl or [acl.owner_grant(owner_id)]))


@cos_operation("PutBucketACL", "WRITE_ACP")
def put_bucket_acl(req: CosRequest, bucket: Bucket) -> HttpResponse:
    owner_id = bucket.owner.owner_id
    grants = _acl_from_request(req, owner_id, acl.BUCKET_CANNED)
    service.set_bucket_acl(bucket, grants or [acl.owner_grant(owner_id)])
    return empty_response()


@cos_operation("PutBucketEncryption", OWNER)
def put_bucket_encryption(req: CosRequest, bucket: Bucket) -> HttpResponse:
    root = xml.parse(_read_xml_body(req), "ServerSideEncryptionConfiguration")
    rule = root.find("Rule")
    # Lenient as the SDK's own test needs (spec §4.4): the first SSEAlgorithm under Rule, whatever wraps it.
    algorithm = rule.findtext(".//SSEAlgorithm") if rule is not None else None
    if not algorithm:
        raise errors.MalformedXML("ServerSideEncryptionConfiguration needs Rule/…/SSEAlgorithm.")
    kms_key_id = (rule.findtext(".//KMSMasterKeyID") or "").strip()
    sse.set_bucket_encryption(bucket, algorithm.strip(), kms_key_id, req.request_id)
    return empty_response()


@cos_operation("GetBucketEncryption", OWNER)
def get_bucket_encryption(req: CosRequest, bucket: Bucket) -> HttpResponse:
    if not bucket.default_sse:
        raise errors.NoSuchEncryptionConfiguration()
    default: list = [("SSEAlgorithm", bucket.default_sse)]
    if bucket.default_kms_key_id:
        default.append(("KMSMasterKeyID", bucket.default_kms_key_id))
    rule = [("ApplyServerSideEncryptionByDefault", default)]
    return xml_response(xml.render("ServerSideEncryptionConfiguration", [("Rule", rule)]))


@cos_operation("DeleteBucketEncryption", OWNER)
def delete_bucket_encryption(req: CosRequest, bucket: Bucket) -> HttpResponse:
    sse.delete_bucket_encryption(bucket, req.request_id)
    return empty_response(204)


# -- CORS and bucket policy -------------------------------------------------------------------------------

_CORS_LISTS = (("origins", "AllowedOrigin"), ("methods", "AllowedMethod"), ("headers", "AllowedHeader"))


def _cors_rule(element) -> dict:
    max_age = (element.findtext("MaxAgeSeconds") or "").strip()
    if max_age and not max_age.isdecimal():
        raise errors.InvalidArgument("MaxAgeSeconds must be a non-negative integer.")
    rule = {"id": (element.findtext("ID") or "").strip()}
    for name, tag in (*_CORS_LISTS, ("expose", "ExposeHeader")):
        rule[name] = [(child.text or "").strip() for child in element.findall(tag)]
    return {**rule, "max_age": int(max_age) if max_age else None}


@cos_operation("PutBucketCORS", OWNER)
def put_bucket_cors(req: CosRequest, bucket: Bucket) -> HttpResponse:
    root = xml.parse(_read_xml_body(req), "CORSConfiguration")
    cors.set_bucket_cors(bucket, [_cors_rule(element) for element in root.findall("CORSRule")])
    return empty_response()


@cos_operation("GetBucketCORS", OWNER)
def get_bucket_cors(req: CosRequest, bucket: Bucket) -> HttpResponse:
    if bucket.cors is None:
        raise errors.NoSuchCORSConfiguration()
    rules = []
    for rule in bucket.cors:
        children: list = [("ID", rule["id"])] if rule["id"] else []
        for name, tag in (*_CORS_LISTS, ("expose", "ExposeHeader")):
            children += [(tag, value) for value in rule[name]]
        if rule["max_age"] is not None:
            children.append(("MaxAgeSeconds", str(rule["max_age"])))
        rules.append(("CORSRule", children))
    return xml_response(xml.render("CORSConfiguration", rules))


@cos_operation("DeleteBucketCORS", OWNER)
def delete_bucket_cors(req: CosRequest, bucket: Bucket) -> HttpResponse:
    cors.set_bucket_cors(bucket, None)
    return empty_response(204)


# -- lifecycle --------------------------------------------------------------------------------------------

_LIFECYCLE_DAYS = (
    ("noncurrent_days", "NoncurrentVersionExpiration", "NoncurrentDays"),
    ("abort_days", "AbortIncompleteMultipartUpload", "DaysAfterInitiation"),
)


def _days_of(element, tag: str) -> int:
    text = (element.findtext(tag) or "").strip()
    if not text.isdecimal():
        raise errors.InvalidArgument(f"{tag} must be a positive integer.")
    return int(text)


def _lifecycle_filter(rule) -> dict:
    """<Filter> with one of Prefix, Tag or And{Prefix, Tag…}; a legacy <Prefix> on the Rule itself; or none."""
    found = rule.find("Filter")
    if found is None:
        return {"prefix": rule.findtext("Prefix") or "", "tags": [], "and": False}
    parts = [child.tag for child in found]
    if len(parts) > 1 or parts not in ([], ["Prefix"], ["Tag"], ["And"]):
        raise errors.MalformedXML("A lifecycle Filter holds exactly one of Prefix, Tag or And.")
    within = found.find("And")
    shape = within if within is not None else found
    return {"prefix": shape.findtext("Prefix") or "", "tags": _tag_pairs(shape), "and": within is not None}


def _lifecycle_rule(element) -> dict:
    status = (element.findtext("Status") or "").strip()
    if status not in ("Enabled", "Disabled"):
        raise errors.MalformedXML("Each lifecycle Rule needs a Status of Enabled or Disabled.")
    if element.find("Transition") is not None or element.find("NoncurrentVersionTransition") is not None:
        raise errors.InvalidArgument("Kinko has one storage class: lifecycle Transition rules are not supported.")
    rule = {"id": (element.findtext("ID") or "").strip(), "enabled": status == "Enabled"}
    rule["filter"] = _lifecycle_filter(element)
    expiration = element.find("Expiration")
    if expiration is None:
        rule["expiration"] = None
    elif [child.tag for child in expiration] == ["Days"]:
        rule["expiration"] = {"days": _days_of(expiration, "Days")}
    elif [child.tag for child in expiration] == ["Date"]:
        rule["expiration"] = {"date": (expiration.findtext("Date") or "").strip()}
    else:
        raise errors.MalformedXML("A lifecycle Expiration holds exactly one of Days or Date.")
    for name, tag, child in _LIFECYCLE_DAYS:
        found = element.find(tag)
        rule[name] = _days_of(found, child) if found is not None else None
    return rule


@cos_operation("PutBucketLifecycle", OWNER)
def put_bucket_lifecycle(req: CosRequest, bucket: Bucket) -> HttpResponse:
    root = xml.parse(_read_xml_body(req), "LifecycleConfiguration")
    lifecycle.set_bucket_lifecycle(bucket, [_lifecycle_rule(element) for element in root.findall("Rule")])
    return empty_response()


@cos_operation("GetBucketLifecycle", OWNER)
def get_bucket_lifecycle(req: CosRequest, bucket: Bucket) -> HttpResponse:
    if bucket.lifecycle is None:
        raise errors.NoSuchLifecycleConfiguration()
    rules = []
    for rule in bucket.lifecycle:
        chosen = rule["filter"]
        tags = [("Tag", [("Key", key), ("Value", value)]) for key, value in chosen["tags"]]
        if chosen["and"]:
            shape = [("And", [("Prefix", chosen["prefix"]), *tags])]
        else:
            shape = tags or [("Prefix", chosen["prefix"])]
        children: list = [("ID", rule["id"])] if rule["id"] else []
        children += [("Filter", shape), ("Status", "Enabled" if rule["enabled"] else "Disabled")]
        if rule["expiration"] is not None:
            days = rule["expiration"].get("days")
            children.append(("Expiration", [("Days", str(days)) if days else ("Date", rule["expiration"]["date"])]))
        children += [(tag, [(child, str(rule[name]))]) for name, tag, child in _LIFECYCLE_DAYS if rule[name]]
        rules.append(("Rule", children))
    return xml_response(xml.render("LifecycleConfiguration", rules))


@cos_operation("DeleteBucketLifecycle", OWNER)
def delete_bucket_lifecycle(req: CosRequest, bucket: Bucket) -> HttpResponse:
    lifecycle.set_bucket_lifecycle(bucket, None)
    return empty_response(204)


@cos_operation("PutBucketPolicy", OWNER)
def put_bucket_policy(req: CosRequest, bucket: Bucket) -> HttpResponse:
    body = req.http.read(policy.MAX_BUCKET_POLICY_BYTES + 1)
    if len(body) > policy.MAX_BUCKET_POLICY_BYTES:
        raise errors.MalformedPolicy(f"A bucket policy holds at most {policy.MAX_BUCKET_POLICY_BYTES} bytes.")
    try:
        document = policy.parse_bucket_policy(body.decode("utf-8", errors="replace"), bucket.name)
    except policy.PolicySyntaxError as exc:
        raise errors.MalformedPolicy(str(exc)) from None
    service.set_bucket_policy(bucket, document)
    return empty_response(204)


@cos_operation("GetBucketPolicy", OWNER)
def get_bucket_policy(req: CosRequest, bucket: Bucket) -> HttpResponse:
    if bucket.policy is None:
        raise errors.NoSuchBucketPolicy()
    return HttpResponse(json.dumps(bucket.policy), content_type="application/json")


@cos_operation("DeleteBucketPolicy", OWNER)
def delete_bucket_policy(req: CosRequest, bucket: Bucket) -> HttpResponse:
    service.set_bucket_policy(bucket, None)
    return empty_response(204)


# -- objects ----------------------------------------------------------------------------------------------


def _object_headers(response: HttpResponse, obj: StoredObject) -> None:
    response["ETag"] = f'"{obj.etag}"'
    response["Last-Modified"] = http_date(obj.last_modified.timestamp())
    response["Accept-Ranges"] = "bytes"
    response["x-cos-hash-crc64ecma"] = obj.crc64
    if obj.storage_class != "STANDARD":
        response["x-cos-storage-class"] = obj.storage_class
    if obj.tags:
        response["x-cos-tagging-count"] = str(len(obj.tags))
    for name, value in [*obj.headers.items(), *obj.metadata.items()]:
        if header_safe(value):
            response[name] = to_wire(value)
        else:
            # Stored before writes refused control characters; the object stays readable without it.
            log.warning(
                "COS object %s/%s: stored header %s is not sendable; left out",
                obj.bucket_id,
                printable(obj.key),
                printable(name),
            )


@cos_operation("PutObject", "WRITE")
def put_object(req: CosRequest, bucket: Bucket) -> HttpResponse:
    body, length = _body(req)
    written = service.put_object(bucket, req.key, body, length, _write(req, bucket), content_md5(req.http))
    response = empty_response()
    response["ETag"] = f'"{written.obj.etag}"'
    response["x-cos-hash-crc64ecma"] = written.obj.crc64
    return _with_echo(_version_headers(response, bucket, written.obj), written.echo)


@cos_operation("PutObject", "WRITE")
def copy_object(req: CosRequest, bucket: Bucket) -> HttpResponse:
    source, source_keys = load_copy_source(req)
    directive = req.meta.get("HTTP_X_COS_METADATA_DIRECTIVE", "Copy")
    if directive not in ("Copy", "Replaced"):
        raise errors.InvalidArgument("x-cos-metadata-directive must be Copy or Replaced.")
    tag_directive = req.meta.get("HTTP_X_COS_TAGGING_DIRECTIVE", "Copy")
    if tag_directive not in ("Copy", "Replaced"):
        raise errors.InvalidArgument("x-cos-tagging-directive must be Copy or Replaced.")
    replace_tags = tag_directive == "Replaced"
    write = _write(req, bucket)
    written = service.copy_object(source, source_keys, bucket, req.key, directive == "Replaced", write, replace_tags)
    obj = written.obj
    response = xml_response(
        xml.render(
            "CopyObjectResult",
            [
                ("ETag", f'"{obj.etag}"'),
                ("LastModified", xml.iso8601(obj.last_modified, False)),
                ("CRC64", obj.crc64),
            ],
        )
    )
    if source.bucket.versioning != Versioning.OFF:
        response["x-cos-copy-source-version-id"] = service.version_label(source.version_id)
    return _with_echo(_version_headers(response, bucket, obj), written.echo)


def _read_object(req: CosRequest, bucket: Bucket, with_body: bool) -> HttpResponse:
    if "HTTP_X_COS_SERVER_SIDE_ENCRYPTION" in req.meta:
        raise errors.SSEHeaderNotAllowed()
    _check_overrides(req)
    version_id = _version_asked(req)
    if req.principal is None:
        refuse_anonymous_encrypted(req, service.get_object(bucket, req.key, version_id))
    read = service.read_object(
        bucket,
        req.key,
        req.http.headers,
        want_body=with_body,
        customer_key=_customer_key(req),
        request_id=req.request_id,
        version_id=version_id,
    )
    obj = read.obj
    status = 206 if read.span else 200
    if read.not_modified:
        response = empty_response(304)
        response["Content-Length"] = str(obj.size_bytes)
    elif read.body is not None:
        response = StreamingHttpResponse(read.body, status=status, content_type=to_wire(obj.content_type))
    else:
        response = HttpResponse(status=status, content_type=to_wire(obj.content_type))
    if not read.not_modified:
        response["Content-Length"] = str(read.length)
        if read.span is not None:
            response["Content-Range"] = f"bytes {read.span[0]}-{read.span[1]}/{obj.size_bytes}"
    _object_headers(response, obj)
    _version_headers(response, bucket, obj)
    for param, header in RESPONSE_OVERRIDES.items():
        if param in req.query:
            response[header] = to_wire(req.query[param])
    return _with_echo(response, read.echo)


def _check_overrides(req: CosRequest) -> None:
    for param in RESPONSE_OVERRIDES:
        if param in req.query and not header_safe(req.query[param]):
            raise errors.InvalidArgument(f"{param} must not contain control characters.")


@cos_operation("GetObject", "READ", on="object")
def get_object(req: CosRequest, bucket: Bucket) -> HttpResponse:
    return _read_object(req, bucket, with_body=True)


@cos_operation("HeadObject", "READ", on="object")
def head_object(req: CosRequest, bucket: Bucket) -> HttpResponse:
    return _read_object(req, bucket, with_body=False)


@cos_operation("DeleteObject", "WRITE")
def delete_object(req: CosRequest, bucket: Bucket) -> HttpResponse:
    service.validate_key(req.key)
    version_id = _version_asked(req)
    deletion = service.delete_object(bucket, req.key, version_id=version_id)
    response = empty_response(204)
    if version_id is not None:
        response["x-cos-version-id"] = service.version_label(version_id)
        if deletion is not None and deletion.removed.delete_marker:
            response["x-cos-delete-marker"] = "true"
    elif deletion is not None and deletion.marker is not None:
        response["x-cos-version-id"] = service.version_label(deletion.marker.version_id)
        response["x-cos-delete-marker"] = "true"
    return response


@cos_operation("GetObjectACL", "READ_ACP", on="object")
def get_object_acl(req: CosRequest, bucket: Bucket) -> HttpResponse:
    obj = service.get_object(bucket, req.key, _version_asked(req))
    owner_id = bucket.owner.owner_id
    response = xml_response(_acl_document(owner_id, obj.acl or [acl.owner_grant(owner_id)]))
    if obj.acl is None:
        response["x-cos-acl"] = "default"
    return response


@cos_operation("PutObjectACL", "WRITE_ACP", on="object")
def put_object_acl(req: CosRequest, bucket: Bucket) -> HttpResponse:
    obj = service.get_object(bucket, req.key, _version_asked(req))
    service.set_object_acl(obj, _acl_from_request(req, bucket.owner.owner_id, acl.OBJECT_CANNED))
    return empty_response()


# -- tagging ----------------------------------------------------------------------------------------------


def _tags_from_request(req: CosRequest, limit: int) -> dict[str, str]:
    """PUT ?tagging: <Tagging><TagSet><Tag><Key/><Value/></Tag>…</TagSet></Tagging>."""
    tag_set = xml.parse(_read_xml_body(req), "Tagging").find("TagSet")
    if tag_set is None:
        raise errors.MalformedXML("Tagging needs a TagSet.")
    return tagging.validate_tags(_tag_pairs(tag_set), limit)


def _tag_pairs(element) -> list[tuple[str, str]]:
    """The (Key, Value) of each <Tag> child of `element`, in order."""
    pairs = []
    for tag in element.findall("Tag"):
        key = tag.findtext("Key")
        if key is None:
            raise errors.MalformedXML("Each Tag needs a Key.")
        pairs.append((key, tag.findtext("Value") or ""))
    return pairs


def _tagging_document(tags: dict[str, str]) -> HttpResponse:
    tag_set = [("Tag", [("Key", key), ("Value", value)]) for key, value in tags.items()]
    return xml_response(xml.render("Tagging", [("TagSet", tag_set)]))


@cos_operation("PutBucketTagging", OWNER)
def put_bucket_tagging(req: CosRequest, bucket: Bucket) -> HttpResponse:
    tagging.set_bucket_tags(bucket, _tags_from_request(req, tagging.MAX_BUCKET_TAGS))
    return empty_response()


@cos_operation("GetBucketTagging", OWNER)
def get_bucket_tagging(req: CosRequest, bucket: Bucket) -> HttpResponse:
    if not bucket.tags:
        raise errors.NoSuchTagSet()
    return _tagging_document(bucket.tags)


@cos_operation("DeleteBucketTagging", OWNER)
def delete_bucket_tagging(req: CosRequest, bucket: Bucket) -> HttpResponse:
    tagging.set_bucket_tags(bucket, {})
    return empty_response(204)


@cos_operation("PutObjectTagging", "WRITE")
def put_object_tagging(req: CosRequest, bucket: Bucket) -> HttpResponse:
    obj = service.get_object(bucket, req.key, _version_asked(req))
    tagging.set_object_tags(obj, _tags_from_request(req, tagging.MAX_OBJECT_TAGS))
    return empty_response()


@cos_operation("GetObjectTagging", "READ", on="object")
def get_object_tagging(req: CosRequest, bucket: Bucket) -> HttpResponse:
    return _tagging_document(service.get_object(bucket, req.key, _version_asked(req)).tags)


@cos_operation("DeleteObjectTagging", "WRITE")
def delete_object_tagging(req: CosRequest, bucket: Bucket) -> HttpResponse:
    tagging.set_object_tags(service.get_object(bucket, req.key, _version_asked(req)), {})
    return empty_response(204)


# -- POST Object ------------------------------------------------------------------------------------------


@dataclass
class FormUpload:
    """What a POST Object form was admitted as, when its file part started."""

    principal: Principal | None = None
    key: str = ""
    fields: dict[str, str] = field(default_factory=dict)
    attributes: service.ObjectAttributes | None = None
    acl: list[dict] | None = None
    sse_request: sse.SseRequest | None = None


def post_object(req: CosRequest) -> HttpResponse:
    """Browser form upload: the policy and q-sign fields sign it, or the bucket must be public-read-write. The
    form is authorised when its file part starts, before a byte of the file is accepted."""
    if not req.meta.get("CONTENT_TYPE", "").startswith("multipart/form-data"):
        raise errors.MethodNotAllowed()
    bucket = load_bucket(req.target.bucket, req.target.region)
    upload = FormUpload()

    def admit(fields: dict[str, str], file_name: str, content_type: str | None) -> form.Admission:
        return _admit_form(req, bucket, fields, file_name, content_type, upload)

    fields, form_file = form.parse_form(req.http, admit)
    if form_file is None:
        raise errors.InvalidArgument("The form has no file field.")
    try:
        return _store_form_upload(req, bucket, upload, form_file)
    except BaseException:
        form_file.discard()
        raise


def _admit_form(
    req: CosRequest,
    bucket: Bucket,
    fields: dict[str, str],
    file_name: str,
    content_type: str | None,
    upload: FormUpload,
) -> form.Admission:
    """Check the form's fields, its policy and signature, and authorise the write: all before the file."""
    key_template = fields.get("key")
    if not key_template:
        raise errors.InvalidArgument("The form has no key field.")
    key = key_template.replace("${filename}", file_name)
    service.validate_key(key)
    principal, policy_doc, low, high = None, None, 0, service.MAX_OBJECT_BYTES
    if "policy" in fields:
        policy_text, policy_doc = form.decode_policy(fields["policy"])
        principal = form.verify_signature(fields, policy_text)
        low, high = form.check_policy(policy_doc, {**fields, "key": key, "bucket": bucket.name}, timezone.now())
    elif any(name.startswith("q-") for name in fields):
        raise errors.AccessDenied("A signed form needs its policy.")
    names_redirect = policy_doc is not None and form.names_field(policy_doc, form.REDIRECT_FIELDS)
    if fields.get("success_action_redirect") and not names_redirect:
        raise errors.AccessDenied("success_action_redirect is only followed when the signed policy names it.")
    lowered = {name.lower(): value for name, value in fields.items()}
    upload.attributes = _form_attributes(lowered, content_type)
    canned = lowered.get("acl")
    upload.acl = acl.canned_grants(canned, bucket.owner.owner_id, acl.OBJECT_CANNED) if canned else None
    upload.sse_request = sse_headers.parse_request(lowered, req.http.is_secure())
    authorize(CosRequest(req.http, req.target, principal), bucket, "PostObject", "WRITE", key)
    upload.principal, upload.key, upload.fields = principal, key, fields
    return form.Admission(min_bytes=low, max_bytes=high)


def _store_form_upload(req: CosRequest, bucket: Bucket, upload: FormUpload, form_file: form.FormFile) -> HttpResponse:
    expected_md5 = upload.fields.get("Content-MD5")
    if expected_md5 is not None and base64.b64encode(form_file.digest.md5()).decode() != expected_md5.strip():
        raise errors.BadDigest()
    keys = sse.new_envelope(bucket, upload.sse_request, req.request_id)
    write = service.WriteRequest(attributes=upload.attributes, acl=upload.acl, request_id=req.request_id)
    written = service.commit_blob(bucket, upload.key, form_file.written, form_file.digest, keys, write)
    return _with_echo(_post_object_response(req, bucket, written.obj, upload.fields), written.echo)


def _form_attributes(lowered: dict[str, str], part_type: str | None) -> service.ObjectAttributes:
    """The stored headers and metadata of a form's fields, under the limits PUT Object has."""
    headers = {name: lowered[name.lower()] for name in STORED_HEADERS if name.lower() in lowered}
    metadata = {name: value for name, value in lowered.items() if name.startswith(META_PREFIX)}
    content_type = lowered.get("content-type") or part_type or "application/octet-stream"
    check_attributes({**headers, "Content-Type": content_type}, metadata)
    return service.ObjectAttributes(
        content_type=content_type,
        headers=headers,
        metadata=metadata,
        storage_class=lowered.get("x-cos-storage-class", "STANDARD").upper(),
        tags=tagging.parse_tagging_header(lowered.get("x-cos-tagging", "")),
    )


def _post_object_response(req: CosRequest, bucket: Bucket, obj: StoredObject, fields: dict) -> HttpResponse:
    location = f"http://{req.target.host}/{quote(obj.key)}"
    redirect = fields.get("success_action_redirect")
    if redirect:
        query = urlencode({"bucket": bucket.name, "key": obj.key, "etag": f'"{obj.etag}"'})
        response = empty_response(303)
        response["Location"] = redirect + ("&" if "?" in redirect else "?") + query
    else:
        status = fields.get("success_action_status", "204")
        if status == "201":
            response = xml_response(
                xml.render(
                    "PostResponse",
                    [
                        ("Location", location),
                        ("Bucket", bucket.name),
                        ("Key", obj.key),
                        ("ETag", f'"{obj.etag}"'),
                    ],
                ),
                status=201,
            )
        else:
            response = empty_response(200 if status == "200" else 204)
        response["Location"] = location
    response["ETag"] = f'"{obj.etag}"'
    return _version_headers(response, bucket, obj)


# -- multipart upload -------------------------------------------------------------------------------------


def _initiator(owner_id: str) -> list:
    return [("ID", owner_id), ("DisplayName", owner_id)]


@cos_operation("InitiateMultipartUpload", "WRITE")
def create_multipart_upload(req: CosRequest, bucket: Bucket) -> HttpResponse:
    if req.principal is None:
        raise errors.AccessDenied("Anonymous access is not allowed; sign the request.")
    upload, echo = multipart.create_multipart_upload(bucket, req.key, req.principal.account, _write(req, bucket))
    response = xml_response(
        xml.render(
            "InitiateMultipartUploadResult",
            [
                ("Bucket", bucket.name),
                ("Key", upload.key),
                ("UploadId", upload.upload_id),
            ],
        )
    )
    return _with_echo(response, echo)


def _upload(req: CosRequest, bucket: Bucket) -> multipart.MultipartUpload:
    return multipart.get_upload(bucket, req.key, req.query.get("uploadId", ""))


def _part(req: CosRequest, bucket: Bucket) -> tuple[multipart.MultipartUpload, int, multipart.PartWrite]:
    number = multipart.validate_part_number(req.query["partNumber"])
    return _upload(req, bucket), number, multipart.PartWrite(_customer_key(req), req.request_id)


@cos_operation("UploadPart", "WRITE")
def upload_part(req: CosRequest, bucket: Bucket) -> HttpResponse:
    upload, number, context = _part(req, bucket)
    body, length = _body(req)
    part, echo = multipart.upload_part(upload, number, body, length, context, content_md5(req.http))
    response = empty_response()
    response["ETag"] = f'"{part.etag}"'
    return _with_echo(response, echo)


@cos_operation("UploadPart", "WRITE")
def upload_part_copy(req: CosRequest, bucket: Bucket) -> HttpResponse:
    upload, number, context = _part(req, bucket)
    source, source_keys = load_copy_source(req)
    range_header = req.meta.get("HTTP_X_COS_COPY_SOURCE_RANGE", "").strip()
    span = None
    if range_header:
        try:
            span = conditions.parse_range(range_header, source.size_bytes)
        except errors.InvalidRange:
            span = None
        if span is None or not range_header.startswith("bytes=") or "-" not in range_header[6:]:
            raise errors.InvalidArgument("x-cos-copy-source-range must be bytes=first-last within the source.")
    part, echo = multipart.upload_part_copy(upload, number, source, source_keys, span, context)
    response = xml_response(
        xml.render(
            "CopyPartResult",
            [
                ("ETag", f'"{part.etag}"'),
                ("LastModified", xml.iso8601(part.last_modified, False)),
            ],
        )
    )
    return _with_echo(response, echo)


@cos_operation("CompleteMultipartUpload", "WRITE")
def complete_multipart_upload(req: CosRequest, bucket: Bucket) -> HttpResponse:
    upload = _upload(req, bucket)
    root = xml.parse(_read_xml_body(req), "CompleteMultipartUpload")
    listed = []
    for element in root.findall("Part"):
        number_text = (element.findtext("PartNumber") or "").strip()
        if not number_text.isdecimal():
            raise errors.MalformedXML("Each Part needs a PartNumber.")
        listed.append((int(number_text), element.findtext("ETag") or ""))
    obj = multipart.complete_multipart_upload(upload, listed)
    response = xml_response(
        xml.render(
            "CompleteMultipartUploadResult",
            [
                ("Location", f"http://{req.target.host}/{quote(obj.key)}"),
                ("Bucket", bucket.name),
                ("Key", obj.key),
                ("ETag", f'"{obj.etag}"'),
            ],
        )
    )
    return _with_echo(_version_headers(response, bucket, obj), multipart.completion_echo(upload))


@cos_operation("AbortMultipartUpload", "WRITE")
def abort_multipart_upload(req: CosRequest, bucket: Bucket) -> HttpResponse:
    multipart.abort_multipart_upload(_upload(req, bucket))
    return empty_response(204)


@cos_operation("ListParts", "READ")
def list_parts(req: CosRequest, bucket: Bucket) -> HttpResponse:
    upload = _upload(req, bucket)
    marker = _int_param(req, "part-number-marker", 0, 0, multipart.MAX_PART_NUMBER)
    max_parts = _int_param(req, "max-parts", 1000, 1, 1000)
    encoding = _encoding_type(req)
    page = multipart.list_parts(upload, marker, max_parts)
    initiator = _initiator(upload.initiator.owner_id)
    body: list = [("Bucket", bucket.name)]
    if encoding:
        body.append(("EncodingType", encoding))
    body += [
        ("Key", xml.url_encode(upload.key, encoding)),
        ("UploadId", upload.upload_id),
        ("Initiator", initiator),
        ("Owner", _initiator(bucket.owner.owner_id)),
        ("StorageClass", upload.storage_class),
        ("PartNumberMarker", str(marker)),
        ("NextPartNumberMarker", str(page.next_marker)),
        ("MaxParts", str(max_parts)),
        ("IsTruncated", xml.bool_text(page.is_truncated)),
    ]
    body += [
        (
            "Part",
            [
                ("PartNumber", str(p.number)),
                ("LastModified", xml.iso8601(p.last_modified)),
                ("ETag", f'"{p.etag}"'),
                ("Size", str(p.size_bytes)),
            ],
        )
        for p in page.parts
    ]
    return xml_response(xml.render("ListPartsResult", body))


@cos_operation("ListMultipartUploads", "READ")
def list_multipart_uploads(req: CosRequest, bucket: Bucket) -> HttpResponse:
    q = req.query
    prefix, delimiter = q.get("prefix", ""), q.get("delimiter", "")
    key_marker, upload_id_marker = q.get("key-marker", ""), q.get("upload-id-marker", "")
    max_uploads = _int_param(req, "max-uploads", 1000, 1, 1000)
    encoding = _encoding_type(req)
    page = multipart.list_multipart_uploads(bucket, prefix, delimiter, key_marker, upload_id_marker, max_uploads)

    def enc(value: str) -> str | None:
        return xml.url_encode(value, encoding) or None

    body: list = [("Bucket", bucket.name)]
    if encoding:
        body.append(("EncodingType", encoding))
    body += [
        ("KeyMarker", enc(key_marker)),
        ("UploadIdMarker", upload_id_marker or None),
        ("NextKeyMarker", enc(page.next_key_marker)),
        ("NextUploadIdMarker", page.next_upload_id_marker or None),
        ("MaxUploads", str(max_uploads)),
        ("IsTruncated", xml.bool_text(page.is_truncated)),
        ("Prefix", enc(prefix)),
        ("Delimiter", enc(delimiter)),
    ]
    body += [
        (
            "Upload",
            [
                ("Key", enc(u.key)),
                ("UploadId", u.upload_id),
                ("StorageClass", u.storage_class),
                ("Initiator", _initiator(u.initiator.owner_id)),
                ("Owner", _initiator(bucket.owner.owner_id)),
                ("Initiated", xml.iso8601(u.initiated_at)),
            ],
        )
        for u in page.uploads
    ]
    body += [("CommonPrefixes", [("Prefix", enc(p))]) for p in page.common_prefixes]
    return xml_response(xml.render("ListMultipartUploadsResult", body))


# The closed operation table (see buckets.api.operations): (scope, method, selectors, x-cos-copy-source).
OPERATIONS: dict[tuple[str, str, frozenset[str], bool], Operation] = {
    ("service", "GET", frozenset(), False): list_buckets,
    ("bucket", "PUT", frozenset(), False): create_bucket,
    ("bucket", "HEAD", frozenset(), False): head_bucket,
    ("bucket", "DELETE", frozenset(), False): delete_bucket,
    ("bucket", "GET", frozenset(), False): list_objects,
    ("bucket", "POST", frozenset(), False): post_object,
    ("bucket", "GET", frozenset({"location"}), False): get_bucket_location,
    ("bucket", "POST", frozenset({"delete"}), False): delete_objects,
    ("bucket", "GET", frozenset({"acl"}), False): get_bucket_acl,
    ("bucket", "PUT", frozenset({"acl"}), False): put_bucket_acl,
    ("bucket", "GET", frozenset({"uploads"}), False): list_multipart_uploads,
    ("bucket", "PUT", frozenset({"encryption"}), False): put_bucket_encryption,
    ("bucket", "GET", frozenset({"encryption"}), False): get_bucket_encryption,
    ("bucket", "DELETE", frozenset({"encryption"}), False): delete_bucket_encryption,
    ("bucket", "PUT", frozenset({"cors"}), False): put_bucket_cors,
    ("bucket", "GET", frozenset({"cors"}), False): get_bucket_cors,
    ("bucket", "DELETE", frozenset({"cors"}), False): delete_bucket_cors,
    ("bucket", "PUT", frozenset({"lifecycle"}), False): put_bucket_lifecycle,
    ("bucket", "GET", frozenset({"lifecycle"}), False): get_bucket_lifecycle,
    ("bucket", "DELETE", frozenset({"lifecycle"}), False): delete_bucket_lifecycle,
    ("bucket", "PUT", frozenset({"policy"}), False): put_bucket_policy,
    ("bucket", "GET", frozenset({"policy"}), False): get_bucket_policy,
    ("bucket", "DELETE", frozenset({"policy"}), False): delete_bucket_policy,
    ("object", "PUT", frozenset(), False): put_object,
    ("object", "PUT", frozenset(), True): copy_object,
    ("object", "GET", frozenset(), False): get_object,
    ("object", "HEAD", frozenset(), False): head_object,
    ("object", "DELETE", frozenset(), False): delete_object,
    ("object", "GET", frozenset({"versionId"}), False): get_object,
    ("object", "HEAD", frozenset({"versionId"}), False): head_object,
    ("object", "DELETE", frozenset({"versionId"}), False): delete_object,
    ("object", "GET", frozenset({"acl"}), False): get_object_acl,
    ("object", "PUT", frozenset({"acl"}), False): put_object_acl,
    ("object", "GET", frozenset({"acl", "versionId"}), False): get_object_acl,
    ("object", "PUT", frozenset({"acl", "versionId"}), False): put_object_acl,
    ("object", "POST", frozenset({"uploads"}), False): create_multipart_upload,
    ("object", "PUT", frozenset({"partNumber", "uploadId"}), False): upload_part,
    ("object", "PUT", frozenset({"partNumber", "uploadId"}), True): upload_part_copy,
    ("object", "POST", frozenset({"uploadId"}), False): complete_multipart_upload,
    ("object", "DELETE", frozenset({"uploadId"}), False): abort_multipart_upload,
    ("object", "GET", frozenset({"uploadId"}), False): list_parts,
    ("bucket", "PUT", frozenset({"tagging"}), False): put_bucket_tagging,
    ("bucket", "GET", frozenset({"tagging"}), False): get_bucket_tagging,
    ("bucket", "DELETE", frozenset({"tagging"}), False): delete_bucket_tagging,
    ("object", "PUT", frozenset({"tagging"}), False): put_object_tagging,
    ("object", "GET", frozenset({"tagging"}), False): get_object_tagging,
    ("object", "DELETE", frozenset({"tagging"}), False): delete_object_tagging,
    ("object", "PUT", frozenset({"tagging", "versionId"}), False): put_object_tagging,
    ("object", "GET", frozenset({"tagging", "versionId"}), False): get_object_tagging,
    ("object", "DELETE", frozenset({"tagging", "versionId"}), False): delete_object_tagging,
    ("bucket", "GET", frozenset({"versions"}), False): list_object_versions,
    ("bucket", "PUT", frozenset({"versioning"}), False): put_bucket_versioning,
    ("bucket", "GET", frozenset({"versioning"}), False): get_bucket_versioning,
}
