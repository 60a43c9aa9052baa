"""A bucket's CORS rules: validated on PUT ?cors, matched against a browser's preflight and actual requests.

A rule is a dict: `id`, `origins`, `methods`, `headers`, `expose` (lists of strings) and `max_age` (seconds or
None). An origin or header pattern may hold one `*`, which matches any run of characters; origins match
case-sensitively, methods exactly, headers case-insensitively. The first rule that matches answers.
"""

import re
from dataclasses import dataclass

from buckets import errors
from buckets.models import Bucket

MAX_RULES = 100
METHODS = ("GET", "PUT", "POST", "DELETE", "HEAD")
MAX_AGE_LIMIT = 2**31 - 1
_TOKEN = re.compile(r"^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$")  # an HTTP header name, or `*` patterns of one


@dataclass(frozen=True)
class Preflight:
    """What a browser asks before its actual request: the page's origin, the method and the headers it will send."""

    origin: str
    method: str
    headers: tuple[str, ...] = ()


def _matches(pattern: str, value: str, ignore_case: bool = False) -> bool:
    if ignore_case:
        pattern, value = pattern.lower(), value.lower()
    if "*" not in pattern:
        return pattern == value
    head, _, tail = pattern.partition("*")
    return len(value) >= len(head) + len(tail) and value.startswith(head) and value.endswith(tail)


def validate_rules(rules: list[dict]) -> list[dict]:
    """The rules as stored, or MalformedXML naming what COS would refuse."""
    if not 1 <= len(rules) <= MAX_RULES:
        raise errors.MalformedXML(f"CORSConfiguration holds 1 to {MAX_RULES} CORSRule elements.")
    ids = [rule["id"] for rule in rules if rule["id"]]
    if len(ids) != len(set(ids)):
        raise errors.InvalidArgument("Each CORSRule ID must be unique.")
    for rule in rules:
        if not rule["origins"] or not rule["methods"]:
            raise errors.MalformedXML("Each CORSRule needs an AllowedOrigin and an AllowedMethod.")
        if any(method not in METHODS for method in rule["methods"]):
            raise errors.InvalidArgument(f"AllowedMethod must be one of {', '.join(METHODS)}.")
        patterns = rule["origins"] + rule["headers"]
        if any(pattern.count("*") > 1 or not pattern for pattern in patterns):
            raise errors.InvalidArgument("An AllowedOrigin or AllowedHeader holds at most one '*'.")
        if any(not _TOKEN.match(name) for name in rule["headers"] + rule["expose"]):
            raise errors.InvalidArgument("AllowedHeader and ExposeHeader must be HTTP header names.")
        if rule["max_age"] is not None and not 0 <= rule["max_age"] <= MAX_AGE_LIMIT:
            raise errors.InvalidArgument("MaxAgeSeconds must be a non-negative integer.")
    return rules


def set_bucket_cors(bucket: Bucket, rules: list[dict] | None) -> None:
    """PUT ?cors (validated rules) or DELETE ?cors (None)."""
    bucket.cors = validate_rules(rules) if rules is not None else None
    bucket.save(update_fields=["cors"])


def matching_rule(rules: list[dict] | None, asked: Preflight) -> dict | None:
    """The first rule allowing this origin, method and every one of these headers."""
    for rule in rules or []:
        if (
            any(_matches(pattern, asked.origin) for pattern in rule["origins"])
            and asked.method in rule["methods"]
            and all(any(_matches(p, name, ignore_case=True) for p in rule["headers"]) for name in asked.headers)
        ):
            return rule
    return None


def preflight_headers(rule: dict, asked: Preflight) -> dict[str, str]:
    """The answer to a preflight the rule allows."""
    headers = {
        **response_headers(rule, asked.origin),
        "Access-Control-Allow-Methods": ", ".join(rule["methods"]),
        "Vary": "Origin, Access-Control-Request-Method, Access-Control-Request-Headers",
    }
    if asked.headers:
        headers["Access-Control-Allow-Headers"] = ", ".join(asked.headers)
    if rule["max_age"] is not None:
        headers["Access-Control-Max-Age"] = str(rule["max_age"])
    return headers


def response_headers(rule: dict, origin: str) -> dict[str, str]:
    """The CORS headers of an actual request whose origin and method the rule allows."""
    headers = {"Access-Control-Allow-Origin": origin, "Vary": "Origin"}
    if rule["expose"]:
        headers["Access-Control-Expose-Headers"] = ", ".join(rule["expose"])
    return headers
