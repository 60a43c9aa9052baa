"""KMS domain rules, in process: rotation, scheduled deletion, imported-material expiry, audit and metering,
activation, and that neither key material nor data-key plaintext ever reaches the database."""

import base64
import datetime
import functools
import json

import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding
from django.core.management import call_command
from django.db import connection
from django.utils import timezone

from core import crypto
from keys import blob, service
from keys import errors as e
from keys.models import AuditEvent, KeyMaterial, KeyState, KeyUsage, MasterKey
from roles import service as roles
from tests import postgres

pytestmark = pytest.mark.django_db

REGION = "ap-guangzhou"
OAEP_SHA256 = padding.OAEP(mgf=padding.MGF1(hashes.SHA256()), algorithm=hashes.SHA256(), label=None)
MATERIAL = bytes(range(100, 132))
OTHER_MATERIAL = bytes(range(200, 232))


_one_wrapping_key_pair = functools.cache(crypto.rsa_generate_2048)


@pytest.fixture(autouse=True)
def _fast_wrapping_keys(monkeypatch):
    """RSA-2048 generation costs ~0.2 s; these tests are not about its freshness, so one pair serves them all."""
    monkeypatch.setattr(crypto, "rsa_generate_2048", _one_wrapping_key_pair)


@pytest.fixture
def account():
    account = roles.create_account("1251000001")
    service.activate_kms(account)
    return account


@pytest.fixture
def caller(account) -> service.KmsCaller:
    return service.KmsCaller(account, "AKIDcaller", REGION, "request-1")


@pytest.fixture
def key(caller) -> MasterKey:
    return service.create_key(caller, "app-key")


def fresh(key: MasterKey) -> MasterKey:
    return MasterKey.objects.get(pk=key.pk)


def version_of(ciphertext: str) -> int:
    header, _ = blob.read_header(ciphertext)
    return header.version


def rotating_key(caller, alias: str, days: int) -> MasterKey:
    made = service.create_key(caller, alias)
    service.enable_key_rotation(caller, str(made.key_id), days)
    return fresh(made)


def disabled_pending_deletion(caller, key: MasterKey, now: datetime.datetime) -> MasterKey:
    service.disable_key(caller, str(key.key_id))
    return service.schedule_key_deletion(caller, str(key.key_id), 7, now=now)


def import_material(caller, key_id: str, material: bytes, valid_to: int = 0, now=None) -> None:
    params = service.get_parameters_for_import(caller, key_id, "RSAES_OAEP_SHA_256", "RSA_2048", now=now)
    wrapped = serialization.load_der_public_key(params.public_key_der).encrypt(material, OAEP_SHA256)
    service.import_key_material(caller, key_id, params.token, base64.b64encode(wrapped).decode(), valid_to, now=now)


@pytest.fixture
def external_key(caller) -> MasterKey:
    return service.create_key(caller, "imported-key", key_type=2)


@pytest.fixture
def clock(monkeypatch):
    """Moves the service's notion of "now" for the calls that take no now= argument."""

    def move_to(moment: datetime.datetime) -> None:
        monkeypatch.setattr(timezone, "now", lambda: moment)

    return move_to


# -- rotation ------------------------------------------------------------------------------------------------


def test_rotate_due_keys_rotates_only_keys_whose_rotation_is_due(caller):
    weekly, yearly = rotating_key(caller, "weekly", 7), rotating_key(caller, "yearly", 365)
    never = service.create_key(caller, "never")
    rotated = service.rotate_due_keys(now=timezone.now() + datetime.timedelta(days=8))
    assert rotated == 1
    assert [fresh(k).current_version for k in (weekly, yearly, never)] == [2, 1, 1]


def test_rotate_due_keys_schedules_the_next_rotation_one_period_later(caller):
    weekly = rotating_key(caller, "weekly", 7)
    now = timezone.now() + datetime.timedelta(days=8)
    service.rotate_due_keys(now=now)
    assert (fresh(weekly).last_rotated_at, fresh(weekly).next_rotate_at) == (now, now + datetime.timedelta(days=7))


def test_rotate_due_keys_does_not_rotate_a_key_twice_in_one_period(caller):
    rotating_key(caller, "weekly", 7)
    now = timezone.now() + datetime.timedelta(days=8)
    service.rotate_due_keys(now=now)
    assert service.rotate_due_keys(now=now + datetime.timedelta(days=1)) == 0


