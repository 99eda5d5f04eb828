"""The undo window after logging a visit (issue 17): the visit page shows
the saved visit with "Ångra" for VISIT_UNDO_MINUTES; undoing removes it with
its history kept and reopens its plan; afterwards the undo is refused."""

import datetime

import pytest
from django.urls import reverse
from django.utils import timezone

from bostadforst.mixins import TOKEN_FIELD
from bostadforst.models import AccessLogEntry
from bostadforst.roles import Role
from support.models import JournalLockedError, PlannedVisit, SupportVisit
from tests.factories import UserFactory

from .factories import PlannedVisitFactory

pytestmark = pytest.mark.django_db

LOCAL = "%Y-%m-%dT%H:%M"


def _quick_log(client, participant, staff) -> SupportVisit:
    response = client.post(
        reverse("support:visit-quick-log"),
        {
            "participant": participant.pk,
            "kind": SupportVisit.Kind.HOME_VISIT,
            "started_at": timezone.localtime().strftime(LOCAL),
            "duration_minutes": "30",
            "staff": [staff.pk],
            "note": "Hembesök. Fel person vald.",
            "sign": "on",
        },
    )
    assert response.status_code == 302
    visit = SupportVisit.objects.get()
    assert response["Location"] == visit.get_absolute_url()
    return visit


def _age(visit: SupportVisit, minutes: int) -> None:
    """As if the visit had been saved ``minutes`` ago (test set-up only)."""
    SupportVisit._base_manager.filter(pk=visit.pk).update(
        created_at=timezone.now() - datetime.timedelta(minutes=minutes)
    )
    visit.refresh_from_db()


def test_the_saved_visit_shows_an_undo_button_for_a_few_minutes(
    ss_client, support_staff, housed, settings
):
    settings.VISIT_UNDO_MINUTES = 5
    visit = _quick_log(ss_client, housed, support_staff)
    page = ss_client.get(visit.get_absolute_url()).content.decode()
    assert reverse("support:visit-undo", kwargs={"pk": visit.pk}) in page
    assert "Ångra" in page
    assert f"Till kl. {timezone.localtime(visit.undo_until):%H:%M} kan du ångra" in page
    _age(visit, 6)
    later = ss_client.get(visit.get_absolute_url()).content.decode()
    assert reverse("support:visit-undo", kwargs={"pk": visit.pk}) not in later


def test_undo_inside_the_window_removes_the_visit_and_keeps_it_auditable(
    ss_client, support_staff, housed
):
    visit = _quick_log(ss_client, housed, support_staff)
    assert visit.signed_at is not None  # signed at once, and still undoable
    pk = visit.pk
    response = ss_client.post(reverse("support:visit-undo", kwargs={"pk": pk}))
    assert response.status_code == 302
    assert response["Location"] == housed.get_absolute_url()
    assert not SupportVisit.objects.filter(pk=pk).exists()
    history = SupportVisit.history.filter(id=pk).order_by("history_id")
    assert [h.history_type for h in history] == ["+", "-"]
    removed = history.last()
    assert removed.history_user == support_staff
    assert removed.note == "Hembesök. Fel person vald."
    assert AccessLogEntry.objects.filter(
        action=AccessLogEntry.Action.DELETE,
        model="support.SupportVisit",
        object_id=str(pk),
        person_id=housed.pk,
        user=support_staff,
    ).exists()


def test_undo_after_the_window_is_refused_in_swedish(ss_client, support_staff, housed, settings):
    settings.VISIT_UNDO_MINUTES = 5
    visit = _quick_log(ss_client, housed, support_staff)
    _age(visit, 6)
    response = ss_client.post(reverse("support:visit-undo", kwargs={"pk": visit.pk}))
    assert response.status_code == 400
    assert "Besöket kan inte längre ångras" in response.content.decode()
    assert SupportVisit.objects.filter(pk=visit.pk).exists()
    # Nor can the model be made to remove it: it is signed and past its window.
    with pytest.raises(JournalLockedError):
        visit.delete()


def test_the_window_follows_the_setting(ss_client, support_staff, housed, settings):
    settings.VISIT_UNDO_MINUTES = 30
    visit = _quick_log(ss_client, housed, support_staff)
    _age(visit, 20)
    assert visit.can_undo()
    settings.VISIT_UNDO_MINUTES = 10
    assert not visit.can_undo()


def test_only_the_author_can_undo(client_for, support_staff, housed):
    visit = _quick_log(client_for(support_staff), housed, support_staff)
    colleague = UserFactory(username="colleague", role=Role.SUPPORT_STAFF)
    other = client_for(colleague)
    assert (
        reverse("support:visit-undo", kwargs={"pk": visit.pk})
        not in other.get(visit.get_absolute_url()).content.decode()
    )
    response = other.post(reverse("support:visit-undo", kwargs={"pk": visit.pk}))
    assert response.status_code == 400
    assert "Bara den som skrev besöket kan ångra det." in response.content.decode()
    assert SupportVisit.objects.filter(pk=visit.pk).exists()


def test_undoing_a_visit_logged_from_a_plan_opens_the_plan_again(ss_client, support_staff, housed):
    plan = PlannedVisitFactory(
        participant=housed,
        staff=support_staff,
        planned_at=timezone.localtime().replace(hour=0, minute=5, second=0, microsecond=0),
    )
    logged = ss_client.post(
        reverse("support:planned-visit-log", kwargs={"pk": plan.pk}),
        {
            "kind": SupportVisit.Kind.PHONE,
            "started_at": timezone.localtime(plan.planned_at).strftime(LOCAL),
            "duration_minutes": "15",
            "staff": [support_staff.pk],
            "note": "Telefon.",
            "sign": "on",
        },
    )
    assert logged.status_code == 302
    plan.refresh_from_db()
    assert plan.status == PlannedVisit.Status.LOGGED
    response = ss_client.post(reverse("support:visit-undo", kwargs={"pk": plan.visit_id}))
    assert response.status_code == 302
    assert response["Location"] == plan.get_absolute_url()
    plan.refresh_from_db()
    assert plan.status == PlannedVisit.Status.PLANNED
    assert plan.visit is None
    assert not SupportVisit.objects.exists()
    assert plan.history.first().history_change_reason == "Det loggade besöket ångrades"


def test_a_replayed_undo_removes_nothing_more(ss_client, support_staff, housed):
    visit = _quick_log(ss_client, housed, support_staff)
    page = ss_client.get(reverse("support:visit-undo", kwargs={"pk": visit.pk}))
    token = page.context["form"][TOKEN_FIELD].value()
    url = reverse("support:visit-undo", kwargs={"pk": visit.pk})
    first = ss_client.post(url, {TOKEN_FIELD: token})
    again = ss_client.post(url, {TOKEN_FIELD: token})
    assert first.status_code == again.status_code == 302
    assert again["Location"] == first["Location"]


def test_a_corrected_visit_cannot_be_undone(ss_client, support_staff, housed):
    visit = _quick_log(ss_client, housed, support_staff)
    ss_client.post(
        reverse("support:visit-correct", kwargs={"pk": visit.pk}),
        {
            "kind": SupportVisit.Kind.PHONE,
            "started_at": timezone.localtime(visit.started_at).strftime(LOCAL),
            "duration_minutes": "30",
            "staff": [support_staff.pk],
            "note": "Rättelse: telefonsamtal.",
            "sign": "on",
        },
    )
    response = ss_client.post(reverse("support:visit-undo", kwargs={"pk": visit.pk}))
    assert response.status_code == 400
    assert "har en rättelse" in response.content.decode()
