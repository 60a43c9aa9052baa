"""JSON API views: parse, ask the gate as the operation performed on the resource it acts on, one domain call,
render. Errors: console.jsonapi.errors."""

import base64
import json
import re
from contextlib import contextmanager

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, status
from rest_framework.generics import get_object_or_404
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

import gate
from buckets import acl, cors, jobs, service, sse, tagging
from buckets import errors as cos_errors
from buckets.api.headers import RequestBody
from buckets.models import Bucket, Job, JobStatus, SseMode, StoredObject
from console.edge import context_of, download_response
from keys import service as kms
from keys.models import AuditEvent, KeyOrigin, MasterKey
from roles import policy
from roles import service as roles
from roles.models import Policy, Role, SubUser

from . import serializers as s
from .auth import principal_of
from .errors import InvalidParameter
from .pagination import MAX_LIMIT, PAGE_PARAMETERS, Page
from .parsers import PARSERS
from .requestid import request_id_of

MAX_KEYS = re.compile(r"[0-9]{1,4}")


class ApiView(APIView):
    parser_classes = PARSERS


def require(request: Request, action: str, resource: str = "*") -> None:
    gate.authorise(principal_of(request), action, resource, context_of(request))


def cam_resource(request: Request, target: str) -> str:
    return policy.cam_resource(principal_of(request).account.uin, target)


def require_policies(request: Request, action: str, names: list[str]) -> None:
    """`action` (cam:AttachUserPolicy, cam:AttachRolePolicy) on each named policy, before anything is created."""
    account = principal_of(request).account
    for name in names:
        found = roles.get_policy(account, name=name)
        require(request, action, cam_resource(request, f"policy/{found.policy_id}"))


def own_bucket(request: Request, name: str, action: str, key: str = "") -> Bucket:
    bucket = Bucket.objects.filter(name=name, owner=principal_of(request).account).select_related("owner").first()
    if bucket is None:
        raise cos_errors.NoSuchBucket()
    require(request, f"cos:{action}", policy.cos_resource(bucket.region, bucket.owner.appid, bucket.name, key))
    return bucket


def kms_caller(request: Request, region: str | None = None) -> kms.KmsCaller:
    principal = principal_of(request)
    return kms.KmsCaller(principal.account, f"jsonapi:{principal.actor}", region, request_id_of(request))


def requester(request: Request) -> str:
    return f"jsonapi:{principal_of(request).actor}"


# -- buckets ---------------------------------------------------------------------------------------------------


class BucketList(ApiView):
    @extend_schema(parameters=[OpenApiParameter("region", str), *PAGE_PARAMETERS], responses=s.BucketPageSerializer)
    def get(self, request: Request) -> Response:
        page = Page.of(request)
        require(request, "cos:GetService")
        buckets = service.list_buckets(principal_of(request).account, region=request.query_params.get("region"))
        return page.respond(request, buckets, lambda rows: s.BucketSerializer(rows, many=True).data)

    @extend_schema(request=s.BucketCreateSerializer, responses={201: s.BucketSerializer})
    def post(self, request: Request) -> Response:
        data = s.BucketCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        params = data.validated_data
        account = principal_of(request).account
        require(request, "cos:PutBucket", policy.cos_resource(params["region"], account.appid, params["name"]))
        grants = acl.canned_grants(params["acl"], account.owner_id, acl.BUCKET_CANNED)
        encryption = params["encryption"]
        algorithm = s.ALGORITHM_OF_SSE[encryption["sse"]] if encryption else ""
        kms_key_id = (encryption or {}).get("kms_key_id") or ""
        bucket = service.create_bucket(account, params["name"], params["region"], grants, algorithm, kms_key_id)
        return Response(s.BucketSerializer(bucket).data, status=status.HTTP_201_CREATED)


class BucketDetail(ApiView):
    @extend_schema(responses=s.BucketSerializer)
    def get(self, request: Request, bucket: str) -> Response:
        return Response(s.BucketSerializer(own_bucket(request, bucket, "HeadBucket")).data)

    @extend_schema(responses={204: None})
    def delete(self, request: Request, bucket: str) -> Response:
        service.delete_bucket(own_bucket(request, bucket, "DeleteBucket"))
        return Response(status=status.HTTP_204_NO_CONTENT)


