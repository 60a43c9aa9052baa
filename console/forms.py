"""Console forms: validate and clean, never save (the pages call the domain functions)."""

import base64
import binascii
import hashlib

from django import forms
from django.conf import settings
from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.auth import get_user_model, password_validation
from django.contrib.auth.forms import AuthenticationForm
from django.core.cache import cache
from django.core.validators import RegexValidator
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


def _throttle_keys(username: str, address: str) -> tuple[str, str]:
    # Hashed: a user name is any text, and cache keys must be short and printable.
    user = hashlib.sha256(username.casefold().encode()).hexdigest()
    return f"login-failures:user:{user}", f"login-failures:address:{address}"


class ThrottledSignIn:
    """Refuses sign-in for LOGIN_LOCKOUT_SECONDS once a user name, or a client address, has failed
    LOGIN_MAX_FAILURES times, whichever address or name the failures came with. The counts live in the default
    cache, which every worker shares."""

    def clean(self):
        username = self.data.get("username", "")
        address = self.request.META.get("REMOTE_ADDR", "") if self.request else ""
        keys = _throttle_keys(username, address)
        if any(cache.get(key, 0) >= settings.LOGIN_MAX_FAILURES for key in keys):
            raise forms.ValidationError(_("Too many failed sign-ins. Try again in a few minutes."), code="throttled")
        try:
            cleaned = super().clean()
        except forms.ValidationError:
            for key in keys:
                cache.add(key, 0, settings.LOGIN_LOCKOUT_SECONDS)
                cache.incr(key)
            raise
        cache.delete(keys[0])
        return cleaned


class ThrottledAuthenticationForm(ThrottledSignIn, AuthenticationForm):
    """The console's sign-in."""


class ThrottledAdminAuthenticationForm(ThrottledSignIn, AdminAuthenticationForm):
    """The admin's sign-in: superusers only, as only they act as the root account."""

    def confirm_login_allowed(self, user) -> None:
        super().confirm_login_allowed(user)
        if not user.is_superuser:
            raise forms.ValidationError(
                self.error_messages["invalid_login"],
                code="invalid_login",
                params={"username": self.username_field.verbose_name},
            )


def region_choices() -> list[tuple[str, str]]:
    return [(region, region) for region in settings.KINKO_REGIONS]


ENCRYPTION_CHOICES = [
    ("", _("None")),
    ("AES256", _("SSE-COS (AES-256, keys held by Kinko)")),
    ("KMS", _("SSE-KMS (a KMS key)")),
]


class BucketForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=50, help_text=_("Lowercase letters, digits and '-'."))
    region = forms.ChoiceField(label=_("Region"), choices=region_choices)
    acl = forms.ChoiceField(
        label=_("Access"),
        choices=[
            ("private", _("Private")),
            ("public-read", _("Public read")),
            ("public-read-write", _("Public read and write")),
        ],
    )
    encryption = forms.ChoiceField(label=_("Default encryption"), choices=ENCRYPTION_CHOICES, required=False)
    kms_key_id = forms.CharField(label=_("KMS key"), required=False)


class BucketEncryptionForm(forms.Form):
    encryption = forms.ChoiceField(label=_("Default encryption"), choices=ENCRYPTION_CHOICES, required=False)
    kms_key_id = forms.CharField(label=_("KMS key"), required=False)


class SetEncryptionForm(forms.Form):
    prefix = forms.CharField(label=_("Prefix"), required=False)
    keys = forms.CharField(required=False, widget=forms.HiddenInput)
    sse = forms.ChoiceField(label=_("Encryption"), choices=[("AES256", _("SSE-COS")), ("cos/kms", _("SSE-KMS"))])
    kms_key_id = forms.CharField(label=_("KMS key"), required=False)


def _check_description_bytes(description: str) -> str:
    if len(description.encode()) > MAX_DESCRIPTION_BYTES:
        raise forms.ValidationError(
            _("The description is %(bytes)d bytes long; at most %(limit)d are allowed (a Japanese character is 3)."),
            code="too_long",
            params={"bytes": len(description.encode()), "limit": MAX_DESCRIPTION_BYTES},
        )
    return description


MAX_DESCRIPTION_BYTES = 1024


class SetEncryptionScopeForm(SetEncryptionForm):
    """The object list's "Set encryption": on the selected objects, or on everything under the folder."""

    scope = forms.ChoiceField(
        label=_("Apply to"),
        initial="selected",
        choices=[("selected", _("The selected objects")), ("prefix", _("Every object under the prefix"))],
    )


