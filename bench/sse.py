"""SSE benchmark: what each server-side encryption mode costs on one Kinko server, driven by the unmodified COS SDK.

Every object in Kinko is encrypted at rest (buckets/segments.py: AES-256-GCM in 64 KiB segments, a random data key
per blob); the SSE modes only change how that data key is wrapped (buckets/sse.py):

* plain   - no SSE asked for: wrapped by the service master key, reported unencrypted by the API;
* sse-cos - `x-cos-server-side-encryption: AES256`: the same wrap, reported as SSE-COS;
* sse-kms - `cos/kms` with the region's default CMK: one in-process KMS GenerateDataKey per write and one Decrypt
            per read, as the account's CAM role COS_QcsRole (so each also evaluates that role's policies);
* sse-c   - a customer key sent with every request (KINKO_SSE_C_ALLOW_HTTP=true, as the benchmark speaks HTTP).

The bare baseline app (bench/baseline_app.py, same gunicorn settings, no encryption, no auth, no database) runs
next to it, so the row "plain / baseline" shows what at-rest encryption plus everything else Kinko does costs.

One run, one Kinko server (KMS activated, COS_QcsRole created before it starts) and one baseline:

* large: PUT and GET (1 MiB raw reads) of one --large-mib object per mode, all modes in turn per round (the order
  rotates each round) for --rounds rounds; medians in MB/s (10^6 bytes per second);
* small: --small-count 4 KiB PUTs then GETs per mode by --clients client processes; the modes take turns phase by
  phase; ops/s over the wall time between two barriers;
* latency: --range-requests 4 KiB ranged GETs from the middle of each large object, the modes interleaved request
  by request on one keep-alive connection each (after 5 warm-up requests); p50 and p95 in ms; every body checked;
* memory: peak RSS of each server's gunicorn master and workers, sampled every 50 ms.

Usage: .venv/bin/python bench/sse.py [--large-mib 1024] [--rounds 3] [--small-count 2000] [--clients 4] [--json]
Progress goes to stderr; the table (or JSON) to stdout. Servers and temp files are removed on exit and on Ctrl-C.
"""

import argparse
import base64
import hashlib
import json
import os
import sys
import time
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from common import (
    MIB,
    SMALL_BYTES,
    Endpoint,
    LargeObject,
    RssSampler,
    Server,
    SmallTarget,
    bench_small,
    cell,
    enable_sse_kms,
    format_table,
    log,
    log_anomalies,
    make_client,
    median,
    percentile,
    print_report,
    ratio,
    run_benchmark,
    small_errors,
    start_baseline,
    start_kinko,
    timed_get,
    write_payload,
)
from qcloud_cos import CosS3Client

MODES = ("plain", "sse-cos", "sse-kms", "sse-c")
TARGETS = ("baseline", *MODES)
WARMUP_REQUESTS = 5
PLAIN_NOTE = (
    'Every Kinko object is encrypted at rest: "plain" (no SSE asked for) is AES-256-GCM like the others, its data\n'
    'key wrapped by the service master key. "baseline" is the bare WSGI app (no encryption, auth or database).'
)


@dataclass(frozen=True)
class Mode:
    """One row of the benchmark: a server, and the SDK keyword arguments of its writes and reads."""

    name: str
    endpoint: Endpoint
    put_kwargs: dict[str, str] = field(default_factory=dict)
    get_kwargs: dict[str, str] = field(default_factory=dict)
    echo: tuple[str, str] | None = None  # a response header a PUT must carry, and its value
    md5_etag: bool = False  # the ETag of a single PUT is the MD5 of the body

    @property
    def large_key(self) -> str:
        return f"large/{self.name}"


def make_modes(baseline: Server, kinko: Server) -> dict[str, Mode]:
    key = os.urandom(32)
    ssec = {
        "SSECustomerAlgorithm": "AES256",
        "SSECustomerKey": base64.b64encode(key).decode(),
        "SSECustomerKeyMD5": base64.b64encode(hashlib.md5(key).digest()).decode(),
    }
    sse = "x-cos-server-side-encryption"
    return {
        "baseline": Mode("baseline", baseline.endpoint, md5_etag=True),
        "plain": Mode("plain", kinko.endpoint, md5_etag=True),
        "sse-cos": Mode("sse-cos", kinko.endpoint, {"ServerSideEncryption": "AES256"}, {}, (sse, "AES256"), True),
        "sse-kms": Mode("sse-kms", kinko.endpoint, {"ServerSideEncryption": "cos/kms"}, {}, (sse, "cos/kms")),
        "sse-c": Mode("sse-c", kinko.endpoint, ssec, ssec, (f"{sse}-customer-algorithm", "AES256")),
    }


def rotated(names: tuple[str, ...], index: int) -> list[str]:
    shift = index % len(names)
    return list(names[shift:] + names[:shift])


# -- large objects ----------------------------------------------------------------------------------------