class BucketEncryption(ApiView):
    @extend_schema(responses=s.EncryptionOutSerializer)
    def get(self, request: Request, bucket: str) -> Response:
        found = own_bucket(request, bucket, "GetBucketEncryption")
        if not found.default_sse:
            raise cos_errors.NoSuchEncryptionConfiguration()
        return Response(s.bucket_encryption(found))

    @extend_schema(request=s.EncryptionSerializer, responses=s.EncryptionOutSerializer)
    def put(self, request: Request, bucket: str) -> Response:
        found = own_bucket(request, bucket, "PutBucketEncryption")
        data = s.EncryptionSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        params = data.validated_data
        sse.set_bucket_encryption(
            found, s.ALGORITHM_OF_SSE[params["sse"]], params["kms_key_id"] or "", request_id=request_id_of(request)
        )
        return Response(s.bucket_encryption(found))

    @extend_schema(responses={204: None})
    def delete(self, request: Request, bucket: str) -> Response:
        sse.delete_bucket_encryption(own_bucket(request, bucket, "DeleteBucketEncryption"))
        return Response(status=status.HTTP_204_NO_CONTENT)


@contextmanager
def refused_as(field: str):
    """The domain's refusal of a body (a COS error or a policy syntax error) as a 400 naming `field`, in the domain's
    words."""
    try:
        yield
    except (cos_errors.CosError, policy.PolicySyntaxError) as exc:
        raise serializers.ValidationError({field: [getattr(exc, "message", str(exc))]}) from None


def _tags(request: Request, limit: int) -> dict[str, str]:
    data = s.TagsSerializer(data=request.data)
    data.is_valid(raise_exception=True)
    with refused_as("tags"):
        return tagging.validate_tags(list(data.validated_data["tags"].items()), limit)


class BucketTags(ApiView):
    """A bucket's tags, as PUT/GET/DELETE Bucket tagging: a bucket without tags answers NoSuchTagSet."""

    @extend_schema(responses=s.TagsSerializer)
    def get(self, request: Request, bucket: str) -> Response:
        found = own_bucket(request, bucket, "GetBucketTagging")
        if not found.tags:
            raise cos_errors.NoSuchTagSet()
        return Response({"tags": found.tags})

    @extend_schema(request=s.TagsSerializer, responses=s.TagsSerializer)
    def put(self, request: Request, bucket: str) -> Response:
        found = own_bucket(request, bucket, "PutBucketTagging")
        tagging.set_bucket_tags(found, _tags(request, tagging.MAX_BUCKET_TAGS))
        return Response({"tags": found.tags})

    @extend_schema(responses={204: None})
    def delete(self, request: Request, bucket: str) -> Response:
        tagging.set_bucket_tags(own_bucket(request, bucket, "DeleteBucketTagging"), {})
        return Response(status=status.HTTP_204_NO_CONTENT)


class BucketCors(ApiView):
    """A bucket's CORS rules, as PUT/GET/DELETE Bucket cors."""

    @extend_schema(responses=s.CorsSerializer)
    def get(self, request: Request, bucket: str) -> Response:
        found = own_bucket(request, bucket, "GetBucketCORS")
        if found.cors is None:
            raise cos_errors.NoSuchCORSConfiguration()
        return Response(s.cors_rules_out(found.cors))

    @extend_schema(request=s.CorsSerializer, responses=s.CorsSerializer)
    def put(self, request: Request, bucket: str) -> Response:
        found = own_bucket(request, bucket, "PutBucketCORS")
        data = s.CorsSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        with refused_as("rules"):
            rules = cors.validate_rules(s.cors_rules_in(data.validated_data["rules"]))
        cors.set_bucket_cors(found, rules)
        return Response(s.cors_rules_out(found.cors))

    @extend_schema(responses={204: None})
    def delete(self, request: Request, bucket: str) -> Response:
        cors.set_bucket_cors(own_bucket(request, bucket, "DeleteBucketCORS"), None)
        return Response(status=status.HTTP_204_NO_CONTENT)


class BucketPolicy(ApiView):
    """A bucket's policy, as PUT/GET/DELETE Bucket policy: `policy` is COS's JSON document."""

    @extend_schema(responses=s.BucketPolicySerializer)
    def get(self, request: Request, bucket: str) -> Response:
        found = own_bucket(request, bucket, "GetBucketPolicy")
        if found.policy is None:
            raise cos_errors.NoSuchBucketPolicy()
        return Response({"policy": found.policy})

    @extend_schema(request=s.BucketPolicySerializer, responses=s.BucketPolicySerializer)
    def put(self, request: Request, bucket: str) -> Response:
        found = own_bucket(request, bucket, "PutBucketPolicy")
        data = s.BucketPolicySerializer(data=request.data)
        data.is_valid(raise_exception=True)
        with refused_as("policy"):
            document = policy.parse_bucket_policy(json.dumps(data.validated_data["policy"]), found.name)
        service.set_bucket_policy(found, document)
        return Response({"policy": found.policy})

    @extend_schema(responses={204: None})
    def delete(self, request: Request, bucket: str) -> Response:
        service.set_bucket_policy(own_bucket(request, bucket, "DeleteBucketPolicy"), None)
        return Response(status=status.HTTP_204_NO_CONTENT)


