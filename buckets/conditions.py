"""HTTP Range and conditional-request headers of GET/HEAD Object (RFC 9110, as COS applies them)."""

import re
from datetime import datetime
from email.utils import parsedate_to_datetime

from . import errors

RANGE = re.compile(r"^bytes=(\d*)-(\d*)$")


def parse_range(value: str | None, size: int) -> tuple[int, int] | None:
    """The inclusive (first, last) byte range asked for, or None for the whole object.

    A syntactically invalid Range (or several ranges) is ignored, as S3 and COS do; a valid one that does not
    overlap the object raises InvalidRange (416).
    """
    if not value:
        return None
    match = RANGE.match(value.strip())
    if not match or (not match[1] and not match[2]):
        return None
    first_text, last_text = match[1], match[2]
    if not first_text:  # suffix range: the last N bytes
        length = int(last_text)
        if length == 0 or size == 0:
            raise errors.InvalidRange(size)
        return max(0, size - length), size - 1
    first = int(first_text)
    if last_text and int(last_text) < first:
        return None
    if first >= size:
        raise errors.InvalidRange(size)
    last = min(int(last_text), size - 1) if last_text else size - 1
    return first, last


def _http_date(value: str) -> datetime:
    try:
        moment = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        raise errors.InvalidArgument(f"The date {value!r} is not a valid HTTP date.") from None
    if moment.tzinfo is None:
        raise errors.InvalidArgument(f"The date {value!r} is not a valid HTTP date.")
    return moment


def _etag_matches(header: str, etag: str, weak: bool) -> bool:
    """If-None-Match compares weakly (W/ tags match); If-Match strongly (RFC 9110 §13.1.1, §13.1.2)."""
    for tag in (part.strip() for part in header.split(",")):
        if tag == "*":
            return True
        if tag.startswith("W/"):
            if not weak:
                continue
            tag = tag[2:]
        if tag.strip('"') == etag:
            return True
    return False


def check_preconditions(headers, etag: str, last_modified: datetime) -> bool:
    """Apply If-Match / If-Unmodified-Since / If-None-Match / If-Modified-Since in RFC 9110 order.

    Returns True to serve the object, False for 304 Not Modified; raises PreconditionFailed (412).
    """
    modified = last_modified.replace(microsecond=0)
    if_match = headers.get("If-Match")
    if if_match is not None:
        if not _etag_matches(if_match, etag, weak=False):
            raise errors.PreconditionFailed()
    elif (value := headers.get("If-Unmodified-Since")) is not None:
        if modified > _http_date(value):
            raise errors.PreconditionFailed()
    if_none_match = headers.get("If-None-Match")
    if if_none_match is not None:
        return not _etag_matches(if_none_match, etag, weak=True)
    if (value := headers.get("If-Modified-Since")) is not None:
        return modified > _http_date(value)
    return True
