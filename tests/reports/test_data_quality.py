"""The data-quality report: each rule fires in a world made for it and not
in its near miss, the linked list shows exactly the counted rows, the page's
query count does not grow with the data, only unit managers open it, and
the daily snapshot keeps one row per day."""

import datetime
import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from bostadforst.models import AccessLogEntry
from bostadforst.records import record_save
from bostadforst.registry import start_page_queue
from participants.models import ParticipantStatus, ReferralStatus
from reports import data_quality
from reports.data_quality import RULES_BY_NAME, evaluate, flagged_rows, snapshot_today
from reports.data_quality_views import score_points
from reports.models import DataQualitySnapshot
from reports.tasks import data_quality_snapshot
from tests.housing.factories import TenancyFactory
from tests.participants.factories import ParticipantFactory, ReferralFactory
from tests.support.factories import (
    ActionPlanFactory,
    CrisisPlacementFactory,
    GoalFactory,
    SupportVisitFactory,
)

TODAY = timezone.localdate


def days_ago(n: int) -> datetime.date:
    return TODAY() - datetime.timedelta(days=n)


def counts(user) -> dict[str, tuple[int, int]]:
    return {r.rule.name: (r.checked, r.flagged) for r in evaluate(user=user)}


def flagged_pks(rule_name: str, user) -> set[int]:
    return set(flagged_rows(RULES_BY_NAME[rule_name], user=user).values_list("pk", flat=True))


def listed_pks(client, rule_name: str) -> set[int]:
    """The rows the rule's list page links to (its row links only)."""
    rule = RULES_BY_NAME[rule_name]
    response = client.get(rule.url())
    assert response.status_code == 200
    prefix = reverse(rule.detail, kwargs={"pk": 999999}).removesuffix("999999/")
    return {
        int(pk) for pk in re.findall(re.escape(prefix) + r"(\d+)/\"", response.content.decode())
    }


def assert_rule(client, user, rule_name: str, expected: set[int]) -> None:
    """The count, the rule's rows and the list page all name ``expected``."""
    assert counts(user)[rule_name][1] == len(expected)
    assert flagged_pks(rule_name, user) == expected
    assert listed_pks(client, rule_name) == expected


# --- Each rule: a world where it fires, and its near miss ------------------------------


@pytest.mark.django_db
def test_housed_without_plan_after_30_days(um_client, unit_manager):
    late = TenancyFactory(move_in=days_ago(31)).participant
    recent = TenancyFactory(move_in=days_ago(10)).participant  # 30 days not yet gone
    planned = TenancyFactory(move_in=days_ago(100)).participant
    ActionPlanFactory(participant=planned)
    assert late.status == recent.status == ParticipantStatus.HOUSED
    assert_rule(um_client, unit_manager, "housed-without-plan", {late.pk})
    assert counts(unit_manager)["housed-without-plan"] == (2, 1)


@pytest.mark.django_db
def test_housed_without_plan_does_not_fire_with_a_plan(um_client, unit_manager):
    person = TenancyFactory(move_in=days_ago(31)).participant
    ActionPlanFactory(participant=person)
    assert_rule(um_client, unit_manager, "housed-without-plan", set())


@pytest.mark.django_db
def test_current_plan_without_goals(um_client, unit_manager):
    empty = ActionPlanFactory()
    with_goal = GoalFactory().plan
    # An earlier version without goals is history: only the current one counts.
    old = ActionPlanFactory(participant=with_goal.participant, number=0)
    assert_rule(um_client, unit_manager, "plan-without-goals", {empty.pk})
    assert old.pk not in flagged_pks("plan-without-goals", unit_manager)


@pytest.mark.django_db
def test_plan_with_goals_does_not_fire(um_client, unit_manager):
    GoalFactory()
    assert_rule(um_client, unit_manager, "plan-without-goals", set())


@pytest.mark.django_db
def test_visit_without_note_after_24_hours(um_client, unit_manager):
    now = timezone.now()
    late = SupportVisitFactory(note="", started_at=now - datetime.timedelta(hours=25))
    # A note of only blanks, written through the one write path, is stored
    # empty and counted like an empty one.
    blank = SupportVisitFactory(note="Utkast", started_at=now - datetime.timedelta(days=3))
    blank.note = "  \n "
    record_save(blank, acting_user=blank.author)
    blank.refresh_from_db()
    assert blank.note == ""
    SupportVisitFactory(note="", started_at=now - datetime.timedelta(hours=23))  # still in time
    SupportVisitFactory(started_at=now - datetime.timedelta(days=3))  # has a note
    assert_rule(um_client, unit_manager, "visit-without-note", {late.pk, blank.pk})


