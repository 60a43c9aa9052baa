"""SSE request headers (and POST Object form fields) parsed into the domain's SseRequest and CustomerKey."""

import base64
import binascii
import hashlib
import json

from django.conf import settings

from buckets import errors
from buckets.models import SseMode
from buckets.sse import CUSTOMER, KMS_KEY_HEADER, SSE_HEADER, CustomerKey, SseRequest
from core import crypto

CONTEXT_HEADER = "x-cos-server-side-encryption-context"
COPY_SOURCE_CUSTOMER = "x-cos-copy-source-server-side-encryption-customer-"


def _customer_key(headers: dict[str, str], prefix: str, secure: bool) -> CustomerKey | None:
    names = ("algorithm", "key", "key-md5")
    values = {name: headers.get(prefix + name) for name in names}
    if all(value is None for value in values.values()):
        return None
    if any(value is None for value in values.values()):
        raise errors.InvalidArgument(f"SSE-C needs all three headers {prefix}algorithm, -key and -key-MD5.")
    if not secure and not settings.KINKO_SSE_C_ALLOW_HTTP:
        raise errors.InvalidRequest("SSE-C requires HTTPS.")
    if values["algorithm"] != "AES256":
        raise errors.InvalidArgument("The SSE-C algorithm must be AES256.")
    try:
        key = base64.b64decode(values["key"], validate=True)
    except (binascii.Error, ValueError):
        raise errors.InvalidArgument("The SSE-C key is not valid base64.") from None
    if len(key) != crypto.KEY_BYTES:
        raise errors.InvalidArgument("The SSE-C key must be 256 bits.")
    if base64.b64encode(hashlib.md5(key).digest()).decode() != values["key-md5"].strip():
        raise errors.InvalidArgument("The SSE-C key MD5 does not match the key.")
    return CustomerKey(key, values["key-md5"].strip())


def customer_key(headers: dict[str, str], secure: bool, copy_source: bool = False) -> CustomerKey | None:
    """The SSE-C trio of a read (GET, HEAD, Upload Part) or, with copy_source, of a copy's source."""
    return _customer_key(headers, COPY_SOURCE_CUSTOMER if copy_source else CUSTOMER, secure)


def parse_request(headers: dict[str, str], secure: bool) -> SseRequest | None:
    """The SSE a write asks for (lowercase header names, or POST form fields); None when it asks for none."""
    mode = headers.get(SSE_HEADER)
    key = _customer_key(headers, CUSTOMER, secure)
    kms_key_id, context_b64 = headers.get(KMS_KEY_HEADER), headers.get(CONTEXT_HEADER)
    if mode is not None and key is not None:
        raise errors.InvalidArgument("x-cos-server-side-encryption and SSE-C headers cannot be combined.")
    if mode is None and (kms_key_id is not None or context_b64 is not None):
        raise errors.InvalidArgument("A KMS key id or context needs x-cos-server-side-encryption: cos/kms.")
    if key is not None:
        return SseRequest(SseMode.CUSTOMER, customer_key=key)
    if mode is None:
        return None
    if mode == SseMode.COS:
        if kms_key_id is not None or context_b64 is not None:
            raise errors.InvalidArgument("A KMS key id or context goes with cos/kms, not AES256.")
        return SseRequest(SseMode.COS)
    if mode == SseMode.KMS:
        return SseRequest(SseMode.KMS, kms_key_id=(kms_key_id or "").strip(), kms_context=_context(context_b64))
    raise errors.InvalidArgument(f"The server-side encryption {mode!r} is not supported: use AES256 or cos/kms.")


def _context(context_b64: str | None) -> str:
    if not context_b64:
        return ""
    try:
        context = json.loads(base64.b64decode(context_b64, validate=True))
    except (binascii.Error, ValueError):
        raise errors.InvalidArgument(f"{CONTEXT_HEADER} must be base64 of a JSON object.") from None
    if not isinstance(context, dict) or not all(isinstance(v, str) for v in context.values()):
        raise errors.InvalidArgument(f"{CONTEXT_HEADER} must be base64 of a JSON object of strings.")
    text = json.dumps(context, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    if len(text) > 1024:
        raise errors.InvalidArgument(f"{CONTEXT_HEADER} is longer than 1024 characters.")
    return text
