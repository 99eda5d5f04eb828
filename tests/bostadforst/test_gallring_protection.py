"""Culling (gallring) and issue 15: protected identity, the access list,
consents and a restriction of processing go with the person; the research
exemption never keeps a protected person's identity."""

import io

import pytest
from django.core.management import call_command
from django.db import connection

from bostadforst.gallring import ever_protected, plan
from bostadforst.models import AccessLogEntry, GallringRun
from participants import restriction
from participants.consent import consent_withdraw
from participants.models import Consent, IdentityProtection, Participant
from participants.protection import participant_set_protection

from ..participants.factories import ConsentFactory
from .test_gallring import (
    close,
    everything_is_old,
    make_person,
    orphans_of_history_rows,
    traces_of,
)

pytestmark = pytest.mark.django_db

REASON = "Hot från tidigare partner, enligt polisen."


def protect(person, *, manager, staff):
    return participant_set_protection(
        person,
        protection=IdentityProtection.PROTECTED_REGISTRATION,
        staff=staff,
        reason=REASON,
        acting_user=manager,
    )


def rows_of(table_name: str, column: str, pk: int) -> int:
    quote = connection.ops.quote_name
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT COUNT(*) FROM {quote(table_name)} WHERE {quote(column)} = %s", [pk])
        return cursor.fetchone()[0]


def test_a_protected_person_is_culled_with_access_list_consents_and_restriction(
    settings, unit_manager, support_staff
):
    settings.GALLRING_RESEARCH_EXEMPTION = False
    person, texts = make_person(first_name="Skyddad", last_name="Gallringsson")
    protect(person, manager=unit_manager, staff=[support_staff])
    consent = ConsentFactory(participant=person, recorded_by=support_staff)
    consent_withdraw(consent=consent, acting_user=support_staff, note="Återtaget muntligt.")
    person = restriction.processing_restrict(
        participant=Participant.objects.get(pk=person.pk),
        reason="Begär rättelse av adressen.",
        acting_user=unit_manager,
    )
    restriction.processing_restriction_lift(
        participant=person, outcome="Rättad.", acting_user=unit_manager
    )
    person = Participant.objects.get(pk=person.pk)
    close(person)
    everything_is_old()
    texts["free_texts"] += [REASON, "Begär rättelse av adressen."]
    access = Participant.identity_access.through
    access_column = access._meta.get_field("participant").column
    assert rows_of(access._meta.db_table, access_column, person.pk) == 1
    # The access list's snapshots in the participant's history rows.
    snapshots = Participant.history.model.identity_access.model
    snapshot_column = snapshots._meta.get_field("participant").column
    assert rows_of(snapshots._meta.db_table, snapshot_column, person.pk) >= 1
    assert traces_of(texts)
    log_rows = AccessLogEntry.objects.filter(person_id=person.pk).count()

    call_command("gallra", stdout=io.StringIO())

    assert not Participant.objects.filter(pk=person.pk).exists()
    assert not Participant.history.filter(id=person.pk).exists()
    assert rows_of(access._meta.db_table, access_column, person.pk) == 0
    assert rows_of(snapshots._meta.db_table, snapshot_column, person.pk) == 0
    assert orphans_of_history_rows() == {}
    assert not Consent.objects.filter(pk=consent.pk).exists()
    assert not Consent.history.filter(id=consent.pk).exists()
    assert traces_of(texts) == []
    assert AccessLogEntry.objects.filter(person_id=person.pk).count() == log_rows
    # The staff member named is a user, not the person's: kept.
    assert type(support_staff).objects.filter(pk=support_staff.pk).exists()


@pytest.mark.parametrize("day", [5, 15, 25])
def test_the_research_exemption_keeps_no_protected_person(
    settings, unit_manager, support_staff, day
):
    settings.GALLRING_RESEARCH_EXEMPTION = True
    protected, texts = make_person(day=day, first_name="Skyddad", last_name=f"Forskning{day}")
    protect(protected, manager=unit_manager, staff=[support_staff])
    kept, _ = make_person(day=day, first_name="Vanlig", last_name=f"Oskyddad{day}")
    for person in (protected, kept):
        close(Participant.objects.get(pk=person.pk))
    everything_is_old()

    planned = plan()
    assert planned.exempted == [kept.pk]
    assert planned.due == [protected.pk]

    call_command("gallra", stdout=io.StringIO())
    assert Participant.objects.filter(pk=kept.pk).exists()
    assert not Participant.objects.filter(pk=protected.pk).exists()
    assert traces_of(texts) == []
    run = GallringRun.objects.get()
    assert (run.persons_exempted, run.persons_culled) == (1, 1)


def test_a_person_protected_once_is_not_kept_for_research_either(
    settings, unit_manager, support_staff
):
    """The history holds the identity of the protected years: keeping the
    person for research would keep it."""
    settings.GALLRING_RESEARCH_EXEMPTION = True
    person, _ = make_person(day=15, first_name="Tidigare", last_name="Skyddadsson")
    protect(person, manager=unit_manager, staff=[support_staff])
    participant_set_protection(
        Participant.objects.get(pk=person.pk),
        protection=IdentityProtection.NONE,
        staff=[],
        reason="Skyddet upphört enligt Skatteverket.",
        acting_user=unit_manager,
    )
    person = Participant.objects.get(pk=person.pk)
    assert not person.is_protected
    assert ever_protected(Participant, {person.pk}) == {person.pk}
    close(person)
    everything_is_old()

    call_command("gallra", stdout=io.StringIO())
    assert not Participant.objects.filter(pk=person.pk).exists()
    assert not Participant.history.filter(id=person.pk).exists()


def test_ever_protected_asks_nothing_for_nobody_and_knows_the_unprotected(
    django_assert_num_queries,
):
    person, _ = make_person(first_name="Aldrig", last_name="Skyddad")
    with django_assert_num_queries(0):
        assert ever_protected(Participant, set()) == set()
    assert ever_protected(Participant, {person.pk}) == set()
