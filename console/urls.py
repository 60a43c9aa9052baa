"""Routes for everything that is not COS XML or API 3.0 (those are routed in console.routing)."""

from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from console import views
from console.forms import ThrottledAuthenticationForm
from console.pages import buckets, cam, jobs, kms, objects, overview, uploads

handler400 = "console.views.bad_request"
handler403 = "console.views.permission_denied"
handler404 = "console.views.page_not_found"
handler500 = "console.views.server_error"

urlpatterns = [
    path("healthz", views.healthz, name="healthz"),
    path("readyz", views.readyz, name="readyz"),
    path("admin/", admin.site.urls),
    path("api/v1/", include("console.jsonapi.urls")),
    path("i18n/", include("django.conf.urls.i18n")),
    path("login/", auth_views.LoginView.as_view(authentication_form=ThrottledAuthenticationForm), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("", overview.overview, name="overview"),
    path("buckets/", buckets.bucket_list, name="buckets"),
    path("buckets/<str:bucket>/", objects.object_list, name="bucket-objects"),
    path("buckets/<str:bucket>/settings/", buckets.bucket_settings, name="bucket-settings"),
    path("buckets/<str:bucket>/acl/", buckets.bucket_acl, name="bucket-acl"),
    path("buckets/<str:bucket>/delete/", buckets.bucket_delete, name="bucket-delete"),
    path("buckets/<str:bucket>/delete-objects/", objects.object_delete, name="object-delete"),
    path("buckets/<str:bucket>/set-encryption/", objects.set_encryption, name="set-encryption"),
    path("buckets/<str:bucket>/object/<key:key>", objects.object_detail, name="object"),
    path("buckets/<str:bucket>/download/<key:key>", objects.object_download, name="object-download"),
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
    path("kms/keys/<uuid:key_id>/<slug:operation>/", kms.key_action, name="key-action"),
    path("cam/roles/", cam.role_list, name="roles"),
    path("cam/roles/wizard/", cam.role_wizard, name="role-wizard"),
    path("cam/roles/cos-service-role/", cam.cos_service_role, name="cos-service-role"),
    path("cam/roles/<str:name>/", cam.role_detail, name="role"),
    path("cam/users/", cam.user_list, name="users"),
    path("jobs/", jobs.job_list, name="jobs"),
    path("jobs/<uuid:job_id>/", jobs.job_detail, name="job"),
    path("jobs/<uuid:job_id>/cancel/", jobs.job_cancel, name="job-cancel"),
    path("audit/", jobs.audit_log, name="audit"),
]
