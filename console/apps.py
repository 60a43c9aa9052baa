"""Console app config: registers the URL converters."""

from django.apps import AppConfig


class ConsoleConfig(AppConfig):
    name = "console"

    def ready(self) -> None:
        from console import converters  # noqa: F401 - registers the <key:…> converter
