"""Usage over time, for the console's overview: a daily snapshot of each account's stored objects and bytes by
encryption mode, and a per-day count of the COS requests its buckets answered."""

import datetime
import logging
from dataclasses import dataclass, field

from django.db import DatabaseError, IntegrityError, models, transaction
from django.db.models import Count, Sum
from django.utils import timezone

from buckets.models import Bucket, RequestCount, SseMode, StoredObject, UsageSnapshot
from keys import usage as key_usage
from roles.models import Account

log = logging.getLogger(__name__)

HISTORY_DAYS = 30
MODES = (SseMode.NONE, SseMode.COS, SseMode.KMS, SseMode.CUSTOMER)


def today() -> datetime.date:
    return timezone.now().astimezone(datetime.UTC).date()


def stored_by_mode(account: Account | None = None) -> dict[str, tuple[int, int]]:
    """The account's (or, with None, every account's) stored (objects, bytes) per encryption mode, now; every mode
    present. One aggregate query."""
    objects = StoredObject.objects.all() if account is None else StoredObject.objects.filter(bucket__owner=account)
    found = {
        row["sse"]: (row["n"], row["size"] or 0)
        for row in objects.values("sse").annotate(n=Count("id"), size=Sum("size_bytes"))
    }
    return {mode: found.get(mode, (0, 0)) for mode in MODES}


def snapshot_account(account: Account, day: datetime.date) -> dict[str, tuple[int, int]]:
    """Record (or refresh) the account's objects and bytes per encryption mode on `day`; returns them."""
    now = stored_by_mode(account)
    with transaction.atomic():
        for mode, (objects, size) in now.items():
            UsageSnapshot.objects.update_or_create(
                account=account, day=day, sse=mode, defaults={"object_count": objects, "size_bytes": size}
            )
    return now


def snapshot_usage(day: datetime.date | None = None) -> int:
    """The periodic task's work: snapshot every account that has a bucket; returns how many were snapshotted."""
    day = day or today()
    accounts = Account.objects.filter(id__in=Bucket.objects.values("owner_id")).distinct()
    for account in accounts:
        snapshot_account(account, day)
    return len(accounts)


_count_failures_logged = False


def count_request(account_id: int, day: datetime.date | None = None) -> None:
    """One more COS request for the account today: one UPDATE of one row (an INSERT on the day's first).
    Best effort, like the KMS audit: a database that cannot write loses the count, never the request."""
    global _count_failures_logged
    day = day or today()
    try:
        if RequestCount.objects.filter(account_id=account_id, day=day).update(requests=models.F("requests") + 1):
            return
        try:
            with transaction.atomic():
                RequestCount.objects.create(account_id=account_id, day=day, requests=1)
        except IntegrityError:  # another process made the day's row first
            RequestCount.objects.filter(account_id=account_id, day=day).update(requests=models.F("requests") + 1)
    except DatabaseError:
        if not _count_failures_logged:
            _count_failures_logged = True
            log.warning("could not count a COS request (logged once; later failures are silent)", exc_info=True)


@dataclass
class UsageHistory:
    """The last `days` days, oldest first; a day with no record is absent from the series, not zero."""

    days: list[datetime.date]
    stored: dict[datetime.date, dict[str, tuple[int, int]]] = field(default_factory=dict)  # day → mode → (n, B)
    requests: dict[datetime.date, int] = field(default_factory=dict)
    kms_calls: dict[str, dict[datetime.date, int]] = field(default_factory=dict)  # KeyId → day → calls

    @property
    def has_requests(self) -> bool:
        return any(self.requests.values())

    @property
    def has_kms_calls(self) -> bool:
        return any(any(days.values()) for days in self.kms_calls.values())


def usage_history(account: Account, days: int = HISTORY_DAYS, now: datetime.date | None = None) -> UsageHistory:
    """What the overview charts: stored objects and bytes by mode per day, COS requests per day, KMS calls per
    day per key. Today's point is the live total; the first call of a day also records it as the day's snapshot,
    so the history has that day even when no periodic task ran."""
    last = now or today()
    first = last - datetime.timedelta(days=days - 1)
    history = UsageHistory(days=[first + datetime.timedelta(days=n) for n in range(days)])
    for snap in UsageSnapshot.objects.filter(account=account, day__gte=first, day__lt=last):
        history.stored.setdefault(snap.day, {})[snap.sse] = (snap.object_count, snap.size_bytes)
    if UsageSnapshot.objects.filter(account=account, day=last).exists():
        history.stored[last] = stored_by_mode(account)  # today's point is always what is stored now
    else:
        try:
            history.stored[last] = snapshot_account(account, last)
        except IntegrityError:  # another overview of the same first moment wrote it
            history.stored[last] = stored_by_mode(account)
    history.requests = dict(
        RequestCount.objects.filter(account=account, day__gte=first, day__lte=last).values_list("day", "requests")
    )
    history.kms_calls = key_usage.calls_per_day(account, first)
    return history
