from django.db import migrations


class Migration(migrations.Migration):
    """``Referral.match`` replaces the flag (backfilled from it in 0005)."""

    dependencies = [("participants", "0005_backfill_referral_match_and_applicant")]

    operations = [
        migrations.RemoveField(model_name="historicalreferral", name="linked_to_existing"),
        migrations.RemoveField(model_name="referral", name="linked_to_existing"),
    ]
