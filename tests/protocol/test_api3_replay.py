"""A TC3 signature is accepted once: a captured request sent again (as is, or with another X-TC-Action or
X-TC-Region, which the SDK does not sign) is refused, by every worker alike. Calls the SDK makes within one second
with the same body share a signature (whole-second timestamps, action unsigned) and still work."""

import base64
import json

import pytest
import requests

from tests.protocol.api3 import Recorder, activate_kms, call, clock_behind, kms_for, signed_post, unique

REPLAYED = "AuthFailure.SignatureFailure"
CAPTURED_AGO = 30  # seconds between the victim's call and the replay


@pytest.fixture(scope="module")
def kms(kinko):
    activate_kms(kinko)
    return kms_for(kinko)


@pytest.fixture
def captured(kinko, kms, monkeypatch):
    """A client whose every request is recorded as sent, signed as if CAPTURED_AGO seconds ago."""
    client = kms_for(kinko)
    clock_behind(monkeypatch, CAPTURED_AGO)
    return client, Recorder(client)


def error_of(response) -> dict:
    assert response.status_code == 200
    return response.json()["Response"].get("Error", {})


def resend(response: requests.Response) -> requests.Response:
    """Exactly the request that produced `response`, once more."""
    sent = response.request
    return requests.request(sent.method, sent.url, data=sent.body, headers=dict(sent.headers), timeout=10)


def test_the_sdk_signs_only_content_type_and_host(kinko, kms):
    """Why a replay cache is needed: X-TC-Action and X-TC-Region travel outside the signature."""
    client = kms_for(kinko)
    recorder = Recorder(client)
    call(client, "GetRegions")
    assert "SignedHeaders=content-type;host," in recorder.sent[-1].headers["Authorization"]


def test_a_captured_sdk_request_sent_again_is_refused_as_a_replay(captured):
    client, recorder = captured
    call(client, "GenerateRandom", NumberOfBytes=16)
    replayed = recorder.replay()
    assert replayed["Error"]["Code"] == REPLAYED
    assert "replay" in replayed["Error"]["Message"].lower()


def test_a_replay_is_refused_by_every_worker(kinko, kms):
    """The cache is shared: the server runs two worker processes, and each of many replays is refused."""
    first = signed_post(kinko, "kms", "GenerateRandom", json.dumps({"NumberOfBytes": 8}).encode(), age=CAPTURED_AGO)
    assert error_of(first) == {}
    assert {error_of(resend(first)).get("Code") for _ in range(8)} == {REPLAYED}


def test_a_captured_describe_key_cannot_be_swapped_into_disable_key(kms, captured, monkeypatch):
    key = call(kms, "CreateKey", Alias=unique("replay")).KeyId
    client, recorder = captured
    call(client, "DescribeKey", KeyId=key)
    assert recorder.replay(**{"X-TC-Action": "DisableKey"})["Error"]["Code"] == REPLAYED
    monkeypatch.undo()  # the owner looks now, with a clock that is right
    states = {meta.KeyId: meta.KeyState for meta in call(kms, "ListKeyDetail", Limit=200).KeyMetadatas}
    assert states[key] == "Enabled"


def test_a_captured_encrypt_cannot_be_swapped_into_generate_data_key(kms, captured):
    key = call(kms, "CreateKey", Alias=unique("replay")).KeyId
    client, recorder = captured
    call(client, "Encrypt", KeyId=key, Plaintext=base64.b64encode(b"x").decode())
    assert recorder.replay(**{"X-TC-Action": "GenerateDataKey"})["Error"]["Code"] == REPLAYED


def test_a_captured_request_cannot_be_sent_to_another_region(captured):
    client, recorder = captured
    call(client, "ListKeys", Limit=7)
    assert recorder.replay(**{"X-TC-Region": "ap-shanghai"})["Error"]["Code"] == REPLAYED


def test_a_captured_request_with_a_fresh_trace_id_is_still_a_replay(captured):
    client, recorder = captured
    call(client, "GenerateRandom", NumberOfBytes=24)
    assert recorder.replay(**{"X-TC-TraceId": "00000000-0000-4000-8000-000000000000"})["Error"]["Code"] == REPLAYED


def test_identical_sdk_calls_in_one_second_are_all_accepted(kms):
    replies = [call(kms, "GetRegions").Regions for _ in range(3)]
    assert replies[0] == replies[1] == replies[2]


def test_sdk_calls_with_the_same_body_in_one_second_are_all_accepted(kms):
    """ListKeys and GetRegions both send `{}`: in one second the SDK signs them alike."""
    assert call(kms, "GetRegions").Regions
    assert call(kms, "ListKeys").TotalCount >= 1
    assert call(kms, "GetServiceStatus").ServiceEnabled is True


def test_a_replayed_legacy_hmac_request_is_refused(kinko, kms):
    """The legacy signature covers the action and a random Nonce: any second use of it is a replay."""
    client = kms_for(kinko)
    client.profile.signMethod = "HmacSHA256"
    recorder = Recorder(client)
    call(client, "GetRegions")
    assert "Authorization" not in recorder.sent[-1].headers  # the legacy form, not TC3
    assert recorder.replay()["Error"]["Code"] == REPLAYED