def timed_put(client: CosS3Client, mode: Mode, obj: LargeObject, anomalies: list[str]) -> float:
    with obj.path.open("rb") as body:
        start = time.perf_counter()
        response = client.put_object(Bucket=mode.endpoint.bucket, Body=body, Key=mode.large_key, **mode.put_kwargs)
        elapsed = time.perf_counter() - start
    headers = {name.lower(): value for name, value in response.items()}
    etag = headers.get("etag", "").strip('"')
    if mode.md5_etag and etag != obj.md5:
        anomalies.append(f"{mode.name}: PUT returned ETag {etag!r}, expected the MD5 {obj.md5}")
    if mode.echo and headers.get(mode.echo[0]) != mode.echo[1]:
        anomalies.append(f"{mode.name}: PUT answered {mode.echo[0]}: {headers.get(mode.echo[0])!r}")
    return elapsed


def bench_large(modes: dict[str, Mode], obj: LargeObject, rounds: int, anomalies: list[str]) -> dict[str, Any]:
    """Per mode, lists of MB/s for PUT and GET; every round PUTs all modes, then GETs them, in a rotating order."""
    clients = {name: make_client(mode.endpoint) for name, mode in modes.items()}
    rates: dict[str, dict[str, list[float]]] = {name: {"put": [], "get": []} for name in modes}

    def record(index: int, name: str, op: str, seconds: float) -> None:
        rates[name][op].append(obj.size / seconds / 1e6)
        log(f"round {index + 1}/{rounds}: {name:8} {op.upper()} {rates[name][op][-1]:8.1f} MB/s")

    for index in range(rounds):
        order = rotated(TARGETS, index)
        for name in order:
            record(index, name, "put", timed_put(clients[name], modes[name], obj, anomalies))
        for name in order:
            record(
                index,
                name,
                "get",
                timed_get(
                    clients[name],
                    modes[name].endpoint.bucket,
                    modes[name].large_key,
                    obj.size,
                    name,
                    **modes[name].get_kwargs,
                ),
            )
    return rates


# -- ranged GET latency -----------------------------------------------------------------------------------


def bench_range_latency(modes: dict[str, Mode], obj: LargeObject, requests: int) -> dict[str, list[float]]:
    """Per mode, the milliseconds of `requests` 4 KiB ranged GETs from the middle of its large object."""
    first = obj.size // 2
    last = min(obj.size, first + SMALL_BYTES) - 1
    with obj.path.open("rb") as file:
        file.seek(first)
        expected = file.read(last - first + 1)
    clients = {name: make_client(mode.endpoint) for name, mode in modes.items()}
    samples: dict[str, list[float]] = {name: [] for name in modes}
    for index in range(WARMUP_REQUESTS + requests):
        for name in rotated(TARGETS, index):
            mode = modes[name]
            start = time.perf_counter()
            response = clients[name].get_object(
                Bucket=mode.endpoint.bucket, Key=mode.large_key, Range=f"bytes={first}-{last}", **mode.get_kwargs
            )
            body = response["Body"].get_raw_stream().read()
            elapsed = time.perf_counter() - start
            if body != expected:
                raise RuntimeError(f"{name}: ranged GET bytes={first}-{last} returned other bytes ({len(body)})")
            if index >= WARMUP_REQUESTS:
                samples[name].append(elapsed * 1000)
    for name in TARGETS:
        values = samples[name]
        log(f"range: {name:8} p50 {percentile(values, 50):6.2f} ms  p95 {percentile(values, 95):6.2f} ms")
    return samples


# -- report -----------------------------------------------------------------------------------------------


@dataclass
class Report:
    config: dict[str, Any]
    rows: dict[str, dict[str, float]] = field(default_factory=dict)
    rss: dict[str, dict[str, float]] = field(default_factory=dict)
    samples: dict[str, Any] = field(default_factory=dict)
    anomalies: list[str] = field(default_factory=list)

    THROUGHPUT = (
        ("put_mb_s", "PUT MB/s"),
        ("get_mb_s", "GET MB/s"),
        ("put_ops", "PUT 4KiB/s"),
        ("get_ops", "GET 4KiB/s"),
    )
    LATENCY = (("range_p50_ms", "p50 ms"), ("range_p95_ms", "p95 ms"))

    def ratios(self, name: str, reference: str) -> dict[str, float | None]:
        row, ref = self.rows[name], self.rows[reference]
        return {metric: ratio(row[metric], ref[metric]) for metric in row}

    def as_json(self) -> str:
        fields = {
            "config": self.config,
            "note": PLAIN_NOTE.replace("\n", " "),
            "modes": {name: {**row, "ratio_to_plain": self.ratios(name, "plain")} for name, row in self.rows.items()},
            "plain_over_baseline": self.ratios("plain", "baseline"),
            "rss_mib": self.rss,
            "samples": self.samples,
            "anomalies": self.anomalies,
        }
        return json.dumps(fields, indent=2)

    def _table(self, columns: tuple[tuple[str, str], ...], digits: int) -> str:
        header = ["mode"]
        for _, label in columns:
            header += [label, "xplain"]
        rows = []
        for name in TARGETS:
            ratios = self.ratios(name, "plain")
            row = [name]
            for metric, _ in columns:
                row += [cell(self.rows[name][metric], digits), cell(ratios[metric], 2)]
            rows.append(row)
        over = self.ratios("plain", "baseline")
        rows.append(["plain / baseline", *(c for metric, _ in columns for c in (cell(over[metric], 2), ""))])
        return format_table(header, rows)

    def table(self) -> str:
        config = self.config
        title = (
            f"{config['large_mib']} MiB object: median of {config['rounds']} round(s); 4 KiB objects: "
            f"{config['small_count']} per mode, {config['clients']} client processes; xplain = ratio to plain"
        )
        latency = (
            f"4 KiB ranged GET from the middle of the {config['large_mib']} MiB object, "
            f"{config['range_requests']} requests per mode"
        )
        rss = ", ".join(f"{name} {v['peak']:.1f} (start {v['start']:.1f})" for name, v in self.rss.items())
        return "\n".join(
            [
                PLAIN_NOTE,
                "",
                title,
                self._table(self.THROUGHPUT, 1),
                "",
                latency,
                self._table(self.LATENCY, 2),
                "",
                f"peak RSS MiB: {rss}",
            ]
        )


