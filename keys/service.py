"""KMS operations: activation, CMK lifecycle, data keys, encrypt/decrypt, rotation, import, deletion, audit.

Every function takes a KmsCaller (account, actor, region, request id) and records an AuditEvent, success or error
code, never plaintext or material. Key material exists in clear only inside these functions.
"""

import base64
import binascii
import datetime
import logging
import re
import secrets
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from django.conf import settings
from django.db import DatabaseError, IntegrityError, models, transaction
from django.utils import timezone

from core import crypto, keystore, metrics
from core.db import lock
from keys import blob
from keys import errors as e
from keys.models import (
    AuditEvent,
    CloudResourceBinding,
    ImportToken,
    KeyMaterial,
    KeyOrigin,
    KeyState,
    KeyUsage,
    KmsActivation,
    MasterKey,
)
from roles.models import Account

log = logging.getLogger(__name__)

ALIAS = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,59}$")
RESERVED_ALIAS_PREFIX = "kms-"
DEFAULT_KEY_ALIAS = "kms-cos"
MAX_KEYS_PER_REGION = 200
MAX_PLAINTEXT_BYTES = 4096
IMPORT_PARAMETERS_TTL = datetime.timedelta(hours=24)
ROTATE_ON_DEMAND_INTERVAL = datetime.timedelta(hours=24)
MATERIAL_BYTES = 32
MAX_DESCRIPTION_BYTES = 1024
MAX_TAGS = 50
MAX_TAG_KEY_CHARS = 127
MAX_TAG_VALUE_CHARS = 255
BEIJING = datetime.timezone(datetime.timedelta(hours=8))
USABLE_FOR_DECRYPT = (KeyState.ENABLED, KeyState.ARCHIVED)


@dataclass(frozen=True)
class KmsCaller:
    account: Account
    actor: str  # the SecretId, or the service acting for the account (e.g. "cos" as COS_QcsRole)
    region: str | None = None
    request_id: str = ""

    @property
    def kms_region(self) -> str:
        region = self.region or settings.KINKO_KMS_REGIONS[0]
        if region not in settings.KINKO_KMS_REGIONS:
            raise e.UnsupportedRegion(f"The KMS is not offered in {region}; KINKO_KMS_REGIONS lists where it is.")
        return region


# -- audit ----------------------------------------------------------------------------------------------------


@dataclass
class _AuditNote:
    key: MasterKey | None = None
    version: int | None = None
    key_id: str = ""
    counts_as_use: bool = False


@contextmanager
def _audited(caller: KmsCaller, action: str, key_id: str = "", use: bool = False) -> Iterator[_AuditNote]:
    note = _AuditNote(key_id=str(key_id or ""), counts_as_use=use)
    try:
        yield note
    except e.KmsError as exc:
        _record(caller, action, note, exc.code)
        raise
    _record(caller, action, note, "")


_audit_failures_logged = False


def _record(caller: KmsCaller, action: str, note: _AuditNote, error_code: str) -> None:
    """Best effort: the call's outcome never depends on its audit row. A database that cannot write (a full disk)
    loses the row, logged once per process with its traceback, and the call (an SSE-KMS read's Decrypt) succeeds."""
    global _audit_failures_logged
    metrics.count_kms_call(action, error_code)
    try:
        _write_record(caller, action, note, error_code)
    except DatabaseError:
        if not _audit_failures_logged:
            _audit_failures_logged = True
            log.warning(
                "KMS audit: could not record %s (logged once; later failures are silent)", action, exc_info=True
            )


def _write_record(caller: KmsCaller, action: str, note: _AuditNote, error_code: str) -> None:
    """The audit event and, for a cryptographic use, the key's monthly count: one transaction, one commit."""
    key_id = str(note.key.key_id) if note.key is not None else note.key_id
    with transaction.atomic():
        AuditEvent.objects.create(
            account=caller.account,
            actor=caller.actor,
            action=action,
            key_id=key_id[:36],
            key_version=note.version,
            request_id=caller.request_id,
            error_code=error_code,
        )
        if note.counts_as_use and note.key is not None and not error_code:
            month = timezone.now().strftime("%Y-%m")
            counted = KeyUsage.objects.filter(key=note.key, month=month).update(calls=models.F("calls") + 1)
            if not counted:  # the month's first use; another process may be creating the row at the same time
                usage, created = KeyUsage.objects.get_or_create(key=note.key, month=month, defaults={"calls": 1})
                if not created:
                    KeyUsage.objects.filter(pk=usage.pk).update(calls=models.F("calls") + 1)


# -- activation and lookup -----------------------------------------------------------------------------------


def is_activated(account: Account) -> bool:
    return KmsActivation.objects.filter(account=account).exists()


