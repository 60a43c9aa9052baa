"""KMS API 3.0 actions (version 2019-01-18): Params serializer → one service call → Response dict."""

import base64
import binascii

from django.conf import settings
from rest_framework import serializers

from console.tcapi import ApiRequest, Params, action
from keys import blob, errors, service
from keys.models import KeyState, MasterKey
from keys.service import KmsCaller
from roles import policy

KMS = "kms"
STATE_FILTER = {
    1: KeyState.ENABLED,
    2: KeyState.DISABLED,
    3: KeyState.PENDING_DELETE,
    4: KeyState.PENDING_IMPORT,
    5: KeyState.ARCHIVED,
}


def caller(request: ApiRequest) -> KmsCaller:
    return KmsCaller(request.principal.account, request.principal.api_key.secret_id, request.region, request.request_id)


# -- what each action acts on: the real resource of every CMK it names --------------------------------------------


def key_resource(request: ApiRequest, key_id: object) -> str:
    """`qcs::kms:<region>:uin/<owner>:key/creatorUin/<creator>/<KeyId>` of the named CMK, from its own region and
    creator; for a KeyId naming no CMK, the resource it would have in the request's region (the operation then
    answers that the CMK does not exist)."""
    account = request.principal.account
    key = service.locate_key(account, str(key_id))
    if key is None:
        region = request.region or settings.KINKO_KMS_REGIONS[0]
        return policy.kms_resource(region, account.uin, account.uin, str(key_id))
    return policy.kms_resource(key.region, account.uin, key.creator_uin, str(key.key_id))


def blob_resource(request: ApiRequest, ciphertext: str) -> str:
    """The resource of the CMK a ciphertext was made under, read from the blob itself (a malformed blob names
    none: `*` in the request's region, so it is refused to whom no policy allows all keys)."""
    key_id = blob.key_id_of(ciphertext)
    return key_resource(request, key_id if key_id is not None else "*")


def on_key(name: str, param: str = "KeyId"):
    return lambda request, params: [(f"kms:{name}", key_resource(request, params[param]))]


def on_keys(name: str):
    """Batch actions are decided key by key: one refused key refuses the whole call."""
    return lambda request, params: [(f"kms:{name}", key_resource(request, key_id)) for key_id in params["KeyIds"]]


def decrypt_resources(request: ApiRequest, params: dict) -> list[tuple[str, str]]:
    return [("kms:Decrypt", blob_resource(request, params["CiphertextBlob"]))]


def re_encrypt_resources(request: ApiRequest, params: dict) -> list[tuple[str, str]]:
    """ReEncrypt decrypts under the blob's CMK and encrypts under the destination (the same CMK when none is named):
    each side needs ReEncrypt and what its half does, so a deny of Decrypt on a key also stops re-encrypting its
    ciphertexts into a key the caller may decrypt with."""
    source = blob_resource(request, params["CiphertextBlob"])
    destination = key_resource(request, params["DestinationKeyId"]) if params.get("DestinationKeyId") else source
    return [
        ("kms:ReEncrypt", source),
        ("kms:Decrypt", source),
        ("kms:ReEncrypt", destination),
        ("kms:Encrypt", destination),
    ]


def ts(moment) -> int:
    return int(moment.timestamp()) if moment is not None else 0


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def unb64(value: str, error: type[errors.KmsError]) -> bytes:
    try:
        return base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        raise error() from None


def key_metadata(key: MasterKey) -> dict:
    return {
        "KeyId": str(key.key_id),
        "Alias": key.alias,
        "CreateTime": ts(key.created_at),
        "Description": key.description,
        "KeyState": key.state,
        "KeyUsage": key.usage,
        "Type": 2,
        "CreatorUin": int(key.creator_uin),
        "KeyRotationEnabled": key.rotation_enabled,
        "Owner": key.owner,
        "NextRotateTime": ts(key.next_rotate_at),
        "DeletionDate": ts(key.deletion_date),
        "Origin": key.origin,
        "ValidTo": ts(key.valid_to),
        "ResourceId": f"creatorUin/{key.creator_uin}/{key.key_id}",
        "HsmClusterId": "",
        "RotateDays": key.rotate_days,
        "LastRotateTime": ts(key.last_rotated_at),
        "CreatorUinString": key.creator_uin,
    }


