"""The overview: buckets, objects and bytes by encryption mode, KMS status, running jobs, recent audit."""

from django.db.models import Count, Sum
from django.shortcuts import render

from buckets.models import Bucket, Job, JobStatus, SseMode, StoredObject
from keys import service as kms
from keys.models import AuditEvent

from .common import account_of, console_page, require

MODES = [(SseMode.NONE, "none"), (SseMode.COS, "SSE-COS"), (SseMode.KMS, "SSE-KMS"), (SseMode.CUSTOMER, "SSE-C")]
COLORS = {"none": "#9aa5b8", "SSE-COS": "#2f6fd6", "SSE-KMS": "#8a6d1f", "SSE-C": "#3d8b4f"}


def share_chart(rows: list[dict], field: str) -> list[dict]:
    """Bars of a horizontal stacked chart (x and width in percent of 100) for a server-rendered SVG."""
    total = sum(row[field] for row in rows) or 1
    x, bars = 0.0, []
    for row in rows:
        width = 100.0 * row[field] / total
        bars.append({"label": row["mode"], "x": round(x, 2), "width": round(width, 2), "color": COLORS[row["mode"]],
                     "value": row[field]})  # fmt: skip
        x += width
    return bars


@console_page
def overview(request):
    require(request, "cos:GetService")
    account = account_of(request)
    objects = StoredObject.objects.filter(bucket__owner=account)
    by_mode = {row["sse"]: row for row in objects.values("sse").annotate(n=Count("id"), size=Sum("size_bytes"))}
    rows = []
    for mode, name in MODES:
        found = by_mode.get(mode, {})
        rows.append({"mode": name, "objects": found.get("n", 0), "bytes": found.get("size") or 0})
    context = {
        "bucket_count": Bucket.objects.filter(owner=account).count(),
        "object_count": sum(row["objects"] for row in rows),
        "byte_count": sum(row["bytes"] for row in rows),
        "rows": rows,
        "object_bars": share_chart(rows, "objects"),
        "byte_bars": share_chart(rows, "bytes"),
        "kms_activated": kms.is_activated(account),
        "running_jobs": Job.objects.filter(bucket__owner=account, status__in=[JobStatus.QUEUED, JobStatus.RUNNING]),
        "audit": AuditEvent.objects.filter(account=account)[:10],
    }
    return render(request, "console/overview.html", context)
