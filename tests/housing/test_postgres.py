"""On PostgreSQL the database itself refuses double letting (exclusion
constraints of migration 0003), even for writes that skip validation."""

import datetime

import pytest
from django.db import IntegrityError, connection, transaction
from django.urls import reverse

from housing.models import ContractType, ExitReason, Tenancy
from tests.participants.factories import ParticipantFactory

from .factories import ApartmentFactory, TenancyFactory

D = datetime.date

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.skipif(
        connection.vendor != "postgresql", reason="exclusion constraints need PostgreSQL"
    ),
]


def write_past_validation(**fields) -> Tenancy:
    """Tenancy.objects.create skips full_clean(): only the database can refuse."""
    with transaction.atomic():
        return Tenancy.objects.create(contract_type=ContractType.FIRST_HAND, **fields)


@pytest.mark.django_db
def test_the_database_refuses_one_day_of_overlap_on_an_apartment():
    apartment = ApartmentFactory()
    write_past_validation(
        participant=ParticipantFactory(),
        apartment=apartment,
        move_in=D(2024, 1, 1),
        move_out=D(2024, 6, 1),
        exit_reason=ExitReason.MOVED_ON,
    )
    with pytest.raises(IntegrityError, match="tenancy_apartment_no_overlap"):
        write_past_validation(
            participant=ParticipantFactory(), apartment=apartment, move_in=D(2024, 5, 31)
        )
    assert Tenancy.objects.filter(apartment=apartment).count() == 1


@pytest.mark.django_db
def test_the_database_allows_move_in_on_the_previous_move_out_day():
    apartment = ApartmentFactory()
    write_past_validation(
        participant=ParticipantFactory(),
        apartment=apartment,
        move_in=D(2024, 1, 1),
        move_out=D(2024, 6, 1),
        exit_reason=ExitReason.MOVED_ON,
    )
    write_past_validation(
        participant=ParticipantFactory(), apartment=apartment, move_in=D(2024, 6, 1)
    )
    assert Tenancy.objects.filter(apartment=apartment).count() == 2


@pytest.mark.django_db
def test_the_database_treats_an_open_tenancy_as_running_forever():
    apartment = ApartmentFactory()
    write_past_validation(
        participant=ParticipantFactory(), apartment=apartment, move_in=D(2024, 1, 1)
    )
    with pytest.raises(IntegrityError):
        write_past_validation(
            participant=ParticipantFactory(),
            apartment=apartment,
            move_in=D(2035, 1, 1),
            move_out=D(2035, 2, 1),
            exit_reason=ExitReason.OTHER,
        )


@pytest.mark.django_db
def test_the_database_refuses_two_tenancies_for_one_participant():
    participant = ParticipantFactory()
    write_past_validation(
        participant=participant,
        apartment=ApartmentFactory(),
        move_in=D(2024, 1, 1),
        move_out=D(2024, 3, 1),
        exit_reason=ExitReason.OTHER_HF_APARTMENT,
    )
    with pytest.raises(IntegrityError, match="tenancy_participant_no_overlap"):
        write_past_validation(
            participant=participant, apartment=ApartmentFactory(), move_in=D(2024, 2, 29)
        )
    write_past_validation(
        participant=participant, apartment=ApartmentFactory(), move_in=D(2024, 3, 1)
    )


@pytest.mark.django_db
def test_an_overlap_that_slips_past_validation_becomes_a_form_error(
    ss_client, support_staff, monkeypatch
):
    """A race between two saves: the check in clean() saw no clash, the
    database refuses the second; the user gets a 400 with a clear message."""
    existing = TenancyFactory(move_in=D(2024, 1, 1))
    monkeypatch.setattr(Tenancy, "_check_overlaps", lambda self, add: None)
    participant = ParticipantFactory()
    response = ss_client.post(
        reverse("housing:tenancy-assign"),
        {
            "participant": participant.pk,
            "apartment": existing.apartment_id,
            "contract_type": ContractType.SOCIAL,
            "move_in": "2024-04-01",
            "support_worker": support_staff.pk,
        },
    )
    assert response.status_code == 400
    assert "Databasen vägrade ändringen" in response.content.decode()
    assert Tenancy.objects.count() == 1
    participant.refresh_from_db()
    assert participant.status == "approved"
