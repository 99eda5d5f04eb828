"""The unit manager's side of protected identity (issue 15): the protection
page and its service, the banner, the PDF marking, the log review's flag and
the exports that leave protected people out."""

import csv
import io
from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from pypdf import PdfReader

from bostadforst.models import AccessLogEntry
from bostadforst.records import record_save
from bostadforst.roles import Role
from participants.models import IdentityProtection, Participant
from participants.protection import participant_set_protection, protection_history
from tests.factories import UserFactory

from ..support.factories import ActionPlanFactory
from .factories import ParticipantFactory

pytestmark = pytest.mark.django_db

NAME = ("Hemlighetsfull", "Skyddadsson")
PROTECTED = IdentityProtection.PROTECTED_REGISTRATION


@pytest.fixture
def person(db):
    return ParticipantFactory(first_name=NAME[0], last_name=NAME[1])


@pytest.fixture
def listed_worker(db):
    return UserFactory(username="listed", role=Role.SUPPORT_STAFF)


def page_url(participant) -> str:
    return reverse("participants:participant-protection", kwargs={"pk": participant.pk})


def post(client, participant, **data):
    participant.refresh_from_db()
    payload = {
        "protection": PROTECTED,
        "staff": [],
        "reason": "Beslut om skyddad folkbokföring från Skatteverket.",
        "version": str(participant.version),
    }
    payload.update(data)
    return client.post(page_url(participant), payload)


def protect(participant, manager, staff=(), protection=PROTECTED, reason="Hot mot personen."):
    participant.refresh_from_db()
    return participant_set_protection(
        participant, protection=protection, staff=staff, reason=reason, acting_user=manager
    )


# --- The page: who may open it, what a submit saves ----------------------------------


def test_only_the_unit_manager_reaches_the_protection_page(
    person, role_users, client_for, um_client
):
    for role, user in role_users.items():
        if role == Role.UNIT_MANAGER:
            continue
        assert client_for(user).get(page_url(person)).status_code == 403, role
        assert post(client_for(user), person).status_code == 403, role
    response = um_client.get(page_url(person))
    assert response.status_code == 200
    assert "Skyddad identitet" in response.content.decode()


def test_setting_protection_with_a_reason_keeps_who_when_and_why(
    person, um_client, unit_manager, listed_worker
):
    response = post(
        um_client, person, staff=[listed_worker.pk], reason="Hot från tidigare partner."
    )
    assert response.status_code == 302
    person.refresh_from_db()
    assert person.identity_protection == PROTECTED
    assert list(person.identity_access.all()) == [listed_worker]
    row = person.history.order_by("-history_id").first()
    assert row.identity_protection == PROTECTED
    assert row.history_change_reason == "Hot från tidigare partner."
    assert row.history_user == unit_manager

    page = um_client.get(page_url(person)).content.decode()
    assert "Hot från tidigare partner." in page
    assert "Skyddad folkbokföring" in page


def test_a_change_without_a_reason_is_refused_in_swedish_and_saves_nothing(person, um_client):
    rows_before = person.history.count()
    response = post(um_client, person, reason="  ")
    assert response.status_code == 400
    assert "Ange skälet till ändringen." in response.content.decode()
    person.refresh_from_db()
    assert person.identity_protection == IdentityProtection.NONE
    assert person.history.count() == rows_before


def test_a_submit_that_changes_nothing_needs_no_reason_and_saves_nothing(person, um_client):
    rows_before = person.history.count()
    response = post(um_client, person, protection="", reason="")
    assert response.status_code == 302
    assert person.history.count() == rows_before


def test_only_active_support_staff_can_be_put_on_the_access_list(
    person, um_client, unit_manager, social_worker
):
    leaver = UserFactory(username="leaver", role=Role.SUPPORT_STAFF, is_active=False)
    for outsider in (social_worker, leaver):
        assert post(um_client, person, staff=[outsider.pk]).status_code == 400
        with pytest.raises(ValidationError, match="inte boendestödjare"):
            protect(person, unit_manager, staff=[outsider])
    person.refresh_from_db()
    assert person.identity_protection == IdentityProtection.NONE


def test_the_service_refuses_anyone_but_the_unit_manager(person, support_staff, administrator):
    for user in (support_staff, administrator):
        with pytest.raises(PermissionDenied):
            protect(person, user)


