"""The KMS over API 3.0, driven by the unmodified tencentcloud-sdk-python-kms against a live Kinko
(tc3-kms-cam.md §1-§4, PRODUCT.md error contract): every action in keys/api.py, its error codes, the signature
methods and the response envelope."""

import base64
import datetime
import hashlib
import hmac
import json
import os
import time
import types
import uuid

import pytest
import requests
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from tencentcloud.common import abstract_client, credential
from tencentcloud.common.exception.tencent_cloud_sdk_exception import TencentCloudSDKException
from tencentcloud.common.profile.client_profile import ClientProfile
from tencentcloud.common.profile.http_profile import HttpProfile
from tencentcloud.kms.v20190118 import kms_client, models

from tests.live import LiveKinko, manage_py, node_env, running_kinko

REGION = "ap-guangzhou"
KMS_VERSION = "2019-01-18"
WRAPPINGS = {
    "RSAES_PKCS1_V1_5": padding.PKCS1v15(),
    "RSAES_OAEP_SHA_1": padding.OAEP(mgf=padding.MGF1(hashes.SHA1()), algorithm=hashes.SHA1(), label=None),  # noqa: S303
    "RSAES_OAEP_SHA_256": padding.OAEP(mgf=padding.MGF1(hashes.SHA256()), algorithm=hashes.SHA256(), label=None),
}
BEIJING = datetime.timezone(datetime.timedelta(hours=8))

# Every plaintext, data key and key material this module sends or receives: none may show up in the server log.
SECRETS: list[bytes] = []


def remember(value: bytes) -> bytes:
    """Note a secret for the log check; values under 16 bytes would match the log by chance, so they are not."""
    if len(value) >= 16:
        SECRETS.append(value)
    return value


def secret(n: int = 32) -> bytes:
    return remember(os.urandom(n))


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def forms_of(value: bytes) -> list[bytes]:
    return [value, b64(value).encode(), value.hex().encode()]


# -- clients and calls ---------------------------------------------------------------------------------------


def client_for(
    server: LiveKinko,
    *,
    secret_id: str | None = None,
    secret_key: str | None = None,
    region: str = REGION,
    sign_method: str | None = None,
    req_method: str = "POST",
) -> kms_client.KmsClient:
    http = HttpProfile(protocol="http", endpoint=f"127.0.0.1:{server.port}", reqMethod=req_method)
    profile = ClientProfile(signMethod=sign_method, httpProfile=http)
    cred = credential.Credential(secret_id or server.secret_id, secret_key or server.secret_key)
    return kms_client.KmsClient(cred, region, profile)


def call(client: kms_client.KmsClient, action: str, **params) -> dict:
    """The SDK's own method and models for `action`; the response as the dict the SDK parsed."""
    request = getattr(models, f"{action}Request")()
    request.from_json_string(json.dumps(params))
    return json.loads(getattr(client, action)(request).to_json_string())


def failure(client: kms_client.KmsClient, action: str, **params) -> TencentCloudSDKException:
    with pytest.raises(TencentCloudSDKException) as err:
        call(client, action, **params)
    return err.value


def code(client: kms_client.KmsClient, action: str, **params) -> str:
    return failure(client, action, **params).code


def alias() -> str:
    return f"t{uuid.uuid4().hex[:20]}"


# -- a raw signer, for what the SDK hides (status, headers, exact bodies) --------------------------------------


def _hmac(key: bytes, message: str) -> bytes:
    return hmac.new(key, message.encode(), hashlib.sha256).digest()


def raw_call(
    server: LiveKinko,
    action: str,
    body: bytes,
    *,
    version: str = KMS_VERSION,
    service: str = "kms",
    timestamp: int | None = None,
) -> requests.Response:
    """A TC3-signed POST written from the spec (§2.2), independent of the SDK and of the server's code."""
    host, content_type = f"127.0.0.1:{server.port}", "application/json"
    timestamp = int(time.time()) if timestamp is None else timestamp
    date = datetime.datetime.fromtimestamp(timestamp, datetime.UTC).strftime("%Y-%m-%d")
    canonical = (
        f"POST\n/\n\ncontent-type:{content_type}\nhost:{host}\n\ncontent-type;host\n{hashlib.sha256(body).hexdigest()}"
    )
    scope = f"{date}/{service}/tc3_request"
    to_sign = f"TC3-HMAC-SHA256\n{timestamp}\n{scope}\n{hashlib.sha256(canonical.encode()).hexdigest()}"
    key = _hmac(_hmac(_hmac(("TC3" + server.secret_key).encode(), date), service), "tc3_request")
    signature = hmac.new(key, to_sign.encode(), hashlib.sha256).hexdigest()
    headers = {
        "Content-Type": content_type,
        "Host": host,
        "X-TC-Action": action,
        "X-TC-Version": version,
        "X-TC-Timestamp": str(timestamp),
        "X-TC-Region": REGION,
        "Authorization": f"TC3-HMAC-SHA256 Credential={server.secret_id}/{scope}, "
        f"SignedHeaders=content-type;host, Signature={signature}",
    }
    return requests.post(f"{server.url}/", data=body, headers=headers, timeout=10)


def raw_json(server: LiveKinko, action: str, params: dict, **options) -> requests.Response:
    return raw_call(server, action, json.dumps(params).encode(), **options)


# -- servers -------------------------------------------------------------------------------------------------


def _activate(data_dir) -> dict[str, str]:
    return json.loads(manage_py(node_env(data_dir), "activate_kms", "--json"))["DefaultKeys"]


@pytest.fixture(scope="module")
def default_keys(kinko) -> dict[str, str]:
    """The KMS of the session server, activated once (idempotent: another module may have done it already)."""
    return _activate(kinko.data_dir)


@pytest.fixture(scope="module")
def kms(kinko, default_keys) -> kms_client.KmsClient:
    return client_for(kinko)


@pytest.fixture(scope="module")
def unactivated(tmp_path_factory) -> LiveKinko:
    """A second server with its own data dir whose KMS nobody activated."""
    with running_kinko(tmp_path_factory.mktemp("kinko-unactivated"), https=False, workers=1, threads=2) as server:
        yield server


# -- keys ----------------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def key(kms) -> str:
    """An enabled key shared by the tests that do not change it (the region allows 200 keys per account)."""
    return new_key(kms)


@pytest.fixture(scope="module")
def other_key(kms) -> str:
    """A second enabled key nobody changes."""
    return new_key(kms)


def new_key(kms, **params) -> str:
    return call(kms, "CreateKey", Alias=alias(), **params)["KeyId"]


def describe(kms, key_id: str) -> dict:
    return call(kms, "DescribeKey", KeyId=key_id)["KeyMetadata"]


def state(kms, key_id: str) -> str:
    return describe(kms, key_id)["KeyState"]


def encrypt(kms, key_id: str, plaintext: bytes, **params) -> str:
    return call(kms, "Encrypt", KeyId=key_id, Plaintext=b64(plaintext), **params)["CiphertextBlob"]


def decrypt(kms, blob: str, **params) -> bytes:
    return base64.b64decode(call(kms, "Decrypt", CiphertextBlob=blob, **params)["Plaintext"])


def disabled_key(kms) -> str:
    key_id = new_key(kms)
    call(kms, "DisableKey", KeyId=key_id)
    return key_id


def pending_delete_key(kms) -> str:
    key_id = disabled_key(kms)
    call(kms, "ScheduleKeyDeletion", KeyId=key_id, PendingWindowInDays=7)
    return key_id


def rotating_key(kms) -> str:
    key_id = new_key(kms)
    call(kms, "EnableKeyRotation", KeyId=key_id)
    return key_id


def bound_key(kms, key_id: str | None = None) -> str:
    key_id = key_id or new_key(kms)
    call(kms, "BindCloudResource", KeyId=key_id, ProductId="cos", ResourceId=f"bucket-{uuid.uuid4().hex[:8]}")
    return key_id


def wrap(public_key_b64: str, material: bytes, algorithm: str) -> str:
    public_key = serialization.load_der_public_key(base64.b64decode(public_key_b64))
    return b64(public_key.encrypt(material, WRAPPINGS[algorithm]))


