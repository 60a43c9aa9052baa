"""The pure CAM policy evaluator: action and resource patterns, deny over allow, conditions, parsing, trust."""

import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from roles import policy

# The autouse storage fixture of tests/conftest.py is function-scoped; these tests never touch storage.
pure = settings(suppress_health_check=[HealthCheck.function_scoped_fixture], deadline=None)

BUCKET = "photos-1250000000"
PREFIX = f"qcs::cos:ap-guangzhou:uid/1250000000:{BUCKET}/"


def obj(key: str, region: str = "ap-guangzhou", appid: str = "1250000000", bucket: str = BUCKET) -> str:
    return policy.cos_resource(region, appid, bucket, key)


def statement(effect: str = "allow", action="name/cos:GetObject", resource="*", condition: dict | None = None):
    found = {"effect": effect, "action": action, "resource": resource}
    if condition is not None:
        found["condition"] = condition
    return found


def document(*statements: dict) -> dict:
    return {"version": "2.0", "statement": list(statements)}


def allowed_under(condition: dict, context: dict) -> bool:
    return policy.is_allowed([document(statement(condition=condition))], "cos:GetObject", obj("a.txt"), context)


def syntax_error_code(text: str, trust: bool = False) -> str:
    with pytest.raises(policy.PolicySyntaxError) as err:
        policy.parse(text, trust=trust)
    return err.value.code


# -- actions ---------------------------------------------------------------------------------------------------


def test_a_service_wildcard_matches_every_action_of_that_service():
    assert policy.action_matches("name/cos:*", "cos:PutObject")


def test_a_service_wildcard_does_not_match_another_service():
    assert not policy.action_matches("name/cos:*", "kms:Decrypt")


def test_a_prefix_wildcard_matches_actions_starting_with_the_prefix():
    assert policy.action_matches("cos:Get*", "cos:GetObjectACL")


def test_a_prefix_wildcard_does_not_match_actions_with_another_prefix():
    assert not policy.action_matches("cos:Get*", "cos:PutObject")


def test_a_lone_star_matches_any_action_of_any_service():
    assert policy.action_matches("*", "cam:DeleteRole")


def test_action_names_match_case_insensitively():
    assert policy.action_matches("name/COS:getobject", "cos:GetObject")


def test_the_name_prefix_is_optional_in_the_pattern():
    assert policy.action_matches("cos:GetObject", "name/cos:GetObject")


def test_the_name_prefix_is_optional_in_the_action():
    assert policy.action_matches("name/cos:GetObject", "cos:GetObject")


def test_an_exact_action_does_not_match_a_longer_action_name():
    assert not policy.action_matches("cos:GetObject", "cos:GetObjectACL")


def test_a_statement_with_a_list_of_actions_applies_to_any_of_them():
    docs = [document(statement(action=["name/cos:HeadObject", "name/cos:GetObject"]))]
    assert policy.is_allowed(docs, "cos:GetObject", obj("a.txt"))


# -- resources -------------------------------------------------------------------------------------------------


def test_an_exact_resource_matches_itself():
    assert policy.resource_matches(obj("a/b.txt"), obj("a/b.txt"))


def test_an_exact_resource_does_not_match_another_key():
    assert not policy.resource_matches(obj("a/b.txt"), obj("a/c.txt"))


def test_a_star_resource_matches_any_resource():
    assert policy.resource_matches("*", "qcs::kms:ap-beijing:uin/1000:key/creatorUin/1000/some-key")


def test_a_trailing_slash_star_matches_keys_under_the_prefix():
    assert policy.resource_matches(obj("uploads/*"), obj("uploads/2024/a.txt"))


def test_a_trailing_slash_star_does_not_match_keys_outside_the_prefix():
    assert not policy.resource_matches(obj("uploads/*"), obj("downloads/a.txt"))


def test_a_trailing_slash_star_does_not_match_a_key_that_only_shares_the_prefix_letters():
    assert not policy.resource_matches(obj("uploads/*"), obj("uploadsX/a.txt"))


def test_a_bucket_star_pattern_does_not_match_another_bucket():
    assert not policy.resource_matches(obj("*"), obj("a.txt", bucket="other-1250000000"))


