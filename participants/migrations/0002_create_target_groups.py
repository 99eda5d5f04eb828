from django.db import migrations

CODES = [
    "acute_homeless",
    "long_term_homeless",
    "families",
    "complex_needs",
    "young_adults",
    "elderly",
]


def create_target_groups(apps, schema_editor):
    TargetGroup = apps.get_model("participants", "TargetGroup")
    for code in CODES:
        TargetGroup.objects.get_or_create(code=code)


def remove_target_groups(apps, schema_editor):
    apps.get_model("participants", "TargetGroup").objects.filter(code__in=CODES).delete()


class Migration(migrations.Migration):
    dependencies = [("participants", "0001_initial")]

    operations = [migrations.RunPython(create_target_groups, remove_target_groups)]
