"""Consent (samtycke): the rules of one consent, when it holds, withdrawal
that keeps the row and its history, the "consent missing" flags on network
contacts and in the action plan, consents running out on the start page,
who may record and withdraw, bad input as Swedish 400s, and culling."""

import datetime
import io
from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from bostadforst.mixins import TOKEN_FIELD
from bostadforst.models import CaseModel
from participants import consent as consent_services
from participants.models import (
    Consent,
    ConsentGivenAs,
    ConsentPurpose,
    ConsentRecipientKind,
    Participant,
    ParticipantStatus,
)

from .factories import ConsentFactory, NetworkContactFactory, ParticipantFactory

pytestmark = pytest.mark.django_db

TODAY = timezone.localdate()


def days(n: int) -> datetime.date:
    return TODAY + timedelta(days=n)


def record(participant, user, **fields) -> Consent:
    data = {
        "purpose": ConsentPurpose.CONTACT,
        "recipient_kind": ConsentRecipientKind.PSYCHIATRY,
        "recipient_name": "Psykiatrimottagning Nordväst",
        "given_as": ConsentGivenAs.WRITTEN,
        "given_on": days(-10),
    } | fields
    return consent_services.consent_record(participant=participant, acting_user=user, **data)


def error_codes(exc: ValidationError) -> dict[str, set[str]]:
    return {field: {e.code for e in errors} for field, errors in exc.error_dict.items()}


# --- The rules of one consent ---------------------------------------------------------


def test_a_consent_must_expire_after_the_day_it_was_given(support_staff):
    person = ParticipantFactory()
    for expires in (days(-10), days(-11)):
        with pytest.raises(ValidationError) as caught:
            record(person, support_staff, given_on=days(-10), expires_on=expires)
        assert "expires_before_given" in error_codes(caught.value)["expires_on"]
    assert not Consent.objects.exists()
    assert record(person, support_staff, given_on=days(-10), expires_on=days(-9)).pk


def test_a_consent_cannot_be_given_in_the_future(support_staff):
    with pytest.raises(ValidationError) as caught:
        record(ParticipantFactory(), support_staff, given_on=days(1))
    assert "future" in error_codes(caught.value)["given_on"]


def test_a_consent_names_exactly_one_recipient_of_the_persons_own(support_staff):
    person = ParticipantFactory()
    with pytest.raises(ValidationError) as caught:
        record(person, support_staff, recipient_kind="", recipient_name="")
    assert "no_recipient" in error_codes(caught.value)["recipient_contact"]
    with pytest.raises(ValidationError) as caught:
        record(person, support_staff, recipient_name="  ")
    assert "no_name" in error_codes(caught.value)["recipient_name"]
    someone_elses = NetworkContactFactory()
    with pytest.raises(ValidationError) as caught:
        record(person, support_staff, recipient_contact=someone_elses)
    assert "foreign_contact" in error_codes(caught.value)["recipient_contact"]
    # A contact of the person's own: the organisation typed alongside is dropped.
    own = NetworkContactFactory(participant=person)
    saved = record(person, support_staff, recipient_contact=own)
    assert (saved.recipient_kind, saved.recipient_name) == ("", "")


def test_the_purpose_other_needs_a_description(support_staff):
    with pytest.raises(ValidationError) as caught:
        record(ParticipantFactory(), support_staff, purpose=ConsentPurpose.OTHER)
    assert "no_detail" in error_codes(caught.value)["purpose_detail"]


def test_a_consent_cannot_be_withdrawn_before_it_was_given_or_in_the_future(support_staff):
    consent = record(ParticipantFactory(), support_staff, given_on=days(-5))
    for day, code in [(days(-6), "withdrawn_before_given"), (days(1), "future")]:
        with pytest.raises(ValidationError) as caught:
            consent_services.consent_withdraw(
                consent=consent, acting_user=support_staff, withdrawn_on=day
            )
        assert code in error_codes(caught.value)["withdrawn_on"]
        # Refused: the instance is as stored, not half-withdrawn.
        assert consent.withdrawn_on is None and consent.withdrawn_by is None
    consent.refresh_from_db()
    assert consent.withdrawn_on is None and consent.version == 1


