"""Pure CAM policy evaluation (syntax version 2.0): may (action, resource, context) proceed under these documents?

Explicit deny wins; otherwise an allow is needed; otherwise the answer is no. Actions match case-insensitively
with `*` wildcards (`name/cos:Get*`, `cos:*`, `*`); resources case-sensitively with `*` (and an empty region or
account segment in a pattern matches any). Conditions: string_equal, string_not_equal, string_like, ip_equal,
ip_not_equal, null_equal, bool_equal, numeric_equal/_less_than/_greater_than (and _equal variants).
"""

import functools
import ipaddress
import json
import re
from collections.abc import Iterable

ALLOW, DENY = "allow", "deny"


class PolicySyntaxError(ValueError):
    """The document is not a valid CAM policy; `code` names the CAM error (e.g. InvalidParameter.ActionError)."""

    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code


def _as_list(value) -> list:
    return value if isinstance(value, list) else [value]


@functools.lru_cache(maxsize=4096)
def _pattern(glob: str, ignore_case: bool) -> re.Pattern:
    """`*` matches any run of characters (CAM has no other wildcard); the whole string must match."""
    regex = ".*".join(re.escape(part) for part in glob.split("*"))
    return re.compile(f"{regex}\\Z", re.IGNORECASE | re.DOTALL if ignore_case else re.DOTALL)


def _normal_action(action: str) -> str:
    return action.removeprefix("name/")


def action_matches(pattern: str, action: str) -> bool:
    return bool(_pattern(_normal_action(pattern), True).match(_normal_action(action)))


def resource_matches(pattern: str, resource: str) -> bool:
    if pattern == "*":
        return True
    pattern_parts, resource_parts = pattern.split(":", 5), resource.split(":", 5)
    if len(pattern_parts) == 6 and len(resource_parts) == 6:
        # qcs::<service>:<region>:<account>:<resource>; an empty region or account in a pattern means any.
        pattern_parts = [p if p or i not in (3, 4) else "*" for i, p in enumerate(pattern_parts)]
        return all(_pattern(p, False).match(r) for p, r in zip(pattern_parts, resource_parts, strict=True))
    return bool(_pattern(pattern, False).match(resource))


def _ip_in(value: str, networks: list[str]) -> bool:
    try:
        address = ipaddress.ip_address(value)
    except ValueError:
        return False
    for network in networks:
        try:
            if address in ipaddress.ip_network(network, strict=False):
                return True
        except ValueError:
            continue
    return False


def _number(value) -> float | None:
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


COMPARISONS = {
    "numeric_equal": lambda a, b: a == b,
    "numeric_not_equal": lambda a, b: a != b,
    "numeric_less_than": lambda a, b: a < b,
    "numeric_less_than_equal": lambda a, b: a <= b,
    "numeric_greater_than": lambda a, b: a > b,
    "numeric_greater_than_equal": lambda a, b: a >= b,
}
OPERATORS = {
    "null_equal",
    "string_equal",
    "string_not_equal",
    "string_like",
    "bool_equal",
    "ip_equal",
    "ip_not_equal",
    *COMPARISONS,
}


def _condition_holds(operator: str, key: str, expected: list, context: dict, deny: bool) -> bool:
    if operator not in OPERATORS:
        return deny  # an operator this evaluator does not know never grants, and never lifts a deny
    present = key in context and context[key] is not None
    actual = context.get(key)
    values = [str(v) for v in _as_list(actual)] if present else []
    if operator == "null_equal":
        return str(expected[0]).lower() == ("false" if present else "true")
    if not present:
        return operator in ("string_not_equal", "ip_not_equal")
    wanted = [str(v) for v in expected]
    if operator == "string_equal":
        return any(v in wanted for v in values)
    if operator == "string_not_equal":
        return all(v not in wanted for v in values)
    if operator == "string_like":
        return any(_pattern(w, False).match(v) for v in values for w in wanted)
    if operator == "bool_equal":
        return any(v.lower() == w.lower() for v in values for w in wanted)
    if operator == "ip_equal":
        return any(_ip_in(v, wanted) for v in values)
    if operator == "ip_not_equal":
        return not any(_ip_in(v, wanted) for v in values)
    compare = COMPARISONS[operator]
    return any(
        (a := _number(v)) is not None and (b := _number(w)) is not None and compare(a, b)
        for v in values
        for w in wanted
    )


