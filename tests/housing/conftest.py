import datetime

import pytest

from participants.models import ParticipantStatus
from tests.participants.factories import ParticipantFactory

from .factories import ApartmentFactory


@pytest.fixture
def apartment(db):
    return ApartmentFactory()


@pytest.fixture
def approved(db):
    return ParticipantFactory(status=ParticipantStatus.APPROVED)


@pytest.fixture
def jan1():
    return datetime.date(2024, 1, 1)
