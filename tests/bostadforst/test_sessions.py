"""Sessions: idle and absolute limits, browser-close expiry, a new id at login,
and logout / password change / deactivation ending the user's other sessions."""

import time

import pytest
from django.conf import settings as django_settings
from django.contrib.sessions.models import Session
from django.test import Client
from django.urls import reverse

from bostadforst.models import UserSession

from ..factories import TEST_PASSWORD

pytestmark = pytest.mark.django_db


def logged_in(user) -> Client:
    client = Client()
    response = client.post(reverse("login"), {"username": user.username, "password": TEST_PASSWORD})
    assert response.status_code == 302
    return client


def shift(client, **seconds_ago):
    session = client.session
    for key, ago in seconds_ago.items():
        session[key] = int(time.time()) - ago
    session.save()


def test_login_gives_a_new_session_id(support_staff):
    client = Client()
    client.get(reverse("login"))
    client.session.save()  # an anonymous session exists before login
    before = client.session.session_key
    logged = client.post(
        reverse("login"), {"username": support_staff.username, "password": TEST_PASSWORD}
    )
    assert logged.status_code == 302
    assert client.session.session_key != before
    assert not Session.objects.filter(session_key=before).exists()


def test_the_session_cookie_ends_with_the_browser(support_staff):
    client = Client()
    client.post(reverse("login"), {"username": support_staff.username, "password": TEST_PASSWORD})
    cookie = client.cookies[django_settings.SESSION_COOKIE_NAME]
    assert not cookie["expires"] and not cookie["max-age"]
    assert cookie["httponly"]
    assert cookie["samesite"] == "Lax"


def test_thirty_idle_minutes_end_the_session(support_staff):
    client = logged_in(support_staff)
    shift(client, last_activity=29 * 60)
    assert client.get(reverse("home")).status_code == 200
    shift(client, last_activity=31 * 60)
    response = client.get(reverse("home"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))
    assert client.get(reverse("home")).status_code == 302  # really logged out


def test_ten_hours_end_the_session_whatever_the_activity(support_staff):
    client = logged_in(support_staff)
    shift(client, login_at=9 * 3600)
    assert client.get(reverse("home")).status_code == 200
    shift(client, login_at=10 * 3600 + 60)
    assert client.get(reverse("home")).status_code == 302


def test_asking_how_long_is_left_does_not_count_as_activity(support_staff):
    client = logged_in(support_staff)
    shift(client, last_activity=20 * 60)
    status = client.get(reverse("session-ping"))
    assert status.status_code == 200
    assert 9 * 60 <= status.json()["remaining"] <= 10 * 60
    assert client.session["last_activity"] <= int(time.time()) - 20 * 60


def test_continuing_from_the_warning_counts_as_activity(support_staff):
    client = logged_in(support_staff)
    shift(client, last_activity=28 * 60)
    response = client.post(reverse("session-ping"))
    assert response.status_code == 200
    assert client.session["last_activity"] >= int(time.time()) - 5
    assert response.json()["remaining"] == 30 * 60


def test_the_warning_is_on_every_page_with_the_timeout(support_staff):
    client = logged_in(support_staff)
    html = client.get(reverse("home")).content.decode()
    assert 'data-idle-timeout="1800"' in html
    assert 'data-warning-before="120"' in html
    assert 'id="session-warning"' in html and "data-session-extend" in html


def test_logout_ends_the_users_sessions_everywhere(support_staff, social_worker):
    laptop, phone = logged_in(support_staff), logged_in(support_staff)
    colleague = logged_in(social_worker)
    assert UserSession.objects.filter(user=support_staff).count() == 2
    laptop.post(reverse("logout"))
    assert phone.get(reverse("home")).status_code == 302
    assert colleague.get(reverse("home")).status_code == 200
    assert not UserSession.objects.filter(user=support_staff).exists()


def test_a_password_change_ends_other_sessions_but_keeps_this_one(support_staff):
    laptop, phone = logged_in(support_staff), logged_in(support_staff)
    new = "ett-helt-nytt-lösenord-2026"
    response = laptop.post(
        reverse("password_change"),
        {"old_password": TEST_PASSWORD, "new_password1": new, "new_password2": new},
    )
    assert response.status_code == 302
    assert laptop.get(reverse("home")).status_code == 200
    assert phone.get(reverse("home")).status_code == 302
    assert UserSession.objects.filter(user=support_staff).count() == 1


def test_deactivating_a_user_ends_their_sessions(support_staff):
    client = logged_in(support_staff)
    support_staff.is_active = False
    support_staff.save()
    assert client.get(reverse("home")).status_code == 302
    assert not UserSession.objects.filter(user=support_staff).exists()


def test_when_no_time_is_left_the_session_has_ended(support_staff):
    """The idle warning's script leaves for the login page only when the
    keep-alive URL answers that the session is over; "0 seconds left" with a
    living session would send it to a login page that redirects straight back
    (and counts as activity), keeping an abandoned tab logged in for ever."""
    client = logged_in(support_staff)
    shift(client, last_activity=30 * 60 - 2)
    assert client.get(reverse("session-ping")).json()["remaining"] in (1, 2)
    shift(client, last_activity=30 * 60)
    response = client.get(reverse("session-ping"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))
