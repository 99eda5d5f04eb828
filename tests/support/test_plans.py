"""Action plans: versions are kept, reviews are flagged, the tenant's copy prints."""

import datetime

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone
from hypothesis import given
from hypothesis import strategies as st
from pypdf import PdfReader

from bostadforst.pdf import StaticOnlyFetcher
from support import services
from support.models import ActionPlan, GoalAction, LifeArea
from support.selectors import ReviewStatus, plan_review_list, review_status
from tests.participants.factories import NetworkContactFactory

from .factories import ActionPlanFactory

TODAY = datetime.date(2026, 11, 23)


def _goal(text="Jag vill bo kvar.", actions=()):
    return services.GoalData(life_area=LifeArea.HOUSING, text=text, actions=list(actions))


def _plan_post(**overrides):
    today = timezone.localdate()
    data = {
        "agreed_on": today.isoformat(),
        "review_on": (today + datetime.timedelta(days=90)).isoformat(),
        "on_breach": "Sviktplats en tid, sedan hem.",
        "based_on": "0",
        "goal-TOTAL_FORMS": "2",
        "goal-INITIAL_FORMS": "0",
        "goal-0-life_area": LifeArea.FINANCES,
        "goal-0-text": "Jag vill betala hyran i tid.",
        "goal-0-action-TOTAL_FORMS": "2",
        "goal-0-action-INITIAL_FORMS": "0",
        "goal-0-action-0-who": GoalAction.Who.TENANT,
        "goal-0-action-0-what": "Autogiro för hyran",
        "goal-0-action-0-by_when": (today + datetime.timedelta(days=14)).isoformat(),
        "goal-1-action-TOTAL_FORMS": "2",
        "goal-1-action-INITIAL_FORMS": "0",
    }
    data.update(overrides)
    return data


@pytest.mark.django_db
def test_revising_a_plan_creates_a_new_version_and_keeps_the_old_one(housed, support_staff):
    first = services.plan_create_version(
        participant=housed,
        agreed_on=timezone.localdate(),
        review_on=timezone.localdate() + datetime.timedelta(days=90),
        on_breach="",
        goals=[_goal("Jag vill bo kvar.")],
        acting_user=support_staff,
    )
    data = services.plan_as_data(first)
    data[0].text = "Jag vill bo kvar och måla om köket."
    second = services.plan_create_version(
        participant=housed,
        agreed_on=timezone.localdate(),
        review_on=timezone.localdate() + datetime.timedelta(days=180),
        on_breach="",
        goals=data,
        based_on=1,
        acting_user=support_staff,
    )
    assert (first.number, second.number) == (1, 2)
    first.refresh_from_db()
    assert [g.text for g in first.goals.all()] == ["Jag vill bo kvar."]
    assert [g.text for g in second.goals.all()] == ["Jag vill bo kvar och måla om köket."]
    assert first.version == 1  # the old row was never saved again


@pytest.mark.django_db
def test_old_versions_stay_readable_and_say_they_are_old(ss_client, housed, support_staff):
    old = ActionPlanFactory(participant=housed, number=1, created_by=support_staff)
    old.goals.create(life_area=LifeArea.HEALTH, text="Sova bättre")
    ActionPlanFactory(participant=housed, number=2, created_by=support_staff)
    html = ss_client.get(reverse("support:plan-detail", kwargs={"pk": old.pk})).content.decode()
    assert "Sova bättre" in html
    assert "tidigare version" in html
    listing = ss_client.get(reverse("support:plan-list", kwargs={"participant_pk": housed.pk}))
    assert listing.content.decode().count("version 1") == 1


@pytest.mark.django_db
def test_plan_form_saves_a_version_with_goals_and_actions(ss_client, housed):
    response = ss_client.post(
        reverse("support:plan-create", kwargs={"participant_pk": housed.pk}), _plan_post()
    )
    assert response.status_code == 302
    plan = ActionPlan.objects.get(participant=housed)
    goal = plan.goals.get()
    assert goal.text == "Jag vill betala hyran i tid."
    assert goal.actions.get().what == "Autogiro för hyran"


