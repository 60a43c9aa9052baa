"""One function per COS operation: parse, authorize, one service call, render. `handle` routes and renders errors."""

import base64
import hashlib
import logging
import uuid
from collections.abc import Callable
from functools import wraps

from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.utils.http import http_date

from buckets import service, storage
from buckets.models import Bucket, StoredObject
from roles.principal import Principal

from . import auth, conditions, errors, xml
from .headers import RESPONSE_OVERRIDES, content_length, content_md5, object_attributes, raw_headers, to_wire
from .urls import CosTarget

log = logging.getLogger(__name__)

# Query names that select an operation other than the plain one on a bucket or object.
SUBRESOURCES = {
    "acl",
    "append",
    "cors",
    "delete",
    "domain",
    "encryption",
    "intelligenttiering",
    "inventory",
    "lifecycle",
    "location",
    "logging",
    "object-lock",
    "origin",
    "partNumber",
    "policy",
    "referer",
    "replication",
    "restore",
    "select",
    "symlink",
    "tagging",
    "uploadId",
    "uploads",
    "versioning",
    "versions",
    "website",
}
SSE_HEADERS = ("HTTP_X_COS_SERVER_SIDE_ENCRYPTION", "HTTP_X_COS_SERVER_SIDE_ENCRYPTION_CUSTOMER_ALGORITHM")
MAX_DELETE_OBJECTS = 1000


def new_request_id() -> str:
    return base64.b64encode(uuid.uuid4().bytes).decode().rstrip("=")


def empty_response(status: int = 200) -> HttpResponse:
    response = HttpResponse(status=status)
    del response["Content-Type"]
    response["Content-Length"] = "0"
    return response


def xml_response(body: bytes, status: int = 200) -> HttpResponse:
    response = HttpResponse(body, status=status, content_type="application/xml")
    response["Content-Length"] = str(len(body))
    return response


def error_response(exc: errors.CosError, target: CosTarget, request_id: str, method: str) -> HttpResponse:
    if method == "HEAD":
        response = empty_response(exc.status)
    else:
        response = xml_response(xml.render_error(exc.code, exc.message, target.resource, request_id), exc.status)
    response["x-cos-trace-id"] = request_id
    if isinstance(exc, errors.InvalidRange):
        response["Content-Range"] = f"bytes */{getattr(exc, 'size', '*')}"
    return response


class CosRequest:
    """What an operation needs of a request: the Django request, its target, and who signed it."""

    def __init__(self, request: HttpRequest, target: CosTarget, principal: Principal | None) -> None:
        self.http = request
        self.target = target
        self.principal = principal
        self.query = request.GET

    @property
    def key(self) -> str:
        return self.target.key


Operation = Callable[[CosRequest], HttpResponse]


def handle(request: HttpRequest, target: CosTarget) -> HttpResponse:
    """Entry point for every COS XML request (see console.routing)."""
    request_id = new_request_id()
    try:
        principal = auth.authenticate(request.method, "/" + target.key, list(request.GET.items()), raw_headers(request))
        response = route(request, target)(CosRequest(request, target, principal))
    except errors.CosError as exc:
        log.info("COS %s %s -> %s %s", request.method, target.resource, exc.status, exc.code)
        response = error_response(exc, target, request_id, request.method)
    except Exception:
        log.exception("COS %s %s failed", request.method, target.resource)
        response = error_response(errors.InternalError(), target, request_id, request.method)
    response["x-cos-request-id"] = request_id
    return response


def route(request: HttpRequest, target: CosTarget) -> Operation:
    method = request.method
    chosen = SUBRESOURCES.intersection(request.GET.keys())
    if target.bucket is None:
        if method == "GET":
            return list_buckets
        raise errors.MethodNotAllowed()
    table = OBJECT_OPERATIONS if target.key else BUCKET_OPERATIONS
    subresource = next(iter(sorted(chosen)), None)
    operation = table.get((method, subresource))
    if operation is None:
        if subresource is not None:
            raise errors.NotImplementedOperation(f"?{subresource} is not implemented by Kinko.")
        raise errors.MethodNotAllowed()
    return operation


