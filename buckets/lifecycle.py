"""A bucket's lifecycle rules: validated on PUT ?lifecycle, and which objects and uploads they expire at a moment.

A rule is a dict: `id`, `enabled`, `filter` ({"prefix", "tags": [[key, value], ...], "and"} as sent: `and` keeps
the <And> shape for GET), `expiration` ({"days": n} or {"date": ISO 8601} or None), `noncurrent_days` and
`abort_days` (or None). An object expires when an enabled rule's filter matches it (key prefix, and every tag of the
filter among its tags) and its Days have passed since its last modification, or its rule's Date has come. An upload
is aborted when an enabled rule's prefix matches its key and DaysAfterInitiation have passed since it was initiated.
A noncurrent version expires when an enabled rule with NoncurrentDays matches it (prefix and tags, as above) and
those days have passed since a newer version replaced it.
"""

import datetime

from . import errors, tagging
from .models import Bucket, MultipartUpload, StoredObject

MAX_RULES = 1000
MAX_ID_CHARS = 255
MAX_DAYS = 2**31 - 1


def parse_date(text: str) -> datetime.datetime:
    """An Expiration Date (ISO 8601, e.g. 2030-01-01T00:00:00+08:00; no offset means UTC)."""
    try:
        moment = datetime.datetime.fromisoformat(text)
    except ValueError:
        raise errors.InvalidArgument("Expiration Date must be an ISO 8601 date, e.g. 2030-01-01T00:00:00Z.") from None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=datetime.UTC)


def _days(value: int | None, name: str) -> None:
    if value is not None and not 1 <= value <= MAX_DAYS:
        raise errors.InvalidArgument(f"{name} must be a positive integer.")


def validate_rules(rules: list[dict]) -> list[dict]:
    """The rules as stored, or MalformedXML / InvalidArgument naming what COS would refuse."""
    if not 1 <= len(rules) <= MAX_RULES:
        raise errors.MalformedXML(f"LifecycleConfiguration holds 1 to {MAX_RULES} Rule elements.")
    ids = [rule["id"] for rule in rules if rule["id"]]
    if len(ids) != len(set(ids)):
        raise errors.InvalidArgument("Each lifecycle Rule ID must be unique.")
    for rule in rules:
        if len(rule["id"]) > MAX_ID_CHARS:
            raise errors.InvalidArgument(f"A lifecycle Rule ID holds at most {MAX_ID_CHARS} characters.")
        expiration = rule["expiration"]
        if expiration is None and rule["noncurrent_days"] is None and rule["abort_days"] is None:
            raise errors.InvalidArgument(
                "A lifecycle Rule needs Expiration, NoncurrentVersionExpiration or AbortIncompleteMultipartUpload."
            )
        if expiration is not None:
            _days(expiration.get("days"), "Expiration Days")
            if "date" in expiration:
                parse_date(expiration["date"])
        _days(rule["noncurrent_days"], "NoncurrentDays")
        _days(rule["abort_days"], "DaysAfterInitiation")
        tags = rule["filter"]["tags"]
        tagging.validate_tags([tuple(pair) for pair in tags], tagging.MAX_OBJECT_TAGS)
        if tags and rule["abort_days"] is not None:
            raise errors.InvalidArgument("AbortIncompleteMultipartUpload cannot go with a Tag filter.")
    return rules


def set_bucket_lifecycle(bucket: Bucket, rules: list[dict] | None) -> None:
    """PUT ?lifecycle (validated rules) or DELETE ?lifecycle (None)."""
    bucket.lifecycle = validate_rules(rules) if rules is not None else None
    bucket.save(update_fields=["lifecycle"])


def _expiry_reached(rule: dict, modified: datetime.datetime, now: datetime.datetime) -> bool:
    expiration = rule["expiration"]
    if expiration is None:
        return False
    if "days" in expiration:
        return modified + datetime.timedelta(days=expiration["days"]) <= now
    return parse_date(expiration["date"]) <= now


def object_expired(rules: list[dict] | None, obj: StoredObject, now: datetime.datetime) -> bool:
    """Whether an enabled rule expires `obj` at `now`."""
    return any(
        rule["enabled"]
        and obj.key.startswith(rule["filter"]["prefix"])
        and all(obj.tags.get(key) == value for key, value in rule["filter"]["tags"])
        and _expiry_reached(rule, obj.last_modified, now)
        for rule in rules or []
    )


def version_expired(rules: list[dict] | None, version: StoredObject, now: datetime.datetime) -> bool:
    """Whether an enabled rule's NoncurrentVersionExpiration deletes the noncurrent `version` at `now`."""
    since = version.noncurrent_since
    return since is not None and any(
        rule["enabled"]
        and rule["noncurrent_days"] is not None
        and version.key.startswith(rule["filter"]["prefix"])
        and all(version.tags.get(key) == value for key, value in rule["filter"]["tags"])
        and since + datetime.timedelta(days=rule["noncurrent_days"]) <= now
        for rule in rules or []
    )


def upload_expired(rules: list[dict] | None, upload: MultipartUpload, now: datetime.datetime) -> bool:
    """Whether an enabled rule aborts the incomplete `upload` at `now`."""
    return any(
        rule["enabled"]
        and rule["abort_days"] is not None
        and upload.key.startswith(rule["filter"]["prefix"])
        and upload.initiated_at + datetime.timedelta(days=rule["abort_days"]) <= now
        for rule in rules or []
    )


def has_enabled_rules(rules: list[dict] | None) -> bool:
    return any(rule["enabled"] for rule in rules or [])
