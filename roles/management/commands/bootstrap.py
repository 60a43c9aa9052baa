"""Create what a fresh data dir needs: the root account and key pair, and the console superuser."""

import os

from django.core.management.base import BaseCommand

from roles import service


class Command(BaseCommand):
    help = "Create the root account, its API key pair and the admin user if they do not exist yet."

    def handle(self, *args, **options) -> None:
        credentials = service.ensure_root_credentials()
        self.stdout.write(
            f"Root account AppId {credentials.appid}, SecretId {credentials.secret_id} "
            "(SecretKey: python manage.py credentials --json)"
        )
        created = service.ensure_admin_user()
        if created is None:
            return
        username, password = created
        if os.environ.get("KINKO_ADMIN_PASSWORD"):
            # The operator chose it: it is never echoed (logs of `make run` are often kept).
            self.stdout.write(f"Created console/admin user {username!r} with the password in KINKO_ADMIN_PASSWORD")
        else:
            self.stdout.write(
                f"Created console/admin user {username!r} with password {password!r} "
                "(shown once; set KINKO_ADMIN_PASSWORD to choose it)"
            )
