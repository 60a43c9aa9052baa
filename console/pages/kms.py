"""KMS pages: activation, keys, key detail (state, rotation, tags, deletion with its impact, usage, audit), import.

Looking at a page is not a KMS call: the pages read keys without the audited service functions, so only changes
and key use reach the audit trail (with the console user and the request id).
"""

import base64
import datetime
from functools import wraps

from django import forms
from django.conf import settings
from django.contrib import messages
from django.http import Http404, HttpRequest
from django.shortcuts import redirect, render
from django.utils import formats, timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from buckets import jobs
from buckets.models import Bucket
from console.edge import download_response
from console.forms import (
    DeletionForm,
    DescriptionForm,
    ImportForm,
    ImportParametersForm,
    KeyForm,
    RotationForm,
    TagForm,
)
from console.templatetags.labels import label
from keys import errors as e
from keys import service as kms
from keys.models import AuditEvent, KeyOrigin, KeyState, MasterKey
from roles import policy

from .common import account_of, actor_of, console_page, may_on, refused, request_id_of, require

# Refusals of the KMS, as sentences a person can act on.
SENTENCES = {
    e.KeyNotFound: gettext_lazy("There is no such key in this account. It may have been deleted."),
    e.InvalidKeyId: gettext_lazy("There is no such key in this account. It may have been deleted."),
    e.ServiceNotEnabled: gettext_lazy("The KMS is not activated yet: activate it on the KMS page."),
    e.KeyDisabled: gettext_lazy("This key is disabled: enable it first."),
    e.KeyPendingDelete: gettext_lazy("This key is pending deletion: cancel the deletion first."),
    e.KeyStateNotSupported: gettext_lazy("The key's present state does not allow this."),
    e.KeyShouldBeDisabled: gettext_lazy("Disable the key before scheduling its deletion."),
    e.KeyUsedByCloudProduct: gettext_lazy(
        "This key is bound to a cloud resource (such as a bucket's default encryption): remove that first."
    ),
    e.AliasAlreadyExists: gettext_lazy("A key with this alias already exists in this region: choose another alias."),
    e.InvalidAlias: gettext_lazy(
        "An alias is 1 to 60 letters, digits, '-' and '_', starts with a letter or digit, and does not start "
        "with 'kms-'."
    ),
    e.InvalidDescription: gettext_lazy("The description is at most 1024 bytes (a Japanese character is 3)."),
    e.InvalidRotateDays: gettext_lazy("Rotation can be every 7 to 365 days."),
    e.InvalidPendingWindow: gettext_lazy("A key waits 7 to 30 days before it is deleted."),
    e.ExternalKeyCannotRotate: gettext_lazy("Keys with imported material cannot rotate."),
    e.RotateNotSupported: gettext_lazy("Turn on automatic rotation before rotating on demand."),
    e.RotateRateLimited: gettext_lazy("A key can be rotated on demand once every 24 hours: try again later."),
    e.NotExternalKey: gettext_lazy("Only keys created for imported (external) material take imported material."),
    e.NotUserCreatedKey: gettext_lazy("This key was created by a cloud product: it cannot be changed here."),
    e.TokenExpired: gettext_lazy(
        "These import parameters have expired or were used up: get new ones (step 1) and wrap the material again."
    ),
    e.DecryptMaterialError: gettext_lazy(
        "The wrapped material could not be unwrapped: wrap it with this import's public key and the algorithm "
        "chosen in step 1."
    ),
    e.InvalidImportKeyMaterial: gettext_lazy("The key material must be exactly 32 bytes before it is wrapped."),
    e.MaterialNotMatch: gettext_lazy(
        "This key was imported with different material before: import the same 32 bytes again."
    ),
    e.InvalidValidTo: gettext_lazy("The expiry must be in the future and before 2038-01-19."),
    e.InvalidTagKey: gettext_lazy("A tag key is 1 to 127 characters, without spaces at either end."),
    e.InvalidTagValue: gettext_lazy("A tag value is at most 255 characters."),
    e.TagLimitExceeded: gettext_lazy("A key has at most 50 tags: remove one first."),
    e.TagNotFound: gettext_lazy("The key has no such tag."),
    e.KeyLimitExceeded: gettext_lazy("A region holds at most 200 keys: schedule unused keys for deletion first."),
    e.UnsupportedRegion: gettext_lazy("The KMS is not offered in this region."),
}

