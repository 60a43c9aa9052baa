"""Server-side encryption: SSE-COS, SSE-KMS and SSE-C envelopes over the per-blob data keys of segments.py.

Every blob has a random 256-bit data key. How that key is wrapped is the object's SSE mode:
- none / SSE-COS: by the service master key (keys.master), version recorded per blob;
- SSE-KMS: by a key-encryption key that the KMS generates under the CMK (GenerateDataKey, with the request's
  EncryptionContext), acting as the account's COS_QcsRole; only the KMS's blob of it is stored;
- SSE-C: by the customer's key, which is never stored: only HMAC-SHA256(key, random salt) to recognise it.
The wrap binds bucket, key and blob id as associated data. KMS errors become COS errors here, once.
"""

import hashlib
import hmac
from dataclasses import dataclass, field

from django.conf import settings
from django.db import transaction

from core import crypto
from keys import errors as kms_errors
from keys import master
from keys import service as kms
from keys.models import KeyState
from roles import policy
from roles import service as roles
from roles.models import Account

from . import errors
from .models import Bucket, SseMode

SSE_HEADER = "x-cos-server-side-encryption"
KMS_KEY_HEADER = "x-cos-server-side-encryption-cos-kms-key-id"
CUSTOMER = "x-cos-server-side-encryption-customer-"
COS_ACTOR = "cos:COS_QcsRole"
SALT_BYTES = 16


@dataclass(frozen=True)
class CustomerKey:
    """An SSE-C key from request headers: held only for the request."""

    key: bytes
    key_md5_b64: str

    def check(self, salt: bytes) -> str:
        return hmac.new(self.key, salt, hashlib.sha256).hexdigest()

    def matches(self, salt: bytes, expected_check: str) -> bool:
        return hmac.compare_digest(self.check(salt), expected_check)

    def __repr__(self) -> str:  # never print the key
        return "CustomerKey(<redacted>)"


@dataclass(frozen=True)
class SseRequest:
    mode: str = SseMode.NONE
    kms_key_id: str = ""
    kms_context: str = ""
    customer_key: CustomerKey | None = field(default=None, repr=False)


def bucket_default(bucket: Bucket) -> SseRequest | None:
    if bucket.default_sse == "AES256":
        return SseRequest(SseMode.COS)
    if bucket.default_sse == "KMS":
        return SseRequest(SseMode.KMS, kms_key_id=bucket.default_kms_key_id)
    return None


# -- KMS as COS_QcsRole --------------------------------------------------------------------------------------


KMS_TRANSLATIONS = {
    kms_errors.KeyNotFound: errors.KmsKeyNotExist,
    kms_errors.InvalidKeyId: errors.KmsKeyNotExist,
    kms_errors.KeyDisabled: errors.KmsKeyDisabled,
    kms_errors.KeyPendingDelete: errors.KmsKeyDisabled,
    kms_errors.KeyStateNotSupported: errors.KmsKeyDisabled,
    kms_errors.KeyArchived: errors.KmsKeyDisabled,
}


def _translate(exc: kms_errors.KmsError) -> errors.CosError:
    if isinstance(exc, kms_errors.ServiceNotEnabled):
        return errors.KmsException(
            "SSE-KMS needs the KMS: activate it with `python manage.py activate_kms` "
            "or POST /api/v1/kms/activate/ first."
        )
    cos_error = KMS_TRANSLATIONS.get(type(exc))
    if cos_error is not None:
        return cos_error(f"{exc.message} ({exc.code})")
    return errors.KmsException(f"The KMS refused: {exc.code}: {exc.message}")


def _require_kms_region(bucket: Bucket) -> None:
    if bucket.region not in settings.KINKO_KMS_REGIONS:
        raise errors.InvalidArgument(
            f"SSE-KMS is not offered in {bucket.region} (KINKO_KMS_REGIONS: {', '.join(settings.KINKO_KMS_REGIONS)})."
        )


def _require_cos_role(account: Account, action: str, region: str, key_id: str) -> None:
    """Through the API, COS uses the KMS as the account's COS_QcsRole and only as far as its policies allow."""
    role = roles.cos_service_role(account)
    how = (
        "create it with CAM CreateRole (service principal cos.cloud.tencent.com) and AttachRolePolicy "
        "QcloudKMSAccessForCOSRole, or POST /api/v1/cam/cos-service-role/"
    )
    if role is None:
        raise errors.ServiceRoleMissing(f"SSE-KMS needs the CAM service role COS_QcsRole, which does not exist: {how}.")
    resource = policy.kms_resource(region, account.uin, account.uin, key_id or "*")
    if not roles.role_may(role, f"kms:{action}", resource):
        raise errors.ServiceRoleMissing(f"COS_QcsRole is not allowed kms:{action}: attach QcloudKMSAccessForCOSRole.")