def require_activated(account: Account) -> None:
    if not is_activated(account):
        raise e.ServiceNotEnabled()


@transaction.atomic
def activate_kms(account: Account) -> dict[str, str]:
    """Activate the account's KMS and make one default CMK per KMS region (idempotent): {region: KeyId}."""
    lock(account)  # a second activation at the same time waits, then finds the default keys made
    KmsActivation.objects.get_or_create(account=account)
    defaults = {}
    for region in settings.KINKO_KMS_REGIONS:
        key = MasterKey.objects.live().filter(account=account, region=region, is_default=True).first()
        if key is None:
            key = _new_key(
                account,
                region,
                DEFAULT_KEY_ALIAS,
                "Default key for COS server-side encryption (SSE-KMS)",
                account.uin,
                owner="cos",
                is_default=True,
            )
        defaults[region] = str(key.key_id)
    return defaults


def default_key(caller: KmsCaller) -> MasterKey:
    require_activated(caller.account)
    key = MasterKey.objects.live().filter(account=caller.account, region=caller.kms_region, is_default=True).first()
    if key is None:
        raise e.KeyNotFound(f"There is no default CMK in {caller.kms_region}; run activate_kms again.")
    return key


def _parse_key_id(key_id: str) -> uuid.UUID:
    try:
        return uuid.UUID(str(key_id))
    except ValueError:
        raise e.InvalidKeyId(f"{key_id!r} is not a KeyId.") from None


def get_key(caller: KmsCaller, key_id: str, *, any_region: bool = False) -> MasterKey:
    require_activated(caller.account)
    keys = MasterKey.objects.live().filter(account=caller.account, key_id=_parse_key_id(key_id))
    if not any_region:
        keys = keys.filter(region=caller.kms_region)
    key = keys.first()
    if key is None:
        raise e.KeyNotFound(f"The CMK {key_id} does not exist in {caller.region or caller.kms_region}.")
    _expire_imported_material(key)
    return key


def locate_key(account: Account, key_id: str | uuid.UUID) -> MasterKey | None:
    """The account's live CMK `key_id` in any region (None when there is none), with no checks and no audit: what
    an edge authorises against before it calls the operation, which looks the key up again with its checks."""
    try:
        key_uuid = key_id if isinstance(key_id, uuid.UUID) else uuid.UUID(str(key_id))
    except ValueError:
        return None
    return (
        MasterKey.objects.live()
        .filter(account=account, key_id=key_uuid)
        .only("key_id", "region", "creator_uin")
        .first()
    )


def _expire_imported_material(key: MasterKey, now: datetime.datetime | None = None) -> None:
    """Imported material past its ValidTo is destroyed; the key waits for the same material to be imported again."""
    now = now or timezone.now()
    if key.origin == KeyOrigin.EXTERNAL and key.valid_to is not None and key.valid_to <= now:
        with transaction.atomic():
            key.materials.all().delete()
            key.state = KeyState.PENDING_IMPORT
            key.valid_to = None
            key.save(update_fields=["state", "valid_to"])


def _new_key(
    account: Account,
    region: str,
    alias: str,
    description: str,
    creator_uin: str,
    *,
    origin: str = KeyOrigin.TENCENT_KMS,
    owner: str = "user",
    is_default: bool = False,
    tags: list | None = None,
) -> MasterKey:
    now = timezone.now()
    try:
        with transaction.atomic():
            key = MasterKey.objects.create(
                account=account,
                region=region,
                alias=alias,
                description=description,
                creator_uin=creator_uin,
                origin=origin,
                owner=owner,
                is_default=is_default,
                tags=tags or [],
                created_at=now,
                state=KeyState.ENABLED if origin == KeyOrigin.TENCENT_KMS else KeyState.PENDING_IMPORT,
                next_rotate_at=now + datetime.timedelta(days=365),
            )
            if origin == KeyOrigin.TENCENT_KMS:
                _add_material(key, crypto.random_bytes(MATERIAL_BYTES))
    except IntegrityError:
        raise e.AliasAlreadyExists() from None
    return key


def _material_purpose(key: MasterKey, version: int) -> bytes:
    return f"kms-material:{key.key_id}:{version}".encode()


def _add_material(key: MasterKey, material: bytes) -> int:
    """Inside a transaction: the key's next material version, holding the key until the transaction ends."""
    lock(key)
    version = key.current_version + 1
    KeyMaterial.objects.create(
        key=key, version=version, material_sealed=keystore.seal_secret(material, _material_purpose(key, version))
    )
    return version


