"""/api/v1/ routes, the OpenAPI schema and its browsable docs."""

from django.urls import path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from . import views

urlpatterns = [
    path("schema/", SpectacularAPIView.as_view(), name="api-schema"),
    # The split view serves Swagger UI's start-up script as a file of its own: no inline script under the CSP.
    path(
        "docs/",
        SpectacularSwaggerSplitView.as_view(url_name="api-schema", template_name="console/apidocs.html"),
        name="api-docs",
    ),
    path("buckets/", views.BucketList.as_view(), name="api-buckets"),
    path("buckets/<str:bucket>/", views.BucketDetail.as_view(), name="api-bucket"),
    path("buckets/<str:bucket>/encryption/", views.BucketEncryption.as_view(), name="api-bucket-encryption"),
    path("buckets/<str:bucket>/tags/", views.BucketTags.as_view(), name="api-bucket-tags"),
    path("buckets/<str:bucket>/cors/", views.BucketCors.as_view(), name="api-bucket-cors"),
    path("buckets/<str:bucket>/policy/", views.BucketPolicy.as_view(), name="api-bucket-policy"),
    path("buckets/<str:bucket>/encryption-jobs/", views.EncryptionJobs.as_view(), name="api-encryption-jobs"),
    path("buckets/<str:bucket>/objects/", views.ObjectList.as_view(), name="api-objects"),
    path("buckets/<str:bucket>/objects/<key:key>", views.ObjectDetail.as_view(), name="api-object"),
    path("buckets/<str:bucket>/object-tags/<key:key>", views.ObjectTags.as_view(), name="api-object-tags"),
    path("buckets/<str:bucket>/versioning/", views.BucketVersioning.as_view(), name="api-bucket-versioning"),
    path("buckets/<str:bucket>/versions/<key:key>", views.ObjectVersions.as_view(), name="api-object-versions"),
    path("jobs/", views.JobList.as_view(), name="api-jobs"),
    path("jobs/<uuid:job_id>/", views.JobDetail.as_view(), name="api-job"),
    path("jobs/<uuid:job_id>/cancel/", views.JobCancel.as_view(), name="api-job-cancel"),
    path("kms/", views.KmsStatus.as_view(), name="api-kms"),
    path("kms/activate/", views.KmsActivate.as_view(), name="api-kms-activate"),
    path("kms/keys/", views.KeyList.as_view(), name="api-keys"),
    path("kms/keys/<str:key_id>/", views.KeyDetail.as_view(), name="api-key"),
    path("kms/keys/<str:key_id>/schedule-deletion/", views.KeyScheduleDeletion.as_view(), name="api-key-deletion"),
    path("kms/keys/<str:key_id>/impact/", views.KeyImpact.as_view(), name="api-key-impact"),
    path("kms/keys/<str:key_id>/import-parameters/", views.KeyImportParameters.as_view(), name="api-key-import-params"),
    path("kms/keys/<str:key_id>/import/", views.KeyImportMaterial.as_view(), name="api-key-import"),
    path("kms/keys/<str:key_id>/usage/", views.KeyUsage.as_view(), name="api-key-usage"),
    path("kms/keys/<str:key_id>/audit/", views.KeyAudit.as_view(), name="api-key-audit"),
    path("kms/keys/<str:key_id>/<slug:operation>/", views.KeyAction.as_view(), name="api-key-action"),
    path("cam/roles/", views.RoleList.as_view(), name="api-roles"),
    path("cam/roles/<str:name>/", views.RoleDetail.as_view(), name="api-role"),
    path("cam/cos-service-role/", views.CosServiceRole.as_view(), name="api-cos-service-role"),
    path("cam/policies/", views.PolicyList.as_view(), name="api-policies"),
    path("cam/users/", views.UserList.as_view(), name="api-users"),
    path("cam/users/<str:name>/access-keys/", views.UserAccessKeys.as_view(), name="api-user-keys"),
]
