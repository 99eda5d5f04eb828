"""The backfill of ``Referral.match`` and the typed details (0005), run on
rows made before it, forwards and back."""

import contextlib
from datetime import date

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

import tests.conftest

# On PostgreSQL the suite may run as the app's least-privileged role, which
# may not migrate: the suite's helper then lends the test the owner's rights.
as_owner = getattr(tests.conftest, "django_as_owner", contextlib.nullcontext)

BEFORE = [("participants", "0004_referral_match_and_applicant")]
AFTER = [("participants", "0005_backfill_referral_match_and_applicant")]


def migrate(targets):
    """Migrate to ``targets``; the models as the database now stands (every
    migration applied, not only those ``targets`` need: the user table is at
    its state before the row scope, with all its earlier columns)."""
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)
    loader = MigrationExecutor(connection).loader
    applied = [key for key in loader.applied_migrations if key in loader.graph.nodes]
    return loader.project_state(applied, at_end=True).apps


@pytest.mark.django_db(transaction=True)  # SQLite migrates outside a transaction
def test_linked_referrals_become_matches_and_new_ones_keep_the_persons_details():
    with as_owner():
        _migrate_back_and_forth()


def _migrate_back_and_forth():
    # Every app's leaf, not only participants': moving participants back also
    # unapplies what depends on it (bostadforst's row scope on the user), and
    # the rest of the suite needs all of it again.
    leaves = MigrationExecutor(connection).loader.graph.leaf_nodes()
    try:
        apps = migrate(BEFORE)
        Participant = apps.get_model("participants", "Participant")
        Referral = apps.get_model("participants", "Referral")
        # The user as that state knows it: the user table moved back too
        # (its row-scope columns refer to participants' later tables).
        sw = apps.get_model("bostadforst", "User").objects.create(
            username="sw-migration", password="!"
        )
        person = Participant.objects.create(
            personnummer="198112189876", first_name="Kalle", last_name="Känd", phone="070-1"
        )
        common = {
            "participant": person,
            "referred_by_id": sw.pk,
            "referral_date": date(2026, 1, 5),
            "housing_situation": "acute",
            "support_need": "both",
        }
        new = Referral.objects.create(**common, status="assessing")
        linked_open = Referral.objects.create(**common, status="submitted", linked_to_existing=True)
        linked_worked = Referral.objects.create(
            **common, status="withdrawn", linked_to_existing=True
        )

        apps = migrate(AFTER)
        Referral = apps.get_model("participants", "Referral")
        rows = {r.pk: r for r in Referral.objects.all()}
        assert rows[new.pk].match == "new"
        assert (rows[new.pk].applicant_first_name, rows[new.pk].applicant_phone) == (
            "Kalle",
            "070-1",
        )
        assert rows[linked_open.pk].match == "pending"
        assert rows[linked_worked.pk].match == "confirmed"
        for pk in (linked_open.pk, linked_worked.pk):
            # The known person's details are never copied as if the social worker typed them.
            assert (rows[pk].applicant_first_name, rows[pk].applicant_phone) == ("", "")
            assert rows[pk].applicant_personnummer == "198112189876"

        apps = migrate(BEFORE)
        Referral = apps.get_model("participants", "Referral")
        flags = dict(Referral.objects.values_list("pk", "linked_to_existing"))
        assert flags == {new.pk: False, linked_open.pk: True, linked_worked.pk: True}
    finally:
        migrate(leaves)