def _material(
    key: MasterKey, version: int | None = None, missing: type[e.KmsError] = e.KeyStateNotSupported
) -> tuple[int, bytes]:
    """A material version (the newest when None) unsealed; `missing` is raised when there is no such version."""
    rows = key.materials.all()
    row = rows.filter(version=version).first() if version is not None else rows.order_by("-version").first()
    if row is None:
        raise missing("The CMK has no such key material.")
    return row.version, keystore.unseal_secret(bytes(row.material_sealed), _material_purpose(key, row.version))


# -- key management ------------------------------------------------------------------------------------------


def _check_alias(alias: str) -> None:
    if not ALIAS.match(alias) or alias.lower().startswith(RESERVED_ALIAS_PREFIX):
        raise e.InvalidAlias()


def create_key(
    caller: KmsCaller,
    alias: str,
    description: str = "",
    usage: str = "ENCRYPT_DECRYPT",
    key_type: int = 1,
    tags: list | None = None,
) -> MasterKey:
    with _audited(caller, "CreateKey") as note:
        require_activated(caller.account)
        _check_alias(alias)
        if usage != "ENCRYPT_DECRYPT":
            raise e.InvalidKeyUsage("Only symmetric ENCRYPT_DECRYPT keys are offered.")
        if key_type not in (1, 2):
            raise e.InvalidType()
        _check_description(description)
        region = caller.kms_region
        if (
            MasterKey.objects.live()
            .filter(account=caller.account, region=region, owner="user")
            .exclude(state=KeyState.PENDING_DELETE)
            .count()
            >= MAX_KEYS_PER_REGION
        ):
            raise e.KeyLimitExceeded()
        origin = KeyOrigin.TENCENT_KMS if key_type == 1 else KeyOrigin.EXTERNAL
        note.key = _new_key(caller.account, region, alias, description, caller.account.uin, origin=origin, tags=tags)
        return note.key


def describe_key(caller: KmsCaller, key_id: str) -> MasterKey:
    with _audited(caller, "DescribeKey", key_id) as note:
        note.key = get_key(caller, key_id)
        return note.key


def describe_keys(caller: KmsCaller, key_ids: list[str]) -> list[MasterKey]:
    with _audited(caller, "DescribeKeys"):
        if len(set(key_ids)) != len(key_ids):
            raise e.InvalidParameterValue("KeyIds are duplicated.", code="InvalidParameterValue.DuplicatedKeyId")
        return [get_key(caller, key_id) for key_id in key_ids]


def list_keys(
    caller: KmsCaller,
    offset: int = 0,
    limit: int = 10,
    role: int | None = None,
    states: tuple[str, ...] = (KeyState.ENABLED, KeyState.DISABLED, KeyState.PENDING_IMPORT),
) -> tuple[list[MasterKey], int]:
    with _audited(caller, "ListKeys"):
        require_activated(caller.account)
        keys = MasterKey.objects.live().filter(account=caller.account, region=caller.kms_region, state__in=states)
        if role == 0:
            keys = keys.filter(owner="user")
        elif role == 1:
            keys = keys.exclude(owner="user")
        return list(keys.order_by("created_at", "id")[offset : offset + limit]), keys.count()


@dataclass
class KeyFilter:
    offset: int = 0
    limit: int = 10
    role: int | None = None
    newest_first: bool = True
    state: str | None = None
    search: str = ""
    origin: str = "ALL"
    usage: str = ""
    tag_filters: list = field(default_factory=list)


def list_key_detail(caller: KmsCaller, query: KeyFilter) -> tuple[list[MasterKey], int]:
    with _audited(caller, "ListKeyDetail"):
        require_activated(caller.account)
        keys = MasterKey.objects.live().filter(account=caller.account, region=caller.kms_region)
        if query.role == 0:
            keys = keys.filter(owner="user")
        elif query.role == 1:
            keys = keys.exclude(owner="user")
        if query.state:
            keys = keys.filter(state=query.state)
        if query.search:
            keys = keys.filter(models.Q(alias__icontains=query.search) | models.Q(key_id__icontains=query.search))
        if query.origin != "ALL":
            keys = keys.filter(origin=query.origin)
        if query.usage != "ALL":
            keys = keys.filter(usage=query.usage or "ENCRYPT_DECRYPT")
        matched = [key for key in keys if _matches_tags(key.tags, query.tag_filters)]
        matched.sort(key=lambda k: (k.created_at, k.id), reverse=query.newest_first)
        return matched[query.offset : query.offset + query.limit], len(matched)


def _matches_tags(tags: list, filters: list) -> bool:
    values = {}
    for tag in tags:
        values.setdefault(tag.get("TagKey"), set()).add(tag.get("TagValue"))
    for wanted in filters:
        present = values.get(wanted.get("TagKey"))
        if present is None or (wanted.get("TagValue") and not present & set(wanted["TagValue"])):
            return False
    return True