@pytest.mark.django_db
def test_revision_form_is_prefilled_from_the_current_version(ss_client, housed, support_staff):
    plan = ActionPlanFactory(participant=housed, created_by=support_staff)
    goal = plan.goals.create(life_area=LifeArea.HEALTH, text="Sova bättre")
    goal.actions.create(who=GoalAction.Who.TENANT, what="Lägga mig före midnatt")
    html = ss_client.get(
        reverse("support:plan-create", kwargs={"participant_pk": housed.pk})
    ).content.decode()
    assert "Sova bättre" in html and "Lägga mig före midnatt" in html


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("agreed_days_ago", "review_in_days", "expected_in_days"),
    [
        (30, 60, 60),  # review still ahead: kept
        (30, 0, 0),  # due today: kept
        (200, -20, 180),  # overdue: the same interval again, from today
    ],
)
def test_a_revision_starts_from_a_review_date_that_is_not_already_past(
    housed, support_staff, agreed_days_ago, review_in_days, expected_in_days
):
    from support.forms import ActionPlanForm

    today = timezone.localdate()
    plan = ActionPlanFactory(
        participant=housed,
        created_by=support_staff,
        agreed_on=today - datetime.timedelta(days=agreed_days_ago),
        review_on=today + datetime.timedelta(days=review_in_days),
    )
    form = ActionPlanForm(participant=housed, current=plan)
    assert form.initial["agreed_on"] == today
    assert form.initial["review_on"] == today + datetime.timedelta(days=expected_in_days)


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"review_on": "2000-01-01"}, "Uppföljningsdatumet kan inte vara före"),
        ({"goal-0-text": "", "goal-0-action-0-what": "x"}, "Åtgärder behöver ett mål"),
        ({"goal-0-action-0-who": GoalAction.Who.PARTNER}, "samverkanspart"),
        (
            {
                "goal-0-text": "",
                "goal-0-action-0-what": "",
                "goal-0-action-0-who": "",
                "goal-0-action-0-by_when": "",
            },
            "minst ett mål",
        ),
    ],
)
def test_bad_plan_input_is_refused_with_a_clear_error(ss_client, housed, overrides, message):
    response = ss_client.post(
        reverse("support:plan-create", kwargs={"participant_pk": housed.pk}),
        _plan_post(**overrides),
    )
    assert response.status_code == 400
    assert message in response.content.decode()
    assert not ActionPlan.objects.filter(participant=housed).exists()


@pytest.mark.django_db
def test_a_version_saved_meanwhile_is_reported_not_overtaken(ss_client, housed, support_staff):
    ActionPlanFactory(participant=housed, number=1, created_by=support_staff)
    response = ss_client.post(
        reverse("support:plan-create", kwargs={"participant_pk": housed.pk}),
        _plan_post(based_on="0"),
    )
    assert response.status_code == 400
    assert ActionPlan.objects.filter(participant=housed).count() == 1


@pytest.mark.django_db
def test_a_partner_must_come_from_the_participants_own_network(housed, support_staff):
    stranger = NetworkContactFactory()  # someone else's contact
    action = services.ActionData(who=GoalAction.Who.PARTNER, partner=stranger, what="Följa upp")
    with pytest.raises(ValidationError):
        services.plan_create_version(
            participant=housed,
            agreed_on=timezone.localdate(),
            review_on=timezone.localdate(),
            on_breach="",
            goals=[_goal(actions=[action])],
            acting_user=support_staff,
        )


@pytest.mark.parametrize(
    ("days", "expected"),
    [
        (-1, ReviewStatus.OVERDUE),
        (0, ReviewStatus.DUE_SOON),
        (14, ReviewStatus.DUE_SOON),
        (15, ReviewStatus.OK),
    ],
)
def test_review_flag_boundaries(days, expected):
    assert review_status(TODAY + datetime.timedelta(days=days), today=TODAY) == expected


def test_no_plan_means_review_missing():
    assert review_status(None, today=TODAY) == ReviewStatus.MISSING


@given(st.dates(), st.integers(min_value=-4000, max_value=4000))
def test_a_review_is_overdue_exactly_when_its_date_has_passed(today, offset):
    try:
        review_on = today + datetime.timedelta(days=offset)
    except OverflowError:
        return
    assert (review_status(review_on, today=today) == ReviewStatus.OVERDUE) == (review_on < today)


