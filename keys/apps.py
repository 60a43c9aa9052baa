"""KMS app: key hierarchy, keystore and crypto primitives."""

from django.apps import AppConfig


class KeysConfig(AppConfig):
    name = "keys"

    def ready(self) -> None:
        from keys import api  # noqa: F401 - registers the KMS API 3.0 actions