def _user_key(caller: KmsCaller, key_id: str) -> MasterKey:
    key = get_key(caller, key_id)
    if key.owner != "user":
        raise e.NotUserCreatedKey()
    return key


def _is_bound(key: MasterKey) -> bool:
    return key.bindings.exists()


def enable_key(caller: KmsCaller, key_id: str) -> None:
    with _audited(caller, "EnableKey", key_id) as note:
        key = note.key = get_key(caller, key_id)
        if key.state not in (KeyState.ENABLED, KeyState.DISABLED):
            raise e.KeyStateNotSupported()
        key.state = KeyState.ENABLED
        key.save(update_fields=["state"])


def disable_key(caller: KmsCaller, key_id: str) -> None:
    with _audited(caller, "DisableKey", key_id) as note:
        key = note.key = get_key(caller, key_id)
        if key.state not in (KeyState.ENABLED, KeyState.DISABLED):
            raise e.KeyStateNotSupported()
        if _is_bound(key):
            raise e.KeyUsedByCloudProduct()
        key.state = KeyState.DISABLED
        key.save(update_fields=["state"])


def _all_or_nothing(caller: KmsCaller, key_ids: list[str], one) -> None:
    if len(set(key_ids)) != len(key_ids):
        raise e.InvalidParameterValue("KeyIds are duplicated.", code="InvalidParameterValue.DuplicatedKeyId")
    with transaction.atomic():
        for key_id in key_ids:
            one(caller, key_id)


def enable_keys(caller: KmsCaller, key_ids: list[str]) -> None:
    _all_or_nothing(caller, key_ids, enable_key)


def disable_keys(caller: KmsCaller, key_ids: list[str]) -> None:
    _all_or_nothing(caller, key_ids, disable_key)


def update_alias(caller: KmsCaller, key_id: str, alias: str) -> None:
    with _audited(caller, "UpdateAlias", key_id) as note:
        key = note.key = _user_key(caller, key_id)
        _check_alias(alias)
        if key.state == KeyState.PENDING_DELETE:
            raise e.KeyNotFound("Keys pending deletion cannot be changed.")
        key.alias = alias
        try:
            with transaction.atomic():
                key.save(update_fields=["alias"])
        except IntegrityError:
            raise e.AliasAlreadyExists() from None


def update_key_description(caller: KmsCaller, key_id: str, description: str) -> None:
    with _audited(caller, "UpdateKeyDescription", key_id) as note:
        key = note.key = _user_key(caller, key_id)
        if key.state == KeyState.PENDING_DELETE:
            raise e.KeyNotFound("Keys pending deletion cannot be changed.")
        _check_description(description)
        key.description = description
        key.save(update_fields=["description"])


def _check_description(description: str) -> None:
    if len(description.encode()) > MAX_DESCRIPTION_BYTES:
        raise e.InvalidDescription()


def _check_tag(tag_key: str, tag_value: str) -> None:
    if not 1 <= len(tag_key) <= MAX_TAG_KEY_CHARS or tag_key.strip() != tag_key:
        raise e.InvalidTagKey()
    if len(tag_value) > MAX_TAG_VALUE_CHARS:
        raise e.InvalidTagValue()


def tag_key(caller: KmsCaller, key_id: str, tag_key: str, tag_value: str = "") -> None:
    """Set the key's tag `tag_key` to `tag_value` (replacing the value it had)."""
    with _audited(caller, "TagResource", key_id) as note:
        key = note.key = _user_key(caller, key_id)
        _check_tag(tag_key, tag_value)
        others = [tag for tag in key.tags if tag.get("TagKey") != tag_key]
        if len(others) >= MAX_TAGS:
            raise e.TagLimitExceeded()
        key.tags = [*others, {"TagKey": tag_key, "TagValue": tag_value}]
        key.save(update_fields=["tags"])


def untag_key(caller: KmsCaller, key_id: str, tag_key: str) -> None:
    with _audited(caller, "UntagResource", key_id) as note:
        key = note.key = _user_key(caller, key_id)
        kept = [tag for tag in key.tags if tag.get("TagKey") != tag_key]
        if len(kept) == len(key.tags):
            raise e.TagNotFound()
        key.tags = kept
        key.save(update_fields=["tags"])


# -- cryptography --------------------------------------------------------------------------------------------


def _context(context: str | None) -> bytes:
    try:
        return blob.canonical_context(context)
    except blob.InvalidContext as exc:
        raise e.InvalidContext(f"EncryptionContext is not valid: {exc}.") from None


def _require_usable(key: MasterKey, for_decrypt: bool = False) -> None:
    if key.state == KeyState.ENABLED or (for_decrypt and key.state == KeyState.ARCHIVED):
        return
    raise {
        KeyState.DISABLED: e.KeyDisabled,
        KeyState.ARCHIVED: e.KeyArchived,
        KeyState.PENDING_DELETE: e.KeyPendingDelete,
    }.get(key.state, e.KeyStateNotSupported)()