def import_params(kms, key_id: str, algorithm: str = "RSAES_OAEP_SHA_256") -> dict:
    return call(kms, "GetParametersForImport", KeyId=key_id, WrappingAlgorithm=algorithm, WrappingKeySpec="RSA_2048")


def import_material(kms, key_id: str, material: bytes, algorithm: str = "RSAES_OAEP_SHA_256", valid_to: int = 0):
    params = import_params(kms, key_id, algorithm)
    return call(
        kms,
        "ImportKeyMaterial",
        KeyId=key_id,
        ImportToken=params["ImportToken"],
        EncryptedKeyMaterial=wrap(params["PublicKey"], material, algorithm),
        ValidTo=valid_to,
    )


def external_key(kms) -> str:
    return new_key(kms, Type=2)


def imported_key(kms) -> str:
    key_id = external_key(kms)
    import_material(kms, key_id, secret())
    return key_id


# -- activation and service status ---------------------------------------------------------------------------


def test_get_service_status_says_not_enabled_before_activation(unactivated):
    assert call(client_for(unactivated), "GetServiceStatus")["ServiceEnabled"] is False


@pytest.mark.parametrize(
    ("action", "params"),
    [
        ("ListKeys", {}),
        ("ListKeyDetail", {}),
        ("CreateKey", {"Alias": "before-activation"}),
        ("DescribeKey", {"KeyId": "23e80852-1e38-11e9-b129-5cb9019b4b01"}),
        ("Encrypt", {"KeyId": "23e80852-1e38-11e9-b129-5cb9019b4b01", "Plaintext": "aGVsbG8="}),
        ("GenerateRandom", {"NumberOfBytes": 16}),
    ],
)
def test_actions_before_activation_fail_with_service_not_enabled(unactivated, action, params):
    assert code(client_for(unactivated), action, **params) == "ResourceUnavailable.ServiceNotEnabled"


def test_get_service_status_says_enabled_after_activation(kms):
    status = call(kms, "GetServiceStatus")
    assert (status["ServiceEnabled"], status["InvalidType"], status["CmkLimit"]) == (True, 1, 200)


def test_each_kms_region_has_its_default_key(kinko, default_keys):
    found = {
        region: describe(client_for(kinko, region=region), key_id)["KeyState"]
        for region, key_id in default_keys.items()
    }
    assert found == dict.fromkeys(default_keys, "Enabled")


def test_default_keys_are_owned_by_cos_not_the_user(kms, default_keys):
    assert describe(kms, default_keys[REGION])["Owner"] != "user"


def test_a_region_outside_the_kms_regions_is_refused(kinko, default_keys):
    assert code(client_for(kinko, region="ap-singapore"), "ListKeys") == "UnsupportedRegion"


def test_get_regions_lists_the_kms_regions(kms, default_keys):
    assert sorted(call(kms, "GetRegions")["Regions"]) == sorted(default_keys)


# -- CreateKey -----------------------------------------------------------------------------------------------


def test_create_key_type_1_makes_an_enabled_kms_key(kms):
    name = alias()
    created = call(kms, "CreateKey", Alias=name, Description="desc", Type=1)
    assert (created["Alias"], created["Description"], created["KeyState"], created["KeyUsage"]) == (
        name,
        "desc",
        "Enabled",
        "ENCRYPT_DECRYPT",
    )
    assert describe(kms, created["KeyId"])["Origin"] == "TENCENT_KMS"


def test_create_key_type_2_makes_an_external_key_pending_import(kms):
    key_id = new_key(kms, Type=2)
    metadata = describe(kms, key_id)
    assert (metadata["KeyState"], metadata["Origin"]) == ("PendingImport", "EXTERNAL")


def test_create_key_with_an_alias_in_use_fails(kms):
    name = alias()
    call(kms, "CreateKey", Alias=name)
    assert code(kms, "CreateKey", Alias=name) == "InvalidParameterValue.AliasAlreadyExists"


def test_the_same_alias_may_be_used_in_another_region(kinko, kms):
    name = alias()
    call(kms, "CreateKey", Alias=name)
    assert call(client_for(kinko, region="ap-shanghai"), "CreateKey", Alias=name)["Alias"] == name


@pytest.mark.parametrize(
    "bad",
    [
        "",
        "-leading-dash",
        "_leading_underscore",
        "has space",
        "dot.ted",
        "x" * 61,
        "kms-reserved",
        "KMS-reserved",
        "ünicode",
    ],
)
def test_create_key_with_an_invalid_alias_fails(kms, bad):
    assert code(kms, "CreateKey", Alias=bad) == "InvalidParameterValue.InvalidAlias"


@pytest.mark.parametrize("prefix", ["9-lives-", "A_b-C_", "x" * 52])
def test_create_key_accepts_aliases_of_letters_digits_dashes_and_underscores_up_to_60(kms, prefix):
    name = prefix + uuid.uuid4().hex[:8]
    assert call(kms, "CreateKey", Alias=name)["Alias"] == name


def test_create_key_accepts_a_one_character_alias(kinko, default_keys):
    assert call(client_for(kinko, region="ap-hongkong"), "CreateKey", Alias="Z")["Alias"] == "Z"


def test_create_key_with_an_unknown_type_fails(kms):
    assert code(kms, "CreateKey", Alias=alias(), Type=3) == "InvalidParameterValue.InvalidType"


def test_create_key_with_an_asymmetric_usage_fails(kms):
    assert code(kms, "CreateKey", Alias=alias(), KeyUsage="ASYMMETRIC_DECRYPT_RSA_2048") == (
        "InvalidParameterValue.InvalidKeyUsage"
    )


def test_create_key_without_an_alias_fails_with_missing_parameter(kms):
    assert code(kms, "CreateKey", Description="no alias") == "MissingParameter"


# -- DescribeKey(s) ------------------------------------------------------------------------------------------


def test_describe_key_returns_the_key_metadata(kms):
    name = alias()
    created = call(kms, "CreateKey", Alias=name, Description="new desc ü")
    metadata = describe(kms, created["KeyId"])
    expected = {
        "KeyId": created["KeyId"],
        "Alias": name,
        "Description": "new desc ü",
        "CreateTime": created["CreateTime"],
        "KeyState": "Enabled",
        "KeyUsage": "ENCRYPT_DECRYPT",
        "Owner": "user",
        "KeyRotationEnabled": False,
        "DeletionDate": 0,
        "ValidTo": 0,
        "Origin": "TENCENT_KMS",
        "ResourceId": f"creatorUin/{metadata['CreatorUin']}/{created['KeyId']}",
    }
    assert {field: metadata[field] for field in expected} == expected


def test_describe_key_gives_the_creator_uin_as_a_number_and_a_string(kms, key):
    metadata = describe(kms, key)
    assert (isinstance(metadata["CreatorUin"], int), metadata["CreatorUinString"]) == (
        True,
        str(metadata["CreatorUin"]),
    )


def test_describe_key_shows_a_next_rotate_time_a_year_after_creation(kms, key):
    metadata = describe(kms, key)
    assert metadata["NextRotateTime"] - metadata["CreateTime"] == 365 * 86400


def test_describe_key_of_an_unknown_key_fails_with_cmk_not_found(kms):
    assert code(kms, "DescribeKey", KeyId=str(uuid.uuid4())) == "ResourceUnavailable.CmkNotFound"


def test_describe_key_of_a_malformed_key_id_fails_with_invalid_key_id(kms):
    assert code(kms, "DescribeKey", KeyId="not-a-key-id") == "InvalidParameterValue.InvalidKeyId"


def test_a_key_is_not_found_from_another_region(kinko, kms, key):
    key_id = key
    assert code(client_for(kinko, region="ap-shanghai"), "DescribeKey", KeyId=key_id) == (
        "ResourceUnavailable.CmkNotFound"
    )


def test_describe_keys_returns_the_keys_in_the_order_asked(kms, key, other_key):
    first, second = key, other_key
    found = call(kms, "DescribeKeys", KeyIds=[second, first])["KeyMetadatas"]
    assert [metadata["KeyId"] for metadata in found] == [second, first]