def _kms_caller(bucket: Bucket, request_id: str) -> kms.KmsCaller:
    return kms.KmsCaller(bucket.owner, COS_ACTOR, bucket.region, request_id)


# -- envelopes -----------------------------------------------------------------------------------------------


def identity(bucket_name: str, key: str, blob_id: str) -> bytes:
    return f"kinko/dk/{bucket_name}/{key}/{blob_id}".encode("utf-8", "surrogateescape")


@dataclass
class ObjectKeys:
    """An object's (or upload's) open envelope: wraps and unwraps its blobs' data keys."""

    mode: str
    fields: dict  # Envelope model fields to store on the object or upload
    kek: bytes | None = field(default=None, repr=False)  # KMS-made or customer key; None → service master key
    customer_key_md5: str = ""

    def wrap(self, data_key: bytes, ident: bytes) -> dict:
        """WrappedKey model fields for a blob."""
        if self.kek is None:
            version, wrapped = master.wrap(data_key, ident)
            return {"wrapped_key": wrapped, "kek_version": version}
        return {"wrapped_key": crypto.seal(self.kek, data_key, ident), "kek_version": None}

    def unwrap(self, wrapped: bytes, kek_version: int | None, ident: bytes) -> bytes:
        try:
            if kek_version is not None:
                return master.unwrap(kek_version, wrapped, ident)
            return crypto.unseal(self.kek, wrapped, ident)
        except (crypto.DecryptError, LookupError, TypeError):
            raise errors.InternalError("The object's data key could not be unwrapped.") from None

    def echo_headers(self) -> dict[str, str]:
        return echo_headers(self.mode, self.fields.get("kms_key_id", ""), self.customer_key_md5)


def echo_headers(mode: str, kms_key_id: str = "", customer_key_md5: str = "") -> dict[str, str]:
    """The response headers that report an object's SSE (spec §4.3)."""
    if mode == SseMode.COS:
        return {SSE_HEADER: "AES256"}
    if mode == SseMode.KMS:
        return {SSE_HEADER: "cos/kms", KMS_KEY_HEADER: kms_key_id}
    if mode == SseMode.CUSTOMER:
        # The key's MD5 is echoed only when the request carried the key: Kinko keeps no fingerprint but the HMAC.
        echo = {CUSTOMER + "algorithm": "AES256"}
        if customer_key_md5:
            echo[CUSTOMER + "key-MD5"] = customer_key_md5
        return echo
    return {}


def new_envelope(bucket: Bucket, request: SseRequest | None, request_id: str = "", via_api: bool = True) -> ObjectKeys:
    """The envelope of a new object or upload: the request's SSE, else the bucket default, else none."""
    request = request or bucket_default(bucket) or SseRequest()
    if request.mode in (SseMode.NONE, SseMode.COS):
        return ObjectKeys(request.mode, {"sse": request.mode})
    if request.mode == SseMode.CUSTOMER:
        salt = crypto.random_bytes(SALT_BYTES)
        key = request.customer_key
        return ObjectKeys(
            SseMode.CUSTOMER,
            {"sse": SseMode.CUSTOMER, "ssec_salt": salt, "ssec_key_check": key.check(salt)},
            kek=key.key,
            customer_key_md5=key.key_md5_b64,
        )
    _require_kms_region(bucket)
    if via_api:
        _require_cos_role(bucket.owner, "GenerateDataKey", bucket.region, request.kms_key_id)
    try:
        data_key = kms.generate_data_key(
            _kms_caller(bucket, request_id), request.kms_key_id or None, 32, request.kms_context or None
        )
    except kms_errors.KmsError as exc:
        raise _translate(exc) from None
    return ObjectKeys(
        SseMode.KMS,
        {
            "sse": SseMode.KMS,
            "kms_key_id": str(data_key.key.key_id),
            "kms_context": request.kms_context,
            "kms_blob": data_key.blob,
        },
        kek=data_key.plaintext,
    )


