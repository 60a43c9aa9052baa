"""Object keys, upload keys and ids, and bucket names compare by their UTF-8 bytes on PostgreSQL too (the "C"
collation: core.db.ByteOrderCharField). SQLite compares them so already: its tables are left as they are rather
than copied whole to change nothing."""

from django.db import migrations

import core.db


class AlterFieldOnPostgres(migrations.AlterField):
    def database_forwards(self, app_label, schema_editor, from_state, to_state):
        if schema_editor.connection.vendor == "postgresql":
            super().database_forwards(app_label, schema_editor, from_state, to_state)


class Migration(migrations.Migration):
    dependencies = [
        ("buckets", "0002_usage_history"),
    ]

    operations = [
        AlterFieldOnPostgres(
            model_name="bucket",
            name="name",
            field=core.db.ByteOrderCharField(max_length=64, unique=True),
        ),
        AlterFieldOnPostgres(
            model_name="multipartupload",
            name="key",
            field=core.db.ByteOrderCharField(max_length=1024),
        ),
        AlterFieldOnPostgres(
            model_name="multipartupload",
            name="upload_id",
            field=core.db.ByteOrderCharField(max_length=64, unique=True),
        ),
        AlterFieldOnPostgres(
            model_name="storedobject",
            name="key",
            field=core.db.ByteOrderCharField(max_length=1024),
        ),
    ]
