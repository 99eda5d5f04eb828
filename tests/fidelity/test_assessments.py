"""The fidelity self-assessment's pages: who may use them, the form (one per
date, all scores in one submit, no second save on a replay), deactivated
items, the PDF and the list's query count."""

import datetime
import uuid

import pytest
from django.urls import reverse

from bostadforst.models import SubmitToken
from fidelity.models import Assessment, Item, Score
from fidelity.selectors import active_items
from tests.bostadforst.test_pdf_tagged import assert_tagged, tagged

from .factories import ItemFactory, make_assessment

# Every test here reads the scale and the role groups that data migrations made.
pytestmark = pytest.mark.usefixtures("fidelity_world")

DAY = datetime.date(2026, 3, 2)
LIST = reverse("fidelity:assessment-list")
CREATE = reverse("fidelity:assessment-create")


def post_data(*, date=DAY, value=3, staff=(), token=None) -> dict:
    data = {
        "date": date.isoformat(),
        "staff": [str(u.pk) for u in staff],
        "external_count": "2",
        "external_description": "Två från hyresvärden",
        "submit_token": str(token or uuid.uuid4()),
    }
    for item in active_items():
        data[f"item_{item.pk}"] = str(value)
        data[f"comment_{item.pk}"] = f"Kommentar {item.pk}"
    return data


@pytest.mark.parametrize(
    ("client_fixture", "list_status", "create_status"),
    [
        ("um_client", 200, 200),
        ("ss_client", 200, 200),
        ("sw_client", 403, 403),
        ("admin_user_client", 403, 403),
    ],
)
def test_the_team_records_and_reads_others_may_not(
    request, client_fixture, list_status, create_status
):
    client = request.getfixturevalue(client_fixture)
    assert client.get(LIST).status_code == list_status
    assert client.get(CREATE).status_code == create_status


def test_managers_see_every_assessment_support_staff_those_they_took_part_in(
    unit_manager, support_staff, um_client, ss_client, client_for
):
    from tests.factories import UserFactory

    other = UserFactory(role="support_staff")
    theirs = make_assessment(by=unit_manager, date=DAY, staff=[other])
    mine = make_assessment(
        by=unit_manager, date=DAY + datetime.timedelta(days=1), staff=[support_staff]
    )
    for assessment in (theirs, mine):
        url = reverse("fidelity:assessment-detail", kwargs={"pk": assessment.pk})
        assert um_client.get(url).status_code == 200
    assert (
        ss_client.get(reverse("fidelity:assessment-detail", kwargs={"pk": mine.pk})).status_code
        == 200
    )
    assert (
        ss_client.get(reverse("fidelity:assessment-detail", kwargs={"pk": theirs.pk})).status_code
        == 404
    )
    assert (
        client_for(other)
        .get(reverse("fidelity:assessment-detail", kwargs={"pk": theirs.pk}))
        .status_code
        == 200
    )


def test_the_form_offers_one_radio_group_per_active_item_in_a_fieldset_per_domain(um_client):
    response = um_client.get(CREATE)
    html = response.content.decode()
    items = list(active_items())
    assert len(items) == 25
    for item in items:
        assert f'name="item_{item.pk}"' in html
    assert html.count("<legend") >= 5 + len(items)
    assert "Boendeprocess och struktur" in html


def test_the_form_saves_every_score_in_one_submit(um_client, unit_manager, support_staff):
    response = um_client.post(CREATE, post_data(staff=[support_staff, unit_manager]))

    assessment = Assessment.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse(
        "fidelity:assessment-detail", kwargs={"pk": assessment.pk}
    )
    assert assessment.scores.count() == Item.objects.filter(is_active=True).count() == 25
    assert set(assessment.scores.values_list("value", flat=True)) == {3}
    assert set(assessment.staff.all()) == {support_staff, unit_manager}
    assert assessment.recorded_by == unit_manager
    assert assessment.history.count() == 1
    assert assessment.history.get().staff.count() == 2  # who took part, in the history row
    assert Score.history.count() == 25


def test_a_replay_of_the_form_saves_nothing_twice(um_client):
    token = uuid.uuid4()
    first = um_client.post(CREATE, post_data(token=token))
    again = um_client.post(CREATE, post_data(token=token))

    assert first.status_code == again.status_code == 302
    assert again["Location"] == first["Location"]
    assert Assessment.objects.count() == 1
    assert Score.objects.count() == 25
    assert SubmitToken.objects.filter(token=token).count() == 1


