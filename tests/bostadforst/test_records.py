"""The read path and the write path (bostadforst.records) on their own."""

import pytest
from django.db import connection
from django.http import Http404
from django.test import RequestFactory
from hypothesis import given
from hypothesis import strategies as st

from bostadforst.models import AccessLogEntry, StaleObjectError
from bostadforst.records import query_id, record_delete, record_get, record_save
from housing.models import Apartment
from participants.models import Participant

from ..housing.factories import ApartmentFactory, TenancyFactory
from ..participants.factories import ParticipantFactory
from ..support.factories import ActivityFactory, AttendanceFactory

READ = AccessLogEntry.Action.READ


def request_as(user, query=None):
    request = RequestFactory().get("/x/", query or {})
    request.user = user
    return request


@given(st.text(max_size=30))
def test_query_id_is_a_plain_database_id_or_none(value):
    parsed = query_id(RequestFactory().get("/", {"participant": value}), "participant")
    if parsed is None:
        assert not (value.isascii() and value.isdigit() and len(value) <= 18)
    else:
        assert str(parsed) == value.lstrip("0") or (parsed == 0 and set(value) == {"0"})
        assert 0 <= parsed < 10**18


def test_query_id_refuses_digits_python_knows_but_int_does_not():
    for value in ("²", "١٢٣", "1e3", "-1", " 1", "", "9" * 19):
        assert query_id(RequestFactory().get("/", {"x": value}), "x") is None


@pytest.mark.django_db
def test_an_apartment_page_read_is_logged_against_every_tenant_in_one_insert(
    support_staff, django_assert_num_queries
):
    apartment = ApartmentFactory()
    tenants = [
        TenancyFactory(
            apartment=apartment,
            move_in=f"20{y}-01-01",
            move_out=f"20{y}-06-01",
            exit_reason="other",
        ).participant
        for y in (10, 11, 12)
    ]
    from housing.selectors import apartment_detail_queryset

    queryset = apartment_detail_queryset(user=support_staff)
    # The apartment, its tenancies, their incidents, and one INSERT for the
    # log, after the hash chain's look-up of the last row (and its lock on
    # PostgreSQL).
    chain = 2 if connection.vendor == "postgresql" else 1
    with django_assert_num_queries(4 + chain):
        record_get(request_as(support_staff), queryset, pk=apartment.pk)
    logged = set(
        AccessLogEntry.objects.filter(action=READ, model="housing.Apartment").values_list(
            "person_id", flat=True
        )
    )
    assert logged == {t.pk for t in tenants}


@pytest.mark.django_db
def test_an_apartment_without_its_tenancy_history_shows_no_one(support_staff):
    TenancyFactory()
    record_get(request_as(support_staff), Apartment.objects.all(), pk=Apartment.objects.get().pk)
    reads = AccessLogEntry.objects.filter(action=READ)
    assert list(reads.values_list("person_id", flat=True)) == [None]


@pytest.mark.django_db
def test_an_activity_read_names_who_attended(support_staff):
    activity = ActivityFactory()
    people = {AttendanceFactory(activity=activity).participant_id for _ in range(2)}
    record_get(request_as(support_staff), type(activity).objects.all(), pk=activity.pk)
    reads = AccessLogEntry.objects.filter(action=READ)
    assert set(reads.values_list("person_id", flat=True)) == people


@pytest.mark.django_db
def test_a_bad_id_is_the_same_404_as_a_missing_one(support_staff):
    for pk in ("x", "a\x00b", 10**30, None):
        with pytest.raises(Http404):
            record_get(request_as(support_staff), Participant.objects.all(), pk=pk)
    assert not AccessLogEntry.objects.filter(action__in=[READ, "denied"]).exists()


@pytest.mark.django_db
def test_record_save_names_the_acting_user_and_the_reason_in_history(support_staff):
    person = ParticipantFactory.build()
    record_save(person, acting_user=support_staff)
    person.phone = "070-111 11 11"
    record_save(person, acting_user=support_staff, reason="Nytt nummer")
    latest = person.history.latest()
    assert latest.history_user == support_staff
    assert latest.history_change_reason == "Nytt nummer"
    assert person.version == 2


@pytest.mark.django_db
def test_record_save_validates_and_refuses_a_stale_copy(support_staff, social_worker):
    person = ParticipantFactory()
    mine, theirs = Participant.objects.get(pk=person.pk), Participant.objects.get(pk=person.pk)
    theirs.phone = "1"
    record_save(theirs, acting_user=social_worker)
    mine.phone = "2"
    with pytest.raises(StaleObjectError) as refused:
        record_save(mine, acting_user=support_staff)
    assert refused.value.read_version == 1
    person.refresh_from_db()
    assert person.phone == "1"


@pytest.mark.django_db
def test_record_delete_names_the_acting_user(support_staff):
    attendance = AttendanceFactory()
    pk = attendance.pk
    record_delete(attendance, acting_user=support_staff)
    deleted = type(attendance).history.filter(id=pk).latest()
    assert (deleted.history_type, deleted.history_user) == ("-", support_staff)
    assert AccessLogEntry.objects.filter(action=AccessLogEntry.Action.DELETE).exists()


@pytest.mark.django_db
def test_old_submit_tokens_are_forgotten(support_staff, settings):
    import uuid
    from datetime import timedelta

    from django.utils import timezone

    from bostadforst.models import SubmitToken
    from bostadforst.tasks import prune_submit_tokens

    settings.SUBMIT_TOKEN_DAYS = 30
    old = SubmitToken.objects.create(
        token=uuid.uuid4(), user=support_staff, created_at=timezone.now() - timedelta(days=31)
    )
    recent = SubmitToken.objects.create(token=uuid.uuid4(), user=support_staff)
    assert prune_submit_tokens.delay().get() == 1
    assert list(SubmitToken.objects.values_list("pk", flat=True)) == [recent.pk]
    assert old.pk != recent.pk


@pytest.mark.django_db
def test_a_bulk_create_gives_each_object_its_own_row_history_and_chained_log_row(unit_manager):
    """``record_bulk_create`` writes through COPY on PostgreSQL (ids drawn
    from the sequence first) and multi-row INSERTs on SQLite: either way each
    object gets the id of the row holding its values, a history row with
    that id, and a log row, chained in order."""
    import io

    from django.core.management import call_command

    from bostadforst.records import record_bulk_create
    from housing.models import Landlord

    names = [f"Värd {n:03d} ”citat”;\\tflik\nrad" for n in range(7)]
    landlords = record_bulk_create(
        Landlord, [Landlord(name=name) for name in names], acting_user=unit_manager
    )
    assert [Landlord.objects.get(pk=lord.pk).name for lord in landlords] == names
    history = Landlord.history.filter(id__in=[lord.pk for lord in landlords])
    written = sorted((lord.pk, lord.name) for lord in landlords)
    assert sorted(history.values_list("id", "name")) == written
    logged = AccessLogEntry.objects.filter(model="housing.Landlord").order_by("pk")
    assert list(logged.values_list("object_id", flat=True)) == [str(lord.pk) for lord in landlords]
    out = io.StringIO()
    call_command("verify_access_log", stdout=out)
    assert "Last row" in out.getvalue()
