"""The upload manager's endpoints: one PUT for a small file; initiate / upload part / complete / abort for a large
one, through the same multipart service the COS API uses (so SSE-COS and SSE-KMS apply as there); and which of a
batch's names already exist (the overwrite warning).

Each call is authorised through the gate as the COS operation it is, after Django's CSRF check (every method here
is unsafe or reads nothing). A part's body is streamed from the request into storage in chunks, never read whole.
Answers are JSON: the result, or `{"code", "detail", "reason"}` where `reason` says in the user's language what
went wrong and what fixes it.
"""

import json
from collections.abc import Callable
from functools import wraps

from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

import gate
from buckets import errors, multipart, service, sse
from buckets.api.headers import RequestBody, content_length
from buckets.models import Bucket, SseMode, StoredObject
from console.edge import context_of
from core.apierror import ApiError

from . import common
from .common import DENIED, account_of, cos_resource_of, may

PART_BYTES = 8 * 1024 * 1024  # what the panel slices a large file into (its data-part-bytes)
CONCURRENCY = 3  # files uploading at once (the panel's data-concurrency)
MAX_LISTED_KEYS = 1000  # names per "which exist?" question
MAX_JSON_BYTES = 2 * 1024 * 1024  # a completion lists at most 10000 parts


class NotSignedIn(Exception):
    pass


def reason_for(code: str, detail: str) -> str:
    """A failure in words, with what fixes it: the text under a red bar."""
    reasons = {
        DENIED: _("Access denied: your policies do not allow this upload. Ask the account's owner for access."),
        "AccessDenied": _("Access denied: your policies do not allow this upload. Ask the account's owner for access."),
        "KmsKeyDisabled": _("Key disabled: enable the KMS key on the KMS page, or choose another key."),
        "KmsKeyNotExist": _("The KMS key does not exist: choose another key."),
        "KmsException": _("The KMS refused to encrypt the file: check the key on the KMS page."),
        "ServiceUnavailable": _("Disk full: the server has no space left. Free some space, then retry."),
        "EntityTooLarge": _("File too large for one upload."),
        "NoSuchBucket": _("The bucket no longer exists."),
        "NoSuchUpload": _("The upload was cancelled or has expired: retry to start it again."),
        "KeyTooLong": _("The name is too long."),
        "InvalidArgument": _("The upload was refused: %(detail)s") % {"detail": detail},
        "IncompleteBody": _("The connection broke during the upload: retry."),
        "NotSignedIn": _("Your session has ended: sign in again, then retry."),
    }
    if code == "ServiceUnavailable" and "space" not in detail.lower():
        return _("The server is busy: retry in a moment.")
    return reasons.get(code) or _("The upload failed: %(detail)s") % {"detail": detail}


def failure(code: str, detail: str, status: int) -> JsonResponse:
    return JsonResponse({"code": code, "detail": detail, "reason": reason_for(code, detail)}, status=status)


def upload_endpoint(*methods: str) -> Callable:
    """Signed-in only (JSON 401 otherwise, not a redirect to the sign-in page); the gate's refusal and domain
    errors become JSON failures; a bucket that is not the account's does not exist."""

    def decorate(view: Callable) -> Callable:
        @require_http_methods(list(methods))
        @wraps(view)
        def wrapper(request: HttpRequest, bucket: str, **kwargs) -> HttpResponse:
            try:
                if not request.user.is_authenticated:
                    raise NotSignedIn()
                found = Bucket.objects.filter(name=bucket, owner=account_of(request)).select_related("owner").first()
                if found is None:
                    raise errors.NoSuchBucket()
                return view(request, found, **kwargs)
            except NotSignedIn:
                return failure("NotSignedIn", "Sign in to upload.", 401)
            except gate.Denied as exc:
                return failure(DENIED, exc.reason, 403)
            except PermissionDenied as exc:  # a Django user with no Kinko account
                return failure(DENIED, str(exc), 403)
            except errors.CosError as exc:
                return failure(exc.code, exc.message, exc.status)
            except ApiError as exc:
                return failure(exc.code, exc.message, 400)

        return wrapper

    return decorate


def sse_request(request: HttpRequest) -> sse.SseRequest | None:
    """`sse` = "" (the bucket default), AES256 or cos/kms; `kms_key_id` only with cos/kms ("" = the default key)."""
    mode = request.GET.get("sse", "")
    kms_key_id = request.GET.get("kms_key_id", "")
    if not mode:
        if kms_key_id:
            raise errors.InvalidArgument("kms_key_id goes with sse=cos/kms.")
        return None
    if mode not in (SseMode.COS, SseMode.KMS):
        raise errors.InvalidArgument("sse must be AES256 or cos/kms.")
    if mode == SseMode.COS and kms_key_id:
        raise errors.InvalidArgument("kms_key_id goes with sse=cos/kms, not AES256.")
    return sse.SseRequest(mode, kms_key_id=kms_key_id)


def require_cos(request: HttpRequest, action: str, bucket: Bucket, key: str, sse_mode: str | None = None) -> None:
    """The gate, as the COS operation; a write carries the SSE it asks for as the COS API's condition key does."""
    context = None
    if sse_mode is not None:
        own = context_of(request)
        context = gate.Context(
            ip=own.ip, secure=own.secure, values={"cos:x-cos-server-side-encryption": sse_mode or None}
        )
    common.require_cos(request, action, bucket, key, context)


