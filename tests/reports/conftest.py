"""Fixtures for the reports tests."""

from datetime import date

import pytest

from housing.models import ContractType
from participants.models import ParticipantStatus
from tests.housing.factories import ApartmentFactory, TenancyFactory
from tests.participants.factories import ParticipantFactory


@pytest.fixture
def tenancy(db):
    """``tenancy(person, "2020-01-31", "2021-01-01", "evicted", ...)``: one tenancy
    of ``person`` (a new imported participant when None), in an apartment of its
    own, first-hand unless ``contract_type`` says otherwise."""

    def make(person=None, move_in="2020-01-01", move_out=None, reason="", **kwargs):
        person = person or ParticipantFactory(imported=True, status=ParticipantStatus.HOUSED)
        kwargs.setdefault("contract_type", ContractType.FIRST_HAND)
        landlord = kwargs.pop("landlord", None)
        apartment = ApartmentFactory(landlord=landlord) if landlord else ApartmentFactory()
        return TenancyFactory(
            participant=person,
            apartment=apartment,
            move_in=date.fromisoformat(move_in),
            move_out=date.fromisoformat(move_out) if move_out else None,
            exit_reason=reason,
            **kwargs,
        )

    return make


@pytest.fixture
def role_groups(transactional_db):
    """The role groups a data migration made: a transactional test before
    this one flushed them with everything else."""
    from django.contrib.auth.models import Group

    from bostadforst.roles import Role

    for role in Role:
        Group.objects.get_or_create(name=role.value)
