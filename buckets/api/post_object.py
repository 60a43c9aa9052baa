"""POST Object (browser form upload): the streamed file field, the signed policy and its conditions."""

import base64
import binascii
import hashlib
import hmac
import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from django.core.exceptions import RequestDataTooBig, TooManyFieldsSent, TooManyFilesSent
from django.core.files.uploadhandler import FileUploadHandler, SkipFile
from django.http import HttpRequest
from django.http.multipartparser import MultiPartParser, MultiPartParserError

from buckets import errors, segments, service, storage
from buckets.digest import ContentDigest
from core import crypto
from core.db import one
from roles.models import ApiKey
from roles.principal import Principal

FILE_FIELD = "file"


@dataclass(frozen=True)
class Admission:
    """What authorising a form at the start of its file part allows the file: the bytes of its
    content-length-range (or the object size limit)."""

    min_bytes: int
    max_bytes: int


class FormFile:
    """The form's file, already encrypted and durable as a blob; `discard()` deletes it if the upload is refused.

    Its data key is wrapped only once the form's SSE fields have been applied (buckets.sse)."""

    def __init__(
        self, written: service.WrittenBlob, digest: ContentDigest, file_name: str, content_type: str | None
    ) -> None:
        self.written, self.digest, self.file_name, self.content_type = written, digest, file_name, content_type

    def discard(self) -> None:
        storage.delete_blob(self.written.blob_id)


class FormParser(MultiPartParser):
    """Django's streaming multipart parser, with the fields parsed so far readable while a file part starts."""

    def fields_so_far(self) -> dict[str, str]:
        return {name: self._post[name] for name in self._post}  # _post: filled part by part by _parse()


Admit = Callable[[dict[str, str], str, str | None], Admission]


class BlobUploadHandler(FileUploadHandler):
    """Upload handler that authorises the form when its `file` part starts (the fields before it decide), then
    encrypts the file into a blob in 1 MiB chunks within the admitted size; nothing is buffered whole. Fields
    after the file are ignored, as COS and S3 do."""

    # Django's parser reads the body in pieces of this size, and a read waits until the piece is full: small
    # enough that the fields and the file part's headers are seen (and the form refused) as soon as they arrive.
    chunk_size = 64 * 1024

    def __init__(self, request: HttpRequest, admit: Admit) -> None:
        super().__init__(request)
        self.admit = admit
        self.parser: FormParser | None = None
        self.admission: Admission | None = None
        self.writer: storage.Writer | None = None
        self.encryptor: segments.SegmentEncryptor | None = None
        self.data_key = b""
        self.digest = ContentDigest()
        self.result: FormFile | None = None

    def new_file(self, field_name, file_name, content_type, *args, **kwargs) -> None:
        if field_name != FILE_FIELD or self.admission is not None:
            raise SkipFile()
        self.admission = self.admit(self.parser.fields_so_far(), file_name or "", content_type)
        super().new_file(field_name, file_name, content_type, *args, **kwargs)
        self.writer = storage.writer()
        self.data_key = crypto.random_bytes(crypto.KEY_BYTES)
        self.encryptor = segments.SegmentEncryptor(self.writer.blob_id, self.data_key)
        self.writer.write(self.encryptor.header())

    def receive_data_chunk(self, raw_data: bytes, start: int) -> None:
        self.digest.update(raw_data)
        if self.digest.size_bytes > self.admission.max_bytes:
            self.abort()
            if self.admission.max_bytes >= service.MAX_OBJECT_BYTES:
                raise errors.EntityTooLarge()
            raise _refuse(f"Policy condition failed: the file is larger than {self.admission.max_bytes} bytes.")
        self.writer.write_many(self.encryptor.update(raw_data))
        return None

    def file_complete(self, file_size: int) -> FormFile | None:
        if self.writer is None:
            return None
        if self.digest.size_bytes < self.admission.min_bytes:
            self.abort()
            raise _refuse(f"Policy condition failed: the file is smaller than {self.admission.min_bytes} bytes.")
        self.writer.write(self.encryptor.finish())
        written = service.WrittenBlob(self.writer.commit(), self.data_key)
        self.result = FormFile(written, self.digest, self.file_name, self.content_type)
        self.writer = None
        return self.result

    def abort(self) -> None:
        if self.writer is not None:
            self.writer.abort()
            self.writer = None

    def upload_interrupted(self) -> None:
        self.abort()


def parse_form(request: HttpRequest, admit: Admit) -> tuple[dict[str, str], FormFile | None]:
    """Stream the form: fields into memory, the file (after `admit` said yes) into a blob. Nothing of the file is
    kept when parsing fails."""
    handler = BlobUploadHandler(request, admit)
    parser = FormParser(request.META, request, [handler], request.encoding)
    handler.parser = parser
    try:
        fields, _ = parser.parse()
    except (MultiPartParserError, RequestDataTooBig, TooManyFieldsSent, TooManyFilesSent):
        raise errors.MalformedPOSTRequest() from None
    finally:
        handler.abort()
    return {name: fields[name] for name in fields}, handler.result


