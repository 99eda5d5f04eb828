"""Crisis placements: capacity, one stay at a time, and the home is kept."""

import datetime

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone

from housing.models import Tenancy
from support import services
from support.models import CrisisPlacement
from support.selectors import crisis_place_occupancy
from support.services import _peak_occupancy
from tests.participants.factories import ParticipantFactory

from .factories import CrisisPlaceFactory, CrisisPlacementFactory

D = datetime.date


def _place(participant, place, start, end=None, user=None):
    return services.placement_create(
        participant=participant,
        place=place,
        start=start,
        end=end,
        reason=CrisisPlacement.Reason.RELAPSE,
        acting_user=user,
    )


@pytest.mark.django_db
def test_a_full_place_cannot_be_booked_on_overlapping_days(support_staff):
    place = CrisisPlaceFactory(capacity=1)
    _place(ParticipantFactory(), place, D(2026, 3, 1), D(2026, 3, 10), support_staff)
    with pytest.raises(ValidationError) as exc:
        _place(ParticipantFactory(), place, D(2026, 3, 9), D(2026, 3, 12), support_staff)
    assert exc.value.messages[0].startswith(place.name)
    assert "2026-03-09" in exc.value.messages[0]


@pytest.mark.django_db
def test_the_day_someone_leaves_the_bed_is_free_again(support_staff):
    place = CrisisPlaceFactory(capacity=1)
    _place(ParticipantFactory(), place, D(2026, 3, 1), D(2026, 3, 10), support_staff)
    assert _place(ParticipantFactory(), place, D(2026, 3, 10), None, support_staff).pk


@pytest.mark.django_db
def test_an_open_stay_blocks_the_bed_for_every_later_day(support_staff):
    place = CrisisPlaceFactory(capacity=1)
    _place(ParticipantFactory(), place, D(2026, 3, 1), None, support_staff)
    with pytest.raises(ValidationError):
        _place(ParticipantFactory(), place, D(2027, 1, 1), D(2027, 1, 5), support_staff)
    # Before the open stay began the bed was free.
    assert _place(ParticipantFactory(), place, D(2026, 2, 1), D(2026, 2, 10), support_staff).pk


@pytest.mark.django_db
def test_capacity_counts_stays_at_the_same_time_not_over_the_whole_period(support_staff):
    place = CrisisPlaceFactory(capacity=2)
    _place(ParticipantFactory(), place, D(2026, 3, 1), D(2026, 3, 5), support_staff)
    _place(ParticipantFactory(), place, D(2026, 3, 6), D(2026, 3, 9), support_staff)
    # Two stays in the period, but never two at once: one bed is always free.
    assert _place(ParticipantFactory(), place, D(2026, 3, 1), D(2026, 3, 9), support_staff).pk
    with pytest.raises(ValidationError):
        _place(ParticipantFactory(), place, D(2026, 3, 2), D(2026, 3, 3), support_staff)


@pytest.mark.parametrize(
    ("periods", "expected"),
    [
        ([], 0),
        ([(D(2026, 1, 1), D(2026, 1, 5)), (D(2026, 1, 5), None)], 1),
        ([(D(2026, 1, 1), None), (D(2026, 1, 3), D(2026, 1, 4))], 2),
        ([(D(2025, 1, 1), D(2026, 1, 2)), (D(2026, 1, 2), D(2026, 1, 3))], 1),
    ],
)
def test_peak_occupancy(periods, expected):
    assert _peak_occupancy(periods, D(2026, 1, 1), D(2026, 2, 1))[0] == expected


@pytest.mark.django_db
def test_one_open_placement_per_participant(support_staff, housed):
    _place(housed, CrisisPlaceFactory(capacity=5), D(2026, 3, 1), None, support_staff)
    with pytest.raises(ValidationError) as exc:
        _place(housed, CrisisPlaceFactory(capacity=5), D(2026, 4, 1), None, support_staff)
    assert "redan en sviktplacering" in exc.value.messages[0]


@pytest.mark.django_db
def test_the_database_also_refuses_a_second_open_placement(housed):
    CrisisPlacementFactory(participant=housed)
    with pytest.raises(IntegrityError), transaction.atomic():
        CrisisPlacementFactory(participant=housed)