def test_the_database_refuses_a_withdrawal_without_who(support_staff):
    """The rule holds below the service too (a raw save)."""
    from django.db import IntegrityError, transaction

    consent = ConsentFactory()
    with pytest.raises(IntegrityError), transaction.atomic():
        Consent.objects.filter(pk=consent.pk).update(withdrawn_on=TODAY)


# --- When a consent holds -------------------------------------------------------------


@pytest.mark.parametrize(
    ("given", "expires", "withdrawn"),
    [
        (-10, None, None),
        (-10, 5, None),
        (-10, -1, None),
        (-10, None, -3),
        (-10, 20, -10),
        (-10, 0, -2),
        (0, 1, None),
    ],
)
def test_valid_on_and_is_valid_on_agree_day_by_day(given, expires, withdrawn, support_staff):
    consent = ConsentFactory(
        given_on=days(given),
        expires_on=days(expires) if expires is not None else None,
        withdrawn_on=days(withdrawn) if withdrawn is not None else None,
        withdrawn_by=support_staff if withdrawn is not None else None,
    )
    for offset in range(-15, 25):
        day = days(offset)
        expected = (
            day >= days(given)
            and (expires is None or day <= days(expires))
            and (withdrawn is None or day < days(withdrawn))
        )
        assert consent.is_valid_on(day) is expected, day
        assert Consent.objects.valid_on(day).filter(pk=consent.pk).exists() is expected, day


def test_expiring_within_counts_the_last_day_and_leaves_out_lapsed_and_withdrawn(support_staff):
    soon = ConsentFactory(expires_on=days(30))
    today = ConsentFactory(expires_on=TODAY)
    ConsentFactory(expires_on=days(31))
    ConsentFactory(expires_on=days(-1))
    ConsentFactory(expires_on=None)
    ConsentFactory(expires_on=days(3), withdrawn_on=days(-1), withdrawn_by=support_staff)
    found = set(Consent.objects.expiring_within(30, TODAY))
    assert found == {soon, today}


# --- Withdrawal keeps the row and its history -----------------------------------------


def test_withdrawing_keeps_the_row_and_the_history_shows_both_states(support_staff, unit_manager):
    consent = record(ParticipantFactory(), support_staff, expires_on=days(100))
    consent_services.consent_withdraw(
        consent=consent, acting_user=unit_manager, withdrawn_on=days(-2), note="Ringde och sa nej."
    )
    stored = Consent.objects.get(pk=consent.pk)
    assert (stored.withdrawn_on, stored.withdrawn_by, stored.withdrawal_note) == (
        days(-2),
        unit_manager,
        "Ringde och sa nej.",
    )
    assert stored.recorded_by == support_staff
    assert not stored.is_valid_on(TODAY) and stored.is_valid_on(days(-3))
    versions = list(Consent.history.filter(id=consent.pk).order_by("history_id"))
    assert [v.withdrawn_on for v in versions] == [None, days(-2)]
    assert [v.history_user for v in versions] == [support_staff, unit_manager]
    assert versions[-1].history_change_reason == "Samtycke återkallat"


def test_a_consent_is_withdrawn_once(support_staff):
    consent = record(ParticipantFactory(), support_staff)
    consent_services.consent_withdraw(consent=consent, acting_user=support_staff)
    with pytest.raises(ValidationError) as caught:
        consent_services.consent_withdraw(consent=consent, acting_user=support_staff)
    assert caught.value.code == "already_withdrawn"


def test_only_the_team_records_and_withdraws_in_the_services(social_worker, support_staff):
    person = ParticipantFactory()
    with pytest.raises(PermissionDenied):
        record(person, social_worker)
    consent = record(person, support_staff)
    with pytest.raises(PermissionDenied):
        consent_services.consent_withdraw(consent=consent, acting_user=social_worker)


# --- Pages: who may, and bad input --------------------------------------------------


def consent_form(**overrides) -> dict:
    return {
        "purpose": ConsentPurpose.INFORMATION_SHARING,
        "purpose_detail": "",
        "recipient_contact": "",
        "recipient_kind": ConsentRecipientKind.LANDLORD,
        "recipient_name": "Bostadsbolaget",
        "given_as": ConsentGivenAs.ORAL,
        "given_on": days(-1).isoformat(),
        "expires_on": days(180).isoformat(),
    } | overrides


