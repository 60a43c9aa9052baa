"""The admin site as a whole: only superusers use it (a staff flag alone is not the root account), and its
sign-in is throttled like the console's. Every app's admin.py registers its models with this same site."""

from django.contrib import admin
from django.http import HttpRequest

from console.forms import ThrottledAdminAuthenticationForm


def superuser_only(request: HttpRequest) -> bool:
    return request.user.is_active and request.user.is_superuser


admin.site.login_form = ThrottledAdminAuthenticationForm
admin.site.has_permission = superuser_only