def require_signature(req: CosRequest) -> Principal:
    if req.principal is None:
        raise errors.AccessDenied("Anonymous access is not allowed; sign the request.")
    return req.principal


def with_bucket(view: Callable[[CosRequest, Bucket], HttpResponse]) -> Operation:
    """Require a signature and load the caller's bucket from the Host."""

    @wraps(view)
    def wrapper(req: CosRequest) -> HttpResponse:
        require_signature(req)
        bucket = Bucket.objects.filter(name=req.target.bucket).select_related("owner").first()
        if bucket is None or bucket.region != req.target.region:
            raise errors.NoSuchBucket()
        if bucket.owner_id != req.principal.account.id:
            raise errors.AccessDenied()
        return view(req, bucket)

    return wrapper


# -- service ----------------------------------------------------------------------------------------------


def list_buckets(req: CosRequest) -> HttpResponse:
    account = require_signature(req).account
    buckets = service.list_buckets(account, region=req.query.get("region") or None)
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
    principal = require_signature(req)
    body = _read_xml_body(req)
    if body.strip():
        xml.parse(body, "CreateBucketConfiguration")
    service.create_bucket(principal.account, req.target.bucket, req.target.region)
    return empty_response()


@with_bucket
def head_bucket(req: CosRequest, bucket: Bucket) -> HttpResponse:
    response = empty_response()
    response["x-cos-bucket-region"] = bucket.region
    return response


@with_bucket
def delete_bucket(req: CosRequest, bucket: Bucket) -> HttpResponse:
    service.delete_bucket(bucket)
    return empty_response(204)


@with_bucket
def get_bucket_location(req: CosRequest, bucket: Bucket) -> HttpResponse:
    return xml_response(xml.render("LocationConstraint", bucket.region))


def _int_param(req: CosRequest, name: str, default: int, low: int, high: int) -> int:
    value = req.query.get(name, "")
    if value == "":
        return default
    if not value.isdigit() or not low <= int(value) <= high:
        raise errors.InvalidArgument(f"{name} must be an integer from {low} to {high}.")
    return int(value)


def _encoding_type(req: CosRequest) -> str | None:
    value = req.query.get("encoding-type", "")
    if value not in ("", "url"):
        raise errors.InvalidArgument("encoding-type must be 'url'.")
    return value or None


@with_bucket
def list_objects(req: CosRequest, bucket: Bucket) -> HttpResponse:
    q = req.query
    prefix, delimiter, marker = q.get("prefix", ""), q.get("delimiter", ""), q.get("marker", "")
    max_keys = _int_param(req, "max-keys", 1000, 0, 1000)
    encoding = _encoding_type(req)
    listing = service.list_objects(bucket, prefix=prefix, delimiter=delimiter, marker=marker, max_keys=max_keys)
    enc = lambda value: xml.url_encode(value, encoding)  # noqa: E731
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


@with_bucket
def delete_objects(req: CosRequest, bucket: Bucket) -> HttpResponse:
    root = xml.parse(_read_xml_body(req), "Delete")
    quiet = (root.findtext("Quiet") or "false").strip().lower() == "true"
    keys = [element.findtext("Key") or "" for element in root.findall("Object")]
    if not keys or len(keys) > MAX_DELETE_OBJECTS or any(not key for key in keys):
        raise errors.MalformedXML(f"Delete names 1 to {MAX_DELETE_OBJECTS} objects, each with a Key.")
    results = service.delete_objects(bucket, keys)
    children = []
    for key, failure in results:
        if failure is None and not quiet:
            children.append(("Deleted", [("Key", key)]))
        elif failure is not None:
            children.append(("Error", [("Key", key), ("Code", failure.code), ("Message", failure.message)]))
    return xml_response(xml.render("DeleteResult", children))


def _read_xml_body(req: CosRequest) -> bytes:
    """A bounded request document, its Content-MD5 checked when sent."""
    body = req.http.read(xml.MAX_XML_BYTES + 1)
    if len(body) > xml.MAX_XML_BYTES:
        raise errors.MalformedXML("The request document is too large.")
    expected = content_md5(req.http)
    if expected is not None and hashlib.md5(body).digest() != expected:
        raise errors.BadDigest()
    return body