def test_blobs_made_before_a_scheduled_rotation_still_decrypt(caller):
    weekly = rotating_key(caller, "weekly", 7)
    _, old = service.encrypt(caller, str(weekly.key_id), b"before rotation")
    service.rotate_due_keys(now=timezone.now() + datetime.timedelta(days=8))
    assert service.decrypt(caller, old)[1] == b"before rotation"


def test_encrypt_after_a_scheduled_rotation_uses_the_new_material_version(caller):
    weekly = rotating_key(caller, "weekly", 7)
    service.rotate_due_keys(now=timezone.now() + datetime.timedelta(days=8))
    _, new = service.encrypt(caller, str(weekly.key_id), b"after rotation")
    assert version_of(new) == 2


def test_a_scheduled_rotation_is_audited_as_rotate_key_by_the_scheduler(caller):
    weekly = rotating_key(caller, "weekly", 7)
    service.rotate_due_keys(now=timezone.now() + datetime.timedelta(days=8))
    event = AuditEvent.objects.filter(key_id=str(weekly.key_id), action="RotateKey").get()
    assert (event.actor, event.key_version, event.error_code) == ("kms-scheduler", 2, "")


def test_rotate_key_on_demand_is_refused_a_second_time_within_24_hours(caller):
    weekly = rotating_key(caller, "weekly", 7)
    now = timezone.now()
    service.rotate_key(caller, str(weekly.key_id), now=now)
    with pytest.raises(e.RotateRateLimited):
        service.rotate_key(caller, str(weekly.key_id), now=now + datetime.timedelta(hours=23, minutes=59))


def test_rotate_key_on_demand_is_allowed_again_after_24_hours(caller):
    weekly = rotating_key(caller, "weekly", 7)
    now = timezone.now()
    service.rotate_key(caller, str(weekly.key_id), now=now)
    service.rotate_key(caller, str(weekly.key_id), now=now + datetime.timedelta(hours=24))
    assert fresh(weekly).current_version == 3


# -- scheduled deletion --------------------------------------------------------------------------------------


def test_deletion_date_is_the_end_of_the_beijing_day_n_days_later():
    # The spec's example: DeletionDate 1559318399 = 2019-05-31 23:59:59 Beijing time.
    now = datetime.datetime(2019, 5, 24, 3, 0, tzinfo=datetime.UTC)  # 11:00 in Beijing
    assert service.deletion_date(now, 7).timestamp() == 1559318399


def test_deletion_date_counts_from_the_beijing_date_not_the_utc_date():
    now = datetime.datetime(2019, 5, 23, 17, 0, tzinfo=datetime.UTC)  # already 2019-05-24 01:00 in Beijing
    assert service.deletion_date(now, 7).timestamp() == 1559318399


def test_schedule_key_deletion_sets_the_deletion_date(caller, key):
    now = datetime.datetime(2019, 5, 24, 3, 0, tzinfo=datetime.UTC)
    scheduled = disabled_pending_deletion(caller, key, now)
    assert (fresh(scheduled).state, fresh(scheduled).deletion_date.timestamp()) == (KeyState.PENDING_DELETE, 1559318399)


def test_purge_before_the_deletion_date_keeps_the_key_and_its_material(caller, key):
    scheduled = disabled_pending_deletion(caller, key, timezone.now())
    purged = service.purge_pending_deletions(now=scheduled.deletion_date - datetime.timedelta(seconds=1))
    assert purged == 0
    assert KeyMaterial.objects.filter(key=key).count() == 1
    assert fresh(key).destroyed_at is None


def test_purge_at_the_deletion_date_destroys_the_key_material(caller, key):
    scheduled = disabled_pending_deletion(caller, key, timezone.now())
    assert service.purge_pending_deletions(now=scheduled.deletion_date) == 1
    assert KeyMaterial.objects.filter(key=key).count() == 0


def test_a_purged_key_records_when_and_why_it_was_destroyed(caller, key):
    scheduled = disabled_pending_deletion(caller, key, timezone.now())
    service.purge_pending_deletions(now=scheduled.deletion_date)
    assert fresh(key).destroyed_at == scheduled.deletion_date
    assert "ScheduleKeyDeletion" in fresh(key).destroy_reason


