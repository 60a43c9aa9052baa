"""COS request signatures ("q-sign", HMAC-SHA1) in the Authorization header or presigned query parameters.

Only the headers and parameters the client listed are verified (spec §2.4), and that list must cover everything
that acts: every `x-cos-*` / `x-amz-*` header, `host`, `content-md5` and each operation-selecting parameter.
Signatures are compared in constant time. Returns the principal, or None for an anonymous request.
"""

import hashlib
import hmac
import time
from collections.abc import Collection
from dataclasses import dataclass
from urllib.parse import quote

from django.conf import settings

from buckets import errors
from core.db import one
from roles.models import ApiKey
from roles.principal import Principal

SIGN_FIELDS = (
    "q-sign-algorithm",
    "q-ak",
    "q-sign-time",
    "q-key-time",
    "q-header-list",
    "q-url-param-list",
    "q-signature",
)
CLOCK_SKEW_SECONDS = 900
ACTING_HEADER_PREFIXES = ("x-cos-", "x-amz-")
ACTING_HEADERS = ("host", "content-md5")


@dataclass(frozen=True)
class Signature:
    secret_id: str
    sign_time: tuple[int, int]
    key_time: str
    header_list: list[str]
    param_list: list[str]
    signature: str


def encode(value: str | bytes) -> str:
    return quote(value, safe="-_.~")


def compute_signature(
    secret_key: str,
    key_time: str,
    method: str,
    path: str,
    params: list[tuple[str, str]],
    headers: list[tuple[str, str]],
) -> str:
    """The q-sign signature over already-encoded (name, value) pairs."""
    http_string = "\n".join(
        (
            method.lower(),
            path,
            "&".join(f"{k}={v}" for k, v in sorted(params)),
            "&".join(f"{k}={v}" for k, v in sorted(headers)),
            "",
        )
    )
    string_to_sign = f"sha1\n{key_time}\n{hashlib.sha1(http_string.encode()).hexdigest()}\n"
    sign_key = hmac.new(secret_key.encode(), key_time.encode(), hashlib.sha1).hexdigest()
    return hmac.new(sign_key.encode(), string_to_sign.encode(), hashlib.sha1).hexdigest()


def _parse_time(value: str) -> tuple[int, int]:
    start, sep, end = value.partition(";")
    if not sep or not start.isdecimal() or not end.isdecimal():
        raise errors.AccessDenied("q-sign-time is malformed.")
    return int(start), int(end)


def _check_window(start: int, end: int) -> None:
    if start > end:
        raise errors.AccessDenied("The signature's time window ends before it starts.")
    longest = settings.KINKO_MAX_SIGNATURE_SECONDS
    if end - start > longest:
        raise errors.AccessDenied(f"A signature may be valid for at most {longest} seconds.")


def unsigned_parts(sig: Signature, headers: Collection[str], selectors: Collection[str]) -> list[str]:
    """What acts on the request but is not covered by the signature (header names lowercase)."""
    acting = sorted(name for name in headers if name.startswith(ACTING_HEADER_PREFIXES) or name in ACTING_HEADERS)
    missing = [name for name in acting if name not in sig.header_list]
    return missing + sorted(name for name in selectors if name.lower() not in sig.param_list)


def parse_signature(fields: dict[str, str]) -> Signature:
    missing = [name for name in SIGN_FIELDS if name not in fields]
    if missing:
        raise errors.AccessDenied(f"The signature is missing {', '.join(missing)}.")
    if fields["q-sign-algorithm"] != "sha1":
        raise errors.AccessDenied("q-sign-algorithm must be sha1.")
    return Signature(
        secret_id=fields["q-ak"],
        sign_time=_parse_time(fields["q-sign-time"]),
        key_time=fields["q-key-time"],
        header_list=[h for h in fields["q-header-list"].lower().split(";") if h],
        param_list=[p for p in fields["q-url-param-list"].lower().split(";") if p],
        signature=fields["q-signature"].lower(),
    )


def signature_fields(authorization: str | None, query: dict[str, str]) -> dict[str, str] | None:
    """The q-* fields of the header form, or of the presigned query form; None when the request is unsigned."""
    if authorization and authorization.strip():
        fields = {}
        for part in authorization.strip().split("&"):
            name, _, value = part.partition("=")
            fields[name.strip().lower()] = value.strip()
        return fields
    if "q-signature" in query or "q-sign-algorithm" in query:
        return {name: query.get(name, "") for name in SIGN_FIELDS if name in query}
    return None


def authenticate(
    method: str,
    path: str,
    query: list[tuple[str, str]],
    headers: dict[str, bytes],
    now: float | None = None,
    selectors: Collection[str] = (),
) -> Principal | None:
    """Verify the request's signature.

    `query` is the decoded query pairs; `headers` maps lowercase header names to the raw bytes sent; `selectors`
    the operation-selecting parameters present, each of which the signature must cover.
    """
    query_map = dict(query)
    authorization = headers.get("authorization")
    fields = signature_fields(authorization.decode("latin-1") if authorization is not None else None, query_map)
    if fields is None:
        return None
    sig = parse_signature(fields)
    now = time.time() if now is None else now
    for start, end in (sig.sign_time, _parse_time(sig.key_time)):
        _check_window(start, end)
        if now < start - CLOCK_SKEW_SECONDS:
            raise errors.RequestTimeTooSkewed()
        if now > end:
            raise errors.AccessDenied("Request has expired")

    api_key = one(ApiKey.objects.select_related("account").filter(secret_id=sig.secret_id))
    if api_key is None or not api_key.is_active:
        raise errors.InvalidAccessKeyId()

    params = {encode(k).lower(): encode(v) for k, v in query if not k.lower().startswith("q-")}
    signed_params = [(name, params.get(name, "")) for name in sig.param_list]
    signed_headers = {name: encode(headers.get(name, b"")) for name in sig.header_list}
    secret_key = api_key.secret_key()

    candidates = [signed_headers]
    host = headers.get("host", b"")
    if "host" in signed_headers and b":" in host:
        # The SDK signs urlparse(url).hostname (no port) when it does not send Host itself.
        candidates.append({**signed_headers, "host": encode(host.rsplit(b":", 1)[0])})
    for candidate in candidates:
        expected = compute_signature(secret_key, sig.key_time, method, path, signed_params, list(candidate.items()))
        if hmac.compare_digest(expected.encode(), sig.signature.encode("utf-8", "surrogateescape")):
            break
    else:
        raise errors.SignatureDoesNotMatch()
    missing = unsigned_parts(sig, headers, selectors)
    if missing:
        raise errors.AccessDenied(f"The signature does not cover {', '.join(missing)}; sign what acts.")
    return Principal(account=api_key.account, api_key=api_key)


def presigned_query(
    secret_id: str, secret_key: str, method: str, host: str, key: str, expires_seconds: int, now: float | None = None
) -> str:
    """The query string of a presigned COS request for `key` on `host` (q-sign over `host` only, no parameters),
    valid from now for `expires_seconds`: what the SDK's get_presigned_url makes, checked by `authenticate` above."""
    start = int(time.time() if now is None else now)
    key_time = f"{start};{start + expires_seconds}"
    signature = compute_signature(secret_key, key_time, method, "/" + key, [], [("host", encode(host))])
    fields = {
        "q-sign-algorithm": "sha1",
        "q-ak": secret_id,
        "q-sign-time": key_time,
        "q-key-time": key_time,
        "q-header-list": "host",
        "q-url-param-list": "",
        "q-signature": signature,
    }
    return "&".join(f"{name}={encode(value)}" for name, value in fields.items())
