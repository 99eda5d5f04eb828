"""Least privilege as data: every URL of the project × every role and anonymous
answers what ``ACCESS_TABLE`` says.

The routes come from the resolver, so a new URL is walked without touching this
test; a URL missing from the table, or taking arguments without a sample in
``tests/<app>/url_samples.py``, fails here.
"""

import pytest
from django.urls import reverse

from bostadforst.models import AccessLogEntry
from bostadforst.permissions import ACCESS_TABLE, PUBLIC, SELF_GUARDED_NAMESPACES
from bostadforst.roles import ALL_ROLES, Role

from ..urlwalk import iter_routes

pytestmark = pytest.mark.django_db


def guarded_routes():
    return [
        r
        for r in iter_routes()
        if r.name not in PUBLIC and r.name.split(":", 1)[0] not in SELF_GUARDED_NAMESPACES
    ]


def test_every_url_is_in_the_access_table():
    missing = sorted(r.name for r in guarded_routes() if r.name not in ACCESS_TABLE)
    assert not missing, f"URL names missing from bostadforst.permissions.ACCESS_TABLE: {missing}"


def test_access_table_names_only_existing_urls_and_known_roles():
    names = {r.name for r in iter_routes()}
    stale = sorted(set(ACCESS_TABLE) - names)
    assert not stale, f"ACCESS_TABLE names URLs that do not exist: {stale}"
    for name, roles in ACCESS_TABLE.items():
        assert roles and roles <= ALL_ROLES, name


@pytest.mark.parametrize("route", guarded_routes(), ids=lambda r: r.name)
def test_each_role_gets_what_the_access_table_grants(world, route):
    allowed = ACCESS_TABLE.get(route.name)
    assert allowed is not None, f"{route.name} is not in ACCESS_TABLE"
    url = reverse(route.name, kwargs=world.url_kwargs(route))

    anonymous = world.client(None).get(url)
    assert anonymous.status_code == 302, (route.name, "anonymous", anonymous.status_code)
    assert anonymous["Location"].startswith(reverse("login") + "?next=")

    for role in Role:
        denied_before = AccessLogEntry.objects.filter(action=AccessLogEntry.Action.DENIED).count()
        response = world.client(role).get(url)
        status = response.status_code
        if role in allowed:
            assert status != 403, (route.name, role.value, status)
            assert status < 500, (route.name, role.value, status)
            assert status in {200, 302, 400, 404, 405}, (route.name, role.value, status)
        else:
            assert status == 403, (route.name, role.value, status)
            denied = AccessLogEntry.objects.filter(action=AccessLogEntry.Action.DENIED)
            assert denied.count() == denied_before + 1, (route.name, role.value)
            assert denied.first().view_name == route.name


def test_a_url_taking_arguments_without_a_sample_fails_with_a_clear_message(world):
    from ..urlwalk import Route

    route = Route(
        name="nowhere:thing-detail", pattern="x/<int:pk>/", converters={"pk": "Int"}, callback=None
    )
    with pytest.raises(LookupError, match=r"tests/nowhere/url_samples.py has no SAMPLES"):
        world.url_kwargs(route)


def test_admin_site_answers_only_administrators(world):
    url = reverse("admin:index")
    for role in Role:
        status = world.client(role).get(url).status_code
        if role == Role.ADMINISTRATOR:
            assert status == 200
        else:
            assert status == 302  # admin_view sends non-staff to (our) login