class CreateFolderForm(forms.Form):
    name = forms.CharField(label=_("Folder name"), max_length=255)

    def clean_name(self) -> str:
        name = self.cleaned_data["name"].strip().strip("/")
        if not name:
            raise forms.ValidationError(_("Give the folder a name."), code="empty")
        if any(part in ("", ".", "..") for part in name.split("/")):
            raise forms.ValidationError(_("A folder name cannot contain '.', '..' or '//' as a part."), code="part")
        return name


SHARE_EXPIRY_CHOICES = [(900, _("15 minutes")), (3600, _("1 hour")), (86400, _("1 day")), (604800, _("7 days"))]


class ShareForm(forms.Form):
    expires = forms.TypedChoiceField(
        label=_("Link valid for"),
        coerce=int,
        initial=3600,
        choices=lambda: [(s, label) for s, label in SHARE_EXPIRY_CHOICES if s <= settings.KINKO_MAX_SIGNATURE_SECONDS],
    )


class KeyForm(forms.Form):
    alias = forms.CharField(label=_("Alias"), max_length=60)
    description = forms.CharField(label=_("Description"), required=False, widget=forms.Textarea(attrs={"rows": 2}))
    origin = forms.ChoiceField(
        label=_("Key material"),
        choices=[("TENCENT_KMS", _("Generated by the KMS")), ("EXTERNAL", _("External (import)"))],
    )
    region = forms.ChoiceField(label=_("Region"), choices=lambda: [(r, r) for r in settings.KINKO_KMS_REGIONS])

    def clean_description(self) -> str:
        return _check_description_bytes(self.cleaned_data["description"])


class DescriptionForm(forms.Form):
    description = forms.CharField(label=_("Description"), required=False, widget=forms.Textarea(attrs={"rows": 2}))

    def clean_description(self) -> str:
        return _check_description_bytes(self.cleaned_data["description"])


class TagForm(forms.Form):
    tag_key = forms.CharField(label=_("Tag key"), max_length=127)
    tag_value = forms.CharField(label=_("Tag value"), max_length=255, required=False)


class RotationForm(forms.Form):
    rotation_enabled = forms.BooleanField(label=_("Rotate automatically"), required=False)
    rotate_days = forms.IntegerField(
        label=_("Every (days)"),
        min_value=7,
        max_value=365,
        initial=365,
        required=False,
        error_messages={
            "min_value": _("Rotation can be every 7 to 365 days."),
            "max_value": _("Rotation can be every 7 to 365 days."),
        },
    )

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("rotation_enabled") and cleaned.get("rotate_days") is None and "rotate_days" not in self.errors:
            self.add_error("rotate_days", _("Rotation can be every 7 to 365 days."))
        return cleaned


class DeletionForm(forms.Form):
    pending_window_in_days = forms.IntegerField(
        label=_("Delete after (days)"),
        min_value=7,
        max_value=30,
        initial=7,
        error_messages={
            "min_value": _("A key waits 7 to 30 days before it is deleted."),
            "max_value": _("A key waits 7 to 30 days before it is deleted."),
        },
    )


WRAPPING_ALGORITHMS = ["RSAES_OAEP_SHA_256", "RSAES_OAEP_SHA_1", "RSAES_PKCS1_V1_5"]
MAX_WRAPPED_FILE_BYTES = 4096


class ImportParametersForm(forms.Form):
    wrapping_algorithm = forms.ChoiceField(
        label=_("Wrapping algorithm"), choices=[(name, name) for name in WRAPPING_ALGORITHMS]
    )


class ImportForm(forms.Form):
    """Step 2 of the import wizard: the wrapped material as a file (raw bytes, as `openssl pkeyutl` writes it, or
    base64) or pasted as base64, and an optional expiry."""

    import_token = forms.CharField(widget=forms.HiddenInput)
    material_file = forms.FileField(label=_("Wrapped key material (file)"), required=False)
    encrypted_key_material = forms.CharField(
        label=_("or paste it as base64"), required=False, widget=forms.Textarea(attrs={"rows": 4})
    )
    valid_to = forms.DateTimeField(
        label=_("Material expires (optional, UTC)"),
        required=False,
        input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M", "%Y-%m-%d %H:%M:%S", "%Y-%m-%d"],
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
        help_text=_("Leave empty for material that never expires."),
    )

    def clean_valid_to(self):
        valid_to = self.cleaned_data["valid_to"]
        if valid_to is not None and valid_to <= timezone.now():
            raise forms.ValidationError(_("The expiry must be in the future."), code="past")
        if valid_to is not None and valid_to.timestamp() > 2147443200:
            raise forms.ValidationError(_("The expiry must be before 2038-01-19."), code="too_late")
        return valid_to

    def clean(self):
        cleaned = super().clean()
        upload = cleaned.get("material_file")
        pasted = (cleaned.get("encrypted_key_material") or "").strip()
        if upload is not None and pasted:
            self.add_error("material_file", _("Choose a file or paste base64, not both."))
        elif upload is not None:
            if upload.size > MAX_WRAPPED_FILE_BYTES:
                self.add_error("material_file", _("This file is too large to be wrapped key material."))
            else:
                cleaned["wrapped_b64"] = _wrapped_as_base64(upload.read())
        elif pasted:
            cleaned["wrapped_b64"] = "".join(pasted.split())
        else:
            self.add_error("material_file", _("Choose the file with the wrapped key material, or paste it as base64."))
        return cleaned