# -- objects ---------------------------------------------------------------------------------------------------

LIST_PARAMETERS = [
    OpenApiParameter("prefix", str, description="Only keys starting with it."),
    OpenApiParameter("delimiter", str, description="Roll keys up after it, past the prefix, into common_prefixes."),
    OpenApiParameter("marker", str, description="List only what sorts after it (a next_marker answered before)."),
    *PAGE_PARAMETERS,
    OpenApiParameter("max_keys", int, description="The old name of limit (1 to 1000).", deprecated=True),
]


def _object_page(request: Request) -> Page:
    """`limit` and `offset`, or `max_keys` as the old name of `limit` (still refused as COS refuses MaxKeys)."""
    page, max_keys = Page.of(request), request.query_params.get("max_keys")
    if max_keys is None:
        return page
    if "limit" in request.query_params:
        raise InvalidParameter("max_keys", "max_keys is the old name of limit: give one of them.")
    if not MAX_KEYS.fullmatch(max_keys) or not 1 <= int(max_keys) <= MAX_LIMIT:
        raise cos_errors.InvalidArgument(f"max_keys must be an integer from 1 to {MAX_LIMIT}.")
    return Page(int(max_keys), page.offset)


class ObjectList(ApiView):
    """GET Bucket as a page: its rows are the objects and common prefixes after `marker`, in key order, as COS's
    MaxKeys counts them; `results` holds the page's objects, `common_prefixes` its prefixes. `next_marker` (the
    page's last row, when more follow) continues the listing by marker, as GET Bucket's NextMarker does."""

    @extend_schema(parameters=LIST_PARAMETERS, responses=s.ObjectPageSerializer)
    def get(self, request: Request, bucket: str) -> Response:
        page = _object_page(request)
        found = own_bucket(request, bucket, "GetBucket")
        query = request.query_params
        scope = {name: query.get(name, "") for name in ("prefix", "delimiter", "marker")}
        count, rows = page.window(
            service.listing_entries(found, **scope), service.count_listing_entries(found, **scope)
        )
        objects = [row for row in rows if isinstance(row, StoredObject)]
        more = page.end < count
        last = rows[-1] if more else None
        body = page.body(request, count, s.ObjectSerializer(objects, many=True).data)
        body["common_prefixes"] = [row for row in rows if isinstance(row, str)]
        body["is_truncated"] = more
        body["next_marker"] = last.key if isinstance(last, StoredObject) else last
        return Response(body)


def _sse_from_query(request: Request) -> sse.SseRequest | None:
    mode = request.query_params.get("sse") or None
    if mode is None:
        if request.query_params.get("kms_key_id"):
            raise cos_errors.InvalidArgument("kms_key_id goes with sse=cos/kms.")
        return None
    if mode == SseMode.COS and request.query_params.get("kms_key_id"):
        raise cos_errors.InvalidArgument("kms_key_id goes with sse=cos/kms, not AES256.")
    if mode not in (SseMode.COS, SseMode.KMS):
        raise cos_errors.InvalidArgument("sse must be AES256 or cos/kms (SSE-C is offered on the COS API only).")
    return sse.SseRequest(mode, kms_key_id=request.query_params.get("kms_key_id", ""))


