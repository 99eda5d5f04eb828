"""Support visits: the quick-log form, journal locking and corrections."""

import datetime

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from support import services
from support.forms import VisitQuickLogForm
from support.models import JournalLockedError, SupportVisit
from tests.participants.factories import ParticipantFactory

from .factories import ActionPlanFactory, GoalFactory, SupportVisitFactory


def _quick_post(participant, **overrides):
    now = timezone.localtime().replace(second=0, microsecond=0)
    data = {
        "participant": participant.pk,
        "kind": SupportVisit.Kind.HOME_VISIT,
        "started_at": now.strftime("%Y-%m-%dT%H:%M"),
        "duration_minutes": "30",
        "staff": [],
        "note": "Hembesök, allt lugnt.",
        "sign": "on",
    }
    data.update(overrides)
    return data


@pytest.mark.django_db
def test_quick_log_defaults_to_now_the_logged_in_worker_and_a_home_visit(support_staff, housed):
    form = VisitQuickLogForm(user=support_staff)
    started = form.initial["started_at"]
    assert abs((timezone.localtime() - started).total_seconds()) < 90
    assert form.initial["staff"] == [support_staff.pk]
    assert form.initial["kind"] == SupportVisit.Kind.HOME_VISIT
    assert form.initial["sign"] if "sign" in form.initial else form.fields["sign"].initial


@pytest.mark.django_db
def test_quick_log_lists_the_workers_own_caseload_first(support_staff, housed):
    visited = ParticipantFactory(first_name="Aaron", last_name="Aardvark", status="housed")
    SupportVisitFactory(participant=visited, author=support_staff)
    ParticipantFactory(status="housed")  # someone else's, never visited: listed last
    form = VisitQuickLogForm(user=support_staff)
    groups = [label for label, _options in form.fields["participant"].choices[1:]]
    assert [str(g) for g in groups] == ["Mina deltagare", "Nyligen besökta", "Övriga hyresgäster"]
    mine = form.fields["participant"].choices[1][1]
    assert mine == [(housed.pk, str(housed))]
    assert form.fields["participant"].choices[2][1] == [(visited.pk, str(visited))]


@pytest.mark.django_db
def test_quick_log_saves_a_signed_visit_with_the_author_as_staff(ss_client, support_staff, housed):
    data = _quick_post(housed, staff=[support_staff.pk])
    response = ss_client.post(reverse("support:visit-quick-log"), data)
    assert response.status_code == 302
    visit = SupportVisit.objects.get()
    assert visit.author == support_staff
    assert list(visit.staff.all()) == [support_staff]
    assert visit.signed_at is not None and visit.is_locked
    # The worker lands on the visit just saved, not on a list that may not show it.
    assert response["Location"] == reverse("support:visit-detail", kwargs={"pk": visit.pk})


@pytest.mark.django_db
def test_quick_log_page_fits_a_phone_and_preselects_a_participant(ss_client, housed):
    url = reverse("support:visit-quick-log") + f"?participant={housed.pk}"
    html = ss_client.get(url).content.decode()
    assert f'<option value="{housed.pk}" selected' in html
    assert 'type="datetime-local"' in html and 'inputmode="numeric"' in html


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"duration_minutes": "-5"}, "Tiden kan inte vara negativ."),
        ({"duration_minutes": "1441"}, "Tiden kan vara högst 1440 minuter"),
        ({"duration_minutes": ""}, "Ange tiden i minuter."),
        ({"participant": ""}, "Välj deltagare."),
        ({"staff": []}, "Välj minst en medarbetare."),
        ({"kind": "party"}, "Välj ett giltigt alternativ"),
    ],
)
def test_quick_log_refuses_bad_input_and_saves_nothing(
    ss_client, support_staff, housed, overrides, message
):
    data = _quick_post(housed, staff=[support_staff.pk])
    data.update(overrides)
    response = ss_client.post(reverse("support:visit-quick-log"), data)
    assert response.status_code == 400
    assert message in response.content.decode()
    assert not SupportVisit.objects.exists()


@pytest.mark.django_db
def test_a_visit_tomorrow_is_refused(ss_client, support_staff, housed):
    tomorrow = timezone.localtime() + datetime.timedelta(days=1)
    data = _quick_post(
        housed, staff=[support_staff.pk], started_at=tomorrow.strftime("%Y-%m-%dT%H:%M")
    )
    response = ss_client.post(reverse("support:visit-quick-log"), data)
    assert response.status_code == 400
    assert "efter i dag" in response.content.decode()
    assert not SupportVisit.objects.exists()