def test_describe_keys_with_a_duplicated_key_id_fails(kms, key):
    key_id = key
    assert code(kms, "DescribeKeys", KeyIds=[key_id, key_id]) == "InvalidParameterValue.DuplicatedKeyId"


def test_describe_keys_with_an_unknown_key_fails(kms, key):
    assert code(kms, "DescribeKeys", KeyIds=[key, str(uuid.uuid4())]) == "ResourceUnavailable.CmkNotFound"


# -- ListKeys and ListKeyDetail ------------------------------------------------------------------------------


def listed_key_ids(kms, **params) -> list[str]:
    found, offset = [], 0
    while True:
        page = call(kms, "ListKeys", Offset=offset, Limit=200, **params)
        found += [key["KeyId"] for key in page["Keys"]]
        offset += 200
        if offset >= page["TotalCount"]:
            return found


def test_list_keys_lists_an_enabled_key(kms, key):
    assert key in listed_key_ids(kms)


def test_list_keys_lists_disabled_and_pending_import_keys(kms):
    disabled, pending_import = disabled_key(kms), external_key(kms)
    listed = listed_key_ids(kms)
    assert (disabled in listed, pending_import in listed) == (True, True)


def test_list_keys_leaves_out_keys_pending_deletion(kms):
    assert pending_delete_key(kms) not in listed_key_ids(kms)


def test_list_keys_leaves_out_archived_keys(kms):
    key_id = new_key(kms)
    call(kms, "ArchiveKey", KeyId=key_id)
    assert key_id not in listed_key_ids(kms)


def test_list_keys_role_0_lists_user_keys_only(kms, default_keys):
    listed = listed_key_ids(kms, Role=0)
    assert default_keys[REGION] not in listed


def test_list_keys_role_1_lists_keys_created_by_cloud_products(kms, default_keys):
    assert default_keys[REGION] in listed_key_ids(kms, Role=1)


def test_list_keys_pages_with_offset_and_limit(kms, key, other_key):
    everything = listed_key_ids(kms)
    pages = [call(kms, "ListKeys", Offset=offset, Limit=1) for offset in range(3)]
    assert [page["Keys"][0]["KeyId"] for page in pages] == everything[:3]
    assert {page["TotalCount"] for page in pages} == {len(everything)}


@pytest.fixture(scope="module")
def detail(kms) -> types.SimpleNamespace:
    """Three keys under one unique alias prefix: enabled (env=dev), disabled (env=prod), external (no tags)."""
    prefix = f"ld{uuid.uuid4().hex[:10]}"
    enabled = call(kms, "CreateKey", Alias=f"{prefix}-a", Tags=[{"TagKey": "env", "TagValue": "dev"}])["KeyId"]
    disabled = call(
        kms,
        "CreateKey",
        Alias=f"{prefix}-b",
        Tags=[{"TagKey": "env", "TagValue": "prod"}, {"TagKey": "team", "TagValue": "kms"}],
    )["KeyId"]
    call(kms, "DisableKey", KeyId=disabled)
    external = call(kms, "CreateKey", Alias=f"{prefix}-c", Type=2)["KeyId"]
    return types.SimpleNamespace(prefix=prefix, enabled=enabled, disabled=disabled, external=external)


def detail_ids(kms, detail, **params) -> list[str]:
    found = call(kms, "ListKeyDetail", SearchKeyAlias=detail.prefix, **params)
    return [metadata["KeyId"] for metadata in found["KeyMetadatas"]]


def test_list_key_detail_finds_keys_by_alias_fragment_newest_first(kms, detail):
    assert detail_ids(kms, detail) == [detail.external, detail.disabled, detail.enabled]


def test_list_key_detail_order_type_1_lists_oldest_first(kms, detail):
    assert detail_ids(kms, detail, OrderType=1) == [detail.enabled, detail.disabled, detail.external]


def test_list_key_detail_finds_a_key_by_its_key_id(kms, detail):
    found = call(kms, "ListKeyDetail", SearchKeyAlias=detail.disabled)["KeyMetadatas"]
    assert [metadata["KeyId"] for metadata in found] == [detail.disabled]


@pytest.mark.parametrize(("key_state", "which"), [(1, "enabled"), (2, "disabled"), (4, "external")])
def test_list_key_detail_filters_by_key_state(kms, detail, key_state, which):
    assert detail_ids(kms, detail, KeyState=key_state) == [getattr(detail, which)]


def test_list_key_detail_filters_by_origin_external(kms, detail):
    assert detail_ids(kms, detail, Origin="EXTERNAL") == [detail.external]


def test_list_key_detail_filters_by_origin_tencent_kms(kms, detail):
    assert detail_ids(kms, detail, Origin="TENCENT_KMS") == [detail.disabled, detail.enabled]


@pytest.mark.parametrize("usage", ["", "ALL", "ENCRYPT_DECRYPT"])
def test_list_key_detail_lists_symmetric_keys_for_an_empty_all_or_symmetric_usage(kms, detail, usage):
    assert len(detail_ids(kms, detail, KeyUsage=usage)) == 3


def test_list_key_detail_filters_by_an_asymmetric_usage(kms, detail):
    assert detail_ids(kms, detail, KeyUsage="ASYMMETRIC_DECRYPT_RSA_2048") == []


@pytest.mark.parametrize(
    ("tag_filters", "which"),
    [
        ([{"TagKey": "env", "TagValue": ["dev"]}], ["enabled"]),
        ([{"TagKey": "env", "TagValue": ["dev", "prod"]}], ["disabled", "enabled"]),
        ([{"TagKey": "env"}], ["disabled", "enabled"]),
        ([{"TagKey": "env", "TagValue": ["prod"]}, {"TagKey": "team", "TagValue": ["kms"]}], ["disabled"]),
        ([{"TagKey": "env", "TagValue": ["dev"]}, {"TagKey": "team"}], []),
        ([{"TagKey": "owner"}], []),
    ],
)
def test_list_key_detail_filters_by_tags(kms, detail, tag_filters, which):
    assert detail_ids(kms, detail, TagFilters=tag_filters) == [getattr(detail, name) for name in which]


def test_list_key_detail_pages_with_offset_and_limit(kms, detail):
    first = call(kms, "ListKeyDetail", SearchKeyAlias=detail.prefix, Offset=0, Limit=2)
    second = call(kms, "ListKeyDetail", SearchKeyAlias=detail.prefix, Offset=2, Limit=2)
    assert [m["KeyId"] for m in first["KeyMetadatas"] + second["KeyMetadatas"]] == [
        detail.external,
        detail.disabled,
        detail.enabled,
    ]
    assert (first["TotalCount"], second["TotalCount"]) == (3, 3)


def test_list_key_detail_returns_full_metadata(kms, detail):
    found = call(kms, "ListKeyDetail", SearchKeyAlias=detail.disabled)["KeyMetadatas"][0]
    assert found == describe(kms, detail.disabled)


# -- Enable/DisableKey(s) ------------------------------------------------------------------------------------


def test_disable_key_disables_the_key(kms):
    assert state(kms, disabled_key(kms)) == "Disabled"


def test_enable_key_enables_a_disabled_key(kms):
    key_id = disabled_key(kms)
    call(kms, "EnableKey", KeyId=key_id)
    assert state(kms, key_id) == "Enabled"


def test_disable_keys_disables_every_key_listed(kms):
    keys = [new_key(kms), new_key(kms)]
    call(kms, "DisableKeys", KeyIds=keys)
    assert [state(kms, key_id) for key_id in keys] == ["Disabled", "Disabled"]


def test_enable_keys_enables_every_key_listed(kms):
    keys = [disabled_key(kms), disabled_key(kms)]
    call(kms, "EnableKeys", KeyIds=keys)
    assert [state(kms, key_id) for key_id in keys] == ["Enabled", "Enabled"]


def test_disable_keys_with_an_unknown_key_changes_nothing(kms):
    key_id = new_key(kms)
    assert code(kms, "DisableKeys", KeyIds=[key_id, str(uuid.uuid4())]) == "ResourceUnavailable.CmkNotFound"
    assert state(kms, key_id) == "Enabled"


def test_enable_keys_with_a_duplicated_key_id_fails(kms):
    key_id = disabled_key(kms)
    assert code(kms, "EnableKeys", KeyIds=[key_id, key_id]) == "InvalidParameterValue.DuplicatedKeyId"


