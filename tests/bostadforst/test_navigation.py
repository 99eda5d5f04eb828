"""Each role's navigation shows its own entry points, and only those."""

import contextlib

import pytest
from django.urls import NoReverseMatch, reverse

from bostadforst.roles import NAVIGATION, Role


def expected_urls(role):
    urls = set()
    for entry in NAVIGATION:
        try:
            url = reverse(entry.url_name)
        except NoReverseMatch:
            continue
        if role in entry.roles:
            urls.add(url)
    return urls


def nav_links(html: str) -> set[str]:
    nav = html.split('id="main-nav"', 1)[1].split("<!-- end of main menu -->", 1)[0]
    return {part.split('"', 1)[0] for part in nav.split('href="')[1:]}


@pytest.mark.django_db
@pytest.mark.parametrize("role", list(Role))
def test_navigation_shows_the_roles_entry_points(client_for, role_users, role):
    response = client_for(role_users[role]).get(reverse("home"))
    assert response.status_code == 200
    links = nav_links(response.content.decode())
    assert links == expected_urls(role)
    assert reverse("home") in links


@pytest.mark.django_db
def test_social_worker_never_sees_team_or_manager_entries(sw_client):
    links = nav_links(sw_client.get(reverse("home")).content.decode())
    for entry in NAVIGATION:
        if Role.SOCIAL_WORKER not in entry.roles:
            with contextlib.suppress(NoReverseMatch):
                assert reverse(entry.url_name) not in links


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("role", "phrase"),
    [
        (Role.SOCIAL_WORKER, "remiss"),
        (Role.SUPPORT_STAFF, "besök"),
        (Role.UNIT_MANAGER, "kvarboende"),
        (Role.ADMINISTRATOR, "hyresvärdar"),
    ],
)
def test_start_page_tells_each_role_what_it_finds(client_for, role_users, role, phrase):
    html = client_for(role_users[role]).get(reverse("home")).content.decode().lower()
    assert phrase in html


@pytest.mark.django_db
def test_managers_menu_groups_follow_up_pages_under_one_menu(um_client):
    html = um_client.get(reverse("home")).content.decode()
    menu = html.split('id="nav-follow_up"', 1)[1].split("</ul>", 1)[0]
    assert "Uppföljning" in html.split('id="nav-follow_up"', 1)[1].split("</button>", 1)[0]
    for name in ("reports:dashboard", "reports:report-list", "bostadforst:access-log"):
        assert f'href="{reverse(name)}"' in menu


@pytest.mark.django_db
def test_support_staff_find_the_team_menus_under_one_more_menu_with_their_names(ss_client):
    """Their own entries stand alone; the four group menus would not fit
    beside them at 1280 px, so they share one "Mer" menu, a heading each."""
    html = ss_client.get(reverse("home")).content.decode()
    nav = html.split('id="main-nav"', 1)[1].split("<!-- end of main menu -->", 1)[0]
    assert 'id="nav-cases"' not in nav and 'id="nav-support"' not in nav
    assert "Mer" in nav.split('id="nav-more"', 1)[1].split("</button>", 1)[0]
    menu = nav.split('id="nav-more"', 1)[1]
    headings = [part.split("<", 1)[0] for part in menu.split('class="dropdown-header">')[1:]]
    assert headings == ["Ärenden", "Stöd", "Boende", "Uppföljning"]
    for name in ("participants:participant-list", "support:crisis-place-list"):
        assert f'href="{reverse(name)}"' in menu
    own = nav.split('id="nav-more"', 1)[0]
    for name in ("support:my-participants", "support:visit-quick-log"):
        assert f'href="{reverse(name)}"' in own
