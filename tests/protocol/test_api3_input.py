"""Bad input on API 3.0 is the caller's error, never the server's: deeply nested JSON (in the body or in a policy
document), integers no database holds, negative offsets and unknown nested parameters each get their documented
client error, with no InternalError and no traceback in the log."""

import json

import pytest

from tests.protocol.api3 import activate_kms, cam_for, code_of, kms_for, signed_post, unique

DEEP = 100_000
HUGE = 10**30


@pytest.fixture(scope="module")
def kms(kinko):
    activate_kms(kinko)
    return kms_for(kinko)


def error_code(response) -> str:
    assert response.status_code == 200
    return response.json()["Response"].get("Error", {}).get("Code", "")


def nested(depth: int) -> str:
    return "[" * depth + "]" * depth


@pytest.fixture
def no_traceback(kinko):
    """True while the server log has gained no traceback since the test began."""
    start = len(kinko.log())

    def check() -> bool:
        written = kinko.log()[start:]
        return "Traceback" not in written and "RecursionError" not in written

    return check


@pytest.mark.parametrize(
    ("service", "action", "template"),
    [
        ("kms", "ListKeys", '{"Offset": %s}'),
        ("kms", "DescribeKeys", '{"KeyIds": %s}'),
        ("kms", "ListKeys", "%s"),
        ("cam", "ListPolicies", '{"Keyword": %s}'),
        ("cam", "CreatePolicy", '{"PolicyName": "x", "PolicyDocument": %s}'),
    ],
)
def test_a_deeply_nested_body_is_an_invalid_parameter(kinko, no_traceback, kms, service, action, template):
    body = (template % nested(DEEP)).encode()
    assert error_code(signed_post(kinko, service, action, body)) == "InvalidParameter"
    assert no_traceback()


def test_a_deeply_nested_object_body_is_an_invalid_parameter(kinko, no_traceback, kms):
    body = ('{"a":' * DEEP + "1" + "}" * DEEP).encode()
    assert error_code(signed_post(kinko, "kms", "ListKeys", body)) == "InvalidParameter"
    assert no_traceback()


@pytest.mark.parametrize("depth", [DEEP, 200])
def test_a_deeply_nested_policy_document_is_a_policy_document_error(kinko, no_traceback, depth):
    allow = json.dumps(
        {"version": "2.0", "statement": [{"effect": "allow", "action": "cos:GetObject", "resource": "*"}]}
    )
    document = allow[:-2] + ', "extra": ' + nested(depth) + "}]}"
    code = code_of(cam_for(kinko), "CreatePolicy", PolicyName=unique("deep"), PolicyDocument=document)
    assert code == "InvalidParameter.PolicyDocumentError"
    assert no_traceback()


@pytest.mark.parametrize(
    ("action", "params"),
    [
        ("ListKeys", {"Offset": HUGE}),
        ("ListKeys", {"Offset": -1}),
        ("ListKeys", {"Limit": HUGE}),
        ("ListKeys", {"Limit": -5}),
        ("ListKeyDetail", {"Offset": HUGE}),
        ("ListKeyDetail", {"Offset": -1}),
        ("ListKeyDetail", {"Limit": HUGE}),
    ],
)
def test_an_out_of_range_offset_or_limit_is_an_invalid_parameter_value(kinko, no_traceback, kms, action, params):
    assert error_code(signed_post(kinko, "kms", action, json.dumps(params).encode())) == "InvalidParameterValue"
    assert no_traceback()


@pytest.mark.parametrize(
    ("action", "params"),
    [
        ("DescribeRoleList", {"Page": HUGE, "Rp": 10}),
        ("ListPolicies", {"Page": HUGE}),
        ("ListAttachedUserPolicies", {"TargetUin": 1, "Page": HUGE}),
        ("GetPolicy", {"PolicyId": HUGE}),
        ("GetPolicy", {"PolicyId": -HUGE}),
        ("DeletePolicy", {"PolicyId": [HUGE]}),
        ("AttachUserPolicy", {"PolicyId": HUGE, "AttachUin": 1}),
        ("CreateAccessKey", {"TargetUin": HUGE}),
    ],
)
def test_an_out_of_range_integer_on_cam_is_a_param_error(kinko, no_traceback, action, params):
    """CAM documents InvalidParameter.ParamError for every bad value (as the existing CAM tests pin)."""
    assert error_code(signed_post(kinko, "cam", action, json.dumps(params).encode())) == "InvalidParameter.ParamError"
    assert no_traceback()


@pytest.mark.parametrize(
    ("service", "action", "params"),
    [
        ("kms", "ListKeys", {"Bogus": 1}),
        ("kms", "CreateKey", {"Alias": "x", "Tags": [{"TagKey": "k", "TagValue": "v", "Bogus": 1}]}),
        ("kms", "DescribeKeys", {"KeyIds": ["x"], "MemberAccount": {"Bogus": 1}}),
        ("cam", "ListPolicies", {"Bogus": 1}),
        (
            "cam",
            "CreateRole",
            {"RoleName": "x", "PolicyDocument": "{}", "Tags": [{"Key": "k", "Value": "v", "Bogus": 1}]},
        ),
    ],
)
def test_an_unknown_parameter_at_any_depth_is_an_unknown_parameter(kinko, kms, service, action, params):
    assert error_code(signed_post(kinko, service, action, json.dumps(params).encode())) == "UnknownParameter"
