from django.db import migrations

LANDLORDS = ["Sandvikenhus", "Heimstaden", "Svenska bostäder"]


def create_landlords(apps, schema_editor):
    Landlord = apps.get_model("housing", "Landlord")
    for name in LANDLORDS:
        Landlord.objects.get_or_create(name=name)


def remove_unused_landlords(apps, schema_editor):
    Landlord = apps.get_model("housing", "Landlord")
    Landlord.objects.filter(name__in=LANDLORDS, apartments__isnull=True).delete()


class Migration(migrations.Migration):
    dependencies = [("housing", "0001_initial")]

    operations = [migrations.RunPython(create_landlords, remove_unused_landlords)]