def test_an_empty_region_segment_matches_any_region():
    assert policy.resource_matches(f"qcs::cos::uid/1250000000:{BUCKET}/*", obj("a.txt", region="ap-shanghai"))


def test_an_empty_account_segment_matches_any_account():
    assert policy.resource_matches(f"qcs::cos:ap-guangzhou::{BUCKET}/*", obj("a.txt", appid="1250000001"))


def test_a_named_region_does_not_match_another_region():
    assert not policy.resource_matches(obj("*"), obj("a.txt", region="ap-shanghai"))


def test_a_named_account_does_not_match_another_account():
    assert not policy.resource_matches(obj("*"), obj("a.txt", appid="1250000001"))


def test_keys_match_case_sensitively():
    assert not policy.resource_matches(obj("Photo.JPG"), obj("photo.jpg"))


def test_a_key_with_regex_metacharacters_matches_itself():
    assert policy.resource_matches(obj("[a]+(b).txt"), obj("[a]+(b).txt"))


def test_a_key_with_regex_metacharacters_is_not_read_as_a_regex():
    assert not policy.resource_matches(obj("[a]+(b).txt"), obj("aab.txt"))


def test_a_dot_in_a_key_is_not_a_wildcard():
    assert not policy.resource_matches(obj("a.txt"), obj("abtxt"))


def test_a_literal_key_does_not_match_the_same_key_with_a_trailing_newline():
    assert not policy.resource_matches(obj("a.txt"), obj("a.txt\n"))


def test_a_statement_with_a_list_of_resources_applies_to_any_of_them():
    docs = [document(statement(resource=[obj("a.txt"), obj("b.txt")]))]
    assert policy.is_allowed(docs, "cos:GetObject", obj("b.txt"))


def test_a_statement_without_a_resource_applies_to_every_resource():
    docs = [{"version": "2.0", "statement": [{"effect": "allow", "action": "cos:GetObject"}]}]
    assert policy.is_allowed(docs, "cos:GetObject", obj("a.txt"))


def test_cos_resource_names_region_appid_bucket_and_key():
    assert policy.cos_resource("ap-guangzhou", "1250000000", BUCKET, "a/b.txt") == PREFIX + "a/b.txt"


def test_kms_resource_names_region_owner_creator_and_key_id():
    resource = policy.kms_resource("ap-guangzhou", "100001", "100002", "key-1")
    assert resource == "qcs::kms:ap-guangzhou:uin/100001:key/creatorUin/100002/key-1"


# -- allow, deny and the default ---------------------------------------------------------------------------------


def test_no_documents_deny_everything():
    assert not policy.is_allowed([], "cos:GetObject", obj("a.txt"))


def test_documents_without_a_matching_statement_deny():
    docs = [document(statement(action="name/cos:PutObject"))]
    assert not policy.is_allowed(docs, "cos:GetObject", obj("a.txt"))


def test_a_matching_allow_statement_allows():
    assert policy.is_allowed([document(statement())], "cos:GetObject", obj("a.txt"))


def test_an_explicit_deny_wins_over_an_allow_in_the_same_document():
    docs = [document(statement(action="name/cos:*"), statement("deny", "name/cos:GetObject", obj("a.txt")))]
    assert not policy.is_allowed(docs, "cos:GetObject", obj("a.txt"))


def test_an_explicit_deny_wins_over_an_allow_in_another_document():
    docs = [document(statement("deny", "cos:GetObject", obj("*"))), document(statement(action="*"))]
    assert not policy.is_allowed(docs, "cos:GetObject", obj("a.txt"))


def test_a_deny_on_other_keys_leaves_the_allow_in_force():
    docs = [document(statement(action="name/cos:*"), statement("deny", "name/cos:GetObject", obj("secret/*")))]
    assert policy.is_allowed(docs, "cos:GetObject", obj("public/a.txt"))


def test_effect_is_read_case_insensitively():
    docs = [document(statement(action="*"), statement("Deny", "cos:GetObject"))]
    assert not policy.is_allowed(docs, "cos:GetObject", obj("a.txt"))


def test_a_single_statement_object_instead_of_a_list_is_evaluated():
    docs = [{"version": "2.0", "statement": statement()}]
    assert policy.is_allowed(docs, "cos:GetObject", obj("a.txt"))


