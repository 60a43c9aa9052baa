"""Admin for buckets, objects and jobs: read-mostly; deletions go through the domain functions and their checks."""

from django.contrib import admin, messages

from buckets import service
from buckets.errors import CosError
from buckets.models import Bucket, Job, MultipartUpload, StoredObject


class DomainDeleteMixin:
    """Deleting runs `domain_delete(obj)`; a refusal becomes an error message, never a raw row delete."""

    def domain_delete(self, obj) -> None:
        raise NotImplementedError

    def delete_model(self, request, obj) -> None:
        try:
            self.domain_delete(obj)
        except CosError as exc:
            request.domain_refused = True
            messages.error(request, f"{obj}: {exc.code}: {exc.message}")

    def message_user(self, request, message, level=messages.INFO, *args, **kwargs) -> None:
        # Django announces a deletion once delete_model returns; a refused one was not a success.
        if getattr(request, "domain_refused", False) and level == messages.SUCCESS:
            return
        super().message_user(request, message, level, *args, **kwargs)

    def delete_queryset(self, request, queryset) -> None:
        for obj in queryset:
            self.delete_model(request, obj)


@admin.register(Bucket)
class BucketAdmin(DomainDeleteMixin, admin.ModelAdmin):
    list_display = ["name", "region", "owner", "default_sse", "default_kms_key_id", "created_at"]
    list_filter = ["region", "default_sse"]
    search_fields = ["name"]
    readonly_fields = ["name", "owner", "region", "acl", "default_sse", "default_kms_key_id", "created_at"]

    def domain_delete(self, obj: Bucket) -> None:
        service.delete_bucket(obj)

    def has_add_permission(self, request) -> bool:
        return False


@admin.register(StoredObject)
class StoredObjectAdmin(DomainDeleteMixin, admin.ModelAdmin):
    list_display = ["key", "bucket", "size_bytes", "sse", "kms_key_id", "storage_class", "last_modified"]
    list_filter = ["sse", "storage_class", "bucket"]
    search_fields = ["key"]
    fields = [
        "bucket",
        "key",
        "size_bytes",
        "etag",
        "crc64",
        "content_type",
        "headers",
        "metadata",
        "storage_class",
        "acl",
        "sse",
        "kms_key_id",
        "kms_context",
        "part_count",
        "last_modified",
        "encryption_record",
    ]
    readonly_fields = fields

    @admin.display(description="data key")
    def encryption_record(self, obj: StoredObject) -> str:
        if obj.part_count:
            return f"one wrapped data key per part ({obj.part_count} parts)"
        wrapper = f"SSE-COS master key v{obj.kek_version}" if obj.kek_version else "object key-encryption key"
        return f"sealed ({len(bytes(obj.wrapped_key))} bytes), wrapped by the {wrapper}"

    def domain_delete(self, obj: StoredObject) -> None:
        service.delete_object(obj.bucket, obj.key)

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


@admin.register(MultipartUpload)
class MultipartUploadAdmin(admin.ModelAdmin):
    list_display = ["key", "bucket", "upload_id", "sse", "initiated_at"]
    list_filter = ["sse"]
    search_fields = ["key", "upload_id"]
    fields = [
        "bucket",
        "key",
        "upload_id",
        "initiator",
        "content_type",
        "storage_class",
        "sse",
        "kms_key_id",
        "initiated_at",
    ]
    readonly_fields = fields

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Job)
class JobAdmin(admin.ModelAdmin):
    list_display = ["job_id", "kind", "bucket", "status", "total", "done", "failed", "skipped", "created_at"]
    list_filter = ["status", "kind"]
    readonly_fields = [
        "job_id",
        "kind",
        "bucket",
        "params",
        "requester",
        "status",
        "total",
        "done",
        "failed",
        "skipped",
        "bytes_processed",
        "cancel_requested",
        "created_at",
        "started_at",
        "finished_at",
    ]

    def has_add_permission(self, request) -> bool:
        return False
