"""Fixtures for the participants tests: referrals in each state, filed and
moved through the real services."""

from datetime import date, timedelta

import pytest

from participants import services
from participants.models import Answer, Criterion, HousingSituation, SupportNeed

from .factories import fictional_personnummer

ALL_MET = {c: (Answer.MET, "") for c in Criterion.values}


def referral_data(**overrides) -> dict:
    data = {
        "personnummer": fictional_personnummer(),
        "first_name": "Kalle",
        "last_name": "Testsson",
        "referral_date": date.today() - timedelta(days=2),
        "housing_situation": HousingSituation.ACUTE,
        "support_need": SupportNeed.BOTH,
        "registered_since": date.today() - timedelta(days=365 * 4),
    }
    data.update(overrides)
    return data


@pytest.fixture
def file_referral(social_worker):
    """File a referral through the service: ``file_referral(**overrides)``."""

    def make(acting_user=None, **overrides):
        return services.referral_create(
            acting_user=acting_user or social_worker, **referral_data(**overrides)
        )

    return make


@pytest.fixture
def submitted(file_referral):
    return file_referral()


@pytest.fixture
def assessing(submitted, support_staff):
    services.referral_start_assessment(referral=submitted, acting_user=support_staff)
    return submitted


@pytest.fixture
def fully_assessed(assessing, support_staff):
    services.assessment_record(referral=assessing, acting_user=support_staff, answers=ALL_MET)
    return assessing


@pytest.fixture
def approved(fully_assessed, unit_manager):
    services.referral_approve(referral=fully_assessed, acting_user=unit_manager)
    return fully_assessed
