"""CAM app: accounts, API keys, roles and policies."""

from django.apps import AppConfig


class RolesConfig(AppConfig):
    name = "roles"

    def ready(self) -> None:
        from roles import api  # noqa: F401 - registers the CAM API 3.0 actions
