import pytest

from participants.models import ParticipantStatus
from tests.housing.factories import TenancyFactory
from tests.participants.factories import ParticipantFactory


@pytest.fixture
def housed(db, support_staff):
    """A housed participant in the support worker's caseload, with a tenancy."""
    participant = ParticipantFactory(support_worker=support_staff, status=ParticipantStatus.HOUSED)
    TenancyFactory(participant=participant)
    return participant
