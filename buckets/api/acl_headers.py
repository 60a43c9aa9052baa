"""ACL request headers and documents (x-cos-grant-*, <AccessControlPolicy>) parsed into the domain's grants."""

import re

from buckets import errors
from buckets.acl import ALL_USERS, PERMISSIONS, owner_grant

GRANT_HEADERS = {
    "x-cos-grant-read": "READ",
    "x-cos-grant-write": "WRITE",
    "x-cos-grant-read-acp": "READ_ACP",
    "x-cos-grant-write-acp": "WRITE_ACP",
    "x-cos-grant-full-control": "FULL_CONTROL",
}
GRANTEE = re.compile(r'^\s*(id|uri)\s*=\s*"([^"]*)"\s*$')


def _grantee(text: str) -> dict:
    match = GRANTEE.match(text)
    if not match:
        raise errors.InvalidArgument(f'A grantee is written id="…" or uri="…", not {text!r}.')
    kind, value = match.groups()
    if kind == "uri":
        if value != ALL_USERS:
            raise errors.InvalidArgument(f"Unknown group {value!r}.")
        return {"type": "Group", "uri": value}
    if value.isdecimal():
        value = f"qcs::cam::uin/{value}:uin/{value}"
    return {"type": "CanonicalUser", "id": value}


def header_grants(headers: dict[str, str], owner_id: str) -> list[dict] | None:
    """Grants from x-cos-grant-* headers (owner keeps FULL_CONTROL), or None when none was sent."""
    grants = []
    for header, permission in GRANT_HEADERS.items():
        value = headers.get(header)
        if value:
            grants += [{**_grantee(part), "permission": permission} for part in value.split(",") if part.strip()]
    return [owner_grant(owner_id), *grants] if grants else None


def policy_grants(policy) -> list[dict]:
    """Grants from a parsed <AccessControlPolicy> element."""
    acl = policy.find("AccessControlList")
    if acl is None:
        raise errors.MalformedXML("AccessControlPolicy needs an AccessControlList.")
    grants = []
    for grant in acl.findall("Grant"):
        grantee = grant.find("Grantee")
        permission = (grant.findtext("Permission") or "").strip()
        if grantee is None or permission not in PERMISSIONS:
            raise errors.MalformedXML("Each Grant needs a Grantee and a Permission.")
        uri, grantee_id = grantee.findtext("URI"), grantee.findtext("ID")
        if uri:
            if uri.strip() != ALL_USERS:
                raise errors.InvalidArgument(f"Unknown group {uri!r}.")
            grants.append({"type": "Group", "uri": ALL_USERS, "permission": permission})
        elif grantee_id:
            grants.append({"type": "CanonicalUser", "id": grantee_id.strip(), "permission": permission})
        else:
            raise errors.MalformedXML("A Grantee needs an ID or a URI.")
    return grants
