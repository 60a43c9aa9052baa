"""Jobs (live progress through htmx polling, cancel) and the audit log (filters)."""

from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from buckets import jobs
from buckets.models import Job
from keys.models import AuditEvent

from .common import account_of, console_page, may_cos, require, require_cos


@console_page
def job_list(request):
    require(request, "cos:GetService")
    return render(
        request,
        "console/jobs/list.html",
        {"jobs": Job.objects.filter(bucket__owner=account_of(request)).select_related("bucket")[:100]},
    )


def _job(request, job_id, action: str = "GetBucket") -> Job:
    """The job, once the gate allowed `action` on its bucket (GetBucket), or on the prefix it re-encrypts
    (PutObject: what starting it needed, and what cancelling it needs)."""
    job = get_object_or_404(
        Job.objects.select_related("bucket__owner"), job_id=job_id, bucket__owner=account_of(request)
    )
    require_cos(request, action, job.bucket, _prefix(job) if action == "PutObject" else "")
    return job


def _prefix(job: Job) -> str:
    return job.params.get("prefix", "")


@console_page
def job_detail(request, job_id):
    job = _job(request, job_id)
    template = "console/jobs/progress.html" if request.headers.get("HX-Request") else "console/jobs/detail.html"
    errors = job.items.filter(state__in=["failed", "skipped"]).exclude(reason="")[:200]
    return render(
        request,
        template,
        {
            "job": job,
            "errors": errors,
            "percent": int(100 * (job.done + job.failed + job.skipped) / job.total) if job.total else 100,
            "may_cancel": may_cos(request, job.bucket, _prefix(job), "PutObject")["PutObject"],
        },
    )


@console_page
@require_POST
def job_cancel(request, job_id):
    jobs.cancel_job(_job(request, job_id, "PutObject"))
    return redirect("job", job_id=job_id)


@console_page
def audit_log(request):
    require(request, "kms:ListKeyDetail")
    events = AuditEvent.objects.filter(account=account_of(request))
    for field in ("key_id", "actor", "action"):
        if request.GET.get(field):
            events = events.filter(**{f"{field}__icontains": request.GET[field]})
    return render(request, "console/jobs/audit.html", {"events": events[:300], "filters": request.GET})
