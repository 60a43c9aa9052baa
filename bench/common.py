"""Shared pieces of the benchmarks: servers (Kinko and the bare baseline app) with clean start-up and shutdown,
RSS sampling, COS SDK clients, multi-process small-object clients, statistics and table printing.

Every benchmark runs in `run_benchmark`: one temp dir for data and payloads, servers in their own sessions, all of
it removed on exit, on Ctrl-C and on SIGTERM. Progress goes to stderr; the table (or JSON) to stdout.
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
from collections.abc import Callable, Iterable, Sequence
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from qcloud_cos import CosConfig, CosS3Client
from qcloud_cos.cos_exception import CosClientError, CosServiceError

BENCH_DIR = Path(__file__).resolve().parent
ROOT = BENCH_DIR.parent
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

T = TypeVar("T")


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
    env: dict[str, str] = field(default_factory=dict, repr=False)  # for manage.py against its data dir

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


def start_kinko(
    workdir: Path,
    stack: ExitStack,
    extra_env: dict[str, str] | None = None,
    prepare: Callable[[dict[str, str]], None] | None = None,
    name: str = "kinko",
) -> Server:
    """Same steps as tests/live.py: migrate, bootstrap, credentials, `manage.py serve --no-worker`, /healthz.

    `extra_env` is added to the server's environment (and to the manage.py commands'); `prepare(env)` runs after
    bootstrap and before the server starts (KMS activation, the CAM role...). `name` names its data dir and log."""
    port = free_port()
    env = {**os.environ, "KINKO_DATA_DIR": str(workdir / f"{name}-data"), "KINKO_APPID": APPID, "PORT": str(port)}
    env["KINKO_HTTPS_PORT"] = "0"  # plain HTTP only: one gunicorn, like the baseline (and no clash on 8443)
    env.update(extra_env or {})
    manage(env, "migrate", "--no-input", "-v", "0")
    manage(env, "bootstrap")
    creds = json.loads(manage(env, "credentials", "--json"))
    if prepare is not None:
        prepare(env)
    log_path = workdir / f"{name}.log"
    proc = launch([sys.executable, "manage.py", "serve", "--no-worker", "--port", str(port)], env, log_path)
    endpoint = Endpoint(port, creds["SecretId"], creds["SecretKey"], f"{BUCKET_LABEL}-{creds['AppId']}")
    server = Server(name, endpoint, proc, log_path, env=env)
    stack.callback(stop, server)
    wait_until_serving(server, lambda status: status == 200)
    server.masters = gunicorn_children(proc.pid)
    return server


def enable_sse_kms(env: dict[str, str]) -> None:
    """What SSE-KMS needs: the KMS activated (default CMKs) and the root account's CAM role COS_QcsRole."""
    manage(env, "activate_kms", "--json")
    role = "from roles import service; service.ensure_cos_service_role(service.root_account())"
    manage(env, "shell", "-c", role)


def baseline_argv(kinko_argv: list[str], port: int) -> list[str]:
    """Kinko's gunicorn argv (`python -m gunicorn <app> --bind ...`) with the baseline app and another port."""
    if "gunicorn" not in kinko_argv or "--bind" not in kinko_argv:
        raise RuntimeError(f"unexpected gunicorn command line: {kinko_argv}")
    argv = list(kinko_argv)
    argv[argv.index("gunicorn") + 1] = "baseline_app:application"
    argv[argv.index("--bind") + 1] = f"127.0.0.1:{port}"
    return [*argv, "--pythonpath", str(BENCH_DIR)]


def start_baseline(workdir: Path, kinko: Server, stack: ExitStack) -> Server:
    """bench/baseline_app.py under gunicorn with the argv and MALLOC_* environment of Kinko's HTTP gunicorn."""
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


def timed_get(client, bucket: str, key: str, expected: int, label: str, **kwargs) -> float:
    """Seconds to GET and drain an object; a short body is an error, not a fast result."""
    start = time.perf_counter()
    received = drain(client.get_object(Bucket=bucket, Key=key, **kwargs))
    elapsed = time.perf_counter() - start
    if received != expected:
        raise RuntimeError(f"{label}: GET {key} returned {received} bytes, expected {expected}")
    return elapsed