def test_enable_key_of_a_key_pending_deletion_fails(kms):
    assert code(kms, "EnableKey", KeyId=pending_delete_key(kms)) == "ResourceUnavailable.CmkStateNotSupport"


# -- UpdateAlias and UpdateKeyDescription --------------------------------------------------------------------


def test_update_alias_renames_the_key(kms):
    key_id, name = new_key(kms), alias()
    call(kms, "UpdateAlias", KeyId=key_id, Alias=name)
    assert describe(kms, key_id)["Alias"] == name


def test_update_alias_to_an_alias_in_use_fails(kms, key):
    taken = call(kms, "CreateKey", Alias=alias())["Alias"]
    assert code(kms, "UpdateAlias", KeyId=key, Alias=taken) == "InvalidParameterValue.AliasAlreadyExists"


@pytest.mark.parametrize("bad", ["kms-mine", "-x", "has space", "x" * 61])
def test_update_alias_to_an_invalid_alias_fails(kms, key, bad):
    assert code(kms, "UpdateAlias", KeyId=key, Alias=bad) == "InvalidParameterValue.InvalidAlias"


def test_update_alias_of_a_key_pending_deletion_fails(kms):
    assert code(kms, "UpdateAlias", KeyId=pending_delete_key(kms), Alias=alias()) == "ResourceUnavailable.CmkNotFound"


def test_update_alias_of_a_cloud_product_key_fails(kms, default_keys):
    assert code(kms, "UpdateAlias", KeyId=default_keys[REGION], Alias=alias()) == (
        "UnsupportedOperation.NotUserCreatedCmk"
    )


def test_update_key_description_sets_a_non_ascii_description(kms):
    key_id = new_key(kms)
    call(kms, "UpdateKeyDescription", KeyId=key_id, Description="new desc ü")
    assert describe(kms, key_id)["Description"] == "new desc ü"


def test_update_key_description_over_1024_bytes_fails(kms, key):
    assert code(kms, "UpdateKeyDescription", KeyId=key, Description="ü" * 513) == "InvalidParameterValue"


def test_update_key_description_of_a_key_pending_deletion_fails(kms):
    assert code(kms, "UpdateKeyDescription", KeyId=pending_delete_key(kms), Description="x") == (
        "ResourceUnavailable.CmkNotFound"
    )


# -- GenerateDataKey -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("params", "size"),
    [
        ({"KeySpec": "AES_256"}, 32),
        ({"KeySpec": "AES_128"}, 16),
        ({"NumberOfBytes": 1}, 1),
        ({"NumberOfBytes": 1024}, 1024),
        ({"KeySpec": "AES_128", "NumberOfBytes": 48}, 48),
    ],
)
def test_generate_data_key_returns_a_data_key_of_the_asked_size(kms, key, params, size):
    data_key = call(kms, "GenerateDataKey", KeyId=key, **params)
    remember(base64.b64decode(data_key["Plaintext"]))
    assert len(base64.b64decode(data_key["Plaintext"])) == size


def test_generate_data_key_blob_decrypts_to_the_data_key(kms, key):
    key_id = key
    data_key = call(kms, "GenerateDataKey", KeyId=key_id, KeySpec="AES_256")
    remember(base64.b64decode(data_key["Plaintext"]))
    assert call(kms, "Decrypt", CiphertextBlob=data_key["CiphertextBlob"]) | {"RequestId": ""} == {
        "KeyId": key_id,
        "Plaintext": data_key["Plaintext"],
        "RequestId": "",
    }


def test_generate_data_key_with_a_context_needs_it_to_decrypt(kms, key):
    data_key = call(kms, "GenerateDataKey", KeyId=key, KeySpec="AES_256", EncryptionContext='{"a":"b"}')
    remember(base64.b64decode(data_key["Plaintext"]))
    assert code(kms, "Decrypt", CiphertextBlob=data_key["CiphertextBlob"]) == "InvalidParameterValue.InvalidCiphertext"


@pytest.mark.parametrize("number_of_bytes", [0, -1, 1025])
def test_generate_data_key_refuses_a_size_outside_1_to_1024(kms, key, number_of_bytes):
    assert code(kms, "GenerateDataKey", KeyId=key, NumberOfBytes=number_of_bytes) == "InvalidParameterValue"


def test_generate_data_key_without_key_spec_or_number_of_bytes_fails(kms, key):
    assert code(kms, "GenerateDataKey", KeyId=key) == "MissingParameter"


def test_generate_data_key_with_a_disabled_key_fails(kms):
    assert code(kms, "GenerateDataKey", KeyId=disabled_key(kms), KeySpec="AES_256") == "ResourceUnavailable.CmkDisabled"


def test_generate_data_key_with_a_key_pending_deletion_fails(kms):
    assert code(kms, "GenerateDataKey", KeyId=pending_delete_key(kms), KeySpec="AES_256") == (
        "ResourceUnavailable.KeyPendingDelete"
    )


# -- Encrypt and Decrypt -------------------------------------------------------------------------------------


def test_decrypt_returns_what_encrypt_encrypted(kms, key):
    key_id, plaintext = key, secret(100)
    assert decrypt(kms, encrypt(kms, key_id, plaintext)) == plaintext


def test_encrypt_and_decrypt_name_the_key(kms, key):
    key_id = key
    encrypted = call(kms, "Encrypt", KeyId=key_id, Plaintext=b64(secret()))
    assert (encrypted["KeyId"], call(kms, "Decrypt", CiphertextBlob=encrypted["CiphertextBlob"])["KeyId"]) == (
        key_id,
        key_id,
    )


def test_the_ciphertext_blob_does_not_contain_the_plaintext(kms, key):
    plaintext = secret()
    blob = encrypt(kms, key, plaintext)
    assert all(form not in base64.b64decode(blob) + blob.encode() for form in forms_of(plaintext))


def test_decrypt_with_the_encryption_context_returns_the_plaintext(kms, key):
    plaintext = secret()
    blob = encrypt(kms, key, plaintext, EncryptionContext='{"a":"b"}')
    assert decrypt(kms, blob, EncryptionContext='{"a":"b"}') == plaintext


def test_decrypt_with_a_different_encryption_context_fails(kms, key):
    blob = encrypt(kms, key, secret(), EncryptionContext='{"a":"b"}')
    assert code(kms, "Decrypt", CiphertextBlob=blob, EncryptionContext='{"a":"c"}') == (
        "InvalidParameterValue.InvalidCiphertext"
    )


def test_decrypt_without_the_encryption_context_fails(kms, key):
    blob = encrypt(kms, key, secret(), EncryptionContext='{"a":"b"}')
    assert code(kms, "Decrypt", CiphertextBlob=blob) == "InvalidParameterValue.InvalidCiphertext"


def test_decrypt_accepts_the_encryption_context_with_its_keys_reordered(kms, key):
    plaintext = secret()
    blob = encrypt(kms, key, plaintext, EncryptionContext='{"a": "1", "b": "2"}')
    assert decrypt(kms, blob, EncryptionContext='{"b":"2","a":"1"}') == plaintext


@pytest.mark.parametrize("context", ["not json", '["a", "b"]', '{"k": "' + "v" * 1020 + '"}'])
def test_encrypt_with_an_invalid_encryption_context_fails(kms, key, context):
    assert code(kms, "Encrypt", KeyId=key, Plaintext=b64(secret()), EncryptionContext=context) == ("InvalidParameter")


def test_encrypt_accepts_4096_bytes(kms, key):
    plaintext = secret(4096)
    assert decrypt(kms, encrypt(kms, key, plaintext)) == plaintext


@pytest.mark.parametrize("plaintext", [b64(b"x" * 4097), "not base64!"])
def test_encrypt_refuses_an_invalid_plaintext(kms, key, plaintext):
    assert code(kms, "Encrypt", KeyId=key, Plaintext=plaintext) == "InvalidParameterValue.InvalidPlaintext"


def test_encrypt_with_a_disabled_key_fails(kms):
    assert code(kms, "Encrypt", KeyId=disabled_key(kms), Plaintext=b64(secret())) == "ResourceUnavailable.CmkDisabled"