# Refusals that belong to one field of the form that was sent.
FIELD_ERRORS = {
    e.InvalidAlias: "alias",
    e.AliasAlreadyExists: "alias",
    e.InvalidDescription: "description",
    e.InvalidRotateDays: "rotate_days",
    e.InvalidPendingWindow: "pending_window_in_days",
    e.InvalidTagKey: "tag_key",
    e.TagLimitExceeded: "tag_key",
    e.InvalidTagValue: "tag_value",
    e.InvalidValidTo: "valid_to",
}

# What a key page may offer, each control shown only when the gate allows its action on the key.
KEY_ACTIONS = (
    "EnableKey",
    "DisableKey",
    "ScheduleKeyDeletion",
    "CancelKeyDeletion",
    "EnableKeyRotation",
    "DisableKeyRotation",
    "RotateKey",
    "GetParametersForImport",
    "ImportKeyMaterial",
    "DeleteImportedKeyMaterial",
    "UpdateKeyDescription",
    "TagResource",
    "UntagResource",
)


def sentence(exc: e.KmsError) -> str:
    for kind, text in SENTENCES.items():
        if isinstance(exc, kind):
            return str(text)
    return exc.message


def caller(request: HttpRequest, region: str | None = None) -> kms.KmsCaller:
    return kms.KmsCaller(account_of(request), actor_of(request), region, request_id_of(request))


def kms_errors(view):
    """A KMS refusal as a sentence: a key that does not exist gets the console's page saying so (404), a KMS not
    yet activated the KMS page with its Activate button, a refused change a message on the key's page."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args, **kwargs):
        try:
            return view(request, *args, **kwargs)
        except (e.KeyNotFound, e.InvalidKeyId) as exc:
            return refused(request, exc, 404)
        except e.ServiceNotEnabled as exc:
            messages.error(request, sentence(exc))
            return redirect("kms")
        except e.KmsError as exc:
            if "key_id" not in kwargs:
                messages.error(request, sentence(exc))
                return redirect("kms")
            if isinstance(exc, e.KeyStateNotSupported):
                messages.error(request, _state_sentence(request, kwargs["key_id"]))
            else:
                messages.error(request, sentence(exc))
            return redirect("key", key_id=kwargs["key_id"])

    return wrapper


def _state_sentence(request: HttpRequest, key_id) -> str:
    """Why a key's state refused an operation, naming the state and what to do about it."""
    state = (
        MasterKey.objects.live().filter(account=account_of(request), key_id=key_id).values_list("state", flat=True)
    ).first()
    if state == KeyState.DISABLED:
        return str(SENTENCES[e.KeyDisabled])
    if state == KeyState.PENDING_DELETE:
        return str(SENTENCES[e.KeyPendingDelete])
    if state == KeyState.PENDING_IMPORT:
        return _("This key has no key material: import it first.")
    return _("The key is %(state)s: that does not allow this.") % {"state": label(state)}


def _form_error(form: forms.Form, exc: e.KmsError) -> bool:
    """Put a domain refusal next to the field it is about; False when it is about no field of this form."""
    for kind, field in FIELD_ERRORS.items():
        if isinstance(exc, kind) and field in form.fields:
            form.add_error(field, sentence(exc))
            return True
    return False


def _resource(key: MasterKey) -> str:
    return policy.kms_resource(key.region, key.account.uin, key.creator_uin, str(key.key_id))


def _key(request: HttpRequest, key_id, action: str) -> tuple[MasterKey, kms.KmsCaller]:
    key = kms.get_key(caller(request), str(key_id), any_region=True)
    require(request, f"kms:{action}", _resource(key))
    return key, caller(request, key.region)


# -- the key list ----------------------------------------------------------------------------------------------


@console_page
@kms_errors
def kms_home(request):
    account = account_of(request)
    if request.method == "POST":
        require(request, "kms:CreateKey")
        kms.activate_kms(account)
        messages.success(request, _("The KMS is activated: a default key was created in each KMS region."))
        return redirect("kms")
    require(request, "kms:ListKeyDetail")
    return _render_home(request, KeyForm())


