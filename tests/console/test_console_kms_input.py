"""The KMS console pages in process (Django's test client as the signed-in root): looking writes no audit event,
and hand-made or stale form posts get a page or a message, never a 5xx (the browser tests cover the flows)."""

import uuid

import pytest
from django.contrib.auth import get_user_model
from django.core.files.uploadedfile import SimpleUploadedFile

from keys import service
from keys.models import AuditEvent, MasterKey
from roles import service as roles

pytestmark = pytest.mark.django_db


@pytest.fixture
def account():
    account = roles.create_account("1250000000", is_root=True)
    service.activate_kms(account)
    return account


@pytest.fixture
def signed_in(client, account):
    client.force_login(get_user_model().objects.create_superuser("operator", password="unused-password-1"))
    return client


@pytest.fixture
def key(account) -> MasterKey:
    return service.create_key(service.KmsCaller(account, "test", "ap-guangzhou"), "page-key")


@pytest.fixture
def external(account) -> MasterKey:
    return service.create_key(service.KmsCaller(account, "test", "ap-guangzhou"), "external", key_type=2)


def messages_of(response) -> list[str]:
    return [str(message) for message in response.context["messages"]] if response.context else []


def test_the_key_list_key_page_and_import_page_write_no_audit_event(signed_in, key, external):
    before = AuditEvent.objects.count()
    for url in ("/kms/", f"/kms/keys/{key.key_id}/", f"/kms/keys/{external.key_id}/import/"):
        assert signed_in.get(url).status_code == 200
    assert AuditEvent.objects.count() == before


def test_a_change_is_audited_once_with_the_console_user_and_a_request_id(signed_in, key):
    before = AuditEvent.objects.count()
    response = signed_in.post(f"/kms/keys/{key.key_id}/disable/")
    assert response.status_code == 302
    assert AuditEvent.objects.count() == before + 1
    event = AuditEvent.objects.first()
    assert (event.action, event.actor, event.key_id) == ("DisableKey", "console:operator", str(key.key_id))
    assert uuid.UUID(event.request_id)


@pytest.mark.parametrize("days", ["abc", "0", "366", ""])
def test_rotation_days_that_are_not_7_to_365_re_show_the_key_page_with_the_error(signed_in, key, days):
    response = signed_in.post(f"/kms/keys/{key.key_id}/rotation/", {"rotation_enabled": "on", "rotate_days": days})
    assert response.status_code == 200
    assert response.context["rotation_form"].errors["rotate_days"]
    assert MasterKey.objects.get(pk=key.pk).rotation_enabled is False


def test_an_unknown_key_operation_is_404(signed_in, key):
    assert signed_in.post(f"/kms/keys/{key.key_id}/explode/").status_code == 404


def test_removing_a_tag_the_key_does_not_have_says_so(signed_in, key):
    response = signed_in.post(f"/kms/keys/{key.key_id}/untag/", {"tag_key": "absent"}, follow=True)
    assert response.status_code == 200
    assert messages_of(response) == ["The key has no such tag."]


def test_a_key_page_of_a_key_that_does_not_exist_is_404_with_a_sentence(signed_in):
    response = signed_in.get(f"/kms/keys/{uuid.uuid4()}/")
    assert response.status_code == 404
    assert b"There is no KMS key with this id in your account." in response.content
    assert b"Not allowed" not in response.content


@pytest.mark.parametrize("token", ["", "not-a-token"])
def test_downloads_and_imports_with_an_unknown_token_go_back_with_a_sentence(signed_in, external, token):
    download = signed_in.post(f"/kms/keys/{external.key_id}/import/public-key/", {"import_token": token}, follow=True)
    assert download.status_code == 200
    assert "These import parameters have expired" in messages_of(download)[0]
    imported = signed_in.post(
        f"/kms/keys/{external.key_id}/import/",
        {"step": "material", "import_token": token, "encrypted_key_material": "AAAA"},
    )
    assert imported.status_code == 200
    assert imported.context["step"] == 1
    assert MasterKey.objects.get(pk=external.pk).state == "PendingImport"


def test_an_unknown_download_is_404(signed_in, external):
    assert signed_in.post(f"/kms/keys/{external.key_id}/import/private-key/").status_code == 404


def test_the_import_wizard_of_a_key_made_by_the_kms_says_it_takes_no_material(signed_in, key):
    response = signed_in.get(f"/kms/keys/{key.key_id}/import/", follow=True)
    assert response.status_code == 200
    assert messages_of(response) == ["Only keys created for imported (external) material take imported material."]


def test_a_wrapped_file_that_is_too_large_is_refused_next_to_the_file_field(signed_in, external):
    params = service.get_parameters_for_import(
        service.KmsCaller(external.account, "test", "ap-guangzhou"),
        str(external.key_id),
        "RSAES_OAEP_SHA_256",
        "RSA_2048",
    )
    big = SimpleUploadedFile("wrapped.bin", b"\0" * 5000)
    response = signed_in.post(
        f"/kms/keys/{external.key_id}/import/", {"step": "material", "import_token": params.token, "material_file": big}
    )
    assert response.status_code == 200
    assert response.context["step"] == 2
    assert response.context["form"].errors["material_file"] == ["This file is too large to be wrapped key material."]