def test_decrypt_with_a_disabled_key_fails(kms):
    key_id = new_key(kms)
    blob = encrypt(kms, key_id, secret())
    call(kms, "DisableKey", KeyId=key_id)
    assert code(kms, "Decrypt", CiphertextBlob=blob) == "ResourceUnavailable.CmkDisabled"


def test_encrypt_with_an_unknown_key_fails(kms):
    assert code(kms, "Encrypt", KeyId=str(uuid.uuid4()), Plaintext=b64(secret())) == "ResourceUnavailable.CmkNotFound"


def flipped(blob: str, index: int) -> str:
    raw = bytearray(base64.b64decode(blob))
    raw[index] ^= 0x01
    return b64(bytes(raw))


# Blob layout (keys/blob.py): format byte | KeyId (16) | version (4) | salt (16) | nonce (12) | ciphertext | tag (16).
# A changed KeyId byte names another (absent) key, like a blob of a destroyed key; the other bytes are checked here.
@pytest.mark.parametrize(
    "index",
    [0, 18, 20, 25, 40, 60, -1],
    ids=["format", "version-hi", "version-lo", "salt", "nonce", "ciphertext", "tag"],
)
def test_decrypt_of_a_tampered_ciphertext_blob_fails_with_invalid_ciphertext(kms, key, index):
    blob = encrypt(kms, key, secret())
    assert code(kms, "Decrypt", CiphertextBlob=flipped(blob, index)) == "InvalidParameterValue.InvalidCiphertext"


@pytest.mark.parametrize("blob", ["not base64!", "aGVsbG8=", b64(b"\x02" + bytes(80))])
def test_decrypt_of_garbage_fails_with_invalid_ciphertext(kms, blob):
    assert code(kms, "Decrypt", CiphertextBlob=blob) == "InvalidParameterValue.InvalidCiphertext"


# -- ReEncrypt -----------------------------------------------------------------------------------------------


def test_re_encrypt_under_the_same_unrotated_key_changes_nothing(kms, key):
    key_id = key
    blob = encrypt(kms, key_id, secret())
    result = call(kms, "ReEncrypt", CiphertextBlob=blob)
    assert (result["ReEncrypted"], result["CiphertextBlob"], result["KeyId"], result["SourceKeyId"]) == (
        False,
        blob,
        key_id,
        key_id,
    )


def test_re_encrypt_to_another_key_re_encrypts(kms, key, other_key):
    source, destination, plaintext = key, other_key, secret()
    result = call(kms, "ReEncrypt", CiphertextBlob=encrypt(kms, source, plaintext), DestinationKeyId=destination)
    assert (result["ReEncrypted"], result["KeyId"], result["SourceKeyId"]) == (True, destination, source)
    assert call(kms, "Decrypt", CiphertextBlob=result["CiphertextBlob"])["KeyId"] == destination


def test_re_encrypted_blob_decrypts_to_the_original_plaintext(kms, key, other_key):
    plaintext = secret()
    result = call(kms, "ReEncrypt", CiphertextBlob=encrypt(kms, key, plaintext), DestinationKeyId=other_key)
    assert decrypt(kms, result["CiphertextBlob"]) == plaintext


def test_re_encrypt_after_rotation_re_encrypts_under_the_new_version(kms):
    key_id = rotating_key(kms)
    blob = encrypt(kms, key_id, secret())
    call(kms, "RotateKey", KeyId=key_id)
    result = call(kms, "ReEncrypt", CiphertextBlob=blob)
    assert (result["ReEncrypted"], result["CiphertextBlob"] != blob) == (True, True)


def test_re_encrypt_moves_a_blob_to_a_new_context(kms, key):
    plaintext = secret()
    blob = encrypt(kms, key, plaintext, EncryptionContext='{"a":"1"}')
    result = call(
        kms,
        "ReEncrypt",
        CiphertextBlob=blob,
        SourceEncryptionContext='{"a":"1"}',
        DestinationEncryptionContext='{"a":"2"}',
    )
    assert decrypt(kms, result["CiphertextBlob"], EncryptionContext='{"a":"2"}') == plaintext


def test_re_encrypt_with_the_wrong_source_context_fails(kms, key):
    blob = encrypt(kms, key, secret(), EncryptionContext='{"a":"1"}')
    assert code(kms, "ReEncrypt", CiphertextBlob=blob, SourceEncryptionContext='{"a":"2"}') == (
        "InvalidParameterValue.InvalidCiphertext"
    )


def test_re_encrypt_to_a_disabled_key_fails(kms, key):
    blob = encrypt(kms, key, secret())
    assert code(kms, "ReEncrypt", CiphertextBlob=blob, DestinationKeyId=disabled_key(kms)) == (
        "ResourceUnavailable.CmkDisabled"
    )


# -- GenerateRandom ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("size", [1, 32, 1024])
def test_generate_random_returns_the_asked_number_of_bytes(kms, size):
    assert len(base64.b64decode(call(kms, "GenerateRandom", NumberOfBytes=size)["Plaintext"])) == size


def test_generate_random_returns_different_bytes_each_time(kms):
    assert (
        call(kms, "GenerateRandom", NumberOfBytes=32)["Plaintext"]
        != call(kms, "GenerateRandom", NumberOfBytes=32)["Plaintext"]
    )


@pytest.mark.parametrize("size", [0, 1025])
def test_generate_random_refuses_a_size_outside_1_to_1024(kms, size):
    assert code(kms, "GenerateRandom", NumberOfBytes=size) == "InvalidParameterValue"


# -- rotation ------------------------------------------------------------------------------------------------


def test_enable_key_rotation_turns_rotation_on_yearly_by_default(kms):
    key_id = rotating_key(kms)
    assert call(kms, "GetKeyRotationStatus", KeyId=key_id)["KeyRotationEnabled"] is True
    assert describe(kms, key_id)["RotateDays"] == 365


@pytest.mark.parametrize("days", [7, 90, 365])
def test_enable_key_rotation_sets_the_rotation_period(kms, days):
    key_id = new_key(kms)
    call(kms, "EnableKeyRotation", KeyId=key_id, RotateDays=days)
    metadata = describe(kms, key_id)
    assert (metadata["RotateDays"], metadata["NextRotateTime"] - metadata["CreateTime"]) == (days, days * 86400)


@pytest.mark.parametrize("days", [6, 366, 0])
def test_enable_key_rotation_refuses_a_period_outside_7_to_365_days(kms, key, days):
    assert code(kms, "EnableKeyRotation", KeyId=key, RotateDays=days) == "InvalidParameterValue"


def test_disable_key_rotation_turns_rotation_off(kms):
    key_id = rotating_key(kms)
    call(kms, "DisableKeyRotation", KeyId=key_id)
    assert call(kms, "GetKeyRotationStatus", KeyId=key_id)["KeyRotationEnabled"] is False


def test_get_key_rotation_status_is_off_for_a_new_key(kms, key):
    assert call(kms, "GetKeyRotationStatus", KeyId=key)["KeyRotationEnabled"] is False


def test_enable_key_rotation_of_an_imported_key_fails(kms):
    assert code(kms, "EnableKeyRotation", KeyId=imported_key(kms)) == "UnsupportedOperation.ExternalCmkCanNotRotate"


def test_rotate_key_returns_a_task_id_and_records_the_rotation(kms):
    key_id = rotating_key(kms)
    task = call(kms, "RotateKey", KeyId=key_id)
    assert task["TaskId"]
    assert describe(kms, key_id)["LastRotateTime"] >= int(time.time()) - 60


def test_ciphertexts_made_before_rotate_key_still_decrypt(kms):
    key_id, plaintext = rotating_key(kms), secret()
    blob = encrypt(kms, key_id, plaintext)
    call(kms, "RotateKey", KeyId=key_id)
    assert decrypt(kms, blob) == plaintext


def test_encrypt_after_rotate_key_still_round_trips(kms):
    key_id, plaintext = rotating_key(kms), secret()
    call(kms, "RotateKey", KeyId=key_id)
    assert decrypt(kms, encrypt(kms, key_id, plaintext)) == plaintext


