"""Access control lists: canned ACLs, grant headers and AccessControlPolicy grants, and who they let in.

A grant is a dict {"type": "CanonicalUser", "id": "qcs::cam::uin/<owner>:uin/<uin>", "permission": "READ"} or
{"type": "Group", "uri": ALL_USERS, "permission": "READ"}. Pure functions: no ORM, no HTTP.
"""

import re

from .api import errors

ALL_USERS = "http://cam.qcloud.com/groups/global/AllUsers"
PERMISSIONS = ("READ", "WRITE", "READ_ACP", "WRITE_ACP", "FULL_CONTROL")
BUCKET_CANNED = ("private", "public-read", "public-read-write")
OBJECT_CANNED = ("default", "private", "public-read")
GRANT_HEADERS = {
    "x-cos-grant-read": "READ",
    "x-cos-grant-write": "WRITE",
    "x-cos-grant-read-acp": "READ_ACP",
    "x-cos-grant-write-acp": "WRITE_ACP",
    "x-cos-grant-full-control": "FULL_CONTROL",
}
GRANTEE = re.compile(r'^\s*(id|uri)\s*=\s*"([^"]*)"\s*$')
UIN_IN_ID = re.compile(r"uin/(\d+)$")


def owner_grant(owner_id: str) -> dict:
    return {"type": "CanonicalUser", "id": owner_id, "permission": "FULL_CONTROL"}


def canned_grants(canned: str, owner_id: str, allowed: tuple[str, ...]) -> list[dict]:
    if canned not in allowed:
        raise errors.InvalidArgument(f"x-cos-acl must be one of {', '.join(allowed)}.")
    grants = [owner_grant(owner_id)]
    if canned in ("public-read", "public-read-write"):
        grants.append({"type": "Group", "uri": ALL_USERS, "permission": "READ"})
    if canned == "public-read-write":
        grants.append({"type": "Group", "uri": ALL_USERS, "permission": "WRITE"})
    return grants


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


def canned_name(grants: list[dict], is_bucket: bool) -> str:
    public = {g["permission"] for g in grants if g["type"] == "Group" and g.get("uri") == ALL_USERS}
    if is_bucket and {"READ", "WRITE"} <= public:
        return "public-read-write"
    return "public-read" if "READ" in public else "private"


def grants_permission(grants: list[dict], uin: str | None, permission: str) -> bool:
    """Does any grant give `permission` (or FULL_CONTROL) to everyone, or to the account `uin`?"""
    for grant in grants:
        if grant["permission"] not in (permission, "FULL_CONTROL"):
            continue
        if grant["type"] == "Group" and grant.get("uri") == ALL_USERS:
            return True
        if uin is not None and grant["type"] == "CanonicalUser":
            match = UIN_IN_ID.search(grant.get("id", ""))
            if match and match[1] == uin:
                return True
    return False
