"""The closed COS operation table: (scope, method, operation-selecting parameters, x-cos-copy-source) names exactly
one operation. What it does not name is refused before any handler runs or any signature is checked: a subresource
COS has but Kinko does not implement answers 501, anything else 400 (or 405); nothing falls through to a plain
object or bucket operation."""

from collections.abc import Iterable
from dataclasses import dataclass

from buckets import errors

from .headers import RESPONSE_OVERRIDES

# Parameters that choose the operation; each one present must be signed (buckets.api.auth).
SELECTORS = frozenset(
    {
        "acl",
        "cors",
        "delete",
        "encryption",
        "lifecycle",
        "location",
        "partNumber",
        "policy",
        "tagging",
        "uploadId",
        "uploads",
        "versionId",
        "versioning",
        "versions",
    }
)
# Subresources COS (or its data-processing extension on the COS host) has and Kinko does not implement.
NOT_IMPLEMENTED = frozenset(
    {
        "accelerate",
        "analytics",
        "append",
        "attributes",
        "ci-process",
        "comp",
        "domain",
        "domaincertificate",
        "image_process",
        "imageInspect",
        "intelligent-tiering",
        "intelligenttiering",
        "inventory",
        "legal-hold",
        "live",
        "logging",
        "metrics",
        "notification",
        "object-lock",
        "origin",
        "ownershipControls",
        "publicAccessBlock",
        "referer",
        "rename",
        "replication",
        "requestPayment",
        "response-control",
        "restore",
        "retention",
        "select",
        "select-type",
        "style",
        "symlink",
        "torrent",
        "vod",
        "website",
    }
)
# Image processing commands COS reads from a parameter name (`?imageMogr2/thumbnail/!50p`).
PROCESSING_COMMANDS = frozenset({"imageMogr2", "imageView2", "imageInfo", "imageAve", "exif", "watermark", "imageSlim"})
# Parameters that only shape a listing or a response; they never choose what is done.
OPTIONS = frozenset(
    {
        "prefix",
        "delimiter",
        "marker",
        "max-keys",
        "encoding-type",
        "key-marker",
        "upload-id-marker",
        "max-uploads",
        "part-number-marker",
        "max-parts",
        "version-id-marker",
        "region",
        "tagkey",
        "tagvalue",
        "create-time",
        "range",
        "x-cos-security-token",
        "x-cos-traffic-limit",
        *RESPONSE_OVERRIDES,
    }
)
_SPELLING = {name.lower(): name for name in SELECTORS | NOT_IMPLEMENTED | OPTIONS}


@dataclass(frozen=True)
class Selection:
    """What a request asks for: its scope ("service", "bucket" or "object"), method, selectors and whether it
    names a copy source. `key()` indexes the operation table."""

    scope: str
    method: str
    selectors: frozenset[str]
    copy: bool

    def key(self) -> tuple[str, str, frozenset[str], bool]:
        return self.scope, self.method, self.selectors, self.copy


def _check_name(name: str) -> str | None:
    """The selector `name` is, None for an option; raises for anything the table cannot take."""
    if name in SELECTORS:
        return name
    if name in OPTIONS or name.startswith("q-"):
        return None
    spelled = _SPELLING.get(name.lower())
    if spelled is not None:
        raise errors.InvalidArgument(f"The parameter {name!r} must be spelled {spelled!r}.")
    if name.lower().startswith("x-cos-server-side-encryption"):
        raise errors.InvalidArgument(
            "Server-side encryption is requested with request headers (or the bucket default), not URL parameters."
        )
    raise errors.InvalidArgument(f"Unknown query parameter {name!r}.")


def select(scope: str, method: str, query: Iterable[tuple[str, list[str]]], copy: bool) -> Selection:
    """Check the query's names (each once, spelled as COS spells it) and return what it selects. An unimplemented
    subresource wins over everything else, so its companions (`id`, `domainname`, …) need not be known."""
    query = list(query)
    for name, _ in query:
        if name in NOT_IMPLEMENTED or name.split("/", 1)[0] in PROCESSING_COMMANDS:
            raise errors.NotImplementedOperation(f"?{name} is not implemented by Kinko.")
    selectors = set()
    seen: set[str] = set()
    for name, values in query:
        if len(values) > 1 or name.lower() in seen:
            raise errors.InvalidArgument(f"The parameter {name!r} is given more than once.")
        seen.add(name.lower())
        selector = _check_name(name)
        if selector is not None:
            selectors.add(selector)
    return Selection(scope, method, frozenset(selectors), copy)


def refusal(selection: Selection, table: Iterable[tuple[str, str, frozenset[str], bool]]) -> errors.CosError:
    """The error for a selection the table does not name."""
    entries = [entry for entry in table if entry[0] == selection.scope]
    if not any(entry[1] == selection.method for entry in entries):
        return errors.MethodNotAllowed()
    if selection.copy and (selection.scope, selection.method, selection.selectors, False) in entries:
        return errors.InvalidRequest("x-cos-copy-source is not allowed on this operation.")
    asked = " ".join(sorted(selection.selectors)) or "no subresource"
    return errors.InvalidRequest(f"{selection.method} with {asked} names no operation on a {selection.scope}.")
