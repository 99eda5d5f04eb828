"""Login is the default: every page but the public ones sends anonymous users to log in."""

import pytest
from django.urls import reverse

from bostadforst.permissions import PUBLIC

from ..urlwalk import dummy_kwargs, iter_routes


def all_routes():
    return [r for r in iter_routes() if r.name not in PUBLIC and not r.name.startswith("admin:")]


@pytest.mark.django_db
@pytest.mark.parametrize("route", all_routes(), ids=lambda r: r.name)
def test_anonymous_user_is_sent_to_login(client, route):
    url = reverse(route.name, kwargs=dummy_kwargs(route))
    for method in (client.get, client.post):
        response = method(url)
        assert response.status_code == 302, (route.name, response.status_code)
        assert response["Location"].startswith(reverse("login") + "?next=")


@pytest.mark.django_db
def test_admin_needs_login(client):
    response = client.get(reverse("admin:index"))
    assert response.status_code == 302
    assert "login" in response["Location"]


@pytest.mark.django_db
def test_login_page_is_public(client):
    response = client.get(reverse("login"))
    assert response.status_code == 200
    assert 'name="username"' in response.content.decode()


@pytest.mark.django_db
def test_healthz_answers_without_login_when_database_answers(client):
    response = client.get(reverse("healthz"))
    assert response.status_code == 200
    assert response.json()["status"] == "ok"
    assert response.json()["database"] == "ok"


@pytest.mark.django_db
def test_enhetschef_logs_in_with_password(client, unit_manager):
    from ..factories import TEST_PASSWORD

    response = client.post(
        reverse("login"), {"username": unit_manager.username, "password": TEST_PASSWORD}
    )
    assert response.status_code == 302
    assert response["Location"] == reverse("home")
    assert client.get(reverse("home")).status_code == 200


@pytest.mark.django_db
def test_wrong_password_is_refused_with_a_swedish_message(client, unit_manager):
    response = client.post(reverse("login"), {"username": unit_manager.username, "password": "fel"})
    assert response.status_code == 200
    assert "Ange ett korrekt användarnamn och lösenord" in response.content.decode()