@pytest.mark.parametrize(
    ("client_name", "expected"),
    [
        ("ss_client", 200),
        ("um_client", 200),
        ("sw_client", 403),
        ("admin_user_client", 403),
    ],
)
def test_the_team_opens_the_consent_pages_and_others_are_refused(request, client_name, expected):
    client = request.getfixturevalue(client_name)
    consent = ConsentFactory()
    create = reverse("participants:consent-create", kwargs={"pk": consent.participant_id})
    withdraw = reverse("participants:consent-withdraw", kwargs={"pk": consent.pk})
    assert client.get(create).status_code == expected
    assert client.get(withdraw).status_code == expected
    assert client.post(create, consent_form()).status_code == (302 if expected == 200 else 403)
    assert Consent.objects.count() == 1 + (expected == 200)


def test_a_support_worker_records_a_consent_through_the_form(ss_client, support_staff):
    person = ParticipantFactory()
    contact = NetworkContactFactory(participant=person, name="Lisa Ombud")
    url = reverse("participants:consent-create", kwargs={"pk": person.pk})
    response = ss_client.post(
        url,
        consent_form(recipient_contact=str(contact.pk), recipient_kind="", recipient_name=""),
    )
    assert response.status_code == 302
    assert response["Location"] == person.get_absolute_url() + "#consents"
    consent = Consent.objects.get()
    assert (consent.recipient_contact, consent.recorded_by) == (contact, support_staff)
    assert consent.given_as == ConsentGivenAs.ORAL
    page = ss_client.get(person.get_absolute_url()).content.decode()
    assert "Samtycken" in page and "Lisa Ombud" in page
    assert "Muntligt" in page or "muntligt" in page


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        (
            {"expires_on": days(-1).isoformat(), "given_on": days(-1).isoformat()},
            "Samtycket måste gälla till en dag efter den dag det lämnades.",
        ),
        ({"given_on": days(2).isoformat()}, "Datumet kan inte ligga i framtiden."),
        (
            {"recipient_kind": "", "recipient_name": ""},
            "Välj en nätverkskontakt eller typ av organisation.",
        ),
        ({"recipient_name": ""}, "Skriv organisationens namn."),
        ({"purpose": ConsentPurpose.OTHER}, "Beskriv vad samtycket omfattar."),
        ({"given_on": "2026-13-45"}, "Fyll i ett giltigt datum."),
        ({"recipient_contact": "999999"}, "Välj ett giltigt alternativ."),
        ({"purpose": "gossip"}, "Välj ett giltigt alternativ."),
    ],
)
def test_bad_input_answers_400_in_swedish_and_saves_nothing(ss_client, overrides, message):
    person = ParticipantFactory()
    url = reverse("participants:consent-create", kwargs={"pk": person.pk})
    response = ss_client.post(url, consent_form(**overrides))
    assert response.status_code == 400
    assert message in response.content.decode()
    assert not Consent.objects.exists()


def test_a_contact_of_another_person_cannot_be_chosen(ss_client):
    person = ParticipantFactory()
    other = NetworkContactFactory()
    url = reverse("participants:consent-create", kwargs={"pk": person.pk})
    response = ss_client.post(
        url, consent_form(recipient_contact=str(other.pk), recipient_kind="", recipient_name="")
    )
    assert response.status_code == 400
    assert not Consent.objects.exists()


def test_withdrawing_through_the_page_needs_confirmation_and_keeps_the_row(
    ss_client, support_staff
):
    consent = ConsentFactory()
    url = reverse("participants:consent-withdraw", kwargs={"pk": consent.pk})
    page = ss_client.get(url)
    assert page.status_code == 200
    data = {"withdrawn_on": TODAY.isoformat(), "note": "", "version": str(consent.version)}
    refused = ss_client.post(url, data)
    assert refused.status_code == 400
    assert "Bekräfta återkallelsen för att registrera den." in refused.content.decode()
    consent.refresh_from_db()
    assert consent.withdrawn_on is None

    done = ss_client.post(url, data | {"confirm": "on"})
    assert done.status_code == 302
    consent.refresh_from_db()
    assert (consent.withdrawn_on, consent.withdrawn_by) == (TODAY, support_staff)
    assert Consent.objects.filter(pk=consent.pk).exists()
    section = ss_client.get(consent.participant.get_absolute_url()).content.decode()
    assert "Återkallat" in section


