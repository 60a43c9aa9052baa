"""Serve Kinko: gunicorn for HTTP (and HTTPS) and, unless --no-worker, a Celery worker and beat, each supervised
(console/supervision.py): a part that crashes is started again, all die with this command. Ctrl-C stops them all."""

import os
import shutil
import sys
import tempfile
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from buckets import housekeeping
from buckets.errors import CosError
from console import datadir, health, supervision
from console.tls import TlsFiles, ensure_tls_files

# Measured on these machines (PERFORMANCE.md): fewer page faults on large bodies, 40-70% faster big PUTs.
MALLOC_ENV = {"MALLOC_MMAP_THRESHOLD_": "33554432", "MALLOC_TRIM_THRESHOLD_": "1073741824"}


def gunicorn_command(bind: str, workers: int, threads: int, tls: TlsFiles | None = None) -> list[str]:
    command = [
        sys.executable, "-m", "gunicorn", "console.wsgi:application",
        "--bind", bind, "--worker-class", "gthread", "--workers", str(workers), "--threads", str(threads),
        # SO_REUSEPORT spreads keep-alive connections over the workers; no control socket to clean up.
        "--reuse-port", "--no-control-socket",
        # X-Forwarded-* are believed from KINKO_TRUSTED_PROXIES only, by console.security: gunicorn trusts nobody.
        "--forwarded-allow-ips", "",
        # Underscored header names reach the pre_request hook, which keeps x-cos-meta-* ones under their exact
        # names and drops the rest, as gunicorn's default would (core.underscores).
        "--header-map", "dangerous",
        "--timeout", "300", "--graceful-timeout", "10", "--keep-alive", "75",
        "--access-logfile", "-", "--access-logformat", '%(h)s "%(m)s %(U)s" %(s)s %(b)s %(L)ss',
        "--logger-class", "console.accesslog.EscapingLogger",
        "--config", "python:console.gunicorn_hooks",
    ]  # fmt: skip
    if tls is not None:
        command += ["--certfile", str(tls.cert), "--keyfile", str(tls.key)]
    return command


def celery_command() -> list[str]:
    return [sys.executable, "-m", "celery", "-A", "console", "worker", "--concurrency", "2", "--loglevel", "INFO"]


def beat_command() -> list[str]:
    """Beat on its own, so a crash of either it or the worker restarts only that one."""
    schedule = settings.CELERY_BEAT_SCHEDULE_FILENAME
    return [sys.executable, "-m", "celery", "-A", "console", "beat", "--loglevel", "INFO", "--schedule", schedule]


def _metrics_dir() -> Path:
    """KINKO_METRICS_DIR emptied, else a new 0700 folder in memory (the system temp dir where there is no /dev/shm)."""
    if settings.KINKO_METRICS_DIR:
        return datadir.empty_private_dir(Path(settings.KINKO_METRICS_DIR))
    memory = Path("/dev/shm")  # noqa: S108 - mkdtemp makes an unpredictable 0700 folder there
    return Path(tempfile.mkdtemp(prefix="kinko-metrics-", dir=memory if memory.is_dir() else None))


class Command(BaseCommand):
    help = "Serve the COS API, API 3.0, console and JSON API, with a Celery worker and beat."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=int(os.environ.get("PORT", "8000")))
        parser.add_argument("--workers", type=int, default=2)
        parser.add_argument("--threads", type=int, default=4)
        parser.add_argument(
            "--https-port", type=int, default=settings.KINKO_HTTPS_PORT, help="TLS listener; 0 turns it off"
        )
        parser.add_argument("--no-worker", action="store_true", help="do not start the Celery worker")

    def handle(self, *args, **options) -> None:
        # The data dir is 0700 and every file in it 0600, including what an older version or another tool left.
        datadir.restrict_umask()
        datadir.tighten(settings.DATA_DIR, skip_if_private=(Path(settings.STORAGE_ROOT),))
        try:
            lock = supervision.lock_data_dir(Path(settings.DATA_DIR))
        except supervision.AlreadyServing as refusal:
            raise CommandError(str(refusal)) from None
        host, workers, threads = options["host"], options["workers"], options["threads"]
        ports = [options["port"]] + ([options["https_port"]] if options["https_port"] else [])
        for port in ports:
            if supervision.port_in_use(host, port):
                raise CommandError(f"Port {port} on {host} is in use: another server listens there; stop it first.")
        health.ensure_broker_dirs()
        try:
            housekeeping.collect_orphan_blobs()
        except CosError as exc:  # the blob backend is down (logged): the periodic sweep tries again
            self._say(f"orphan sweep skipped: {exc.message}")
        # Every part writes its metrics there (prometheus-client's multiprocess mode); a scrape sums them. Totals
        # start again at zero with the node, as Prometheus expects of a restarted target.
        metrics_dir = _metrics_dir()
        env = {**os.environ, **MALLOC_ENV, "PROMETHEUS_MULTIPROC_DIR": str(metrics_dir)}
        node = supervision.Supervisor(Path(settings.DATA_DIR), env, self._say)
        node.add("web", gunicorn_command(f"{host}:{options['port']}", workers, threads))
        if options["https_port"]:
            tls = ensure_tls_files()
            node.add("web-tls", gunicorn_command(f"{host}:{options['https_port']}", workers, threads, tls))
            self.stdout.write(
                f"Kinko on https://{host}:{options['https_port']}/"
                + (f" (development CA for REQUESTS_CA_BUNDLE: {tls.ca})" if tls.ca else "")
            )
        if not options["no_worker"]:
            node.add("worker", celery_command())
            node.add("beat", beat_command())
        self.stdout.write(f"Kinko on http://{options['host']}:{options['port']}/ (data in {settings.DATA_DIR})")
        try:
            code = node.run()
        finally:
            os.close(lock)
            if not settings.KINKO_METRICS_DIR:
                shutil.rmtree(metrics_dir, ignore_errors=True)
        if code:
            raise SystemExit(code)

    def _say(self, line: str) -> None:
        self.stderr.write(line)
