"""KMS domain additions for the console: key tags, the description limit in bytes on creation, and reading back
an import's parameters (what the import wizard shows and downloads again) without an audit event."""

import datetime
import functools

import pytest
from cryptography.hazmat.primitives import serialization

from core import crypto
from keys import errors as e
from keys import service
from keys.models import AuditEvent, MasterKey
from roles import service as roles

pytestmark = pytest.mark.django_db

REGION = "ap-guangzhou"
_one_wrapping_key_pair = functools.cache(crypto.rsa_generate_2048)


@pytest.fixture(autouse=True)
def _fast_wrapping_keys(monkeypatch):
    monkeypatch.setattr(crypto, "rsa_generate_2048", _one_wrapping_key_pair)


@pytest.fixture
def caller() -> service.KmsCaller:
    account = roles.create_account("1251000002")
    service.activate_kms(account)
    return service.KmsCaller(account, "console:operator", REGION, "request-7")


@pytest.fixture
def key_id(caller) -> str:
    return str(service.create_key(caller, "tagged").key_id)


def tags_of(key_id: str) -> list[dict]:
    return MasterKey.objects.get(key_id=key_id).tags


def test_tag_key_adds_a_tag_and_a_second_value_replaces_the_first(caller, key_id):
    service.tag_key(caller, key_id, "team", "payroll")
    service.tag_key(caller, key_id, "env", "")
    service.tag_key(caller, key_id, "team", "finance")
    assert sorted(tags_of(key_id), key=lambda t: t["TagKey"]) == [
        {"TagKey": "env", "TagValue": ""},
        {"TagKey": "team", "TagValue": "finance"},
    ]


def test_tag_key_is_audited_with_the_caller_and_request_id(caller, key_id):
    service.tag_key(caller, key_id, "team", "payroll")
    event = AuditEvent.objects.filter(action="TagResource").get()
    assert (event.actor, event.key_id, event.request_id, event.error_code) == (
        "console:operator",
        key_id,
        "request-7",
        "",
    )


def test_untag_key_removes_the_tag_and_an_absent_tag_is_refused(caller, key_id):
    service.tag_key(caller, key_id, "team", "payroll")
    service.untag_key(caller, key_id, "team")
    assert tags_of(key_id) == []
    with pytest.raises(e.TagNotFound):
        service.untag_key(caller, key_id, "team")


@pytest.mark.parametrize(("tag_key", "tag_value"), [("", "x"), (" padded", "x"), ("k" * 128, "x")])
def test_a_tag_key_that_is_empty_padded_or_too_long_is_refused(caller, key_id, tag_key, tag_value):
    with pytest.raises(e.InvalidTagKey):
        service.tag_key(caller, key_id, tag_key, tag_value)
    assert tags_of(key_id) == []


def test_a_tag_value_over_255_characters_is_refused(caller, key_id):
    with pytest.raises(e.InvalidTagValue):
        service.tag_key(caller, key_id, "team", "v" * 256)


def test_a_51st_tag_is_refused(caller, key_id):
    for n in range(service.MAX_TAGS):
        service.tag_key(caller, key_id, f"k{n}", "v")
    with pytest.raises(e.TagLimitExceeded):
        service.tag_key(caller, key_id, "one-more", "v")
    service.tag_key(caller, key_id, "k0", "replaced")  # replacing a value adds no tag
    assert len(tags_of(key_id)) == service.MAX_TAGS


def test_tags_are_what_list_key_detail_filters_on(caller, key_id):
    service.tag_key(caller, key_id, "team", "payroll")
    other = str(service.create_key(caller, "untagged").key_id)
    found, total = service.list_key_detail(
        caller, service.KeyFilter(tag_filters=[{"TagKey": "team", "TagValue": ["payroll"]}])
    )
    assert ([str(k.key_id) for k in found], total) == ([key_id], 1)
    assert other not in [str(k.key_id) for k in found]


def test_create_key_with_a_description_over_1024_bytes_is_refused_and_makes_no_key(caller):
    with pytest.raises(e.InvalidDescription):
        service.create_key(caller, "long", "鍵" * 342)  # 1026 bytes in 342 characters
    assert not MasterKey.objects.filter(alias="long").exists()
    assert service.create_key(caller, "fits", "鍵" * 341).description == "鍵" * 341


def test_import_parameters_read_back_the_issued_public_key_and_algorithm_without_an_audit_event(caller):
    key_id = str(service.create_key(caller, "external", key_type=2).key_id)
    issued = service.get_parameters_for_import(caller, key_id, "RSAES_OAEP_SHA_1", "RSA_2048")
    events = AuditEvent.objects.count()
    again = service.import_parameters(caller, key_id, issued.token)
    assert (again.token, again.public_key_der, again.algorithm, again.valid_to) == (
        issued.token,
        issued.public_key_der,
        "RSAES_OAEP_SHA_1",
        issued.valid_to,
    )
    assert (
        serialization.load_pem_public_key(again.public_key_pem).public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        == issued.public_key_der
    )
    assert AuditEvent.objects.count() == events


def test_import_parameters_past_their_24_hours_or_of_another_key_are_refused(caller):
    key_id = str(service.create_key(caller, "external", key_type=2).key_id)
    other = str(service.create_key(caller, "other", key_type=2).key_id)
    issued = service.get_parameters_for_import(caller, key_id, "RSAES_OAEP_SHA_256", "RSA_2048")
    later = issued.valid_to + datetime.timedelta(seconds=1)
    with pytest.raises(e.TokenExpired):
        service.import_parameters(caller, key_id, issued.token, now=later)
    with pytest.raises(e.TokenExpired):
        service.import_parameters(caller, other, issued.token)