def write_payload(path: Path, size: int, part_bytes: int | None = None) -> tuple[str, list[str]]:
    """Write `size` random bytes to `path` in 1 MiB chunks; return their MD5 hex digest and, with `part_bytes` (a
    multiple of 1 MiB), the MD5 hex digest of each part of that size (for multipart ETags)."""
    digest, part_digests, part = hashlib.md5(), [], hashlib.md5()
    with path.open("wb") as file:
        for offset in range(0, size, CHUNK_BYTES):
            chunk = os.urandom(min(CHUNK_BYTES, size - offset))
            digest.update(chunk)
            file.write(chunk)
            if part_bytes:
                part.update(chunk)
                if (offset + len(chunk)) % part_bytes == 0 or offset + len(chunk) == size:
                    part_digests.append(part.hexdigest())
                    part = hashlib.md5()
    return digest.hexdigest(), part_digests


def multipart_etag(part_md5s: list[str]) -> str:
    """COS's (and S3's) ETag of a multipart object: MD5 of the parts' binary MD5s, dash, part count."""
    joined = b"".join(bytes.fromhex(md5) for md5 in part_md5s)
    return f"{hashlib.md5(joined).hexdigest()}-{len(part_md5s)}"


@dataclass
class LargeObject:
    path: Path
    size: int
    md5: str
    part_md5s: list[str] = field(default_factory=list)


# -- small objects: client processes ----------------------------------------------------------------------


@dataclass(frozen=True)
class SmallTarget:
    """Where one set of small-object clients goes, with the SDK keyword arguments of their PUTs and GETs."""

    endpoint: Endpoint
    prefix: str = "small"
    put_kwargs: dict[str, str] = field(default_factory=dict)
    get_kwargs: dict[str, str] = field(default_factory=dict)


