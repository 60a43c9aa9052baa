"""Object PUT/GET benchmark: Kinko against a minimal WSGI baseline, both driven by the unmodified COS SDK.

Both servers run for the whole benchmark, each on a free port with a fresh data dir under one temp dir:

* Kinko: `manage.py migrate`, `bootstrap`, `credentials --json`, then `manage.py serve --no-worker` (as the tests do),
  with KINKO_HTTPS_PORT=0: the benchmark speaks plain HTTP, so only one gunicorn is measured on either side.
* Baseline: bench/baseline_app.py under gunicorn, started with the argv and MALLOC_* environment of Kinko's running
  gunicorn master (only the app and the bind address differ), so both get exactly the same gunicorn settings.

Measured through `qcloud_cos` (CosConfig in IP/Port mode, retry=0):

* large objects: PUT (file object) and GET (raw stream read in 1 MiB chunks) of one --large-mib object, alternating
  baseline and Kinko (and which goes first) for --rounds rounds; medians in MB/s (10^6 bytes per second);
* multipart: `upload_file(PartSize=16, MAXThread=4)` of the same file (list uploads, initiate, 16 MiB parts on 4
  threads, complete) and `download_file(PartSize=16, MAXThread=4)` of the result (HEAD, then 16 MiB ranged GETs on
  4 threads into a local file), alternating the same way; medians in MB/s. The baseline concatenates the parts
  into one file on Complete, Kinko only records their order;
* small objects: --small-count 4 KiB PUTs, then GETs of them, by --clients client processes per server; ops/s over
  the wall time between two barriers (client start-up excluded); the servers take turns phase by phase;
* memory: RSS of each server's gunicorn master and workers, summed and sampled every 50 ms; peak and end, in MiB.

Usage: .venv/bin/python bench/objects.py [--large-mib 1024] [--rounds 3] [--clients 4] [--json]
Progress goes to stderr; the table (or JSON) to stdout. Servers and temp files are removed on exit and on Ctrl-C.
"""

import argparse
import hashlib
import json
import sys
import time
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from common import (
    CHUNK_BYTES,
    MIB,
    SMALL_BYTES,
    LargeObject,
    RssSampler,
    Server,
    SmallTarget,
    bench_small,
    format_table,
    log,
    log_anomalies,
    make_client,
    median,
    multipart_etag,
    print_report,
    run_benchmark,
    small_errors,
    start_baseline,
    start_kinko,
    timed_get,
    write_payload,
)
from qcloud_cos import CosS3Client

NAMES = ("baseline", "kinko")
PART_MIB = 16
PART_THREADS = 4


# -- large objects ----------------------------------------------------------------------------------------


def timed_put(client: CosS3Client, server: Server, key: str, obj: LargeObject, anomalies: list[str]) -> float:
    with obj.path.open("rb") as body:
        start = time.perf_counter()
        response = client.put_object(Bucket=server.endpoint.bucket, Body=body, Key=key)
        elapsed = time.perf_counter() - start
    etag = response.get("ETag", "").strip('"')
    if etag != obj.md5:
        anomalies.append(f"{server.name}: PUT {key} returned ETag {etag!r}, expected the MD5 {obj.md5}")
    return elapsed


def bench_large(servers: dict[str, Server], obj: LargeObject, rounds: int, anomalies: list[str]) -> dict[str, Any]:
    """Per server, lists of MB/s for PUT and GET; the servers alternate, and so does who goes first."""
    clients = {name: make_client(server.endpoint) for name, server in servers.items()}
    rates: dict[str, dict[str, list[float]]] = {name: {"put": [], "get": []} for name in servers}

    def record(index: int, name: str, op: str, seconds: float) -> None:
        rates[name][op].append(obj.size / seconds / 1e6)
        log(f"round {index + 1}/{rounds}: {name:8} {op.upper()} {rates[name][op][-1]:8.1f} MB/s")

    names = tuple(servers)
    for index in range(rounds):
        order = names if index % 2 == 0 else names[::-1]
        key = f"large/{index}"
        for name in order:
            record(index, name, "put", timed_put(clients[name], servers[name], key, obj, anomalies))
        for name in order:
            record(index, name, "get", timed_get(clients[name], servers[name].endpoint.bucket, key, obj.size, name))
    return rates