def test_a_second_rotate_key_within_24_hours_fails(kms):
    key_id = rotating_key(kms)
    call(kms, "RotateKey", KeyId=key_id)
    assert code(kms, "RotateKey", KeyId=key_id) == "RequestLimitExceeded.RotateRateLimited"


def test_rotate_key_without_rotation_enabled_fails(kms, key):
    assert code(kms, "RotateKey", KeyId=key) == "UnsupportedOperation.RotateNotSupported"


# -- ScheduleKeyDeletion and CancelKeyDeletion ---------------------------------------------------------------


def test_schedule_key_deletion_of_an_enabled_key_fails(kms, key):
    assert code(kms, "ScheduleKeyDeletion", KeyId=key, PendingWindowInDays=7) == (
        "ResourceUnavailable.CmkShouldBeDisabled"
    )


def test_schedule_key_deletion_puts_a_disabled_key_pending_deletion(kms):
    key_id = disabled_key(kms)
    scheduled = call(kms, "ScheduleKeyDeletion", KeyId=key_id, PendingWindowInDays=7)
    metadata = describe(kms, key_id)
    assert (scheduled["KeyId"], metadata["KeyState"], metadata["DeletionDate"]) == (
        key_id,
        "PendingDelete",
        scheduled["DeletionDate"],
    )


@pytest.mark.parametrize("days", [7, 30])
def test_the_deletion_date_is_the_end_of_the_beijing_day_n_days_later(kms, days):
    before = datetime.datetime.now(BEIJING).date()
    deletion = call(kms, "ScheduleKeyDeletion", KeyId=disabled_key(kms), PendingWindowInDays=days)["DeletionDate"]
    after = datetime.datetime.now(BEIJING).date()
    expected = {
        int(
            datetime.datetime.combine(
                day + datetime.timedelta(days=days), datetime.time(23, 59, 59), BEIJING
            ).timestamp()
        )
        for day in (before, after)
    }
    assert deletion in expected


@pytest.mark.parametrize("days", [6, 31])
def test_schedule_key_deletion_refuses_a_window_outside_7_to_30_days(kms, days):
    assert code(kms, "ScheduleKeyDeletion", KeyId=disabled_key(kms), PendingWindowInDays=days) == (
        "InvalidParameter.InvalidPendingWindowInDays"
    )


def test_schedule_key_deletion_of_a_bound_key_fails(kms):
    key_id = bound_key(kms, disabled_key(kms))
    assert code(kms, "ScheduleKeyDeletion", KeyId=key_id, PendingWindowInDays=7) == (
        "FailedOperation.CmkUsedByCloudProduct"
    )


def test_cancel_key_deletion_returns_the_key_to_disabled(kms):
    key_id = pending_delete_key(kms)
    cancelled = call(kms, "CancelKeyDeletion", KeyId=key_id)
    metadata = describe(kms, key_id)
    assert (cancelled["KeyId"], metadata["KeyState"], metadata["DeletionDate"]) == (key_id, "Disabled", 0)


def test_cancel_key_deletion_of_a_key_not_pending_deletion_fails(kms):
    assert code(kms, "CancelKeyDeletion", KeyId=disabled_key(kms)) == "ResourceUnavailable.CmkNotPendingDelete"


def test_encrypt_with_a_key_pending_deletion_fails(kms):
    assert code(kms, "Encrypt", KeyId=pending_delete_key(kms), Plaintext=b64(secret())) == (
        "ResourceUnavailable.KeyPendingDelete"
    )


# -- ArchiveKey and CancelKeyArchive -------------------------------------------------------------------------


def test_archive_key_archives_the_key(kms):
    key_id = new_key(kms)
    call(kms, "ArchiveKey", KeyId=key_id)
    assert state(kms, key_id) == "Archived"


def test_an_archived_key_still_decrypts(kms):
    key_id, plaintext = new_key(kms), secret()
    blob = encrypt(kms, key_id, plaintext)
    call(kms, "ArchiveKey", KeyId=key_id)
    assert decrypt(kms, blob) == plaintext


def test_an_archived_key_does_not_encrypt(kms):
    key_id = new_key(kms)
    call(kms, "ArchiveKey", KeyId=key_id)
    assert code(kms, "Encrypt", KeyId=key_id, Plaintext=b64(secret())) == "ResourceUnavailable.CmkArchived"


def test_cancel_key_archive_enables_the_key_again(kms):
    key_id = new_key(kms)
    call(kms, "ArchiveKey", KeyId=key_id)
    call(kms, "CancelKeyArchive", KeyId=key_id)
    assert state(kms, key_id) == "Enabled"


def test_archive_key_of_a_disabled_key_fails(kms):
    assert code(kms, "ArchiveKey", KeyId=disabled_key(kms)) == "ResourceUnavailable.CmkStateNotSupport"


def test_cancel_key_archive_of_a_key_not_archived_fails(kms, key):
    assert code(kms, "CancelKeyArchive", KeyId=key) == "ResourceUnavailable.CmkStateNotSupport"


def test_archive_key_of_a_bound_key_fails(kms):
    assert code(kms, "ArchiveKey", KeyId=bound_key(kms)) == "FailedOperation.CmkUsedByCloudProduct"


# -- BindCloudResource and UnbindCloudResource ---------------------------------------------------------------


def test_a_bound_key_cannot_be_disabled(kms):
    assert code(kms, "DisableKey", KeyId=bound_key(kms)) == "FailedOperation.CmkUsedByCloudProduct"


def test_an_unbound_key_can_be_disabled_again(kms):
    key_id = new_key(kms)
    call(kms, "BindCloudResource", KeyId=key_id, ProductId="cos", ResourceId="bucket-1")
    call(kms, "UnbindCloudResource", KeyId=key_id, ProductId="cos", ResourceId="bucket-1")
    call(kms, "DisableKey", KeyId=key_id)
    assert state(kms, key_id) == "Disabled"


def test_a_key_bound_twice_stays_bound_after_one_unbind(kms):
    key_id = new_key(kms)
    for resource in ("bucket-1", "bucket-2"):
        call(kms, "BindCloudResource", KeyId=key_id, ProductId="cos", ResourceId=resource)
    call(kms, "UnbindCloudResource", KeyId=key_id, ProductId="cos", ResourceId="bucket-1")
    assert code(kms, "DisableKey", KeyId=key_id) == "FailedOperation.CmkUsedByCloudProduct"


def test_unbind_of_a_resource_never_bound_fails(kms, key):
    assert code(kms, "UnbindCloudResource", KeyId=key, ProductId="cos", ResourceId="bucket-1") == (
        "ResourceUnavailable.CloudResourceBindingNotFound"
    )


def test_bind_cloud_resource_to_a_key_pending_deletion_fails(kms):
    assert code(kms, "BindCloudResource", KeyId=pending_delete_key(kms), ProductId="cos", ResourceId="b") == (
        "ResourceUnavailable.CmkStateNotSupport"
    )


# -- importing key material ----------------------------------------------------------------------------------


def refused_import(kms, key_id: str, token: str, wrapped: str, **params) -> str:
    """The error code of an ImportKeyMaterial call expected to fail."""
    return code(kms, "ImportKeyMaterial", KeyId=key_id, ImportToken=token, EncryptedKeyMaterial=wrapped, **params)


def test_get_parameters_for_import_returns_an_rsa_2048_public_key_valid_for_24_hours(kms):
    params = import_params(kms, external_key(kms))
    public_key = serialization.load_der_public_key(base64.b64decode(params["PublicKey"]))
    assert (isinstance(public_key, rsa.RSAPublicKey), public_key.key_size) == (True, 2048)
    assert abs(params["ParametersValidTo"] - (time.time() + 86400)) < 60
    assert params["ImportToken"]


@pytest.mark.parametrize("algorithm", list(WRAPPINGS))
def test_imported_material_encrypts_and_decrypts(kms, algorithm):
    key_id, plaintext = external_key(kms), secret()
    import_material(kms, key_id, secret(), algorithm)
    assert (state(kms, key_id), decrypt(kms, encrypt(kms, key_id, plaintext))) == ("Enabled", plaintext)