def conditions_hold(conditions: dict | None, context: dict, deny: bool = False) -> bool:
    for operator, tests in (conditions or {}).items():
        for key, expected in tests.items():
            if not _condition_holds(operator, key, _as_list(expected), context, deny):
                return False
    return True


def statement_applies(statement: dict, action: str, resource: str, context: dict) -> bool:
    actions = _as_list(statement.get("action", []))
    resources = _as_list(statement.get("resource", "*"))
    return (
        any(action_matches(a, action) for a in actions)
        and any(resource_matches(r, resource) for r in resources)
        and conditions_hold(statement.get("condition"), context, str(statement.get("effect", "")).lower() == DENY)
    )


def is_allowed(documents: Iterable[dict], action: str, resource: str, context: dict | None = None) -> bool:
    """Deny wins, then allow; no matching statement means no."""
    context = context or {}
    allowed = False
    for document in documents:
        for statement in _as_list(document.get("statement", [])):
            if not statement_applies(statement, action, resource, context):
                continue
            if str(statement.get("effect", "")).lower() == DENY:
                return False
            allowed = True
    return allowed


MAX_DOCUMENT_DEPTH = 16  # a real document nests six levels (statement, condition, operator, key, values)


def _depth_exceeds(value: object, limit: int) -> bool:
    """Whether lists and objects nest deeper than `limit` (iterative, so any depth the parser allowed is safe)."""
    pending = [(value, 0)]
    while pending:
        node, depth = pending.pop()
        if isinstance(node, (dict, list)):
            if depth >= limit:
                return True
            pending.extend((child, depth + 1) for child in (node.values() if isinstance(node, dict) else node))
    return False


def _load(text: str) -> dict:
    try:
        document = json.loads(text)
    except (TypeError, ValueError, RecursionError):
        raise PolicySyntaxError("InvalidParameter.PolicyDocumentError", "The policy document is not JSON.") from None
    if not isinstance(document, dict):
        raise PolicySyntaxError("InvalidParameter.PolicyDocumentError", "The policy document must be an object.")
    if _depth_exceeds(document, MAX_DOCUMENT_DEPTH):
        raise PolicySyntaxError("InvalidParameter.PolicyDocumentError", "The policy document nests too deeply.")
    return document


def parse(text: str, *, trust: bool = False) -> dict:
    """Parse and validate a policy document (a trust policy names `principal` instead of `resource`)."""
    return _check(_load(text), trust)


def _check(document: dict, trust: bool) -> dict:
    if str(document.get("version")) != "2.0":
        raise PolicySyntaxError("InvalidParameter.VersionError", "The policy version must be 2.0.")
    statements = document.get("statement")
    if not statements or not isinstance(statements, (list, dict)):
        raise PolicySyntaxError("InvalidParameter.StatementError", "The policy needs at least one statement.")
    for statement in _as_list(statements):
        if not isinstance(statement, dict):
            raise PolicySyntaxError("InvalidParameter.StatementError", "Each statement must be an object.")
        if str(statement.get("effect", "")).lower() not in (ALLOW, DENY):
            raise PolicySyntaxError("InvalidParameter.EffectError", "effect must be allow or deny.")
        actions = _as_list(statement.get("action", []))
        if not actions or not all(isinstance(a, str) and a for a in actions):
            raise PolicySyntaxError("InvalidParameter.ActionMiss", "Each statement needs an action.")
        if trust:
            principal = statement.get("principal")
            if not isinstance(principal, dict) or not principal:
                raise PolicySyntaxError(
                    "InvalidParameter.PrincipalError", "A trust policy statement needs a principal."
                )
        elif "resource" not in statement:
            raise PolicySyntaxError("InvalidParameter.ResourceError", "Each statement needs a resource.")
        condition = statement.get("condition")
        if condition is not None and (
            not isinstance(condition, dict) or not all(isinstance(v, dict) for v in condition.values())
        ):
            raise PolicySyntaxError("InvalidParameter.ConditionError", "condition must map operators to key tests.")
    return document


# -- bucket policies (COS's format: CAM syntax, each statement naming its principals) -----------------------

MAX_BUCKET_POLICY_BYTES = 20 * 1024
ANYONE = frozenset({"*", "qcs::cam::anyone:anyone"})  # principals that name every caller, anonymous ones too
_ELEMENTS = frozenset({"version", "statement", "principal", "effect", "action", "resource", "condition", "sid"})


