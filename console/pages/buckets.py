"""Bucket pages: list, create, settings (default encryption, ACL, versioning, tags, CORS, bucket policy), delete."""

import json

from django.conf import settings
from django.contrib import messages
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from buckets import acl, cors, errors, service, sse, tagging
from buckets.models import Bucket, Versioning
from console.forms import BucketEncryptionForm, BucketForm
from keys.models import KeyState, MasterKey
from roles import policy

from .common import account_of, console_page, may, may_cos, require, require_cos

# What a bucket's links need, as the pages they open require: its objects, its settings, its deletion.
BUCKET_ACTIONS = ("GetBucket", "HeadBucket", "DeleteBucket")
SETTINGS_ACTIONS = (
    "PutBucketEncryption",
    "DeleteBucketEncryption",
    "PutBucketACL",
    "DeleteBucket",
    "GetBucketTagging",
    "PutBucketTagging",
    "DeleteBucketTagging",
    "PutBucketCORS",
    "DeleteBucketCORS",
    "PutBucketPolicy",
    "DeleteBucketPolicy",
    "PutBucketVersioning",
)
BLANK_TAG_ROWS = 3  # empty key/value rows under a form's tags, for new ones
BLANK_CORS_RULE = {"id": "", "origins": [], "methods": [], "headers": [], "expose": [], "max_age": None}
CORS_LISTS = ("origins", "headers", "expose")  # a rule's fields typed one per line


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
    found = get_object_or_404(Bucket.objects.select_related("owner"), name=bucket, owner=account_of(request))
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
    return _settings_page(request, found, form)


def tag_rows(tags: dict[str, str] | list[tuple[str, str]]) -> list[tuple[str, str]]:
    """A tags form's rows: the tags, then BLANK_TAG_ROWS empty ones."""
    pairs = list(tags.items()) if isinstance(tags, dict) else list(tags)
    return pairs + [("", "")] * BLANK_TAG_ROWS


def posted_tags(request) -> list[tuple[str, str]]:
    """The (key, value) rows of a tags form, rows left empty left out."""
    rows = zip(request.POST.getlist("tag_key"), request.POST.getlist("tag_value"), strict=False)
    return [(key, value) for key, value in rows if key or value]


def _settings_page(request, found: Bucket, form: BucketEncryptionForm, status: int = 200, **typed):
    """The settings page; after a refused tags or policy form, `typed` holds what was typed and the refusal."""
    context = {
        "bucket": found,
        "form": form,
        "keys": key_choices(found.owner, found.region),
        "acl": acl.canned_name(found.acl, is_bucket=True),
        "can": may_cos(request, found, "", *SETTINGS_ACTIONS),
        "tag_rows": tag_rows(found.tags),
        "policy_text": json.dumps(found.policy, indent=2) if found.policy else "",
        "cors_rules": [*(found.cors or []), BLANK_CORS_RULE],
        "cors_methods": cors.METHODS,
        **typed,
    }
    return render(request, "console/buckets/settings.html", context, status=400 if form.errors else status)


def _changed_bucket(request, bucket: str, action: str) -> Bucket:
    """The bucket a settings form changes, once the gate allowed the COS `action` on it."""
    found = get_object_or_404(Bucket.objects.select_related("owner"), name=bucket, owner=account_of(request))
    require_cos(request, action, found)
    return found


def _refused_change(request, found: Bucket, **typed):
    """The settings page again, 400, with what was typed into the refused form and why (`typed`)."""
    form = BucketEncryptionForm(initial={"encryption": found.default_sse, "kms_key_id": found.default_kms_key_id})
    return _settings_page(request, found, form, 400, **typed)


@console_page
@require_POST
def bucket_tags(request, bucket: str):
    """Replace the bucket's tags with the form's rows (none left: delete them), as PUT/DELETE Bucket tagging."""
    pairs = posted_tags(request)
    found = _changed_bucket(request, bucket, "PutBucketTagging" if pairs else "DeleteBucketTagging")
    try:
        tags = tagging.validate_tags(pairs, tagging.MAX_BUCKET_TAGS)
    except errors.CosError as exc:
        return _refused_change(request, found, tag_rows=tag_rows(pairs), tags_error=exc.message)
    tagging.set_bucket_tags(found, tags)
    messages.success(request, _("Tags saved."))
    return redirect("bucket-settings", bucket=bucket)


def posted_cors_rules(request) -> list[dict]:
    """The rules of the CORS form (fields `cors-<n>-<name>`), rules left empty left out; the domain's rule shape
    (buckets.cors), `max_age` as typed until the domain checks it."""
    count = request.POST.get("cors_rules", "")
    rules = []
    for n in range(min(int(count), cors.MAX_RULES + 1) if count.isdecimal() else 0):
        field = f"cors-{n}-"
        rule = {name: request.POST.get(field + name, "").split() for name in CORS_LISTS}
        rule["id"] = request.POST.get(field + "id", "").strip()
        rule["methods"] = request.POST.getlist(field + "methods")
        rule["max_age"] = request.POST.get(field + "max_age", "").strip() or None
        if rule["origins"] or rule["methods"] or rule["id"]:
            rules.append(rule)
    return rules


@console_page
@require_POST
def bucket_cors(request, bucket: str):
    """Replace the bucket's CORS rules with the form's (none left: delete them), as PUT/DELETE Bucket cors."""
    rules = posted_cors_rules(request)
    found = _changed_bucket(request, bucket, "PutBucketCORS" if rules else "DeleteBucketCORS")
    try:
        for rule in rules:
            if rule["max_age"] is not None and not rule["max_age"].isdecimal():
                raise errors.InvalidArgument("MaxAgeSeconds must be a non-negative integer.")
            rule["max_age"] = int(rule["max_age"]) if rule["max_age"] is not None else None
        cors.set_bucket_cors(found, rules or None)
    except errors.CosError as exc:
        return _refused_change(request, found, cors_rules=[*rules, BLANK_CORS_RULE], cors_error=exc.message)
    messages.success(request, _("CORS rules saved.") if rules else _("CORS rules deleted."))
    return redirect("bucket-settings", bucket=bucket)


@console_page
@require_POST
def bucket_policy(request, bucket: str):
    """Set the bucket policy to the typed JSON document (an empty field deletes it), as PUT/DELETE Bucket policy."""
    text = request.POST.get("policy", "")
    if not text.strip():
        service.set_bucket_policy(_changed_bucket(request, bucket, "DeleteBucketPolicy"), None)
        messages.success(request, _("Bucket policy deleted."))
        return redirect("bucket-settings", bucket=bucket)
    found = _changed_bucket(request, bucket, "PutBucketPolicy")
    try:
        document = policy.parse_bucket_policy(text, found.name)
    except policy.PolicySyntaxError as exc:
        return _refused_change(request, found, policy_text=text, policy_error=str(exc))
    service.set_bucket_policy(found, document)
    messages.success(request, _("Bucket policy saved."))
    return redirect("bucket-settings", bucket=bucket)


@console_page
@require_POST
def bucket_versioning(request, bucket: str):
    """Enable or suspend versioning, as PUT Bucket versioning."""
    found = _changed_bucket(request, bucket, "PutBucketVersioning")
    try:
        service.set_bucket_versioning(found, request.POST.get("status", ""))
    except errors.CosError as exc:
        messages.error(request, exc.message)
    else:
        enabled = found.versioning == Versioning.ENABLED
        messages.success(request, _("Versioning enabled.") if enabled else _("Versioning suspended."))
    return redirect("bucket-settings", bucket=bucket)


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