@pytest.mark.parametrize("algorithm", list(WRAPPINGS))
def test_import_of_a_bad_wrap_fails_with_decrypt_material_error(kms, algorithm):
    key_id = external_key(kms)
    params = import_params(kms, key_id, algorithm)
    bad_wrap = b64(b"\x00" + os.urandom(255))  # below the modulus, so it gets as far as the unpadding
    assert refused_import(kms, key_id, params["ImportToken"], bad_wrap) == "InvalidParameter.DecryptMaterialError"


@pytest.mark.parametrize(
    ("asked", "used"), [("RSAES_OAEP_SHA_256", "RSAES_OAEP_SHA_1"), ("RSAES_PKCS1_V1_5", "RSAES_OAEP_SHA_256")]
)
def test_import_of_material_wrapped_with_another_algorithm_fails(kms, asked, used):
    key_id = external_key(kms)
    params = import_params(kms, key_id, asked)
    wrapped = wrap(params["PublicKey"], secret(), used)
    assert refused_import(kms, key_id, params["ImportToken"], wrapped) == "InvalidParameter.DecryptMaterialError"


def test_import_with_valid_to_in_the_past_fails(kms):
    key_id = external_key(kms)
    params = import_params(kms, key_id)
    wrapped = wrap(params["PublicKey"], secret(), "RSAES_OAEP_SHA_256")
    past = int(time.time()) - 60
    assert refused_import(kms, key_id, params["ImportToken"], wrapped, ValidTo=past) == "InvalidParameterValue"
    assert state(kms, key_id) == "PendingImport"


def test_import_with_valid_to_in_the_future_shows_it_in_the_metadata(kms):
    key_id, valid_to = external_key(kms), int(time.time()) + 86400
    import_material(kms, key_id, secret(), valid_to=valid_to)
    assert describe(kms, key_id)["ValidTo"] == valid_to


def test_import_of_16_byte_material_fails(kms):
    key_id = external_key(kms)
    params = import_params(kms, key_id)
    wrapped = wrap(params["PublicKey"], secret(16), "RSAES_OAEP_SHA_256")
    assert refused_import(kms, key_id, params["ImportToken"], wrapped) == (
        "InvalidParameterValue.InvalidImportKeyMaterial"
    )


def test_import_with_an_unknown_token_fails(kms):
    key_id = external_key(kms)
    params = import_params(kms, key_id)
    wrapped = wrap(params["PublicKey"], secret(), "RSAES_OAEP_SHA_256")
    assert refused_import(kms, key_id, "0" * 64, wrapped) == "ResourceUnavailable.TokenExpired"


def test_an_import_token_is_used_once(kms):
    key_id = external_key(kms)
    params = import_params(kms, key_id)
    wrapped = wrap(params["PublicKey"], secret(), "RSAES_OAEP_SHA_256")
    call(kms, "ImportKeyMaterial", KeyId=key_id, ImportToken=params["ImportToken"], EncryptedKeyMaterial=wrapped)
    assert refused_import(kms, key_id, params["ImportToken"], wrapped) == "ResourceUnavailable.TokenExpired"


def test_an_import_token_of_another_key_fails(kms):
    params = import_params(kms, external_key(kms))
    wrapped = wrap(params["PublicKey"], secret(), "RSAES_OAEP_SHA_256")
    assert refused_import(kms, external_key(kms), params["ImportToken"], wrapped) == "ResourceUnavailable.TokenExpired"


def test_get_parameters_for_import_of_a_kms_key_fails(kms, key):
    failed = failure(
        kms, "GetParametersForImport", KeyId=key, WrappingAlgorithm="RSAES_OAEP_SHA_256", WrappingKeySpec="RSA_2048"
    )
    assert failed.code == "UnsupportedOperation.NotExternalCmk"


def test_get_parameters_for_import_with_an_unknown_algorithm_fails(kms):
    failed = failure(
        kms, "GetParametersForImport", KeyId=external_key(kms), WrappingAlgorithm="SM2", WrappingKeySpec="RSA_2048"
    )
    assert failed.code == "InvalidParameterValue"


def test_re_import_of_the_same_material_succeeds(kms):
    key_id, material = external_key(kms), secret()
    import_material(kms, key_id, material)
    import_material(kms, key_id, material, "RSAES_PKCS1_V1_5")
    assert state(kms, key_id) == "Enabled"


def test_re_import_of_different_material_fails(kms):
    key_id = external_key(kms)
    import_material(kms, key_id, secret())
    params = import_params(kms, key_id)
    wrapped = wrap(params["PublicKey"], secret(), "RSAES_OAEP_SHA_256")
    assert refused_import(kms, key_id, params["ImportToken"], wrapped) == "InvalidParameterValue.MaterialNotMatch"


def test_delete_imported_key_material_puts_the_key_back_to_pending_import(kms):
    key_id = imported_key(kms)
    call(kms, "DeleteImportedKeyMaterial", KeyId=key_id)
    assert state(kms, key_id) == "PendingImport"


def test_a_key_without_its_imported_material_does_not_encrypt(kms):
    key_id = imported_key(kms)
    call(kms, "DeleteImportedKeyMaterial", KeyId=key_id)
    assert code(kms, "Encrypt", KeyId=key_id, Plaintext=b64(secret())) == "ResourceUnavailable.CmkStateNotSupport"


def test_re_importing_deleted_material_decrypts_old_ciphertexts(kms):
    key_id, material, plaintext = external_key(kms), secret(), secret()
    import_material(kms, key_id, material)
    blob = encrypt(kms, key_id, plaintext)
    call(kms, "DeleteImportedKeyMaterial", KeyId=key_id)
    import_material(kms, key_id, material)
    assert decrypt(kms, blob) == plaintext


def test_delete_imported_key_material_of_a_kms_key_fails(kms, key):
    assert code(kms, "DeleteImportedKeyMaterial", KeyId=key) == "UnsupportedOperation.NotExternalCmk"


# -- authentication ------------------------------------------------------------------------------------------


def test_a_wrong_secret_key_fails_with_signature_failure(kinko, default_keys):
    assert code(client_for(kinko, secret_key="x" * 32), "ListKeys") == "AuthFailure.SignatureFailure"


def test_an_unknown_secret_id_fails_with_secret_id_not_found(kinko, default_keys):
    assert code(client_for(kinko, secret_id="AKID" + "x" * 32), "ListKeys") == "AuthFailure.SecretIdNotFound"


def sdk_clock(monkeypatch, offset: int) -> None:
    """The SDK signs with `time.time()` of its abstract_client module: shift only that clock."""
    shifted = int(time.time()) + offset
    monkeypatch.setattr(abstract_client, "time", types.SimpleNamespace(time=lambda: shifted))


@pytest.mark.parametrize("offset", [-301 - 5, 301 + 5])
def test_a_timestamp_more_than_5_minutes_off_fails_with_signature_expire(kms, monkeypatch, offset):
    sdk_clock(monkeypatch, offset)
    assert code(kms, "ListKeys") == "AuthFailure.SignatureExpire"


def test_a_timestamp_4_minutes_off_is_accepted(kms, monkeypatch):
    sdk_clock(monkeypatch, -240)
    assert call(kms, "ListKeys")["TotalCount"] >= 1


@pytest.mark.parametrize("method", ["HmacSHA256", "HmacSHA1"])
def test_the_legacy_signature_methods_work(kinko, kms, key, method):
    key_id = key
    assert describe(client_for(kinko, sign_method=method), key_id)["KeyId"] == key_id


@pytest.mark.parametrize("method", ["HmacSHA256", "HmacSHA1"])
def test_legacy_signatures_carry_nested_parameters(kinko, kms, detail, method):
    legacy = client_for(kinko, sign_method=method)
    found = call(
        legacy, "ListKeyDetail", SearchKeyAlias=detail.prefix, TagFilters=[{"TagKey": "env", "TagValue": ["dev"]}]
    )
    assert [m["KeyId"] for m in found["KeyMetadatas"]] == [detail.enabled]


@pytest.mark.parametrize("method", ["HmacSHA256", "HmacSHA1"])
def test_a_legacy_signature_with_a_wrong_secret_key_fails(kinko, default_keys, method):
    legacy = client_for(kinko, sign_method=method, secret_key="x" * 32)
    assert code(legacy, "ListKeys") == "AuthFailure.SignatureFailure"