def test_one_assessment_per_date_a_second_is_refused_in_swedish_with_400(um_client, unit_manager):
    make_assessment(by=unit_manager, date=DAY)

    response = um_client.post(CREATE, post_data(date=DAY))

    assert response.status_code == 400
    assert "Det finns redan en trohetsskattning 2026-03-02" in response.content.decode()
    assert Assessment.objects.count() == 1
    assert Score.objects.count() == 25


def test_a_missing_score_is_a_swedish_error_and_saves_nothing(um_client):
    data = post_data()
    first = active_items().first()
    del data[f"item_{first.pk}"]

    response = um_client.post(CREATE, data)

    assert response.status_code == 400
    assert "Välj ett värde för påståendet." in response.content.decode()
    assert not Assessment.objects.exists() and not Score.objects.exists()


def test_a_score_outside_the_scale_is_refused(um_client):
    data = post_data()
    data[f"item_{active_items().first().pk}"] = "9"

    assert um_client.post(CREATE, data).status_code == 400
    assert not Assessment.objects.exists()


def test_a_deactivated_item_is_not_offered_but_old_assessments_keep_its_score(
    um_client, unit_manager
):
    item = active_items().first()
    old = make_assessment(by=unit_manager, date=DAY, value=4)
    item.is_active = False
    item.save()

    html = um_client.get(CREATE).content.decode()
    assert f'name="item_{item.pk}"' not in html
    um_client.post(CREATE, post_data(date=DAY + datetime.timedelta(days=1)))
    new = Assessment.objects.exclude(pk=old.pk).get()
    assert not new.scores.filter(item=item).exists()
    assert old.scores.get(item=item).value == 4
    detail = um_client.get(reverse("fidelity:assessment-detail", kwargs={"pk": old.pk}))
    assert item.text in detail.content.decode()


def test_a_scored_item_cannot_be_deleted(unit_manager):
    from django.db.models import ProtectedError

    item = active_items().first()
    make_assessment(by=unit_manager, date=DAY)
    with pytest.raises(ProtectedError):
        item.delete()


def test_the_detail_page_shows_the_domain_scores_and_the_overall_score(um_client, unit_manager):
    domain = ItemFactory(scale_min=0, scale_max=10).domain
    assessment = make_assessment(by=unit_manager, date=DAY, value=None)  # all highest

    html = um_client.get(
        reverse("fidelity:assessment-detail", kwargs={"pk": assessment.pk})
    ).content.decode()

    assert "100 %" in html
    assert domain.name in html
    assert "<svg" in html and "<title" in html and "<desc" in html


def test_the_pdf_is_tagged_with_its_title_and_swedish(um_client, unit_manager):
    assessment = make_assessment(by=unit_manager, date=DAY, value=2)

    response = um_client.get(reverse("fidelity:assessment-pdf", kwargs={"pk": assessment.pk}))

    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    doc = tagged(response.content)
    assert_tagged(doc, lang="sv", title="Trohetsskattning 2026-03-02")
    assert "Boendeprocess och struktur" in doc.text


def test_the_list_page_issues_the_same_queries_for_2_and_12_assessments(
    um_client, unit_manager, django_assert_num_queries
):
    def count(n: int) -> int:
        while Assessment.objects.count() < n:
            make_assessment(
                by=unit_manager,
                date=DAY - datetime.timedelta(days=Assessment.objects.count()),
                staff=[unit_manager],
            )
        from django.db import connection
        from django.test.utils import CaptureQueriesContext

        with CaptureQueriesContext(connection) as ctx:
            response = um_client.get(LIST)
        assert response.status_code == 200
        return len(ctx.captured_queries)

    assert count(2) == count(12)


def test_the_managers_start_page_shows_the_latest_score_and_its_change(um_client, unit_manager):
    make_assessment(by=unit_manager, date=DAY, value=1)
    make_assessment(by=unit_manager, date=DAY + datetime.timedelta(days=180), value=None)

    html = um_client.get(reverse("home")).content.decode()

    assert "Trohet mot modellen" in html
    assert "100 %" in html
    assert "Upp från 0 % vid skattningen före." in html