def open_envelope(
    bucket: Bucket, record, key: CustomerKey | None, request_id: str = "", via_api: bool = True
) -> ObjectKeys:
    """The envelope of a stored object or upload (`record` has the Envelope fields), for reading its keys.

    SSE-C needs the customer's key (400 InvalidArgument when missing or wrong); SSE-KMS asks the KMS to Decrypt.
    """
    fields = {name: getattr(record, name) for name in ("sse", "kms_key_id", "kms_context", "kms_blob")}
    if record.sse == SseMode.CUSTOMER:
        if key is None:
            raise errors.InvalidArgument("The object is SSE-C encrypted: send its key in the SSE-C headers.")
        if not key.matches(bytes(record.ssec_salt), record.ssec_key_check):
            raise errors.InvalidArgument("The SSE-C key does not match the object's key.")
        return ObjectKeys(SseMode.CUSTOMER, fields, kek=key.key, customer_key_md5=key.key_md5_b64)
    if key is not None:
        raise errors.InvalidArgument("SSE-C headers were sent for an object that is not SSE-C encrypted.")
    if record.sse != SseMode.KMS:
        return ObjectKeys(record.sse, fields)
    if via_api:
        _require_cos_role(bucket.owner, "Decrypt", bucket.region, record.kms_key_id)
    try:
        _, kek = kms.decrypt(_kms_caller(bucket, request_id), record.kms_blob, record.kms_context or None)
    except kms_errors.KmsError as exc:
        raise _translate(exc) from None
    return ObjectKeys(SseMode.KMS, fields, kek=kek)


def resolve_kms_key(bucket: Bucket, kms_key_id: str, request_id: str = "") -> str:
    """The KeyId SSE-KMS would use in the bucket's region: the one named (checked to exist), else the default."""
    _require_kms_region(bucket)
    caller = _kms_caller(bucket, request_id)
    try:
        key = kms.get_key(caller, kms_key_id) if kms_key_id else kms.default_key(caller)
    except kms_errors.KmsError as exc:
        raise _translate(exc) from None
    return str(key.key_id)


# -- bucket default encryption -------------------------------------------------------------------------------

COS_PRODUCT = "cos"


def set_bucket_encryption(bucket: Bucket, algorithm: str, kms_key_id: str = "", request_id: str = "") -> None:
    """PUT Bucket encryption: AES256, or KMS with an optional CMK (the region's default CMK when omitted). The
    CMK is bound to the bucket, so it cannot be disabled or deleted while the bucket's default names it."""
    if algorithm not in ("AES256", "KMS"):
        raise errors.InvalidArgument("SSEAlgorithm must be AES256 or KMS.")
    if algorithm == "AES256" and kms_key_id:
        raise errors.InvalidArgument("KMSMasterKeyID goes with SSEAlgorithm KMS.")
    caller = _kms_caller(bucket, request_id)
    with transaction.atomic():
        _unbind_default_key(bucket, caller)
        if algorithm == "KMS":
            _require_kms_region(bucket)
            try:
                key = kms.get_key(caller, kms_key_id) if kms_key_id else kms.default_key(caller)
                if key.state != KeyState.ENABLED:
                    raise errors.KmsKeyDisabled(f"The KMS key {key.key_id} is {key.state}, not Enabled.")
                kms.bind_cloud_resource(caller, str(key.key_id), COS_PRODUCT, bucket.name)
            except kms_errors.KmsError as exc:
                raise _translate(exc) from None
            kms_key_id = str(key.key_id)
        bucket.default_sse, bucket.default_kms_key_id = algorithm, kms_key_id
        bucket.save(update_fields=["default_sse", "default_kms_key_id"])


def delete_bucket_encryption(bucket: Bucket, request_id: str = "") -> None:
    with transaction.atomic():
        _unbind_default_key(bucket, _kms_caller(bucket, request_id))
        bucket.default_sse, bucket.default_kms_key_id = "", ""
        bucket.save(update_fields=["default_sse", "default_kms_key_id"])


def _unbind_default_key(bucket: Bucket, caller: kms.KmsCaller) -> None:
    if bucket.default_sse == "KMS" and bucket.default_kms_key_id:
        try:
            kms.unbind_cloud_resource(caller, bucket.default_kms_key_id, COS_PRODUCT, bucket.name)
        except kms_errors.KmsError:
            pass  # the key or its binding is already gone; nothing is left to release
