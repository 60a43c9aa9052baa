"""The overview: totals, stored objects and bytes by encryption mode over time, COS requests and KMS calls per
day, KMS status, running jobs and recent KMS activity."""

from django.shortcuts import render
from django.utils.translation import pgettext_lazy

from buckets import usage
from buckets.models import Bucket, Job, JobStatus, SseMode
from console.charts import stacked_columns
from keys import service as kms
from keys.models import AuditEvent, MasterKey

from .common import account_of, console_page, require

MODES = [
    (SseMode.NONE, pgettext_lazy("encryption mode", "none")),
    (SseMode.COS, "SSE-COS"),
    (SseMode.KMS, "SSE-KMS"),
    (SseMode.CUSTOMER, "SSE-C"),
]
MOST_USED_KEYS = 5


def kms_chart(history: usage.UsageHistory, aliases: dict[str, str]):
    """Calls per day of the most used keys, each its own series; the rest summed as one."""
    totals = {key_id: sum(days.values()) for key_id, days in history.kms_calls.items()}
    ranked = sorted(totals, key=lambda key_id: (-totals[key_id], key_id))
    shown, rest = ranked[:MOST_USED_KEYS], ranked[MOST_USED_KEYS:]
    series = [aliases.get(key_id, key_id) for key_id in shown] + (["…"] if rest else [])
    values = {}
    for day in history.days:
        row = [history.kms_calls[key_id].get(day, 0) for key_id in shown]
        if rest:
            row.append(sum(history.kms_calls[key_id].get(day, 0) for key_id in rest))
        values[day] = row
    return stacked_columns(history.days, series, values)


@console_page
def overview(request):
    require(request, "cos:GetService")
    account = account_of(request)
    history = usage.usage_history(account)
    now = history.stored[history.days[-1]]
    rows = [{"mode": name, "objects": now[mode][0], "bytes": now[mode][1]} for mode, name in MODES]
    labels = [str(name) for _mode, name in MODES]
    per_day = {day: [modes.get(mode, (0, 0)) for mode, _name in MODES] for day, modes in history.stored.items()}
    aliases = dict(
        MasterKey.objects.filter(account=account, key_id__in=list(history.kms_calls)).values_list("key_id", "alias")
    )
    context = {
        "bucket_count": Bucket.objects.filter(owner=account).count(),
        "object_count": sum(row["objects"] for row in rows),
        "byte_count": sum(row["bytes"] for row in rows),
        "rows": rows,
        "bytes_chart": stacked_columns(history.days, labels, {d: [b for _n, b in v] for d, v in per_day.items()}),
        "objects_chart": stacked_columns(history.days, labels, {d: [n for n, _b in v] for d, v in per_day.items()}),
        "requests_chart": stacked_columns(history.days, ["COS"], {d: [n] for d, n in history.requests.items()}),
        "kms_chart": kms_chart(history, {str(key_id): alias for key_id, alias in aliases.items()}),
        "kms_activated": kms.is_activated(account),
        "running_jobs": Job.objects.filter(bucket__owner=account, status__in=[JobStatus.QUEUED, JobStatus.RUNNING]),
        "audit": AuditEvent.objects.filter(account=account)[:10],
    }
    return render(request, "console/overview.html", context)
