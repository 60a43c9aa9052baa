"""JSON API request and response shapes (snake_case, as PRODUCT.md lists them).

Encryption has one vocabulary everywhere: `"sse": "AES256" | "cos/kms" | null` with `kms_key_id` null when unset.
The names PRODUCT.md promised before it (a bucket's `"algorithm": "AES256" | "KMS"`, an object's `"encryption"`) are
still accepted and answered, marked deprecated in the schema. A request body naming a field the API does not know is
refused with 400, never silently ignored."""

from collections.abc import Mapping

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from buckets.models import Bucket, Job, SseMode, StoredObject
from buckets.service import version_label
from keys.models import AuditEvent, MasterKey
from roles.models import Role, SubUser

from .pagination import page_serializer

MAX_JOB_KEYS = 1000
SSE_CHOICES = ["AES256", "cos/kms"]
OBJECT_SSE = ["AES256", "cos/kms", "SSE-C"]  # what an object's `sse` can be
VERSIONING_STATES = ["Enabled", "Suspended"]
# A bucket default's COS wire name (PUT Bucket encryption's SSEAlgorithm) for each `sse`, and back.
ALGORITHM_OF_SSE = {"AES256": "AES256", "cos/kms": "KMS"}
SSE_OF_ALGORITHM = {algorithm: sse for sse, algorithm in ALGORITHM_OF_SSE.items()}
# Sent by the browsable API's HTML forms alongside the fields; CSRF middleware reads it, the serializer does not.
FORM_FIELDS = {"csrfmiddlewaretoken"}


class StrictSerializer(serializers.Serializer):
    """A request body: a field it does not declare is a 400 naming that field."""

    def to_internal_value(self, data):
        if isinstance(data, Mapping):
            unknown = sorted(set(data) - set(self.fields) - FORM_FIELDS)
            if unknown:
                raise serializers.ValidationError({name: ["This field is not known."] for name in unknown})
        return super().to_internal_value(data)


@extend_schema_field(
    {
        "type": "string",
        "enum": ["AES256", "KMS"],
        "deprecated": True,
        "description": "Deprecated: the same as `sse` in COS's PUT Bucket encryption names.",
    }
)
class DeprecatedAlgorithmField(serializers.ChoiceField):
    def __init__(self, **kwargs) -> None:
        super().__init__(["AES256", "KMS"], **kwargs)


@extend_schema_field(
    {
        "type": "string",
        "enum": ["none", "SSE-COS", "SSE-KMS", "SSE-C"],
        "deprecated": True,
        "description": "Deprecated: use `sse`.",
    }
)
class DeprecatedObjectEncryptionField(serializers.SerializerMethodField):
    pass


class EncryptionSerializer(StrictSerializer):
    """A bucket's default encryption: `sse` (or the deprecated `algorithm`) and the CMK for cos/kms."""

    sse = serializers.ChoiceField(SSE_CHOICES, required=False)
    algorithm = DeprecatedAlgorithmField(required=False)
    kms_key_id = serializers.CharField(required=False, allow_null=True, allow_blank=True, default=None)

    def validate(self, attrs: dict) -> dict:
        sse, algorithm = attrs.pop("sse", None), attrs.pop("algorithm", None)
        if sse is None and algorithm is None:
            raise serializers.ValidationError({"sse": ["This field is required."]})
        if sse is not None and algorithm is not None and ALGORITHM_OF_SSE[sse] != algorithm:
            raise serializers.ValidationError({"sse": ["sse and algorithm name different encryption."]})
        attrs["sse"] = sse or SSE_OF_ALGORITHM[algorithm]
        return attrs


class EncryptionOutSerializer(serializers.Serializer):
    sse = serializers.ChoiceField(SSE_CHOICES)
    kms_key_id = serializers.CharField(allow_null=True)
    algorithm = DeprecatedAlgorithmField()


def bucket_encryption(bucket: Bucket) -> dict | None:
    if not bucket.default_sse:
        return None
    return {
        "sse": SSE_OF_ALGORITHM[bucket.default_sse],
        "kms_key_id": bucket.default_kms_key_id or None,
        "algorithm": bucket.default_sse,
    }


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

    @extend_schema_field(EncryptionOutSerializer(allow_null=True))
    def get_encryption(self, bucket: Bucket) -> dict | None:
        return bucket_encryption(bucket)


class BucketCreateSerializer(StrictSerializer):
    name = serializers.CharField()
    region = serializers.CharField()
    acl = serializers.ChoiceField(["private", "public-read", "public-read-write"], default="private")
    encryption = EncryptionSerializer(required=False, allow_null=True, default=None)


