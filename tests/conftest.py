"""Shared fixtures: a real Kinko server (gunicorn, same command as `make run`) for protocol tests, SDK clients,
and storage on tmp_path for in-process domain tests. The helpers they use live in tests/live.py."""

import shutil
import socket
import subprocess
import time
import uuid

import pytest
from qcloud_cos import CosS3Client

from keys import master
from tests.fuzzing import CASES
from tests.live import APPID, LiveKinko, cos_client, free_port, running_kinko
from tests.seaweed import Seaweed, running_seaweed


@pytest.fixture(scope="session")
def kinko(tmp_path_factory) -> LiveKinko:
    """One real server for the session (SSE-C allowed over plain HTTP, as for a local test harness)."""
    with running_kinko(tmp_path_factory.mktemp("kinko-data"), env={"KINKO_SSE_C_ALLOW_HTTP": "true"}) as server:
        yield server


@pytest.fixture(scope="session")
def seaweed(tmp_path_factory) -> Seaweed:
    """One SeaweedFS (S3 on loopback) for the session, for every test of the S3 blob backend."""
    with running_seaweed(tmp_path_factory.mktemp("seaweed")) as store:
        yield store


@pytest.fixture(scope="session")
def redis_url(tmp_path_factory):
    """A throwaway redis-server on loopback for the session (the Redis broker, cache and replay store)."""
    binary = shutil.which("redis-server")
    if binary is None:
        pytest.skip("redis-server is not installed: the Redis broker case needs it (apt-get install redis-server)")
    port = free_port()
    workdir = tmp_path_factory.mktemp("redis")
    proc = subprocess.Popen(
        [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", str(workdir)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 10
    while True:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                break
        except OSError:
            if time.monotonic() > deadline:
                proc.kill()
                raise RuntimeError("redis-server did not start") from None
            time.sleep(0.1)
    yield f"redis://127.0.0.1:{port}/0"
    proc.terminate()
    proc.wait(timeout=10)


@pytest.fixture(scope="session")
def cos(kinko) -> CosS3Client:
    return cos_client(kinko)


@pytest.fixture(scope="session")
def cos_proxy(kinko) -> CosS3Client:
    return cos_client(kinko, proxy=True)


@pytest.fixture(params=["ip", "proxy"])
def any_cos(request, kinko) -> CosS3Client:
    """The same test in both addressing modes the README documents."""
    return cos_client(kinko, proxy=request.param == "proxy")


@pytest.fixture
def bucket(cos) -> str:
    """A fresh, empty bucket with a unique name, deleted (with its objects) afterwards."""
    name = f"t{uuid.uuid4().hex[:12]}-{APPID}"
    cos.create_bucket(Bucket=name)
    yield name
    marker = ""
    while True:
        listing = cos.list_objects(Bucket=name, Marker=marker, MaxKeys=1000)
        keys = [item["Key"] for item in listing.get("Contents", [])]
        if keys:
            cos.delete_objects(Bucket=name, Delete={"Quiet": "true", "Object": [{"Key": k} for k in keys]})
        if listing["IsTruncated"] != "true":
            break
        marker = listing["NextMarker"]
    cos.delete_bucket(Bucket=name)


@pytest.fixture(autouse=True)
def _storage_on_tmp_path(settings, tmp_path):
    """In-process tests write blobs under tmp_path, never into a shared data dir."""
    settings.STORAGE_ROOT = tmp_path / "objects"


@pytest.fixture(autouse=True)
def _fresh_master_key_cache():
    """Each test has its own database, so the SSE-COS master key the process cached belongs to another test."""
    master.forget_cached_keys()
    yield
    master.forget_cached_keys()


def pytest_terminal_summary(terminalreporter):
    """How many generated cases each edge's property-based test sent (tests/fuzzing.py)."""
    if CASES:
        counts = ", ".join(f"{edge} {count}" for edge, count in sorted(CASES.items()))
        terminalreporter.write_sep("-", f"fuzz cases sent: {counts}")
