"""The object browser: folders, prefix search, pages; upload (JSON API, progress per file); detail; download;
delete; "Set encryption" on an object, a selection or a prefix (a bulk job)."""

from django.contrib import messages
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from buckets import jobs, service
from buckets.models import Bucket
from console.edge import download_response
from console.forms import SetEncryptionForm

from .buckets import key_choices
from .common import account_of, actor_of, console_page, redirect_back, require_cos

PAGE = 100


def _bucket(request, name: str, action: str, key: str = "") -> Bucket:
    bucket = get_object_or_404(Bucket.objects.select_related("owner"), name=name, owner=account_of(request))
    require_cos(request, action, bucket, key)
    return bucket


@console_page
def object_list(request, bucket: str):
    found = _bucket(request, bucket, "GetBucket")
    prefix, marker = request.GET.get("prefix", ""), request.GET.get("marker", "")
    search = request.GET.get("search", "")
    listing = service.list_objects(found, prefix=prefix + search, delimiter="" if search else "/", marker=marker,
                                   max_keys=PAGE)  # fmt: skip
    parts = [p for p in prefix.split("/") if p]
    crumbs = [{"name": part, "prefix": "/".join(parts[: i + 1]) + "/"} for i, part in enumerate(parts)]
    context = {
        "bucket": found,
        "prefix": prefix,
        "search": search,
        "listing": listing,
        "crumbs": crumbs,
        "keys": key_choices(found.owner, found.region),
        "form": SetEncryptionForm(initial={"prefix": prefix}),
    }
    return render(request, "console/objects/list.html", context)


@console_page
def object_detail(request, bucket: str, key: str):
    found = _bucket(request, bucket, "HeadObject", key)
    obj = service.get_object(found, key)
    context = {"bucket": found, "obj": obj, "keys": key_choices(found.owner, found.region)}
    return render(request, "console/objects/detail.html", context)


@console_page
def object_download(request, bucket: str, key: str):
    found = _bucket(request, bucket, "GetObject", key)
    read = service.read_object(found, key, {}, want_body=True, customer_key=None, via_api=False)
    return download_response(read.body, key, read.obj.content_type, read.obj.size_bytes)


@console_page
@require_POST
def object_delete(request, bucket: str):
    found = _bucket(request, bucket, "GetBucket")
    for key in request.POST.getlist("key"):
        require_cos(request, "DeleteObject", found, key)
        service.delete_object(found, key)
    messages.success(request, _("Deleted."))
    return redirect_back(request, "buckets")


@console_page
@require_POST
def set_encryption(request, bucket: str):
    """One object, a selection (keys) or a prefix: a bulk job, whose progress page the browser is sent to."""
    found = _bucket(request, bucket, "PutObject", request.POST.get("prefix", ""))
    form = SetEncryptionForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Choose an encryption."))
        return redirect("bucket-objects", bucket=bucket)
    data = form.cleaned_data
    keys = [k for k in request.POST.getlist("key") if k] or None
    for key in keys or []:
        require_cos(request, "PutObject", found, key)
    job = jobs.start_encryption_job(found, data["prefix"], data["sse"], data["kms_key_id"] or None, actor_of(request),
                                    keys=keys)  # fmt: skip
    return redirect("job", job_id=job.job_id)