class ObjectDetail(ApiView):
    parser_classes: list = []  # the body is the object, streamed by the view

    @extend_schema(parameters=[OpenApiParameter("download", bool)], responses=s.ObjectSerializer)
    def get(self, request: Request, bucket: str, key: str):
        if request.query_params.get("download") not in ("1", "true"):
            found = own_bucket(request, bucket, "HeadObject", key)
            return Response(s.ObjectSerializer(service.get_object(found, key)).data)
        found = own_bucket(request, bucket, "GetObject", key)
        read = service.read_object(found, key, {}, want_body=True, customer_key=None, via_api=False)
        return download_response(read.body, key, read.obj.content_type, read.obj.size_bytes)

    @extend_schema(
        parameters=[OpenApiParameter("sse", str, enum=["AES256", "cos/kms"]), OpenApiParameter("kms_key_id", str)],
        request={"application/octet-stream": bytes},
        responses={201: s.ObjectSerializer},
    )
    def put(self, request: Request, bucket: str, key: str) -> Response:
        found = own_bucket(request, bucket, "PutObject", key)
        raw = request._request
        length = raw.META.get("CONTENT_LENGTH")
        if not length or not length.isdecimal():
            raise cos_errors.MissingContentLength()
        attributes = service.ObjectAttributes(content_type=raw.META.get("CONTENT_TYPE") or "application/octet-stream")
        write = service.WriteRequest(attributes=attributes, sse_request=_sse_from_query(request), via_api=False)
        written = service.put_object(found, key, RequestBody(raw), int(length), write)
        return Response(s.ObjectSerializer(written.obj).data, status=status.HTTP_201_CREATED)

    @extend_schema(responses={204: None})
    def delete(self, request: Request, bucket: str, key: str) -> Response:
        service.delete_object(own_bucket(request, bucket, "DeleteObject", key), key)
        return Response(status=status.HTTP_204_NO_CONTENT)


class BucketVersioning(ApiView):
    """A bucket's versioning, as PUT/GET Bucket versioning."""

    @extend_schema(responses=s.VersioningSerializer)
    def get(self, request: Request, bucket: str) -> Response:
        found = own_bucket(request, bucket, "GetBucketVersioning")
        return Response({"status": found.versioning or None})

    @extend_schema(request=s.VersioningSerializer, responses=s.VersioningSerializer)
    def put(self, request: Request, bucket: str) -> Response:
        found = own_bucket(request, bucket, "PutBucketVersioning")
        data = s.VersioningSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        with refused_as("status"):
            service.set_bucket_versioning(found, data.validated_data["status"] or "")
        return Response({"status": found.versioning or None})


VERSION_PARAMETER = OpenApiParameter("version_id", str, description='A version of the key ("null" included)')


def _version_of(request: Request) -> str:
    label = request.query_params.get("version_id")
    if not label:
        raise InvalidParameter("version_id", "Name the version: version_id.")
    with refused_as("version_id"):
        return service.parse_version_id(label)


class ObjectVersions(ApiView):
    """The versions of one key, newest first (delete markers included); one of them downloaded (`version_id` and
    `download`), restored as the current object (POST, a new version) or deleted for good (DELETE)."""

    @extend_schema(
        parameters=[VERSION_PARAMETER, OpenApiParameter("download", bool)], responses=s.VersionListSerializer
    )
    def get(self, request: Request, bucket: str, key: str):
        if request.query_params.get("download") in ("1", "true"):
            found = own_bucket(request, bucket, "GetObject", key)
            read = service.read_object(
                found, key, {}, want_body=True, customer_key=None, via_api=False, version_id=_version_of(request)
            )
            return download_response(read.body, key, read.obj.content_type, read.obj.size_bytes)
        found = own_bucket(request, bucket, "GetBucketObjectVersions")
        return Response({"results": s.VersionSerializer(service.key_versions(found, key), many=True).data})

    @extend_schema(request=s.RestoreVersionSerializer, responses={201: s.ObjectSerializer})
    def post(self, request: Request, bucket: str, key: str) -> Response:
        found = own_bucket(request, bucket, "GetObject", key)
        require(request, "cos:PutObject", policy.cos_resource(found.region, found.owner.appid, found.name, key))
        data = s.RestoreVersionSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        with refused_as("version_id"):
            version_id = service.parse_version_id(data.validated_data["version_id"])
        written = service.restore_version(found, key, version_id, request_id_of(request), via_api=False)
        return Response(s.ObjectSerializer(written.obj).data, status=status.HTTP_201_CREATED)

    @extend_schema(parameters=[VERSION_PARAMETER], responses={204: None})
    def delete(self, request: Request, bucket: str, key: str) -> Response:
        found = own_bucket(request, bucket, "DeleteObject", key)
        service.delete_object(found, key, version_id=_version_of(request))
        return Response(status=status.HTTP_204_NO_CONTENT)


