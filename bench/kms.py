"""KMS benchmark: GenerateDataKey and Decrypt calls per second through the real tencentcloud-sdk-python-kms.

One Kinko server (`manage.py serve --no-worker`, HTTP only) with its KMS activated (`activate_kms`); the root
account creates one CMK (CreateKey) and every call uses it. Clients are KmsClient objects built as a user would:
`HttpProfile(protocol="http", endpoint="127.0.0.1:<port>")`, TC3-HMAC-SHA256 signatures, POST with a JSON body
(the SDK's requests.Session keeps the connection alive). Each call is signed, verified, authorized through CAM
and answered by the KMS; GenerateDataKey asks for KeySpec AES_256, Decrypt opens one such CiphertextBlob.

Client processes (1, and --clients, default 4) run the phases GenerateDataKey, Decrypt, round after round
(--rounds, default 3; which process count goes first alternates); each phase makes --calls calls in all, split
between the processes, released together by a barrier after 3 warm-up calls each. Reported: calls/s over the wall
time of a phase (median of the rounds) and p50/p95 of every call's latency (all rounds pooled); the server's peak
RSS (gunicorn master and workers, sampled every 50 ms).

Usage: .venv/bin/python bench/kms.py [--calls 2000] [--clients 4] [--rounds 3] [--json]
Progress goes to stderr; the table (or JSON) to stdout. The server and temp files are removed on exit and Ctrl-C.
"""

import argparse
import base64
import json
import signal
import sys
import threading
import time
import uuid
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from common import (
    PHASE_TIMEOUT,
    REGION,
    ClientPool,
    Endpoint,
    RssSampler,
    cell,
    format_table,
    log,
    log_anomalies,
    manage,
    median,
    percentile,
    print_report,
    run_benchmark,
    start_kinko,
)
from tencentcloud.common import credential
from tencentcloud.common.exception.tencent_cloud_sdk_exception import TencentCloudSDKException
from tencentcloud.common.profile.client_profile import ClientProfile
from tencentcloud.common.profile.http_profile import HttpProfile
from tencentcloud.kms.v20190118 import kms_client, models

ACTIONS = ("GenerateDataKey", "Decrypt")
WARMUP_CALLS = 3


def make_kms(endpoint: Endpoint) -> kms_client.KmsClient:
    http = HttpProfile(protocol="http", endpoint=f"127.0.0.1:{endpoint.port}")
    cred = credential.Credential(endpoint.secret_id, endpoint.secret_key)
    return kms_client.KmsClient(cred, REGION, ClientProfile(httpProfile=http))


def call(client: kms_client.KmsClient, action: str, **params: Any) -> dict[str, Any]:
    request = getattr(models, f"{action}Request")()
    request.from_json_string(json.dumps(params))
    return json.loads(getattr(client, action)(request).to_json_string())


@dataclass(frozen=True)
class Work:
    """What one client process needs: where, which key, the blob to decrypt, and its calls per phase."""

    endpoint: Endpoint
    key_id: str
    blob: str
    plaintext_b64: str
    phases: tuple[tuple[str, int], ...]  # (action, calls) in the order the parent releases them

    def params(self, action: str) -> dict[str, str]:
        if action == "GenerateDataKey":
            return {"KeyId": self.key_id, "KeySpec": "AES_256"}
        return {"CiphertextBlob": self.blob}


