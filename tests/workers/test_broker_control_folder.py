"""kombu's filesystem transport keeps its exchange tables (the `control` folder) in the data dir, never in the
working directory of whoever runs a worker or sends a task (the repository, for `make run` and the tests)."""

import time

import pytest

from tests.live import ROOT, Worker


@pytest.fixture
def worked(kinko):
    """A worker that has started, bound its queues and run one task on the filesystem broker (the only transport
    with a control folder)."""
    worker = Worker("filesystem://", kinko.data_dir, {})
    yield worker
    worker.stop()


@pytest.fixture
def ran(worked):
    worker = worked
    worker.send("buckets.tasks.collect_garbage")
    deadline = time.monotonic() + 60
    while "collect_garbage" not in worker.log() or "succeeded" not in worker.log():
        if time.monotonic() > deadline:
            raise AssertionError(worker.log())
        time.sleep(0.2)
    return worker


def test_a_worker_run_creates_no_control_folder_in_the_repository(ran):
    assert not (ROOT / "control").exists()


def test_the_worker_keeps_its_exchange_tables_in_the_data_dir(ran, kinko):
    assert sorted(path.name for path in (kinko.data_dir / "broker" / "control").iterdir()) == [
        "celery.exchange",
        "celery.pidbox.exchange",
    ]
