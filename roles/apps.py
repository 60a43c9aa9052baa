"""CAM app: accounts, API keys, roles and policies."""

from django.apps import AppConfig


class RolesConfig(AppConfig):
    name = "roles"
