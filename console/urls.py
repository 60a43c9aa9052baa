"""Routes for everything that is not COS XML (that is routed by Host in console.routing)."""

from django.contrib import admin
from django.urls import include, path

from console import views

urlpatterns = [
    path("healthz", views.healthz, name="healthz"),
    path("admin/", admin.site.urls),
    path("api/v1/", include("console.jsonapi.urls")),
    path("", views.home, name="home"),
]
