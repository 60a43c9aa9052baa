"""Accounts, sub-users, API keys, CAM policies and roles. Secrets are stored sealed under the root key."""

from django.conf import settings
from django.db import models

from core import keystore


class Account(models.Model):
    """A COS/CAM account: the AppId that suffixes bucket names, and the owner UIN shown in ACLs."""

    appid = models.CharField(max_length=20, unique=True)
    uin = models.CharField(max_length=20, unique=True)
    is_root = models.BooleanField(default=False)
    api_token_sealed = models.BinaryField()
    api_token_digest = models.CharField(max_length=64, blank=True, db_index=True)  # keyed hash, for lookups
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"{self.appid} (uin {self.uin})"

    @property
    def owner_id(self) -> str:
        return f"qcs::cam::uin/{self.uin}:uin/{self.uin}"

    def api_token(self) -> str:
        return keystore.unseal_secret(bytes(self.api_token_sealed), b"apitoken:" + self.appid.encode()).decode()


class ApiKeyStatus(models.TextChoices):
    ACTIVE = "Active"
    INACTIVE = "Inactive"


class SubUser(models.Model):
    """A CAM sub-user of an account: its own API keys, and only the rights its attached policies grant."""

    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="sub_users")
    uin = models.CharField(max_length=20, unique=True)
    uid = models.PositiveBigIntegerField(unique=True)
    name = models.CharField(max_length=64)
    remark = models.CharField(max_length=255, blank=True)
    console_login = models.BooleanField(default=False)
    email = models.CharField(max_length=255, blank=True)
    # The Django user a sub-user signs in to the console as (console_login); its rights are still its policies.
    console_user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="sub_user"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["account", "name"], name="unique_sub_user_name")]

    def __str__(self) -> str:
        return f"{self.name} (uin {self.uin})"


class ApiKey(models.Model):
    """A SecretId/SecretKey pair. The SecretId is public; the SecretKey is sealed with the SecretId as AAD.

    `user` is the sub-user the key belongs to; None for the account's root keys.
    """

    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="api_keys")
    user = models.ForeignKey(SubUser, on_delete=models.CASCADE, null=True, blank=True, related_name="api_keys")
    description = models.CharField(max_length=255, blank=True)
    secret_id = models.CharField(max_length=64, unique=True)
    secret_key_sealed = models.BinaryField()
    status = models.CharField(max_length=8, choices=ApiKeyStatus.choices, default=ApiKeyStatus.ACTIVE)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return self.secret_id

    @property
    def is_active(self) -> bool:
        return self.status == ApiKeyStatus.ACTIVE

    def secret_key(self) -> str:
        return keystore.unseal_secret(bytes(self.secret_key_sealed), b"apikey:" + self.secret_id.encode()).decode()


class PolicyType(models.IntegerChoices):
    CUSTOM = 1
    PRESET = 2


class Policy(models.Model):
    """A CAM policy (syntax version 2.0). Presets (account None) ship with Kinko; custom ones belong to an account."""

    policy_id = models.PositiveBigIntegerField(unique=True)
    account = models.ForeignKey(Account, on_delete=models.CASCADE, null=True, blank=True, related_name="policies")
    name = models.CharField(max_length=128)
    description = models.CharField(max_length=300, blank=True)
    document = models.TextField()
    type = models.PositiveSmallIntegerField(choices=PolicyType.choices, default=PolicyType.CUSTOM)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["policy_id"]

    def __str__(self) -> str:
        return self.name


class Role(models.Model):
    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="roles")
    role_id = models.CharField(max_length=24, unique=True)  # a large integer, always a string on the wire
    name = models.CharField(max_length=128)
    trust_policy = models.TextField()
    description = models.CharField(max_length=300, blank=True)
    console_login = models.BooleanField(default=False)
    session_duration = models.PositiveIntegerField(default=0)
    tags = models.JSONField(default=list)  # [{"Key": …, "Value": …}]
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["account", "name"], name="unique_role_name")]
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return self.name


class RolePolicy(models.Model):
    role = models.ForeignKey(Role, on_delete=models.CASCADE, related_name="attachments")
    policy = models.ForeignKey(Policy, on_delete=models.CASCADE, related_name="role_attachments")
    attached_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["role", "policy"], name="unique_role_policy")]

    def __str__(self) -> str:
        return f"{self.role} ← {self.policy}"


class UserPolicy(models.Model):
    user = models.ForeignKey(SubUser, on_delete=models.CASCADE, related_name="attachments")
    policy = models.ForeignKey(Policy, on_delete=models.CASCADE, related_name="user_attachments")
    attached_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "policy"], name="unique_user_policy")]

    def __str__(self) -> str:
        return f"{self.user} ← {self.policy}"
