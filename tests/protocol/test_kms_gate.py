"""KMS over the real tencentcloud KMS client, held to CAM policies on each key's real resource
(`qcs::kms:<region>:uin/<owner>:key/creatorUin/<creator>/<KeyId>`): Decrypt and ReEncrypt by the key inside the
ciphertext, batch actions key by key, and policy conditions tested against the request's own context."""

import base64

import pytest

from tests.live import REGION
from tests.protocol.api3 import (
    DENIED,
    SubUsers,
    activate_kms,
    allow,
    call,
    code_of,
    deny,
    kms_for,
    root_uin,
    unique,
)


@pytest.fixture(scope="module")
def root_kms(kinko):
    activate_kms(kinko)
    return kms_for(kinko)


@pytest.fixture
def users(kinko) -> SubUsers:
    made = SubUsers(kinko)
    yield made
    made.cleanup()


def new_key(kms) -> str:
    return call(kms, "CreateKey", Alias=unique("gate")).KeyId


@pytest.fixture(scope="module")
def resource_of(kinko):
    """The CAM resource of a key, as a policy author writes it from DescribeKey and the account's uin."""
    owner = root_uin(kinko)

    def of(kms, key_id: str) -> str:
        meta = call(kms, "DescribeKey", KeyId=key_id).KeyMetadata
        return f"qcs::kms:{REGION}:uin/{owner}:key/creatorUin/{meta.CreatorUinString}/{key_id}"

    return of


def encrypt(kms, key_id: str, plaintext: bytes = b"secret") -> str:
    return call(kms, "Encrypt", KeyId=key_id, Plaintext=base64.b64encode(plaintext).decode()).CiphertextBlob


def state(kms, key_id: str) -> str:
    return call(kms, "DescribeKey", KeyId=key_id).KeyMetadata.KeyState


@pytest.fixture(scope="module")
def keys(root_kms) -> dict[str, str]:
    """Two fresh CMKs of the root: `a` (the one a policy denies) and `b`."""
    return {"a": new_key(root_kms), "b": new_key(root_kms)}


@pytest.fixture
def denied_a(users, root_kms, keys, resource_of):
    """A sub-user allowed kms:* everywhere except an explicit deny on key a."""
    return users.create(deny("kms:*", resource_of(root_kms, keys["a"])), allow("kms:*"))


# -- an explicit deny on a CMK holds ------------------------------------------------------------------------------


def test_an_explicit_deny_on_a_key_refuses_decrypt_of_its_ciphertext(denied_a, root_kms, keys):
    blob = encrypt(root_kms, keys["a"])
    assert code_of(denied_a.kms(), "Decrypt", CiphertextBlob=blob) == DENIED


def test_an_explicit_deny_on_one_key_leaves_decrypt_of_another_allowed(denied_a, root_kms, keys):
    blob = encrypt(root_kms, keys["b"], b"fine")
    assert base64.b64decode(call(denied_a.kms(), "Decrypt", CiphertextBlob=blob).Plaintext) == b"fine"


def test_an_explicit_deny_on_a_key_refuses_re_encrypt_into_it(denied_a, root_kms, keys):
    blob = encrypt(root_kms, keys["b"])
    assert code_of(denied_a.kms(), "ReEncrypt", CiphertextBlob=blob, DestinationKeyId=keys["a"]) == DENIED


def test_an_explicit_deny_on_a_key_refuses_re_encrypt_out_of_it(denied_a, root_kms, keys):
    blob = encrypt(root_kms, keys["a"])
    assert code_of(denied_a.kms(), "ReEncrypt", CiphertextBlob=blob, DestinationKeyId=keys["b"]) == DENIED


def test_a_deny_of_decrypt_on_a_key_also_refuses_re_encrypting_its_ciphertext(users, root_kms, keys, resource_of):
    """ReEncrypt from a into a key the caller may decrypt with would hand out a's plaintext one step later."""
    user = users.create(deny("name/kms:Decrypt", resource_of(root_kms, keys["a"])), allow("kms:*"))
    blob = encrypt(root_kms, keys["a"])
    assert code_of(user.kms(), "ReEncrypt", CiphertextBlob=blob, DestinationKeyId=keys["b"]) == DENIED