# -- multipart upload and parallel ranged download --------------------------------------------------------


def file_md5(path: Path) -> str:
    digest = hashlib.md5()
    with path.open("rb") as file:
        while chunk := file.read(CHUNK_BYTES):
            digest.update(chunk)
    return digest.hexdigest()


def timed_upload(client: CosS3Client, server: Server, key: str, obj: LargeObject, anomalies: list[str]) -> float:
    start = time.perf_counter()
    response = client.upload_file(
        Bucket=server.endpoint.bucket, Key=key, LocalFilePath=str(obj.path), PartSize=PART_MIB, MAXThread=PART_THREADS
    )
    elapsed = time.perf_counter() - start
    etag, expected = response.get("ETag", "").strip('"'), multipart_etag(obj.part_md5s)
    if etag != expected:
        anomalies.append(f"{server.name}: multipart {key} returned ETag {etag!r}, expected {expected}")
    return elapsed


def timed_download(
    client: CosS3Client, server: Server, key: str, obj: LargeObject, workdir: Path, verify: bool, anomalies: list[str]
) -> float:
    dest = workdir / f"download-{server.name}.bin"
    start = time.perf_counter()
    client.download_file(
        Bucket=server.endpoint.bucket,
        Key=key,
        DestFilePath=str(dest),
        PartSize=PART_MIB,
        MAXThread=PART_THREADS,
        DumpRecordDir=str(workdir / "download-records"),
    )
    elapsed = time.perf_counter() - start
    try:
        size = dest.stat().st_size
        if size != obj.size:
            raise RuntimeError(f"{server.name}: download of {key} has {size} bytes, expected {obj.size}")
        if verify and (md5 := file_md5(dest)) != obj.md5:
            anomalies.append(f"{server.name}: download of {key} has MD5 {md5}, expected {obj.md5}")
    finally:
        dest.unlink(missing_ok=True)
    return elapsed


def bench_multipart(
    servers: dict[str, Server], obj: LargeObject, rounds: int, workdir: Path, anomalies: list[str]
) -> dict[str, Any]:
    """Per server, lists of MB/s for the multipart upload and the parallel ranged download, alternating as above.
    The first round's downloads are checked against the payload's MD5 (outside the timing)."""
    clients = {name: make_client(server.endpoint) for name, server in servers.items()}
    rates: dict[str, dict[str, list[float]]] = {name: {"upload": [], "download": []} for name in servers}

    def record(index: int, name: str, op: str, seconds: float) -> None:
        rates[name][op].append(obj.size / seconds / 1e6)
        log(f"round {index + 1}/{rounds}: {name:8} multipart {op:8} {rates[name][op][-1]:8.1f} MB/s")

    names = tuple(servers)
    for index in range(rounds):
        order = names if index % 2 == 0 else names[::-1]
        key = f"multipart/{index}"
        for name in order:
            record(index, name, "upload", timed_upload(clients[name], servers[name], key, obj, anomalies))
        for name in order:
            seconds = timed_download(clients[name], servers[name], key, obj, workdir, index == 0, anomalies)
            record(index, name, "download", seconds)
    return rates


# -- report -----------------------------------------------------------------------------------------------


@dataclass
class Report:
    """Rows of the two servers' figures (the reference first) and their ratio, measured / reference."""

    config: dict[str, Any]
    rows: list[dict[str, Any]] = field(default_factory=list)
    samples: dict[str, Any] = field(default_factory=dict)
    anomalies: list[str] = field(default_factory=list)
    columns: tuple[str, ...] = NAMES

    def add(self, metric: str, reference: float, measured: float) -> None:
        ratio = measured / reference if reference else None
        self.rows.append({"metric": metric, self.columns[0]: reference, self.columns[1]: measured, "ratio": ratio})

    def as_json(self) -> str:
        fields = {"config": self.config, "metrics": self.rows, "samples": self.samples, "anomalies": self.anomalies}
        return json.dumps(fields, indent=2)

    def table(self) -> str:
        rows = [
            [
                row["metric"],
                *(f"{row[column]:.1f}" for column in self.columns),
                f"{row['ratio']:.2f}" if row["ratio"] is not None else "-",
            ]
            for row in self.rows
        ]
        return format_table(["metric", *self.columns, "ratio"], rows, min_widths=[0, 10, 10, 6])