SSE_NAMES = {SseMode.NONE: "none", SseMode.COS: "SSE-COS", SseMode.KMS: "SSE-KMS", SseMode.CUSTOMER: "SSE-C"}


def sse_name(obj: StoredObject) -> str:
    return SSE_NAMES[obj.sse]


class ObjectSerializer(serializers.ModelSerializer):
    size = serializers.IntegerField(source="size_bytes")
    sse = serializers.SerializerMethodField()
    kms_key_id = serializers.SerializerMethodField()
    encryption = DeprecatedObjectEncryptionField()
    version_id = serializers.SerializerMethodField(help_text='"null" for the version a never-versioned bucket holds')

    class Meta:
        model = StoredObject
        fields = [
            "key",
            "size",
            "etag",
            "crc64",
            "content_type",
            "storage_class",
            "last_modified",
            "sse",
            "kms_key_id",
            "encryption",
            "metadata",
            "headers",
            "tags",
            "version_id",
        ]

    @extend_schema_field({"type": "string", "enum": OBJECT_SSE, "nullable": True})
    def get_sse(self, obj: StoredObject) -> str | None:
        return obj.sse or None

    def get_encryption(self, obj: StoredObject) -> str:
        return sse_name(obj)

    def get_kms_key_id(self, obj: StoredObject) -> str | None:
        return obj.kms_key_id or None

    def get_version_id(self, obj: StoredObject) -> str:
        return version_label(obj.version_id)


class VersionSerializer(ObjectSerializer):
    """One version of an object, or a delete marker (no bytes: size 0, no ETag)."""

    class Meta(ObjectSerializer.Meta):
        fields = [*ObjectSerializer.Meta.fields, "is_latest", "delete_marker"]


class VersionListSerializer(serializers.Serializer):
    results = VersionSerializer(many=True)


class VersioningSerializer(StrictSerializer):
    """A bucket's versioning: Enabled, Suspended, or null for a bucket never versioned (which it cannot return to)."""

    status = serializers.ChoiceField(VERSIONING_STATES, allow_null=True)


class RestoreVersionSerializer(StrictSerializer):
    version_id = serializers.CharField(max_length=32)


class EncryptionJobCreateSerializer(StrictSerializer):
    """Re-encrypt every object under `prefix`, or only the objects `keys` names (then `prefix` must be empty)."""

    prefix = serializers.CharField(required=False, allow_blank=True, default="")
    keys = serializers.ListField(
        child=serializers.CharField(max_length=850), required=False, allow_empty=False, max_length=MAX_JOB_KEYS
    )
    sse = serializers.ChoiceField(SSE_CHOICES)
    kms_key_id = serializers.CharField(required=False, allow_null=True, allow_blank=True, default=None)

    def validate(self, attrs: dict) -> dict:
        if "keys" in attrs and attrs["prefix"]:
            raise serializers.ValidationError({"keys": ["Name either keys or a prefix, not both."]})
        return attrs


class TagsSerializer(StrictSerializer):
    """A bucket's or an object's tags: key to value (COS's TagSet; the domain checks COS's limits)."""

    tags = serializers.DictField(child=serializers.CharField(allow_blank=True, trim_whitespace=False))


class CorsRuleSerializer(StrictSerializer):
    """One CORSRule in snake_case; the domain (buckets.cors) checks what COS checks."""

    id = serializers.CharField(required=False, allow_blank=True, default="")
    allowed_origins = serializers.ListField(child=serializers.CharField())
    allowed_methods = serializers.ListField(child=serializers.CharField())
    allowed_headers = serializers.ListField(child=serializers.CharField(), required=False, default=list)
    expose_headers = serializers.ListField(child=serializers.CharField(), required=False, default=list)
    max_age_seconds = serializers.IntegerField(required=False, allow_null=True, default=None)


class CorsSerializer(StrictSerializer):
    rules = serializers.ListField(child=CorsRuleSerializer())


# A CORS rule's JSON API name of each field of the domain's rule (buckets.cors).
CORS_FIELDS = {
    "id": "id",
    "allowed_origins": "origins",
    "allowed_methods": "methods",
    "allowed_headers": "headers",
    "expose_headers": "expose",
    "max_age_seconds": "max_age",
}


def cors_rules_in(rules: list[dict]) -> list[dict]:
    return [{CORS_FIELDS[name]: value for name, value in rule.items()} for rule in rules]


def cors_rules_out(rules: list[dict]) -> dict:
    return {"rules": [{name: rule[field] for name, field in CORS_FIELDS.items()} for rule in rules]}


class BucketPolicySerializer(StrictSerializer):
    """A bucket policy: COS's JSON document (CAM syntax 2.0, each statement naming its principals)."""

    policy = serializers.DictField()


