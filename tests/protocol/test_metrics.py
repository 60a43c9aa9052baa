"""/metrics on a live node (gunicorn with two workers, so counts are summed over processes): COS requests by
operation and status with their latency and bytes, KMS calls by action and result, stored objects by SSE mode,
and who may read it at all."""

import time
import uuid

import pytest
import requests
from prometheus_client.parser import text_string_to_metric_families
from qcloud_cos import CosServiceError

from tests.live import LiveKinko, running_kinko
from tests.protocol.api3 import activate_kms, call, code_of, kms_for

TOKEN = "scrape-" + uuid.uuid4().hex
SETTLE_SECONDS = 5  # a worker counts a request just after its last byte went out; another worker may answer first


def fetch(server: LiveKinko, headers: dict[str, str] | None = None) -> requests.Response:
    return requests.get(f"{server.url}/metrics", headers=headers or {}, timeout=10)


def scrape(server: LiveKinko) -> dict[tuple[str, tuple], float]:
    """Every sample: (name, sorted labels) -> value."""
    response = fetch(server)
    assert response.status_code == 200
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(response.text)
        for sample in family.samples
    }


def value(samples: dict, name: str, **labels: str) -> float:
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


def settled(server: LiveKinko, before: dict, expected: dict[tuple[str, tuple], float]) -> dict:
    """The first scrape (within SETTLE_SECONDS) in which every expected sample grew by exactly its delta, else the
    last one: a failing assertion then shows what it said."""
    deadline = time.monotonic() + SETTLE_SECONDS
    while True:
        after = scrape(server)
        deltas = {key: after.get(key, 0.0) - before.get(key, 0.0) for key in expected}
        if deltas == expected or time.monotonic() > deadline:
            return deltas
        time.sleep(0.1)


def sample(name: str, **labels: str) -> tuple[str, tuple]:
    return name, tuple(sorted(labels.items()))


def test_metrics_count_a_put_and_a_get_by_operation_status_and_bytes(kinko, cos, bucket):
    body = b"m" * 1500
    before = scrape(kinko)
    cos.put_object(Bucket=bucket, Key="counted.bin", Body=body)
    assert cos.get_object(Bucket=bucket, Key="counted.bin")["Body"].get_raw_stream().read() == body
    expected = {
        sample("kinko_http_requests_total", api="cos", operation="put_object", status="200"): 1,
        sample("kinko_http_requests_total", api="cos", operation="get_object", status="200"): 1,
        sample("kinko_http_request_duration_seconds_count", api="cos", operation="put_object"): 1,
        sample("kinko_http_request_duration_seconds_count", api="cos", operation="get_object"): 1,
        sample("kinko_http_received_bytes_total", api="cos", operation="put_object"): len(body),
        sample("kinko_http_sent_bytes_total", api="cos", operation="get_object"): len(body),
    }
    assert settled(kinko, before, expected) == expected


def test_metrics_count_a_refused_request_by_its_status(kinko, cos, bucket):
    before = scrape(kinko)
    with pytest.raises(CosServiceError) as refused:
        cos.get_object(Bucket=bucket, Key="never-written")
    assert refused.value.get_status_code() == 404
    expected = {sample("kinko_http_requests_total", api="cos", operation="get_object", status="404"): 1}
    assert settled(kinko, before, expected) == expected


def test_metrics_count_kms_calls_by_action_and_result(kinko):
    activate_kms(kinko)
    kms = kms_for(kinko)
    before = scrape(kinko)
    call(kms, "CreateKey", Alias=f"metrics-{uuid.uuid4().hex[:8]}")
    refused = code_of(kms, "DescribeKey", KeyId=str(uuid.uuid4()))
    expected = {
        sample("kinko_kms_calls_total", action="CreateKey", result="ok"): 1,
        sample("kinko_kms_calls_total", action="DescribeKey", result=refused): 1,
        sample("kinko_http_requests_total", api="kms", operation="CreateKey", status="200"): 1,
    }
    assert settled(kinko, before, expected) == expected


def test_metrics_show_stored_objects_and_bytes_by_sse_mode(kinko, cos, bucket):
    before = scrape(kinko)
    cos.put_object(Bucket=bucket, Key="sse-cos.bin", Body=b"c" * 700, ServerSideEncryption="AES256")
    cos.put_object(Bucket=bucket, Key="plain.bin", Body=b"p" * 300)
    after = scrape(kinko)
    assert (
        value(after, "kinko_stored_objects", sse="SSE-COS") - value(before, "kinko_stored_objects", sse="SSE-COS") == 1
    )
    assert value(after, "kinko_stored_bytes", sse="SSE-COS") - value(before, "kinko_stored_bytes", sse="SSE-COS") == 700
    assert value(after, "kinko_stored_objects", sse="none") - value(before, "kinko_stored_objects", sse="none") == 1
    assert value(after, "kinko_stored_bytes", sse="none") - value(before, "kinko_stored_bytes", sse="none") == 300
    assert ("kinko_stored_objects", (("sse", "SSE-KMS"),)) in after


@pytest.fixture(scope="module")
def token_only(tmp_path_factory) -> LiveKinko:
    """A node whose /metrics no address may read (KINKO_METRICS_ALLOW lists none that matches): only the token."""
    env = {"KINKO_METRICS_ALLOW": "192.0.2.0/24", "KINKO_METRICS_TOKEN": TOKEN}
    with running_kinko(tmp_path_factory.mktemp("metrics-token"), env=env, https=False, workers=1) as server:
        yield server


def test_metrics_are_refused_to_an_address_not_allowed_without_the_token(token_only):
    response = fetch(token_only)
    assert (response.status_code, response.headers["Content-Type"]) == (403, "application/json")
    assert response.json()["code"] == "AccessDenied"
    assert "kinko_" not in response.text


def test_metrics_are_refused_with_a_wrong_token(token_only):
    response = fetch(token_only, {"Authorization": f"Bearer {TOKEN}x"})
    assert response.status_code == 403
    assert "kinko_" not in response.text


def test_metrics_are_served_to_the_bearer_of_the_token(token_only):
    response = fetch(token_only, {"Authorization": f"Bearer {TOKEN}"})
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("text/plain")
    assert "kinko_stored_objects" in response.text
