"""Admin for accounts, sub-users, keys, roles and policies. Secrets appear only as "sealed"; keys can be
deactivated but their secret is never shown or edited."""

from django.contrib import admin

from roles.models import Account, ApiKey, Policy, Role, SubUser


@admin.register(Account)
class AccountAdmin(admin.ModelAdmin):
    list_display = ["appid", "uin", "is_root", "created_at"]
    fields = ["appid", "uin", "is_root", "created_at", "api_token"]
    readonly_fields = fields

    @admin.display(description="API token")
    def api_token(self, account: Account) -> str:
        return "sealed (python manage.py credentials --json shows it)"

    def has_add_permission(self, request) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


@admin.register(ApiKey)
class ApiKeyAdmin(admin.ModelAdmin):
    list_display = ["secret_id", "account", "user", "status", "created_at"]
    list_filter = ["status"]
    search_fields = ["secret_id"]
    fields = ["secret_id", "account", "user", "description", "status", "created_at", "secret_key"]
    readonly_fields = ["secret_id", "account", "user", "created_at", "secret_key"]

    @admin.display(description="SecretKey")
    def secret_key(self, key: ApiKey) -> str:
        return "sealed"

    def has_add_permission(self, request) -> bool:
        return False


@admin.register(SubUser)
class SubUserAdmin(admin.ModelAdmin):
    list_display = ["name", "uin", "account", "created_at"]
    search_fields = ["name", "uin"]
    readonly_fields = ["uin", "uid", "account", "created_at"]


@admin.register(Role)
class RoleAdmin(admin.ModelAdmin):
    list_display = ["name", "role_id", "account", "created_at"]
    search_fields = ["name"]
    readonly_fields = ["role_id", "account", "created_at", "updated_at"]


@admin.register(Policy)
class PolicyAdmin(admin.ModelAdmin):
    list_display = ["name", "policy_id", "type", "account"]
    list_filter = ["type"]
    search_fields = ["name"]
    readonly_fields = ["policy_id", "type", "account", "created_at", "updated_at"]