class JobParamsSerializer(serializers.Serializer):
    prefix = serializers.CharField()
    keys = serializers.ListField(child=serializers.CharField(), required=False)
    sse = serializers.ChoiceField(SSE_CHOICES, allow_null=True, required=False)
    kms_key_id = serializers.CharField(allow_null=True, required=False)


def job_params(job: Job) -> dict:
    params = dict(job.params)
    if "sse" in params:
        params["sse"] = params["sse"] or None
    if "kms_key_id" in params:
        params["kms_key_id"] = params["kms_key_id"] or None
    return params


class JobErrorSerializer(serializers.Serializer):
    key = serializers.CharField()
    reason = serializers.CharField()


class JobSerializer(serializers.ModelSerializer):
    id = serializers.UUIDField(source="job_id")
    bucket = serializers.CharField(source="bucket.name")
    params = serializers.SerializerMethodField()
    errors = serializers.SerializerMethodField()

    class Meta:
        model = Job
        fields = [
            "id",
            "kind",
            "bucket",
            "params",
            "status",
            "total",
            "done",
            "failed",
            "skipped",
            "bytes_processed",
            "errors",
            "requester",
            "created_at",
            "started_at",
            "finished_at",
        ]

    @extend_schema_field(JobParamsSerializer)
    def get_params(self, job: Job) -> dict:
        return job_params(job)

    @extend_schema_field(JobErrorSerializer(many=True))
    def get_errors(self, job: Job) -> list[dict]:
        rows = job.items.filter(state__in=["failed", "skipped"]).exclude(reason="").values("key", "reason")[:1000]
        return [{"key": row["key"], "reason": row["reason"]} for row in rows]


class KeySerializer(serializers.ModelSerializer):
    key_id = serializers.UUIDField(read_only=True)

    class Meta:
        model = MasterKey
        fields = [
            "key_id",
            "alias",
            "description",
            "region",
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
            "created_at",
        ]


class KeyCreateSerializer(StrictSerializer):
    alias = serializers.CharField(allow_blank=True)
    description = serializers.CharField(required=False, allow_blank=True, default="")
    origin = serializers.ChoiceField(["TENCENT_KMS", "EXTERNAL"], default="TENCENT_KMS")
    region = serializers.CharField(required=False, allow_null=True, default=None)


class KeyUpdateSerializer(StrictSerializer):
    alias = serializers.CharField(required=False)
    description = serializers.CharField(required=False, allow_blank=True)
    state = serializers.ChoiceField(["Enabled", "Disabled"], required=False)
    rotation_enabled = serializers.BooleanField(required=False)
    rotate_days = serializers.IntegerField(required=False, min_value=7, max_value=365)


class ScheduleDeletionSerializer(StrictSerializer):
    pending_window_in_days = serializers.IntegerField(min_value=7, max_value=30)


class ImportParametersSerializer(StrictSerializer):
    wrapping_algorithm = serializers.ChoiceField(["RSAES_PKCS1_V1_5", "RSAES_OAEP_SHA_1", "RSAES_OAEP_SHA_256"])


class ImportMaterialSerializer(StrictSerializer):
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


class RoleCreateSerializer(StrictSerializer):
    name = serializers.CharField()
    trust_policy = serializers.CharField()
    description = serializers.CharField(required=False, allow_blank=True, default="")
    policies = serializers.ListField(child=serializers.CharField(), required=False, default=list)


class SubUserSerializer(serializers.ModelSerializer):
    class Meta:
        model = SubUser
        fields = ["uin", "name", "remark", "created_at"]


class SubUserCreateSerializer(StrictSerializer):
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


# Every list is a page (console.jsonapi.pagination); the objects list adds GET Bucket's own fields.
BucketPageSerializer = page_serializer("Bucket", BucketSerializer(many=True))
ObjectPageSerializer = page_serializer(
    "Object",
    ObjectSerializer(many=True),
    common_prefixes=serializers.ListField(child=serializers.CharField()),
    is_truncated=serializers.BooleanField(),
    next_marker=serializers.CharField(allow_null=True),
)
JobPageSerializer = page_serializer("Job", JobSerializer(many=True))
KeyPageSerializer = page_serializer("Key", KeySerializer(many=True))
AuditEventPageSerializer = page_serializer("AuditEvent", AuditEventSerializer(many=True))
RolePageSerializer = page_serializer("Role", RoleSerializer(many=True))
PolicyPageSerializer = page_serializer("Policy", PolicySerializer(many=True))
SubUserPageSerializer = page_serializer("SubUser", SubUserSerializer(many=True))
AccessKeyPageSerializer = page_serializer("AccessKey", AccessKeySerializer(many=True))