def test_withdrawing_again_or_before_the_given_day_answers_400_in_swedish(ss_client, support_staff):
    consent = ConsentFactory(given_on=days(-3))
    url = reverse("participants:consent-withdraw", kwargs={"pk": consent.pk})
    early = ss_client.post(
        url,
        {"withdrawn_on": days(-4).isoformat(), "confirm": "on", "version": str(consent.version)},
    )
    assert early.status_code == 400
    assert "Ett samtycke kan inte återkallas innan det lämnades." in early.content.decode()
    consent_services.consent_withdraw(consent=consent, acting_user=support_staff)
    again = ss_client.post(
        url, {"withdrawn_on": TODAY.isoformat(), "confirm": "on", "version": str(consent.version)}
    )
    assert again.status_code == 400
    assert "Samtycket återkallades redan" in again.content.decode()


def test_a_social_worker_sees_no_consents_on_their_referral(sw_client, social_worker):
    from .factories import ReferralFactory

    referral = ReferralFactory(referred_by=social_worker)
    ConsentFactory(participant=referral.participant)
    page = sw_client.get(referral.get_absolute_url())
    assert page.status_code == 200
    assert "Samtycken" not in page.content.decode()


# --- Flags: a contact without consent ----------------------------------------------------


def test_a_contact_without_valid_consent_is_flagged_on_the_participant_page(
    ss_client, support_staff
):
    person = ParticipantFactory()
    covered = NetworkContactFactory(participant=person, name="Anna Täckt")
    ConsentFactory(participant=person, recipient_contact=covered)
    uncovered = NetworkContactFactory(participant=person, name="Bo Osäker")
    withdrawn = ConsentFactory(participant=person, recipient_contact__name="Cilla Återkallad")
    consent_services.consent_withdraw(consent=withdrawn, acting_user=support_staff)
    ConsentFactory(
        participant=person,
        recipient_contact__name="Dan Utgången",
        given_on=days(-30),
        expires_on=days(-1),
    )
    ConsentFactory(
        participant=person,
        recipient_contact__name="Eva Annat",
        purpose=ConsentPurpose.OTHER,
        purpose_detail="Får se journalen",
    )
    flagged = consent_services.contacts_without_consent(
        contact_ids=person.network_contacts.values_list("pk", flat=True)
    )
    assert covered.pk not in flagged and uncovered.pk in flagged and len(flagged) == 4

    html = ss_client.get(person.get_absolute_url()).content.decode()
    network = html.split('id="network"', 1)[1].split("</section>", 1)[0]
    rows = {
        name: network.split(name, 1)[1].split("</li>", 1)[0]
        for name in ["Anna Täckt", "Bo Osäker", "Cilla Återkallad", "Dan Utgången", "Eva Annat"]
    }
    assert "Samtycke saknas" not in rows["Anna Täckt"]
    assert "giltigt samtycke till kontakt" in rows["Anna Täckt"]
    for name in ["Bo Osäker", "Cilla Återkallad", "Dan Utgången", "Eva Annat"]:
        assert "Samtycke saknas" in rows[name], name


def test_a_collaborating_party_without_consent_is_flagged_in_the_action_plan(ss_client):
    from support.models import GoalAction
    from tests.support.factories import ActionPlanFactory, GoalFactory

    plan = ActionPlanFactory()
    person = plan.participant
    goal = GoalFactory(plan=plan)
    with_consent = NetworkContactFactory(participant=person, name="Psykiatrin Ok")
    ConsentFactory(participant=person, recipient_contact=with_consent)
    without = NetworkContactFactory(participant=person, name="Kuratorn Saknas")
    for partner in (with_consent, without):
        GoalAction.objects.create(
            goal=goal, who=GoalAction.Who.PARTNER, partner=partner, what="Ring"
        )
    html = ss_client.get(reverse("support:plan-detail", kwargs={"pk": plan.pk})).content.decode()
    assert html.count("Samtycke saknas") == 1
    assert "Samtycke saknas" in html.split("Kuratorn Saknas", 1)[1].split("</li>", 1)[0]
    # The tenant's own copy carries no flags meant for the team.
    printed = ss_client.get(reverse("support:plan-print", kwargs={"pk": plan.pk}))
    assert "Samtycke saknas" not in printed.content.decode()