def test_a_purged_key_is_not_found_afterwards(caller, key):
    scheduled = disabled_pending_deletion(caller, key, timezone.now())
    service.purge_pending_deletions(now=scheduled.deletion_date)
    with pytest.raises(e.KeyNotFound):
        service.get_key(caller, str(key.key_id))


def test_blobs_of_a_purged_key_no_longer_decrypt(caller, key):
    _, ciphertext = service.encrypt(caller, str(key.key_id), b"shredded")
    scheduled = disabled_pending_deletion(caller, key, timezone.now())
    service.purge_pending_deletions(now=scheduled.deletion_date)
    with pytest.raises(e.KeyNotFound):
        service.decrypt(caller, ciphertext)


def test_a_purged_keys_alias_can_be_used_again(caller, key):
    scheduled = disabled_pending_deletion(caller, key, timezone.now())
    service.purge_pending_deletions(now=scheduled.deletion_date)
    assert service.create_key(caller, "app-key").alias == "app-key"


def test_cancel_key_deletion_returns_the_key_to_disabled(caller, key):
    disabled_pending_deletion(caller, key, timezone.now())
    service.cancel_key_deletion(caller, str(key.key_id))
    assert (fresh(key).state, fresh(key).deletion_date) == (KeyState.DISABLED, None)


def test_a_cancelled_deletion_is_not_purged(caller, key):
    scheduled = disabled_pending_deletion(caller, key, timezone.now())
    service.cancel_key_deletion(caller, str(key.key_id))
    assert service.purge_pending_deletions(now=scheduled.deletion_date + datetime.timedelta(days=1)) == 0


# -- imported material ---------------------------------------------------------------------------------------


def test_imported_material_past_its_valid_to_leaves_the_key_pending_import(caller, external_key, clock):
    now = timezone.now()
    import_material(caller, str(external_key.key_id), MATERIAL, valid_to=int(now.timestamp()) + 3600, now=now)
    clock(now + datetime.timedelta(hours=2))
    assert service.describe_key(caller, str(external_key.key_id)).state == KeyState.PENDING_IMPORT


def test_expired_imported_material_is_destroyed(caller, external_key, clock):
    now = timezone.now()
    import_material(caller, str(external_key.key_id), MATERIAL, valid_to=int(now.timestamp()) + 3600, now=now)
    clock(now + datetime.timedelta(hours=2))
    service.describe_key(caller, str(external_key.key_id))
    assert KeyMaterial.objects.filter(key=external_key).count() == 0


def test_imported_material_before_its_valid_to_still_encrypts(caller, external_key, clock):
    now = timezone.now()
    import_material(caller, str(external_key.key_id), MATERIAL, valid_to=int(now.timestamp()) + 3600, now=now)
    clock(now + datetime.timedelta(minutes=59))
    assert service.encrypt(caller, str(external_key.key_id), b"in time")[0].state == KeyState.ENABLED


def test_re_importing_the_same_material_after_expiry_decrypts_old_blobs(caller, external_key, clock):
    now = timezone.now()
    key_id = str(external_key.key_id)
    import_material(caller, key_id, MATERIAL, valid_to=int(now.timestamp()) + 3600, now=now)
    _, ciphertext = service.encrypt(caller, key_id, b"kept across expiry")
    later = now + datetime.timedelta(hours=2)
    clock(later)
    service.describe_key(caller, key_id)
    import_material(caller, key_id, MATERIAL, now=later)
    assert service.decrypt(caller, ciphertext)[1] == b"kept across expiry"


def test_re_importing_different_material_after_expiry_is_refused(caller, external_key, clock):
    now = timezone.now()
    key_id = str(external_key.key_id)
    import_material(caller, key_id, MATERIAL, valid_to=int(now.timestamp()) + 3600, now=now)
    later = now + datetime.timedelta(hours=2)
    clock(later)
    service.describe_key(caller, key_id)
    with pytest.raises(e.MaterialNotMatch):
        import_material(caller, key_id, OTHER_MATERIAL, now=later)


def test_re_importing_the_same_material_can_set_a_new_valid_to(caller, external_key):
    now = timezone.now()
    key_id = str(external_key.key_id)
    import_material(caller, key_id, MATERIAL, valid_to=int(now.timestamp()) + 3600, now=now)
    import_material(caller, key_id, MATERIAL, valid_to=int(now.timestamp()) + 7200, now=now)
    assert fresh(external_key).valid_to.timestamp() == int(now.timestamp()) + 7200