@pytest.mark.django_db
def test_overdue_review_is_flagged_on_the_participant_page_and_in_team_lists(
    ss_client, housed, support_staff
):
    today = timezone.localdate()
    ActionPlanFactory(
        participant=housed,
        agreed_on=today - datetime.timedelta(days=100),
        review_on=today - datetime.timedelta(days=1),
        created_by=support_staff,
    )
    page = ss_client.get(reverse("participants:participant-detail", kwargs={"pk": housed.pk}))
    assert "Uppföljning försenad" in page.content.decode()
    rows = plan_review_list(user=support_staff, today=today)
    assert [(r.pk, r.review_status) for r in rows] == [(housed.pk, ReviewStatus.OVERDUE)]
    caseload = ss_client.get(reverse("support:my-participants")).content.decode()
    assert "Uppföljning försenad" in caseload


@pytest.mark.django_db
def test_the_review_list_puts_overdue_first_then_missing_then_due_soon(support_staff):
    from tests.participants.factories import ParticipantFactory

    today = timezone.localdate()

    def with_review(days: int | None, name: str):
        person = ParticipantFactory(last_name=name)
        if days is not None:
            ActionPlanFactory(
                participant=person,
                created_by=support_staff,
                agreed_on=today - datetime.timedelta(days=400),
                review_on=today + datetime.timedelta(days=days),
            )
        return person

    soon = with_review(3, "Ahl")
    missing = with_review(None, "Berg")
    overdue_long = with_review(-40, "Carlsson")
    overdue_short = with_review(-1, "Dahl")
    with_review(60, "Ek")  # not due: not listed
    rows = plan_review_list(user=support_staff, today=today)
    assert [r.pk for r in rows] == [overdue_long.pk, overdue_short.pk, missing.pk, soon.pk]


@pytest.mark.django_db
def test_tenant_copy_prints_as_html_and_pdf_with_user_text_escaped(
    ss_client, housed, support_staff
):
    plan = ActionPlanFactory(participant=housed, created_by=support_staff)
    plan.goals.create(
        life_area=LifeArea.HOUSING, text='Bo kvar <img src="file:///etc/passwd"> hemma'
    )
    html = ss_client.get(reverse("support:plan-print", kwargs={"pk": plan.pk})).content.decode()
    assert "Min plan" in html
    assert "&lt;img" in html and '<img src="file' not in html
    response = ss_client.get(reverse("support:plan-pdf", kwargs={"pk": plan.pk}))
    assert response["Content-Type"] == "application/pdf"
    import io

    text = PdfReader(io.BytesIO(response.content)).pages[0].extract_text()
    assert "Bo kvar" in text


@pytest.mark.parametrize(
    "url",
    [
        "file:///etc/passwd",
        "http://127.0.0.1:8000/admin/",
        "https://example.com/static/css/app.css",
        "https://bostadforst.invalid/static/../../settings.py",
        "https://bostadforst.invalid/media/x.png",
    ],
)
def test_pdf_fetcher_refuses_anything_but_own_static_files_and_data(url):
    with pytest.raises(ValueError):
        StaticOnlyFetcher().fetch(url)


def test_pdf_fetcher_serves_own_static_files_and_data_urls():
    assert StaticOnlyFetcher().fetch("https://bostadforst.invalid/static/css/app.css").read()
    assert StaticOnlyFetcher().fetch("data:text/plain,hej").read() == b"hej"


@pytest.mark.django_db
def test_the_review_list_page_is_paged_with_the_same_queries_at_any_size(ss_client, support_staff):
    """At municipal scale thousands of people are due or lack a plan
    (benchmarks/pages.py): the page shows one page of them, most urgent
    first, with the same number of queries whatever their number."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from support.views import PlanReviewListView
    from tests.participants.factories import ParticipantFactory

    url = reverse("support:plan-review-list")
    ParticipantFactory.create_batch(3, status="housed")
    with CaptureQueriesContext(connection) as few:
        assert ss_client.get(url).status_code == 200
    ParticipantFactory.create_batch(PlanReviewListView.paginate_by + 5, status="housed")
    with CaptureQueriesContext(connection) as many:
        page = ss_client.get(url)
    assert len(many) == len(few)
    assert len(page.context["rows"]) == PlanReviewListView.paginate_by
    assert "page=2" in page.content.decode()
    second = ss_client.get(url + "?page=2")
    assert len(second.context["rows"]) == 8
    assert all(r.review_status is not None for r in second.context["rows"])
