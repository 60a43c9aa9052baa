"""Console app config: registers the deployment checks."""

from django.apps import AppConfig


class ConsoleConfig(AppConfig):
    name = "console"

    def ready(self) -> None:
        from console import checks  # noqa: F401 - registers the system checks
