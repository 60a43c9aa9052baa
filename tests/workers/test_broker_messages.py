"""The embedded broker never kills the worker: a message file that is half written (or garbage) is quarantined with
one warning, the worker keeps running and still runs the next real task; a message is never visible half written."""

import json
import os
import threading
import time
import uuid

import pytest

from tests.live import Worker
from tests.workers.support import wait_for, wait_until_ready

TASK_DONE = "Task buckets.tasks.resume_stalled_jobs"


@pytest.fixture
def embedded_worker(kinko):
    worker = Worker("kinkofs://", kinko.data_dir, {})
    yield worker
    worker.stop()


def test_a_partial_message_file_is_quarantined_and_the_worker_keeps_running(embedded_worker, kinko):
    worker = embedded_worker
    wait_until_ready(worker)
    queue = kinko.data_dir / "broker" / "queue"
    name = f"{int(time.monotonic() * 1000)}_{uuid.uuid4()}.celery.msg"
    # What a reader sees of a message its writer has not finished yet: the first bytes of the JSON.
    (queue / name).write_bytes(b'{"body": "W1tdLCB7fSwgeyJjYWxsYmFja3MiOiBudWxs')
    assert wait_for(lambda: (kinko.data_dir / "broker" / "quarantine" / name).exists(), timeout=20), worker.log()
    worker.send("buckets.tasks.resume_stalled_jobs")
    assert wait_for(lambda: f"{TASK_DONE}[" in worker.log() and " succeeded in " in worker.log(), timeout=20), (
        worker.log()
    )
    assert worker.proc.poll() is None, worker.log()
    log = worker.log()
    assert "Unrecoverable error" not in log
    assert [line for line in log.splitlines() if "WARNING" in line and name in line and "quarantined" in line], log


def test_a_message_is_never_visible_in_the_queue_half_written(embedded_worker, kinko):
    """Sent messages appear in the queue folder under their final name only once whole (written under a temp
    name first): every `*.celery.msg` file seen while sending parses."""
    client = embedded_worker.client
    embedded_worker.proc.kill()  # nobody consumes: every sent message stays in the folder to be looked at
    embedded_worker.proc.wait(timeout=10)
    queue = kinko.data_dir / "broker" / "queue"
    for name in os.listdir(queue):
        if name.endswith(".celery.msg"):
            (queue / name).unlink(missing_ok=True)
    big = "x" * 2_000_000
    seen_partial = []
    stop = threading.Event()

    def watch() -> None:
        while not stop.is_set():
            for name in os.listdir(queue):
                if not name.endswith(".celery.msg"):
                    continue
                try:
                    data = (queue / name).read_bytes()
                except FileNotFoundError:
                    continue
                try:
                    json.loads(data)
                except ValueError:
                    seen_partial.append(name)

    watcher = threading.Thread(target=watch)
    watcher.start()
    try:
        for _ in range(10):
            client.send_task("buckets.tasks.resume_stalled_jobs", args=[big])
    finally:
        stop.set()
        watcher.join()
    for name in os.listdir(queue):
        if name.endswith(".celery.msg"):
            (queue / name).unlink(missing_ok=True)
    assert seen_partial == []