def decode_policy(policy_b64: str) -> tuple[str, dict]:
    try:
        text = base64.b64decode(policy_b64, validate=True).decode("utf-8")
        policy = json.loads(text)
    except (binascii.Error, ValueError, RecursionError):
        raise errors.InvalidPolicyDocument("The policy is not base64-encoded JSON.") from None
    if not isinstance(policy, dict) or not isinstance(policy.get("conditions", []), list):
        raise errors.InvalidPolicyDocument("The policy must be an object with a conditions list.")
    return text, policy


def verify_signature(fields: dict[str, str], policy_text: str, now: float | None = None) -> Principal:
    """The form's q-sign fields: SignKey = HMAC-SHA1(SecretKey, KeyTime); signature over SHA1(policy JSON)."""
    if fields.get("q-sign-algorithm", "").lower() != "sha1":
        raise errors.AccessDenied("q-sign-algorithm must be sha1.")
    for name in ("q-ak", "q-key-time", "q-signature"):
        if not fields.get(name):
            raise errors.AccessDenied(f"The form is missing {name}.")
    start, sep, end = fields["q-key-time"].partition(";")
    if not sep or not start.isdecimal() or not end.isdecimal():
        raise errors.AccessDenied("q-key-time is malformed.")
    now = time.time() if now is None else now
    if now > int(end):
        raise errors.AccessDenied("Request has expired")
    api_key = one(ApiKey.objects.select_related("account").filter(secret_id=fields["q-ak"]))
    if api_key is None or not api_key.is_active:
        raise errors.InvalidAccessKeyId()
    key_time = fields["q-key-time"]
    sign_key = hmac.new(api_key.secret_key().encode(), key_time.encode(), hashlib.sha1).hexdigest()
    string_to_sign = hashlib.sha1(policy_text.encode("utf-8")).hexdigest()
    expected = hmac.new(sign_key.encode(), string_to_sign.encode(), hashlib.sha1).hexdigest()
    if not hmac.compare_digest(expected.encode(), fields["q-signature"].lower().encode("utf-8", "surrogateescape")):
        raise errors.SignatureDoesNotMatch()
    return Principal(account=api_key.account, api_key=api_key)


def _refuse(reason: str) -> errors.CosError:
    return errors.AccessDenied(f"Invalid according to Policy: {reason}")


def _parse_expiration(value: object) -> datetime:
    try:
        moment = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        moment = None
    if moment is None or moment.tzinfo is None:
        raise errors.InvalidPolicyDocument("The policy expiration must be an ISO 8601 time with a zone.")
    return moment


def _byte_count(value: object) -> int:
    if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        return value
    if isinstance(value, str) and value.isascii() and value.isdecimal():
        return int(value)
    raise errors.InvalidPolicyDocument("content-length-range needs two non-negative integers.")


REDIRECT_FIELDS = ("success_action_redirect", "redirect")


def names_field(policy: dict, names: tuple[str, ...]) -> bool:
    """Whether a condition of the policy constrains one of the form fields `names`."""
    for condition in policy.get("conditions", []):
        if isinstance(condition, dict):
            fields = list(condition)
        elif isinstance(condition, list) and len(condition) == 3:
            fields = [condition[1]]
        else:
            continue
        if any(str(field).lstrip("$").lower() in names for field in fields):
            return True
    return False


def check_policy(policy: dict, fields: dict[str, str], now: datetime) -> tuple[int, int]:
    """Every condition of the policy must hold for the form (field names compare case-insensitively). Returns
    the (min, max) file size its content-length-range allows, enforced while the file streams."""
    if "expiration" not in policy:
        raise errors.InvalidPolicyDocument("The policy needs an expiration.")
    if now >= _parse_expiration(policy["expiration"]):
        raise _refuse("Policy expired.")
    lowered = {name.lower(): value for name, value in fields.items()}
    # Tencent's policies constrain q-sign-time, which the form carries as q-key-time (spec §2.7).
    lowered.setdefault("q-sign-time", lowered.get("q-key-time"))
    low, high = 0, service.MAX_OBJECT_BYTES
    for condition in policy.get("conditions", []):
        if isinstance(condition, dict):
            checks = [("eq", name, value) for name, value in condition.items()]
        elif isinstance(condition, list) and len(condition) == 3:
            checks = [tuple(condition)]
        else:
            raise errors.InvalidPolicyDocument(f"Unsupported condition {condition!r}.")
        for operator, name, expected in checks:
            operator = str(operator).lower()
            if operator == "content-length-range":
                first, last = _byte_count(name), _byte_count(expected)
                if first > last:
                    raise errors.InvalidPolicyDocument("content-length-range must not end before it starts.")
                low, high = max(low, first), min(high, last)
                continue
            field = str(name).lstrip("$").lower()
            actual = lowered.get(field)
            if actual is None:
                raise _refuse(f"Policy condition failed: {field} is missing from the form.")
            if operator == "eq" and actual != str(expected):
                raise _refuse(f"Policy condition failed: {field} must equal {expected!r}.")
            if operator == "starts-with" and not actual.startswith(str(expected)):
                raise _refuse(f"Policy condition failed: {field} must start with {expected!r}.")
            if operator not in ("eq", "starts-with"):
                raise errors.InvalidPolicyDocument(f"Unsupported condition operator {operator!r}.")
    return low, min(high, service.MAX_OBJECT_BYTES)
