"""Object and bucket tags: COS's limits, and the one-row changes that set or clear them. Tags are metadata (kept in
the clear beside the row, like x-cos-meta-*): they never touch an object's bytes or envelope."""

from urllib.parse import parse_qsl

from . import errors
from .models import Bucket, StoredObject

MAX_OBJECT_TAGS = 10
MAX_BUCKET_TAGS = 50
MAX_KEY_CHARS = 128
MAX_VALUE_CHARS = 256
# Besides letters and digits (any script), what COS allows in a tag key or value.
ALLOWED_PUNCTUATION = frozenset(" +-=._:/@")


def _allowed(text: str) -> bool:
    return all(c.isalnum() or c in ALLOWED_PUNCTUATION for c in text)


def validate_tags(pairs: list[tuple[str, str]], limit: int) -> dict[str, str]:
    """The tags `pairs` name, in order, as COS checks them: at most `limit`, each key 1-128 and each value 0-256
    characters of letters, digits and ` +-=._:/@`, no key twice."""
    if len(pairs) > limit:
        raise errors.BadRequest(f"At most {limit} tags may be set here.")
    tags: dict[str, str] = {}
    for key, value in pairs:
        if not 1 <= len(key) <= MAX_KEY_CHARS or not _allowed(key):
            raise errors.InvalidTag(
                f"A tag key is 1 to {MAX_KEY_CHARS} letters, digits, spaces and + - = . _ : / @ characters."
            )
        if len(value) > MAX_VALUE_CHARS or not _allowed(value):
            raise errors.InvalidTag(
                f"A tag value is up to {MAX_VALUE_CHARS} letters, digits, spaces and + - = . _ : / @ characters."
            )
        if key in tags:
            raise errors.InvalidTag(f"The tag key {key!r} is given more than once.")
        tags[key] = value
    return tags


def parse_tagging_header(text: str) -> dict[str, str]:
    """x-cos-tagging (or the form field): URL-encoded `k1=v1&k2=v2`, under the object limits."""
    try:
        pairs = parse_qsl(text, keep_blank_values=True, strict_parsing=bool(text), errors="strict")
    except (ValueError, UnicodeDecodeError):
        raise errors.InvalidTag("x-cos-tagging must be URL-encoded key=value pairs joined by &.") from None
    return validate_tags(pairs, MAX_OBJECT_TAGS)


def set_object_tags(obj: StoredObject, tags: dict[str, str]) -> None:
    """Replace the object's tags; an object overwritten or deleted meanwhile is no longer this one."""
    if not StoredObject.objects.filter(pk=obj.pk).update(tags=tags):
        raise errors.NoSuchKey()


def set_bucket_tags(bucket: Bucket, tags: dict[str, str]) -> None:
    bucket.tags = tags
    bucket.save(update_fields=["tags"])
