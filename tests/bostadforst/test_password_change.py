"""A password set by an administrator is good for one login: the user must
choose their own before reaching anything else, and choosing it clears the flag."""

import pytest
from django.test import Client
from django.urls import reverse
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

from bostadforst.models import User
from participants.models import Referral

from ..factories import TEST_PASSWORD, UserFactory

pytestmark = pytest.mark.django_db

SET_BY_ADMIN = "satt-av-admin-2026-lösen"
CHOSEN = "mitt-eget-val-2026-lösen"


def log_in(username: str, password: str) -> Client:
    client = Client()
    response = client.post(reverse("login"), {"username": username, "password": password})
    assert response.status_code == 302, response.status_code
    return client


def set_password_in_admin(admin_client, user, password=SET_BY_ADMIN):
    return admin_client.post(
        reverse("admin:auth_user_password_change", args=[user.pk]),
        {"password1": password, "password2": password, "usable_password": "true"},
    )


@pytest.fixture
def reset_social_worker(admin_user_client, social_worker):
    """A social worker whose password an administrator has just set."""
    assert set_password_in_admin(admin_user_client, social_worker).status_code == 302
    return social_worker


def test_a_password_set_in_the_admin_must_be_changed(reset_social_worker):
    reset_social_worker.refresh_from_db()
    assert reset_social_worker.must_change_password
    assert reset_social_worker.check_password(SET_BY_ADMIN)


def test_a_user_added_in_the_admin_must_choose_their_own_password(admin_user_client):
    admin_user_client.post(
        reverse("admin:bostadforst_user_add"),
        {
            "username": "nyanstalld",
            "password1": SET_BY_ADMIN,
            "password2": SET_BY_ADMIN,
            "usable_password": "true",
        },
    )

    assert User.objects.get(username="nyanstalld").must_change_password


def test_a_user_without_a_password_login_is_not_asked_to_change_it(admin_user_client):
    admin_user_client.post(
        reverse("admin:bostadforst_user_add"), {"username": "sso", "usable_password": "false"}
    )

    assert not User.objects.get(username="sso").must_change_password


@pytest.mark.parametrize(
    "url",
    [
        "/",
        "/participants/referrals/mine/",
        "/admin/",
        "/access-log/",
    ],
)
def test_until_then_every_page_leads_to_the_password_change(reset_social_worker, url):
    client = log_in("sw", SET_BY_ADMIN)

    response = client.get(url)

    assert response.status_code == 302, url
    assert response["Location"] == reverse("password_change")


def test_until_then_a_form_posted_elsewhere_saves_nothing(reset_social_worker):
    client = log_in("sw", SET_BY_ADMIN)
    before = Referral.objects.count()

    response = client.post(reverse("participants:referral-create"), {"first_name": "Ada"})

    assert response["Location"] == reverse("password_change")
    assert Referral.objects.count() == before


def test_the_password_page_logout_and_the_session_ping_stay_open(reset_social_worker):
    client = log_in("sw", SET_BY_ADMIN)

    page = client.get(reverse("home"), follow=True)
    assert page.redirect_chain == [(reverse("password_change"), 302)]
    assert page.status_code == 200
    assert "Ett lösenord som en administratör har satt" in page.content.decode()
    assert client.get(reverse("session-ping")).status_code == 200
    assert client.post(reverse("logout")).status_code == 302
    assert "_auth_user_id" not in client.session


def test_choosing_a_new_password_clears_the_flag_and_opens_the_app(reset_social_worker):
    client = log_in("sw", SET_BY_ADMIN)

    response = client.post(
        reverse("password_change"),
        {"old_password": SET_BY_ADMIN, "new_password1": CHOSEN, "new_password2": CHOSEN},
    )

    assert response.status_code == 302
    reset_social_worker.refresh_from_db()
    assert not reset_social_worker.must_change_password
    assert reset_social_worker.check_password(CHOSEN)
    assert client.get(reverse("home")).status_code == 200


def test_the_new_password_must_differ_from_the_one_the_administrator_set(reset_social_worker):
    client = log_in("sw", SET_BY_ADMIN)

    response = client.post(
        reverse("password_change"),
        {
            "old_password": SET_BY_ADMIN,
            "new_password1": SET_BY_ADMIN,
            "new_password2": SET_BY_ADMIN,
        },
    )

    assert response.status_code == 200
    errors = response.context["form"].errors.as_data()
    assert [e.code for e in errors["new_password1"]] == ["password_unchanged"]
    reset_social_worker.refresh_from_db()
    assert reset_social_worker.must_change_password


def test_an_administrator_setting_their_own_password_in_the_admin_is_asked_too(
    admin_user_client, administrator
):
    """Set in the admin without the old password: single-use like any other."""
    set_password_in_admin(admin_user_client, administrator)

    administrator.refresh_from_db()
    assert administrator.must_change_password


def test_with_two_factor_the_code_comes_first_then_the_password(settings, admin_user_client):
    manager = UserFactory(username="um2", role="unit_manager")
    device = TOTPDevice.objects.create(user=manager, name="app", confirmed=True)
    set_password_in_admin(admin_user_client, manager)
    settings.OTP_REQUIRED_FOR_PRIVILEGED = True
    client = log_in("um2", SET_BY_ADMIN)

    assert client.get(reverse("home"))["Location"].startswith(reverse("otp-verify"))
    client.post(reverse("otp-verify"), {"token": f"{totp(device.bin_key):06d}"})
    assert client.get(reverse("home"))["Location"] == reverse("password_change")
    assert client.get(reverse("password_change")).status_code == 200


def test_other_users_are_not_sent_to_the_password_page(social_worker):
    client = log_in("sw", TEST_PASSWORD)

    assert client.get(reverse("home")).status_code == 200
