"""Fixtures of the JSON API tests (helpers: tests/console/jsonapi_support.py), one set per test module."""

import pytest
from tencentcloud.cam.v20190116 import cam_client

from tests.console.jsonapi_support import Api, custom_policy, ok, sub_user
from tests.protocol.api3 import cam_for


@pytest.fixture(scope="module")
def api(kinko) -> Api:
    """The JSON API as the account's root."""
    return Api.root(kinko)


@pytest.fixture(scope="module")
def default_keys(api) -> dict[str, str]:
    """The KMS activated: its default key in each KMS region."""
    return ok(api.post("/kms/activate/"))["default_keys"]


@pytest.fixture(scope="module")
def cam(kinko) -> cam_client.CamClient:
    """The CAM SDK as the root."""
    return cam_for(kinko)


@pytest.fixture(scope="module")
def make_user(kinko, api, cam):
    """make_user(*statements) → (Api as a new sub-user whose one custom policy has these statements, or who has no
    policy at all without statements; the user as answered)."""

    def make(*statements: dict) -> tuple[Api, dict]:
        return sub_user(kinko, api, [custom_policy(cam, *statements)] if statements else [])

    return make
