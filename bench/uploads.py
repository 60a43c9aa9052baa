"""Console upload benchmark: a large file through the upload manager's endpoints, as the panel sends it.

Kinko starts as the tests start it (bench/common.start_kinko); a console superuser signs in through /login/ with
requests, then uploads one --mib file the way static/console/uploads.js does: initiate, --part-mib parts (each a
streamed body with a Content-Length, like a Blob slice), complete. Reported: MB/s (10^6 bytes per second) and the
server's RSS (gunicorn master and workers, summed, sampled every 50 ms) at the start and at its peak; the object is
read back through qcloud_cos and its MD5 compared. Memory is flat when the peak stays near the start whatever --mib.

Usage: .venv/bin/python bench/uploads.py [--mib 1024] [--part-mib 8] [--sse AES256|cos/kms|none] [--json]
"""

import argparse
import hashlib
import json
import re
import sys
import time
import uuid
from contextlib import ExitStack
from dataclasses import asdict, dataclass, field
from pathlib import Path

import requests
from common import (
    MIB,
    RssSampler,
    cell,
    enable_sse_kms,
    format_table,
    log,
    make_client,
    manage,
    run_benchmark,
    start_kinko,
)

CSRF = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')
SUPERUSER = """
from django.contrib.auth import get_user_model
user, _ = get_user_model().objects.get_or_create(username={name!r})
user.is_staff = user.is_superuser = user.is_active = True
user.set_password({password!r})
user.save()
"""


class Pattern:
    """`size` deterministic bytes made as they are read, never held whole; `len` gives requests a Content-Length."""

    def __init__(self, size: int, seed: int, digest) -> None:
        self.size = self.len = size
        self.sent = 0
        self.block = hashlib.sha256(str(seed).encode()).digest() * 2048  # 64 KiB
        self.digest = digest

    def read(self, amount: int = -1) -> bytes:
        amount = self.size - self.sent if amount is None or amount < 0 else min(amount, self.size - self.sent)
        out = bytearray()
        while len(out) < amount:
            offset = (self.sent + len(out)) % len(self.block)
            out += self.block[offset : offset + amount - len(out)]
        self.sent += len(out)
        self.digest.update(out)
        return bytes(out)


@dataclass
class Report:
    mib: int
    part_mib: int
    sse: str
    seconds: float = 0.0
    mb_per_s: float = 0.0
    rss_start_mib: float = 0.0
    rss_peak_mib: float = 0.0
    anomalies: list[str] = field(default_factory=list)

    def as_json(self) -> str:
        return json.dumps(asdict(self), indent=2)

    def table(self) -> str:
        rows = [
            [
                f"{self.mib} MiB in {self.part_mib} MiB parts ({self.sse})",
                cell(self.mb_per_s),
                cell(self.rss_start_mib),
                cell(self.rss_peak_mib),
            ]
        ]
        return format_table(["console upload", "MB/s", "RSS start MiB", "RSS peak MiB"], rows)


def signed_in(base: str, env: dict[str, str]) -> requests.Session:
    name, password = f"bench-{uuid.uuid4().hex[:8]}", uuid.uuid4().hex
    manage(env, "shell", "-c", SUPERUSER.format(name=name, password=password))
    session = requests.Session()
    token = CSRF.search(session.get(f"{base}/login/", timeout=10).text).group(1)
    data = {"csrfmiddlewaretoken": token, "username": name, "password": password}
    if session.post(f"{base}/login/", data=data, timeout=10, allow_redirects=False).status_code != 302:
        raise RuntimeError("the bench user could not sign in")
    session.headers.update({"X-CSRFToken": session.cookies["csrftoken"], "Referer": f"{base}/"})
    return session


def checked(response: requests.Response) -> dict:
    if response.status_code >= 300:
        raise RuntimeError(f"{response.request.method} {response.url}: {response.status_code} {response.text[:300]}")
    return response.json() if response.content else {}


def run(args: argparse.Namespace, workdir: Path, stack: ExitStack) -> Report:
    report = Report(args.mib, args.part_mib, args.sse)
    kinko = start_kinko(workdir, stack, prepare=enable_sse_kms if args.sse == "cos/kms" else None)
    base = f"http://127.0.0.1:{kinko.endpoint.port}"
    cos = make_client(kinko.endpoint)
    bucket = kinko.endpoint.bucket
    cos.create_bucket(Bucket=bucket)
    session = signed_in(base, kinko.env)
    uploads = f"{base}/buckets/{bucket}/uploads"
    query = {} if args.sse == "none" else {"sse": args.sse}
    sent = hashlib.md5()
    size, part = args.mib * MIB, args.part_mib * MIB
    with RssSampler({"kinko": kinko.masters}) as sampler:
        report.rss_start_mib = sampler.last_kib["kinko"] / 1024
        log(f"uploading {args.mib} MiB through the console in {args.part_mib} MiB parts")
        started = time.monotonic()
        upload_id = checked(session.post(f"{uploads}/multipart/big.bin", params=query, timeout=30))["upload_id"]
        parts = []
        for number, offset in enumerate(range(0, size, part), start=1):
            body = Pattern(min(part, size - offset), number, sent)
            params = {"upload_id": upload_id, "part_number": number}
            etag = checked(session.put(f"{uploads}/part/big.bin", params=params, data=body, timeout=600))["etag"]
            parts.append({"part_number": number, "etag": etag})
        checked(
            session.post(
                f"{uploads}/complete/big.bin", params={"upload_id": upload_id}, json={"parts": parts}, timeout=600
            )
        )
        report.seconds = time.monotonic() - started
    report.rss_peak_mib = sampler.peak_kib["kinko"] / 1024
    report.mb_per_s = size / report.seconds / 1e6
    log("reading it back through qcloud_cos")
    stored = hashlib.md5()
    stream = cos.get_object(Bucket=bucket, Key="big.bin")["Body"].get_raw_stream()
    while chunk := stream.read(MIB):
        stored.update(chunk)
    if stored.hexdigest() != sent.hexdigest():
        report.anomalies.append("the stored object's MD5 differs from what was sent")
    return report


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mib", type=int, default=1024, help="file size in MiB (default 1024)")
    parser.add_argument("--part-mib", type=int, default=8, help="part size in MiB, as the panel's (default 8)")
    parser.add_argument("--sse", choices=["AES256", "cos/kms", "none"], default="AES256")
    parser.add_argument("--tmp-dir", default=None, help="where the data dir goes (default: the system's temp dir)")
    parser.add_argument("--json", action="store_true", help="print the report as JSON")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    def show(report: Report, as_json: bool) -> None:
        print(report.as_json() if as_json else report.table())
        for anomaly in report.anomalies:
            print(f"! {anomaly}")

    return run_benchmark(parse_args(argv), run, show)


if __name__ == "__main__":
    sys.exit(main())
