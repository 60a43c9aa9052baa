"""The production profile's nginx (deploy/nginx.conf, edited only where it says "edit") in front of a live node:
slow clients are absorbed by nginx, signed COS requests verify through it (the signed Host reaches Kinko), and
large bodies stream both ways."""

import os
import shutil
import socket
import subprocess
import threading
import time
import uuid
from pathlib import Path

import pytest
import requests

from tests.live import APPID, ROOT, LiveKinko, cos_client, free_port, running_kinko

NGINX = shutil.which("nginx", path=f"{os.environ.get('PATH', '')}:/usr/sbin:/sbin")
pytestmark = pytest.mark.skipif(NGINX is None, reason="nginx is not installed (apt-get install nginx)")

SLOW_CLIENTS = 30
LINE_EVERY_SECONDS = 3.0
SLOW_LINES = 10  # a header line every 3 s for 30 s
MAX_SECONDS = 1.0  # what an ordinary request may take meanwhile
START_SECONDS = 20


def nginx_conf(tmp: Path, listen_port: int, upstream_port: int) -> Path:
    """The shipped file with its two "edit" lines set, included from a main config whose files are all in `tmp`."""
    shipped = (ROOT / "deploy" / "nginx.conf").read_text()
    site = shipped.replace("server 127.0.0.1:8000;", f"server 127.0.0.1:{upstream_port};", 1)
    site = site.replace("listen 80;", f"listen 127.0.0.1:{listen_port};", 1)
    assert site.count(str(upstream_port)) == 1 and site.count(str(listen_port)) == 1, "the edit lines moved"
    (tmp / "kinko.conf").write_text(site)
    temp_paths = "\n".join(
        f"    {kind}_temp_path {tmp / kind};" for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
    )
    main = tmp / "nginx.conf"
    main.write_text(
        ("user root;\n" if os.geteuid() == 0 else "")  # the temp paths live in a 0700 folder of root's
        + f"daemon off;\nworker_processes 1;\npid {tmp / 'nginx.pid'};\nerror_log {tmp / 'error.log'} info;\n"
        + "events { worker_connections 512; }\n"
        + f"http {{\n    access_log {tmp / 'access.log'};\n{temp_paths}\n    include {tmp / 'kinko.conf'};\n}}\n"
    )
    return main


@pytest.fixture(scope="module")
def kinko_behind_nginx(tmp_path_factory) -> LiveKinko:
    """A node as `make run` serves it (2 workers x 4 threads), believing nginx's X-Forwarded-*; /metrics for
    127.0.0.1 only."""
    env = {"KINKO_TRUSTED_PROXIES": "127.0.0.1", "KINKO_METRICS_ALLOW": "127.0.0.1/32"}
    with running_kinko(tmp_path_factory.mktemp("kinko-nginx"), env=env, https=False) as server:
        yield server


@pytest.fixture(scope="module")
def nginx_port(kinko_behind_nginx, tmp_path_factory) -> int:
    tmp = tmp_path_factory.mktemp("nginx")
    port = free_port()
    conf = nginx_conf(tmp, port, kinko_behind_nginx.port)
    with open(tmp / "stderr.log", "w") as log:
        proc = subprocess.Popen([NGINX, "-p", str(tmp), "-c", str(conf), "-e", str(tmp / "error.log")], stderr=log)
    try:
        deadline = time.monotonic() + START_SECONDS
        while True:
            try:
                if requests.get(f"http://127.0.0.1:{port}/healthz", timeout=2).status_code == 200:
                    break
            except requests.ConnectionError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                errors = (tmp / "stderr.log").read_text() + (tmp / "error.log").read_text(errors="replace")
                raise RuntimeError(f"nginx did not start: {errors}")
            time.sleep(0.1)
        yield port
    finally:
        proc.terminate()
        proc.wait(timeout=10)


@pytest.fixture(scope="module")
def cos_via_nginx(kinko_behind_nginx, nginx_port):
    return cos_client(kinko_behind_nginx, Port=nginx_port, ServiceDomain=f"127.0.0.1:{nginx_port}")