def _wrapped_as_base64(data: bytes) -> str:
    """A file of base64 text is taken as it is; anything else is the raw wrapped bytes."""
    try:
        text = b"".join(data.split()).decode("ascii")
        base64.b64decode(text, validate=True)
    except (UnicodeDecodeError, binascii.Error, ValueError):
        return base64.b64encode(data).decode()
    return text or base64.b64encode(data).decode()


class RoleWizardForm(forms.Form):
    """The seed's seven steps; each step posts every field so far (hidden) plus its own."""

    step = forms.IntegerField(widget=forms.HiddenInput, min_value=1, max_value=7)
    entity = forms.ChoiceField(required=False, choices=[("service", _("Tencent Cloud product service"))])
    service = forms.ChoiceField(required=False, choices=[("cos.cloud.tencent.com", _("Cloud Object Storage (COS)"))])
    policies = forms.MultipleChoiceField(required=False, choices=[])
    tag_key = forms.CharField(required=False, max_length=128)
    tag_value = forms.CharField(required=False, max_length=256)
    name = forms.CharField(required=False, max_length=128)


CAM_NAME = RegexValidator(r"^[A-Za-z0-9+=,.@_-]{1,128}\Z", _("Use 1 to 128 letters, digits and + = , . @ - _ only."))


def check_console_password(form: forms.Form, field: str, username: str) -> None:
    """Django's password validators (length, similarity, common, numeric) on `field`, the error beside it."""
    password = form.cleaned_data.get(field)
    if password:
        try:
            password_validation.validate_password(password, get_user_model()(username=username))
        except forms.ValidationError as exc:
            form.add_error(field, exc)


def console_password_field(label) -> forms.CharField:
    return forms.CharField(
        label=label,
        required=False,
        min_length=10,
        strip=False,
        widget=forms.PasswordInput(render_value=False),  # a password the operator chose is never shown again
        help_text=_("At least 10 characters, not all digits, not a common password, not like the name."),
    )


class SubUserForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=64, validators=[CAM_NAME])
    remark = forms.CharField(label=_("Remark"), required=False, max_length=255)
    policies = forms.MultipleChoiceField(label=_("Policies"), required=False, choices=[])
    password = console_password_field(_("Console password (optional)"))

    def clean(self):
        cleaned = super().clean()
        check_console_password(self, "password", cleaned.get("name", ""))
        return cleaned


class SubUserEditForm(forms.Form):
    remark = forms.CharField(label=_("Remark"), required=False, max_length=255)


class ConsolePasswordForm(forms.Form):
    password = console_password_field(_("New console password"))

    def __init__(self, *args, username: str = "", **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.username = username
        self.fields["password"].required = True

    def clean(self):
        cleaned = super().clean()
        check_console_password(self, "password", self.username)
        return cleaned


class AttachPolicyForm(forms.Form):
    policy = forms.ChoiceField(label=_("Policy"), choices=[])


class AccessKeyForm(forms.Form):
    description = forms.CharField(label=_("Description (optional)"), required=False, max_length=255)


class RoleTrustForm(forms.Form):
    trust_policy = forms.CharField(
        label=_("Trust policy (JSON)"),
        max_length=4096,
        strip=False,
        widget=forms.Textarea(attrs={"class": "mono", "rows": 10, "spellcheck": "false"}),
    )


class RoleEditForm(forms.Form):
    description = forms.CharField(label=_("Description"), required=False, max_length=300, widget=forms.Textarea)

    def clean_description(self) -> str:
        description = self.cleaned_data["description"]
        if len(description.encode()) > 300:
            raise forms.ValidationError(_("The description is too long: at most 300 bytes."))
        return description