def test_a_listed_worker_sees_the_name_and_an_unlisted_one_gets_404_logged(
    person, unit_manager, listed_worker, support_staff, client_for
):
    protect(person, unit_manager, staff=[listed_worker])
    url = person.get_absolute_url()
    listed_page = client_for(listed_worker).get(url)
    assert listed_page.status_code == 200
    assert NAME[1] in listed_page.content.decode()

    denied_before = AccessLogEntry.objects.filter(action=AccessLogEntry.Action.DENIED).count()
    assert client_for(support_staff).get(url).status_code == 404
    denied = AccessLogEntry.objects.filter(action=AccessLogEntry.Action.DENIED)
    assert denied.count() == denied_before + 1
    assert denied.latest("pk").person_id == person.pk


def test_lifting_protection_empties_the_list_and_shows_the_name_again(
    person, um_client, unit_manager, listed_worker, support_staff, client_for
):
    protect(person, unit_manager, staff=[listed_worker])
    response = post(um_client, person, protection="", staff=[], reason="Skyddet har upphört.")
    assert response.status_code == 302
    person.refresh_from_db()
    assert person.identity_protection == IdentityProtection.NONE
    assert not person.identity_access.exists()
    page = client_for(support_staff).get(person.get_absolute_url())
    assert page.status_code == 200
    assert NAME[1] in page.content.decode()

    history = protection_history(person)
    assert [(c.protection, c.reason) for c in history] == [
        ("", "Skyddet har upphört."),
        (PROTECTED, "Hot mot personen."),
    ]


def test_a_change_of_the_list_alone_is_in_the_protection_history(
    person, unit_manager, listed_worker
):
    protect(person, unit_manager)
    protect(person, unit_manager, staff=[listed_worker], reason="Ny kontaktperson.")
    # An ordinary edit of the record is not a protection change.
    person.refresh_from_db()
    person.phone = "070-000 00 00"
    record_save(person, acting_user=unit_manager)
    history = protection_history(person)
    assert [c.reason for c in history] == ["Ny kontaktperson.", "Hot mot personen."]
    # Each decision shows the staff it named.
    assert history[0].staff == (str(listed_worker.get_full_name() or listed_worker),)
    assert history[1].staff == ()


def test_the_protection_history_is_two_queries(person, unit_manager, django_assert_num_queries):
    for reason in ("Ett", "Två", "Tre"):
        protect(
            person,
            unit_manager,
            protection=PROTECTED if reason != "Två" else IdentityProtection.CONFIDENTIALITY_MARKING,
            reason=reason,
        )
    with django_assert_num_queries(2):
        assert len(protection_history(person)) == 3


# --- The participant page -----------------------------------------------------------


def test_the_participant_page_shows_a_banner_and_the_manager_a_link(
    person, unit_manager, um_client, listed_worker, client_for
):
    page = um_client.get(person.get_absolute_url()).content.decode()
    assert "Skyddad identitet:" not in page
    assert page_url(person) in page  # the manager can protect an unprotected person
    protect(person, unit_manager, staff=[listed_worker])
    page = um_client.get(person.get_absolute_url()).content.decode()
    assert "Skyddad identitet: Skyddad folkbokföring" in page
    assert page_url(person) in page
    listed_page = client_for(listed_worker).get(person.get_absolute_url()).content.decode()
    assert "Skyddad identitet: Skyddad folkbokföring" in listed_page
    assert page_url(person) not in listed_page


# --- The action plan PDF ------------------------------------------------------------


def _pdf_text(client, plan) -> str:
    response = client.get(reverse("support:plan-pdf", kwargs={"pk": plan.pk}))
    assert response.status_code == 200
    return "".join(page.extract_text() for page in PdfReader(io.BytesIO(response.content)).pages)


def test_the_tenants_plan_pdf_is_marked_for_a_protected_person(person, unit_manager, um_client):
    plan = ActionPlanFactory(participant=person)
    assert "SKYDDAD IDENTITET" not in _pdf_text(um_client, plan)
    protect(person, unit_manager)
    text = _pdf_text(um_client, plan)
    assert "SKYDDAD IDENTITET: Skyddad folkbokföring" in text


def test_the_printable_plan_is_marked_for_a_protected_person(person, unit_manager, um_client):
    plan = ActionPlanFactory(participant=person)
    url = reverse("support:plan-print", kwargs={"pk": plan.pk})
    assert "SKYDDAD IDENTITET" not in um_client.get(url).content.decode()
    protect(person, unit_manager)
    assert "SKYDDAD IDENTITET: Skyddad folkbokföring" in um_client.get(url).content.decode()


# --- The access log review ----------------------------------------------------------


