"""Admin for the KMS: keys and the audit trail, read-only. Key material is never shown; state changes go
through the KMS actions (console or API 3.0), which check what depends on a key."""

from django.contrib import admin

from keys.models import AuditEvent, KeyUsage, MasterKey, ServiceMasterKey


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


@admin.register(MasterKey)
class MasterKeyAdmin(ReadOnlyAdmin):
    list_display = ["alias", "key_id", "region", "state", "origin", "owner", "rotation_enabled", "created_at"]
    list_filter = ["state", "origin", "region", "owner"]
    search_fields = ["alias", "key_id", "description"]
    fields = [
        "key_id",
        "account",
        "region",
        "alias",
        "description",
        "state",
        "origin",
        "usage",
        "owner",
        "is_default",
        "rotation_enabled",
        "rotate_days",
        "last_rotated_at",
        "next_rotate_at",
        "deletion_date",
        "valid_to",
        "destroyed_at",
        "destroy_reason",
        "material",
    ]
    readonly_fields = fields

    @admin.display(description="key material")
    def material(self, key: MasterKey) -> str:
        versions = key.materials.count()
        return f"sealed, {versions} version(s)" if versions else "none"


@admin.register(ServiceMasterKey)
class ServiceMasterKeyAdmin(ReadOnlyAdmin):
    list_display = ["version", "created_at", "retired_at"]
    fields = ["version", "created_at", "retired_at"]
    readonly_fields = fields


@admin.register(AuditEvent)
class AuditEventAdmin(ReadOnlyAdmin):
    list_display = ["created_at", "actor", "action", "key_id", "key_version", "error_code"]
    list_filter = ["action", "error_code"]
    search_fields = ["key_id", "actor", "request_id"]


@admin.register(KeyUsage)
class KeyUsageAdmin(ReadOnlyAdmin):
    list_display = ["key", "month", "calls"]
