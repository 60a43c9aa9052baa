"""Console app config."""

from django.apps import AppConfig


class ConsoleConfig(AppConfig):
    name = "console"
