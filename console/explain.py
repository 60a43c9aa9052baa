"""What the console tells a person when the gate or the domain refuses: a title, a plain translated sentence and
the action that fixes it (a link, or a button that does it), chosen by the refusal's wire code. The wire code stays
visible as a detail for whoever reads logs; it is never the message itself."""

from dataclasses import dataclass

from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

DENIED = "AuthFailure.UnauthorizedOperation"


@dataclass(frozen=True)
class Action:
    label: str
    url: str
    method: str = "get"  # "post": a button that does it (a form posting to url)


@dataclass(frozen=True)
class Explanation:
    title: str
    sentence: str
    code: str
    status: int
    action: Action | None

    def as_message(self):
        """For messages.error after a refused change: the sentence, then a link to where it is fixed."""
        if self.action is None:
            return self.sentence
        return format_html('{} <a href="{}">{}</a>', self.sentence, self.action.url, self.action.label)


def _bucket_url(kwargs: dict) -> str:
    return reverse("bucket-objects", args=[kwargs["bucket"]]) if kwargs.get("bucket") else reverse("buckets")


def _key_url(kwargs: dict) -> str:
    return reverse("key", args=[kwargs["key_id"]]) if kwargs.get("key_id") else reverse("kms")


def _kms_url(kwargs: dict) -> str:
    return reverse("kms")


def _buckets_url(kwargs: dict) -> str:
    return reverse("buckets")


def _roles_url(kwargs: dict) -> str:
    return reverse("roles")


def _users_url(kwargs: dict) -> str:
    return reverse("users")


def _overview_url(kwargs: dict) -> str:
    return reverse("overview")


