"""Fill ``Referral.match`` and the ``applicant_*`` fields of referrals filed
before they existed.

``linked_to_existing`` said only that the personnummer had matched; the team
never confirmed such a link. A linked referral the team has not started on
(submitted) becomes a pending match, for the team to confirm before the
assessment; one the team has worked on is taken as confirmed. Either way the
referring social worker is from now on shown only what they typed.

What was typed was not kept. The personnummer typed is the participant's
(that is how it matched, or the participant was made from it). For a new
person the participant's details are the best record of it; for a linked one
they are the known person's, which the social worker must not be shown, so
the name and contact details stay blank.

Batched by primary key, and rerunnable: only rows still ``new`` with a blank
``applicant_personnummer`` are filled. The reverse sets ``linked_to_existing``
back from ``match`` (0006 removes that field only afterwards).
"""

from django.db import migrations

BATCH = 500
PERSON_FIELDS = (
    "first_name",
    "last_name",
    "phone",
    "email",
    "postal_address",
    "registered_since",
    "children_in_household",
)


def backfill(apps, schema_editor):
    Referral = apps.get_model("participants", "Referral")
    last_pk = 0
    while True:
        batch = list(
            Referral.objects.filter(pk__gt=last_pk, match="new", applicant_personnummer="")
            .select_related("participant")
            .order_by("pk")[:BATCH]
        )
        if not batch:
            return
        for referral in batch:
            person = referral.participant
            referral.applicant_personnummer = person.personnummer or ""
            if referral.linked_to_existing:
                referral.match = "pending" if referral.status == "submitted" else "confirmed"
            else:
                for field in PERSON_FIELDS:
                    setattr(referral, f"applicant_{field}", getattr(person, field))
        Referral.objects.bulk_update(
            batch,
            ["match", "applicant_personnummer", *(f"applicant_{f}" for f in PERSON_FIELDS)],
        )
        last_pk = batch[-1].pk


def restore_link_flag(apps, schema_editor):
    Referral = apps.get_model("participants", "Referral")
    Referral.objects.filter(match__in=["pending", "confirmed"]).update(linked_to_existing=True)


class Migration(migrations.Migration):
    dependencies = [("participants", "0004_referral_match_and_applicant")]

    operations = [migrations.RunPython(backfill, restore_link_flag)]