class ObjectTags(ApiView):
    """An object's tags, as PUT/GET/DELETE Object tagging (an object without tags answers `{"tags": {}}`)."""

    @extend_schema(responses=s.TagsSerializer)
    def get(self, request: Request, bucket: str, key: str) -> Response:
        found = own_bucket(request, bucket, "GetObjectTagging", key)
        return Response({"tags": service.get_object(found, key).tags})

    @extend_schema(request=s.TagsSerializer, responses=s.TagsSerializer)
    def put(self, request: Request, bucket: str, key: str) -> Response:
        found = own_bucket(request, bucket, "PutObjectTagging", key)
        obj = service.get_object(found, key)
        tags = _tags(request, tagging.MAX_OBJECT_TAGS)
        tagging.set_object_tags(obj, tags)
        return Response({"tags": tags})

    @extend_schema(responses={204: None})
    def delete(self, request: Request, bucket: str, key: str) -> Response:
        found = own_bucket(request, bucket, "DeleteObjectTagging", key)
        tagging.set_object_tags(service.get_object(found, key), {})
        return Response(status=status.HTTP_204_NO_CONTENT)


# -- jobs ------------------------------------------------------------------------------------------------------


class EncryptionJobs(ApiView):
    operation_ids = {"get": "bucket_encryption_jobs_list", "post": "bucket_encryption_job_create"}

    @extend_schema(parameters=PAGE_PARAMETERS, responses=s.JobPageSerializer)
    def get(self, request: Request, bucket: str) -> Response:
        page = Page.of(request)
        found = own_bucket(request, bucket, "GetBucket")
        jobs_of_bucket = found.jobs.select_related("bucket").order_by("-created_at", "-id")
        return page.respond(request, jobs_of_bucket, lambda rows: s.JobSerializer(rows, many=True).data)

    @extend_schema(request=s.EncryptionJobCreateSerializer, responses={202: s.JobSerializer})
    def post(self, request: Request, bucket: str) -> Response:
        data = s.EncryptionJobCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        params = data.validated_data
        keys = params.get("keys")
        found = own_bucket(request, bucket, "PutObject", params["prefix"] if keys is None else keys[0])
        for key in keys or ():  # the rewrite of each named object is a PutObject on that object
            require(request, "cos:PutObject", policy.cos_resource(found.region, found.owner.appid, found.name, key))
        job = jobs.start_encryption_job(
            found, params["prefix"], params["sse"], params["kms_key_id"], requester(request), keys=keys
        )
        return Response(s.JobSerializer(job).data, status=status.HTTP_202_ACCEPTED)


def _job_resources(job: Job, action: str) -> list[str]:
    """What `action` is asked on for `job`: its bucket (cos:GetBucket), or each object it rewrites (cos:PutObject on
    its prefix or on every key it names: what starting it needed)."""
    bucket = job.bucket
    if action != "cos:PutObject":
        keys = [""]
    else:
        keys = job.params.get("keys") or [job.params.get("prefix", "")]
    return [policy.cos_resource(bucket.region, bucket.owner.appid, bucket.name, key) for key in keys]


def _job(request: Request, job_id: str, action: str) -> Job:
    """The job, once the gate allowed `action` on what the job acts on (_job_resources)."""
    job = get_object_or_404(
        Job.objects.select_related("bucket__owner"), job_id=job_id, bucket__owner=principal_of(request).account
    )
    for resource in _job_resources(job, action):
        require(request, action, resource)
    return job


JOB_FILTERS = [
    OpenApiParameter("bucket", str, description="Only this bucket's jobs (its full name)."),
    OpenApiParameter("status", str, enum=[choice.value for choice in JobStatus]),
    OpenApiParameter("kind", str, enum=[jobs.ENCRYPT_OBJECTS, jobs.DELETE_OBJECTS, jobs.LIFECYCLE]),
]


class JobList(ApiView):
    """Every job of the account the caller may read: each job is shown only where the gate allows cos:GetBucket on
    its bucket, as GET /api/v1/jobs/<id>/ decides."""

    @extend_schema(parameters=[*JOB_FILTERS, *PAGE_PARAMETERS], responses=s.JobPageSerializer)
    def get(self, request: Request) -> Response:
        query = request.query_params
        page = Page.of(request)
        found = Job.objects.select_related("bucket__owner").filter(bucket__owner=principal_of(request).account)
        if query.get("bucket"):
            found = found.filter(bucket__name=query["bucket"])
        if query.get("status"):
            if query["status"] not in JobStatus.values:
                raise InvalidParameter("status", f"status must be one of {', '.join(JobStatus.values)}.")
            found = found.filter(status=query["status"])
        if query.get("kind"):
            found = found.filter(kind=query["kind"])
        context, principal = context_of(request), principal_of(request)
        readable = (
            job
            for job in found.order_by("-created_at", "-id").iterator(chunk_size=200)
            if all(gate.allowed(principal, "cos:GetBucket", r, context) for r in _job_resources(job, "cos:GetBucket"))
        )
        return page.respond(request, readable, lambda rows: s.JobSerializer(rows, many=True).data)


