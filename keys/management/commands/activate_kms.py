"""Activate the root account's KMS: one default CMK per KINKO_KMS_REGIONS region (idempotent)."""

import json

from django.core.management.base import BaseCommand

from keys import service
from roles import service as roles


class Command(BaseCommand):
    help = "Activate the KMS and create the default CMK of each KMS region; prints the default KeyIds."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--json", action="store_true", help='print {"DefaultKeys": {"<region>": "<KeyId>"}}')

    def handle(self, *args, **options) -> None:
        defaults = service.activate_kms(roles.root_account())
        if options["json"]:
            self.stdout.write(json.dumps({"DefaultKeys": defaults}))
        else:
            for region, key_id in defaults.items():
                self.stdout.write(f"{region}: {key_id}")
