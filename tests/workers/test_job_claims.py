"""Workers claiming one job's items at the same moment, from separate processes on the live node's database, never
claim an item twice and leave none unclaimed: SQLite lets one claim in at a time, PostgreSQL's workers skip the rows
another is claiming (FOR UPDATE SKIP LOCKED) and the claim's conditional update checks again either way."""

import json
import subprocess
import sys

from tests.live import ROOT
from tests.workers.support import manage_env, wait_for

CLAIMERS = 4
ITEMS = 400

MAKE_JOB = """
from buckets.models import Bucket, Job, JobItem
job = Job.objects.create(kind="encrypt_objects", bucket=Bucket.objects.get(name="{bucket}"), requester="t", total={n})
JobItem.objects.bulk_create(JobItem(job=job, key=f"k{{i}}") for i in range({n}))
print(job.job_id)
"""

CLAIM = """
import json, pathlib, time
from django.utils import timezone
from buckets import jobs
from buckets.models import Job
job = Job.objects.get(job_id="{job_id}")
jobs.claim_batch(job, timezone.now(), size=0)  # connected, and the code paths loaded, before the start
pathlib.Path("{ready}").touch()
while not pathlib.Path("{go}").exists():
    time.sleep(0.005)
claimed = []
while batch := jobs.claim_batch(job, timezone.now(), size=3):
    claimed += [[item.id, item.claim] for item in batch]
print(json.dumps(claimed))
"""

STATES = """
import json
from buckets.models import JobItem
print(json.dumps(list(JobItem.objects.filter(job__job_id="{job_id}").values_list("id", "state", "claim"))))
"""


def shell(kinko, code: str) -> str:
    done = subprocess.run(
        [sys.executable, "manage.py", "shell", "-c", code],
        cwd=ROOT,
        env=manage_env(kinko),
        check=True,
        capture_output=True,
        text=True,
        timeout=120,
    )
    return done.stdout.strip().splitlines()[-1]


def test_claimers_racing_for_one_jobs_items_claim_each_item_exactly_once(kinko, bucket, tmp_path):
    job_id = shell(kinko, MAKE_JOB.format(bucket=bucket, n=ITEMS))
    go = tmp_path / "go"
    claimers = [
        subprocess.Popen(
            [sys.executable, "manage.py", "shell", "-c", CLAIM.format(job_id=job_id, ready=tmp_path / f"r{n}", go=go)],
            cwd=ROOT,
            env=manage_env(kinko),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for n in range(CLAIMERS)
    ]
    assert wait_for(lambda: all((tmp_path / f"r{n}").exists() for n in range(CLAIMERS)), timeout=90)
    go.touch()
    claims: list[list] = []
    for claimer in claimers:
        out, err = claimer.communicate(timeout=120)
        assert claimer.returncode == 0, err
        claims.append(json.loads(out.strip().splitlines()[-1]))
    claimed_ids = [item_id for claimed in claims for item_id, _ in claimed]
    assert len(claimed_ids) == len(set(claimed_ids)), "an item was claimed twice"
    rows = json.loads(shell(kinko, STATES.format(job_id=job_id)))
    assert sorted(claimed_ids) == sorted(item_id for item_id, _, _ in rows), "an item was left unclaimed"
    holder = {item_id: claim for claimed in claims for item_id, claim in claimed}
    assert all(state == "claimed" and claim == holder[item_id] for item_id, state, claim in rows)