# -- conditions ------------------------------------------------------------------------------------------------


def test_string_equal_holds_for_the_named_value():
    assert allowed_under({"string_equal": {"cos:x-cos-acl": "private"}}, {"cos:x-cos-acl": "private"})


def test_string_equal_fails_for_another_value():
    assert not allowed_under({"string_equal": {"cos:x-cos-acl": "private"}}, {"cos:x-cos-acl": "public-read"})


def test_string_equal_fails_when_the_key_is_absent():
    assert not allowed_under({"string_equal": {"cos:x-cos-acl": "private"}}, {})


def test_string_equal_holds_for_any_value_of_a_list():
    condition = {"string_equal": {"cos:x-cos-acl": ["private", "default"]}}
    assert allowed_under(condition, {"cos:x-cos-acl": "default"})


def test_string_not_equal_holds_for_another_value():
    assert allowed_under({"string_not_equal": {"cos:x-cos-acl": "public-read"}}, {"cos:x-cos-acl": "private"})


def test_string_not_equal_fails_for_the_named_value():
    assert not allowed_under({"string_not_equal": {"cos:x-cos-acl": "public-read"}}, {"cos:x-cos-acl": "public-read"})


def test_string_not_equal_holds_when_the_key_is_absent():
    assert allowed_under({"string_not_equal": {"cos:x-cos-acl": "public-read"}}, {})


def test_string_like_holds_for_a_value_matching_the_wildcard():
    assert allowed_under({"string_like": {"cos:content-type": "image/*"}}, {"cos:content-type": "image/png"})


def test_string_like_fails_for_a_value_outside_the_wildcard():
    assert not allowed_under({"string_like": {"cos:content-type": "image/*"}}, {"cos:content-type": "text/plain"})


def test_ip_equal_holds_for_an_address_inside_the_cidr():
    assert allowed_under({"ip_equal": {"qcs:ip": "10.0.0.0/8"}}, {"qcs:ip": "10.20.30.40"})


def test_ip_equal_fails_for_an_address_outside_the_cidr():
    assert not allowed_under({"ip_equal": {"qcs:ip": "10.0.0.0/8"}}, {"qcs:ip": "192.168.1.1"})


def test_ip_equal_holds_for_any_cidr_of_a_list():
    assert allowed_under({"ip_equal": {"qcs:ip": ["10.0.0.0/8", "127.0.0.1"]}}, {"qcs:ip": "127.0.0.1"})


def test_ip_equal_fails_when_the_address_is_not_an_address():
    assert not allowed_under({"ip_equal": {"qcs:ip": "10.0.0.0/8"}}, {"qcs:ip": "not-an-ip"})


def test_ip_not_equal_holds_for_an_address_outside_the_cidr():
    assert allowed_under({"ip_not_equal": {"qcs:ip": "10.0.0.0/8"}}, {"qcs:ip": "192.168.1.1"})


def test_ip_not_equal_fails_for_an_address_inside_the_cidr():
    assert not allowed_under({"ip_not_equal": {"qcs:ip": "10.0.0.0/8"}}, {"qcs:ip": "10.1.1.1"})


def test_null_equal_true_holds_when_the_sse_header_is_absent():
    condition = {"null_equal": {"cos:x-cos-server-side-encryption": "true"}}
    assert allowed_under(condition, {"cos:x-cos-server-side-encryption": None})


def test_null_equal_true_fails_when_the_sse_header_is_present():
    condition = {"null_equal": {"cos:x-cos-server-side-encryption": "true"}}
    assert not allowed_under(condition, {"cos:x-cos-server-side-encryption": "AES256"})


def test_null_equal_false_holds_when_the_sse_header_is_present():
    condition = {"null_equal": {"cos:x-cos-server-side-encryption": "false"}}
    assert allowed_under(condition, {"cos:x-cos-server-side-encryption": "cos/kms"})


def test_null_equal_false_fails_when_the_sse_header_is_absent():
    condition = {"null_equal": {"cos:x-cos-server-side-encryption": "false"}}
    assert not allowed_under(condition, {})