@dataclass(frozen=True)
class DataKey:
    key: MasterKey
    version: int
    plaintext: bytes
    blob: str


def _encrypt(key: MasterKey, plaintext: bytes, context: bytes) -> tuple[int, str]:
    _require_usable(key)
    version, material = _material(key)
    return version, blob.seal(blob.BlobHeader(key.key_id, version), material, plaintext, context)


def generate_data_key(
    caller: KmsCaller, key_id: str | None, number_of_bytes: int = 32, context: str | None = None
) -> DataKey:
    """A fresh data key and its blob under the CMK (the region's default CMK when key_id is None)."""
    with _audited(caller, "GenerateDataKey", key_id or "", use=True) as note:
        key = note.key = get_key(caller, key_id) if key_id else default_key(caller)
        if not 1 <= number_of_bytes <= 1024:
            raise e.InvalidParameterValue("NumberOfBytes must be 1 to 1024.")
        plaintext = crypto.random_bytes(number_of_bytes)
        note.version, sealed = _encrypt(key, plaintext, _context(context))
        return DataKey(key, note.version, plaintext, sealed)


def encrypt(caller: KmsCaller, key_id: str, plaintext: bytes, context: str | None = None) -> tuple[MasterKey, str]:
    with _audited(caller, "Encrypt", key_id, use=True) as note:
        key = note.key = get_key(caller, key_id)
        if not 1 <= len(plaintext) <= MAX_PLAINTEXT_BYTES:
            raise e.InvalidPlaintext()
        note.version, sealed = _encrypt(key, plaintext, _context(context))
        return key, sealed


def _open(caller: KmsCaller, ciphertext: str, context: str | None, note: _AuditNote) -> bytes:
    try:
        header, raw = blob.read_header(ciphertext)
    except blob.MalformedBlob:
        raise e.InvalidCiphertext() from None
    note.key_id, note.version = str(header.key_id), header.version
    require_activated(caller.account)
    key = MasterKey.objects.live().filter(account=caller.account, key_id=header.key_id).first()
    if key is None:
        raise e.KeyNotFound("The CMK this ciphertext was made with does not exist.")
    _expire_imported_material(key)
    note.key = key
    _require_usable(key, for_decrypt=True)
    _, material = _material(key, header.version, missing=e.InvalidCiphertext)
    try:
        return blob.open_blob(raw, material, _context(context))
    except crypto.DecryptError:
        raise e.InvalidCiphertext() from None


def decrypt(caller: KmsCaller, ciphertext: str, context: str | None = None) -> tuple[MasterKey, bytes]:
    with _audited(caller, "Decrypt", use=True) as note:
        plaintext = _open(caller, ciphertext, context, note)
        return note.key, plaintext


@dataclass(frozen=True)
class ReEncrypted:
    blob: str
    key: MasterKey
    source_key: MasterKey
    re_encrypted: bool


def re_encrypt(
    caller: KmsCaller,
    ciphertext: str,
    destination_key_id: str | None = None,
    source_context: str | None = None,
    destination_context: str | None = None,
) -> ReEncrypted:
    with _audited(caller, "ReEncrypt", use=True) as note:
        plaintext = _open(caller, ciphertext, source_context, note)
        source = note.key
        destination = get_key(caller, destination_key_id) if destination_key_id else source
        same_context = _context(source_context) == _context(destination_context)
        if destination.id == source.id and note.version == destination.current_version and same_context:
            return ReEncrypted(ciphertext, destination, source, False)
        _, sealed = _encrypt(destination, plaintext, _context(destination_context))
        return ReEncrypted(sealed, destination, source, True)


def generate_random(caller: KmsCaller, number_of_bytes: int) -> bytes:
    with _audited(caller, "GenerateRandom"):
        require_activated(caller.account)
        if not 1 <= number_of_bytes <= 1024:
            raise e.InvalidParameterValue("NumberOfBytes must be 1 to 1024.")
        return crypto.random_bytes(number_of_bytes)


# -- rotation ------------------------------------------------------------------------------------------------


def enable_key_rotation(caller: KmsCaller, key_id: str, rotate_days: int = 365) -> None:
    with _audited(caller, "EnableKeyRotation", key_id) as note:
        key = note.key = get_key(caller, key_id)
        if key.origin == KeyOrigin.EXTERNAL:
            raise e.ExternalKeyCannotRotate()
        if key.state not in (KeyState.ENABLED, KeyState.DISABLED):
            raise e.KeyStateNotSupported()
        if not 7 <= rotate_days <= 365:
            raise e.InvalidRotateDays()
        key.rotation_enabled = True
        key.rotate_days = rotate_days
        key.next_rotate_at = (key.last_rotated_at or key.created_at) + datetime.timedelta(days=rotate_days)
        key.save(update_fields=["rotation_enabled", "rotate_days", "next_rotate_at"])


