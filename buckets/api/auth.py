"""COS request signatures ("q-sign", HMAC-SHA1) in the Authorization header or presigned query parameters.

Only the headers and parameters the client listed are verified (spec §2.4); signatures are compared in constant
time. Returns the principal, or None for an anonymous request.
"""

import hashlib
import hmac
import time
from dataclasses import dataclass
from urllib.parse import quote

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
    method: str, path: str, query: list[tuple[str, str]], headers: dict[str, bytes], now: float | None = None
) -> Principal | None:
    """Verify the request's signature.

    `query` is the decoded query pairs; `headers` maps lowercase header names to the raw bytes sent.
    """
    query_map = dict(query)
    authorization = headers.get("authorization")
    fields = signature_fields(authorization.decode("latin-1") if authorization is not None else None, query_map)
    if fields is None:
        return None
    sig = parse_signature(fields)
    now = time.time() if now is None else now
    for start, end in (sig.sign_time, _parse_time(sig.key_time)):
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
            return Principal(account=api_key.account, api_key=api_key)
    raise errors.SignatureDoesNotMatch()