def test_an_import_token_cannot_be_used_after_24_hours(caller, external_key):
    now = timezone.now()
    key_id = str(external_key.key_id)
    params = service.get_parameters_for_import(caller, key_id, "RSAES_OAEP_SHA_256", "RSA_2048", now=now)
    wrapped = serialization.load_der_public_key(params.public_key_der).encrypt(MATERIAL, OAEP_SHA256)
    with pytest.raises(e.TokenExpired):
        service.import_key_material(
            caller, key_id, params.token, base64.b64encode(wrapped).decode(), now=now + datetime.timedelta(hours=24)
        )


# -- audit and metering --------------------------------------------------------------------------------------


def test_a_successful_call_is_audited_without_an_error_code(caller, key):
    service.encrypt(caller, str(key.key_id), b"audited")
    event = AuditEvent.objects.filter(action="Encrypt").get()
    assert (event.actor, event.key_id, event.key_version, event.request_id, event.error_code) == (
        "AKIDcaller",
        str(key.key_id),
        1,
        "request-1",
        "",
    )


def test_a_failed_call_is_audited_with_its_error_code(caller, key):
    service.disable_key(caller, str(key.key_id))
    with pytest.raises(e.KeyDisabled):
        service.encrypt(caller, str(key.key_id), b"refused")
    event = AuditEvent.objects.filter(action="Encrypt").get()
    assert (event.key_id, event.error_code) == (str(key.key_id), "ResourceUnavailable.CmkDisabled")


def test_a_call_refused_before_any_key_is_found_is_audited_too(caller):
    with pytest.raises(e.InvalidAlias):
        service.create_key(caller, "kms-reserved")
    assert AuditEvent.objects.filter(action="CreateKey").get().error_code == "InvalidParameterValue.InvalidAlias"


def test_a_decrypt_of_a_tampered_blob_is_audited_as_invalid_ciphertext(caller, key):
    _, ciphertext = service.encrypt(caller, str(key.key_id), b"tampered")
    raw = bytearray(base64.b64decode(ciphertext))
    raw[-1] ^= 1
    with pytest.raises(e.InvalidCiphertext):
        service.decrypt(caller, base64.b64encode(bytes(raw)).decode())
    event = AuditEvent.objects.filter(action="Decrypt").get()
    assert (event.key_id, event.error_code) == (str(key.key_id), "InvalidParameterValue.InvalidCiphertext")


def test_crypto_calls_increment_the_monthly_usage_of_the_key(caller, key):
    key_id = str(key.key_id)
    _, ciphertext = service.encrypt(caller, key_id, b"counted")
    service.decrypt(caller, ciphertext)
    service.generate_data_key(caller, key_id, 32)
    service.re_encrypt(caller, ciphertext)
    usage = KeyUsage.objects.get(key=key, month=timezone.now().strftime("%Y-%m"))
    assert usage.calls == 4


def test_management_calls_and_failed_crypto_calls_are_not_counted_as_usage(caller, key):
    key_id = str(key.key_id)
    service.encrypt(caller, key_id, b"counted")
    service.describe_key(caller, key_id)
    service.disable_key(caller, key_id)
    with pytest.raises(e.KeyDisabled):
        service.encrypt(caller, key_id, b"not counted")
    assert KeyUsage.objects.get(key=key).calls == 1


def test_usage_is_counted_per_month(caller, key, clock):
    service.encrypt(caller, str(key.key_id), b"june")
    clock(timezone.now() + datetime.timedelta(days=40))
    service.encrypt(caller, str(key.key_id), b"a month later")
    assert sorted(KeyUsage.objects.filter(key=key).values_list("calls", flat=True)) == [1, 1]


# -- activation ----------------------------------------------------------------------------------------------


def test_before_activation_the_service_status_is_not_enabled():
    caller = service.KmsCaller(roles.create_account("1251000002"), "AKIDcaller", REGION)
    assert service.get_service_status(caller).enabled is False


def test_before_activation_listing_keys_fails_with_service_not_enabled():
    caller = service.KmsCaller(roles.create_account("1251000002"), "AKIDcaller", REGION)
    with pytest.raises(e.ServiceNotEnabled):
        service.list_keys(caller)


