"""The object browser: folders (names relative to the current one, breadcrumbs, create, delete recursively as a
job), pages with counts and a page size, sorting, per-row actions (download, share, delete, details), previews in a
sandboxed frame, share links (presigned COS URLs), the overwrite check the upload panel asks, and "Set encryption"
on an object, a selection or a prefix (a bulk job); an object's versions, each downloaded, restored or deleted."""

import io
import os
from dataclasses import dataclass, field
from urllib.parse import quote, urlencode

from django.conf import settings
from django.contrib import messages
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.clickjacking import xframe_options_sameorigin
from django.views.decorators.http import require_POST

from buckets import errors, jobs, service, tagging
from buckets.api import auth as cos_auth
from buckets.models import Bucket, SseMode, StoredObject, Versioning
from console.edge import download_response, preview_response, preview_type
from console.forms import CreateFolderForm, SetEncryptionForm, SetEncryptionScopeForm, ShareForm
from roles.models import ApiKey, ApiKeyStatus

from .buckets import BUCKET_ACTIONS, key_choices, posted_tags, tag_rows
from .common import account_of, actor_of, console_page, may_cos, principal_of, redirect_back, require_cos

PAGE_SIZES = (20, 50, 100, 200)
DEFAULT_PAGE_SIZE = 50
SORTS = ("name", "size", "date")
PREVIEW_MAX_BYTES = 5 * 1024 * 1024  # larger objects are downloaded, not previewed


def _bucket(request, name: str, action: str, key: str = "") -> Bucket:
    bucket = get_object_or_404(Bucket.objects.select_related("owner"), name=name, owner=account_of(request))
    require_cos(request, action, bucket, key)
    return bucket


def _folder_of(key: str) -> str:
    """The folder a key (or a folder's own "name/" key) is in: "a/b/c.txt" → "a/b/", "a/b/" → "a/"."""
    stem = key.rstrip("/")
    return stem.rsplit("/", 1)[0] + "/" if "/" in stem else ""


def _missing(request, bucket: Bucket, key: str):
    """A missing object's page: 404, saying so, with a way back to its folder, and the versions the key still has
    (a deleted object of a versioned bucket is restored from them)."""
    folder = _folder_of(key)
    context = {"bucket": bucket, "key": key, "folder": folder, **_versions_context(request, bucket, key)}
    return render(request, "console/objects/missing.html", context, status=404)


@dataclass(frozen=True)
class VersionRow:
    """One version of a key (or a delete marker) on the object's page, with the controls it offers."""

    obj: StoredObject
    label: str
    readable: bool  # bytes the console can decrypt: not a delete marker, not SSE-C
    restorable: bool


def _versions_context(request, bucket: Bucket, key: str) -> dict:
    """The key's versions, newest first, when the bucket has ever been versioned and the gate lets them be listed."""
    allowed = may_cos(request, bucket, key, "GetBucketObjectVersions", "GetObject", "PutObject", "DeleteObject")
    if bucket.versioning == Versioning.OFF or not allowed["GetBucketObjectVersions"]:
        return {"versions": []}
    rows = []
    for version in service.key_versions(bucket, key):
        readable = not version.delete_marker and version.sse != SseMode.CUSTOMER
        rows.append(
            VersionRow(version, service.version_label(version.version_id), readable, readable and not version.is_latest)
        )
    return {"versions": rows, "can_version": allowed}


# What the controls of an object (or a folder's own "name/" key) need, as the views that answer them require.
OBJECT_ACTIONS = ("GetObject", "HeadObject", "PutObject", "DeleteObject")
DETAIL_ACTIONS = (*OBJECT_ACTIONS, "PutObjectTagging", "DeleteObjectTagging")


@dataclass(frozen=True)
class Row:
    """One entry of a folder's listing: a subfolder (`is_folder`) or an object, named relative to the folder, and
    which of its controls the principal may use (`can.DeleteObject`, …)."""

    name: str
    key: str
    is_folder: bool
    obj: StoredObject | None = None
    can: dict[str, bool] = field(default_factory=dict)


def _int_choice(value: str | None, choices: tuple[int, ...], default: int) -> int:
    return int(value) if value and value.isdecimal() and int(value) in choices else default


