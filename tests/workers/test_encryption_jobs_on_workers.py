"""Bulk encryption jobs (`manage.py encrypt_objects`) run by real Celery worker processes on the live server's data
dir, on each broker: progress while the job runs, every object byte-exact afterwards, no plaintext at rest, and a
worker killed mid-job whose claims another worker finishes without counting any object twice."""

import datetime
import os
import signal
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

from buckets.jobs import LEASE
from tests.live import LiveKinko
from tests.workers.support import (
    FINISHED,
    JobRow,
    Put,
    Scenarios,
    database,
    encrypt_objects,
    files_with_marker,
    finished_command,
    got_bodies,
    head_modes,
    item_states,
    job_of,
    put_objects,
    wait_for,
    wait_until_finished,
    wait_until_ready,
)

# -- a job over every mode ------------------------------------------------------------------------------------

MODES = ["plain", "AES256", "SSE-C", "cos/kms"]
PER_MODE = 60


@dataclass(frozen=True)
class Converted:
    bucket: str
    puts: list[Put]
    printed: dict  # what `manage.py encrypt_objects` printed
    progress: list[int]  # finished items, sampled while the job ran
    job: JobRow


@pytest.fixture
def converted(request, scenarios, start_worker, kinko, kms) -> Converted:
    """240 objects of four modes moved to the default CMK by one worker, the job's progress sampled meanwhile."""

    def convert_mixed_bucket(made: Scenarios) -> Converted:
        bucket = made.new_bucket()
        puts = put_objects(kinko, bucket, kms, MODES, PER_MODE)
        worker = start_worker()
        wait_until_ready(worker)
        db = database(kinko)
        command = encrypt_objects(kinko, worker, bucket, "cos/kms")
        progress = []
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            job = job_of(db, bucket)
            if job is not None:
                progress.append(job.finished_items)
                if job.status in FINISHED:
                    break
            time.sleep(0.005)
        printed = finished_command(command)
        job = wait_until_finished(db, bucket, worker)
        db.close()
        return Converted(bucket, puts, printed, progress, job)

    return scenarios.outcome(request, convert_mixed_bucket)


def test_encrypt_objects_lists_every_object_of_the_bucket(converted):
    assert (converted.printed["total"], converted.job.total) == (len(converted.puts), len(converted.puts))


def test_encrypt_objects_progress_shows_while_a_worker_runs_the_job(converted):
    total = converted.job.total
    assert [seen for seen in converted.progress if 0 < seen < total], converted.progress


def test_encrypt_objects_on_a_worker_succeeds(converted):
    assert (converted.printed["id"].replace("-", ""), converted.job.status) == (converted.job.job_id, "succeeded")


def test_encrypt_objects_on_a_worker_converts_all_but_the_sse_c_objects(converted):
    sse_c = sum(obj.mode == "SSE-C" for obj in converted.puts)
    job = converted.job
    assert (job.done, job.failed, job.skipped) == (len(converted.puts) - sse_c, 0, sse_c)


def test_after_encrypt_objects_every_object_reads_back_byte_exactly(converted, kinko):
    assert got_bodies(kinko, converted.bucket, converted.puts) == {obj.key: obj.body for obj in converted.puts}


def test_after_encrypt_objects_every_object_but_sse_c_is_under_the_default_cmk(converted, kinko, kms):
    assert set(head_modes(kinko, converted.bucket, converted.puts).values()) == {("cos/kms", kms.default_key)}


def test_after_encrypt_objects_no_plaintext_marker_is_in_any_file_of_the_data_dir(converted, kinko):
    assert files_with_marker(kinko.data_dir) == []


# -- a worker killed mid-job ----------------------------------------------------------------------------------


def children_of(pid: int) -> list[int]:
    """Direct children of pid, from /proc."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except (FileNotFoundError, ProcessLookupError):
            continue
        if int(fields[1]) == pid:
            found.append(int(stat.parent.name))
    return found


def expire_claims(kinko: LiveKinko, job_id: str) -> None:
    """Move the job's claims back past the lease, as if its lease had run out."""
    long_ago = datetime.datetime.now(datetime.UTC) - LEASE - datetime.timedelta(minutes=1)
    db = database(kinko, read_only=False)
    with db:
        db.execute(
            "UPDATE buckets_jobitem SET claimed_at = ? WHERE state = 'claimed'"
            " AND job_id = (SELECT id FROM buckets_job WHERE job_id = ?)",
            (long_ago.strftime("%Y-%m-%d %H:%M:%S.%f"), job_id),
        )
    db.close()


@dataclass(frozen=True)
class Resumed:
    bucket: str
    puts: list[Put]
    worker_children: list[int]  # processes the killed worker had started
    at_kill: JobRow
    job: JobRow
    item_states: dict[str, int]


@pytest.fixture
def resumed(request, scenarios, start_worker, kinko, kms) -> Resumed:
    """A job over 402 objects whose worker is SIGKILLed midway; a second worker finishes it."""

    def kill_a_worker_mid_job(made: Scenarios) -> Resumed:
        bucket = made.new_bucket()
        puts = put_objects(kinko, bucket, kms, ["plain", "AES256", "cos/kms"], 134)
        first = start_worker()
        db = database(kinko)
        printed = finished_command(encrypt_objects(kinko, first, bucket, "cos/kms"))
        job_id = printed["id"].replace("-", "")

        def midway() -> bool:
            job = job_of(db, bucket)
            return 0 < job.done < job.total and item_states(db, job_id).get("claimed", 0) > 0

        assert wait_for(midway, timeout=60, interval=0.005), first.log()
        children = children_of(first.proc.pid)
        for pid in [first.proc.pid, *children]:
            os.kill(pid, signal.SIGKILL)
        first.proc.wait(timeout=10)
        at_kill = job_of(db, bucket)
        # The dead worker's claims are taken over only once their lease (jobs.LEASE, 15 seconds) has
        # run out: backdating them in the shared database stands for that wait.
        expire_claims(kinko, job_id)
        second = start_worker()
        second.send("buckets.tasks.run_job", printed["id"])
        job = wait_until_finished(db, bucket, second)
        states = item_states(db, job_id)
        db.close()
        return Resumed(bucket, puts, children, at_kill, job, states)

    return scenarios.outcome(request, kill_a_worker_mid_job)


def test_a_solo_pool_worker_runs_jobs_in_its_own_process(resumed):
    assert resumed.worker_children == []


def test_a_worker_killed_mid_job_leaves_it_running_and_unfinished(resumed):
    at_kill = resumed.at_kill
    assert at_kill.status == "running" and 0 < at_kill.done < at_kill.total


def test_a_job_whose_worker_was_killed_is_completed_by_another_worker(resumed):
    job = resumed.job
    assert (job.status, job.done + job.skipped, job.failed) == ("succeeded", len(resumed.puts), 0)


def test_a_job_whose_worker_was_killed_counts_every_object_exactly_once(resumed):
    job, total = resumed.job, len(resumed.puts)
    assert (job.done, job.failed, job.skipped, resumed.item_states) == (total, 0, 0, {"done": total})


def test_after_a_killed_worker_every_object_reads_back_byte_exactly(resumed, kinko):
    assert got_bodies(kinko, resumed.bucket, resumed.puts) == {obj.key: obj.body for obj in resumed.puts}


def test_after_a_killed_worker_every_object_is_under_the_target_cmk(resumed, kinko, kms):
    assert set(head_modes(kinko, resumed.bucket, resumed.puts).values()) == {("cos/kms", kms.default_key)}
