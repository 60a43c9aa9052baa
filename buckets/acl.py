"""Access control lists: canned ACLs, grant headers and AccessControlPolicy grants, and who they let in.

A grant is a dict {"type": "CanonicalUser", "id": "qcs::cam::uin/<owner>:uin/<uin>", "permission": "READ"} or
{"type": "Group", "uri": ALL_USERS, "permission": "READ"}. Pure functions: no ORM, no HTTP.
"""

import re

from . import errors

ALL_USERS = "http://cam.qcloud.com/groups/global/AllUsers"
PERMISSIONS = ("READ", "WRITE", "READ_ACP", "WRITE_ACP", "FULL_CONTROL")
BUCKET_CANNED = ("private", "public-read", "public-read-write")
OBJECT_CANNED = ("default", "private", "public-read")
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
