"""A request answered before its body was read (a refused signature, a missing bucket, an operation Kinko does not
implement) leaves the client's keep-alive pool usable: the server reads the rest of the body (up to a bound) or says
`Connection: close`. Through the real SDK, whose one requests.Session carries every call of the client."""

import os
import uuid

import pytest
from qcloud_cos.cos_exception import CosServiceError

from tests.live import APPID, cos_client

BIG = 8 * 1024 * 1024
FOLLOWING = 30


@pytest.fixture
def own_bucket(cos):
    name = f"e{uuid.uuid4().hex[:12]}-{APPID}"
    cos.create_bucket(Bucket=name)
    yield name
    for n in range(FOLLOWING):
        cos.delete_object(Bucket=name, Key=f"after-{n}")
    cos.delete_bucket(Bucket=name)


def follow_up(client, bucket: str) -> None:
    """30 small requests on the same client (the same session and connection pool): every one succeeds."""
    for n in range(FOLLOWING):
        body = f"body {n}".encode()
        client.put_object(Bucket=bucket, Key=f"after-{n}", Body=body)
        assert client.get_object(Bucket=bucket, Key=f"after-{n}")["Body"].get_raw_stream().read() == body


@pytest.mark.parametrize("size", [BIG, 200 * 1024])
def test_a_refused_signature_on_a_big_put_leaves_the_shared_session_usable(kinko, own_bucket, size):
    good = cos_client(kinko)
    forger = cos_client(kinko, secret_key="x" * 32)
    forger._session = good._session  # one pool, as one application with one session and two identities
    with pytest.raises(CosServiceError) as refused:
        forger.put_object(Bucket=own_bucket, Key="big", Body=os.urandom(size))
    assert refused.value.get_status_code() == 403
    follow_up(good, own_bucket)


def test_a_put_into_a_missing_bucket_leaves_the_session_usable(kinko, own_bucket):
    client = cos_client(kinko)
    with pytest.raises(CosServiceError) as missing:
        client.put_object(Bucket=f"nope{uuid.uuid4().hex[:8]}-{APPID}", Key="big", Body=os.urandom(BIG))
    assert missing.value.get_status_code() == 404
    follow_up(client, own_bucket)


def test_a_refused_put_over_the_drain_bound_says_connection_close(kinko, own_bucket):
    """Past the bound the server stops reading and says so; the client's next request opens a new connection."""
    good = cos_client(kinko)
    forger = cos_client(kinko, secret_key="x" * 32)
    forger._session = good._session
    with pytest.raises(CosServiceError) as refused:
        forger.put_object(Bucket=own_bucket, Key="big", Body=os.urandom(64 * 1024 * 1024))
    assert refused.value.get_status_code() == 403
    follow_up(good, own_bucket)
