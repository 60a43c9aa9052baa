"""Fixtures of the protocol tier: bucket names not yet taken, a client for a second region."""

import uuid

import pytest
from qcloud_cos import CosS3Client, CosServiceError

from tests.live import APPID, cos_client

OTHER_REGION = "ap-shanghai"


@pytest.fixture(scope="session")
def cos_shanghai(kinko) -> CosS3Client:
    """IP/Port mode, Host `<bucket>.cos.ap-shanghai.myqcloud.com`."""
    return cos_client(kinko, Region=OTHER_REGION)


@pytest.fixture
def new_bucket_name(cos, cos_shanghai) -> str:
    """A unique bucket name nobody has created; a bucket a test creates under it is deleted afterwards."""
    name = f"n{uuid.uuid4().hex[:12]}-{APPID}"
    yield name
    for client in (cos, cos_shanghai):
        try:
            client.delete_bucket(Bucket=name)
        except CosServiceError as exc:
            if exc.get_error_code() != "NoSuchBucket":
                raise


@pytest.fixture
def shanghai_bucket(cos_shanghai) -> str:
    """A fresh, empty bucket in ap-shanghai."""
    name = f"s{uuid.uuid4().hex[:12]}-{APPID}"
    cos_shanghai.create_bucket(Bucket=name)
    yield name
    cos_shanghai.delete_bucket(Bucket=name)
