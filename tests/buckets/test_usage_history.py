"""The overview's history, in process: daily snapshots of stored objects and bytes by encryption mode, COS
requests per day, KMS calls per day per key from the audit trail, and the chart geometry drawn from them."""

import datetime

import pytest
from django.utils import timezone

from buckets import usage
from buckets.models import RequestCount, UsageSnapshot
from console.charts import stacked_columns
from keys import service as kms
from keys import usage as key_usage
from keys.models import AuditEvent
from tests.factories import AccountFactory, BucketFactory, StoredObjectFactory

pytestmark = pytest.mark.django_db

DAY = datetime.date(2026, 12, 2)


def test_a_snapshot_records_objects_and_bytes_per_encryption_mode():
    bucket = BucketFactory()
    StoredObjectFactory(bucket=bucket, size_bytes=10, sse="AES256")
    StoredObjectFactory(bucket=bucket, size_bytes=5, sse="AES256")
    StoredObjectFactory(bucket=bucket, size_bytes=7, sse="")
    usage.snapshot_account(bucket.owner, DAY)
    found = {s.sse: (s.object_count, s.size_bytes) for s in UsageSnapshot.objects.filter(account=bucket.owner)}
    assert found == {"": (1, 7), "AES256": (2, 15), "cos/kms": (0, 0), "SSE-C": (0, 0)}


def test_snapshotting_the_same_day_again_refreshes_it_instead_of_adding_rows():
    bucket = BucketFactory()
    usage.snapshot_account(bucket.owner, DAY)
    StoredObjectFactory(bucket=bucket, size_bytes=3, sse="cos/kms")
    usage.snapshot_account(bucket.owner, DAY)
    rows = UsageSnapshot.objects.filter(account=bucket.owner)
    assert rows.count() == 4
    assert rows.get(sse="cos/kms").size_bytes == 3


def test_the_periodic_snapshot_covers_every_account_with_a_bucket_and_only_those():
    with_buckets = [BucketFactory().owner, BucketFactory().owner]
    without = AccountFactory()
    assert usage.snapshot_usage(DAY) == 2
    assert set(UsageSnapshot.objects.values_list("account_id", flat=True)) == {a.id for a in with_buckets}
    assert not UsageSnapshot.objects.filter(account=without).exists()


def test_the_first_history_of_the_day_snapshots_today_and_keeps_earlier_days():
    bucket = BucketFactory()
    StoredObjectFactory(bucket=bucket, size_bytes=4, sse="AES256")
    usage.snapshot_account(bucket.owner, DAY - datetime.timedelta(days=3))
    StoredObjectFactory(bucket=bucket, size_bytes=6, sse="AES256")
    history = usage.usage_history(bucket.owner, days=7, now=DAY)
    assert history.days[0] == DAY - datetime.timedelta(days=6) and history.days[-1] == DAY
    assert history.stored[DAY - datetime.timedelta(days=3)]["AES256"] == (1, 4)
    assert history.stored[DAY]["AES256"] == (2, 10)
    assert DAY - datetime.timedelta(days=1) not in history.stored  # no record is no point, not a zero


def test_requests_are_counted_per_account_and_day():
    one, other = AccountFactory(), AccountFactory()
    for _ in range(3):
        usage.count_request(one.id, DAY)
    usage.count_request(one.id, DAY + datetime.timedelta(days=1))
    usage.count_request(other.id, DAY)
    counts = {(r.account_id, r.day): r.requests for r in RequestCount.objects.all()}
    assert counts == {(one.id, DAY): 3, (one.id, DAY + datetime.timedelta(days=1)): 1, (other.id, DAY): 1}


def test_kms_calls_per_day_count_only_successful_cryptographic_calls_of_each_key():
    account = AccountFactory()
    kms.activate_kms(account)
    now = timezone.now()
    calls = [("Encrypt", ""), ("Decrypt", ""), ("GenerateDataKey", ""), ("Decrypt", "Denied"), ("DescribeKey", "")]
    for action, error in calls:
        AuditEvent.objects.create(account=account, actor="t", action=action, key_id="k-1", error_code=error)
    AuditEvent.objects.create(account=account, actor="t", action="Encrypt", key_id="k-2")
    AuditEvent.objects.create(
        account=account, actor="t", action="Encrypt", key_id="k-1", created_at=now - datetime.timedelta(days=40)
    )
    found = key_usage.calls_per_day(account, (now - datetime.timedelta(days=29)).date())
    assert found == {"k-1": {now.date(): 3}, "k-2": {now.date(): 1}}


def test_stacked_columns_scale_to_the_tallest_day_and_list_the_days_with_data_newest_first():
    days = [DAY - datetime.timedelta(days=2), DAY - datetime.timedelta(days=1), DAY]
    chart = stacked_columns(days, ["a", "b"], {days[0]: [1, 1], days[2]: [3, 1]})
    assert chart.peak == 4 and not chart.is_empty
    last = chart.columns[2]
    assert [(s.label, s.y, s.height) for s in last.segments] == [("a", 25.0, 75.0), ("b", 0.0, 25.0)]
    assert chart.columns[1].segments == []
    assert chart.rows == [(days[2], [3, 1], 4), (days[0], [1, 1], 2)]


def test_a_chart_with_nothing_to_draw_is_empty():
    assert stacked_columns([DAY], ["a"], {}).is_empty
    assert stacked_columns([DAY], ["a"], {DAY: [0]}).is_empty