def test_a_deny_on_requests_without_sse_refuses_an_unencrypted_put():
    docs = [
        document(
            statement(action="name/cos:*"),
            statement(
                "deny", "name/cos:PutObject", condition={"null_equal": {"cos:x-cos-server-side-encryption": "true"}}
            ),
        )
    ]
    assert not policy.is_allowed(docs, "cos:PutObject", obj("a.txt"), {"cos:x-cos-server-side-encryption": None})


def test_a_deny_on_requests_without_sse_lets_an_encrypted_put_through():
    docs = [
        document(
            statement(action="name/cos:*"),
            statement(
                "deny", "name/cos:PutObject", condition={"null_equal": {"cos:x-cos-server-side-encryption": "true"}}
            ),
        )
    ]
    assert policy.is_allowed(docs, "cos:PutObject", obj("a.txt"), {"cos:x-cos-server-side-encryption": "AES256"})


def test_bool_equal_holds_for_the_same_truth_value_in_any_case():
    assert allowed_under({"bool_equal": {"qcs:secure_transport": "true"}}, {"qcs:secure_transport": True})


def test_bool_equal_fails_for_the_other_truth_value():
    assert not allowed_under({"bool_equal": {"qcs:secure_transport": "true"}}, {"qcs:secure_transport": "false"})


@pytest.mark.parametrize(
    ("operator", "actual", "expected"),
    [
        ("numeric_equal", "10", True),
        ("numeric_equal", "11", False),
        ("numeric_not_equal", "11", True),
        ("numeric_not_equal", "10", False),
        ("numeric_less_than", "9", True),
        ("numeric_less_than", "10", False),
        ("numeric_less_than_equal", "10", True),
        ("numeric_less_than_equal", "11", False),
        ("numeric_greater_than", "11", True),
        ("numeric_greater_than", "10", False),
        ("numeric_greater_than_equal", "10", True),
        ("numeric_greater_than_equal", "9", False),
    ],
)
def test_numeric_operators_compare_the_value_with_the_bound(operator, actual, expected):
    assert allowed_under({operator: {"cos:content-length": 10}}, {"cos:content-length": actual}) is expected


def test_numeric_operators_fail_for_a_value_that_is_not_a_number():
    assert not allowed_under({"numeric_less_than": {"cos:content-length": 10}}, {"cos:content-length": "ten"})


def test_an_unknown_operator_never_grants_even_when_its_values_match():
    assert not allowed_under({"string_equal_someday": {"cos:x-cos-acl": "private"}}, {"cos:x-cos-acl": "private"})


def test_every_condition_of_a_statement_must_hold():
    condition = {"string_equal": {"cos:x-cos-acl": "private"}, "ip_equal": {"qcs:ip": "10.0.0.0/8"}}
    assert not allowed_under(condition, {"cos:x-cos-acl": "private", "qcs:ip": "192.168.0.1"})


def test_a_statement_whose_conditions_hold_allows():
    condition = {"string_equal": {"cos:x-cos-acl": "private"}, "ip_equal": {"qcs:ip": "10.0.0.0/8"}}
    assert allowed_under(condition, {"cos:x-cos-acl": "private", "qcs:ip": "10.0.0.1"})


# -- parsing ---------------------------------------------------------------------------------------------------


def test_parse_returns_a_valid_permission_policy():
    text = json.dumps(document(statement()))
    assert policy.parse(text) == document(statement())


def test_parse_refuses_text_that_is_not_json():
    assert syntax_error_code("{not json") == "InvalidParameter.PolicyDocumentError"


def test_parse_refuses_json_that_is_not_an_object():
    assert syntax_error_code("[]") == "InvalidParameter.PolicyDocumentError"


def test_parse_refuses_a_version_other_than_2_0():
    assert syntax_error_code(json.dumps({"version": "1.0", "statement": [statement()]})) == (
        "InvalidParameter.VersionError"
    )


def test_parse_refuses_a_document_without_a_version():
    assert syntax_error_code(json.dumps({"statement": [statement()]})) == "InvalidParameter.VersionError"


def test_parse_refuses_a_document_without_statements():
    assert syntax_error_code(json.dumps({"version": "2.0", "statement": []})) == "InvalidParameter.StatementError"