class JobDetail(ApiView):
    @extend_schema(responses=s.JobSerializer)
    def get(self, request: Request, job_id: str) -> Response:
        return Response(s.JobSerializer(_job(request, job_id, "cos:GetBucket")).data)


class JobCancel(ApiView):
    @extend_schema(request=None, responses=s.JobSerializer)
    def post(self, request: Request, job_id: str) -> Response:
        return Response(s.JobSerializer(jobs.cancel_job(_job(request, job_id, "cos:PutObject"))).data)


# -- KMS -------------------------------------------------------------------------------------------------------


class KmsStatus(ApiView):
    @extend_schema(responses={200: dict})
    def get(self, request: Request) -> Response:
        require(request, "kms:GetServiceStatus")
        # Read without the audited service call: looking is not a KMS event (only changes and key use are).
        account = principal_of(request).account
        enabled = kms.is_activated(account)
        count = MasterKey.objects.live().filter(account=account, owner="user").count() if enabled else 0
        return Response({"activated": enabled, "key_count": count, "key_limit": kms.MAX_KEYS_PER_REGION})


class KmsActivate(ApiView):
    @extend_schema(request=None, responses={200: dict})
    def post(self, request: Request) -> Response:
        require(request, "kms:CreateKey")
        return Response({"default_keys": kms.activate_kms(principal_of(request).account)})


class KeyList(ApiView):
    @extend_schema(parameters=[OpenApiParameter("region", str), *PAGE_PARAMETERS], responses=s.KeyPageSerializer)
    def get(self, request: Request) -> Response:
        page = Page.of(request)
        require(request, "kms:ListKeyDetail")
        caller = kms_caller(request, request.query_params.get("region"))
        kms.require_activated(caller.account)  # read without the audited ListKeyDetail, as KmsStatus does
        keys = MasterKey.objects.live().filter(account=caller.account, region=caller.kms_region)
        return page.respond(
            request, keys.order_by("-created_at", "-id"), lambda rows: s.KeySerializer(rows, many=True).data
        )

    @extend_schema(request=s.KeyCreateSerializer, responses={201: s.KeySerializer})
    def post(self, request: Request) -> Response:
        require(request, "kms:CreateKey")
        data = s.KeyCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        params = data.validated_data
        key = kms.create_key(
            kms_caller(request, params["region"]),
            params["alias"],
            params["description"],
            key_type=1 if params["origin"] == KeyOrigin.TENCENT_KMS else 2,
        )
        return Response(s.KeySerializer(key).data, status=status.HTTP_201_CREATED)


def _key(request: Request, key_id: str, *actions: str) -> tuple[MasterKey, kms.KmsCaller]:
    """The key, once the gate allowed each of `actions` on its real resource (region, owner, creator)."""
    key = kms.get_key(kms_caller(request), key_id, any_region=True)
    resource = policy.kms_resource(key.region, key.account.uin, key.creator_uin, str(key.key_id))
    for action in actions:
        require(request, f"kms:{action}", resource)
    return key, kms_caller(request, key.region)


def _changes(params: dict) -> list[str]:
    """The KMS action each field of a key PATCH performs."""
    actions = []
    if "alias" in params:
        actions.append("UpdateAlias")
    if "description" in params:
        actions.append("UpdateKeyDescription")
    if "state" in params:
        actions.append("EnableKey" if params["state"] == "Enabled" else "DisableKey")
    if "rotation_enabled" in params:
        actions.append("EnableKeyRotation" if params["rotation_enabled"] else "DisableKeyRotation")
    return actions


class KeyDetail(ApiView):
    @extend_schema(responses=s.KeySerializer)
    def get(self, request: Request, key_id: str) -> Response:
        key, _ = _key(request, key_id, "DescribeKey")
        return Response(s.KeySerializer(key).data)

    @extend_schema(request=s.KeyUpdateSerializer, responses=s.KeySerializer)
    def patch(self, request: Request, key_id: str) -> Response:
        data = s.KeyUpdateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        params = data.validated_data
        key, caller = _key(request, key_id, *(_changes(params) or ["DescribeKey"]))
        if params.get("state") == "Enabled":
            kms.enable_key(caller, key_id)
        elif params.get("state") == "Disabled":
            kms.disable_key(caller, key_id)
        if "alias" in params:
            kms.update_alias(caller, key_id, params["alias"])
        if "description" in params:
            kms.update_key_description(caller, key_id, params["description"])
        if params.get("rotation_enabled") is True:
            kms.enable_key_rotation(caller, key_id, params.get("rotate_days", key.rotate_days))
        elif params.get("rotation_enabled") is False:
            kms.disable_key_rotation(caller, key_id)
        key.refresh_from_db()
        return Response(s.KeySerializer(key).data)


