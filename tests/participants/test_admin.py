"""The admin uses the same personnummer rule as the app's forms."""

import pytest

from participants.models import Participant

pytestmark = pytest.mark.django_db

ADD_URL = "/admin/participants/participant/add/"


@pytest.mark.parametrize("value", ["19811218-9876", "198112189876", "811218-9876"])
def test_the_admin_accepts_every_format_and_stores_twelve_digits(admin_client, value):
    data = {"personnummer": value, "first_name": "Ada", "children_in_household": "0"}
    response = admin_client.post(ADD_URL, data)
    assert response.status_code == 302, response.context["adminform"].form.errors
    assert Participant.objects.get().personnummer == "198112189876"


def test_the_admin_refuses_a_wrong_check_digit_in_swedish(admin_client):
    data = {"personnummer": "19811218-9875", "first_name": "Ada", "children_in_household": "0"}
    response = admin_client.post(ADD_URL, data)
    assert response.status_code == 200
    errors = response.context["adminform"].form.errors["personnummer"]
    assert "kontrollsiffran" in errors[0].lower()
    assert not Participant.objects.exists()


def test_the_admin_keeps_an_empty_personnummer_as_none(admin_client):
    data = {"personnummer": "", "first_name": "Ada", "children_in_household": "0"}
    assert admin_client.post(ADD_URL, data).status_code == 302
    assert Participant.objects.get().personnummer is None


def test_the_admin_shows_the_personnummer_masked_in_the_list(admin_client):
    Participant.objects.create(personnummer="198112189876", first_name="Ada")
    html = admin_client.get("/admin/participants/participant/").content.decode()
    assert "19811218-****" in html and "198112189876" not in html