@pytest.mark.django_db
def test_the_form_answers_400_with_clear_errors(ss_client, housed):
    place = CrisisPlaceFactory(capacity=1)
    CrisisPlacementFactory(place=place, start=D(2026, 1, 1))
    url = reverse("support:placement-create")
    base = {"participant": housed.pk, "place": place.pk, "reason": "relapse", "note": ""}
    response = ss_client.post(url, {**base, "start": "2026-02-01", "end": "2026-01-01"})
    assert response.status_code == 400
    assert "Slutdatumet kan inte vara före startdatumet." in response.content.decode()
    response = ss_client.post(url, {**base, "start": "2026-02-01", "end": "2026-02-03"})
    assert response.status_code == 400
    assert "är fullbelagd" in response.content.decode()
    assert not CrisisPlacement.objects.filter(participant=housed).exists()


@pytest.mark.django_db
def test_placement_and_return_home_never_touch_the_tenancy(ss_client, housed):
    tenancy = Tenancy.objects.get(participant=housed)
    before = (tenancy.version, tenancy.move_out, tenancy.exit_reason, tenancy.updated_at)
    place = CrisisPlaceFactory(capacity=3)
    start = timezone.localdate() - datetime.timedelta(days=5)
    response = ss_client.post(
        reverse("support:placement-create"),
        {
            "participant": housed.pk,
            "place": place.pk,
            "start": start.isoformat(),
            "reason": "relapse",
            "note": "Återfall.",
        },
    )
    assert response.status_code == 302
    placement = CrisisPlacement.objects.get(participant=housed)
    response = ss_client.post(
        reverse("support:placement-end", kwargs={"pk": placement.pk}),
        {"end": timezone.localdate().isoformat(), "version": placement.version},
    )
    assert response.status_code == 302
    placement.refresh_from_db()
    assert placement.end == timezone.localdate()
    tenancy.refresh_from_db()
    assert (tenancy.version, tenancy.move_out, tenancy.exit_reason, tenancy.updated_at) == before
    assert tenancy.is_active_on(timezone.localdate())


@pytest.mark.django_db
def test_ending_before_the_start_is_refused(ss_client, housed):
    placement = CrisisPlacementFactory(participant=housed, start=D(2026, 3, 10))
    response = ss_client.post(
        reverse("support:placement-end", kwargs={"pk": placement.pk}),
        {"end": "2026-03-01", "version": placement.version},
    )
    assert response.status_code == 400
    placement.refresh_from_db()
    assert placement.end is None


@pytest.mark.django_db
def test_occupancy_is_visible_to_the_team(ss_client, um_client, housed):
    place = CrisisPlaceFactory(name="Sviktplatsen Björkgården", capacity=2)
    CrisisPlacementFactory(participant=housed, place=place)
    CrisisPlacementFactory(place=place, start=D(2020, 1, 1), end=D(2020, 1, 5))
    row = crisis_place_occupancy(day=timezone.localdate()).get()
    assert (row.occupied, row.free) == (1, 1)
    for client in (ss_client, um_client):
        html = client.get(reverse("support:crisis-place-list")).content.decode()
        assert "Sviktplatsen Björkgården" in html and str(housed) in html


@pytest.mark.django_db
def test_an_open_stay_is_ended_from_the_participant_page(ss_client, housed):
    placement = CrisisPlacementFactory(participant=housed)
    page = ss_client.get(housed.get_absolute_url()).content.decode()
    end_url = reverse("support:placement-end", kwargs={"pk": placement.pk})
    assert f'href="{end_url}"' in page
    assert "Avsluta vistelsen" in page or "End the stay" in page
    placement.end = placement.start + datetime.timedelta(days=2)
    placement.save()
    assert end_url not in ss_client.get(housed.get_absolute_url()).content.decode()


@pytest.mark.django_db
def test_the_crisis_place_list_says_open_as_a_verb(ss_client, housed):
    CrisisPlacementFactory(participant=housed)
    page = ss_client.get(reverse("support:crisis-place-list")).content.decode()
    assert ">Öppna<" in page


def _list_queries(client) -> int:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as queries:
        assert client.get(reverse("support:crisis-place-list")).status_code == 200
    return len(queries)


@pytest.mark.django_db
def test_the_crisis_place_list_is_the_same_queries_with_nobody_there_and_many(ss_client):
    """The benchmark found 8 queries at N = 100 (nobody at a place) and 9 at
    10,000: the viewer's protected people were read only once a placement's
    person was loaded."""
    places = CrisisPlaceFactory.create_batch(2, capacity=10)
    CrisisPlacementFactory(place=places[0], start=D(2020, 1, 1), end=D(2020, 1, 5))
    nobody = _list_queries(ss_client)
    for i in range(6):
        CrisisPlacementFactory(participant=ParticipantFactory(), place=places[i % 2])
    many = _list_queries(ss_client)
    assert nobody == many == 9
