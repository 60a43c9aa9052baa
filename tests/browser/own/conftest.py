"""Browser tests against a Kinko of each module's own, for tests that change what the session's server must keep
(its KMS starts off, its overview has no history): these fixtures replace the session's `kinko`, `operator` and
`cos` for every module in this folder."""

import uuid

import pytest
from tencentcloud.kms.v20190118 import kms_client

from tests.browser.conftest import manage_env
from tests.live import cos_client, manage_py, running_kinko
from tests.protocol.api3 import kms_for

OPERATOR = ("own-operator", f"own-{uuid.uuid4().hex}")


@pytest.fixture(scope="module")
def kinko(tmp_path_factory):
    """A server of this module's own: its KMS starts off and its overview has no history yet."""
    with running_kinko(tmp_path_factory.mktemp("own-kinko-data"), workers=1, threads=4) as server:
        yield server


@pytest.fixture(scope="module")
def operator(kinko) -> tuple[str, str]:
    script = (
        "from django.contrib.auth import get_user_model\n"
        f"user, _ = get_user_model().objects.get_or_create(username={OPERATOR[0]!r})\n"
        "user.is_staff = user.is_superuser = user.is_active = True\n"
        f"user.set_password({OPERATOR[1]!r})\n"
        "user.save()"
    )
    manage_py(manage_env(kinko), "shell", "--verbosity", "0", "-c", script)
    return OPERATOR


@pytest.fixture(scope="module")
def cos(kinko):
    return cos_client(kinko)


@pytest.fixture(scope="module")
def kms(kinko) -> kms_client.KmsClient:
    return kms_for(kinko)
