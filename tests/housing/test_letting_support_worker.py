"""Letting an apartment gives the tenant a support worker in the same save:
by default whoever assessed the person, or the person's own support worker;
only active support workers can be chosen."""

import datetime
import re

import pytest
from django.urls import reverse
from django.utils import timezone

from bostadforst.roles import Role
from housing.models import ContractType, ExitReason, Tenancy
from housing.selectors import support_worker_default
from participants.models import Criterion, EligibilityAssessment, ParticipantStatus
from tests.factories import UserFactory
from tests.participants.factories import ParticipantFactory, ReferralFactory

from .factories import ApartmentFactory, TenancyFactory

pytestmark = pytest.mark.django_db

URL = reverse("housing:tenancy-assign")


def _assessed_by(assessor, **participant):
    """An approved person whose eligibility ``assessor`` assessed (an older
    answer by someone else, so the latest one counts)."""
    person = ParticipantFactory(status=ParticipantStatus.APPROVED, **participant)
    referral = ReferralFactory(participant=person)
    earlier = UserFactory(role=Role.SUPPORT_STAFF)
    today = timezone.localdate()
    EligibilityAssessment.objects.create(
        referral=referral,
        criterion=Criterion.HOMELESS,
        answer="met",
        assessor=earlier,
        assessed_on=today - datetime.timedelta(days=10),
    )
    EligibilityAssessment.objects.create(
        referral=referral,
        criterion=Criterion.MOTIVATED,
        answer="met",
        assessor=assessor,
        assessed_on=today - datetime.timedelta(days=2),
    )
    return person


def _post(person, apartment, **extra):
    return {
        "participant": person.pk,
        "apartment": apartment.pk,
        "contract_type": ContractType.SOCIAL,
        "move_in": timezone.localdate().isoformat(),
        **extra,
    }


def test_letting_saves_the_chosen_support_worker_with_the_tenancy(ss_client):
    person = _assessed_by(UserFactory(role=Role.SUPPORT_STAFF))
    chosen = UserFactory(role=Role.SUPPORT_STAFF, first_name="Vald")
    response = ss_client.post(URL, _post(person, ApartmentFactory(), support_worker=chosen.pk))
    assert response.status_code == 302, response.content.decode()[:600]
    person.refresh_from_db()
    assert person.status == ParticipantStatus.HOUSED
    assert person.support_worker == chosen
    assert Tenancy.objects.filter(participant=person).count() == 1
    # The change is in the person's history, made by the one who let the flat.
    last = person.history.order_by("-history_id").first()
    assert last.support_worker_id == chosen.pk and last.history_user.username == "ss"


def test_the_support_worker_defaults_to_whoever_assessed_the_person(ss_client):
    assessor = UserFactory(role=Role.SUPPORT_STAFF, first_name="Bedömare")
    person = _assessed_by(assessor)
    page = ss_client.get(URL + f"?participant={person.pk}")
    assert page.context["form"]["support_worker"].value() == assessor.pk
    assert re.search(rf'<option value="{assessor.pk}" selected>', page.content.decode()), (
        "the assessor is preselected"
    )
    # Left empty ("Den som bedömde personen"), the assessor is saved.
    response = ss_client.post(URL, _post(person, ApartmentFactory()))
    assert response.status_code == 302
    person.refresh_from_db()
    assert person.support_worker == assessor


def test_each_offered_person_carries_their_default_worker_for_the_script(ss_client):
    assessor = UserFactory(role=Role.SUPPORT_STAFF)
    person = _assessed_by(assessor, last_name="Bedömdsson")
    html = ss_client.get(URL).content.decode()
    assert re.search(rf'<option value="{person.pk}" data-worker="{assessor.pk}">', html)
    assert "js/pick_lists.js" in html
    assert 'data-default-from="id_participant"' in html


def test_a_moving_tenant_keeps_their_support_worker_by_default(ss_client):
    own = UserFactory(role=Role.SUPPORT_STAFF)
    tenancy = TenancyFactory(move_in=datetime.date(2024, 1, 1))
    person = tenancy.participant
    person.support_worker = own
    person.save()
    apartment = ApartmentFactory()
    tenancy.move_out = timezone.localdate()
    tenancy.exit_reason = ExitReason.OTHER_HF_APARTMENT
    tenancy.save()
    response = ss_client.post(URL, _post(person, apartment))
    assert response.status_code == 302, response.content.decode()[:600]
    person.refresh_from_db()
    assert person.support_worker == own


def test_without_an_assessor_the_support_worker_must_be_chosen(ss_client):
    person = ParticipantFactory(status=ParticipantStatus.APPROVED)
    response = ss_client.post(URL, _post(person, ApartmentFactory()))
    assert response.status_code == 400
    assert "Välj boendestödjare" in response.content.decode()
    assert not Tenancy.objects.exists()
    person.refresh_from_db()
    assert person.status == ParticipantStatus.APPROVED and person.support_worker is None


def test_an_assessor_who_is_no_longer_a_support_worker_is_not_the_default(ss_client):
    gone = UserFactory(role=Role.SUPPORT_STAFF, is_active=False)
    person = _assessed_by(gone)
    response = ss_client.post(URL, _post(person, ApartmentFactory()))
    assert response.status_code == 400
    assert not Tenancy.objects.exists()


@pytest.mark.parametrize("role", [Role.UNIT_MANAGER, Role.SOCIAL_WORKER])
def test_only_support_workers_can_be_chosen(ss_client, role):
    person = _assessed_by(UserFactory(role=Role.SUPPORT_STAFF))
    other = UserFactory(role=role)
    page = ss_client.get(URL).content.decode()
    assert f'<option value="{other.pk}"' not in page
    response = ss_client.post(URL, _post(person, ApartmentFactory(), support_worker=other.pk))
    assert response.status_code == 400
    assert not Tenancy.objects.exists()


def test_the_service_refuses_a_worker_who_is_not_support_staff(support_staff):
    from django.core.exceptions import ValidationError

    from housing import services

    person = ParticipantFactory(status=ParticipantStatus.APPROVED)
    with pytest.raises(ValidationError):
        services.tenancy_assign(
            participant=person,
            apartment=ApartmentFactory(),
            contract_type=ContractType.SOCIAL,
            move_in=timezone.localdate(),
            support_worker=UserFactory(role=Role.SOCIAL_WORKER),
            acting_user=support_staff,
        )
    assert not Tenancy.objects.exists()


@pytest.mark.parametrize(
    ("current", "assessor", "staff", "expected"),
    [
        (1, 2, {1, 2}, 1),  # the person's own worker first
        (None, 2, {1, 2}, 2),  # else the assessor
        (3, 2, {1, 2}, 2),  # a former worker is passed over
        (None, 4, {1, 2}, None),  # an assessor who is not (or no longer) support staff
        (None, None, {1, 2}, None),
    ],
)
def test_support_worker_default(current, assessor, staff, expected):
    assert (
        support_worker_default(current_id=current, assessor_id=assessor, staff_ids=staff)
        == expected
    )
