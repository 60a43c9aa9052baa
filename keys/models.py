"""KMS state: activation, customer master keys, their material (one row per rotation version, sealed under the
root key), import tokens, cloud-resource bindings, the audit trail and monthly call counts."""

import uuid

from django.db import models
from django.utils import timezone

from roles.models import Account


class KmsActivation(models.Model):
    account = models.OneToOneField(Account, on_delete=models.CASCADE, related_name="kms_activation")
    activated_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"KMS of {self.account}"


class KeyState(models.TextChoices):
    ENABLED = "Enabled"
    DISABLED = "Disabled"
    PENDING_DELETE = "PendingDelete"
    PENDING_IMPORT = "PendingImport"
    ARCHIVED = "Archived"


class KeyOrigin(models.TextChoices):
    TENCENT_KMS = "TENCENT_KMS"
    EXTERNAL = "EXTERNAL"


class MasterKeyQuerySet(models.QuerySet):
    def live(self) -> "MasterKeyQuerySet":
        """Keys that still exist: a destroyed key is kept only as a record of when and why."""
        return self.filter(destroyed_at__isnull=True)

    def due_for_rotation(self, now) -> "MasterKeyQuerySet":
        return self.live().filter(
            rotation_enabled=True, next_rotate_at__lte=now, state__in=[KeyState.ENABLED, KeyState.DISABLED]
        )

    def due_for_deletion(self, now) -> "MasterKeyQuerySet":
        return self.live().filter(state=KeyState.PENDING_DELETE, deletion_date__lte=now)


class MasterKey(models.Model):
    """A customer master key (CMK). Its material lives in KeyMaterial rows, one per rotation version."""

    key_id = models.UUIDField(default=uuid.uuid4, unique=True)
    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="master_keys")
    region = models.CharField(max_length=32)
    alias = models.CharField(max_length=60)
    description = models.CharField(max_length=1024, blank=True)
    state = models.CharField(max_length=16, choices=KeyState.choices, default=KeyState.ENABLED)
    origin = models.CharField(max_length=16, choices=KeyOrigin.choices, default=KeyOrigin.TENCENT_KMS)
    usage = models.CharField(max_length=40, default="ENCRYPT_DECRYPT")
    owner = models.CharField(max_length=32, default="user")  # "user", or the cloud product that created it
    creator_uin = models.CharField(max_length=20)
    tags = models.JSONField(default=list)
    is_default = models.BooleanField(default=False)  # the region's default CMK for SSE-KMS
    created_at = models.DateTimeField(default=timezone.now)
    rotation_enabled = models.BooleanField(default=False)
    rotate_days = models.PositiveIntegerField(default=365)
    last_rotated_at = models.DateTimeField(null=True, blank=True)
    next_rotate_at = models.DateTimeField(null=True, blank=True)
    deletion_date = models.DateTimeField(null=True, blank=True)
    valid_to = models.DateTimeField(null=True, blank=True)  # expiry of imported material
    import_check = models.CharField(max_length=64, blank=True)  # keyed fingerprint of imported material
    destroyed_at = models.DateTimeField(null=True, blank=True)
    destroy_reason = models.CharField(max_length=255, blank=True)

    objects = MasterKeyQuerySet.as_manager()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["account", "region", "alias"], condition=models.Q(destroyed_at=None), name="unique_live_alias"
            ),
        ]
        ordering = ["created_at"]

    def __str__(self) -> str:
        return f"{self.alias} ({self.key_id})"

    @property
    def current_version(self) -> int:
        return self.materials.aggregate(models.Max("version"))["version__max"] or 0


class KeyMaterial(models.Model):
    key = models.ForeignKey(MasterKey, on_delete=models.CASCADE, related_name="materials")
    version = models.PositiveIntegerField()
    material_sealed = models.BinaryField()
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["key", "version"], name="unique_material_version")]
        ordering = ["key", "version"]

    def __str__(self) -> str:
        return f"{self.key.key_id} v{self.version}"


class ImportToken(models.Model):
    """GetParametersForImport: an RSA-2048 key pair whose private half (sealed) unwraps the material."""

    key = models.ForeignKey(MasterKey, on_delete=models.CASCADE, related_name="import_tokens")
    token = models.CharField(max_length=64, unique=True)
    wrapping_algorithm = models.CharField(max_length=32)
    private_key_sealed = models.BinaryField()
    expires_at = models.DateTimeField()
    failed_attempts = models.PositiveSmallIntegerField(default=0)

    def __str__(self) -> str:
        return f"import token for {self.key.key_id}"


class CloudResourceBinding(models.Model):
    key = models.ForeignKey(MasterKey, on_delete=models.CASCADE, related_name="bindings")
    product_id = models.CharField(max_length=32)
    resource_id = models.CharField(max_length=255)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["key", "product_id", "resource_id"], name="unique_binding")]

    def __str__(self) -> str:
        return f"{self.product_id}:{self.resource_id} → {self.key.key_id}"


class AuditEvent(models.Model):
    """One KMS call: who, what, which key and version, outcome. Never plaintext or key material."""

    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="kms_audit")
    actor = models.CharField(max_length=128)  # SecretId, or "cos" for the object service acting as COS_QcsRole
    action = models.CharField(max_length=64)
    key_id = models.CharField(max_length=36, blank=True, db_index=True)
    key_version = models.PositiveIntegerField(null=True, blank=True)
    request_id = models.CharField(max_length=64, blank=True)
    error_code = models.CharField(max_length=128, blank=True)  # "" when the call succeeded
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.created_at:%Y-%m-%d %H:%M:%S} {self.action} {self.key_id} {self.error_code or 'ok'}"


class KeyUsage(models.Model):
    """Cryptographic calls per key per month, for the console's usage view."""

    key = models.ForeignKey(MasterKey, on_delete=models.CASCADE, related_name="monthly_usage")
    month = models.CharField(max_length=7)  # YYYY-MM
    calls = models.PositiveBigIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["key", "month"], name="unique_key_month")]

    def __str__(self) -> str:
        return f"{self.key.key_id} {self.month}: {self.calls}"


class ServiceMasterKey(models.Model):
    """The SSE-COS master key, one row per version (sealed under the root key). Data keys name the version that
    wraps them; rotation adds a version and re-wraps, and a version is retired once nothing uses it."""

    version = models.PositiveIntegerField(unique=True)
    material_sealed = models.BinaryField()
    created_at = models.DateTimeField(default=timezone.now)
    retired_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["version"]

    def __str__(self) -> str:
        return f"SSE-COS master key v{self.version}"