def test_parse_refuses_an_effect_other_than_allow_or_deny():
    assert syntax_error_code(json.dumps(document(statement(effect="permit")))) == "InvalidParameter.EffectError"


def test_parse_refuses_a_statement_without_an_action():
    text = json.dumps({"version": "2.0", "statement": [{"effect": "allow", "resource": "*"}]})
    assert syntax_error_code(text) == "InvalidParameter.ActionMiss"


def test_parse_refuses_a_statement_with_an_empty_action_list():
    assert syntax_error_code(json.dumps(document(statement(action=[])))) == "InvalidParameter.ActionMiss"


def test_parse_refuses_a_permission_statement_without_a_resource():
    text = json.dumps({"version": "2.0", "statement": [{"effect": "allow", "action": "cos:GetObject"}]})
    assert syntax_error_code(text) == "InvalidParameter.ResourceError"


def test_parse_refuses_a_trust_statement_without_a_principal():
    text = json.dumps({"version": "2.0", "statement": [{"effect": "allow", "action": "name/sts:AssumeRole"}]})
    assert syntax_error_code(text, trust=True) == "InvalidParameter.PrincipalError"


def test_parse_refuses_a_trust_statement_with_an_empty_principal():
    text = json.dumps(
        {"version": "2.0", "statement": [{"effect": "allow", "action": "name/sts:AssumeRole", "principal": {}}]}
    )
    assert syntax_error_code(text, trust=True) == "InvalidParameter.PrincipalError"


def test_parse_accepts_a_trust_statement_naming_a_service_principal():
    principal = {"service": "cos.cloud.tencent.com"}
    trust = {"version": "2.0", "statement": [{"effect": "allow", "action": "sts:AssumeRole", "principal": principal}]}
    assert policy.parse(json.dumps(trust), trust=True) == trust


def test_parse_refuses_a_condition_that_is_not_an_object():
    assert syntax_error_code(json.dumps(document(statement(condition=["ip_equal"])))) == (
        "InvalidParameter.ConditionError"
    )


def test_parse_refuses_a_condition_operator_without_key_tests():
    assert syntax_error_code(json.dumps(document(statement(condition={"ip_equal": "10.0.0.0/8"})))) == (
        "InvalidParameter.ConditionError"
    )


# -- trusted services ------------------------------------------------------------------------------------------


def trust(*statements: dict) -> dict:
    return {"version": "2.0", "statement": list(statements)}


def assume(service, effect: str = "allow", action: str = "name/sts:AssumeRole") -> dict:
    return {"effect": effect, "action": action, "principal": {"service": service}}


def test_trusted_services_names_a_single_service_string():
    assert policy.trusted_services(trust(assume("cos.cloud.tencent.com"))) == {"cos.cloud.tencent.com"}


def test_trusted_services_names_every_service_of_a_list():
    services = policy.trusted_services(trust(assume(["cos.qcloud.com", "cvm.qcloud.com"])))
    assert services == {"cos.qcloud.com", "cvm.qcloud.com"}


def test_trusted_services_joins_the_services_of_every_statement():
    services = policy.trusted_services(trust(assume("cos.qcloud.com"), assume("scf.qcloud.com", action="sts:*")))
    assert services == {"cos.qcloud.com", "scf.qcloud.com"}


def test_trusted_services_ignores_deny_statements():
    assert policy.trusted_services(trust(assume("cos.qcloud.com", effect="deny"))) == set()


def test_trusted_services_ignores_statements_that_do_not_grant_assume_role():
    assert policy.trusted_services(trust(assume("cos.qcloud.com", action="sts:GetFederationToken"))) == set()


def test_trusted_services_ignores_principals_that_are_not_services():
    document = trust({"effect": "allow", "action": "sts:AssumeRole", "principal": {"qcs": ["qcs::cam::uin/1:root"]}})
    assert policy.trusted_services(document) == set()


# -- properties ------------------------------------------------------------------------------------------------