class MemberAccount(Params):
    MemberAppId = serializers.IntegerField(required=False)
    MemberUin = serializers.IntegerField(required=False)


class KeyIdParams(Params):
    KeyId = serializers.CharField()
    MemberAccount = MemberAccount(required=False)


class KeyIdsParams(Params):
    KeyIds = serializers.ListField(child=serializers.CharField(), min_length=1, max_length=100)
    MemberAccount = MemberAccount(required=False)


class Tag(Params):
    TagKey = serializers.CharField()
    TagValue = serializers.CharField(allow_blank=True)


class TagFilter(Params):
    TagKey = serializers.CharField()
    TagValue = serializers.ListField(child=serializers.CharField(), required=False)


@action(KMS, "GetServiceStatus")
def get_service_status(request: ApiRequest, params: dict) -> dict:
    status = service.get_service_status(caller(request))
    return {
        "ServiceEnabled": status.enabled,
        "InvalidType": 1 if status.enabled else 0,
        "UserLevel": 0,
        "CmkUserCount": status.key_count,
        "CmkLimit": status.key_limit,
    }


@action(KMS, "GetRegions")
def get_regions(request: ApiRequest, params: dict) -> dict:
    return {"Regions": list(settings.KINKO_KMS_REGIONS)}


class CreateKeyParams(Params):
    Alias = serializers.CharField(allow_blank=True)  # the service says what a valid alias is (InvalidAlias)
    Description = serializers.CharField(required=False, allow_blank=True, default="")
    KeyUsage = serializers.CharField(required=False, default="ENCRYPT_DECRYPT")
    Type = serializers.IntegerField(required=False, default=1)
    Tags = Tag(many=True, required=False)
    HsmClusterId = serializers.CharField(required=False, allow_blank=True)


@action(KMS, "CreateKey", CreateKeyParams)
def create_key(request: ApiRequest, params: dict) -> dict:
    tags = [dict(tag) for tag in params.get("Tags", [])]
    key = service.create_key(
        caller(request), params["Alias"], params["Description"], params["KeyUsage"], params["Type"], tags
    )
    return {
        "KeyId": str(key.key_id),
        "Alias": key.alias,
        "CreateTime": ts(key.created_at),
        "Description": key.description,
        "KeyState": key.state,
        "KeyUsage": key.usage,
        "TagCode": 0,
        "TagMsg": "ok",
        "HsmClusterId": "",
    }


@action(KMS, "DescribeKey", KeyIdParams, on_key("DescribeKey"))
def describe_key(request: ApiRequest, params: dict) -> dict:
    return {"KeyMetadata": key_metadata(service.describe_key(caller(request), params["KeyId"]))}


@action(KMS, "DescribeKeys", KeyIdsParams, on_keys("DescribeKeys"))
def describe_keys(request: ApiRequest, params: dict) -> dict:
    keys = service.describe_keys(caller(request), params["KeyIds"])
    return {"KeyMetadatas": [key_metadata(key) for key in keys]}


class ListKeysParams(Params):
    Offset = serializers.IntegerField(required=False, default=0, min_value=0)
    Limit = serializers.IntegerField(required=False, default=10, min_value=1, max_value=200)
    Role = serializers.IntegerField(required=False, min_value=0, max_value=1)
    HsmClusterId = serializers.CharField(required=False, allow_blank=True)


@action(KMS, "ListKeys", ListKeysParams)
def list_keys(request: ApiRequest, params: dict) -> dict:
    keys, total = service.list_keys(caller(request), params["Offset"], params["Limit"], params.get("Role"))
    return {"Keys": [{"KeyId": str(key.key_id)} for key in keys], "TotalCount": total}