def test_an_explicit_deny_on_a_key_refuses_describe_keys_naming_it(denied_a, keys):
    assert code_of(denied_a.kms(), "DescribeKeys", KeyIds=[keys["b"], keys["a"]]) == DENIED


def test_an_explicit_deny_on_a_key_refuses_disable_keys_naming_it_and_changes_nothing(denied_a, root_kms, keys):
    assert code_of(denied_a.kms(), "DisableKeys", KeyIds=[keys["b"], keys["a"]]) == DENIED
    assert state(root_kms, keys["b"]) == "Enabled"
    assert state(root_kms, keys["a"]) == "Enabled"


def test_an_explicit_deny_on_a_key_refuses_enable_keys_naming_it(denied_a, root_kms, keys):
    key = new_key(root_kms)
    call(root_kms, "DisableKey", KeyId=key)
    user = denied_a
    assert code_of(user.kms(), "EnableKeys", KeyIds=[key, keys["a"]]) == DENIED
    assert state(root_kms, key) == "Disabled"


# -- an allow limited to one key grants that key -------------------------------------------------------------------


def test_an_allow_of_decrypt_on_one_key_grants_decrypt_of_its_ciphertext(users, root_kms, keys, resource_of):
    user = users.create(allow("name/kms:Decrypt", resource_of(root_kms, keys["b"])))
    blob = encrypt(root_kms, keys["b"], b"granted")
    assert base64.b64decode(call(user.kms(), "Decrypt", CiphertextBlob=blob).Plaintext) == b"granted"


def test_an_allow_of_decrypt_on_one_key_does_not_grant_another(users, root_kms, keys, resource_of):
    user = users.create(allow("name/kms:Decrypt", resource_of(root_kms, keys["b"])))
    assert code_of(user.kms(), "Decrypt", CiphertextBlob=encrypt(root_kms, keys["a"])) == DENIED


def test_an_allow_of_describe_keys_on_each_named_key_grants_the_batch(users, root_kms, keys, resource_of):
    user = users.create(
        allow("name/kms:DescribeKeys", [resource_of(root_kms, keys["a"]), resource_of(root_kms, keys["b"])])
    )
    reply = call(user.kms(), "DescribeKeys", KeyIds=[keys["a"], keys["b"]])
    assert [meta.KeyId for meta in reply.KeyMetadatas] == [keys["a"], keys["b"]]


def test_an_allow_in_another_region_does_not_grant_the_key(users, root_kms, keys, resource_of):
    elsewhere = resource_of(root_kms, keys["b"]).replace(f":{REGION}:", ":ap-shanghai:")
    user = users.create(allow("name/kms:DescribeKey", elsewhere))
    assert code_of(user.kms(), "DescribeKey", KeyId=keys["b"]) == DENIED


def test_an_allow_of_re_encrypt_on_both_keys_with_decrypt_and_encrypt_grants_it(users, root_kms, keys, resource_of):
    source, destination = resource_of(root_kms, keys["a"]), resource_of(root_kms, keys["b"])
    user = users.create(
        allow("name/kms:ReEncrypt", [source, destination]),
        allow("name/kms:Decrypt", source),
        allow("name/kms:Encrypt", destination),
    )
    reply = call(user.kms(), "ReEncrypt", CiphertextBlob=encrypt(root_kms, keys["a"]), DestinationKeyId=keys["b"])
    assert reply.KeyId == keys["b"]
    assert reply.SourceKeyId == keys["a"]


# -- conditions see the request ----------------------------------------------------------------------------------


def test_an_ip_condition_allows_a_call_from_inside_the_range(users, root_kms):
    user = users.create(allow("name/kms:ListKeys", condition={"ip_equal": {"qcs:ip": ["127.0.0.1/32"]}}))
    assert call(user.kms(), "ListKeys").TotalCount >= 1


def test_an_ip_condition_refuses_a_call_from_outside_the_range(users, root_kms):
    user = users.create(allow("name/kms:ListKeys", condition={"ip_equal": {"qcs:ip": ["10.0.0.0/8"]}}))
    assert code_of(user.kms(), "ListKeys") == DENIED


def test_a_secure_transport_condition_refuses_a_plain_http_call(users, root_kms):
    user = users.create(allow("name/kms:ListKeys", condition={"bool_equal": {"qcs:secure_transport": "true"}}))
    assert code_of(user.kms(), "ListKeys") == DENIED
