"""Accounts and their API keys. Secrets are stored sealed under the root key, never in clear."""

from django.db import models

from keys import keystore


class Account(models.Model):
    """A COS/CAM account: the AppId that suffixes bucket names, and the owner UIN shown in ACLs."""

    appid = models.CharField(max_length=20, unique=True)
    uin = models.CharField(max_length=20, unique=True)
    is_root = models.BooleanField(default=False)
    api_token_sealed = models.BinaryField()
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


class ApiKey(models.Model):
    """A SecretId/SecretKey pair. The SecretId is public; the SecretKey is sealed with the SecretId as AAD."""

    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="api_keys")
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
