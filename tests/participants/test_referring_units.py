"""A referral records its referring unit (issue 18 item 1): chosen on the
social worker's form, defaulting to the unit of their previous referral, shown
on the referral page; inactive units are not offered."""

import pytest
from django.urls import reverse

from participants.models import Referral

from .factories import ReferralFactory, ReferringUnitFactory
from .test_views import form_post

pytestmark = pytest.mark.django_db


def test_the_social_worker_chooses_the_unit_and_the_referral_page_shows_it(sw_client):
    norr = ReferringUnitFactory(name="Stadsdelsförvaltning Norr")
    response = sw_client.post(
        reverse("participants:referral-create"), form_post(referring_unit=norr.pk)
    )
    assert response.status_code == 302
    referral = Referral.objects.get()
    assert referral.referring_unit == norr
    assert referral.history.latest().referring_unit_id == norr.pk
    page = sw_client.get(referral.get_absolute_url()).content.decode()
    assert "Remitterande enhet" in page and "Stadsdelsförvaltning Norr" in page


def test_the_unit_is_optional(sw_client):
    ReferringUnitFactory()
    response = sw_client.post(reverse("participants:referral-create"), form_post())
    assert response.status_code == 302
    assert Referral.objects.get().referring_unit is None


def test_the_form_defaults_to_the_unit_of_the_workers_previous_referral(sw_client):
    from bostadforst.models import User

    worker = User.objects.get(pk=sw_client.session["_auth_user_id"])
    soder = ReferringUnitFactory(name="Stadsdelsförvaltning Söder")
    ReferralFactory(referred_by=worker, referring_unit=soder)
    form = sw_client.get(reverse("participants:referral-create")).context["form"]
    assert form["referring_unit"].value() == soder.pk


def test_an_inactive_unit_is_neither_offered_nor_accepted(sw_client):
    closed = ReferringUnitFactory(name="Nedlagd enhet", active=False)
    page = sw_client.get(reverse("participants:referral-create")).content.decode()
    assert "Nedlagd enhet" not in page
    response = sw_client.post(
        reverse("participants:referral-create"), form_post(referring_unit=closed.pk)
    )
    assert response.status_code == 400
    assert not Referral.objects.exists()
