"""JSON API request and response shapes (snake_case, as PRODUCT.md lists them)."""

from rest_framework import serializers

from buckets.models import Bucket, Job, SseMode, StoredObject
from keys.models import AuditEvent, MasterKey
from roles.models import Role, SubUser


class EncryptionSerializer(serializers.Serializer):
    algorithm = serializers.ChoiceField(["AES256", "KMS"])
    kms_key_id = serializers.CharField(required=False, allow_null=True, allow_blank=True, default=None)


def bucket_encryption(bucket: Bucket) -> dict | None:
    if not bucket.default_sse:
        return None
    return {"algorithm": bucket.default_sse, "kms_key_id": bucket.default_kms_key_id or None}


class BucketSerializer(serializers.ModelSerializer):
    owner_appid = serializers.CharField(source="owner.appid", read_only=True)
    acl = serializers.SerializerMethodField()
    encryption = serializers.SerializerMethodField()

    class Meta:
        model = Bucket
        fields = ["name", "region", "owner_appid", "acl", "encryption", "created_at"]

    def get_acl(self, bucket: Bucket) -> str:
        from buckets import acl

        return acl.canned_name(bucket.acl, is_bucket=True)

    def get_encryption(self, bucket: Bucket) -> dict | None:
        return bucket_encryption(bucket)


class BucketCreateSerializer(serializers.Serializer):
    name = serializers.CharField()
    region = serializers.CharField()
    acl = serializers.ChoiceField(["private", "public-read", "public-read-write"], default="private")
    encryption = EncryptionSerializer(required=False, allow_null=True, default=None)


def sse_name(obj: StoredObject) -> str:
    return {SseMode.NONE: "none", SseMode.COS: "SSE-COS", SseMode.KMS: "SSE-KMS", SseMode.CUSTOMER: "SSE-C"}[obj.sse]


class ObjectSerializer(serializers.ModelSerializer):
    size = serializers.IntegerField(source="size_bytes")
    encryption = serializers.SerializerMethodField()
    kms_key_id = serializers.SerializerMethodField()

    class Meta:
        model = StoredObject
        fields = ["key", "size", "etag", "crc64", "content_type", "storage_class", "last_modified", "encryption",
                  "kms_key_id", "metadata", "headers"]  # fmt: skip

    def get_encryption(self, obj: StoredObject) -> str:
        return sse_name(obj)

    def get_kms_key_id(self, obj: StoredObject) -> str | None:
        return obj.kms_key_id or None


class ObjectListSerializer(serializers.Serializer):
    objects = ObjectSerializer(many=True)
    common_prefixes = serializers.ListField(child=serializers.CharField())
    is_truncated = serializers.BooleanField()
    next_marker = serializers.CharField(allow_null=True)


class EncryptionJobCreateSerializer(serializers.Serializer):
    prefix = serializers.CharField(required=False, allow_blank=True, default="")
    sse = serializers.ChoiceField(["AES256", "cos/kms"])
    kms_key_id = serializers.CharField(required=False, allow_null=True, allow_blank=True, default=None)


class JobSerializer(serializers.ModelSerializer):
    id = serializers.UUIDField(source="job_id")
    bucket = serializers.CharField(source="bucket.name")
    errors = serializers.SerializerMethodField()

    class Meta:
        model = Job
        fields = ["id", "kind", "bucket", "params", "status", "total", "done", "failed", "skipped",
                  "bytes_processed", "errors", "requester", "created_at", "started_at", "finished_at"]  # fmt: skip

    def get_errors(self, job: Job) -> list[dict]:
        rows = job.items.filter(state__in=["failed", "skipped"]).exclude(reason="").values("key", "reason")[:1000]
        return [{"key": row["key"], "reason": row["reason"]} for row in rows]


class KeySerializer(serializers.ModelSerializer):
    key_id = serializers.UUIDField(read_only=True)

    class Meta:
        model = MasterKey
        fields = ["key_id", "alias", "description", "region", "state", "origin", "usage", "owner", "is_default",
                  "rotation_enabled", "rotate_days", "last_rotated_at", "next_rotate_at", "deletion_date",
                  "valid_to", "created_at"]  # fmt: skip


class KeyCreateSerializer(serializers.Serializer):
    alias = serializers.CharField(allow_blank=True)
    description = serializers.CharField(required=False, allow_blank=True, default="")
    origin = serializers.ChoiceField(["TENCENT_KMS", "EXTERNAL"], default="TENCENT_KMS")
    region = serializers.CharField(required=False, allow_null=True, default=None)


class KeyUpdateSerializer(serializers.Serializer):
    alias = serializers.CharField(required=False)
    description = serializers.CharField(required=False, allow_blank=True)
    state = serializers.ChoiceField(["Enabled", "Disabled"], required=False)
    rotation_enabled = serializers.BooleanField(required=False)
    rotate_days = serializers.IntegerField(required=False, min_value=7, max_value=365)


class ScheduleDeletionSerializer(serializers.Serializer):
    pending_window_in_days = serializers.IntegerField(min_value=7, max_value=30)


class ImportParametersSerializer(serializers.Serializer):
    wrapping_algorithm = serializers.ChoiceField(["RSAES_PKCS1_V1_5", "RSAES_OAEP_SHA_1", "RSAES_OAEP_SHA_256"])


class ImportMaterialSerializer(serializers.Serializer):
    import_token = serializers.CharField()
    encrypted_key_material = serializers.CharField()
    valid_to = serializers.IntegerField(required=False, default=0, min_value=0)


class AuditEventSerializer(serializers.ModelSerializer):
    class Meta:
        model = AuditEvent
        fields = ["created_at", "actor", "action", "key_id", "key_version", "request_id", "error_code"]


class RoleSerializer(serializers.ModelSerializer):
    policies = serializers.SerializerMethodField()

    class Meta:
        model = Role
        fields = ["role_id", "name", "description", "trust_policy", "tags", "policies", "created_at"]

    def get_policies(self, role: Role) -> list[str]:
        return [attachment.policy.name for attachment in role.attachments.select_related("policy")]


class RoleCreateSerializer(serializers.Serializer):
    name = serializers.CharField()
    trust_policy = serializers.CharField()
    description = serializers.CharField(required=False, allow_blank=True, default="")
    policies = serializers.ListField(child=serializers.CharField(), required=False, default=list)


class SubUserSerializer(serializers.ModelSerializer):
    class Meta:
        model = SubUser
        fields = ["uin", "name", "remark", "created_at"]


class SubUserCreateSerializer(serializers.Serializer):
    name = serializers.CharField()
    remark = serializers.CharField(required=False, allow_blank=True, default="")
    policies = serializers.ListField(child=serializers.CharField(), required=False, default=list)


class PolicySerializer(serializers.Serializer):
    policy_id = serializers.IntegerField()
    name = serializers.CharField()
    description = serializers.CharField()
    type = serializers.ChoiceField(["preset", "custom"])


class AccessKeySerializer(serializers.Serializer):
    secret_id = serializers.CharField()
    status = serializers.CharField()
    created_at = serializers.DateTimeField()