def test_activate_kms_creates_one_default_key_per_kms_region(settings):
    settings.KINKO_KMS_REGIONS = ["ap-guangzhou", "ap-shanghai", "ap-beijing"]
    account = roles.create_account("1251000002")
    defaults = service.activate_kms(account)
    keys = MasterKey.objects.filter(account=account, is_default=True)
    assert sorted(defaults) == sorted(settings.KINKO_KMS_REGIONS)
    assert sorted((k.region, str(k.key_id)) for k in keys) == sorted(defaults.items())


def test_activate_kms_twice_returns_the_same_keys_and_creates_no_more(settings):
    account = roles.create_account("1251000002")
    first = service.activate_kms(account)
    assert service.activate_kms(account) == first
    assert MasterKey.objects.filter(account=account).count() == len(settings.KINKO_KMS_REGIONS)


def test_activate_kms_command_is_idempotent(settings, capsys):
    call_command("activate_kms", "--json")
    first = json.loads(capsys.readouterr().out)
    call_command("activate_kms", "--json")
    assert json.loads(capsys.readouterr().out) == first
    assert sorted(first["DefaultKeys"]) == sorted(settings.KINKO_KMS_REGIONS)


def test_after_activation_the_service_status_is_enabled(caller):
    assert service.get_service_status(caller).enabled is True


# -- secrets never reach the database ------------------------------------------------------------------------


def encodings(secret: bytes) -> list[bytes]:
    return [secret, base64.b64encode(secret), secret.hex().encode(), secret.hex().upper().encode()]


def column_bytes(row) -> list[bytes]:
    values = []
    for model_field in row._meta.concrete_fields:
        value = getattr(row, model_field.attname)
        if isinstance(value, bytes | memoryview | bytearray):
            values.append(bytes(value))
        elif value is not None:
            values.append(str(value).encode())
            values.append(json.dumps(value, default=str).encode())
    return values


def stored_column_values() -> list[bytes]:
    values = []
    for model in (KeyMaterial, MasterKey, AuditEvent):
        for row in model.objects.all():
            values.extend(column_bytes(row))
    return values


def leaks(secret: bytes, haystacks: list[bytes]) -> list[bytes]:
    return [form for form in encodings(secret) if any(form in haystack for haystack in haystacks)]


@pytest.fixture
def used_keys(caller, key, external_key):
    """A generated key, an imported key, a data key and an Encrypt plaintext, all used once."""
    key_id = str(key.key_id)
    import_material(caller, str(external_key.key_id), MATERIAL)
    data_key = service.generate_data_key(caller, key_id, 32, '{"bucket": "b"}')
    service.encrypt(caller, key_id, b"ENCRYPT-PLAINTEXT-MARKER", '{"a": "b"}')
    service.encrypt(caller, str(external_key.key_id), b"ENCRYPT-PLAINTEXT-MARKER")
    return {
        "generated material": service._material(fresh(key))[1],
        "imported material": MATERIAL,
        "data key": data_key.plaintext,
    }


def test_scan_sees_what_the_database_does_store(used_keys, key):
    assert any(str(key.key_id).encode() in value for value in stored_column_values())


def test_no_key_material_appears_in_any_kms_column(used_keys):
    values = stored_column_values()
    assert leaks(used_keys["generated material"], values) == []
    assert leaks(used_keys["imported material"], values) == []


def test_no_data_key_plaintext_appears_in_any_kms_column(used_keys):
    assert leaks(used_keys["data key"], stored_column_values()) == []


def test_no_encrypt_plaintext_appears_in_any_kms_column(used_keys):
    assert leaks(b"ENCRYPT-PLAINTEXT-MARKER", stored_column_values()) == []


@pytest.mark.django_db(transaction=True)
def test_no_key_material_or_plaintext_appears_in_the_raw_database_bytes(used_keys, key):
    if connection.vendor == "postgresql":  # its files; a uuid column holds the 16 bytes
        image, stored_id = postgres.database_image(connection), key.key_id.bytes
    else:  # the SQLite file's image; a uuid column holds the hex digits
        image, stored_id = connection.connection.serialize(), key.key_id.hex.encode()
    assert stored_id in image  # the scan reads what the database holds
    for name, secret in [*used_keys.items(), ("encrypt plaintext", b"ENCRYPT-PLAINTEXT-MARKER")]:
        assert leaks(secret, [image]) == [], name
