"""Job kinds and states read as words in the reader's language on the jobs list, a job's page and the overview's
running jobs, never as the wire values (`encrypt_objects`, `delete_objects`); Django's test client as the
signed-in root, in English and in Japanese (the browser tests drive the same pages)."""

import pytest
from django.contrib.auth import get_user_model

from buckets import jobs
from roles import service as roles
from tests.factories import BucketFactory, StoredObjectFactory

pytestmark = pytest.mark.django_db

LABELS = {  # language → (encrypt_objects, delete_objects, queued)
    "en": ("Set encryption", "Delete folder", "queued"),
    "ja": ("暗号化の設定", "フォルダーの削除", "待機中"),
}


@pytest.fixture
def started(client) -> dict[str, str]:
    """One job of each kind, queued (no worker takes them), by the signed-in root's account."""
    client.force_login(get_user_model().objects.create_superuser("operator", password="unused-password-1"))
    bucket = BucketFactory(owner=roles.create_account("1250000000", is_root=True))
    StoredObjectFactory(bucket=bucket, key="reports/a.txt")
    encrypt = jobs.start_encryption_job(bucket, "", "AES256", None, "tests", workers=0)
    delete = jobs.start_delete_prefix_job(bucket, "reports/", "tests", workers=0)
    return {"encrypt": str(encrypt.job_id), "delete": str(delete.job_id)}


def page(client, url: str, language: str) -> str:
    response = client.get(url, HTTP_ACCEPT_LANGUAGE=language)
    assert response.status_code == 200
    return response.content.decode()


@pytest.mark.parametrize("language", sorted(LABELS))
@pytest.mark.parametrize("url", ["/jobs/", "/"], ids=["jobs", "overview"])
def test_job_lists_name_each_kind_and_state_in_the_readers_language(client, started, url, language):
    html = page(client, url, language)
    encrypt, delete, queued = LABELS[language]
    assert (encrypt in html, delete in html, html.count(queued) >= 2) == (True, True, True)
    assert [raw for raw in ("encrypt_objects", "delete_objects") if raw in html] == []


@pytest.mark.parametrize("language", sorted(LABELS))
@pytest.mark.parametrize("kind", ["encrypt", "delete"])
def test_a_job_page_names_its_kind_and_state_in_the_readers_language(client, started, kind, language):
    html = page(client, f"/jobs/{started[kind]}/", language)
    encrypt, delete, queued = LABELS[language]
    assert ((encrypt if kind == "encrypt" else delete) in html, queued in html) == (True, True)
    raw = ["encrypt_objects", "delete_objects", *(["queued"] if language == "ja" else [])]
    assert [value for value in raw if value in html] == []


def test_an_encryption_job_page_names_its_target_as_the_console_does(client, started):
    assert "Target: SSE-COS" in page(client, f"/jobs/{started['encrypt']}/", "en")


def test_a_folder_deletion_job_page_names_the_folder(client, started):
    assert "Folder: reports/" in page(client, f"/jobs/{started['delete']}/", "en")