# --- The start page ---------------------------------------------------------------------


def test_consents_running_out_within_30_days_are_on_the_support_workers_start_page(
    ss_client, support_staff, other_social_worker
):
    mine = ParticipantFactory(support_worker=support_staff, first_name="Minna")
    ConsentFactory(participant=mine, expires_on=days(12), recipient_contact__name="Psyk Snart")
    ConsentFactory(participant=mine, expires_on=days(45), recipient_contact__name="Psyk Sent")
    closed = ParticipantFactory(support_worker=support_staff, status=ParticipantStatus.EXITED)
    ConsentFactory(participant=closed, expires_on=days(5), recipient_contact__name="Avslutad")
    others = ParticipantFactory(first_name="Annans")
    ConsentFactory(participant=others, expires_on=days(5), recipient_contact__name="Annans Kontakt")

    html = ss_client.get(reverse("home")).content.decode()
    assert "1 samtycke går ut inom 30 dagar" in html
    assert "Psyk Snart" in html and mine.get_absolute_url() in html
    for absent in ("Psyk Sent", "Avslutad", "Annans Kontakt"):
        assert absent not in html


def test_the_start_page_block_costs_the_same_queries_for_one_or_many(
    client_for, support_staff, unit_manager
):
    client = client_for(support_staff)
    person = ParticipantFactory(support_worker=support_staff)
    ConsentFactory(participant=person, expires_on=days(3))

    def count() -> int:
        with CaptureQueriesContext(connection) as queries:
            assert client.get(reverse("home")).status_code == 200
        return len(queries)

    one = count()
    for n in range(4):
        other = ParticipantFactory(support_worker=support_staff)
        ConsentFactory(participant=other, expires_on=days(n + 1))
    assert count() == one
    assert "5 samtycken går ut inom 30 dagar" in client.get(reverse("home")).content.decode()


def test_a_social_worker_start_page_shows_no_consents(sw_client):
    ConsentFactory(expires_on=days(3))
    html = sw_client.get(reverse("home")).content.decode()
    assert "samtycke" not in html.lower()


# --- Culling ---------------------------------------------------------------------------


def test_culling_removes_the_persons_consents_and_their_history(settings, support_staff):
    settings.GALLRING_RESEARCH_EXEMPTION = False
    person = ParticipantFactory()
    kept = ParticipantFactory()
    consent = record(
        person, support_staff, recipient_contact=NetworkContactFactory(participant=person)
    )
    consent_services.consent_withdraw(consent=consent, acting_user=support_staff)
    record(person, support_staff, purpose=ConsentPurpose.OTHER, purpose_detail="Hyresvärden")
    other = record(kept, support_staff)
    long_ago = timezone.now() - timedelta(days=7 * 365)
    from django.apps import apps

    for model in apps.get_models():
        if issubclass(model, CaseModel):
            model._base_manager.update(created_at=long_ago, updated_at=long_ago)
    Participant.objects.filter(pk=person.pk).update(closed_on=TODAY - timedelta(days=6 * 366))

    call_command("gallra", stdout=io.StringIO())

    assert not Participant.objects.filter(pk=person.pk).exists()
    assert not Consent.objects.filter(participant_id=person.pk).exists()
    assert not Consent.history.filter(participant_id=person.pk).exists()
    assert Consent.objects.filter(pk=other.pk).exists()


def test_a_replayed_consent_submit_records_one_consent(ss_client):
    person = ParticipantFactory()
    url = reverse("participants:consent-create", kwargs={"pk": person.pk})
    token = ss_client.get(url).context["form"][TOKEN_FIELD].value()
    data = consent_form() | {TOKEN_FIELD: str(token)}
    first = ss_client.post(url, data)
    again = ss_client.post(url, data)
    assert first.status_code == again.status_code == 302
    assert Consent.objects.count() == 1
