"""/metrics in one process (no PROMETHEUS_MULTIPROC_DIR, as under runserver): what this process counted and the
database's gauges, for the allowed addresses only."""

import pytest

from core import metrics
from tests.factories import StoredObjectFactory

pytestmark = pytest.mark.django_db


def test_metrics_in_one_process_show_its_own_counts_and_the_database(client):
    StoredObjectFactory(sse="AES256", size_bytes=123)
    metrics.count_kms_call("GenerateRandom", "")
    response = client.get("/metrics", REMOTE_ADDR="127.0.0.1")
    assert response.status_code == 200
    text = response.content.decode()
    assert 'kinko_stored_bytes{sse="SSE-COS"} 123.0' in text
    assert 'kinko_kms_calls_total{action="GenerateRandom",result="ok"}' in text


def test_metrics_are_refused_to_an_address_not_listed(client):
    response = client.get("/metrics", REMOTE_ADDR="198.51.100.7")
    assert response.status_code == 403
    assert response.json()["code"] == "AccessDenied"


def test_metrics_take_a_bearer_token_from_any_address(client, settings):
    settings.KINKO_METRICS_TOKEN = "scrape-token"
    response = client.get("/metrics", REMOTE_ADDR="198.51.100.7", HTTP_AUTHORIZATION="Bearer scrape-token")
    assert response.status_code == 200
