"""No page repeats an element id (WCAG 4.1.1; a label's ``for`` then points
at the wrong field): every page of the project, as every role that may open
it, from the URL resolver and the apps' samples."""

import re
from collections import Counter

import pytest
from django.urls import reverse

from bostadforst.permissions import ACCESS_TABLE

from ..urlwalk import project_routes

pytestmark = pytest.mark.django_db

IDS = re.compile(r"""\sid=["']([^"']+)["']""")


def duplicate_ids(html: str) -> list[str]:
    return sorted(i for i, n in Counter(IDS.findall(html)).items() if n > 1)


def test_the_id_check_sees_a_duplicate():
    assert duplicate_ids('<p id="a"></p><input id="b"><textarea id="a">') == ["a"]


@pytest.mark.parametrize(
    "route", [r for r in project_routes() if r.name in ACCESS_TABLE], ids=lambda r: r.name
)
def test_no_page_repeats_an_id(world, route):
    url = reverse(route.name, kwargs=world.url_kwargs(route))
    for role in sorted(ACCESS_TABLE[route.name]):
        response = world.client(role).get(url)
        if response.status_code != 200 or not response["Content-Type"].startswith("text/html"):
            continue
        assert not duplicate_ids(response.content.decode()), (route.name, role)