def _listing_context(request, found: Bucket, folder_form=None) -> dict:
    query = request.GET
    prefix, marker, search = query.get("prefix", ""), query.get("marker", ""), query.get("search", "")
    trail = query.getlist("trail")  # the markers of the pages before this one, for "Previous"
    size = _int_choice(query.get("size"), PAGE_SIZES, DEFAULT_PAGE_SIZE)
    sort = query.get("sort") if query.get("sort") in SORTS else "name"
    descending = query.get("order") == "desc"
    listing = service.list_objects(
        found, prefix=prefix + search, delimiter="" if search else "/", marker=marker, max_keys=size
    )
    folders = [
        Row(p[len(prefix) :], p, True, can=may_cos(request, found, p, "DeleteObject")) for p in listing.common_prefixes
    ]
    objects = [
        Row(o.key[len(prefix) :], o.key, False, o, may_cos(request, found, o.key, *OBJECT_ACTIONS))
        for o in listing.objects
        if o.key != prefix
    ]
    order = {"name": lambda r: r.name, "size": lambda r: r.obj.size_bytes, "date": lambda r: r.obj.last_modified}
    objects.sort(key=order[sort], reverse=descending)
    if sort == "name":
        folders.sort(key=lambda r: r.name, reverse=descending)
    parts = [p for p in prefix.split("/") if p]
    crumbs = [{"name": part, "prefix": "/".join(parts[: i + 1]) + "/"} for i, part in enumerate(parts)]
    base = {"prefix": prefix, "search": search, "size": size, "sort": sort, "order": "desc" if descending else "asc"}
    first = len(trail) * size + 1

    def link(**changes) -> str:
        params = {**base, **changes}
        pairs = [(k, v) for k, v in params.items() if k != "trail" and v not in ("", None)]
        pairs += [("trail", t) for t in params.get("trail", [])]
        return "?" + urlencode(pairs)

    sort_links = {
        name: link(sort=name, order="desc" if sort == name and not descending else "asc", marker="", trail=[])
        for name in SORTS
    }
    usage = service.prefix_usage(found, prefix)
    here = may_cos(request, found, prefix + "*", "PutObject", "DeleteObject")  # any object of this folder
    return {
        "bucket": found,
        "can": here,
        "can_bucket": may_cos(request, found, "", *BUCKET_ACTIONS),
        "can_folder": may_cos(request, found, prefix, "DeleteObject") if prefix else {},
        "selectable": any(here.values()),
        "prefix": prefix,
        "search": search,
        "rows": folders + objects,
        "listing": listing,
        "crumbs": crumbs,
        "keys": key_choices(found.owner, found.region),
        "form": SetEncryptionScopeForm(initial={"prefix": prefix, "scope": "selected"}),
        "folder_form": folder_form or CreateFolderForm(),
        "page": {
            "number": len(trail) + 1,
            "first": first,
            "last": first + len(folders) + len(objects) - 1,
            "size": size,
            "sizes": PAGE_SIZES,
            "next": link(marker=listing.next_marker, trail=[*trail, marker]) if listing.is_truncated else None,
            "previous": link(marker=trail[-1], trail=trail[:-1]) if trail else None,
        },
        "sort": {"by": sort, "descending": descending, "links": sort_links},
        "usage": usage,
        "parent": _folder_of(prefix) if prefix else None,
        "has_parent": bool(prefix),
    }


@console_page
def object_list(request, bucket: str):
    found = _bucket(request, bucket, "GetBucket")
    return render(request, "console/objects/list.html", _listing_context(request, found))


@console_page
@require_POST
def create_folder(request, bucket: str):
    """A zero-byte object named `<folder>/`, as the COS console makes."""
    prefix = request.POST.get("prefix", "")
    found = _bucket(request, bucket, "GetBucket")
    form = CreateFolderForm(request.POST)
    if form.is_valid():
        key = prefix + form.cleaned_data["name"] + "/"
        require_cos(request, "PutObject", found, key)
        if service.prefix_usage(found, key).objects:
            form.add_error("name", _("A folder of that name is already here."))
        else:
            try:
                service.validate_key(key)
            except errors.KeyTooLong:
                form.add_error("name", _("The folder's full name is too long: keys are at most 850 bytes."))
            else:
                service.put_object(found, key, io.BytesIO(b""), 0, service.WriteRequest(via_api=False))
                messages.success(request, _("Folder %(name)s created.") % {"name": form.cleaned_data["name"] + "/"})
                return redirect(reverse_list(bucket, prefix))
    request.GET = request.GET.copy()
    request.GET["prefix"] = prefix
    return render(request, "console/objects/list.html", _listing_context(request, found, folder_form=form), status=400)


def reverse_list(bucket: str, prefix: str) -> str:
    url = reverse("bucket-objects", args=[bucket])
    return f"{url}?{urlencode({'prefix': prefix})}" if prefix else url


