import datetime

import pytest

from participants.models import ParticipantStatus

from .factories import ApartmentFactory, ParticipantFactory


@pytest.fixture
def apartment(db):
    return ApartmentFactory()


@pytest.fixture
def approved(db):
    return ParticipantFactory(status=ParticipantStatus.APPROVED)


@pytest.fixture
def jan1():
    return datetime.date(2024, 1, 1)