@pytest.mark.django_db
def test_a_blank_note_stored_before_the_rule_read_empty_notes_is_still_flagged(
    um_client, unit_manager
):
    """Visits saved with a note of only blanks before ``clean`` stored such
    a note empty: the data migration empties them, so the rule (``note =
    ''``) flags them as it did, and a note with text is left alone."""
    import importlib

    from django.apps import apps

    from support.models import SupportVisit

    migration = importlib.import_module("support.migrations.0007_blank_visit_notes_emptied")
    started = timezone.now() - datetime.timedelta(days=3)
    old = SupportVisitFactory(started_at=started)
    kept = SupportVisitFactory(started_at=started, note="  Hembesök \n")
    SupportVisit.objects.filter(pk=old.pk).update(note=" \n\t ")  # as saved before
    migration.blank_notes_emptied(apps, None)
    assert SupportVisit.objects.get(pk=old.pk).note == ""
    assert SupportVisit.objects.get(pk=kept.pk).note == "  Hembesök \n"
    assert_rule(um_client, unit_manager, "visit-without-note", {old.pk})


@pytest.mark.django_db
def test_visit_without_note_made_good_by_a_correction(um_client, unit_manager):
    now = timezone.now()
    original = SupportVisitFactory(note="", started_at=now - datetime.timedelta(days=2))
    correction = SupportVisitFactory(
        participant=original.participant,
        started_at=original.started_at,
        corrects=original,
        note="Hembesök, anteckningen i efterhand.",
    )
    assert correction.pk not in flagged_pks("visit-without-note", unit_manager)
    assert_rule(um_client, unit_manager, "visit-without-note", set())


@pytest.mark.django_db
def test_referral_undecided_more_than_60_days(um_client, unit_manager):
    old = ReferralFactory(referral_date=days_ago(61))
    assessing = ReferralFactory(referral_date=days_ago(90), status=ReferralStatus.ASSESSING)
    ReferralFactory(referral_date=days_ago(59))
    ReferralFactory(referral_date=days_ago(200), status=ReferralStatus.WITHDRAWN)
    assert_rule(um_client, unit_manager, "referral-open-too-long", {old.pk, assessing.pk})


@pytest.mark.django_db
def test_referral_decided_in_time_does_not_fire(um_client, unit_manager):
    ReferralFactory(referral_date=days_ago(60 - 1))
    ReferralFactory(
        referral_date=days_ago(300),
        status=ReferralStatus.APPROVED,
        decided_by=unit_manager,
        decided_at=timezone.now(),
    )
    assert_rule(um_client, unit_manager, "referral-open-too-long", set())


@pytest.mark.django_db
def test_overlapping_crisis_placements(um_client, unit_manager):
    person = ParticipantFactory(status=ParticipantStatus.HOUSED)
    first = CrisisPlacementFactory(participant=person, start=days_ago(20), end=days_ago(10))
    second = CrisisPlacementFactory(participant=person, start=days_ago(15), end=days_ago(12))
    # An open placement overlapping the first one's end as well.
    third = CrisisPlacementFactory(participant=person, start=days_ago(11))
    # Someone else's placement at the same time is no fault.
    CrisisPlacementFactory(start=days_ago(20), end=days_ago(10))
    assert_rule(um_client, unit_manager, "placement-overlap", {first.pk, second.pk, third.pk})


@pytest.mark.django_db
def test_back_to_back_placements_do_not_overlap(um_client, unit_manager):
    person = ParticipantFactory(status=ParticipantStatus.HOUSED)
    CrisisPlacementFactory(participant=person, start=days_ago(20), end=days_ago(10))
    CrisisPlacementFactory(participant=person, start=days_ago(10))  # moves in the day it ended
    # A crisis placement during a tenancy is how they are meant to be.
    TenancyFactory(participant=person, move_in=days_ago(400))
    assert_rule(um_client, unit_manager, "placement-overlap", set())


@pytest.mark.django_db
def test_personnummer_missing_on_a_non_imported_record(um_client, unit_manager):
    missing = ParticipantFactory(personnummer=None)
    ParticipantFactory(imported=True)  # imported from a spreadsheet without one
    ParticipantFactory()
    assert_rule(um_client, unit_manager, "personnummer-missing", {missing.pk})
    assert counts(unit_manager)["personnummer-missing"] == (2, 1)


