"""Print the root account's credentials, creating them if absent."""

import json

from django.core.management.base import BaseCommand

from roles import service


class Command(BaseCommand):
    help = "Print the root account's AppId, SecretId, SecretKey and ApiToken (creating them if absent)."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--json", action="store_true", help="print one JSON object")

    def handle(self, *args, **options) -> None:
        credentials = service.ensure_root_credentials()
        if options["json"]:
            self.stdout.write(json.dumps(credentials.as_json()))
        else:
            for name, value in credentials.as_json().items():
                self.stdout.write(f"{name}: {value}")