# -- objects ----------------------------------------------------------------------------------------------


def _refuse_sse(req: CosRequest) -> None:
    if any(name in req.http.META for name in SSE_HEADERS):
        raise errors.NotImplementedOperation("Server-side encryption is not available yet.")


@with_bucket
def put_object(req: CosRequest, bucket: Bucket) -> HttpResponse:
    if "HTTP_X_COS_COPY_SOURCE" in req.http.META:
        raise errors.NotImplementedOperation("PUT Object - Copy is not implemented yet.")
    _refuse_sse(req)
    length = content_length(req.http)
    body = req.http if length is not None else req.http.META["wsgi.input"]
    obj = service.put_object(bucket, req.key, body, length, object_attributes(req.http), content_md5(req.http))
    response = empty_response()
    response["ETag"] = f'"{obj.etag}"'
    response["x-cos-hash-crc64ecma"] = obj.crc64
    return response


def _object_headers(response: HttpResponse, obj: StoredObject) -> None:
    response["ETag"] = f'"{obj.etag}"'
    response["Last-Modified"] = http_date(obj.last_modified.timestamp())
    response["Accept-Ranges"] = "bytes"
    response["x-cos-hash-crc64ecma"] = obj.crc64
    if obj.storage_class != "STANDARD":
        response["x-cos-storage-class"] = obj.storage_class
    for name, value in obj.headers.items():
        response[name] = to_wire(value)
    for name, value in obj.metadata.items():
        response[name] = to_wire(value)


def _read_object(req: CosRequest, bucket: Bucket, with_body: bool) -> HttpResponse:
    if "HTTP_X_COS_SERVER_SIDE_ENCRYPTION" in req.http.META:
        raise errors.SSEHeaderNotAllowed()
    obj, blob = service.open_object(bucket, req.key)
    try:
        if not conditions.check_preconditions(req.http.headers, obj.etag, obj.last_modified):
            blob.close()
            response = empty_response(304)
            response["Content-Length"] = str(obj.size_bytes)
            _object_headers(response, obj)
            return response
        try:
            span = conditions.parse_range(req.http.headers.get("Range"), obj.size_bytes)
        except errors.InvalidRange as exc:
            exc.size = obj.size_bytes
            raise
    except BaseException:
        blob.close()
        raise
    first, last = span if span is not None else (0, obj.size_bytes - 1)
    length = last - first + 1
    status = 206 if span is not None else 200
    if with_body:
        response = StreamingHttpResponse(
            storage.BlobReader(blob, first, length), status=status, content_type=to_wire(obj.content_type)
        )
    else:
        blob.close()
        response = HttpResponse(status=status, content_type=to_wire(obj.content_type))
    response["Content-Length"] = str(length)
    if span is not None:
        response["Content-Range"] = f"bytes {first}-{last}/{obj.size_bytes}"
    _object_headers(response, obj)
    for param, header in RESPONSE_OVERRIDES.items():
        if param in req.query:
            response[header] = to_wire(req.query[param])
    return response


@with_bucket
def get_object(req: CosRequest, bucket: Bucket) -> HttpResponse:
    return _read_object(req, bucket, with_body=True)


@with_bucket
def head_object(req: CosRequest, bucket: Bucket) -> HttpResponse:
    return _read_object(req, bucket, with_body=False)


@with_bucket
def delete_object(req: CosRequest, bucket: Bucket) -> HttpResponse:
    service.validate_key(req.key)
    service.delete_object(bucket, req.key)
    return empty_response(204)


BUCKET_OPERATIONS: dict[tuple[str, str | None], Operation] = {
    ("PUT", None): create_bucket,
    ("HEAD", None): head_bucket,
    ("DELETE", None): delete_bucket,
    ("GET", None): list_objects,
    ("GET", "location"): get_bucket_location,
    ("POST", "delete"): delete_objects,
}
OBJECT_OPERATIONS: dict[tuple[str, str | None], Operation] = {
    ("PUT", None): put_object,
    ("GET", None): get_object,
    ("HEAD", None): head_object,
    ("DELETE", None): delete_object,
}
