"""Keep a node's parts running: what `manage.py serve` (and so `make run`) supervises, and what /healthz reads.

- A part (a gunicorn master, the Celery worker, beat) that exits while the node is not stopping is started again
  after a short back-off (1 s, doubling up to 30 s while it keeps crashing); the other parts keep serving.
- Every child dies with its parent (Linux PR_SET_PDEATHSIG, set before exec and in forked web/pool workers), so a
  SIGKILLed supervisor leaves no orphan serving a port or running periodic tasks twice.
- One supervisor per data dir: an exclusive lock on <data dir>/serve.lock.
- <data dir>/run/node.json names the supervisor and each part's pid; /healthz reports a supervised part that is
  gone (see part_failures). It is rewritten only when a part starts or exits, never per request.
"""

import contextlib
import ctypes
import fcntl
import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

PR_SET_PDEATHSIG = 1
FIRST_BACKOFF_SECONDS = 1.0
MAX_BACKOFF_SECONDS = 30.0
STABLE_SECONDS = 60.0  # a part that ran this long before exiting starts again after the first back-off
STOP_SECONDS = 12.0  # gunicorn's --graceful-timeout (10 s) and a little more; then SIGKILL
POLL_SECONDS = 0.2
# Parts /healthz reports when gone; the web listeners need no report (a request that reaches /healthz proves them).
REPORTED = ("worker", "beat")


class AlreadyServing(Exception):
    pass


def die_with_parent(parent_pid: int | None = None) -> None:
    """SIGKILL this process when its parent exits (Linux); exit at once if the parent is already gone."""
    if not sys.platform.startswith("linux"):
        return
    parent_pid = os.getppid() if parent_pid is None else parent_pid
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    if os.getppid() != parent_pid:
        os._exit(1)


def lock_data_dir(data_dir: Path) -> int:
    """Hold <data dir>/serve.lock for this process's life; AlreadyServing if another supervisor holds it."""
    path = data_dir / "serve.lock"
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        holder = os.pread(fd, 32, 0).decode(errors="replace").strip() or "unknown"
        os.close(fd)
        raise AlreadyServing(
            f"Kinko is already serving from {data_dir} (supervisor pid {holder}); stop it first "
            f"or give this one another KINKO_DATA_DIR."
        ) from None
    os.ftruncate(fd, 0)
    os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
    return fd


def port_in_use(host: str, port: int) -> bool:
    """True when something listens on host:port; a bind without SO_REUSEPORT fails beside any listener."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # a TIME_WAIT left by a stopped node is fine
        try:
            probe.bind((host, port))
        except OSError:
            return True
    return False


# The status file /healthz reads ----------------------------------------------------------------------------------


def status_path(data_dir: Path) -> Path:
    return data_dir / "run" / "node.json"


def _start_time(pid: int) -> str | None:
    """The kernel's start time of a live (not zombie) process, which tells it apart from a reused pid."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    except OSError:
        return None
    return None if fields[0] in ("Z", "X") else fields[19]


def _alive(entry: dict | None) -> bool:
    if not entry or not entry.get("pid"):
        return False
    return _start_time(int(entry["pid"])) == entry.get("start")


def write_status(data_dir: Path, parts: dict[str, int | None]) -> None:
    path = status_path(data_dir)
    path.parent.mkdir(mode=0o700, exist_ok=True)
    me = os.getpid()
    status = {
        "supervisor": {"pid": me, "start": _start_time(me)},
        "parts": {
            name: (None if pid is None else {"pid": pid, "start": _start_time(pid)}) for name, pid in parts.items()
        },
    }
    temp = path.with_name(f".{path.name}.{me}.tmp")
    temp.write_text(json.dumps(status))
    os.replace(temp, path)