def build_report(
    args: argparse.Namespace,
    large: dict[str, Any],
    multipart: dict[str, Any],
    small: dict[str, dict[str, Any]],
    servers: dict[str, Server],
    sampler: RssSampler,
    anomalies: list[str],
) -> Report:
    names = tuple(servers)
    report = Report(
        columns=names,
        config={
            "large_mib": args.large_mib,
            "rounds": args.rounds,
            "part_mib": PART_MIB,
            "part_threads": PART_THREADS,
            "small_count": args.small_count,
            "small_bytes": SMALL_BYTES,
            "clients": args.clients,
        },
        samples={"large_mb_per_s": large, "multipart_mb_per_s": multipart, "small": small},
    )
    mib = f"{args.large_mib} MiB"
    for op in ("put", "get"):
        values = [median(large[name][op]) for name in names]
        report.add(f"{op.upper()} {mib} MB/s (median of {args.rounds})", *values)
    for op, label in (("upload", "multipart upload"), ("download", "ranged download")):
        values = [median(multipart[name][op]) for name in names]
        report.add(f"{label} {mib} MB/s ({PART_MIB} MiB x {PART_THREADS} threads)", *values)
    for op in ("put", "get"):
        report.add(f"{op.upper()} 4 KiB ops/s ({args.clients} clients)", *(small[name][f"{op}_ops"] for name in names))
    report.add("RSS at start MiB", *(servers[name].rss_start_kib / 1024 for name in names))
    report.add("RSS peak MiB", *(sampler.peak_kib[name] / 1024 for name in names))
    report.add("RSS at end MiB", *(sampler.last_kib[name] / 1024 for name in names))
    for name in names:
        anomalies.extend(small_errors(name, small[name]))
        anomalies.extend(log_anomalies(servers[name]))
    report.anomalies = anomalies
    return report


# -- main -------------------------------------------------------------------------------------------------


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--large-mib", type=int, default=1024, help="size of the large object (default 1024)")
    parser.add_argument("--rounds", type=int, default=3, help="large PUT/GET rounds per server (default 3)")
    parser.add_argument("--small-count", type=int, default=2000, help="number of 4 KiB objects (default 2000)")
    parser.add_argument("--clients", type=int, default=4, help="client processes for small objects (default 4)")
    parser.add_argument("--tmp-dir", help="parent of the temp dir for data and the payload (default: system temp)")
    parser.add_argument("--json", action="store_true", help="print the results as JSON instead of a table")
    args = parser.parse_args(argv)
    if min(args.large_mib, args.rounds, args.small_count, args.clients) < 1:
        parser.error("sizes and counts must be positive")
    return args


def make_payload(args: argparse.Namespace, workdir: Path) -> LargeObject:
    log(f"writing the {args.large_mib} MiB payload to {workdir}")
    payload = workdir / "payload.bin"
    size = args.large_mib * MIB
    return LargeObject(payload, size, *write_payload(payload, size, PART_MIB * MIB))


def measure(args: argparse.Namespace, obj: LargeObject, workdir: Path, servers: dict[str, Server]) -> Report:
    """The whole workload on each server (the reference first), turn about, and its report."""
    anomalies: list[str] = []
    with RssSampler({name: server.masters for name, server in servers.items()}) as sampler:
        for name, server in servers.items():
            server.rss_start_kib = sampler.last_kib[name]
            make_client(server.endpoint).create_bucket(Bucket=server.endpoint.bucket)
        large = bench_large(servers, obj, args.rounds, anomalies)
        multipart = bench_multipart(servers, obj, args.rounds, workdir, anomalies)
        targets = {name: SmallTarget(server.endpoint) for name, server in servers.items()}
        small = bench_small(targets, args.small_count, args.clients)
    return build_report(args, large, multipart, small, servers, sampler, anomalies)


def run(args: argparse.Namespace, workdir: Path, stack: ExitStack) -> Report:
    obj = make_payload(args, workdir)
    log("starting Kinko and the baseline")
    kinko = start_kinko(workdir, stack)
    baseline = start_baseline(workdir, kinko, stack)
    return measure(args, obj, workdir, {"baseline": baseline, "kinko": kinko})


def main(argv: list[str] | None = None) -> int:
    return run_benchmark(parse_args(argv), run, print_report)


if __name__ == "__main__":
    sys.exit(main())