@pytest.mark.django_db
def test_personnummer_rule_does_not_fire_for_imported_or_numbered(um_client, unit_manager):
    ParticipantFactory(imported=True)
    ParticipantFactory()
    assert_rule(um_client, unit_manager, "personnummer-missing", set())


# --- The page, the list, the score ----------------------------------------------------


def _one_of_each(n: int = 1) -> None:
    """``n`` rows breaking each rule (and a few that do not)."""
    now = timezone.now()
    for _i in range(n):
        TenancyFactory(move_in=days_ago(40))
        ActionPlanFactory()
        SupportVisitFactory(note="", started_at=now - datetime.timedelta(days=2))
        SupportVisitFactory(started_at=now - datetime.timedelta(days=2))
        ReferralFactory(referral_date=days_ago(70))
        person = ParticipantFactory(status=ParticipantStatus.HOUSED)
        CrisisPlacementFactory(participant=person, start=days_ago(9), end=days_ago(3))
        CrisisPlacementFactory(participant=person, start=days_ago(5), end=days_ago(4))
        ParticipantFactory(personnummer=None)


@pytest.mark.django_db
def test_page_shows_each_rule_with_its_count_and_link(um_client, unit_manager):
    _one_of_each()
    response = um_client.get(reverse("reports:data-quality"))
    assert response.status_code == 200
    html = response.content.decode()
    for result in response.context["results"]:
        assert str(result.rule.label) in html
        assert result.flagged >= 1
        assert result.rule.url() in html
    assert "Datakvalitet" in html
    assert response.context["flagged"] == sum(r.flagged for r in evaluate(user=unit_manager))


@pytest.mark.django_db
def test_score_is_the_share_of_checked_rows_breaking_no_rule(unit_manager):
    _one_of_each()
    results = evaluate(user=unit_manager)
    checked = sum(r.checked for r in results)
    flagged = sum(r.flagged for r in results)
    assert 0 < flagged < checked
    assert data_quality.score(results) == pytest.approx(1 - flagged / checked)
    assert data_quality.score([]) is None


def _queries(client, url) -> int:
    client.get(url)  # warm: session, content types
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(url).status_code == 200
    return len(ctx.captured_queries)


@pytest.mark.django_db
@pytest.mark.parametrize("rule_name", [None, *RULES_BY_NAME])
def test_query_count_does_not_grow_with_the_data(um_client, rule_name):
    url = RULES_BY_NAME[rule_name].url() if rule_name else reverse("reports:data-quality")
    _one_of_each(1)
    small = _queries(um_client, url)
    _one_of_each(4)
    assert _queries(um_client, url) == small


@pytest.mark.django_db
def test_rule_list_logs_a_read_of_every_person_shown(um_client, unit_manager):
    _one_of_each(2)
    rule = RULES_BY_NAME["visit-without-note"]
    people = set(flagged_rows(rule, user=unit_manager).values_list("participant_id", flat=True))
    before = AccessLogEntry.objects.count()
    um_client.get(rule.url())
    logged = AccessLogEntry.objects.order_by("pk")[before:]
    assert {e.person_id for e in logged if e.action == AccessLogEntry.Action.READ} == people


@pytest.mark.django_db
def test_unknown_rule_is_a_404(um_client):
    assert um_client.get("/reports/data-quality/no-such-rule/").status_code == 404
    assert um_client.get(reverse("reports:data-quality-rule", args=["x"])).status_code == 404


@pytest.mark.django_db
@pytest.mark.parametrize("client_name", ["sw_client", "ss_client", "admin_user_client"])
def test_only_unit_managers_open_the_report(request, client_name):
    client = request.getfixturevalue(client_name)
    assert client.get(reverse("reports:data-quality")).status_code == 403
    rule_url = RULES_BY_NAME["personnummer-missing"].url()
    assert client.get(rule_url).status_code == 403


@pytest.mark.django_db
def test_anonymous_is_sent_to_login(client):
    response = client.get(reverse("reports:data-quality"))
    assert response.status_code == 302
    assert "login" in response["Location"]


# --- Daily snapshot and chart ----------------------------------------------------------