@console_page
def delete_folder(request, bucket: str):
    """Confirm with what the folder holds, then delete it recursively as a job; the browser follows its progress."""
    prefix = request.GET.get("prefix") or request.POST.get("prefix", "")
    found = _bucket(request, bucket, "GetBucket")
    if not prefix.endswith("/"):
        raise Http404("not a folder")
    require_cos(request, "DeleteObject", found, prefix)
    if request.method == "POST":
        job = jobs.start_delete_prefix_job(found, prefix, actor_of(request))
        return redirect("job", job_id=job.job_id)
    context = {
        "bucket": found,
        "prefix": prefix,
        "usage": service.prefix_usage(found, prefix),
        "parent": _folder_of(prefix),
    }
    return render(request, "console/objects/delete_folder.html", context)


def _object_or_none(found: Bucket, key: str) -> StoredObject | None:
    try:
        return service.get_object(found, key)
    except errors.NoSuchKey:
        return None


@console_page
def object_detail(request, bucket: str, key: str):
    found = _bucket(request, bucket, "HeadObject", key)
    obj = _object_or_none(found, key)
    if obj is None:
        return _missing(request, found, key)
    context = {
        "bucket": found,
        "obj": obj,
        "name": obj.key.rstrip("/").rsplit("/", 1)[-1],
        "folder": _folder_of(obj.key),
        "keys": key_choices(found.owner, found.region),
        "previewable": obj.sse != SseMode.CUSTOMER
        and obj.size_bytes <= PREVIEW_MAX_BYTES
        and preview_type(obj.content_type) is not None,
        "is_image": (preview_type(obj.content_type) or "").startswith("image/"),
        "can": may_cos(request, found, obj.key, *DETAIL_ACTIONS),
        "tag_rows": tag_rows(obj.tags),
        "version_label": service.version_label(obj.version_id),
        **_versions_context(request, found, obj.key),
    }
    return render(request, "console/objects/detail.html", context)


def _version_posted(source) -> str | None:
    try:
        return service.parse_version_id(source.get("version", ""))
    except errors.CosError:
        return None


@console_page
def version_download(request, bucket: str, key: str):
    """One version of the object, downloaded (GET Object with versionId)."""
    found = _bucket(request, bucket, "GetObject", key)
    version_id = _version_posted(request.GET)
    if version_id is None:
        raise Http404("no such version")
    try:
        read = service.read_object(
            found, key, {}, want_body=True, customer_key=None, via_api=False, version_id=version_id
        )
    except (errors.NoSuchVersion, errors.MethodNotAllowed):
        raise Http404("no such version") from None
    return download_response(read.body, key, read.obj.content_type, read.obj.size_bytes)


@console_page
@require_POST
def object_version(request, bucket: str, key: str):
    """Restore a version as the current object (a copy of it: a new version), or delete one for good."""
    action = request.POST.get("action")
    if action not in ("restore", "delete"):
        messages.error(request, _("Choose to restore or to delete the version."))
        return redirect("object", bucket=bucket, key=key)
    found = _bucket(request, bucket, "PutObject" if action == "restore" else "DeleteObject", key)
    version_id = _version_posted(request.POST)
    if version_id is None:
        messages.error(request, _("There is no such version of this object."))
    elif action == "restore":
        require_cos(request, "GetObject", found, key)
        try:
            service.restore_version(found, key, version_id, via_api=False)
        except errors.CosError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, _("The version was restored: it is the current object again."))
    else:
        service.delete_object(found, key, version_id=version_id)
        messages.success(request, _("The version was deleted for good."))
    return redirect("object", bucket=bucket, key=key)


@console_page
@require_POST
def object_tags(request, bucket: str, key: str):
    """Replace the object's tags with the form's rows (none left: delete them), as PUT/DELETE Object tagging; a
    refusal is an error message back on the object's page."""
    pairs = posted_tags(request)
    found = _bucket(request, bucket, "PutObjectTagging" if pairs else "DeleteObjectTagging", key)
    obj = service.get_object(found, key)
    try:
        tags = tagging.validate_tags(pairs, tagging.MAX_OBJECT_TAGS)
    except errors.CosError as exc:
        messages.error(request, exc.message)
    else:
        tagging.set_object_tags(obj, tags)
        messages.success(request, _("Tags saved."))
    return redirect("object", bucket=bucket, key=key)


@console_page
def object_download(request, bucket: str, key: str):
    found = _bucket(request, bucket, "GetObject", key)
    if _object_or_none(found, key) is None:
        return _missing(request, found, key)
    read = service.read_object(found, key, {}, want_body=True, customer_key=None, via_api=False)
    return download_response(read.body, key, read.obj.content_type, read.obj.size_bytes)


