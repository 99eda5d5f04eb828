"""Create one group per role. Model permissions are granted after every
migrate by ``bostadforst.signals.sync_role_permissions`` (permissions of apps
migrated later do not exist yet at this point)."""

from django.db import migrations

ROLE_CODES = ["social_worker", "support_staff", "unit_manager", "administrator"]


def create_groups(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    for code in ROLE_CODES:
        Group.objects.get_or_create(name=code)


def remove_groups(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    Group.objects.filter(name__in=ROLE_CODES).delete()


class Migration(migrations.Migration):
    dependencies = [("bostadforst", "0001_initial"), ("auth", "0012_alter_user_first_name_max_length")]

    operations = [migrations.RunPython(create_groups, remove_groups)]
