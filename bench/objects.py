"""Object PUT/GET benchmark: Kinko against a minimal WSGI baseline, both driven by the unmodified COS SDK.

Both servers run for the whole benchmark, each on a free port with a fresh data dir under one temp dir:

* Kinko: `manage.py migrate`, `bootstrap`, `credentials --json`, then `manage.py serve --no-worker` (as the tests do),
  with KINKO_HTTPS_PORT=0: the benchmark speaks plain HTTP, so only one gunicorn is measured on either side.
* Baseline: bench/baseline_app.py under gunicorn, started with the argv and MALLOC_* environment of Kinko's running
  gunicorn master (only the app and the bind address differ), so both get exactly the same gunicorn settings.

Measured through `qcloud_cos` (CosConfig in IP/Port mode, retry=0):

* large objects: PUT (file object) and GET (raw stream read in 1 MiB chunks) of one --large-mib object, alternating
  baseline and Kinko (and which goes first) for --rounds rounds; medians in MB/s (10^6 bytes per second);
* small objects: --small-count 4 KiB PUTs, then GETs of them, by --clients client processes per server; ops/s over
  the wall time between two barriers (client start-up excluded); the servers take turns phase by phase;
* memory: RSS of each server's gunicorn master and workers, summed and sampled every 50 ms; peak and end, in MiB.

Usage: .venv/bin/python bench/objects.py [--large-mib 1024] [--rounds 3] [--clients 4] [--json]
Progress goes to stderr; the table (or JSON) to stdout. Servers and temp files are removed on exit and on Ctrl-C.
"""

import argparse
import hashlib
import json
import multiprocessing
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from collections import defaultdict
from collections.abc import Callable
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from qcloud_cos import CosConfig, CosS3Client
from qcloud_cos.cos_exception import CosClientError, CosServiceError

BENCH_DIR = Path(__file__).resolve().parent
ROOT = BENCH_DIR.parent
NAMES = ("baseline", "kinko")
MIB = 1024 * 1024
CHUNK_BYTES = MIB
SMALL_BYTES = 4 * 1024
REGION = "ap-guangzhou"
APPID = "1250000000"
BUCKET_LABEL = "bench"
SAMPLE_SECONDS = 0.05
START_TIMEOUT = 60.0
PHASE_TIMEOUT = 900.0
ACCESS_LINE = re.compile(r'"(?P<method>[A-Z]+) (?P<path>[^"]*)" (?P<status>\d{3}) ')


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


# -- processes and memory ---------------------------------------------------------------------------------


def read_ppids() -> dict[int, int]:
    """pid -> parent pid for every process (this kernel has no /proc/<pid>/task/<tid>/children)."""
    ppids = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as stat:
                fields = stat.read().rpartition(")")[2].split()
        except OSError:
            continue
        ppids[int(entry)] = int(fields[1])
    return ppids


def process_tree(root: int, ppids: dict[int, int]) -> list[int]:
    children = defaultdict(list)
    for pid, ppid in ppids.items():
        children[ppid].append(pid)
    tree, todo = [], [root]
    while todo:
        pid = todo.pop()
        tree.append(pid)
        todo.extend(children[pid])
    return tree


def rss_kib(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/status") as status:
            for line in status:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def cmdline(pid: int) -> list[str]:
    return [arg.decode() for arg in Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")[:-1]]


def malloc_env(pid: int) -> dict[str, str]:
    """The MALLOC_* variables a process (one of ours) was started with."""
    pairs = (item.decode().partition("=") for item in Path(f"/proc/{pid}/environ").read_bytes().split(b"\0") if item)
    return {name: value for name, _, value in pairs if name.startswith("MALLOC_")}


class RssSampler:
    """Sums the RSS of each server's process trees every `interval` seconds in a thread; keeps peak and last."""

    def __init__(self, roots: dict[str, list[int]], interval: float = SAMPLE_SECONDS) -> None:
        self.roots = roots
        self.interval = interval
        self.peak_kib = dict.fromkeys(roots, 0)
        self.last_kib = dict.fromkeys(roots, 0)
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._run, name="rss-sampler", daemon=True)

    def sample(self) -> None:
        ppids = read_ppids()
        for name, roots in self.roots.items():
            total = sum(rss_kib(pid) for root in roots for pid in process_tree(root, ppids))
            self.last_kib[name] = total
            self.peak_kib[name] = max(self.peak_kib[name], total)

    def _run(self) -> None:
        # Leave Ctrl-C and SIGTERM to the main thread, so they interrupt whatever it is blocked in.
        signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT, signal.SIGTERM})
        while not self._done.wait(self.interval):
            self.sample()

    def __enter__(self) -> "RssSampler":
        self.sample()
        self._thread.start()
        return self

    def __exit__(self, *exc_info) -> None:
        self._done.set()
        self._thread.join()
        self.sample()