def _render_home(request: HttpRequest, form: KeyForm, status: int = 200):
    account = account_of(request)
    activated = kms.is_activated(account)
    keys = []
    if activated:
        keys = list(
            MasterKey.objects.live()
            .filter(account=account, region__in=settings.KINKO_KMS_REGIONS)
            .order_by("-created_at", "-id")
        )
    context = {
        "activated": activated,
        "keys": keys,
        "form": form,
    }
    return render(request, "console/kms/home.html", context, status=status)


@console_page
@require_POST
@kms_errors
def key_create(request):
    require(request, "kms:CreateKey")
    form = KeyForm(request.POST)
    if not form.is_valid():
        return _render_home(request, form)
    data = form.cleaned_data
    key_type = 1 if data["origin"] == "TENCENT_KMS" else 2
    try:
        key = kms.create_key(caller(request, data["region"]), data["alias"], data["description"], key_type=key_type)
    except e.KmsError as exc:
        if _form_error(form, exc):
            return _render_home(request, form)
        raise
    messages.success(request, _("Key %(alias)s created.") % {"alias": key.alias})
    return redirect("key", key_id=key.key_id)


# -- one key ---------------------------------------------------------------------------------------------------


@console_page
@kms_errors
def key_detail(request, key_id):
    key, _caller = _key(request, key_id, "DescribeKey")
    return _render_detail(request, key)


def _render_detail(request: HttpRequest, key: MasterKey, bound: dict | None = None):
    now = timezone.now()
    last_rotated = key.last_rotated_at
    next_on_demand = last_rotated + kms.ROTATE_ON_DEMAND_INTERVAL if last_rotated else None
    forms_shown = {
        "rotation_form": RotationForm(
            initial={"rotation_enabled": key.rotation_enabled, "rotate_days": key.rotate_days}
        ),
        "deletion_form": DeletionForm(),
        "description_form": DescriptionForm(initial={"description": key.description}),
        "tag_form": TagForm(),
        **(bound or {}),
    }
    context = {
        "key": key,
        "impact": jobs.objects_using_kms_key(key.account, str(key.key_id)),
        "bucket_defaults": Bucket.objects.filter(owner=key.account, default_kms_key_id=str(key.key_id)),
        "usage": key.monthly_usage.order_by("-month")[:12],
        "audit": AuditEvent.objects.filter(account=key.account, key_id=str(key.key_id))[:50],
        "versions": key.materials.count(),
        "is_bound": key.bindings.exists(),
        "tags": sorted(key.tags, key=lambda tag: tag.get("TagKey", "")),
        "can": may_on(request, _resource(key), *(f"kms:{action}" for action in KEY_ACTIONS)),
        "may_rotate_now": (
            key.origin == KeyOrigin.TENCENT_KMS
            and key.state == KeyState.ENABLED
            and key.rotation_enabled
            and (next_on_demand is None or next_on_demand <= now)
        ),
        "next_on_demand": next_on_demand if next_on_demand and next_on_demand > now else None,
        "is_user_key": key.owner == "user",
        **forms_shown,
    }
    return render(request, "console/kms/detail.html", context)


DONE = {
    "enable": gettext_lazy("The key is enabled."),
    "disable": gettext_lazy("The key is disabled: nothing can encrypt or decrypt with it until it is enabled again."),
    "cancel-deletion": gettext_lazy("The deletion is cancelled: the key is disabled; enable it to use it again."),
    "rotate": gettext_lazy("The key material was rotated: new data uses the new version; older data still decrypts."),
    "archive": gettext_lazy("The key is archived: it only decrypts."),
    "cancel-archive": gettext_lazy("The key is no longer archived: it is enabled."),
    "delete-imported-material": gettext_lazy(
        "The imported key material is deleted: the key waits for the same material to be imported again."
    ),
}
FORM_ACTIONS = {
    "rotation": ("rotation_form", RotationForm),
    "schedule-deletion": ("deletion_form", DeletionForm),
    "description": ("description_form", DescriptionForm),
    "tag": ("tag_form", TagForm),
    "untag": ("untag_form", TagForm),
}


