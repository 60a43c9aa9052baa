"""System checks that refuse development secrets outside DEBUG."""

from django.conf import settings
from django.core.checks import Error, register


@register(deploy=False)
def refuse_development_secret_key(app_configs, **kwargs) -> list[Error]:
    from console.settings import DEV_SECRET_KEY

    if not settings.DEBUG and settings.SECRET_KEY == DEV_SECRET_KEY:
        return [Error("DJANGO_SECRET_KEY must be set when DEBUG is false", id="kinko.E001")]
    return []