def _read(user, person_id, action=AccessLogEntry.Action.READ):
    return AccessLogEntry.objects.create(
        user=user,
        username=user.username,
        role=user.role or "",
        action=action,
        model="participants.Participant",
        person_id=person_id,
        at=timezone.now(),
    )


def _review(client):
    with CaptureQueriesContext(connection) as queries:
        response = client.get(reverse("bostadforst:access-log"))
    assert response.status_code == 200
    flags = {e.pk: [str(f) for f in fl] for e, fl in response.context["rows"]}
    return len(queries), flags


def test_every_read_of_a_protected_person_is_flagged_for_the_manager(
    person, unit_manager, um_client, listed_worker, support_staff
):
    other = ParticipantFactory(support_worker=listed_worker)
    person.support_worker = listed_worker
    person.save()
    quiet_reads = [_read(listed_worker, person.pk), _read(listed_worker, other.pk)]
    count_before, flags = _review(um_client)
    assert not any("Skyddad identitet" in f for f in flags.values())

    protect(person, unit_manager, staff=[listed_worker])
    reads = [
        _read(listed_worker, person.pk),  # listed, in own caseload
        _read(unit_manager, person.pk),
        _read(support_staff, person.pk, action=AccessLogEntry.Action.DENIED),
        _read(listed_worker, person.pk, action=AccessLogEntry.Action.EXPORT),
    ]
    count_after, flags = _review(um_client)
    for entry in [*reads, quiet_reads[0]]:
        assert "Skyddad identitet" in flags[entry.pk], entry.action
    assert "Skyddad identitet" not in flags[quiet_reads[1].pk]
    assert count_after == count_before


# --- Exports ------------------------------------------------------------------------


def _csv_text(response) -> str:
    assert response.status_code == 200
    body = b"".join(response) if response.streaming else response.content
    return body.decode("utf-8-sig")


def test_the_participant_list_export_leaves_protected_people_out_by_default(
    person, unit_manager, um_client, listed_worker, client_for
):
    kept = ParticipantFactory(last_name="Synligsson")
    protect(person, unit_manager, staff=[listed_worker])
    url = reverse("participants:participant-list-csv")

    default = _csv_text(um_client.get(url))
    assert kept.last_name in default and NAME[1] not in default
    included = _csv_text(um_client.get(url, {"include_protected": "1"}))
    assert kept.last_name in included and NAME[1] in included
    # Only the unit manager may ask for them; a listed worker's file leaves them out.
    listed = _csv_text(client_for(listed_worker).get(url, {"include_protected": "1"}))
    assert kept.last_name in listed and NAME[1] not in listed


def test_the_dashboards_lists_of_people_leave_protected_people_out_but_counts_stay(
    person, unit_manager, um_client
):
    ActionPlanFactory(participant=person, review_on=timezone.localdate() - timedelta(days=5))
    other = ParticipantFactory(last_name="Synligsson")
    ActionPlanFactory(participant=other, review_on=timezone.localdate() - timedelta(days=5))
    protect(person, unit_manager)
    url = reverse("reports:dashboard-csv", kwargs={"table": "overdue-reviews"})

    text = _csv_text(um_client.get(url))
    assert "Synligsson" in text and NAME[1] not in text
    assert NAME[1] in _csv_text(um_client.get(url, {"include_protected": "1"}))
    # The aggregated caseload still counts the protected person.
    caseload = _csv_text(
        um_client.get(reverse("reports:dashboard-csv", kwargs={"table": "caseload"}))
    )
    _header, *rows = csv.reader(io.StringIO(caseload), delimiter=";")
    assert sum(int(row[1]) for row in rows) == Participant.objects.active().count() == 2
    # The page offers the manager the file with them.
    page = um_client.get(reverse("reports:dashboard")).content.decode()
    assert "include_protected=1" in page


def test_a_person_can_be_protected_while_processing_is_restricted(person, unit_manager):
    from participants.restriction import processing_restrict

    processing_restrict(participant=person, reason="Begäran om rättelse.", acting_user=unit_manager)
    person.refresh_from_db()
    protect(person, unit_manager)
    person.refresh_from_db()
    assert person.identity_protection == PROTECTED


def test_the_assigned_support_worker_is_ticked_when_protection_begins(
    person, um_client, support_staff
):
    person.support_worker = support_staff
    person.save()
    url = reverse("participants:participant-protection", kwargs={"pk": person.pk})
    form = um_client.get(url).context["form"]
    assert form["staff"].value() == [support_staff.pk]