ACTIONS = ["cos:GetObject", "cos:PutObject", "cos:DeleteObject", "cos:GetService", "kms:Decrypt", "cam:ListUsers"]
ACTION_PATTERNS = [
    "*",
    "name/cos:*",
    "cos:Get*",
    "name/cos:PutObject",
    "kms:*",
    "name/kms:Decrypt",
    "cam:List*",
    "COS:GETOBJECT",
    "cos:DeleteObject",
]
RESOURCES = [obj("a.txt"), obj("uploads/b.txt"), obj("a.txt", region="ap-shanghai"), obj("x", bucket="b-1250000000")]
RESOURCE_PATTERNS = [
    "*",
    obj("*"),
    obj("uploads/*"),
    obj("a.txt"),
    f"qcs::cos::uid/1250000000:{BUCKET}/*",
    obj("a.txt", region="ap-shanghai"),
    "qcs::kms:*",
]

statements = st.builds(
    statement,
    effect=st.sampled_from(["allow", "deny"]),
    action=st.one_of(st.sampled_from(ACTION_PATTERNS), st.lists(st.sampled_from(ACTION_PATTERNS), min_size=1)),
    resource=st.one_of(st.sampled_from(RESOURCE_PATTERNS), st.lists(st.sampled_from(RESOURCE_PATTERNS), min_size=1)),
)
documents = st.lists(st.lists(statements, min_size=1, max_size=4).map(lambda s: document(*s)), max_size=4)
actions = st.sampled_from(ACTIONS)
resources = st.sampled_from(RESOURCES)
# Text without the wildcards `*` and `?` (and without newlines, which have their own example test above), with
# regex metacharacters.
literal_text = st.text(st.characters(blacklist_characters="*?\n", blacklist_categories=["Cs"]), min_size=1)
action_names = st.from_regex(r"(name/)?[a-zA-Z]{1,5}:[a-zA-Z.()\[\]+$^|{}]{1,12}", fullmatch=True)


@pure
@given(documents, actions, resources, st.booleans())
def test_adding_a_matching_deny_statement_always_denies(docs, action, resource, appended):
    deny = document(statement("deny", action, resource))
    assert not policy.is_allowed([*docs, deny] if appended else [deny, *docs], action, resource)


@pure
@given(documents, statements, actions, resources)
def test_adding_any_deny_statement_never_turns_a_denied_request_into_an_allowed_one(docs, extra, action, resource):
    before = policy.is_allowed(docs, action, resource)
    after = policy.is_allowed([*docs, document({**extra, "effect": "deny"})], action, resource)
    assert after <= before


@pure
@given(documents, actions, resources)
def test_the_order_of_documents_does_not_change_the_answer(docs, action, resource):
    assert policy.is_allowed(docs, action, resource) == policy.is_allowed(list(reversed(docs)), action, resource)


@pure
@given(documents, actions, resources)
def test_only_deny_statements_never_allow(docs, action, resource):
    only_denies = [document(*[{**s, "effect": "deny"} for s in d["statement"]]) for d in docs]
    assert not policy.is_allowed(only_denies, action, resource)


@pure
@given(st.text(min_size=1), st.text())
def test_a_star_allow_allows_every_action_on_every_resource(action, resource):
    assert policy.is_allowed([document(statement(action="*", resource="*"))], action, resource)


@pure
@given(literal_text)
def test_a_literal_action_pattern_matches_itself(text):
    assert policy.action_matches(text, text)


@pure
@given(action_names, action_names)
def test_a_literal_action_pattern_matches_exactly_the_same_name_in_any_case(pattern, action):
    same = pattern.removeprefix("name/").lower() == action.removeprefix("name/").lower()
    assert policy.action_matches(pattern, action) is same


@pure
@given(literal_text)
def test_a_literal_resource_pattern_matches_itself(text):
    assert policy.resource_matches(text, text)


@pure
@given(literal_text.filter(lambda t: ":" not in t), literal_text.filter(lambda t: ":" not in t))
def test_a_literal_resource_pattern_matches_exactly_itself(pattern, resource):
    assert policy.resource_matches(pattern, resource) is (pattern == resource)


@pure
@given(literal_text, literal_text)
def test_a_literal_key_pattern_matches_exactly_that_key(key, other):
    assert policy.resource_matches(obj(key), obj(other)) is (key == other)


@pure
@given(st.text(st.characters(blacklist_categories=["Cs"])))
def test_a_bucket_wide_pattern_matches_every_key_of_the_bucket(key):
    assert policy.resource_matches(obj("*"), obj(key))