def _form_action_name(operation: str, request: HttpRequest) -> str:
    if operation == "rotation":
        enabling = forms.BooleanField(required=False).to_python(request.POST.get("rotation_enabled"))
        return "EnableKeyRotation" if enabling else "DisableKeyRotation"
    return {
        "schedule-deletion": "ScheduleKeyDeletion",
        "description": "UpdateKeyDescription",
        "tag": "TagResource",
        "untag": "UntagResource",
    }[operation]


def _run_form_action(key_caller: kms.KmsCaller, key: MasterKey, operation: str, data: dict) -> str:
    """The one domain call of a form on the key page; the message that says what it did."""
    key_id = str(key.key_id)
    if operation == "rotation" and data["rotation_enabled"]:
        kms.enable_key_rotation(key_caller, key_id, data["rotate_days"])
        return _("Automatic rotation is on: every %(days)d days.") % {"days": data["rotate_days"]}
    if operation == "rotation":
        kms.disable_key_rotation(key_caller, key_id)
        return _("Automatic rotation is off.")
    if operation == "schedule-deletion":
        scheduled = kms.schedule_key_deletion(key_caller, key_id, data["pending_window_in_days"])
        when = f"{formats.date_format(scheduled.deletion_date, 'DATETIME_FORMAT')} UTC"
        return _("The key will be deleted on %(date)s. Until then the deletion can be cancelled.") % {"date": when}
    if operation == "description":
        kms.update_key_description(key_caller, key_id, data["description"])
        return _("The description is saved.")
    if operation == "tag":
        kms.tag_key(key_caller, key_id, data["tag_key"], data["tag_value"])
        return _("Tag %(tag)s is saved.") % {"tag": data["tag_key"]}
    kms.untag_key(key_caller, key_id, data["tag_key"])
    return _("Tag %(tag)s is removed.") % {"tag": data["tag_key"]}


@console_page
@require_POST
@kms_errors
def key_action(request, key_id, operation: str):
    if operation in kms.KEY_CHANGES:
        action_name, run = kms.KEY_CHANGES[operation]
        key, key_caller = _key(request, key_id, action_name)
        run(key_caller, str(key.key_id))
        messages.success(request, DONE[operation])
        return redirect("key", key_id=key.key_id)
    if operation not in FORM_ACTIONS:
        raise Http404("No such key action.")
    form_name, form_class = FORM_ACTIONS[operation]
    key, key_caller = _key(request, key_id, _form_action_name(operation, request))
    form = form_class(request.POST)
    if form.is_valid():
        try:
            messages.success(request, _run_form_action(key_caller, key, operation, form.cleaned_data))
            return redirect("key", key_id=key.key_id)
        except e.KmsError as exc:
            if not _form_error(form, exc):
                raise
    if operation == "untag":  # a Remove button's hidden field, so no field on the page to show the error at
        messages.error(request, str(SENTENCES[e.TagNotFound]))
        return redirect("key", key_id=key.key_id)
    return _render_detail(request, key, {form_name: form})


# -- the import wizard -------------------------------------------------------------------------------------------

OPENSSL_PADDING = {
    "RSAES_OAEP_SHA_256": "-pkeyopt rsa_padding_mode:oaep -pkeyopt rsa_oaep_md:sha256 -pkeyopt rsa_mgf1_md:sha256",
    "RSAES_OAEP_SHA_1": "-pkeyopt rsa_padding_mode:oaep -pkeyopt rsa_oaep_md:sha1 -pkeyopt rsa_mgf1_md:sha1",
    "RSAES_PKCS1_V1_5": "-pkeyopt rsa_padding_mode:pkcs1",
}


def _file_names(key: MasterKey) -> dict[str, str]:
    return {
        "public_key": f"wrapping_public_key_{key.key_id}.pem",
        "token": f"import_token_{key.key_id}.txt",
        "material": "key_material.bin",
        "wrapped": f"wrapped_key_material_{key.key_id}.bin",
    }


def _openssl_commands(key: MasterKey, algorithm: str) -> list[str]:
    names = _file_names(key)
    return [
        f"openssl rand -out {names['material']} 32",
        f"openssl pkeyutl -encrypt -pubin -inkey {names['public_key']} -in {names['material']} "
        f"-out {names['wrapped']} {OPENSSL_PADDING[algorithm]}",
    ]