@console_page
@xframe_options_sameorigin
def object_preview(request, bucket: str, key: str):
    """The object inline, for the detail page's sandboxed frame: raster images and plain text only."""
    found = _bucket(request, bucket, "GetObject", key)
    obj = _object_or_none(found, key)
    if obj is None:
        return _missing(request, found, key)
    if obj.sse == SseMode.CUSTOMER or obj.size_bytes > PREVIEW_MAX_BYTES or preview_type(obj.content_type) is None:
        raise Http404("not previewable")
    read = service.read_object(found, key, {}, want_body=True, customer_key=None, via_api=False)
    return preview_response(read.body, read.obj.content_type, read.obj.size_bytes)


def _signing_key(request) -> ApiKey | None:
    """The signed-in principal's own active access key: the root account's, or the sub-user's."""
    principal = principal_of(request)
    if principal.api_key is not None:
        return principal.api_key if principal.api_key.is_active else None
    keys = ApiKey.objects.filter(account=principal.account, user=principal.sub_user, status=ApiKeyStatus.ACTIVE)
    return keys.order_by("created_at", "id").first()


def share_url(request, bucket: Bucket, key: str, api_key: ApiKey, expires: int) -> str:
    """A presigned GET of the object on the COS endpoint <bucket>.cos.<region>.<KINKO_COS_DOMAIN>."""
    port = request.get_port()
    default_port = "443" if request.is_secure() else "80"
    host = f"{bucket.name}.cos.{bucket.region}.{settings.KINKO_COS_DOMAIN}"
    if port and port != default_port:
        host += f":{port}"
    query = cos_auth.presigned_query(api_key.secret_id, api_key.secret_key(), "get", host, key, expires)
    scheme = "https" if request.is_secure() else "http"
    return f"{scheme}://{host}/{quote(key, safe='/-_.~')}?{query}"


@console_page
def object_share(request, bucket: str, key: str):
    """A share link: a presigned URL valid for the chosen time, signed with the signed-in principal's access key."""
    found = _bucket(request, bucket, "GetObject", key)
    obj = _object_or_none(found, key)
    if obj is None:
        return _missing(request, found, key)
    api_key = _signing_key(request)
    form = ShareForm(request.POST or None)
    url = None
    if request.method == "POST" and obj.sse != SseMode.CUSTOMER and api_key is not None and form.is_valid():
        url = share_url(request, found, key, api_key, form.cleaned_data["expires"])
    context = {
        "bucket": found,
        "obj": obj,
        "form": form,
        "url": url,
        "api_key": api_key,
        "folder": _folder_of(key),
        "is_sub_user": principal_of(request).sub_user is not None,
        "domain": settings.KINKO_COS_DOMAIN,
    }
    return render(request, "console/objects/share.html", context, status=400 if form.errors else 200)


@console_page
@require_POST
def object_delete(request, bucket: str):
    found = _bucket(request, bucket, "GetBucket")
    keys = [k for k in request.POST.getlist("key") if k]
    if not keys:
        messages.error(request, _("Nothing was deleted: select at least one object first."))
        return redirect_back(request, "buckets")
    for key in keys:
        require_cos(request, "DeleteObject", found, key)
    for key in keys:
        service.delete_object(found, key)
    count = len(keys)
    messages.success(
        request, ngettext("Deleted %(count)d object.", "Deleted %(count)d objects.", count) % {"count": count}
    )
    return redirect_back(request, "buckets")


@console_page
@require_POST
def set_encryption(request, bucket: str):
    """One object, a selection (keys) or a prefix: a bulk job, whose progress page the browser is sent to. Only a
    form that says scope=prefix covers the prefix; otherwise exactly the keys sent, and none sent is an error."""
    found = get_object_or_404(Bucket.objects.select_related("owner"), name=bucket, owner=account_of(request))
    form = SetEncryptionForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Choose an encryption: SSE-COS or SSE-KMS."))
        return redirect_back(request, "bucket-objects", bucket=bucket)
    data = form.cleaned_data
    if request.POST.get("scope") == "prefix":
        keys, prefix = None, data["prefix"]
        require_cos(request, "PutObject", found, prefix)
    else:
        keys = [k for k in request.POST.getlist("key") if k]
        if not keys:
            messages.error(
                request, _("Nothing was changed: select at least one object, or choose every object under the prefix.")
            )
            return redirect_back(request, "bucket-objects", bucket=bucket)
        for key in keys:
            require_cos(request, "PutObject", found, key)
        prefix = _folder_of(os.path.commonprefix(keys) + "x")  # the folder holding every key
    job = jobs.start_encryption_job(
        found, prefix, data["sse"], data["kms_key_id"] or None, actor_of(request), keys=keys
    )
    return redirect("job", job_id=job.job_id)