def write_request(request: HttpRequest, chosen: sse.SseRequest | None) -> service.WriteRequest:
    content_type = request.META.get("CONTENT_TYPE") or "application/octet-stream"
    if request.method == "POST":  # initiate: the file's type comes as a parameter, the body is empty
        content_type = request.GET.get("content_type") or "application/octet-stream"
    attributes = service.ObjectAttributes(content_type=content_type)
    return service.WriteRequest(attributes=attributes, sse_request=chosen, via_api=False)


def request_body(request: HttpRequest) -> tuple[RequestBody, int | None]:
    """The body as a file to read in chunks: Django's stream for a Content-Length body, the server's de-chunked
    input for a chunked one."""
    length = content_length(request)
    return RequestBody(request if length is not None else request.META["wsgi.input"]), length


def json_body(request: HttpRequest) -> dict:
    length = request.META.get("CONTENT_LENGTH", "")
    if not length.isdecimal() or int(length) > MAX_JSON_BYTES:
        raise errors.InvalidArgument(f"Send a JSON body with a Content-Length of at most {MAX_JSON_BYTES} bytes.")
    try:
        data = json.loads(request.read(int(length)))
    except (ValueError, UnicodeDecodeError):
        raise errors.InvalidArgument("The body is not valid JSON.") from None
    if not isinstance(data, dict):
        raise errors.InvalidArgument("The body must be a JSON object.")
    return data


def object_json(obj: StoredObject) -> dict:
    return {
        "key": obj.key,
        "size_bytes": obj.size_bytes,
        "etag": obj.etag,
        "sse": obj.sse or None,
        "kms_key_id": obj.kms_key_id or None,
    }


# -- endpoints ---------------------------------------------------------------------------------------------


@upload_endpoint("POST")
def existing_objects(request: HttpRequest, bucket: Bucket) -> HttpResponse:
    """Which of `keys` already name an object: the ones an upload would replace. Names the caller may not look at
    (HeadObject) are not answered."""
    keys = json_body(request).get("keys")
    if not isinstance(keys, list) or not all(isinstance(k, str) for k in keys) or len(keys) > MAX_LISTED_KEYS:
        raise errors.InvalidArgument(f"keys must be a list of at most {MAX_LISTED_KEYS} names.")
    visible = [key for key in keys if may(request, "cos:HeadObject", cos_resource_of(bucket, key))]
    found = StoredObject.objects.filter(bucket=bucket, key__in=visible).values_list("key", flat=True)
    return JsonResponse({"existing": sorted(found)})


@upload_endpoint("PUT")
def put_object(request: HttpRequest, bucket: Bucket, key: str) -> HttpResponse:
    chosen = sse_request(request)
    require_cos(request, "PutObject", bucket, key, chosen.mode if chosen else "")
    body, length = request_body(request)
    written = service.put_object(bucket, key, body, length, write_request(request, chosen))
    return JsonResponse(object_json(written.obj), status=201)


@upload_endpoint("POST", "DELETE")
def multipart_upload(request: HttpRequest, bucket: Bucket, key: str) -> HttpResponse:
    """POST: initiate (its SSE is fixed here for every part); DELETE ?upload_id=: abort, freeing the parts."""
    if request.method == "DELETE":
        require_cos(request, "AbortMultipartUpload", bucket, key)
        multipart.abort_multipart_upload(multipart.get_upload(bucket, key, request.GET.get("upload_id", "")))
        return HttpResponse(status=204)
    chosen = sse_request(request)
    require_cos(request, "InitiateMultipartUpload", bucket, key, chosen.mode if chosen else "")
    upload, _echo = multipart.create_multipart_upload(bucket, key, account_of(request), write_request(request, chosen))
    return JsonResponse({"upload_id": upload.upload_id, "key": upload.key}, status=201)


@upload_endpoint("PUT")
def upload_part(request: HttpRequest, bucket: Bucket, key: str) -> HttpResponse:
    require_cos(request, "UploadPart", bucket, key)
    number = multipart.validate_part_number(request.GET.get("part_number", ""))
    upload = multipart.get_upload(bucket, key, request.GET.get("upload_id", ""))
    body, length = request_body(request)
    part, _echo = multipart.upload_part(upload, number, body, length, multipart.PartWrite(via_api=False))
    return JsonResponse({"part_number": part.number, "etag": part.etag})


@upload_endpoint("POST")
def complete_multipart_upload(request: HttpRequest, bucket: Bucket, key: str) -> HttpResponse:
    """Body: {"parts": [{"part_number": 1, "etag": "…"}, …]} in ascending order."""
    require_cos(request, "CompleteMultipartUpload", bucket, key)
    upload = multipart.get_upload(bucket, key, request.GET.get("upload_id", ""))
    parts = json_body(request).get("parts")
    if not isinstance(parts, list) or len(parts) > multipart.MAX_PART_NUMBER:
        raise errors.InvalidArgument("parts must be a list of {part_number, etag}.")
    listed = []
    for part in parts:
        number, etag = (part.get("part_number"), part.get("etag")) if isinstance(part, dict) else (None, None)
        if not isinstance(number, int) or isinstance(number, bool) or not isinstance(etag, str):
            raise errors.InvalidArgument("Each part needs an integer part_number and a text etag.")
        listed.append((number, etag))
    obj = multipart.complete_multipart_upload(upload, listed)
    return JsonResponse(object_json(obj))
