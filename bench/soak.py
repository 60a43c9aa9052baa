"""Soak benchmark (not a test): one Kinko node under --clients clients doing mixed operations in every SSE mode for
--seconds seconds, driven by the unmodified COS SDK.

Each client thread loops over a random operation on its own keys: PUT (1 KiB to 256 KiB, random SSE mode: none,
SSE-COS, SSE-KMS, SSE-C), GET (whole body checked against what was written, SSE-C with its key), HEAD, a listing
of the client's prefix, DELETE, and an overwrite of a key shared by all clients. The node is started as the tests
start it (migrate, bootstrap, KMS activated, COS_QcsRole, `manage.py serve --no-worker`, plain HTTP).

Printed: operations done, errors by status (HTTP status and COS code, or the client error), p50/p99 latency per
operation in ms, and the RSS of the node's processes (the supervisor, gunicorn master and workers) every
--rss-every seconds.

Usage: .venv/bin/python bench/soak.py [--seconds 300] [--clients 16] [--rss-every 10] [--json]
"""

import argparse
import base64
import hashlib
import json
import os
import random
import sys
import tempfile
import threading
import time
from collections import Counter, defaultdict
from contextlib import ExitStack
from pathlib import Path

from common import enable_sse_kms, log, make_client, percentile, process_tree, read_ppids, rss_kib, start_kinko
from qcloud_cos.cos_exception import CosClientError, CosServiceError

OPERATIONS = ("put", "put", "get", "get", "head", "list", "delete", "overwrite-shared")
MODES = ("none", "sse-cos", "sse-kms", "sse-c")


def sse_c_headers(key: bytes) -> dict[str, str]:
    return {
        "SSECustomerAlgorithm": "AES256",
        "SSECustomerKey": base64.b64encode(key).decode(),
        "SSECustomerKeyMD5": base64.b64encode(hashlib.md5(key).digest()).decode(),  # noqa: S324 - the wire's MD5
    }


def put_headers(mode: str, key: bytes) -> dict[str, str]:
    if mode == "sse-cos":
        return {"ServerSideEncryption": "AES256"}
    if mode == "sse-kms":
        return {"ServerSideEncryption": "cos/kms"}
    if mode == "sse-c":
        return sse_c_headers(key)
    return {}


class Tally:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.ops = Counter()
        self.errors = Counter()
        self.latency = defaultdict(list)

    def record(self, op: str, seconds: float, error: str | None) -> None:
        with self.lock:
            self.ops[op] += 1
            self.latency[op].append(seconds * 1000)
            if error:
                self.errors[f"{op}: {error}"] += 1


def client_loop(endpoint, index: int, stop_at: float, tally: Tally) -> None:
    rng = random.Random(index)
    cos = make_client(endpoint)
    bucket = endpoint.bucket
    sse_c_key = os.urandom(32)
    written: dict[str, tuple[str, bytes]] = {}  # key -> (mode, sha256)
    n = 0
    while time.monotonic() < stop_at:
        op = rng.choice(OPERATIONS)
        if op in ("get", "head", "delete") and not written:
            op = "put"
        started, error = time.monotonic(), None
        try:
            if op == "put":
                n += 1
                key, mode = f"c{index}/k{n % 200}", rng.choice(MODES)
                body = os.urandom(rng.choice((1024, 16 * 1024, 256 * 1024)))
                cos.put_object(Bucket=bucket, Key=key, Body=body, **put_headers(mode, sse_c_key))
                written[key] = (mode, hashlib.sha256(body).digest())
            elif op == "overwrite-shared":
                cos.put_object(Bucket=bucket, Key="shared", Body=os.urandom(8 * 1024))
            elif op in ("get", "head"):
                key = rng.choice(list(written))
                mode, digest = written[key]
                extra = sse_c_headers(sse_c_key) if mode == "sse-c" else {}
                if op == "head":
                    cos.head_object(Bucket=bucket, Key=key, **extra)
                else:
                    body = cos.get_object(Bucket=bucket, Key=key, **extra)["Body"].get_raw_stream().read()
                    if hashlib.sha256(body).digest() != digest:
                        error = "body differs from what was written"
            elif op == "list":
                cos.list_objects(Bucket=bucket, Prefix=f"c{index}/", MaxKeys=100)
            elif op == "delete":
                key = rng.choice(list(written))
                cos.delete_object(Bucket=bucket, Key=key)
                del written[key]
        except CosServiceError as exc:
            error = f"{exc.get_status_code()} {exc.get_error_code()}"
        except CosClientError as exc:
            error = f"client error {str(exc)[:80]}"
        tally.record(op, time.monotonic() - started, error)


def node_rss_mib(root: int) -> float:
    return sum(rss_kib(pid) for pid in [root, *process_tree(root, read_ppids())]) / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=300)
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--rss-every", type=float, default=10)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="kinko-soak-") as workdir, ExitStack() as stack:
        kinko = start_kinko(Path(workdir), stack, {"KINKO_SSE_C_ALLOW_HTTP": "true"}, enable_sse_kms)
        make_client(kinko.endpoint).create_bucket(Bucket=kinko.endpoint.bucket)
        log(f"soak: {args.clients} clients for {args.seconds:g} s against port {kinko.endpoint.port}")
        tally, rss = Tally(), []
        started = time.monotonic()
        stop_at = started + args.seconds
        threads = [
            threading.Thread(target=client_loop, args=(kinko.endpoint, i, stop_at, tally), daemon=True)
            for i in range(args.clients)
        ]
        for thread in threads:
            thread.start()
        while any(thread.is_alive() for thread in threads):
            rss.append((round(time.monotonic() - started), round(node_rss_mib(kinko.proc.pid), 1)))
            log(f"soak: t={rss[-1][0]} s, {sum(tally.ops.values())} operations, RSS {rss[-1][1]} MiB")
            for thread in threads:
                thread.join(timeout=args.rss_every / max(1, len(threads)))
        elapsed = time.monotonic() - started
        result = {
            "seconds": round(elapsed, 1),
            "clients": args.clients,
            "operations": sum(tally.ops.values()),
            "ops_per_second": round(sum(tally.ops.values()) / elapsed, 1),
            "by_operation": dict(tally.ops),
            "errors": dict(tally.errors),
            "latency_ms": {
                op: {"p50": round(percentile(v, 50), 1), "p99": round(percentile(v, 99), 1)}
                for op, v in sorted(tally.latency.items())
            },
            "rss_mib": rss,
        }
    if args.json:
        json.dump(result, sys.stdout, indent=2)
        print()
        return
    print(
        f"{result['operations']} operations in {result['seconds']} s ({result['ops_per_second']}/s), "
        f"{args.clients} clients"
    )
    print("errors:", result["errors"] or "none")
    for op, figures in result["latency_ms"].items():
        print(f"  {op:<17} n={tally.ops[op]:<6} p50 {figures['p50']:>7} ms   p99 {figures['p99']:>7} ms")
    print("RSS of the node (s, MiB):", " ".join(f"{t}:{m}" for t, m in rss))


if __name__ == "__main__":
    main()
