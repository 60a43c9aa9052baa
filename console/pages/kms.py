"""KMS pages: activation, keys, key detail (state, rotation, deletion with its impact, usage, audit), import."""

import base64
import datetime

from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from buckets import jobs
from buckets.models import Bucket
from console.forms import DeletionForm, ImportForm, KeyForm, RotationForm
from keys import service as kms
from keys.models import AuditEvent
from roles import policy

from .common import account_of, actor_of, console_page, require


def caller(request, region: str | None = None) -> kms.KmsCaller:
    return kms.KmsCaller(account_of(request), actor_of(request), region)


@console_page
def kms_home(request):
    account = account_of(request)
    if request.method == "POST":
        require(request, "kms:CreateKey")
        kms.activate_kms(account)
        messages.success(request, _("The KMS is activated: a default key was created in each KMS region."))
        return redirect("kms")
    require(request, "kms:ListKeyDetail")
    activated = kms.is_activated(account)
    form = KeyForm(request.POST or None)
    keys = []
    if activated:
        for region in kms.settings.KINKO_KMS_REGIONS:
            found, _total = kms.list_key_detail(caller(request, region), kms.KeyFilter(limit=200, usage="ALL"))
            keys += found
    return render(request, "console/kms/home.html", {"activated": activated, "keys": keys, "form": form})


@console_page
@require_POST
def key_create(request):
    require(request, "kms:CreateKey")
    form = KeyForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("The key was not created: check the alias."))
        return redirect("kms")
    data = form.cleaned_data
    key = kms.create_key(caller(request, data["region"]), data["alias"], data["description"],
                         key_type=1 if data["origin"] == "TENCENT_KMS" else 2)  # fmt: skip
    messages.success(request, _("Key %(alias)s created.") % {"alias": key.alias})
    return redirect("key", key_id=key.key_id)


def _key(request, key_id: str, action: str):
    key = kms.get_key(caller(request), str(key_id), any_region=True)
    require(request, f"kms:{action}", policy.kms_resource(key.region, key.account.uin, key.creator_uin,
                                                          str(key.key_id)))  # fmt: skip
    return key, caller(request, key.region)


@console_page
def key_detail(request, key_id):
    key, _caller = _key(request, key_id, "DescribeKey")
    impact = jobs.objects_using_kms_key(key.account, str(key.key_id))
    context = {
        "key": key, "impact": impact,
        "bucket_defaults": Bucket.objects.filter(owner=key.account, default_kms_key_id=str(key.key_id)),
        "rotation_form": RotationForm(initial={"rotation_enabled": key.rotation_enabled,
                                               "rotate_days": key.rotate_days}),
        "deletion_form": DeletionForm(),
        "usage": key.monthly_usage.order_by("-month")[:12],
        "audit": AuditEvent.objects.filter(account=key.account, key_id=str(key.key_id))[:50],
        "versions": key.materials.count(),
    }  # fmt: skip
    return render(request, "console/kms/detail.html", context)


STATE_ACTIONS = {
    "enable": ("EnableKey", kms.enable_key), "disable": ("DisableKey", kms.disable_key),
    "cancel-deletion": ("CancelKeyDeletion", kms.cancel_key_deletion), "rotate": ("RotateKey", kms.rotate_key),
    "archive": ("ArchiveKey", kms.archive_key), "cancel-archive": ("CancelKeyArchive", kms.cancel_key_archive),
    "delete-imported-material": ("DeleteImportedKeyMaterial", kms.delete_imported_key_material),
    "rotation": ("EnableKeyRotation", None), "schedule-deletion": ("ScheduleKeyDeletion", None),
}  # fmt: skip


@console_page
@require_POST
def key_action(request, key_id, operation: str):
    if operation not in STATE_ACTIONS:
        raise Http404("No such key action.")
    action_name, run = STATE_ACTIONS[operation]
    form = RotationForm(request.POST)
    if operation == "rotation" and form.is_valid() and not form.cleaned_data["rotation_enabled"]:
        action_name = "DisableKeyRotation"
    key, key_caller = _key(request, key_id, action_name)
    if operation == "rotation":
        if form.is_valid() and form.cleaned_data["rotation_enabled"]:
            kms.enable_key_rotation(key_caller, str(key.key_id), form.cleaned_data["rotate_days"])
        elif form.is_valid():
            kms.disable_key_rotation(key_caller, str(key.key_id))
    elif operation == "schedule-deletion":
        form = DeletionForm(request.POST)
        if form.is_valid():
            kms.schedule_key_deletion(key_caller, str(key.key_id), form.cleaned_data["pending_window_in_days"])
    else:
        run(key_caller, str(key.key_id))
    messages.success(request, _("Done."))
    return redirect("key", key_id=key.key_id)


@console_page
def key_import(request, key_id):
    """The import wizard: 1. wrapping parameters (public key + token, 24 h), 2. upload the wrapped material."""
    importing = request.method == "POST" and "encrypted_key_material" in request.POST
    key, key_caller = _key(request, key_id, "ImportKeyMaterial" if importing else "GetParametersForImport")
    if importing:
        form = ImportForm(request.POST)
        if form.is_valid():
            valid_to = form.cleaned_data["valid_to"]
            kms.import_key_material(key_caller, str(key.key_id), form.cleaned_data["import_token"],
                                    form.cleaned_data["encrypted_key_material"].strip(),
                                    int(valid_to.timestamp()) if valid_to else 0)  # fmt: skip
            messages.success(request, _("Key material imported: the key is enabled."))
            return redirect("key", key_id=key.key_id)
        return render(request, "console/kms/import.html", {"key": key, "form": form, "step": 2})
    if request.method == "POST":
        algorithm = request.POST.get("wrapping_algorithm", "RSAES_OAEP_SHA_256")
        found = kms.get_parameters_for_import(key_caller, str(key.key_id), algorithm, "RSA_2048")
        form = ImportForm(initial={"import_token": found.token})
        context = {
            "key": key,
            "form": form,
            "step": 2,
            "algorithm": algorithm,
            "token": found.token,
            "public_key": base64.b64encode(found.public_key_der).decode(),
            "valid_to": found.valid_to,
        }
        return render(request, "console/kms/import.html", context)
    return render(request, "console/kms/import.html", {"key": key, "step": 1,
                                                        "now": datetime.datetime.now(datetime.UTC)})  # fmt: skip