def _lower_elements(node: dict) -> dict:
    """COS accepts the syntax elements in either case (`Statement`, `statement`); evaluation reads lower case."""
    return {key.lower() if key.lower() in _ELEMENTS else key: value for key, value in node.items()}


def _principal_names(principal: object) -> list | None:
    """The qcs names a principal element lists (`"*"` → ["*"]); None when it is not a principal."""
    if principal == "*":
        return ["*"]
    if not isinstance(principal, dict):
        return None
    names = {key.lower(): value for key, value in principal.items()}.get("qcs")
    names = _as_list(names) if names is not None else None
    return names if names and all(isinstance(name, str) and name for name in names) else None


def parse_bucket_policy(text: str, bucket: str) -> dict:
    """Parse and validate the bucket policy of `bucket`: CAM syntax 2.0, each statement with a principal (its own
    or the document's), cos actions only, and resources inside the bucket. Returns the document as evaluated
    (syntax elements in lower case). A document over MAX_BUCKET_POLICY_BYTES is refused."""
    if len(text.encode("utf-8", errors="replace")) > MAX_BUCKET_POLICY_BYTES:
        raise PolicySyntaxError("PolicySizeError", f"A bucket policy holds at most {MAX_BUCKET_POLICY_BYTES} bytes.")
    document = _lower_elements(_load(text))
    statements = document.get("statement")
    if isinstance(statements, (list, dict)):
        document["statement"] = [_lower_elements(s) if isinstance(s, dict) else s for s in _as_list(statements)]
    _check(document, trust=False)
    for statement in document["statement"]:
        if _principal_names(statement.get("principal", document.get("principal"))) is None:
            raise PolicySyntaxError("PrincipalError", 'Each statement needs a principal: {"qcs": [...]} or "*".')
        if not all(a == "*" or _normal_action(a).lower().startswith("cos:") for a in _as_list(statement["action"])):
            raise PolicySyntaxError("ActionError", "A bucket policy names only cos actions (name/cos:<Action>).")
        for resource in _as_list(statement["resource"]):
            parts = resource.split(":", 5) if isinstance(resource, str) else []
            if len(parts) != 6 or parts[:3] != ["qcs", "", "cos"] or parts[5].split("/", 1)[0] != bucket:
                raise PolicySyntaxError("ResourceError", f"Each resource must name the bucket: …:{bucket}/<key>.")
    return document


def bucket_policy_effect(document: dict, callers: list[str], action: str, resource: str, context: dict) -> str | None:
    """DENY when a statement naming one of `callers` (qcs principal names; [] for an anonymous caller) denies,
    else ALLOW when one allows, else None: the bucket policy says nothing about this request."""
    verdict = None
    for statement in _as_list(document.get("statement", [])):
        names = _principal_names(statement.get("principal", document.get("principal"))) or []
        if not any(name in ANYONE or any(_pattern(name, False).match(c) for c in callers) for name in names):
            continue
        if not statement_applies(statement, action, resource, context):
            continue
        if str(statement.get("effect", "")).lower() == DENY:
            return DENY
        verdict = ALLOW
    return verdict


def trusted_services(document: dict) -> set[str]:
    """The service principals a trust policy lets assume the role."""
    services = set()
    for statement in _as_list(document.get("statement", [])):
        if str(statement.get("effect", "")).lower() != ALLOW:
            continue
        if not any(action_matches(a, "sts:AssumeRole") for a in _as_list(statement.get("action", []))):
            continue
        principal = statement.get("principal") or {}
        services.update(str(s) for s in _as_list(principal.get("service", [])))
    return services


def cos_resource(region: str, appid: str, bucket: str, key: str = "") -> str:
    return f"qcs::cos:{region}:uid/{appid}:{bucket}/{key}"


def kms_resource(region: str, owner_uin: str, creator_uin: str, key_id: str) -> str:
    return f"qcs::kms:{region}:uin/{owner_uin}:key/creatorUin/{creator_uin}/{key_id}"


def cam_resource(owner_uin: str, target: str) -> str:
    """A CAM resource of the account: `uin/<uin>` (a sub-user, or the root itself), `roleName/<name>`,
    `policy/<id>`."""
    return f"qcs::cam::uin/{owner_uin}:{target}"