# code → (title, sentence, (action label, url of the request's view kwargs, method) or None)
KEY_DISABLED = (
    _("The key is disabled"),
    _(
        "The KMS key this needs is disabled, so nothing can be encrypted or decrypted with it. Enable the key on its "
        "page to use it again."
    ),
    (_("Open the KMS keys"), _kms_url, "get"),
)
KEY_MISSING = (
    _("No such key"),
    _("There is no KMS key with this id in your account. It may have been deleted."),
    (_("Back to the KMS keys"), _kms_url, "get"),
)
EXPLANATIONS = {
    DENIED: (
        _("Not allowed"),
        _("Your user may not do this. Ask the account's root user to attach a policy that allows it."),
        (_("Back to the overview"), _overview_url, "get"),
    ),
    "AccessDenied": (
        _("Not allowed"),
        _("Your user may not do this. Ask the account's root user to attach a policy that allows it."),
        (_("Back to the overview"), _overview_url, "get"),
    ),
    "NoSuchKey": (
        _("No such object"),
        _("There is no object with this name in the bucket. It may have been deleted or renamed."),
        (_("Back to the bucket"), _bucket_url, "get"),
    ),
    "NoSuchBucket": (
        _("No such bucket"),
        _("There is no bucket with this name in your account."),
        (_("Back to the buckets"), _buckets_url, "get"),
    ),
    "BucketNotEmpty": (
        _("The bucket is not empty"),
        _("Only an empty bucket can be deleted. Delete its objects first, then delete the bucket."),
        (_("Open the bucket"), _bucket_url, "get"),
    ),
    "BucketAlreadyExists": (
        _("The name is taken"),
        _("A bucket with this name already exists. Choose another name."),
        (_("Back to the buckets"), _buckets_url, "get"),
    ),
    "BucketAlreadyOwnedByYou": (
        _("The name is taken"),
        _("You already have a bucket with this name. Choose another name."),
        (_("Back to the buckets"), _buckets_url, "get"),
    ),
    "InvalidBucketName": (
        _("The name is not valid"),
        _("Bucket names are lower-case letters, digits and hyphens. Choose another name."),
        (_("Back to the buckets"), _buckets_url, "get"),
    ),
    "ResourceUnavailable.ServiceNotEnabled": (
        _("The KMS is not activated"),
        _(
            "The KMS is not activated yet, so there are no keys for SSE-KMS. Activate it to create a default key in "
            "each region."
        ),
        (_("Activate KMS"), _kms_url, "post"),
    ),
    "ResourceUnavailable.CmkDisabled": KEY_DISABLED,
    "KmsKeyDisabled": KEY_DISABLED,
    "ResourceUnavailable.CmkNotFound": KEY_MISSING,
    "KmsKeyNotExist": KEY_MISSING,
    "InvalidParameterValue.InvalidKeyId": KEY_MISSING,
    "ResourceUnavailable.CmkArchived": (
        _("The key is archived"),
        _("An archived key can only decrypt. Choose another key to encrypt, or cancel the archiving on its page."),
        (_("Open the key"), _key_url, "get"),
    ),
    "ResourceUnavailable.KeyPendingDelete": (
        _("The key is scheduled for deletion"),
        _("A key pending deletion cannot be used. Cancel the deletion on its page to use it again."),
        (_("Open the key"), _key_url, "get"),
    ),
    "ResourceUnavailable.CmkStateNotSupport": (
        _("The key's state does not allow this"),
        _("The key is not in a state that allows this. Check its state on its page."),
        (_("Open the key"), _key_url, "get"),
    ),
    "ResourceUnavailable.CmkShouldBeDisabled": (
        _("Disable the key first"),
        _("Only a disabled key can be scheduled for deletion. Disable it, then schedule the deletion."),
        (_("Open the key"), _key_url, "get"),
    ),
    "ResourceUnavailable.CmkNotPendingDelete": (
        _("The key is not scheduled for deletion"),
        _("There is no deletion to cancel: the key is not scheduled for deletion."),
        (_("Open the key"), _key_url, "get"),
    ),
    "FailedOperation.CmkUsedByCloudProduct": (
        _("The key is in use"),
        _("A bucket uses this key as its default encryption. Change that bucket's default encryption first."),
        (_("Open the buckets"), _buckets_url, "get"),
    ),
    "InvalidParameterValue.AliasAlreadyExists": (
        _("The alias is taken"),
        _("Another key in this region already has this alias. Choose another alias."),
        (_("Back to the KMS keys"), _kms_url, "get"),
    ),
    "InvalidParameterValue.InvalidAlias": (
        _("The alias is not valid"),
        _(
            "An alias is 1 to 60 letters, digits, '-' and '_', starts with a letter or digit, and does not start "
            "with 'kms-'."
        ),
        (_("Back to the KMS keys"), _kms_url, "get"),
    ),
    "KmsException": (
        _("The KMS refused"),
        _("The KMS refused to encrypt or decrypt with this key. Check the key's state on the KMS page."),
        (_("Open the KMS keys"), _kms_url, "get"),
    ),
    "InvalidParameter.RoleNotExist": (
        _("No such role"),
        _("There is no role with this name. It may have been deleted."),
        (_("Back to the roles"), _roles_url, "get"),
    ),
    "InvalidParameter.RoleNameInUse": (
        _("The name is taken"),
        _("A role with this name already exists. Choose another name."),
        (_("Back to the roles"), _roles_url, "get"),
    ),
    "ResourceNotFound.UserNotExist": (
        _("No such sub-user"),
        _("There is no sub-user with this name. It may have been deleted."),
        (_("Back to the sub-users"), _users_url, "get"),
    ),
    "InvalidParameter.UserNameIllegal": (
        _("The name is taken"),
        _("A sub-user with this name already exists. Choose another name."),
        (_("Back to the sub-users"), _users_url, "get"),
    ),
    "OperationDenied.AccessKeyOverLimit": (
        _("Too many access keys"),
        _("A sub-user may hold at most 2 access keys. Delete one before adding another."),
        (_("Back to the sub-users"), _users_url, "get"),
    ),
}
# Codes that say less than the error they were translated from: look further down the chain first.
VAGUE = {"KmsException", "AccessDenied"}
BY_CLASS = {
    "ServiceRoleMissing": (
        _("The COS service role is missing"),
        _("SSE-KMS needs the COS service role (COS_QcsRole) with its KMS policy. Create it, then try again."),
        (_("Create the COS service role"), lambda kwargs: reverse("roles"), "get"),
    ),
}
NOT_FOUND = {"NoSuchKey", "NoSuchBucket", "InvalidParameter.RoleNotExist", "ResourceNotFound.UserNotExist"} | {
    code for code, explanation in EXPLANATIONS.items() if explanation is KEY_MISSING
}
FALLBACK = (
    _("That did not work"),
    _("Kinko could not do this. Check what you entered and try again."),
    (_("Back to the overview"), _overview_url, "get"),
)


def _known(error) -> tuple[str, tuple]:
    """The wire code and explanation of the error, or of the KMS error it was translated from (buckets.sse
    raises the COS error `from None`, which keeps the KMS error as its __context__)."""
    seen = error
    while seen is not None:
        name, code = type(seen).__name__, getattr(seen, "code", "") or ""
        if name in BY_CLASS:
            return code, BY_CLASS[name]
        if code in EXPLANATIONS and code not in VAGUE:
            return code, EXPLANATIONS[code]
        seen = seen.__context__
    code = getattr(error, "code", "") or ""
    return code, EXPLANATIONS.get(code, FALLBACK)


def explain(error, status: int, view_kwargs: dict | None = None) -> Explanation:
    """The explanation of a refusal (a gate.Denied turned Refusal, a CosError or an ApiError)."""
    code, (title, sentence, action) = _known(error)
    made = None
    if action is not None:
        label, url_of, method = action
        made = Action(str(label), url_of(view_kwargs or {}), method)
    if code in NOT_FOUND:
        status = 404
    return Explanation(str(title), str(sentence), code, status, made)