@pytest.mark.django_db
def test_a_visit_later_today_is_accepted(support_staff, housed):
    """Planned later today is still "today": only days after today are refused."""
    end_of_day = timezone.localtime().replace(hour=23, minute=59)
    visit = services.visit_log(
        participant=housed,
        started_at=end_of_day,
        duration_minutes=0,
        kind=SupportVisit.Kind.PHONE,
        staff=[support_staff],
        acting_user=support_staff,
    )
    assert visit.pk


@pytest.mark.django_db
def test_goals_must_belong_to_the_participant(support_staff, housed):
    other_goal = GoalFactory()
    with pytest.raises(ValidationError) as exc:
        services.visit_log(
            participant=housed,
            started_at=timezone.now(),
            duration_minutes=30,
            kind=SupportVisit.Kind.HOME_VISIT,
            staff=[support_staff],
            goals=[other_goal],
            acting_user=support_staff,
        )
    assert "goals" in exc.value.error_dict


@pytest.mark.django_db
def test_quick_log_offers_the_current_plans_goals(ss_client, support_staff, housed):
    plan = ActionPlanFactory(participant=housed, created_by=support_staff)
    goal = GoalFactory(plan=plan, text="Ringa syster varje söndag")
    url = reverse("support:visit-quick-log") + f"?participant={housed.pk}"
    assert "Ringa syster varje söndag" in ss_client.get(url).content.decode()
    data = _quick_post(housed, staff=[support_staff.pk], goals=[goal.pk])
    assert ss_client.post(url, data).status_code == 302
    assert list(SupportVisit.objects.get().goals.all()) == [goal]


@pytest.mark.django_db
def test_goals_can_be_ticked_after_choosing_the_participant_on_the_blank_form(
    ss_client, support_staff, housed
):
    """Opened without ``?participant=``, the page loads the goals box for the
    chosen person (quick_log.js) and the goals ticked there are saved."""
    goal = GoalFactory(
        plan=ActionPlanFactory(participant=housed, created_by=support_staff),
        text="Betala hyran i tid",
    )
    url = reverse("support:visit-quick-log")
    html = ss_client.get(url).content.decode()
    goals_url = reverse("support:visit-goal-choices")
    assert f'data-goals-url="{goals_url}"' in html
    assert 'src="/static/support/quick_log.js"' in html
    assert "<script>" not in html  # no inline script (CSP)
    assert "Betala hyran i tid" not in html  # nobody chosen yet

    box = ss_client.get(goals_url, {"participant": housed.pk}).content.decode()
    assert "Betala hyran i tid" in box and f'name="goals" value="{goal.pk}"' in box

    data = _quick_post(housed, staff=[support_staff.pk], goals=[goal.pk])
    assert ss_client.post(url, data).status_code == 302
    assert list(SupportVisit.objects.get().goals.all()) == [goal]


@pytest.mark.django_db
def test_the_goals_box_explains_when_there_is_nothing_to_choose(ss_client, support_staff, housed):
    goals_url = reverse("support:visit-goal-choices")
    assert "Välj deltagare" in ss_client.get(goals_url).content.decode()
    box = ss_client.get(goals_url, {"participant": housed.pk}).content.decode()
    assert "har ingen handlingsplan" in box and 'name="goals"' not in box


@pytest.mark.django_db
def test_the_goals_box_logs_a_read_of_the_person_and_hides_other_peoples_goals(
    ss_client, support_staff, housed
):
    from bostadforst.models import AccessLogEntry

    plan = ActionPlanFactory(participant=housed, created_by=support_staff)
    GoalFactory(plan=plan, text="Mitt eget mål")
    other = GoalFactory(text="Någon annans mål")
    goals_url = reverse("support:visit-goal-choices")
    box = ss_client.get(goals_url, {"participant": housed.pk}).content.decode()
    assert "Mitt eget mål" in box and "Någon annans mål" not in box
    assert AccessLogEntry.objects.filter(
        action=AccessLogEntry.Action.READ, person_id=housed.pk, user=support_staff
    ).exists()
    # An exited person is not in the picker, so their goals are not offered.
    other.plan.participant.status = "exited"
    other.plan.participant.save()
    box = ss_client.get(goals_url, {"participant": other.plan.participant_id}).content.decode()
    assert "Någon annans mål" not in box


# --- Journal integrity -----------------------------------------------------------


@pytest.mark.django_db
def test_a_signed_note_cannot_be_changed_by_anyone(support_staff, housed):
    visit = SupportVisitFactory(participant=housed, author=support_staff)
    services.visit_sign(visit=visit, acting_user=support_staff)
    visit.refresh_from_db()
    visit.note = "Omskriven."
    with pytest.raises(JournalLockedError):
        visit.save()
    assert SupportVisit.objects.get(pk=visit.pk).note == "Hembesök. Pratade om veckans planering."


