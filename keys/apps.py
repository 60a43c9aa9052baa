"""KMS app: key hierarchy, keystore and crypto primitives."""

from django.apps import AppConfig


class KeysConfig(AppConfig):
    name = "keys"
