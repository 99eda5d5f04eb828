"""Who sees what: the team reads and writes; a social worker sees a summary of
the people they referred and never a journal note."""

import datetime

import pytest
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.translation import gettext

from participants.models import HousingSituation, Referral, SupportNeed
from support.participant_page import SECTION, TIMELINE_SOURCES, section_context

from .factories import (
    ActionPlanFactory,
    ActivityFactory,
    AttendanceFactory,
    CrisisPlacementFactory,
    SupportVisitFactory,
)
from .url_samples import SAMPLES

NOTE = "Känslig journaltext om återfall 4711"


@pytest.fixture
def referred(db, housed, social_worker, support_staff):
    Referral.objects.create(
        participant=housed,
        referred_by=social_worker,
        referral_date=datetime.date(2025, 1, 10),
        housing_situation=HousingSituation.ACUTE,
        support_need=SupportNeed.BOTH,
    )
    SupportVisitFactory(participant=housed, author=support_staff, note=NOTE)
    ActionPlanFactory(participant=housed, created_by=support_staff)
    CrisisPlacementFactory(participant=housed, note="Placering: " + NOTE)
    AttendanceFactory(participant=housed, activity=ActivityFactory())
    return housed


def _support_urls(participant):
    from support.models import ActionPlan, Activity, CrisisPlacement, SupportVisit

    visit = SupportVisit.objects.filter(participant=participant).first()
    plan = ActionPlan.objects.filter(participant=participant).first()
    placement = CrisisPlacement.objects.filter(participant=participant).first()
    activity = Activity.objects.first()
    return [
        reverse("support:my-participants"),
        reverse("support:visit-quick-log"),
        reverse("support:visit-goal-choices") + f"?participant={participant.pk}",
        reverse("support:visit-detail", kwargs={"pk": visit.pk}),
        reverse("support:visit-correct", kwargs={"pk": visit.pk}),
        reverse("support:visit-list", kwargs={"participant_pk": participant.pk}),
        reverse("support:plan-list", kwargs={"participant_pk": participant.pk}),
        reverse("support:plan-detail", kwargs={"pk": plan.pk}),
        reverse("support:plan-print", kwargs={"pk": plan.pk}),
        reverse("support:plan-pdf", kwargs={"pk": plan.pk}),
        reverse("support:plan-review-list"),
        reverse("support:crisis-place-list"),
        reverse("support:placement-detail", kwargs={"pk": placement.pk}),
        reverse("support:activity-list"),
        reverse("support:activity-detail", kwargs={"pk": activity.pk}),
    ]


@pytest.mark.django_db
@pytest.mark.parametrize("client_name", ["ss_client", "um_client"])
def test_the_team_opens_every_support_page(request, referred, client_name):
    client = request.getfixturevalue(client_name)
    for url in _support_urls(referred):
        assert client.get(url).status_code == 200, url


@pytest.mark.django_db
@pytest.mark.parametrize("client_name", ["sw_client", "admin_user_client"])
def test_other_roles_are_refused_every_support_page(request, referred, client_name):
    client = request.getfixturevalue(client_name)
    for url in _support_urls(referred):
        response = client.get(url)
        assert response.status_code == 403, url
        assert NOTE not in response.content.decode()


@pytest.mark.django_db
def test_anonymous_users_are_sent_to_the_login(client, referred):
    for url in _support_urls(referred):
        response = client.get(url)
        assert response.status_code == 302 and "/login/" in response["Location"], url


@pytest.mark.django_db
def test_a_social_worker_sees_only_a_summary_in_the_support_section(social_worker, referred):
    """The participants app decides where a social worker sees the section;
    whatever page it is on, it renders the summary and nothing else."""
    context = section_context(referred, user=social_worker)
    html = render_to_string(SECTION.template, {"section": context})
    assert NOTE not in html
    assert "Handlingsplan upprättad" in html
    assert "Senaste kontakt med teamet" in html
    assert "/support/" not in html and "Sviktplacering" not in html


@pytest.mark.django_db
def test_the_team_section_links_the_support_record(support_staff, referred):
    html = render_to_string(
        SECTION.template, {"section": section_context(referred, user=support_staff)}
    )
    assert gettext("Log visit") in html and gettext("At a crisis place") in html


@pytest.mark.django_db
def test_the_section_is_left_out_for_roles_without_access(administrator, referred):
    assert section_context(referred, user=administrator) is None


@pytest.mark.django_db
def test_the_summary_and_timeline_carry_nothing_sensitive_for_a_social_worker(
    social_worker, referred
):
    context = section_context(referred, user=social_worker)
    assert context["summary_only"] is True
    assert set(context) == {"participant", "summary_only", "plan", "review_status", "last_contact"}
    events = [
        e for source in TIMELINE_SOURCES for e in source(referred, user=social_worker, limit=50)
    ]
    assert [e.kind for e in events] == [gettext("Action plan")]
    assert all(not e.url and not e.detail for e in events)


@pytest.mark.django_db
def test_the_team_sees_visits_placements_and_activities_on_the_timeline(support_staff, referred):
    kinds = {
        e.kind
        for source in TIMELINE_SOURCES
        for e in source(referred, user=support_staff, limit=50)
    }
    expected = {gettext(k) for k in ("Action plan", "Support visit", "Crisis placement")}
    assert kinds == expected | {gettext("Meeting place")}
    events = [
        e for source in TIMELINE_SOURCES for e in source(referred, user=support_staff, limit=50)
    ]
    assert all(NOTE not in f"{e.title} {e.detail}" for e in events)


@pytest.mark.django_db
def test_a_missing_record_is_404_for_the_team(ss_client):
    per_participant = {"support:visit-list", "support:plan-list", "support:plan-create"}
    for name in SAMPLES:
        kwarg = "participant_pk" if name in per_participant else "pk"
        url = reverse(name, kwargs={kwarg: 999999})
        assert ss_client.get(url).status_code == 404, url


@pytest.mark.django_db
def test_reading_a_visit_is_written_to_the_access_log(ss_client, support_staff, referred):
    from bostadforst.models import AccessLogEntry
    from support.models import SupportVisit

    visit = SupportVisit.objects.get(participant=referred)
    ss_client.get(reverse("support:visit-detail", kwargs={"pk": visit.pk}))
    entry = AccessLogEntry.objects.filter(action="read", model="support.SupportVisit").get()
    assert (entry.user, entry.person_id, entry.object_id) == (
        support_staff,
        referred.pk,
        str(visit.pk),
    )


@pytest.mark.django_db
def test_the_plan_pdf_is_logged_as_an_export(ss_client, referred):
    from bostadforst.models import AccessLogEntry
    from support.models import ActionPlan

    plan = ActionPlan.objects.get(participant=referred)
    assert ss_client.get(reverse("support:plan-pdf", kwargs={"pk": plan.pk})).status_code == 200
    assert AccessLogEntry.objects.filter(action="export", person_id=referred.pk).exists()


@pytest.mark.django_db
def test_referring_social_worker_follows_the_person_on_the_referral_page_without_notes(
    referred, sw_client
):
    referral = Referral.objects.get(participant=referred)
    url = reverse("participants:referral-detail", kwargs={"pk": referral.pk})
    html = sw_client.get(url).content.decode()
    assert "Så går det" in html
    assert str(referred.get_status_display()) in html
    assert "4711" not in html
    assert "journal" not in html.lower()