@pytest.fixture(scope="module")
def bucket(cos_via_nginx) -> str:
    name = f"ngx{uuid.uuid4().hex[:10]}-{APPID}"
    cos_via_nginx.create_bucket(Bucket=name)
    return name


def test_a_signed_put_and_get_through_nginx_verify_with_the_signed_host(cos_via_nginx, bucket):
    cos_via_nginx.put_object(Bucket=bucket, Key="a.txt", Body=b"through nginx", ServerSideEncryption="AES256")
    got = cos_via_nginx.get_object(Bucket=bucket, Key="a.txt")
    assert got["Body"].get_raw_stream().read() == b"through nginx"
    assert got["x-cos-server-side-encryption"] == "AES256"
    assert any(entry["Name"] == bucket for entry in cos_via_nginx.list_buckets()["Buckets"]["Bucket"])


def test_a_large_body_streams_through_nginx_both_ways(cos_via_nginx, bucket):
    body = os.urandom(24 * 1024 * 1024)  # far beyond nginx's 1 MiB of response buffers
    cos_via_nginx.put_object(Bucket=bucket, Key="large.bin", Body=body)
    assert cos_via_nginx.get_object(Bucket=bucket, Key="large.bin")["Body"].get_raw_stream().read() == body


def status_from(source: str, port: int, path: str, headers: str = "") -> bytes:
    """The status line of `GET path` sent from the loopback address `source`."""
    with socket.socket() as conn:
        conn.settimeout(10)
        conn.bind((source, 0))
        conn.connect(("127.0.0.1", port))
        conn.sendall(f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n{headers}\r\n".encode())
        return conn.recv(64).split(b"\r\n", 1)[0]


def test_kinko_sees_the_client_address_nginx_saw_not_one_the_client_claims(nginx_port):
    """/metrics is for 127.0.0.1 only here: through nginx, a client on 127.0.0.2 is refused, with or without an
    X-Forwarded-For of its own naming 127.0.0.1, and one on 127.0.0.1 is served."""
    assert status_from("127.0.0.1", nginx_port, "/metrics") == b"HTTP/1.1 200 OK"
    assert status_from("127.0.0.2", nginx_port, "/metrics") == b"HTTP/1.1 403 Forbidden"
    forged = "X-Forwarded-For: 127.0.0.1\r\n"
    assert status_from("127.0.0.2", nginx_port, "/metrics", forged) == b"HTTP/1.1 403 Forbidden"


def _trickle(slow: list[socket.socket], failures: list[str]) -> None:
    for line in range(SLOW_LINES):
        for n, conn in enumerate(slow):
            try:
                conn.sendall(f"X-Slow-{line}: {n}\r\n".encode())
            except OSError as exc:
                failures.append(f"slow client {n}, line {line}: {exc}")
        time.sleep(LINE_EVERY_SECONDS)


def test_slow_header_clients_do_not_delay_other_requests(cos_via_nginx, bucket, nginx_port):
    slow = [socket.create_connection(("127.0.0.1", nginx_port), timeout=10) for _ in range(SLOW_CLIENTS)]
    try:
        for conn in slow:
            conn.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n")
        failures: list[str] = []
        trickler = threading.Thread(target=_trickle, args=(slow, failures))
        trickler.start()
        took = []
        n = 0
        while trickler.is_alive():
            started = time.monotonic()
            cos_via_nginx.put_object(Bucket=bucket, Key=f"meanwhile-{n % 5}", Body=b"x" * 1024)
            took.append(time.monotonic() - started)
            started = time.monotonic()
            assert cos_via_nginx.get_object(Bucket=bucket, Key=f"meanwhile-{n % 5}")["Body"].get_raw_stream().read()
            took.append(time.monotonic() - started)
            n += 1
        trickler.join()
        assert failures == []
        assert len(took) >= 20
        assert max(took) < MAX_SECONDS, f"slowest {max(took):.2f} s of {len(took)} requests"
        # Every slow client was held for the whole 30 s and is answered once its headers end.
        for conn in slow:
            conn.sendall(b"\r\n")
        assert [conn.recv(64).split(b"\r\n", 1)[0] for conn in slow] == [b"HTTP/1.1 200 OK"] * SLOW_CLIENTS
    finally:
        for conn in slow:
            conn.close()