class KeyAction(ApiView):
    @extend_schema(request=None, responses=s.KeySerializer)
    def post(self, request: Request, key_id: str, operation: str) -> Response:
        if operation not in kms.KEY_CHANGES:
            return Response({"code": "NotFound", "detail": f"No key action {operation!r}."}, status=404)
        action_name, run = kms.KEY_CHANGES[operation]
        key, caller = _key(request, key_id, action_name)
        run(caller, key_id)
        key.refresh_from_db()
        return Response(s.KeySerializer(key).data)


class KeyScheduleDeletion(ApiView):
    @extend_schema(request=s.ScheduleDeletionSerializer, responses=s.KeySerializer)
    def post(self, request: Request, key_id: str) -> Response:
        _, caller = _key(request, key_id, "ScheduleKeyDeletion")
        data = s.ScheduleDeletionSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        key = kms.schedule_key_deletion(caller, key_id, data.validated_data["pending_window_in_days"])
        return Response(s.KeySerializer(key).data)


class KeyImpact(ApiView):
    @extend_schema(responses={200: dict})
    def get(self, request: Request, key_id: str) -> Response:
        key, _ = _key(request, key_id, "DescribeKey")
        impact = jobs.objects_using_kms_key(principal_of(request).account, str(key.key_id))
        buckets = list(
            Bucket.objects.filter(owner=key.account, default_kms_key_id=str(key.key_id)).values_list("name", flat=True)
        )
        body = {"objects": impact.objects, "versions": impact.versions, "bytes": impact.bytes}
        return Response({**body, "bucket_defaults": buckets})


class KeyImportParameters(ApiView):
    @extend_schema(request=s.ImportParametersSerializer, responses={200: dict})
    def post(self, request: Request, key_id: str) -> Response:
        _, caller = _key(request, key_id, "GetParametersForImport")
        data = s.ImportParametersSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        found = kms.get_parameters_for_import(caller, key_id, data.validated_data["wrapping_algorithm"], "RSA_2048")
        return Response(
            {
                "import_token": found.token,
                "public_key": base64.b64encode(found.public_key_der).decode(),
                "parameters_valid_to": found.valid_to,
            }
        )


class KeyImportMaterial(ApiView):
    @extend_schema(request=s.ImportMaterialSerializer, responses=s.KeySerializer)
    def post(self, request: Request, key_id: str) -> Response:
        key, caller = _key(request, key_id, "ImportKeyMaterial")
        data = s.ImportMaterialSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        params = data.validated_data
        kms.import_key_material(
            caller, key_id, params["import_token"], params["encrypted_key_material"], params["valid_to"]
        )
        key.refresh_from_db()
        return Response(s.KeySerializer(key).data)


class KeyUsage(ApiView):
    @extend_schema(responses={200: dict})
    def get(self, request: Request, key_id: str) -> Response:
        key, _ = _key(request, key_id, "DescribeKey")
        return Response({row.month: row.calls for row in key.monthly_usage.order_by("month")})


class KeyAudit(ApiView):
    operation_ids = {"get": "key_audit_list"}

    @extend_schema(parameters=PAGE_PARAMETERS, responses=s.AuditEventPageSerializer)
    def get(self, request: Request, key_id: str) -> Response:
        page = Page.of(request)
        key, _ = _key(request, key_id, "DescribeKey")
        events = AuditEvent.objects.filter(account=key.account, key_id=str(key.key_id)).order_by("-created_at", "-id")
        return page.respond(request, events, lambda rows: s.AuditEventSerializer(rows, many=True).data)


# -- CAM -------------------------------------------------------------------------------------------------------