def test_legacy_encrypt_and_decrypt_round_trip(kinko, kms, key):
    legacy, plaintext = client_for(kinko, sign_method="HmacSHA256"), secret()
    blob = encrypt(legacy, key, plaintext, EncryptionContext='{"a":"b"}')
    assert decrypt(legacy, blob, EncryptionContext='{"a":"b"}') == plaintext


def test_get_requests_work(kinko, kms, key, other_key):
    first, second = key, other_key
    found = call(client_for(kinko, req_method="GET"), "DescribeKeys", KeyIds=[first, second])["KeyMetadatas"]
    assert [metadata["KeyId"] for metadata in found] == [first, second]


def test_get_requests_carry_nested_parameters(kinko, detail):
    found = call(
        client_for(kinko, req_method="GET"),
        "ListKeyDetail",
        SearchKeyAlias=detail.prefix,
        TagFilters=[{"TagKey": "env", "TagValue": ["prod"]}],
    )["KeyMetadatas"]
    assert [metadata["KeyId"] for metadata in found] == [detail.disabled]


def test_a_get_request_with_a_wrong_secret_key_fails(kinko, default_keys):
    assert code(client_for(kinko, req_method="GET", secret_key="x" * 32), "ListKeys") == "AuthFailure.SignatureFailure"


def test_a_signature_scoped_to_cam_is_refused_for_kms(kinko, default_keys):
    body = raw_json(kinko, "ListKeys", {}, service="cam").json()["Response"]
    assert body["Error"]["Code"] == "AuthFailure.SignatureFailure"


def test_the_raw_signer_is_accepted(kinko, default_keys):
    assert "Error" not in raw_json(kinko, "ListKeys", {}).json()["Response"]


# -- request validation --------------------------------------------------------------------------------------


def test_an_unknown_action_fails_with_invalid_action(kms):
    with pytest.raises(TencentCloudSDKException) as err:
        kms.call_json("Bogus", {})
    assert err.value.code == "InvalidAction"


def test_an_unknown_parameter_fails_with_unknown_parameter(kms, key):
    with pytest.raises(TencentCloudSDKException) as err:
        kms.call_json("DescribeKey", {"KeyId": key, "Bogus": 1})
    assert err.value.code == "UnknownParameter"


def test_a_missing_required_parameter_fails_with_missing_parameter(kms):
    with pytest.raises(TencentCloudSDKException) as err:
        kms.call_json("DescribeKey", {})
    assert err.value.code == "MissingParameter"


def test_a_parameter_of_the_wrong_type_fails_with_invalid_parameter(kms):
    with pytest.raises(TencentCloudSDKException) as err:
        kms.call_json("GenerateRandom", {"NumberOfBytes": "many"})
    assert err.value.code == "InvalidParameter"


def test_numbers_sent_as_strings_are_accepted(kms):
    result = kms.call_json("GenerateRandom", {"NumberOfBytes": "16"})
    assert len(base64.b64decode(result["Response"]["Plaintext"])) == 16


def test_an_unknown_version_fails_with_no_such_version(kinko, default_keys):
    body = raw_json(kinko, "ListKeys", {}, version="2017-03-12").json()["Response"]
    assert body["Error"]["Code"] == "NoSuchVersion"


def test_a_body_that_is_not_json_fails_with_invalid_parameter(kinko, default_keys):
    assert raw_call(kinko, "ListKeys", b"{not json").json()["Response"]["Error"]["Code"] == "InvalidParameter"


# -- the response envelope -----------------------------------------------------------------------------------


def unsigned(kinko) -> requests.Response:
    return requests.post(
        f"{kinko.url}/",
        data=b"{}",
        timeout=10,
        headers={
            "Content-Type": "application/json",
            "X-TC-Action": "ListKeys",
            "X-TC-Version": KMS_VERSION,
            "X-TC-Timestamp": str(int(time.time())),
            "Authorization": "garbage",
        },
    )


ERROR_CASES = {
    "bad authorization": lambda kinko: unsigned(kinko),
    "stale timestamp": lambda kinko: raw_json(kinko, "ListKeys", {}, timestamp=int(time.time()) - 3600),
    "unknown action": lambda kinko: raw_json(kinko, "Bogus", {}),
    "unknown key": lambda kinko: raw_json(kinko, "DescribeKey", {"KeyId": str(uuid.uuid4())}),
    "not json": lambda kinko: raw_call(kinko, "ListKeys", b"\xff\xfe"),
    "missing parameter": lambda kinko: raw_json(kinko, "Encrypt", {}),
}


@pytest.mark.parametrize("case", ERROR_CASES)
def test_every_error_is_http_200_with_exactly_application_json(kinko, default_keys, case):
    response = ERROR_CASES[case](kinko)
    assert (response.status_code, response.headers["Content-Type"]) == (200, "application/json")


@pytest.mark.parametrize("case", ERROR_CASES)
def test_every_error_has_a_code_a_message_and_a_request_id(kinko, default_keys, case):
    body = ERROR_CASES[case](kinko).json()["Response"]
    assert (sorted(body), sorted(body["Error"])) == (["Error", "RequestId"], ["Code", "Message"])
    assert body["Error"]["Code"] and body["Error"]["Message"]
    assert uuid.UUID(body["RequestId"])


def test_a_success_is_http_200_with_exactly_application_json_and_a_request_id(kinko, default_keys):
    response = raw_json(kinko, "GenerateRandom", {"NumberOfBytes": 8})
    assert (response.status_code, response.headers["Content-Type"]) == (200, "application/json")
    assert uuid.UUID(response.json()["Response"]["RequestId"])


def test_every_response_has_its_own_request_id(kinko, default_keys):
    assert (
        ERROR_CASES["unknown action"](kinko).json()["Response"]["RequestId"]
        != (ERROR_CASES["unknown action"](kinko).json()["Response"]["RequestId"])
    )


def test_the_sdk_exception_carries_the_request_id(kms):
    assert uuid.UUID(failure(kms, "DescribeKey", KeyId=str(uuid.uuid4())).requestId)


# -- secrets stay secret -------------------------------------------------------------------------------------


def error_bodies_for(kinko, kms, plaintext: bytes) -> list[bytes]:
    """Refused calls that carried the plaintext, as raw response bodies."""
    disabled, archived = disabled_key(kms), new_key(kms)
    call(kms, "ArchiveKey", KeyId=archived)
    attempts = [
        ("Encrypt", {"KeyId": disabled, "Plaintext": b64(plaintext)}),
        ("Encrypt", {"KeyId": archived, "Plaintext": b64(plaintext)}),
        ("Encrypt", {"KeyId": str(uuid.uuid4()), "Plaintext": b64(plaintext)}),
        ("Encrypt", {"KeyId": disabled, "Plaintext": b64(plaintext), "EncryptionContext": b64(plaintext)}),
        ("Encrypt", {"KeyId": disabled, "Plaintext": b64(plaintext) + "!"}),
        ("Encrypt", {"KeyId": disabled, "Plaintext": b64(plaintext), "Bogus": b64(plaintext)}),
        ("Decrypt", {"CiphertextBlob": b64(plaintext)}),
        ("ImportKeyMaterial", {"KeyId": str(uuid.uuid4()), "ImportToken": "t", "EncryptedKeyMaterial": b64(plaintext)}),
    ]
    return [raw_json(kinko, action, params).content for action, params in attempts]


def test_error_bodies_never_contain_the_plaintext_sent(kinko, kms):
    plaintext = secret()
    bodies = error_bodies_for(kinko, kms, plaintext)
    assert all(b'"Error"' in body for body in bodies)
    assert [form for form in forms_of(plaintext) for body in bodies if form in body] == []


def test_the_server_log_holds_no_plaintext_data_key_or_key_material(kinko, kms):
    """Runs last: everything this module sent or received, including the refused calls just above."""
    error_bodies_for(kinko, kms, secret())
    log = kinko.log().encode()
    assert b"kms.Encrypt -> ResourceUnavailable.CmkDisabled" in log  # the log does record KMS calls
    assert [value.hex() for value in SECRETS if any(form in log for form in forms_of(value))] == []
