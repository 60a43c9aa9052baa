"""Install the preset (QCS) policies from roles.presets."""

from django.db import migrations


def install_presets(apps, schema_editor):
    from roles.presets import PRESETS, document

    policy_model = apps.get_model("roles", "Policy")
    for preset in PRESETS:
        policy_model.objects.update_or_create(
            policy_id=preset["policy_id"],
            defaults={"name": preset["name"], "description": preset["description"], "document": document(preset),
                      "type": 2, "account": None},
        )


class Migration(migrations.Migration):
    dependencies = [("roles", "0001_initial")]
    operations = [migrations.RunPython(install_presets, migrations.RunPython.noop)]