class RoleList(ApiView):
    @extend_schema(parameters=PAGE_PARAMETERS, responses=s.RolePageSerializer)
    def get(self, request: Request) -> Response:
        page = Page.of(request)
        require(request, "cam:DescribeRoleList")
        found = Role.objects.filter(account=principal_of(request).account).order_by("created_at", "id")
        return page.respond(request, found, lambda rows: s.RoleSerializer(rows, many=True).data)

    @extend_schema(request=s.RoleCreateSerializer, responses={201: s.RoleSerializer})
    def post(self, request: Request) -> Response:
        data = s.RoleCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        params = data.validated_data
        require(request, "cam:CreateRole", cam_resource(request, f"roleName/{params['name']}"))
        require_policies(request, "cam:AttachRolePolicy", params["policies"])
        account = principal_of(request).account
        role = roles.create_role(
            account, params["name"], params["trust_policy"], params["description"], policies=params["policies"]
        )
        return Response(s.RoleSerializer(role).data, status=status.HTTP_201_CREATED)


class RoleDetail(ApiView):
    @extend_schema(responses=s.RoleSerializer)
    def get(self, request: Request, name: str) -> Response:
        require(request, "cam:GetRole", cam_resource(request, f"roleName/{name}"))
        return Response(s.RoleSerializer(roles.get_role(principal_of(request).account, name=name)).data)

    @extend_schema(responses={204: None})
    def delete(self, request: Request, name: str) -> Response:
        require(request, "cam:DeleteRole", cam_resource(request, f"roleName/{name}"))
        roles.delete_role(roles.get_role(principal_of(request).account, name=name))
        return Response(status=status.HTTP_204_NO_CONTENT)


class CosServiceRole(ApiView):
    @extend_schema(request=None, responses=s.RoleSerializer)
    def post(self, request: Request) -> Response:
        require(request, "cam:CreateRole", cam_resource(request, f"roleName/{roles.COS_SERVICE_ROLE}"))
        require_policies(request, "cam:AttachRolePolicy", [roles.COS_SERVICE_ROLE_POLICY])
        return Response(s.RoleSerializer(roles.ensure_cos_service_role(principal_of(request).account)).data)


def _policy(found: Policy) -> dict:
    kind = "preset" if found.account_id is None else "custom"
    return {"policy_id": found.policy_id, "name": found.name, "description": found.description, "type": kind}


class PolicyList(ApiView):
    @extend_schema(parameters=PAGE_PARAMETERS, responses=s.PolicyPageSerializer)
    def get(self, request: Request) -> Response:
        page = Page.of(request)
        require(request, "cam:ListPolicies")
        found = roles.visible_policies(principal_of(request).account).order_by("policy_id")
        return page.respond(request, found, lambda rows: [_policy(row) for row in rows])


class UserList(ApiView):
    @extend_schema(parameters=PAGE_PARAMETERS, responses=s.SubUserPageSerializer)
    def get(self, request: Request) -> Response:
        page = Page.of(request)
        require(request, "cam:ListUsers")
        users = SubUser.objects.filter(account=principal_of(request).account).order_by("created_at", "id")
        return page.respond(request, users, lambda rows: s.SubUserSerializer(rows, many=True).data)

    @extend_schema(request=s.SubUserCreateSerializer, responses={201: dict})
    def post(self, request: Request) -> Response:
        require(request, "cam:AddUser")
        data = s.SubUserCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        params = data.validated_data
        require_policies(request, "cam:AttachUserPolicy", params["policies"])
        account = principal_of(request).account
        user, key, secret_key = roles.add_user_with_key(account, params["name"], params["remark"], params["policies"])
        return Response(
            {**s.SubUserSerializer(user).data, "secret_id": key.secret_id, "secret_key": secret_key},
            status=status.HTTP_201_CREATED,
        )


class UserAccessKeys(ApiView):
    operation_ids = {"get": "user_access_keys_list", "post": "user_access_key_create"}

    @extend_schema(parameters=PAGE_PARAMETERS, responses=s.AccessKeyPageSerializer)
    def get(self, request: Request, name: str) -> Response:
        page = Page.of(request)
        account = principal_of(request).account
        user = roles.get_user(account, name=name)
        require(request, "cam:ListAccessKeys", cam_resource(request, f"uin/{user.uin}"))
        keys = roles.access_keys(account, user)
        return page.respond(
            request,
            keys,
            lambda rows: [{"secret_id": k.secret_id, "status": k.status, "created_at": k.created_at} for k in rows],
        )

    @extend_schema(request=None, responses={201: dict})
    def post(self, request: Request, name: str) -> Response:
        account = principal_of(request).account
        user = roles.get_user(account, name=name)
        require(request, "cam:CreateAccessKey", cam_resource(request, f"uin/{user.uin}"))
        key, secret_key = roles.create_access_key(account, user)
        return Response({"secret_id": key.secret_id, "secret_key": secret_key}, status=status.HTTP_201_CREATED)