@pytest.mark.django_db
def test_a_note_locks_24_hours_after_it_was_written(support_staff, housed):
    visit = SupportVisitFactory(
        participant=housed,
        author=support_staff,
        created_at=timezone.now() - datetime.timedelta(hours=24, seconds=1),
    )
    assert visit.is_locked and visit.signed_at is None
    visit.note = "Ändrad i efterhand."
    with pytest.raises(JournalLockedError):
        visit.save()
    with pytest.raises(JournalLockedError):
        visit.delete()


@pytest.mark.django_db
def test_a_fresh_unsigned_note_can_be_changed_by_its_author(ss_client, support_staff, housed):
    visit = SupportVisitFactory(
        participant=housed,
        author=support_staff,
        created_at=timezone.now() - datetime.timedelta(hours=23),
    )
    data = _quick_post(housed, staff=[support_staff.pk], note="Kompletterat.", version=1)
    data.pop("sign")
    response = ss_client.post(reverse("support:visit-edit", kwargs={"pk": visit.pk}), data)
    assert response.status_code == 302
    visit.refresh_from_db()
    assert visit.note == "Kompletterat." and not visit.is_locked


@pytest.mark.django_db
def test_the_edit_page_refuses_a_locked_note(ss_client, support_staff, housed):
    visit = SupportVisitFactory(participant=housed, author=support_staff, signed_at=timezone.now())
    data = _quick_post(housed, staff=[support_staff.pk], note="Omskriven.", version=1)
    response = ss_client.post(reverse("support:visit-edit", kwargs={"pk": visit.pk}), data)
    assert response.status_code == 400
    assert "låst" in response.content.decode()
    visit.refresh_from_db()
    assert visit.note != "Omskriven."


@pytest.mark.django_db
def test_only_the_author_signs_or_changes_a_note(client_for, support_staff, unit_manager, housed):
    visit = SupportVisitFactory(participant=housed, author=support_staff)
    client = client_for(unit_manager)
    response = client.post(reverse("support:visit-sign", kwargs={"pk": visit.pk}), {"version": 1})
    assert response.status_code == 400
    visit.refresh_from_db()
    assert visit.signed_at is None


@pytest.mark.django_db
def test_signing_locks_the_note(ss_client, support_staff, housed):
    visit = SupportVisitFactory(participant=housed, author=support_staff)
    response = ss_client.post(
        reverse("support:visit-sign", kwargs={"pk": visit.pk}), {"version": 1}
    )
    assert response.status_code == 302
    visit.refresh_from_db()
    assert visit.is_locked and visit.signed_at is not None


@pytest.mark.django_db
def test_a_correction_is_a_new_entry_shown_with_the_original(ss_client, support_staff, housed):
    original = SupportVisitFactory(
        participant=housed, author=support_staff, signed_at=timezone.now(), note="Fel datum."
    )
    data = _quick_post(housed, staff=[support_staff.pk], note="Rätt: besöket var i går.")
    response = ss_client.post(reverse("support:visit-correct", kwargs={"pk": original.pk}), data)
    assert response.status_code == 302
    correction = SupportVisit.objects.get(corrects=original)
    assert correction.author == support_staff and correction.participant == housed
    original.refresh_from_db()
    assert original.note == "Fel datum." and original.version == 1
    html = ss_client.get(
        reverse("support:visit-detail", kwargs={"pk": original.pk})
    ).content.decode()
    assert "Fel datum." in html and "Rätt: besöket var i går." in html
    html = ss_client.get(
        reverse("support:visit-detail", kwargs={"pk": correction.pk})
    ).content.decode()
    assert reverse("support:visit-detail", kwargs={"pk": original.pk}) in html


@pytest.mark.django_db
def test_admin_cannot_change_or_delete_a_journal_note(client_for, support_staff, housed):
    from tests.factories import UserFactory

    superuser = UserFactory(username="root", is_superuser=True, is_staff=True)
    client = client_for(superuser)
    visit = SupportVisitFactory(participant=housed, author=support_staff, signed_at=timezone.now())
    url = reverse("admin:support_supportvisit_change", args=[visit.pk])
    page = client.get(url)
    assert page.status_code == 200
    assert 'name="note"' not in page.content.decode()  # shown read-only
    client.post(url, {"note": "Ändrad via admin", "duration_minutes": 5})
    client.post(reverse("admin:support_supportvisit_delete", args=[visit.pk]), {"post": "yes"})
    visit.refresh_from_db()
    assert visit.note == "Hembesök. Pratade om veckans planering."