def build_report(
    args: argparse.Namespace,
    large: dict[str, Any],
    small: dict[str, dict[str, Any]],
    latency: dict[str, list[float]],
    servers: dict[str, Server],
    sampler: RssSampler,
    anomalies: list[str],
) -> Report:
    report = Report(
        config={
            "large_mib": args.large_mib,
            "rounds": args.rounds,
            "small_count": args.small_count,
            "small_bytes": SMALL_BYTES,
            "clients": args.clients,
            "range_requests": args.range_requests,
        },
        samples={"large_mb_per_s": large, "small": small, "range_ms": latency},
    )
    for name in TARGETS:
        report.rows[name] = {
            "put_mb_s": median(large[name]["put"]),
            "get_mb_s": median(large[name]["get"]),
            "put_ops": small[name]["put_ops"],
            "get_ops": small[name]["get_ops"],
            "range_p50_ms": percentile(latency[name], 50),
            "range_p95_ms": percentile(latency[name], 95),
        }
        anomalies.extend(small_errors(name, small[name]))
    for name, server in servers.items():
        report.rss[name] = {"start": server.rss_start_kib / 1024, "peak": sampler.peak_kib[name] / 1024}
        anomalies.extend(log_anomalies(server))
    report.anomalies = anomalies
    return report


# -- main -------------------------------------------------------------------------------------------------


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--large-mib", type=int, default=1024, help="size of the large object (default 1024)")
    parser.add_argument("--rounds", type=int, default=3, help="large PUT/GET rounds per mode (default 3)")
    parser.add_argument("--small-count", type=int, default=2000, help="4 KiB objects per mode (default 2000)")
    parser.add_argument("--clients", type=int, default=4, help="client processes for small objects (default 4)")
    parser.add_argument("--range-requests", type=int, default=200, help="ranged GETs per mode (default 200)")
    parser.add_argument("--tmp-dir", help="parent of the temp dir for data and the payload (default: system temp)")
    parser.add_argument("--json", action="store_true", help="print the results as JSON instead of a table")
    args = parser.parse_args(argv)
    if min(args.large_mib, args.rounds, args.small_count, args.clients, args.range_requests) < 1:
        parser.error("sizes and counts must be positive")
    return args


def run(args: argparse.Namespace, workdir: Path, stack: ExitStack) -> Report:
    anomalies: list[str] = []
    log(f"writing the {args.large_mib} MiB payload to {workdir}")
    payload = workdir / "payload.bin"
    size = args.large_mib * MIB
    obj = LargeObject(payload, size, *write_payload(payload, size))
    log("starting Kinko (KMS activated, COS_QcsRole, SSE-C over HTTP) and the baseline")
    kinko = start_kinko(workdir, stack, {"KINKO_SSE_C_ALLOW_HTTP": "true"}, enable_sse_kms)
    baseline = start_baseline(workdir, kinko, stack)
    servers = {"kinko": kinko, "baseline": baseline}
    modes = make_modes(baseline, kinko)
    with RssSampler({name: server.masters for name, server in servers.items()}) as sampler:
        for name, server in servers.items():
            server.rss_start_kib = sampler.last_kib[name]
            make_client(server.endpoint).create_bucket(Bucket=server.endpoint.bucket)
        large = bench_large(modes, obj, args.rounds, anomalies)
        latency = bench_range_latency(modes, obj, args.range_requests)
        targets = {
            name: SmallTarget(mode.endpoint, f"small-{name}", mode.put_kwargs, mode.get_kwargs)
            for name, mode in modes.items()
        }
        small = bench_small(targets, args.small_count, args.clients)
    return build_report(args, large, small, latency, servers, sampler, anomalies)


def main(argv: list[str] | None = None) -> int:
    return run_benchmark(parse_args(argv), run, print_report)


if __name__ == "__main__":
    sys.exit(main())