def disable_key_rotation(caller: KmsCaller, key_id: str) -> None:
    with _audited(caller, "DisableKeyRotation", key_id) as note:
        key = note.key = get_key(caller, key_id)
        key.rotation_enabled = False
        key.save(update_fields=["rotation_enabled"])


def get_key_rotation_status(caller: KmsCaller, key_id: str) -> bool:
    with _audited(caller, "GetKeyRotationStatus", key_id) as note:
        note.key = get_key(caller, key_id)
        return note.key.rotation_enabled


def _rotate(key: MasterKey, now: datetime.datetime) -> int:
    with transaction.atomic():
        version = _add_material(key, crypto.random_bytes(MATERIAL_BYTES))
        key.last_rotated_at = now
        key.next_rotate_at = now + datetime.timedelta(days=key.rotate_days)
        key.save(update_fields=["last_rotated_at", "next_rotate_at"])
    return version


def rotate_key(caller: KmsCaller, key_id: str, now: datetime.datetime | None = None) -> str:
    """On-demand rotation (at most once per 24 h); old versions keep decrypting. Returns a TaskId."""
    now = now or timezone.now()
    with _audited(caller, "RotateKey", key_id) as note:
        key = note.key = get_key(caller, key_id)
        if key.origin == KeyOrigin.EXTERNAL or not key.rotation_enabled:
            raise e.RotateNotSupported()
        if key.state != KeyState.ENABLED:
            raise e.KeyStateNotSupported()
        if key.last_rotated_at is not None and now - key.last_rotated_at < ROTATE_ON_DEMAND_INTERVAL:
            raise e.RotateRateLimited()
        note.version = _rotate(key, now)
        return str(uuid.uuid4())


def rotate_due_keys(now: datetime.datetime | None = None) -> int:
    """Rotate every key whose rotation is due (Celery beat, `rotate_due_keys` command)."""
    now = now or timezone.now()
    rotated = 0
    for key in MasterKey.objects.due_for_rotation(now).select_related("account"):
        version = _rotate(key, now)
        _record(KmsCaller(key.account, "kms-scheduler"), "RotateKey", _AuditNote(key=key, version=version), "")
        rotated += 1
    return rotated


# -- deletion and archiving ----------------------------------------------------------------------------------


def deletion_date(now: datetime.datetime, days: int) -> datetime.datetime:
    """End of the Beijing day `days` days from now (Tencent's DeletionDate convention)."""
    day = now.astimezone(BEIJING).date() + datetime.timedelta(days=days)
    return datetime.datetime.combine(day, datetime.time(23, 59, 59), BEIJING).astimezone(datetime.UTC)


def schedule_key_deletion(
    caller: KmsCaller, key_id: str, pending_days: int, now: datetime.datetime | None = None
) -> MasterKey:
    with _audited(caller, "ScheduleKeyDeletion", key_id) as note:
        key = note.key = get_key(caller, key_id)
        if not 7 <= pending_days <= 30:
            raise e.InvalidPendingWindow()
        if _is_bound(key):
            raise e.KeyUsedByCloudProduct()
        if key.state == KeyState.PENDING_DELETE:
            raise e.KeyStateNotSupported("The CMK is already pending deletion.")
        if key.state != KeyState.DISABLED:
            raise e.KeyShouldBeDisabled()
        key.state = KeyState.PENDING_DELETE
        key.deletion_date = deletion_date(now or timezone.now(), pending_days)
        key.save(update_fields=["state", "deletion_date"])
        return key


def cancel_key_deletion(caller: KmsCaller, key_id: str) -> None:
    with _audited(caller, "CancelKeyDeletion", key_id) as note:
        key = note.key = get_key(caller, key_id)
        if key.state != KeyState.PENDING_DELETE:
            raise e.KeyNotPendingDelete()
        key.state = KeyState.DISABLED
        key.deletion_date = None
        key.save(update_fields=["state", "deletion_date"])


def purge_pending_deletions(now: datetime.datetime | None = None) -> int:
    """Destroy keys whose deletion date passed: their material is deleted (crypto-shredding), the record stays."""
    now = now or timezone.now()
    purged = 0
    for key in MasterKey.objects.due_for_deletion(now).select_related("account"):
        with transaction.atomic():
            key.materials.all().delete()
            key.import_tokens.all().delete()
            key.destroyed_at = now
            key.destroy_reason = f"ScheduleKeyDeletion: deletion date {key.deletion_date:%Y-%m-%d %H:%M:%S} UTC reached"
            key.save(update_fields=["destroyed_at", "destroy_reason"])
        _record(KmsCaller(key.account, "kms-scheduler"), "DeleteKey", _AuditNote(key=key), "")
        purged += 1
    return purged