def small_client(target: SmallTarget, index: int, keys: list[str], payload: bytes, barrier: Any, results: Any) -> None:
    """One client process: warm up a connection, then PUT its keys and GET them, each phase between barriers."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent handles Ctrl-C and terminates us
    endpoint = target.endpoint
    client = make_client(endpoint)
    tally = {"put_errors": 0, "get_errors": 0, "first_error": ""}

    def failed(kind: str, message: str) -> None:
        tally[kind] += 1
        tally["first_error"] = tally["first_error"] or message

    try:
        client.put_object(
            Bucket=endpoint.bucket, Body=payload, Key=f"warmup/{target.prefix}/{index}", **target.put_kwargs
        )
        barrier.wait(PHASE_TIMEOUT)
        for key in keys:
            try:
                client.put_object(Bucket=endpoint.bucket, Body=payload, Key=key, **target.put_kwargs)
            except (CosClientError, CosServiceError) as exc:
                failed("put_errors", f"PUT {key}: {exc}")
        barrier.wait(PHASE_TIMEOUT)
        barrier.wait(PHASE_TIMEOUT)
        for key in keys:
            try:
                received = drain(client.get_object(Bucket=endpoint.bucket, Key=key, **target.get_kwargs))
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
    """Client processes that the parent releases phase by phase through a shared barrier (spawned, so no state of
    the parent leaks into them)."""

    def __init__(self, name: str, target: Callable[..., None], args_of: Sequence[tuple]) -> None:
        ctx = multiprocessing.get_context("spawn")
        self.name = name
        self.barrier = ctx.Barrier(len(args_of) + 1)
        self.results = ctx.Queue()
        self.procs = [ctx.Process(target=target, args=(*args, self.barrier, self.results)) for args in args_of]
        for proc in self.procs:
            proc.start()

    def timed_phase(self) -> float:
        """Release the clients into their next phase and wait until all of them have finished it."""
        try:
            self.barrier.wait(PHASE_TIMEOUT)
            start = time.perf_counter()
            self.barrier.wait(PHASE_TIMEOUT)
        except threading.BrokenBarrierError as exc:
            raise RuntimeError(f"a {self.name} client process failed (see its traceback above)") from exc
        return time.perf_counter() - start

    def tallies(self) -> list[Any]:
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


def small_pool(name: str, target: SmallTarget, count: int, clients: int) -> ClientPool:
    payload = os.urandom(SMALL_BYTES)
    keys = [f"{target.prefix}/{i:06d}" for i in range(count)]
    return ClientPool(name, small_client, [(target, i, keys[i::clients], payload) for i in range(clients)])


def bench_small(targets: dict[str, SmallTarget], count: int, clients: int) -> dict[str, dict[str, Any]]:
    """Per target, `count` small PUTs then GETs over `clients` processes: ops/s and errors. The targets take turns
    phase by phase (PUT a, PUT b, ..., GET a, GET b, ...), so all see about the same machine."""
    pools: dict[str, ClientPool] = {}
    interrupted = True
    try:
        for name, target in targets.items():
            pools[name] = small_pool(name, target, count, clients)
        seconds = {(name, op): 0.0 for name in targets for op in ("put", "get")}
        for op in ("put", "get"):
            for name in targets:
                seconds[name, op] = pools[name].timed_phase()
        tallies = {name: pools[name].tallies() for name in targets}
        interrupted = False
    finally:
        for pool in pools.values():
            pool.close(interrupted)
    results = {}
    for name in targets:
        results[name] = {
            "put_ops": count / seconds[name, "put"],
            "get_ops": count / seconds[name, "get"],
            "put_errors": sum(t["put_errors"] for t in tallies[name]),
            "get_errors": sum(t["get_errors"] for t in tallies[name]),
            "first_error": next((t["first_error"] for t in tallies[name] if t["first_error"]), ""),
        }
        log(f"small: {name:8} PUT {results[name]['put_ops']:7.0f}/s  GET {results[name]['get_ops']:7.0f}/s")
    return results


def small_errors(name: str, result: dict[str, Any]) -> list[str]:
    errors = result["put_errors"] + result["get_errors"]
    return [f"{name}: {errors} small-object errors, first: {result['first_error']}"] if errors else []


# -- statistics and tables --------------------------------------------------------------------------------


def percentile(values: Iterable[float], pct: float) -> float:
    """The pct-th percentile, linearly interpolated between the closest ranks."""
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    rank = (len(ordered) - 1) * pct / 100
    low = int(rank)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def median(values: Iterable[float]) -> float:
    values = list(values)
    return statistics.median(values) if values else float("nan")


def ratio(value: float | None, reference: float | None) -> float | None:
    return value / reference if value is not None and reference else None


def cell(value: Any, digits: int = 1) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.{digits}f}"
    return str(value)


def format_table(header: Sequence[str], rows: Sequence[Sequence[str]], min_widths: Sequence[int] = ()) -> str:
    """The first column left-aligned, the others right-aligned, two spaces apart."""
    widths = [max([len(header[i]), *(len(row[i]) for row in rows)]) for i in range(len(header))]
    widths = [max(width, min_widths[i] if i < len(min_widths) else 0) for i, width in enumerate(widths)]

    def line(cells: Sequence[str]) -> str:
        return "  ".join(c.ljust(widths[i]) if i == 0 else c.rjust(widths[i]) for i, c in enumerate(cells)).rstrip()

    return "\n".join([line(header), *(line(row) for row in rows)])


# -- running ----------------------------------------------------------------------------------------------


def interrupt(*_: object) -> None:
    raise KeyboardInterrupt


def print_report(report, as_json: bool) -> None:
    """A report's table (or JSON) and the anomalies noticed on the way."""
    if as_json:
        print(report.as_json())
        return
    print(report.table())
    for anomaly in getattr(report, "anomalies", []):
        print(f"! {anomaly}")


def run_benchmark(
    args: argparse.Namespace,
    run: Callable[[argparse.Namespace, Path, ExitStack], T],
    show: Callable[[T, bool], None],
    prefix: str = "kinko-bench-",
) -> int:
    """Run `run(args, workdir, stack)` with a fresh temp dir (args.tmp_dir or the system's) and cleanup callbacks
    on `stack`; Ctrl-C and SIGTERM stop everything; then `show(result, args.json)`."""
    signal.signal(signal.SIGTERM, interrupt)  # cleaned up like Ctrl-C
    with ExitStack() as stack:
        workdir = Path(tempfile.mkdtemp(prefix=prefix, dir=args.tmp_dir))
        stack.callback(shutil.rmtree, workdir, ignore_errors=True)
        try:
            result = run(args, workdir, stack)
        except KeyboardInterrupt:
            log("interrupted; cleaning up")
            return 130
        except RuntimeError as exc:
            log(f"error: {exc}")
            return 1
    show(result, args.json)
    return 0