class ListKeyDetailParams(ListKeysParams):
    OrderType = serializers.IntegerField(required=False, default=0, min_value=0, max_value=1)
    KeyState = serializers.IntegerField(required=False, default=0, min_value=0, max_value=5)
    SearchKeyAlias = serializers.CharField(required=False, allow_blank=True, default="")
    Origin = serializers.ChoiceField(["TENCENT_KMS", "EXTERNAL", "ALL"], required=False, default="ALL")
    KeyUsage = serializers.CharField(required=False, allow_blank=True, default="")
    TagFilters = TagFilter(many=True, required=False)
    MemberAccounts = MemberAccount(many=True, required=False)


@action(KMS, "ListKeyDetail", ListKeyDetailParams)
def list_key_detail(request: ApiRequest, params: dict) -> dict:
    query = service.KeyFilter(
        offset=params["Offset"],
        limit=params["Limit"],
        role=params.get("Role"),
        newest_first=params["OrderType"] == 0,
        state=STATE_FILTER.get(params["KeyState"]),
        search=params["SearchKeyAlias"],
        origin=params["Origin"],
        usage=params["KeyUsage"],
        tag_filters=[dict(f) for f in params.get("TagFilters", [])],
    )
    keys, total = service.list_key_detail(caller(request), query)
    return {"TotalCount": total, "KeyMetadatas": [key_metadata(key) for key in keys]}


@action(KMS, "EnableKey", KeyIdParams, on_key("EnableKey"))
def enable_key(request: ApiRequest, params: dict) -> dict:
    service.enable_key(caller(request), params["KeyId"])
    return {}


@action(KMS, "DisableKey", KeyIdParams, on_key("DisableKey"))
def disable_key(request: ApiRequest, params: dict) -> dict:
    service.disable_key(caller(request), params["KeyId"])
    return {}


@action(KMS, "EnableKeys", KeyIdsParams, on_keys("EnableKeys"))
def enable_keys(request: ApiRequest, params: dict) -> dict:
    service.enable_keys(caller(request), params["KeyIds"])
    return {}


@action(KMS, "DisableKeys", KeyIdsParams, on_keys("DisableKeys"))
def disable_keys(request: ApiRequest, params: dict) -> dict:
    service.disable_keys(caller(request), params["KeyIds"])
    return {}


class UpdateAliasParams(KeyIdParams):
    Alias = serializers.CharField(allow_blank=True)


@action(KMS, "UpdateAlias", UpdateAliasParams, on_key("UpdateAlias"))
def update_alias(request: ApiRequest, params: dict) -> dict:
    service.update_alias(caller(request), params["KeyId"], params["Alias"])
    return {}


class UpdateKeyDescriptionParams(KeyIdParams):
    Description = serializers.CharField(allow_blank=True)


@action(KMS, "UpdateKeyDescription", UpdateKeyDescriptionParams, on_key("UpdateKeyDescription"))
def update_key_description(request: ApiRequest, params: dict) -> dict:
    service.update_key_description(caller(request), params["KeyId"], params["Description"])
    return {}


class GenerateDataKeyParams(Params):
    KeyId = serializers.CharField()
    KeySpec = serializers.ChoiceField(["AES_128", "AES_256"], required=False)
    NumberOfBytes = serializers.IntegerField(required=False)
    EncryptionContext = serializers.CharField(required=False, allow_blank=True)
    HsmClusterId = serializers.CharField(required=False, allow_blank=True)

    def validate(self, attrs: dict) -> dict:
        if "NumberOfBytes" not in attrs and "KeySpec" not in attrs:
            raise serializers.ValidationError({"KeySpec": ["KeySpec or NumberOfBytes is required."]}, code="required")
        return attrs


