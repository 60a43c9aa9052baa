"""Serve Kinko: gunicorn for HTTP and, unless --no-worker, a Celery worker with beat. Ctrl-C stops both."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand

from buckets import housekeeping
from console import datadir, health
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
        "--timeout", "300", "--graceful-timeout", "10", "--keep-alive", "75",
        "--access-logfile", "-", "--access-logformat", '%(h)s "%(m)s %(U)s" %(s)s %(b)s %(L)ss',
        "--logger-class", "console.accesslog.EscapingLogger",
    ]  # fmt: skip
    if tls is not None:
        command += ["--certfile", str(tls.cert), "--keyfile", str(tls.key)]
    return command


def celery_command() -> list[str]:
    return [
        sys.executable,
        "-m",
        "celery",
        "-A",
        "console",
        "worker",
        "--beat",
        "--concurrency",
        "2",
        "--loglevel",
        "INFO",
        "--schedule",
        settings.CELERY_BEAT_SCHEDULE_FILENAME,
    ]


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
        health.ensure_broker_dirs()
        housekeeping.collect_orphan_blobs()
        env = {**os.environ, **MALLOC_ENV}
        host, workers, threads = options["host"], options["workers"], options["threads"]
        commands = [gunicorn_command(f"{host}:{options['port']}", workers, threads)]
        if options["https_port"]:
            tls = ensure_tls_files()
            commands.append(gunicorn_command(f"{host}:{options['https_port']}", workers, threads, tls))
            self.stdout.write(
                f"Kinko on https://{host}:{options['https_port']}/"
                + (f" (development CA for REQUESTS_CA_BUNDLE: {tls.ca})" if tls.ca else "")
            )
        if not options["no_worker"]:
            commands.append(celery_command())
        self.stdout.write(f"Kinko on http://{options['host']}:{options['port']}/ (data in {settings.DATA_DIR})")
        children = [subprocess.Popen(command, env=env) for command in commands]

        def stop(*_) -> None:
            for child in children:
                if child.poll() is None:
                    child.terminate()

        signal.signal(signal.SIGTERM, stop)
        signal.signal(signal.SIGINT, stop)
        try:
            while all(child.poll() is None for child in children):
                time.sleep(0.5)
        finally:
            stop()
            for child in children:
                try:
                    child.wait(timeout=15)
                except subprocess.TimeoutExpired:
                    child.kill()
        failed = [child.returncode for child in children if child.returncode not in (0, -signal.SIGTERM)]
        if failed:
            raise SystemExit(1)