def archive_key(caller: KmsCaller, key_id: str) -> None:
    with _audited(caller, "ArchiveKey", key_id) as note:
        key = note.key = _user_key(caller, key_id)
        if key.state != KeyState.ENABLED:
            raise e.KeyStateNotSupported()
        if _is_bound(key):
            raise e.KeyUsedByCloudProduct()
        key.state = KeyState.ARCHIVED
        key.save(update_fields=["state"])


def cancel_key_archive(caller: KmsCaller, key_id: str) -> None:
    with _audited(caller, "CancelKeyArchive", key_id) as note:
        key = note.key = _user_key(caller, key_id)
        if key.state != KeyState.ARCHIVED:
            raise e.KeyStateNotSupported()
        key.state = KeyState.ENABLED
        key.save(update_fields=["state"])


# -- cloud resource bindings ---------------------------------------------------------------------------------


def bind_cloud_resource(caller: KmsCaller, key_id: str, product_id: str, resource_id: str) -> None:
    with _audited(caller, "BindCloudResource", key_id) as note:
        key = note.key = get_key(caller, key_id)
        if key.state not in (KeyState.ENABLED, KeyState.DISABLED):
            raise e.KeyStateNotSupported()
        CloudResourceBinding.objects.get_or_create(key=key, product_id=product_id, resource_id=resource_id)


def unbind_cloud_resource(caller: KmsCaller, key_id: str, product_id: str, resource_id: str) -> None:
    with _audited(caller, "UnbindCloudResource", key_id) as note:
        key = note.key = get_key(caller, key_id)
        deleted, _ = CloudResourceBinding.objects.filter(
            key=key, product_id=product_id, resource_id=resource_id
        ).delete()
        if not deleted:
            raise e.BindingNotFound()


# -- imported key material -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class ImportParameters:
    key: MasterKey
    token: str
    public_key_der: bytes
    valid_to: datetime.datetime
    algorithm: str = ""

    @property
    def public_key_pem(self) -> bytes:
        return crypto.public_der_to_pem(self.public_key_der)


def _external_key(caller: KmsCaller, key_id: str) -> MasterKey:
    key = get_key(caller, key_id)
    if key.origin != KeyOrigin.EXTERNAL:
        raise e.NotExternalKey()
    return key


def get_parameters_for_import(
    caller: KmsCaller, key_id: str, algorithm: str, key_spec: str, now: datetime.datetime | None = None
) -> ImportParameters:
    now = now or timezone.now()
    with _audited(caller, "GetParametersForImport", key_id) as note:
        key = note.key = _external_key(caller, key_id)
        if algorithm not in crypto.RSA_PADDINGS:
            raise e.InvalidParameterValue(f"WrappingAlgorithm must be one of {', '.join(crypto.RSA_PADDINGS)}.")
        if key_spec != "RSA_2048":
            raise e.InvalidParameterValue("WrappingKeySpec must be RSA_2048.")
        private_pem, public_der = crypto.rsa_generate_2048()
        token = secrets.token_hex(32)
        valid_to = now + IMPORT_PARAMETERS_TTL
        ImportToken.objects.create(
            key=key,
            token=token,
            wrapping_algorithm=algorithm,
            expires_at=valid_to,
            private_key_sealed=keystore.seal_secret(private_pem, f"kms-import:{token}".encode()),
        )
        return ImportParameters(key, token, public_der, valid_to, algorithm)


def import_parameters(
    caller: KmsCaller, key_id: str, import_token: str, now: datetime.datetime | None = None
) -> ImportParameters:
    """The parameters GetParametersForImport issued under `import_token`, while they are valid (the public key is
    read back from the sealed key pair): for showing and downloading them again, so no audit event."""
    key = _external_key(caller, key_id)
    token = ImportToken.objects.filter(key=key, token=import_token).first()
    if token is None or token.expires_at <= (now or timezone.now()):
        raise e.TokenExpired()
    private_pem = keystore.unseal_secret(bytes(token.private_key_sealed), f"kms-import:{token.token}".encode())
    return ImportParameters(
        key, token.token, crypto.rsa_public_der(private_pem), token.expires_at, token.wrapping_algorithm
    )


def _material_check(key: MasterKey, material: bytes) -> str:
    """A keyed fingerprint of imported material, so a re-import can be matched without keeping the material."""
    mac_key = crypto.hkdf_sha256(keystore.root_key(), b"", b"kinko/kms/import-check")
    return crypto.hmac_sha256(mac_key, str(key.key_id).encode() + material).hex()