def part_failures(data_dir: Path) -> list[str]:
    """Supervised parts that are gone, from the status file; nothing when no live supervisor wrote it."""
    try:
        status = json.loads(status_path(data_dir).read_text())
    except (OSError, ValueError):
        return []
    if not isinstance(status, dict) or not _alive(status.get("supervisor")):
        return []  # a stale file from a stopped node, or a server started some other way
    parts = status.get("parts") or {}
    return [name for name in REPORTED if name in parts and not _alive(parts[name])]


# The supervisor ---------------------------------------------------------------------------------------------------


@dataclass
class Part:
    name: str
    command: list[str]
    proc: subprocess.Popen | None = None
    started: float = 0.0
    backoff: float = FIRST_BACKOFF_SECONDS
    restart_at: float | None = None


@dataclass
class Supervisor:
    data_dir: Path
    env: dict[str, str]
    say: Callable[[str], None]
    parts: list[Part] = field(default_factory=list)
    stopping: bool = False

    def add(self, name: str, command: list[str]) -> None:
        self.parts.append(Part(name, command))

    def _start(self, part: Part) -> None:
        me = os.getpid()
        part.proc = subprocess.Popen(
            part.command, env=self.env, start_new_session=True, preexec_fn=lambda: die_with_parent(me)
        )
        part.started, part.restart_at = time.monotonic(), None

    def _publish(self) -> None:
        live = {p.name: (p.proc.pid if p.proc is not None and p.proc.returncode is None else None) for p in self.parts}
        try:
            write_status(self.data_dir, live)
        except OSError as error:  # a full disk must not stop supervision; /healthz then reads the last status
            self.say(f"kinko: cannot write {status_path(self.data_dir)}: {error.strerror}")

    def stop(self, *_) -> None:
        """Signal handler: ask every part to stop (SIGTERM), once."""
        if self.stopping:
            return
        self.stopping = True
        for part in self.parts:
            if part.proc is not None and part.proc.poll() is None:
                with contextlib.suppress(ProcessLookupError):
                    part.proc.terminate()

    def run(self) -> int:
        """Serve until SIGTERM/SIGINT; 0 when every part stopped within the grace period, else 1."""
        signal.signal(signal.SIGTERM, self.stop)
        signal.signal(signal.SIGINT, self.stop)
        for part in self.parts:
            self._start(part)
        self._publish()
        while not self.stopping:
            self._watch()
            time.sleep(POLL_SECONDS)
        return self._wait_for_stop()

    def _watch(self) -> None:
        now, changed = time.monotonic(), False
        for part in self.parts:
            if part.restart_at is None and part.proc is not None and part.proc.poll() is not None:
                ran = now - part.started
                part.backoff = FIRST_BACKOFF_SECONDS if ran >= STABLE_SECONDS else part.backoff
                code = part.proc.returncode
                how = f"was killed by signal {-code}" if code < 0 else f"exited with status {code}"
                self.say(f"kinko: {part.name} (pid {part.proc.pid}) {how}; restarting in {part.backoff:g} s")
                self._reap_group(part)
                part.restart_at = now + part.backoff
                part.backoff = min(part.backoff * 2, MAX_BACKOFF_SECONDS)
                changed = True
            elif part.restart_at is not None and now >= part.restart_at and not self.stopping:
                self._start(part)
                self.say(f"kinko: {part.name} restarted (pid {part.proc.pid})")
                changed = True
        if changed:
            self._publish()

    @staticmethod
    def _reap_group(part: Part) -> None:
        """Whatever the dead part left in its process group (web or pool workers) goes with it."""
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(part.proc.pid, signal.SIGKILL)

    def _wait_for_stop(self) -> int:
        deadline, return_code = time.monotonic() + STOP_SECONDS, 0
        for part in self.parts:
            if part.proc is None:
                continue
            try:
                part.proc.wait(timeout=max(0.0, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                self.say(f"kinko: {part.name} did not stop within {STOP_SECONDS:g} s; killing it")
                part.proc.kill()
                part.proc.wait()
                return_code = 1
            self._reap_group(part)
        with contextlib.suppress(OSError):
            status_path(self.data_dir).unlink()
        return return_code
