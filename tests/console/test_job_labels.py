"""Job kinds and states read as words in the reader's language on the jobs list, a job's page and the overview's
running jobs, never as the wire values (`encrypt_objects`, `delete_objects`, `lifecycle`); Django's test client as the
signed-in root, in English and in Japanese (the browser tests drive the same pages)."""

import pytest
from django.contrib.auth import get_user_model
from django.utils import timezone

from buckets import jobs, lifecycle
from roles import service as roles
from tests.factories import BucketFactory, StoredObjectFactory

pytestmark = pytest.mark.django_db

LABELS = {  # language → (encrypt_objects, delete_objects, lifecycle, queued)
    "en": ("Set encryption", "Delete folder", "Lifecycle", "queued"),
    "ja": ("暗号化の設定", "フォルダーの削除", "ライフサイクル", "待機中"),
}
KINDS = ("encrypt", "delete", "lifecycle")
RAW = ("encrypt_objects", "delete_objects", "lifecycle")
EXPIRE_ALL = {"id": "all", "enabled": True, "filter": {"prefix": "", "tags": [], "and": False}}


@pytest.fixture
def started(client) -> dict[str, str]:
    """One job of each kind, queued (no worker takes them), by the signed-in root's account."""
    client.force_login(get_user_model().objects.create_superuser("operator", password="unused-password-1"))
    bucket = BucketFactory(owner=roles.create_account("1250000000", is_root=True))
    StoredObjectFactory(bucket=bucket, key="reports/a.txt")
    encrypt = jobs.start_encryption_job(bucket, "", "AES256", None, "tests", workers=0)
    delete = jobs.start_delete_prefix_job(bucket, "reports/", "tests", workers=0)
    rule = {**EXPIRE_ALL, "expiration": {"date": "2020-01-01T00:00:00Z"}, "noncurrent_days": None, "abort_days": None}
    lifecycle.set_bucket_lifecycle(bucket, [rule])
    expire = jobs.start_lifecycle_job(bucket, timezone.now(), workers=0)
    return {"encrypt": str(encrypt.job_id), "delete": str(delete.job_id), "lifecycle": str(expire.job_id)}


def page(client, url: str, language: str) -> str:
    response = client.get(url, HTTP_ACCEPT_LANGUAGE=language)
    assert response.status_code == 200
    return response.content.decode()


@pytest.mark.parametrize("language", sorted(LABELS))
@pytest.mark.parametrize("url", ["/jobs/", "/"], ids=["jobs", "overview"])
def test_job_lists_name_each_kind_and_state_in_the_readers_language(client, started, url, language):
    html = page(client, url, language)
    *kinds, queued = LABELS[language]
    assert ([kind in html for kind in kinds], html.count(queued) >= 3) == ([True] * 3, True)
    assert [raw for raw in RAW if raw in html] == []


@pytest.mark.parametrize("language", sorted(LABELS))
@pytest.mark.parametrize("kind", KINDS)
def test_a_job_page_names_its_kind_and_state_in_the_readers_language(client, started, kind, language):
    html = page(client, f"/jobs/{started[kind]}/", language)
    label, queued = LABELS[language][KINDS.index(kind)], LABELS[language][-1]
    assert (label in html, queued in html) == (True, True)
    raw = [*RAW, *(["queued"] if language == "ja" else [])]
    assert [value for value in raw if value in html] == []


def test_an_encryption_job_page_names_its_target_as_the_console_does(client, started):
    assert "Target: SSE-COS" in page(client, f"/jobs/{started['encrypt']}/", "en")


def test_a_folder_deletion_job_page_names_the_folder(client, started):
    assert "Folder: reports/" in page(client, f"/jobs/{started['delete']}/", "en")
