import pytest

from .factories import ParticipantFactory, TenancyFactory


@pytest.fixture
def housed(db, support_staff):
    """A housed participant in the support worker's caseload, with a tenancy."""
    participant = ParticipantFactory(support_worker=support_staff)
    TenancyFactory(participant=participant)
    return participant
