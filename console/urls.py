"""Routes for everything that is not COS XML or API 3.0 (those are routed in console.routing)."""

from django.conf import settings
from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from console import views
from console.forms import ThrottledAuthenticationForm
from console.pages import buckets, cam, jobs, kms, objects, overview, uploads
from console.pages.common import ConsoleLoginView

handler400 = "console.views.bad_request"
handler403 = "console.views.permission_denied"
handler404 = "console.views.page_not_found"
handler500 = "console.views.server_error"

urlpatterns = [
    path("healthz", views.healthz, name="healthz"),
    path("readyz", views.readyz, name="readyz"),
    path("metrics", views.metrics_view, name="metrics"),
    path("admin/", admin.site.urls),
    path("api/v1/", include("console.jsonapi.urls")),
    path("i18n/", include("django.conf.urls.i18n")),
    path(
        "login/",
        ConsoleLoginView.as_view(
            authentication_form=ThrottledAuthenticationForm, extra_context={"appid": settings.KINKO_APPID}
        ),
        name="login",
    ),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("", overview.overview, name="overview"),
    path("buckets/", buckets.bucket_list, name="buckets"),
    path("buckets/<str:bucket>/", objects.object_list, name="bucket-objects"),
    path("buckets/<str:bucket>/settings/", buckets.bucket_settings, name="bucket-settings"),
    path("buckets/<str:bucket>/acl/", buckets.bucket_acl, name="bucket-acl"),
    path("buckets/<str:bucket>/tags/", buckets.bucket_tags, name="bucket-tags"),
    path("buckets/<str:bucket>/cors/", buckets.bucket_cors, name="bucket-cors"),
    path("buckets/<str:bucket>/policy/", buckets.bucket_policy, name="bucket-policy"),
    path("buckets/<str:bucket>/versioning/", buckets.bucket_versioning, name="bucket-versioning"),
    path("buckets/<str:bucket>/delete/", buckets.bucket_delete, name="bucket-delete"),
    path("buckets/<str:bucket>/delete-objects/", objects.object_delete, name="object-delete"),
    path("buckets/<str:bucket>/set-encryption/", objects.set_encryption, name="set-encryption"),
    path("buckets/<str:bucket>/object/<key:key>", objects.object_detail, name="object"),
    path("buckets/<str:bucket>/object-tags/<key:key>", objects.object_tags, name="object-tags"),
    path("buckets/<str:bucket>/download/<key:key>", objects.object_download, name="object-download"),
    path("buckets/<str:bucket>/preview/<key:key>", objects.object_preview, name="object-preview"),
    path("buckets/<str:bucket>/share/<key:key>", objects.object_share, name="object-share"),
    path("buckets/<str:bucket>/version-download/<key:key>", objects.version_download, name="version-download"),
    path("buckets/<str:bucket>/versions/<key:key>", objects.object_version, name="object-version"),
    path("buckets/<str:bucket>/create-folder/", objects.create_folder, name="create-folder"),
    path("buckets/<str:bucket>/delete-folder/", objects.delete_folder, name="delete-folder"),
    # the upload manager (console/pages/uploads.py)
    path("buckets/<str:bucket>/uploads/existing/", uploads.existing_objects, name="upload-existing"),
    path("buckets/<str:bucket>/uploads/object/<key:key>", uploads.put_object, name="upload-object"),
    path("buckets/<str:bucket>/uploads/multipart/<key:key>", uploads.multipart_upload, name="upload-multipart"),
    path("buckets/<str:bucket>/uploads/part/<key:key>", uploads.upload_part, name="upload-part"),
    path("buckets/<str:bucket>/uploads/complete/<key:key>", uploads.complete_multipart_upload, name="upload-complete"),
    path("kms/", kms.kms_home, name="kms"),
    path("kms/keys/new/", kms.key_create, name="key-create"),
    path("kms/keys/<uuid:key_id>/", kms.key_detail, name="key"),
    path("kms/keys/<uuid:key_id>/import/", kms.key_import, name="key-import"),
    path("kms/keys/<uuid:key_id>/import/<slug:part>/", kms.key_import_download, name="key-import-download"),
    path("kms/keys/<uuid:key_id>/<slug:operation>/", kms.key_action, name="key-action"),
    path("cam/roles/", cam.role_list, name="roles"),
    path("cam/roles/wizard/", cam.role_wizard, name="role-wizard"),
    path("cam/roles/cos-service-role/", cam.cos_service_role, name="cos-service-role"),
    path("cam/roles/<str:name>/", cam.role_detail, name="role"),
    path("cam/roles/<str:name>/edit/", cam.role_edit, name="role-edit"),
    path("cam/roles/<str:name>/trust/", cam.role_trust, name="role-trust"),
    path("cam/roles/<str:name>/delete/", cam.role_delete, name="role-delete"),
    path("cam/roles/<str:name>/policies/attach/", cam.role_policy, {"operation": "attach"}, name="role-attach"),
    path("cam/roles/<str:name>/policies/detach/", cam.role_policy, {"operation": "detach"}, name="role-detach"),
    path("cam/users/", cam.user_list, name="users"),
    path("cam/users/<str:name>/", cam.user_detail, name="user"),
    path("cam/users/<str:name>/edit/", cam.user_edit, name="user-edit"),
    path("cam/users/<str:name>/password/", cam.user_password, name="user-password"),
    path("cam/users/<str:name>/delete/", cam.user_delete, name="user-delete"),
    path("cam/users/<str:name>/policies/attach/", cam.user_policy, {"operation": "attach"}, name="user-attach"),
    path("cam/users/<str:name>/policies/detach/", cam.user_policy, {"operation": "detach"}, name="user-detach"),
    path("cam/users/<str:name>/keys/", cam.access_key_create, name="access-key-create"),
    path(
        "cam/users/<str:name>/keys/<str:secret_id>/disable/",
        cam.access_key_action,
        {"operation": "disable"},
        name="access-key-disable",
    ),
    path(
        "cam/users/<str:name>/keys/<str:secret_id>/enable/",
        cam.access_key_action,
        {"operation": "enable"},
        name="access-key-enable",
    ),
    path(
        "cam/users/<str:name>/keys/<str:secret_id>/delete/",
        cam.access_key_action,
        {"operation": "delete"},
        name="access-key-delete",
    ),
    path("jobs/", jobs.job_list, name="jobs"),
    path("jobs/<uuid:job_id>/", jobs.job_detail, name="job"),
    path("jobs/<uuid:job_id>/cancel/", jobs.job_cancel, name="job-cancel"),
    path("audit/", jobs.audit_log, name="audit"),
]
