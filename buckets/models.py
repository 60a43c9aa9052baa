"""Buckets and the objects stored in them. Object bodies live on disk (storage.py); rows point at blobs."""

from django.db import models
from django.utils import timezone

from roles.models import Account


class Bucket(models.Model):
    name = models.CharField(max_length=64, unique=True)  # full wire name: <name>-<appid>
    owner = models.ForeignKey(Account, on_delete=models.PROTECT, related_name="buckets")
    region = models.CharField(max_length=32)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class StoredObject(models.Model):
    bucket = models.ForeignKey(Bucket, on_delete=models.CASCADE, related_name="stored_objects")
    key = models.CharField(max_length=1024)
    size_bytes = models.BigIntegerField()
    etag = models.CharField(max_length=80)  # without the quotes
    crc64 = models.CharField(max_length=24)  # CRC-64/ECMA-182 of the content, decimal
    content_type = models.CharField(max_length=255, default="application/octet-stream")
    headers = models.JSONField(default=dict)  # standard representation headers kept verbatim
    metadata = models.JSONField(default=dict)  # x-cos-meta-* (lowercase name → value)
    storage_class = models.CharField(max_length=32, default="STANDARD")
    blob = models.CharField(max_length=64)
    last_modified = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["bucket", "key"], name="unique_object_key")]
        ordering = ["bucket", "key"]

    def __str__(self) -> str:
        return f"{self.bucket.name}/{self.key}"