@pytest.mark.django_db
def test_snapshot_is_one_row_per_day(unit_manager):
    _one_of_each()
    first = snapshot_today()
    again = snapshot_today()
    assert DataQualitySnapshot.objects.count() == 1
    assert first.pk == again.pk
    assert again.flagged == sum(r.flagged for r in evaluate(user=unit_manager))
    # The data is corrected later the same day: the day's row follows.
    DataQualitySnapshot.objects.update(flagged=0)
    data_quality_snapshot()
    snapshot = DataQualitySnapshot.objects.get()
    assert snapshot.flagged == first.flagged
    assert snapshot.counts["personnummer-missing"][1] == 1


@pytest.mark.django_db
def test_snapshot_of_another_day_is_a_new_row():
    now = timezone.now()
    snapshot_today(now=now - datetime.timedelta(days=1))
    snapshot_today(now=now)
    assert DataQualitySnapshot.objects.count() == 2


@pytest.mark.django_db
def test_page_draws_the_score_over_time(um_client):
    _one_of_each()
    now = timezone.now()
    for days in (0, 7, 14):
        snapshot_today(now=now - datetime.timedelta(days=days))
    response = um_client.get(reverse("reports:data-quality"))
    chart = str(response.context["chart"])
    assert chart.startswith("<svg")
    assert f"{TODAY():%Y-%m-%d}" in chart


def test_score_points_take_the_latest_snapshot_of_each_week():
    today = datetime.date(2026, 11, 23)
    rows = [
        DataQualitySnapshot(day=today - datetime.timedelta(days=d), checked=10, flagged=f)
        for d, f in [(0, 1), (1, 5), (8, 2), (100, 9)]
    ]
    points = score_points(rows, today=today)
    assert [p["label"] for p in points] == ["2026-11-15", "2026-11-23"]
    assert [p["score"] for p in points] == [pytest.approx(0.8), pytest.approx(0.9)]


# --- Start page --------------------------------------------------------------------------


@pytest.mark.django_db
def test_start_page_card_counts_the_rows_to_correct(unit_manager, support_staff):
    _one_of_each()
    item = next(i for i in start_page_queue(user=unit_manager) if i.key == "data-quality")
    assert item.count == sum(r.flagged for r in evaluate(user=unit_manager))
    assert item.url == reverse("reports:data-quality")
    assert item.link_text == f"Datakvalitet: {item.count} att rätta"
    assert not [i for i in start_page_queue(user=support_staff) if i.key == "data-quality"]


@pytest.mark.django_db
def test_counting_only_the_flagged_rows_gives_the_same_flagged_counts(unit_manager):
    """The start page's card counts only the rows to correct (``checked=False``):
    the same figures as the report, without reading every checked row."""
    _one_of_each(2)
    full = {r.rule.name: r.flagged for r in evaluate(user=unit_manager)}
    flagged_only = evaluate(user=unit_manager, checked=False)
    assert {r.rule.name: r.flagged for r in flagged_only} == full
    assert sum(full.values()) > 0
    assert {r.checked for r in flagged_only} == {None}


@pytest.mark.django_db
def test_counting_takes_one_query_per_rule_at_any_size(unit_manager):
    """Every row (the snapshot) or a user's scope: one aggregate a rule."""
    evaluate(user=unit_manager)  # the role, read once per user object
    sizes = []
    for extra in (1, 5):
        _one_of_each(extra)
        with CaptureQueriesContext(connection) as everyone:
            evaluate()
        with CaptureQueriesContext(connection) as scoped:
            evaluate(user=unit_manager)
        sizes.append((len(everyone), len(scoped)))
    assert sizes[0] == sizes[1]
    assert sizes[0] == (len(data_quality.RULES), len(data_quality.RULES))


@pytest.mark.django_db
def test_visit_rows_are_named_in_local_time(um_client):
    started = timezone.make_aware(datetime.datetime(2026, 11, 23, 23, 30))
    SupportVisitFactory(note="", started_at=started)
    html = um_client.get(RULES_BY_NAME["visit-without-note"].url()).content.decode()
    assert "2026-11-23 23:30" in html


def test_the_snapshot_runs_daily_from_beat(settings):
    from bostadforst.celery import app

    entry = settings.CELERY_BEAT_SCHEDULE["reports-data-quality-snapshot"]
    assert entry["task"] == "reports.data_quality_snapshot"
    assert entry["schedule"].hour == {5}
    assert "reports.data_quality_snapshot" in app.tasks


@pytest.mark.django_db
def test_follow_up_menu_links_the_report(um_client, ss_client):
    url = reverse("reports:data-quality")
    assert f'href="{url}"' in um_client.get(reverse("home")).content.decode()
    assert f'href="{url}"' not in ss_client.get(reverse("home")).content.decode()
