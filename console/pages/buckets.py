"""Bucket pages: list, create, settings (default encryption, ACL), delete."""

from django.conf import settings
from django.contrib import messages
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from buckets import acl, errors, service, sse
from buckets.models import Bucket
from console.forms import BucketEncryptionForm, BucketForm
from keys.models import KeyState, MasterKey
from roles import policy

from .common import account_of, console_page, may, may_cos, require, require_cos

# What a bucket's links need, as the pages they open require: its objects, its settings, its deletion.
BUCKET_ACTIONS = ("GetBucket", "HeadBucket", "DeleteBucket")
SETTINGS_ACTIONS = ("PutBucketEncryption", "DeleteBucketEncryption", "PutBucketACL", "DeleteBucket")


def key_choices(account, region: str | None = None) -> list[MasterKey]:
    keys = MasterKey.objects.live().filter(account=account, state=KeyState.ENABLED)
    return list(keys.filter(region=region) if region else keys)


@console_page
def bucket_list(request):
    require(request, "cos:GetService")
    account = account_of(request)
    form = BucketForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        name = f"{data['name']}-{account.appid}"
        require(request, "cos:PutBucket", policy.cos_resource(data["region"], account.appid, name))
        try:
            service.create_bucket(
                account,
                name,
                data["region"],
                acl.canned_grants(data["acl"], account.owner_id, acl.BUCKET_CANNED),
                data["encryption"] or "",
                data["kms_key_id"] or "",
            )
        except errors.InvalidBucketName:
            form.add_error("name", _("Use 1 to 50 lowercase letters, digits and '-', not starting or ending with '-'."))
        except (errors.BucketAlreadyExists, errors.BucketAlreadyOwnedByYou):
            form.add_error("name", _("The name %(name)s is taken: choose another.") % {"name": name})
        else:
            messages.success(request, _("Bucket %(name)s created.") % {"name": name})
            return redirect("bucket-objects", bucket=name)
    buckets = Bucket.objects.filter(owner=account).order_by("name").select_related("owner")
    context = {
        "buckets": [(found, may_cos(request, found, "", *BUCKET_ACTIONS)) for found in buckets],
        "may_create": any(
            may(request, "cos:PutBucket", policy.cos_resource(region, account.appid, "*"))
            for region in settings.KINKO_REGIONS
        ),
        "form": form,
        "keys": key_choices(account),
        "appid": account.appid,
    }
    return render(request, "console/buckets/list.html", context, status=400 if form.errors else 200)


@console_page
def bucket_settings(request, bucket: str):
    account = account_of(request)
    found = get_object_or_404(Bucket.objects.select_related("owner"), name=bucket, owner=account)
    if request.method != "POST":
        require_cos(request, "HeadBucket", found)
    elif request.POST.get("encryption"):
        require_cos(request, "PutBucketEncryption", found)
    else:
        require_cos(request, "DeleteBucketEncryption", found)
    form = BucketEncryptionForm(
        request.POST or None, initial={"encryption": found.default_sse, "kms_key_id": found.default_kms_key_id}
    )
    if request.method == "POST" and form.is_valid():
        try:
            if form.cleaned_data["encryption"]:
                sse.set_bucket_encryption(found, form.cleaned_data["encryption"], form.cleaned_data["kms_key_id"] or "")
            else:
                sse.delete_bucket_encryption(found)
        except errors.CosError as exc:
            form.add_error("kms_key_id", exc.message)
        else:
            messages.success(request, _("Default encryption saved."))
            return redirect("bucket-settings", bucket=bucket)
    context = {
        "bucket": found,
        "form": form,
        "keys": key_choices(account, found.region),
        "acl": acl.canned_name(found.acl, is_bucket=True),
        "can": may_cos(request, found, "", *SETTINGS_ACTIONS),
    }
    return render(request, "console/buckets/settings.html", context, status=400 if form.errors else 200)


@console_page
@require_POST
def bucket_acl(request, bucket: str):
    account = account_of(request)
    found = get_object_or_404(Bucket, name=bucket, owner=account)
    require_cos(request, "PutBucketACL", found)
    service.set_bucket_acl(found, acl.canned_grants(request.POST.get("acl", ""), account.owner_id, acl.BUCKET_CANNED))
    messages.success(request, _("Access saved."))
    return redirect("bucket-settings", bucket=bucket)


@console_page
def bucket_delete(request, bucket: str):
    found = get_object_or_404(Bucket, name=bucket, owner=account_of(request))
    require_cos(request, "DeleteBucket", found)
    usage = service.prefix_usage(found, "")
    if request.method == "POST" and not usage.objects:
        service.delete_bucket(found)
        messages.success(request, _("Bucket %(name)s deleted.") % {"name": bucket})
        return redirect("buckets")
    status = 409 if request.method == "POST" else 200
    return render(request, "console/buckets/delete.html", {"bucket": found, "usage": usage}, status=status)
