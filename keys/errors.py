"""KMS errors with their API 3.0 codes. buckets.sse translates them into COS errors, once."""

from core.apierror import ApiError


class KmsError(ApiError):
    code = "FailedOperation"


def _error(name: str, code: str, message: str) -> type[KmsError]:
    return type(name, (KmsError,), {"code": code, "message": message})


ServiceNotEnabled = _error(
    "ServiceNotEnabled",
    "ResourceUnavailable.ServiceNotEnabled",
    "The KMS is not activated: run `python manage.py activate_kms` or POST /api/v1/kms/activate/.",
)
UnsupportedRegion = _error("UnsupportedRegion", "UnsupportedRegion", "The KMS is not offered in this region.")
KeyNotFound = _error("KeyNotFound", "ResourceUnavailable.CmkNotFound", "The CMK does not exist.")
InvalidKeyId = _error("InvalidKeyId", "InvalidParameterValue.InvalidKeyId", "The KeyId is not valid.")
KeyDisabled = _error("KeyDisabled", "ResourceUnavailable.CmkDisabled", "The CMK is disabled.")
KeyArchived = _error("KeyArchived", "ResourceUnavailable.CmkArchived", "The CMK is archived: it can only decrypt.")
KeyPendingDelete = _error("KeyPendingDelete", "ResourceUnavailable.KeyPendingDelete", "The CMK is pending deletion.")
KeyStateNotSupported = _error(
    "KeyStateNotSupported", "ResourceUnavailable.CmkStateNotSupport", "The CMK's state does not allow this operation."
)
KeyShouldBeDisabled = _error(
    "KeyShouldBeDisabled", "ResourceUnavailable.CmkShouldBeDisabled", "Disable the CMK before scheduling its deletion."
)
KeyNotPendingDelete = _error(
    "KeyNotPendingDelete", "ResourceUnavailable.CmkNotPendingDelete", "The CMK is not pending deletion."
)
KeyUsedByCloudProduct = _error(
    "KeyUsedByCloudProduct",
    "FailedOperation.CmkUsedByCloudProduct",
    "The CMK is bound to a cloud resource (e.g. a bucket's default encryption); unbind it first.",
)
AliasAlreadyExists = _error(
    "AliasAlreadyExists", "InvalidParameterValue.AliasAlreadyExists", "The alias is already in use in this region."
)
InvalidAlias = _error(
    "InvalidAlias",
    "InvalidParameterValue.InvalidAlias",
    "Aliases are 1-60 letters, digits, '-' and '_', start with a letter or digit, and may not start with 'kms-'.",
)
InvalidKeyUsage = _error("InvalidKeyUsage", "InvalidParameterValue.InvalidKeyUsage", "The KeyUsage is not supported.")
InvalidType = _error("InvalidType", "InvalidParameterValue.InvalidType", "Type must be 1 (KMS) or 2 (EXTERNAL).")
InvalidCiphertext = _error(
    "InvalidCiphertext",
    "InvalidParameterValue.InvalidCiphertext",
    "The ciphertext is not valid, or the EncryptionContext differs from the one it was made with.",
)
InvalidPlaintext = _error(
    "InvalidPlaintext", "InvalidParameterValue.InvalidPlaintext", "Plaintext must be base64 of 1 to 4096 bytes."
)
InvalidContext = _error(
    "InvalidContext", "InvalidParameter", "EncryptionContext must be a JSON object of at most 1024 characters."
)
InvalidPendingWindow = _error(
    "InvalidPendingWindow", "InvalidParameter.InvalidPendingWindowInDays", "PendingWindowInDays must be 7 to 30."
)
InvalidRotateDays = _error("InvalidRotateDays", "InvalidParameterValue", "RotateDays must be 7 to 365.")
ExternalKeyCannotRotate = _error(
    "ExternalKeyCannotRotate", "UnsupportedOperation.ExternalCmkCanNotRotate", "Imported keys cannot rotate."
)
RotateNotSupported = _error(
    "RotateNotSupported", "UnsupportedOperation.RotateNotSupported", "Enable key rotation before rotating on demand."
)
RotateRateLimited = _error(
    "RotateRateLimited", "RequestLimitExceeded.RotateRateLimited", "A CMK can be rotated on demand once per 24 hours."
)
NotExternalKey = _error("NotExternalKey", "UnsupportedOperation.NotExternalCmk", "The CMK's origin is not EXTERNAL.")
NotUserCreatedKey = _error(
    "NotUserCreatedKey", "UnsupportedOperation.NotUserCreatedCmk", "Keys created by cloud products cannot be changed."
)
TokenExpired = _error("TokenExpired", "ResourceUnavailable.TokenExpired", "The import token is invalid or expired.")
DecryptMaterialError = _error(
    "DecryptMaterialError",
    "InvalidParameter.DecryptMaterialError",
    "EncryptedKeyMaterial could not be unwrapped with the import parameters.",
)
InvalidImportKeyMaterial = _error(
    "InvalidImportKeyMaterial", "InvalidParameterValue.InvalidImportKeyMaterial", "Key material must be 32 bytes."
)
MaterialNotMatch = _error(
    "MaterialNotMatch", "InvalidParameterValue.MaterialNotMatch", "Re-imported material must equal the first import."
)
InvalidValidTo = _error("InvalidValidTo", "InvalidParameterValue", "ValidTo must be 0 or a future unix time.")
BindingNotFound = _error(
    "BindingNotFound", "ResourceUnavailable.CloudResourceBindingNotFound", "The key is not bound to that resource."
)
KeyLimitExceeded = _error("KeyLimitExceeded", "LimitExceeded.CmkLimitExceeded", "At most 200 CMKs per region.")
InvalidDescription = _error("InvalidDescription", "InvalidParameterValue", "Description is at most 1024 bytes.")
InvalidTagKey = _error("InvalidTagKey", "InvalidParameterValue.InvalidTagKey", "A tag key is 1-127 characters.")
InvalidTagValue = _error(
    "InvalidTagValue", "InvalidParameterValue.InvalidTagValue", "A tag value is at most 255 characters."
)
TagLimitExceeded = _error("TagLimitExceeded", "LimitExceeded.TagLimitExceeded", "A CMK has at most 50 tags.")
TagNotFound = _error("TagNotFound", "ResourceNotFound.TagNotFound", "The CMK has no tag with that key.")
InvalidParameterValue = _error("InvalidParameterValue", "InvalidParameterValue", "A parameter value is not valid.")