def import_key_material(
    caller: KmsCaller,
    key_id: str,
    import_token: str,
    encrypted_material_b64: str,
    valid_to: int = 0,
    now: datetime.datetime | None = None,
) -> None:
    now = now or timezone.now()
    with _audited(caller, "ImportKeyMaterial", key_id) as note:
        key = note.key = _external_key(caller, key_id)
        if key.state not in (KeyState.ENABLED, KeyState.PENDING_IMPORT):
            raise e.KeyStateNotSupported()
        token = ImportToken.objects.filter(key=key, token=import_token).first()
        if token is None or token.expires_at <= now:
            raise e.TokenExpired()
        if valid_to and (valid_to <= now.timestamp() or valid_to > 2147443200):
            raise e.InvalidValidTo()
        try:
            wrapped = base64.b64decode(encrypted_material_b64, validate=True)
            private_pem = keystore.unseal_secret(bytes(token.private_key_sealed), f"kms-import:{token.token}".encode())
            material = crypto.rsa_unwrap(private_pem, wrapped, token.wrapping_algorithm)
        except (binascii.Error, ValueError, crypto.DecryptError):
            _count_failed_import(token)
            raise e.DecryptMaterialError() from None
        if len(material) != MATERIAL_BYTES:
            _count_failed_import(token)
            raise e.InvalidImportKeyMaterial()
        check = _material_check(key, material)
        if key.import_check and not secrets.compare_digest(key.import_check, check):
            raise e.MaterialNotMatch()
        with transaction.atomic():
            if not key.materials.exists():
                note.version = _add_material(key, material)
            key.import_check = check
            key.state = KeyState.ENABLED
            key.valid_to = datetime.datetime.fromtimestamp(valid_to, datetime.UTC) if valid_to else None
            key.save(update_fields=["import_check", "state", "valid_to"])
            token.delete()


MAX_FAILED_IMPORTS = 3


def _count_failed_import(token: ImportToken) -> None:
    """Void an import token after a few failed unwraps: its key pair must not serve as a padding oracle."""
    token.failed_attempts += 1
    if token.failed_attempts >= MAX_FAILED_IMPORTS:
        token.delete()
    else:
        token.save(update_fields=["failed_attempts"])


def delete_imported_key_material(caller: KmsCaller, key_id: str) -> None:
    with _audited(caller, "DeleteImportedKeyMaterial", key_id) as note:
        key = note.key = _external_key(caller, key_id)
        if key.state not in (KeyState.ENABLED, KeyState.DISABLED):
            raise e.KeyStateNotSupported()
        if _is_bound(key):
            raise e.KeyUsedByCloudProduct()
        with transaction.atomic():
            key.materials.all().delete()
            key.state = KeyState.PENDING_IMPORT
            key.valid_to = None
            key.save(update_fields=["state", "valid_to"])


# -- service status ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ServiceStatus:
    enabled: bool
    key_count: int
    key_limit: int = MAX_KEYS_PER_REGION


def get_service_status(caller: KmsCaller) -> ServiceStatus:
    with _audited(caller, "GetServiceStatus"):
        enabled = is_activated(caller.account)
        count = MasterKey.objects.live().filter(account=caller.account, owner="user").count() if enabled else 0
        return ServiceStatus(enabled, count)


AUDIT_PRUNE_BATCH = 1000


def prune_audit_log(now: datetime.datetime | None = None, batch: int = AUDIT_PRUNE_BATCH) -> int:
    """Delete audit events older than KINKO_AUDIT_RETENTION_DAYS, `batch` rows per transaction; how many went."""
    cutoff = (now or timezone.now()) - datetime.timedelta(days=settings.KINKO_AUDIT_RETENTION_DAYS)
    removed = 0
    while True:
        ids = list(AuditEvent.objects.filter(created_at__lt=cutoff).order_by("id").values_list("id", flat=True)[:batch])
        if not ids:
            return removed
        removed += AuditEvent.objects.filter(id__in=ids).delete()[0]


# The one-key changes the console and the JSON API offer by name: operation → (the API 3.0 action it is, its function).
KEY_CHANGES = {
    "enable": ("EnableKey", enable_key),
    "disable": ("DisableKey", disable_key),
    "rotate": ("RotateKey", rotate_key),
    "cancel-deletion": ("CancelKeyDeletion", cancel_key_deletion),
    "archive": ("ArchiveKey", archive_key),
    "cancel-archive": ("CancelKeyArchive", cancel_key_archive),
    "delete-imported-material": ("DeleteImportedKeyMaterial", delete_imported_key_material),
}