@action(KMS, "GenerateDataKey", GenerateDataKeyParams, on_key("GenerateDataKey"))
def generate_data_key(request: ApiRequest, params: dict) -> dict:
    if "NumberOfBytes" in params:  # NumberOfBytes wins over KeySpec (spec §4.1)
        size = params["NumberOfBytes"]
    else:
        size = 16 if params["KeySpec"] == "AES_128" else 32
    dk = service.generate_data_key(caller(request), params["KeyId"], size, params.get("EncryptionContext"))
    return {"KeyId": str(dk.key.key_id), "Plaintext": b64(dk.plaintext), "CiphertextBlob": dk.blob}


class EncryptParams(Params):
    KeyId = serializers.CharField()
    Plaintext = serializers.CharField()
    EncryptionContext = serializers.CharField(required=False, allow_blank=True)


@action(KMS, "Encrypt", EncryptParams, on_key("Encrypt"))
def encrypt(request: ApiRequest, params: dict) -> dict:
    plaintext = unb64(params["Plaintext"], errors.InvalidPlaintext)
    key, sealed = service.encrypt(caller(request), params["KeyId"], plaintext, params.get("EncryptionContext"))
    return {"CiphertextBlob": sealed, "KeyId": str(key.key_id)}


class DecryptParams(Params):
    CiphertextBlob = serializers.CharField()
    EncryptionContext = serializers.CharField(required=False, allow_blank=True)
    EncryptionPublicKey = serializers.CharField(required=False)
    EncryptionAlgorithm = serializers.CharField(required=False)


@action(KMS, "Decrypt", DecryptParams, decrypt_resources)
def decrypt(request: ApiRequest, params: dict) -> dict:
    if params.get("EncryptionPublicKey"):
        raise errors.KmsError("Returning plaintext under a public key is not supported.", code="UnsupportedOperation")
    key, plaintext = service.decrypt(caller(request), params["CiphertextBlob"], params.get("EncryptionContext"))
    return {"KeyId": str(key.key_id), "Plaintext": b64(plaintext)}


class ReEncryptParams(Params):
    CiphertextBlob = serializers.CharField()
    DestinationKeyId = serializers.CharField(required=False, allow_blank=True)
    SourceEncryptionContext = serializers.CharField(required=False, allow_blank=True)
    DestinationEncryptionContext = serializers.CharField(required=False, allow_blank=True)


@action(KMS, "ReEncrypt", ReEncryptParams, re_encrypt_resources)
def re_encrypt(request: ApiRequest, params: dict) -> dict:
    result = service.re_encrypt(
        caller(request),
        params["CiphertextBlob"],
        params.get("DestinationKeyId") or None,
        params.get("SourceEncryptionContext"),
        params.get("DestinationEncryptionContext"),
    )
    return {
        "CiphertextBlob": result.blob,
        "KeyId": str(result.key.key_id),
        "SourceKeyId": str(result.source_key.key_id),
        "ReEncrypted": result.re_encrypted,
    }


class GenerateRandomParams(Params):
    NumberOfBytes = serializers.IntegerField()


@action(KMS, "GenerateRandom", GenerateRandomParams)
def generate_random(request: ApiRequest, params: dict) -> dict:
    return {"Plaintext": b64(service.generate_random(caller(request), params["NumberOfBytes"]))}


class EnableKeyRotationParams(KeyIdParams):
    RotateDays = serializers.IntegerField(required=False, default=365)


@action(KMS, "EnableKeyRotation", EnableKeyRotationParams, on_key("EnableKeyRotation"))
def enable_key_rotation(request: ApiRequest, params: dict) -> dict:
    service.enable_key_rotation(caller(request), params["KeyId"], params["RotateDays"])
    return {}


@action(KMS, "DisableKeyRotation", KeyIdParams, on_key("DisableKeyRotation"))
def disable_key_rotation(request: ApiRequest, params: dict) -> dict:
    service.disable_key_rotation(caller(request), params["KeyId"])
    return {}


@action(KMS, "GetKeyRotationStatus", KeyIdParams, on_key("GetKeyRotationStatus"))
def get_key_rotation_status(request: ApiRequest, params: dict) -> dict:
    return {"KeyRotationEnabled": service.get_key_rotation_status(caller(request), params["KeyId"])}


