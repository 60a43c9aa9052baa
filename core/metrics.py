"""Prometheus metrics, every one defined here: what a process records (HTTP requests, KMS calls, storage errors)
and the families read from the database when /metrics is scraped.

Under `manage.py serve` every process (each gunicorn worker, the Celery worker) writes its own files into the
directory PROMETHEUS_MULTIPROC_DIR names, and a scrape sums them (prometheus-client's multiprocess mode); without
it, as under `runserver` or in tests, a process serves what it recorded itself."""

import errno
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from prometheus_client import REGISTRY, CollectorRegistry, Counter, Gauge, Histogram, generate_latest, multiprocess
from prometheus_client.core import GaugeMetricFamily, Metric

# The WSGI environ key a dispatcher names its chosen operation under: (api, operation), read by the access log.
OPERATION = "kinko.operation"
UNNAMED = ("other", "other")
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 300.0, float("inf"))

REQUESTS = Counter(
    "kinko_http_requests", "HTTP requests answered, by API, operation and status.", ["api", "operation", "status"]
)
REQUEST_SECONDS = Histogram(
    "kinko_http_request_duration_seconds",
    "Time from a request's arrival until its response's last byte was sent, by API and operation.",
    ["api", "operation"],
    buckets=LATENCY_BUCKETS,
)
RECEIVED_BYTES = Counter(
    "kinko_http_received_bytes",
    "Request body bytes (as Content-Length declares them), by API and operation.",
    ["api", "operation"],
)
SENT_BYTES = Counter("kinko_http_sent_bytes", "Response body bytes sent, by API and operation.", ["api", "operation"])
# A dead worker's share is dropped by forget_process (gunicorn's child_exit hook).
IN_PROGRESS = Gauge("kinko_http_requests_in_progress", "Requests being answered now.", multiprocess_mode="livesum")
KMS_CALLS = Counter(
    "kinko_kms_calls", "KMS operations by action and result (ok, or the error code).", ["action", "result"]
)
STORAGE_ERRORS = Counter(
    "kinko_storage_errors",
    "Blob storage failures by operation (read, write; an S3 backend's call) and error (errno name, or the S3 code).",
    ["operation", "error"],
)


def name_operation(environ: dict, api: str, operation: str) -> None:
    """Say which operation answered the request whose WSGI environ (Django's request.META) this is."""
    environ[OPERATION] = (api, operation)


def observe_request(environ: dict, status: int | None, seconds: float, sent_bytes: int) -> None:
    """One answered request: its count by status, its latency and the bytes in and out."""
    api, operation = environ.get(OPERATION, UNNAMED)
    REQUESTS.labels(api, operation, str(status or 0)).inc()
    REQUEST_SECONDS.labels(api, operation).observe(seconds)
    declared = environ.get("CONTENT_LENGTH") or "0"
    if declared.isdecimal() and int(declared):
        RECEIVED_BYTES.labels(api, operation).inc(int(declared))
    if sent_bytes:
        SENT_BYTES.labels(api, operation).inc(sent_bytes)


def count_kms_call(action: str, error_code: str) -> None:
    KMS_CALLS.labels(action, error_code or "ok").inc()


def count_storage_error(operation: str, exc: OSError) -> None:
    count_backend_error(operation, errno.errorcode.get(exc.errno or 0, type(exc).__name__))


def count_backend_error(operation: str, error: str) -> None:
    STORAGE_ERRORS.labels(operation, error).inc()


def _multiprocess_dir() -> str:
    # prometheus-client's own variable: it decided when this process imported the library whether values go to files.
    return os.environ.get("PROMETHEUS_MULTIPROC_DIR", "")


def forget_process(pid: int) -> None:
    """Drop a dead process's live gauges (its counters stay: they are totals)."""
    if _multiprocess_dir():
        multiprocess.mark_process_dead(pid)


# -- read at scrape time ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Snapshot:
    """What the database says at scrape time."""

    stored: dict[str, tuple[int, int]]  # SSE mode name -> (objects, bytes)
    jobs: dict[tuple[str, str], int]  # (kind, status) -> jobs
    job_items: dict[tuple[str, str], int]  # (kind, state) -> items of jobs not finished yet


class DatabaseCollector:
    """Gauges computed from a Snapshot each time /metrics is scraped: nothing is kept between scrapes."""

    def __init__(self, read: Callable[[], Snapshot]) -> None:
        self.read = read

    def collect(self) -> Iterator[Metric]:
        snapshot = self.read()
        objects = GaugeMetricFamily("kinko_stored_objects", "Objects stored, by SSE mode.", labels=["sse"])
        size = GaugeMetricFamily("kinko_stored_bytes", "Object bytes stored (plaintext), by SSE mode.", labels=["sse"])
        for mode, (count, total) in snapshot.stored.items():
            objects.add_metric([mode], count)
            size.add_metric([mode], total)
        jobs = GaugeMetricFamily("kinko_jobs", "Bulk jobs by kind and status.", labels=["kind", "status"])
        for (kind, status), count in snapshot.jobs.items():
            jobs.add_metric([kind, status], count)
        items = GaugeMetricFamily(
            "kinko_job_items",
            "Items of the jobs queued or running, by kind and state (done, failed, skipped, remaining).",
            labels=["kind", "state"],
        )
        for (kind, state), count in snapshot.job_items.items():
            items.add_metric([kind, state], count)
        yield from (objects, size, jobs, items)


def exposition(read: Callable[[], Snapshot]) -> bytes:
    """The text a scrape gets: every server process's metrics (or this one's) and the database's now."""
    registry = CollectorRegistry()
    registry.register(DatabaseCollector(read))
    path = _multiprocess_dir()
    if path:
        multiprocess.MultiProcessCollector(registry, path=path)
        return generate_latest(registry)
    return generate_latest(REGISTRY) + generate_latest(registry)
