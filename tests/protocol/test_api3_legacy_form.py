"""Legacy (v1) form parameters are flattened (`Tags.0.TagKey=k`); a name sent both as a value and with fields
under it is the caller's InvalidParameter, in either order, never a server error. Found by test_fuzz_api3.py."""

import pytest

from tests.fuzzing import LogWatch, no_traceback
from tests.protocol.api3 import legacy_post


@pytest.mark.parametrize(
    "params",
    [
        {"Tags": "1", "Tags.0.TagKey": "k"},
        {"Tags.0.TagKey": "k", "Tags": "1"},
        {"Tags.0": "v", "Tags.0.TagKey": "k"},
    ],
    ids=["value-then-fields", "fields-then-value", "item-value-then-fields"],
)
def test_a_parameter_given_as_a_value_and_with_fields_is_an_invalid_parameter(kinko, params):
    log = LogWatch(kinko.log_path)
    response = legacy_post(kinko, "kms", "ListKeys", params)
    assert response.status_code == 200
    assert response.json()["Response"]["Error"]["Code"] == "InvalidParameter"
    assert no_traceback(log.new())


def test_flattened_parameters_still_reach_the_action(kinko):
    response = legacy_post(
        kinko, "cam", "DescribeRoleList", {"Page": "1", "Rp": "1", "Tags.0.Key": "k", "Tags.0.Value": "v"}
    )
    assert "Error" not in response.json()["Response"], response.text