def _render_import(request: HttpRequest, key: MasterKey, step: int, **context):
    context = {"key": key, "step": step, "file_names": _file_names(key), **context}
    params = context.get("params")
    if params is not None:
        context["public_key_b64"] = base64.b64encode(params.public_key_der).decode()
        context["openssl_commands"] = _openssl_commands(key, params.algorithm)
    return render(request, "console/kms/import.html", context)


def _step_one(request: HttpRequest, key: MasterKey, algorithm: str | None = None, form=None):
    form = form or ImportParametersForm(initial={"wrapping_algorithm": algorithm or "RSAES_OAEP_SHA_256"})
    return _render_import(request, key, 1, parameters_form=form, now=datetime.datetime.now(datetime.UTC))


@console_page
@kms_errors
def key_import(request, key_id):
    """The import wizard: 1. the wrapping algorithm → a public key and token (24 h), 2. the wrapped material. A
    failure shows the same step again with what was entered; Back returns to step 1 with the algorithm chosen."""
    step = request.POST.get("step") if request.method == "POST" else None
    if step == "material":
        return _import_material(request, key_id)
    key, key_caller = _key(request, key_id, "GetParametersForImport")
    if key.origin != KeyOrigin.EXTERNAL:
        raise e.NotExternalKey()
    if step != "parameters":
        return _step_one(request, key, request.GET.get("algorithm"))
    form = ImportParametersForm(request.POST)
    if not form.is_valid():
        return _step_one(request, key, form=form)
    params = kms.get_parameters_for_import(
        key_caller, str(key.key_id), form.cleaned_data["wrapping_algorithm"], "RSA_2048"
    )
    return _render_import(request, key, 2, params=params, form=ImportForm(initial={"import_token": params.token}))


def _import_material(request: HttpRequest, key_id):
    key, key_caller = _key(request, key_id, "ImportKeyMaterial")
    form = ImportForm(request.POST, request.FILES)
    algorithm = request.POST.get("wrapping_algorithm")
    try:
        params = kms.import_parameters(key_caller, str(key.key_id), request.POST.get("import_token", ""))
    except e.TokenExpired as exc:
        messages.error(request, sentence(exc))
        return _step_one(request, key, algorithm)
    if form.is_valid():
        valid_to = form.cleaned_data["valid_to"]
        try:
            kms.import_key_material(
                key_caller,
                str(key.key_id),
                params.token,
                form.cleaned_data["wrapped_b64"],
                int(valid_to.timestamp()) if valid_to else 0,
            )
            messages.success(request, _("Key material imported: the key is enabled."))
            return redirect("key", key_id=key.key_id)
        except (e.DecryptMaterialError, e.InvalidImportKeyMaterial, e.MaterialNotMatch) as exc:
            pasted = not request.FILES.get("material_file")
            form.add_error("encrypted_key_material" if pasted else "material_file", sentence(exc))
        except e.KmsError as exc:
            if not _form_error(form, exc):
                raise
        try:  # a few failed unwraps void the parameters (no padding oracle): then only step 1 can go on
            params = kms.import_parameters(key_caller, str(key.key_id), params.token)
        except e.TokenExpired as exc:
            messages.error(request, sentence(exc))
            return _step_one(request, key, params.algorithm)
    return _render_import(
        request, key, 2, params=params, form=form, file_was_chosen=bool(request.FILES.get("material_file"))
    )


@console_page
@require_POST
@kms_errors
def key_import_download(request, key_id, part: str):
    """The wrapping public key (PEM) or the import token, as a file to keep beside the material."""
    if part not in ("public-key", "token"):
        raise Http404("No such file.")
    key, key_caller = _key(request, key_id, "GetParametersForImport")
    params = kms.import_parameters(key_caller, str(key.key_id), request.POST.get("import_token", ""))
    names = _file_names(key)
    if part == "public-key":
        body, name, media_type = params.public_key_pem, names["public_key"], "application/x-pem-file"
    else:
        body, name, media_type = params.token.encode(), names["token"], "text/plain; charset=utf-8"
    return download_response([body], name, media_type, len(body))