@pytest.mark.django_db
def test_journal_notes_never_reach_log_lines(ss_client, support_staff, housed, caplog):
    secret = "Hemlig journaltext 4711"
    data = _quick_post(housed, staff=[support_staff.pk], note=secret, duration_minutes="-1")
    with caplog.at_level("DEBUG"):
        ss_client.post(reverse("support:visit-quick-log"), data)
        ss_client.post(reverse("support:visit-quick-log"), {**data, "duration_minutes": "5"})
    assert secret not in caplog.text
    assert SupportVisit.objects.filter(note=secret).exists()


# --- Change history of staff and goals -------------------------------------------


def _history_snapshots(visit):
    """(history type, staff ids, goal ids) of every history row, oldest first."""
    out = []
    for record in visit.history.order_by("history_id"):
        staff = sorted(record.staff.values_list("user_id", flat=True))
        goals = sorted(record.goals.values_list("goal_id", flat=True))
        out.append((record.history_type, staff, goals))
    return out


@pytest.mark.django_db
def test_the_first_history_row_of_a_visit_holds_its_staff_and_goals(
    support_staff, unit_manager, housed
):
    goal = GoalFactory(plan=ActionPlanFactory(participant=housed, created_by=support_staff))
    visit = services.visit_log(
        participant=housed,
        started_at=timezone.now(),
        duration_minutes=30,
        kind=SupportVisit.Kind.HOME_VISIT,
        staff=[support_staff, unit_manager],
        goals=[goal],
        acting_user=support_staff,
    )
    assert _history_snapshots(visit) == [
        ("+", sorted([support_staff.pk, unit_manager.pk]), [goal.pk])
    ]


@pytest.mark.django_db
def test_changing_a_visits_staff_and_goals_is_in_its_change_history(
    ss_client, support_staff, unit_manager, housed
):
    from bostadforst.history import change_history

    plan = ActionPlanFactory(participant=housed, created_by=support_staff)
    first, second = GoalFactory(plan=plan), GoalFactory(plan=plan)
    visit = services.visit_log(
        participant=housed,
        started_at=timezone.now(),
        duration_minutes=30,
        kind=SupportVisit.Kind.HOME_VISIT,
        staff=[support_staff],
        goals=[first],
        acting_user=support_staff,
    )
    data = _quick_post(
        housed, staff=[support_staff.pk, unit_manager.pk], goals=[second.pk], version=1
    )
    data.pop("sign")
    response = ss_client.post(reverse("support:visit-edit", kwargs={"pk": visit.pk}), data)
    assert response.status_code == 302
    assert _history_snapshots(visit) == [
        ("+", [support_staff.pk], [first.pk]),
        ("~", sorted([support_staff.pk, unit_manager.pk]), [second.pk]),
    ]
    latest = change_history(visit)[0]
    assert latest.who == str(support_staff)
    labels = {str(SupportVisit._meta.get_field(f).verbose_name) for f in ("staff", "goals")}
    assert labels <= set(latest.fields)
    page = ss_client.get(reverse("support:visit-detail", kwargs={"pk": visit.pk}))
    assert ", ".join(latest.fields) in page.content.decode()


@pytest.mark.django_db
def test_a_staff_change_made_outside_the_services_is_recorded_too(
    support_staff, unit_manager, housed
):
    visit = services.visit_log(
        participant=housed,
        started_at=timezone.now(),
        duration_minutes=30,
        kind=SupportVisit.Kind.PHONE,
        staff=[support_staff],
        acting_user=support_staff,
    )
    visit.staff.add(unit_manager)
    assert _history_snapshots(visit)[-1] == (
        "~",
        sorted([support_staff.pk, unit_manager.pk]),
        [],
    )


@pytest.mark.django_db
def test_logging_a_visit_reads_no_list_of_participants(ss_client, support_staff, housed):
    """The picker's options (every active participant: thousands at municipal
    scale, benchmarks/pages.py) are built for showing the form, not for
    saving one visit: the POST reads the chosen participant by id only."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    ParticipantFactory.create_batch(3, status="housed")
    with CaptureQueriesContext(connection) as queries:
        response = ss_client.post(
            reverse("support:visit-quick-log"), _quick_post(housed, staff=[support_staff.pk])
        )
    assert response.status_code == 302
    lists = [
        q["sql"]
        for q in queries
        if q["sql"].startswith("SELECT")
        and 'FROM "participants_participant"' in q["sql"]
        and '"participants_participant"."id" =' not in q["sql"]
        and "LIMIT" not in q["sql"]
    ]
    assert lists == []