def kms_client_process(work: Work, barrier: Any, results: Any) -> None:
    """Warm up, then for each phase: wait for the start, make the calls (timing each), wait for the end."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent handles Ctrl-C and terminates us
    client = make_kms(work.endpoint)
    tally: dict[str, Any] = {"latencies_ms": [], "errors": 0, "first_error": ""}
    try:
        for action in ACTIONS:
            for _ in range(WARMUP_CALLS):
                call(client, action, **work.params(action))
        if call(client, "Decrypt", CiphertextBlob=work.blob)["Plaintext"] != work.plaintext_b64:
            raise RuntimeError("Decrypt did not return the data key GenerateDataKey made")
        for action, calls in work.phases:
            latencies = []
            params = work.params(action)
            barrier.wait(PHASE_TIMEOUT)
            for _ in range(calls):
                start = time.perf_counter()
                try:
                    call(client, action, **params)
                except TencentCloudSDKException as exc:
                    tally["errors"] += 1
                    tally["first_error"] = tally["first_error"] or f"{action}: {exc}"
                latencies.append((time.perf_counter() - start) * 1000)
            barrier.wait(PHASE_TIMEOUT)
            tally["latencies_ms"].append(latencies)
    except threading.BrokenBarrierError:
        return  # the parent gave up (Ctrl-C) or another client failed; that one reports
    except BaseException:
        barrier.abort()
        raise
    results.put(tally)


def split(total: int, parts: int) -> list[int]:
    return [total // parts + (1 if i < total % parts else 0) for i in range(parts)]


def bench_kms(endpoint: Endpoint, args: argparse.Namespace) -> dict[str, Any]:
    """Per (action, process count): calls/s of each round and every call's latency in ms."""
    admin = make_kms(endpoint)
    key_id = call(admin, "CreateKey", Alias=f"bench{uuid.uuid4().hex[:16]}")["KeyId"]
    data_key = call(admin, "GenerateDataKey", KeyId=key_id, KeySpec="AES_256")
    if len(base64.b64decode(data_key["Plaintext"])) != 32:
        raise RuntimeError("GenerateDataKey did not return a 32-byte data key")
    counts = sorted({1, args.clients})
    pools: dict[int, ClientPool] = {}
    interrupted = True
    rates: dict[tuple[str, int], list[float]] = {(a, c): [] for a in ACTIONS for c in counts}
    try:
        for clients in counts:
            works = []
            for share in split(args.calls, clients):
                phases = tuple((action, share) for _ in range(args.rounds) for action in ACTIONS)
                works.append((Work(endpoint, key_id, data_key["CiphertextBlob"], data_key["Plaintext"], phases),))
            pools[clients] = ClientPool(f"{clients}-process KMS", kms_client_process, works)
        for round_index in range(args.rounds):
            order = counts if round_index % 2 == 0 else counts[::-1]
            for clients in order:
                for action in ACTIONS:
                    seconds = pools[clients].timed_phase()
                    rates[action, clients].append(args.calls / seconds)
                    log(f"round {round_index + 1}/{args.rounds}: {action:15} x{clients}  {args.calls / seconds:7.0f}/s")
        tallies = {clients: pools[clients].tallies() for clients in counts}
        interrupted = False
    finally:
        for pool in pools.values():
            pool.close(interrupted)
    results: dict[str, Any] = {"key_id": key_id, "rows": [], "errors": 0, "first_error": ""}
    for action_index, action in enumerate(ACTIONS):
        for clients in counts:
            latencies = [
                ms
                for tally in tallies[clients]
                for phase_index, phase in enumerate(tally["latencies_ms"])
                if phase_index % len(ACTIONS) == action_index
                for ms in phase
            ]
            results["rows"].append(
                {
                    "action": action,
                    "clients": clients,
                    "calls_per_s": median(rates[action, clients]),
                    "rounds_calls_per_s": rates[action, clients],
                    "p50_ms": percentile(latencies, 50),
                    "p95_ms": percentile(latencies, 95),
                    "calls_timed": len(latencies),
                }
            )
    for clients in counts:
        for tally in tallies[clients]:
            results["errors"] += tally["errors"]
            results["first_error"] = results["first_error"] or tally["first_error"]
    return results


# -- report -----------------------------------------------------------------------------------------------


@dataclass
class Report:
    config: dict[str, Any]
    rows: list[dict[str, Any]] = field(default_factory=list)
    rss_mib: dict[str, float] = field(default_factory=dict)
    anomalies: list[str] = field(default_factory=list)

    def as_json(self) -> str:
        fields = {"config": self.config, "rows": self.rows, "rss_mib": self.rss_mib, "anomalies": self.anomalies}
        return json.dumps(fields, indent=2)

    def table(self) -> str:
        config = self.config
        title = (
            f"KMS through tencentcloud-sdk-python-kms over HTTP: {config['calls']} calls per phase, "
            f"calls/s median of {config['rounds']} round(s), latency over all calls"
        )
        rows = [
            [
                row["action"],
                str(row["clients"]),
                cell(row["calls_per_s"], 0),
                cell(row["p50_ms"], 2),
                cell(row["p95_ms"], 2),
            ]
            for row in self.rows
        ]
        table = format_table(["action", "processes", "calls/s", "p50 ms", "p95 ms"], rows)
        rss = f"server RSS MiB: start {self.rss_mib['start']:.1f}, peak {self.rss_mib['peak']:.1f}"
        return "\n".join([title, table, rss])


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--calls", type=int, default=2000, help="calls per phase, over all processes (default 2000)")
    parser.add_argument("--clients", type=int, default=4, help="client processes of the parallel runs (default 4)")
    parser.add_argument("--rounds", type=int, default=3, help="rounds of all phases (default 3)")
    parser.add_argument("--tmp-dir", help="parent of the temp dir for the server's data (default: system temp)")
    parser.add_argument("--json", action="store_true", help="print the results as JSON instead of a table")
    args = parser.parse_args(argv)
    if min(args.calls, args.clients, args.rounds) < 1 or args.calls < args.clients:
        parser.error("counts must be positive, and --calls at least --clients")
    return args


def run(args: argparse.Namespace, workdir: Path, stack: ExitStack) -> Report:
    log("starting Kinko with its KMS activated")
    kinko = start_kinko(workdir, stack, prepare=lambda env: manage(env, "activate_kms", "--json"))
    with RssSampler({"kinko": kinko.masters}) as sampler:
        kinko.rss_start_kib = sampler.last_kib["kinko"]
        results = bench_kms(kinko.endpoint, args)
    report = Report(
        config={"calls": args.calls, "clients": args.clients, "rounds": args.rounds, "key_id": results["key_id"]},
        rows=results["rows"],
        rss_mib={"start": kinko.rss_start_kib / 1024, "peak": sampler.peak_kib["kinko"] / 1024},
    )
    if results["errors"]:
        report.anomalies.append(f"{results['errors']} failed calls, first: {results['first_error']}")
    report.anomalies.extend(log_anomalies(kinko))
    return report


def main(argv: list[str] | None = None) -> int:
    return run_benchmark(parse_args(argv), run, print_report)


if __name__ == "__main__":
    sys.exit(main())