@action(KMS, "RotateKey", KeyIdParams, on_key("RotateKey"))
def rotate_key(request: ApiRequest, params: dict) -> dict:
    return {"TaskId": service.rotate_key(caller(request), params["KeyId"])}


class ScheduleKeyDeletionParams(KeyIdParams):
    PendingWindowInDays = serializers.IntegerField()


@action(KMS, "ScheduleKeyDeletion", ScheduleKeyDeletionParams, on_key("ScheduleKeyDeletion"))
def schedule_key_deletion(request: ApiRequest, params: dict) -> dict:
    key = service.schedule_key_deletion(caller(request), params["KeyId"], params["PendingWindowInDays"])
    return {"DeletionDate": ts(key.deletion_date), "KeyId": str(key.key_id)}


@action(KMS, "CancelKeyDeletion", KeyIdParams, on_key("CancelKeyDeletion"))
def cancel_key_deletion(request: ApiRequest, params: dict) -> dict:
    service.cancel_key_deletion(caller(request), params["KeyId"])
    return {"KeyId": params["KeyId"]}


@action(KMS, "ArchiveKey", KeyIdParams, on_key("ArchiveKey"))
def archive_key(request: ApiRequest, params: dict) -> dict:
    service.archive_key(caller(request), params["KeyId"])
    return {}


@action(KMS, "CancelKeyArchive", KeyIdParams, on_key("CancelKeyArchive"))
def cancel_key_archive(request: ApiRequest, params: dict) -> dict:
    service.cancel_key_archive(caller(request), params["KeyId"])
    return {}


class BindCloudResourceParams(Params):
    KeyId = serializers.CharField()
    ProductId = serializers.CharField()
    ResourceId = serializers.CharField()


@action(KMS, "BindCloudResource", BindCloudResourceParams, on_key("BindCloudResource"))
def bind_cloud_resource(request: ApiRequest, params: dict) -> dict:
    service.bind_cloud_resource(caller(request), params["KeyId"], params["ProductId"], params["ResourceId"])
    return {}


@action(KMS, "UnbindCloudResource", BindCloudResourceParams, on_key("UnbindCloudResource"))
def unbind_cloud_resource(request: ApiRequest, params: dict) -> dict:
    service.unbind_cloud_resource(caller(request), params["KeyId"], params["ProductId"], params["ResourceId"])
    return {}


class GetParametersForImportParams(Params):
    KeyId = serializers.CharField()
    WrappingAlgorithm = serializers.CharField()
    WrappingKeySpec = serializers.CharField()


@action(KMS, "GetParametersForImport", GetParametersForImportParams, on_key("GetParametersForImport"))
def get_parameters_for_import(request: ApiRequest, params: dict) -> dict:
    found = service.get_parameters_for_import(
        caller(request), params["KeyId"], params["WrappingAlgorithm"], params["WrappingKeySpec"]
    )
    return {
        "KeyId": str(found.key.key_id),
        "ImportToken": found.token,
        "PublicKey": b64(found.public_key_der),
        "ParametersValidTo": ts(found.valid_to),
    }


class ImportKeyMaterialParams(Params):
    KeyId = serializers.CharField()
    ImportToken = serializers.CharField()
    EncryptedKeyMaterial = serializers.CharField()
    ValidTo = serializers.IntegerField(required=False, default=0, min_value=0)


@action(KMS, "ImportKeyMaterial", ImportKeyMaterialParams, on_key("ImportKeyMaterial"))
def import_key_material(request: ApiRequest, params: dict) -> dict:
    service.import_key_material(
        caller(request), params["KeyId"], params["ImportToken"], params["EncryptedKeyMaterial"], params["ValidTo"]
    )
    return {}


@action(KMS, "DeleteImportedKeyMaterial", KeyIdParams, on_key("DeleteImportedKeyMaterial"))
def delete_imported_key_material(request: ApiRequest, params: dict) -> dict:
    service.delete_imported_key_material(caller(request), params["KeyId"])
    return {}