# -- servers ----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Endpoint:
    """What a client needs to reach a server (picklable, for client processes)."""

    port: int
    secret_id: str
    secret_key: str
    bucket: str


@dataclass
class Server:
    name: str
    endpoint: Endpoint
    proc: subprocess.Popen
    log_path: Path
    masters: list[int] = field(default_factory=list)  # gunicorn master pids
    rss_start_kib: int = 0

    def log_tail(self, lines: int = 30) -> str:
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def manage(env: dict[str, str], *args: str) -> str:
    done = subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True)
    if done.returncode:
        raise RuntimeError(f"manage.py {' '.join(args)} failed ({done.returncode}):\n{done.stderr[-3000:]}")
    return done.stdout


def launch(argv: list[str], env: dict[str, str], log_path: Path) -> subprocess.Popen:
    """Start a server in its own session, so Ctrl-C reaches only this script, which then stops it."""
    with open(log_path, "w") as log_file:
        return subprocess.Popen(
            argv, cwd=ROOT, env=env, stdout=log_file, stderr=subprocess.STDOUT, start_new_session=True
        )


def stop(server: Server) -> None:
    """SIGTERM (Kinko's serve forwards it to gunicorn), then SIGKILL whatever is left of the server's own session."""
    if server.proc.poll() is None:
        server.proc.terminate()
        try:
            server.proc.wait(timeout=25)
        except subprocess.TimeoutExpired:
            pass
    try:
        os.killpg(server.proc.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    server.proc.wait()


def http_status(url: str) -> int | None:
    try:
        with urllib.request.urlopen(url, timeout=1) as response:  # noqa: S310 - loopback
            return response.status
    except urllib.error.HTTPError as exc:
        return exc.code
    except OSError:
        return None


def wait_until_serving(server: Server, ready: Callable[[int], bool]) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    while True:
        status = http_status(f"http://127.0.0.1:{server.endpoint.port}/healthz")
        if status is not None and ready(status):
            return
        if server.proc.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError(f"{server.name} did not start:\n{server.log_tail()}")
        time.sleep(0.2)


def gunicorn_children(parent: int) -> list[int]:
    children = [pid for pid, ppid in read_ppids().items() if ppid == parent and "gunicorn" in cmdline(pid)]
    if not children:
        raise RuntimeError(f"no gunicorn process under pid {parent}")
    return children


def start_kinko(workdir: Path, stack: ExitStack) -> Server:
    """Same steps as tests/conftest.py: migrate, bootstrap, credentials, `manage.py serve --no-worker`, /healthz."""
    port = free_port()
    env = {**os.environ, "KINKO_DATA_DIR": str(workdir / "kinko-data"), "KINKO_APPID": APPID, "PORT": str(port)}
    env["KINKO_HTTPS_PORT"] = "0"  # plain HTTP only: one gunicorn, like the baseline (and no clash on 8443)
    manage(env, "migrate", "--no-input", "-v", "0")
    manage(env, "bootstrap")
    creds = json.loads(manage(env, "credentials", "--json"))
    log_path = workdir / "kinko.log"
    proc = launch([sys.executable, "manage.py", "serve", "--no-worker", "--port", str(port)], env, log_path)
    endpoint = Endpoint(port, creds["SecretId"], creds["SecretKey"], f"{BUCKET_LABEL}-{creds['AppId']}")
    server = Server("kinko", endpoint, proc, log_path)
    stack.callback(stop, server)
    wait_until_serving(server, lambda status: status == 200)
    server.masters = gunicorn_children(proc.pid)
    return server


def baseline_argv(kinko_argv: list[str], port: int) -> list[str]:
    """Kinko's gunicorn argv (`python -m gunicorn <app> --bind ...`) with the baseline app and another port."""
    if "gunicorn" not in kinko_argv or "--bind" not in kinko_argv:
        raise RuntimeError(f"unexpected gunicorn command line: {kinko_argv}")
    argv = list(kinko_argv)
    argv[argv.index("gunicorn") + 1] = "baseline_app:application"
    argv[argv.index("--bind") + 1] = f"127.0.0.1:{port}"
    return [*argv, "--pythonpath", str(BENCH_DIR)]


def start_baseline(workdir: Path, kinko: Server, stack: ExitStack) -> Server:
    port = free_port()
    data_dir = workdir / "baseline-data"
    data_dir.mkdir()
    bind = f"127.0.0.1:{kinko.endpoint.port}"
    master = next(pid for pid in kinko.masters if bind in cmdline(pid))  # Kinko's HTTP gunicorn
    env = {**os.environ, **malloc_env(master), "BASELINE_DATA_DIR": str(data_dir)}
    log_path = workdir / "baseline.log"
    proc = launch(baseline_argv(cmdline(master), port), env, log_path)
    # The baseline ignores auth: Kinko's credentials work, so the two clients are configured the same way.
    server = Server(
        "baseline",
        Endpoint(port, kinko.endpoint.secret_id, kinko.endpoint.secret_key, kinko.endpoint.bucket),
        proc,
        log_path,
    )
    stack.callback(stop, server)
    wait_until_serving(server, lambda status: True)  # any answer will do: /healthz is just a missing object here
    server.masters = [proc.pid]
    return server


def log_anomalies(server: Server) -> list[str]:
    """Error statuses (other than the baseline's /healthz 404s), tracebacks and gunicorn errors in a server log."""
    statuses: dict[str, int] = defaultdict(int)
    problems = 0
    for line in server.log_path.read_text(errors="replace").splitlines():
        match = ACCESS_LINE.search(line)
        if match and int(match["status"]) >= 400 and match["path"] != "/healthz":
            statuses[f"{match['method']} {match['status']}"] += 1
        elif "Traceback" in line or "[ERROR]" in line or "[CRITICAL]" in line:
            problems += 1
    found = [f"{server.name}: {count} x {what}" for what, count in sorted(statuses.items())]
    if problems:
        found.append(f"{server.name}: {problems} error/traceback lines in the server log")
    return found


# -- clients ----------------------------------------------------------------------------------------------


def make_client(endpoint: Endpoint) -> CosS3Client:
    config = CosConfig(
        Region=REGION,
        SecretId=endpoint.secret_id,
        SecretKey=endpoint.secret_key,
        Scheme="http",
        IP="127.0.0.1",
        Port=endpoint.port,
        Timeout=300,
    )
    return CosS3Client(config, retry=0)


def drain(response: dict[str, Any]) -> int:
    """Read a get_object body from its raw stream in 1 MiB chunks, discarding it; return the byte count."""
    raw = response["Body"].get_raw_stream()
    total = 0
    while chunk := raw.read(CHUNK_BYTES):
        total += len(chunk)
    return total


def write_payload(path: Path, size: int) -> str:
    """Write `size` random bytes to `path` in 1 MiB chunks; return their MD5 hex digest."""
    digest = hashlib.md5()
    with path.open("wb") as file:
        for offset in range(0, size, CHUNK_BYTES):
            chunk = os.urandom(min(CHUNK_BYTES, size - offset))
            digest.update(chunk)
            file.write(chunk)
    return digest.hexdigest()


# -- large objects ----------------------------------------------------------------------------------------


@dataclass
class LargeObject:
    path: Path
    size: int
    md5: str


def timed_put(client: CosS3Client, server: Server, key: str, obj: LargeObject, anomalies: list[str]) -> float:
    with obj.path.open("rb") as body:
        start = time.perf_counter()
        response = client.put_object(Bucket=server.endpoint.bucket, Body=body, Key=key)
        elapsed = time.perf_counter() - start
    etag = response.get("ETag", "").strip('"')
    if etag != obj.md5:
        anomalies.append(f"{server.name}: PUT {key} returned ETag {etag!r}, expected the MD5 {obj.md5}")
    return elapsed


def timed_get(client: CosS3Client, server: Server, key: str, obj: LargeObject) -> float:
    start = time.perf_counter()
    received = drain(client.get_object(Bucket=server.endpoint.bucket, Key=key))
    elapsed = time.perf_counter() - start
    if received != obj.size:
        raise RuntimeError(f"{server.name}: GET {key} returned {received} bytes, expected {obj.size}")
    return elapsed


def bench_large(servers: dict[str, Server], obj: LargeObject, rounds: int, anomalies: list[str]) -> dict[str, Any]:
    """Per server, lists of MB/s for PUT and GET; baseline and Kinko alternate, and so does who goes first."""
    clients = {name: make_client(server.endpoint) for name, server in servers.items()}
    rates: dict[str, dict[str, list[float]]] = {name: {"put": [], "get": []} for name in servers}

    def record(index: int, name: str, op: str, seconds: float) -> None:
        rates[name][op].append(obj.size / seconds / 1e6)
        log(f"round {index + 1}/{rounds}: {name:8} {op.upper()} {rates[name][op][-1]:8.1f} MB/s")

    for index in range(rounds):
        order = NAMES if index % 2 == 0 else NAMES[::-1]
        key = f"large/{index}"
        for name in order:
            record(index, name, "put", timed_put(clients[name], servers[name], key, obj, anomalies))
        for name in order:
            record(index, name, "get", timed_get(clients[name], servers[name], key, obj))
    return rates


# -- small objects ----------------------------------------------------------------------------------------


def small_client(endpoint: Endpoint, index: int, keys: list[str], payload: bytes, barrier: Any, results: Any) -> None:
    """One client process: warm up a connection, then PUT its keys and GET them, each phase between barriers."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent handles Ctrl-C and terminates us
    client = make_client(endpoint)
    tally = {"put_errors": 0, "get_errors": 0, "first_error": ""}

    def failed(kind: str, message: str) -> None:
        tally[kind] += 1
        tally["first_error"] = tally["first_error"] or message

    try:
        client.put_object(Bucket=endpoint.bucket, Body=payload, Key=f"warmup/{index}")
        barrier.wait(PHASE_TIMEOUT)
        for key in keys:
            try:
                client.put_object(Bucket=endpoint.bucket, Body=payload, Key=key)
            except (CosClientError, CosServiceError) as exc:
                failed("put_errors", f"PUT {key}: {exc}")
        barrier.wait(PHASE_TIMEOUT)
        barrier.wait(PHASE_TIMEOUT)
        for key in keys:
            try:
                received = drain(client.get_object(Bucket=endpoint.bucket, Key=key))
            except (CosClientError, CosServiceError) as exc:
                failed("get_errors", f"GET {key}: {exc}")
                continue
            if received != len(payload):
                failed("get_errors", f"GET {key}: {received} bytes, expected {len(payload)}")
        barrier.wait(PHASE_TIMEOUT)
    except threading.BrokenBarrierError:
        return  # the parent gave up (Ctrl-C) or another client failed; that one reports
    except BaseException:
        barrier.abort()
        raise
    results.put(tally)


class ClientPool:
    """The client processes of one server; the parent releases them phase by phase through a shared barrier."""

    def __init__(self, server: Server, count: int, clients: int) -> None:
        ctx = multiprocessing.get_context("spawn")
        self.server = server
        self.barrier = ctx.Barrier(clients + 1)
        self.results = ctx.Queue()
        payload = os.urandom(SMALL_BYTES)
        keys = [f"small/{i:06d}" for i in range(count)]
        self.procs = [
            ctx.Process(
                target=small_client, args=(server.endpoint, i, keys[i::clients], payload, self.barrier, self.results)
            )
            for i in range(clients)
        ]
        for proc in self.procs:
            proc.start()

    def timed_phase(self) -> float:
        """Release the clients into their next phase and wait until all of them have finished it."""
        try:
            self.barrier.wait(PHASE_TIMEOUT)
            start = time.perf_counter()
            self.barrier.wait(PHASE_TIMEOUT)
        except threading.BrokenBarrierError as exc:
            raise RuntimeError(f"a {self.server.name} client process failed (see its traceback above)") from exc
        return time.perf_counter() - start

    def tallies(self) -> list[dict[str, Any]]:
        return [self.results.get(timeout=60) for _ in self.procs]

    def close(self, interrupted: bool) -> None:
        if interrupted:  # Ctrl-C: the clients ignore it, so stop them here
            self.barrier.abort()
            for proc in self.procs:
                proc.terminate()
        for proc in self.procs:
            proc.join(timeout=5)
            if proc.is_alive():
                proc.terminate()
                proc.join()


def bench_small(servers: dict[str, Server], count: int, clients: int) -> dict[str, dict[str, Any]]:
    """Per server, `count` small PUTs then GETs over `clients` processes: ops/s and errors. The servers take turns
    phase by phase (PUT baseline, PUT Kinko, GET baseline, GET Kinko), so both see about the same machine."""
    pools: dict[str, ClientPool] = {}
    interrupted = True
    try:
        for name in NAMES:
            pools[name] = ClientPool(servers[name], count, clients)
        seconds = {(name, op): 0.0 for name in NAMES for op in ("put", "get")}
        for op in ("put", "get"):
            for name in NAMES:
                seconds[name, op] = pools[name].timed_phase()
        tallies = {name: pools[name].tallies() for name in NAMES}
        interrupted = False
    finally:
        for pool in pools.values():
            pool.close(interrupted)
    results = {}
    for name in NAMES:
        results[name] = {
            "put_ops": count / seconds[name, "put"],
            "get_ops": count / seconds[name, "get"],
            "put_errors": sum(t["put_errors"] for t in tallies[name]),
            "get_errors": sum(t["get_errors"] for t in tallies[name]),
            "first_error": next((t["first_error"] for t in tallies[name] if t["first_error"]), ""),
        }
        log(f"small: {name:8} PUT {results[name]['put_ops']:7.0f}/s  GET {results[name]['get_ops']:7.0f}/s")
    return results


# -- report -----------------------------------------------------------------------------------------------


@dataclass
class Report:
    config: dict[str, Any]
    rows: list[dict[str, Any]] = field(default_factory=list)
    samples: dict[str, Any] = field(default_factory=dict)
    anomalies: list[str] = field(default_factory=list)

    def add(self, metric: str, baseline: float, kinko: float) -> None:
        ratio = kinko / baseline if baseline else None
        self.rows.append({"metric": metric, "baseline": baseline, "kinko": kinko, "ratio": ratio})

    def as_json(self) -> str:
        fields = {"config": self.config, "metrics": self.rows, "samples": self.samples, "anomalies": self.anomalies}
        return json.dumps(fields, indent=2)

    def table(self) -> str:
        width = max(len(row["metric"]) for row in self.rows)
        lines = [f"{'metric':<{width}}  {'baseline':>10}  {'kinko':>10}  {'ratio':>6}"]
        for row in self.rows:
            ratio = f"{row['ratio']:.2f}" if row["ratio"] is not None else "-"
            lines.append(f"{row['metric']:<{width}}  {row['baseline']:>10.1f}  {row['kinko']:>10.1f}  {ratio:>6}")
        return "\n".join(lines)


def build_report(
    args: argparse.Namespace,
    large: dict[str, Any],
    small: dict[str, dict[str, Any]],
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
        },
        samples={"large_mb_per_s": large, "small": small},
    )
    mib = f"{args.large_mib} MiB"
    for op in ("put", "get"):
        values = [statistics.median(large[name][op]) for name in NAMES]
        report.add(f"{op.upper()} {mib} MB/s (median of {args.rounds})", *values)
    for op in ("put", "get"):
        report.add(f"{op.upper()} 4 KiB ops/s ({args.clients} clients)", *(small[name][f"{op}_ops"] for name in NAMES))
    report.add("RSS at start MiB", *(servers[name].rss_start_kib / 1024 for name in NAMES))
    report.add("RSS peak MiB", *(sampler.peak_kib[name] / 1024 for name in NAMES))
    report.add("RSS at end MiB", *(sampler.last_kib[name] / 1024 for name in NAMES))
    for name in NAMES:
        errors = small[name]["put_errors"] + small[name]["get_errors"]
        if errors:
            anomalies.append(f"{name}: {errors} small-object errors, first: {small[name]['first_error']}")
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


def run(args: argparse.Namespace, workdir: Path, stack: ExitStack) -> Report:
    anomalies: list[str] = []
    log(f"writing the {args.large_mib} MiB payload to {workdir}")
    payload = workdir / "payload.bin"
    obj = LargeObject(payload, args.large_mib * MIB, write_payload(payload, args.large_mib * MIB))
    log("starting Kinko and the baseline")
    kinko = start_kinko(workdir, stack)
    baseline = start_baseline(workdir, kinko, stack)
    servers = {"baseline": baseline, "kinko": kinko}
    with RssSampler({name: server.masters for name, server in servers.items()}) as sampler:
        for name, server in servers.items():
            server.rss_start_kib = sampler.last_kib[name]
            make_client(server.endpoint).create_bucket(Bucket=server.endpoint.bucket)
        large = bench_large(servers, obj, args.rounds, anomalies)
        small = bench_small(servers, args.small_count, args.clients)
    return build_report(args, large, small, servers, sampler, anomalies)


def print_report(report: Report, as_json: bool) -> None:
    if as_json:
        print(report.as_json())
        return
    print(report.table())
    for anomaly in report.anomalies:
        print(f"! {anomaly}")


def interrupt(*_: object) -> None:
    raise KeyboardInterrupt


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    signal.signal(signal.SIGTERM, interrupt)  # cleaned up like Ctrl-C
    with ExitStack() as stack:
        workdir = Path(tempfile.mkdtemp(prefix="kinko-bench-", dir=args.tmp_dir))
        stack.callback(shutil.rmtree, workdir, ignore_errors=True)
        try:
            report = run(args, workdir, stack)
        except KeyboardInterrupt:
            log("interrupted; stopping the servers")
            return 130
        except RuntimeError as exc:
            log(f"error: {exc}")
            return 1
    print_report(report, args.json)
    return 0


if __name__ == "__main__":
    sys.exit(main())
