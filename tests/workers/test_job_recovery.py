"""Jobs recover in seconds: a worker SIGKILLed mid-job leaves claims whose lease runs out within seconds, and the
job's progress resumes on another worker (beat queues it again) within 30 s, every object counted exactly once; a
worker stopped with SIGTERM hands its claims back at once instead of finishing the whole job first."""

import os
import signal
import time

from tests.workers.support import (
    database,
    encrypt_objects,
    finished_command,
    item_states,
    job_of,
    put_objects,
    wait_for,
    wait_until_finished,
    wait_until_ready,
)

OBJECTS = 300
RECOVERY_SECONDS = 30


def midway(db, bucket, job_id) -> bool:
    job = job_of(db, bucket)
    return job is not None and 0 < job.done < job.total and item_states(db, job_id).get("claimed", 0) > 0


def test_a_killed_workers_job_resumes_on_another_worker_within_30_seconds_exactly_once(
    start_worker,
    kinko,
    scenarios,
):
    bucket = scenarios.new_bucket()
    put_objects(kinko, bucket, None, ["plain"], OBJECTS)
    first = start_worker()
    wait_until_ready(first)
    db = database(kinko)
    printed = finished_command(encrypt_objects(kinko, first, bucket, "AES256"))
    job_id = printed["id"].replace("-", "")
    assert wait_for(lambda: midway(db, bucket, job_id), timeout=60, interval=0.005), first.log()
    os.kill(first.proc.pid, signal.SIGKILL)
    first.proc.wait(timeout=10)
    killed_at, at_kill = time.monotonic(), job_of(db, bucket)
    second = start_worker("--beat", "--schedule", str(kinko.data_dir / f"beat-{time.monotonic_ns()}"))
    resumed = wait_for(lambda: job_of(db, bucket).done > at_kill.done, timeout=RECOVERY_SECONDS + 15, interval=0.1)
    waited = time.monotonic() - killed_at
    assert resumed and waited <= RECOVERY_SECONDS, (waited, second.log())
    job = wait_until_finished(db, bucket, second)
    states = item_states(db, job_id)
    db.close()
    assert (job.status, job.done, job.failed, job.skipped, states) == ("succeeded", OBJECTS, 0, 0, {"done": OBJECTS})


def test_a_worker_stopped_with_sigterm_hands_its_claims_back_at_once(start_worker, kinko, scenarios):
    bucket = scenarios.new_bucket()
    put_objects(kinko, bucket, None, ["plain"], OBJECTS)
    first = start_worker()
    wait_until_ready(first)
    db = database(kinko)
    printed = finished_command(encrypt_objects(kinko, first, bucket, "AES256"))
    job_id = printed["id"].replace("-", "")
    assert wait_for(lambda: midway(db, bucket, job_id), timeout=60, interval=0.002), first.log()
    first.proc.send_signal(signal.SIGTERM)
    first.proc.wait(timeout=20)
    at_stop = job_of(db, bucket)
    # It stopped between two items: the rest of the job is left to others, none of it held by the stopped worker.
    assert at_stop.done < at_stop.total and item_states(db, job_id).get("claimed", 0) == 0, first.log()
    second = start_worker()  # no beat: the stopped worker queued the job again itself
    job = wait_until_finished(db, bucket, second)
    states = item_states(db, job_id)
    db.close()
    assert (job.status, job.done, job.failed, states) == ("succeeded", OBJECTS, 0, {"done": OBJECTS})
