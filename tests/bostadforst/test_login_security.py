"""Login hardening: lockout and unlock, two-factor login, safe ``next``, and
every login event logged without secrets."""

import datetime
import logging
from datetime import timedelta

import pytest
from axes.models import AccessAttempt
from django.db.models import F
from django.urls import reverse
from django.utils import timezone
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

from bostadforst.models import AccessLogEntry, User

from ..factories import TEST_PASSWORD

pytestmark = pytest.mark.django_db
Action = AccessLogEntry.Action
LOGIN = "/login/"


def post_login(client, username, password, ip="10.0.0.7", **extra):
    return client.post(
        reverse("login") + extra.pop("query", ""),
        {"username": username, "password": password, **extra},
        REMOTE_ADDR=ip,
    )


# --- Lockout (django-axes) --------------------------------------------------------


def fail_until_locked(client, username, ip="10.0.0.7"):
    responses = [post_login(client, username, "fel-lösenord", ip=ip) for _ in range(5)]
    return responses[-1]


def test_repeated_failures_lock_the_username_from_that_ip(client, support_staff, settings):
    assert settings.AXES_FAILURE_LIMIT == 5
    last = fail_until_locked(client, support_staff.username)
    assert last.status_code == 429
    locked = post_login(client, support_staff.username, TEST_PASSWORD)
    assert locked.status_code == 429
    assert "Tillfälligt spärrad" in locked.content.decode()
    assert AccessLogEntry.objects.filter(action=Action.LOCKOUT, username="ss").exists()


def test_a_lockout_does_not_lock_the_same_user_from_another_ip_or_others(
    client, support_staff, social_worker
):
    fail_until_locked(client, support_staff.username)
    assert (
        post_login(client, support_staff.username, TEST_PASSWORD, ip="10.9.9.9").status_code == 302
    )
    from django.test import Client

    assert post_login(Client(), social_worker.username, TEST_PASSWORD).status_code == 302


def test_the_lock_cools_off(client, support_staff, settings):
    fail_until_locked(client, support_staff.username)
    cooloff = datetime.timedelta(hours=settings.AXES_COOLOFF_TIME)
    AccessAttempt.objects.update(attempt_time=timezone.now() - cooloff - datetime.timedelta(1))
    assert post_login(client, support_staff.username, TEST_PASSWORD).status_code == 302


def test_failures_during_a_lockout_do_not_extend_it(client, support_staff, settings):
    """Failing again and again while locked out (from an address shared with
    the attacker, say) leaves the lock's start alone: it ends when it would
    have ended anyway."""
    fail_until_locked(client, support_staff.username)
    cooloff = datetime.timedelta(hours=settings.AXES_COOLOFF_TIME)
    started = timezone.now() - cooloff + datetime.timedelta(minutes=2)  # two minutes left
    AccessAttempt.objects.update(attempt_time=started)
    for _ in range(3):
        assert post_login(client, support_staff.username, "fel-lösenord").status_code == 429
    attempt = AccessAttempt.objects.get()
    assert (attempt.attempt_time, attempt.failures_since_start) == (started, 5)
    # Three minutes on (the clock moved by moving the attempt back), the
    # original lock is over; a restarted one would have had 12 minutes left.
    AccessAttempt.objects.update(attempt_time=F("attempt_time") - datetime.timedelta(minutes=3))
    assert post_login(client, support_staff.username, TEST_PASSWORD).status_code == 302


def test_an_administrator_can_unlock_in_admin(client, support_staff, admin_user_client):
    fail_until_locked(client, support_staff.username)
    attempt = AccessAttempt.objects.get(username=support_staff.username)
    url = reverse("admin:axes_accessattempt_delete", args=[attempt.pk])
    response = admin_user_client.post(url, {"post": "yes"})
    assert response.status_code == 302
    assert not AccessAttempt.objects.exists()
    assert post_login(client, support_staff.username, TEST_PASSWORD).status_code == 302


# --- Logging of login events --------------------------------------------------------


def test_success_failure_and_logout_are_logged_with_ip_never_the_password(
    client, support_staff, caplog
):
    caplog.set_level(logging.DEBUG)
    post_login(client, support_staff.username, "hemligt-fel-1")
    post_login(client, support_staff.username, TEST_PASSWORD)
    client.post(reverse("logout"))
    rows = list(AccessLogEntry.objects.order_by("pk").values_list("action", "username", "ip"))
    assert rows == [
        (Action.LOGIN_FAILED, "ss", "10.0.0.7"),
        (Action.LOGIN, "ss", "10.0.0.7"),
        (Action.LOGOUT, "ss", "127.0.0.1"),
    ]
    assert "hemligt-fel-1" not in caplog.text
    assert TEST_PASSWORD not in caplog.text


def test_a_personnummer_typed_as_username_is_not_logged(client, caplog):
    caplog.set_level(logging.DEBUG)
    post_login(client, "19811218-9876", "x")
    row = AccessLogEntry.objects.get(action=Action.LOGIN_FAILED)
    assert "9876" not in row.username
    assert "19811218" not in caplog.text


def test_denied_access_is_logged_with_who_and_where(sw_client, social_worker):
    assert (
        sw_client.get(reverse("bostadforst:access-log"), REMOTE_ADDR="10.2.2.2").status_code == 403
    )
    row = AccessLogEntry.objects.get(action=Action.DENIED)
    assert (row.user, row.ip, row.view_name) == (
        social_worker,
        "10.2.2.2",
        "bostadforst:access-log",
    )


# --- next never leaves the site ---------------------------------------------------


@pytest.mark.parametrize(
    "target",
    [
        "//evil.example/",
        "https://evil.example/",
        "http://evil.example",
        "javascript:alert(1)",
        "/\\evil.example",
        "\\\\evil.example",
        "https:evil.example",
    ],
)
def test_login_next_never_leaves_the_site(client, support_staff, target):
    response = post_login(client, support_staff.username, TEST_PASSWORD, next=target)
    assert response.status_code == 302
    assert response["Location"] == reverse("home")


def test_login_next_within_the_site_is_followed(client, support_staff):
    response = post_login(client, support_staff.username, TEST_PASSWORD, next="/housing/")
    assert response["Location"] == "/housing/"


# --- Two-factor login -----------------------------------------------------------------


@pytest.fixture
def otp_on(settings):
    settings.OTP_REQUIRED_FOR_PRIVILEGED = True
    settings.OTP_REQUIRED_FOR_ALL = False
    return settings


def device_for(user) -> TOTPDevice:
    return TOTPDevice.objects.create(user=user, name="app", confirmed=True)


def test_a_unit_manager_must_enter_a_code_after_the_password(client, unit_manager, otp_on):
    device = device_for(unit_manager)
    response = post_login(client, unit_manager.username, TEST_PASSWORD, next="/housing/")
    assert response.status_code == 302
    assert response["Location"] == reverse("otp-verify") + "?next=/housing/"
    # Without the code every page leads back to the code step.
    home = client.get(reverse("home"))
    assert home["Location"].startswith(reverse("otp-verify"))
    wrong = client.post(reverse("otp-verify"), {"token": "000000", "next": "/housing/"})
    assert wrong.status_code == 400
    assert AccessLogEntry.objects.filter(action=Action.LOGIN_FAILED, model="otp").exists()
    device.refresh_from_db()
    assert device.throttling_failure_count == 1  # django-otp slows down guessing
    device.throttle_reset()
    right = client.post(
        reverse("otp-verify"), {"token": f"{totp(device.bin_key):06d}", "next": "/housing/"}
    )
    assert right["Location"] == "/housing/"
    assert client.get(reverse("home")).status_code == 200


def test_the_code_step_shows_no_menu_until_the_code_is_entered(client, unit_manager, otp_on):
    device = device_for(unit_manager)
    post_login(client, unit_manager.username, TEST_PASSWORD)
    html = client.get(reverse("otp-verify")).content.decode()
    assert reverse("bostadforst:access-log") not in html
    assert reverse("logout") in html  # leaving is still possible
    assert "data-no-draft" in html  # a one-time code is never kept as a draft
    client.post(reverse("otp-verify"), {"token": f"{totp(device.bin_key):06d}"})
    assert reverse("bostadforst:access-log") in client.get(reverse("home")).content.decode()


def test_the_code_step_refuses_a_next_off_site(client, unit_manager, otp_on):
    device = device_for(unit_manager)
    post_login(client, unit_manager.username, TEST_PASSWORD)
    response = client.post(
        reverse("otp-verify"),
        {"token": f"{totp(device.bin_key):06d}", "next": "//evil.example"},
    )
    assert response["Location"] == reverse("home")


def test_the_admin_site_is_behind_the_code_step(client, administrator, otp_on):
    device_for(administrator)
    post_login(client, administrator.username, TEST_PASSWORD)
    response = client.get(reverse("admin:index"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("otp-verify"))


def test_the_admin_login_page_is_the_apps_login(client):
    response = client.get(reverse("admin:login") + "?next=/admin/")
    assert response.status_code == 302
    assert response["Location"] == reverse("login") + "?next=/admin/"


def test_social_workers_need_no_code_unless_required_for_all(client, social_worker, otp_on):
    assert post_login(client, social_worker.username, TEST_PASSWORD)["Location"] == reverse("home")
    otp_on.OTP_REQUIRED_FOR_ALL = True
    assert client.get(reverse("home"))["Location"].startswith(reverse("otp-verify"))


def test_a_user_without_a_device_enrols_with_an_inline_qr_code(client, unit_manager, otp_on):
    unit_manager.otp_enrolment_until = timezone.now() + timedelta(hours=1)
    unit_manager.save()
    response = post_login(client, unit_manager.username, TEST_PASSWORD)
    assert response["Location"] == reverse("otp-enrol")
    page = client.get(reverse("otp-enrol"))
    html = page.content.decode()
    assert page.status_code == 200
    assert "<svg" in html and "<img" not in html
    device = TOTPDevice.objects.get(user=unit_manager, confirmed=False)
    assert client.post(reverse("otp-enrol"), {"token": "123"}).status_code == 400
    done = client.post(reverse("otp-enrol"), {"token": f"{totp(device.bin_key):06d}"})
    assert done["Location"] == reverse("home")
    device.refresh_from_db()
    assert device.confirmed
    assert client.get(reverse("home")).status_code == 200
    unit_manager.refresh_from_db()
    assert unit_manager.otp_enrolment_until is None, "the setup window closes once used"


def test_a_stolen_password_alone_cannot_enrol_a_device(client, unit_manager, otp_on):
    """Without a setup window opened by an administrator, a user without a
    device is stopped before any secret is made, and the attempt is logged."""
    response = post_login(client, unit_manager.username, TEST_PASSWORD)
    assert response["Location"] == reverse("otp-enrol")
    page = client.get(reverse("otp-enrol"))
    assert page.status_code == 403
    assert "administratör" in page.content.decode()
    assert not TOTPDevice.objects.filter(user=unit_manager).exists()
    assert client.post(reverse("otp-enrol"), {"token": "123456"}).status_code == 403
    assert client.get(reverse("home"))["Location"].startswith(reverse("otp-verify"))
    assert AccessLogEntry.objects.filter(
        user=unit_manager, action=AccessLogEntry.Action.DENIED, model="otp"
    ).exists()


def test_an_expired_setup_window_is_closed(client, unit_manager, otp_on):
    unit_manager.otp_enrolment_until = timezone.now() - timedelta(minutes=1)
    unit_manager.save()
    post_login(client, unit_manager.username, TEST_PASSWORD)
    assert client.get(reverse("otp-enrol")).status_code == 403


def test_an_administrator_opens_setup_and_a_new_account_gets_a_window(
    admin_user_client, unit_manager, settings
):
    settings.OTP_ENROLMENT_WINDOW_HOURS = 24
    response = admin_user_client.post(
        reverse("admin:bostadforst_user_changelist"),
        {"action": "open_otp_enrolment", "_selected_action": [unit_manager.pk]},
    )
    assert response.status_code == 302
    unit_manager.refresh_from_db()
    left = unit_manager.otp_enrolment_until - timezone.now()
    assert timedelta(hours=23) < left <= timedelta(hours=24)

    password = "ett-långt-lösenord-för-ny-chef-2026"
    admin_user_client.post(
        reverse("admin:bostadforst_user_add"),
        {
            "username": "nychef",
            "password1": password,
            "password2": password,
            "usable_password": "true",
        },
    )
    new_user = User.objects.get(username="nychef")
    assert new_user.otp_enrolment_until > timezone.now() + timedelta(hours=23)


def test_the_demo_login_page_says_two_factor_is_off(client, settings):
    settings.DEMO_MODE = True
    settings.OTP_REQUIRED_FOR_PRIVILEGED = False
    html = client.get(reverse("login")).content.decode()
    assert "tvåfaktorsinloggning" in html.lower()


# --- The client IP behind the reverse proxy (PITFALLS 7) ---------------------------


def via_proxy(client, username, password, forwarded_for):
    return client.post(
        reverse("login"),
        {"username": username, "password": password},
        REMOTE_ADDR="172.18.0.2",  # the reverse proxy
        HTTP_X_FORWARDED_FOR=forwarded_for,
    )


def test_behind_the_proxy_a_forged_forwarded_for_does_not_escape_the_lockout(
    client, support_staff, settings
):
    settings.TRUSTED_PROXY_COUNT = 1
    for n in range(5):  # the attacker sends a new "IP" with every guess
        via_proxy(client, support_staff.username, "fel-lösenord", f"10.66.0.{n}, 203.0.113.9")
    again = via_proxy(client, support_staff.username, TEST_PASSWORD, "10.99.9.9, 203.0.113.9")
    assert again.status_code == 429
    assert AccessAttempt.objects.get().ip_address == "203.0.113.9"
    rows = AccessLogEntry.objects.filter(action__in=[Action.LOGIN_FAILED, Action.LOCKOUT])
    assert set(rows.values_list("ip", flat=True)) == {"203.0.113.9"}


def test_behind_the_proxy_each_real_client_has_its_own_lock(client, support_staff, settings):
    settings.TRUSTED_PROXY_COUNT = 1
    for _ in range(5):
        via_proxy(client, support_staff.username, "fel-lösenord", "203.0.113.9")
    assert (
        via_proxy(client, support_staff.username, TEST_PASSWORD, "198.51.100.4").status_code == 302
    )


def test_without_a_proxy_forwarded_for_is_ignored(client):
    client.post(
        reverse("login"),
        {"username": "nobody", "password": "x"},
        REMOTE_ADDR="10.0.0.8",
        HTTP_X_FORWARDED_FOR="203.0.113.9",
    )
    assert AccessLogEntry.objects.get(action=Action.LOGIN_FAILED).ip == "10.0.0.8"


def test_behind_the_proxy_a_direct_client_cannot_name_its_own_address(
    client, support_staff, settings
):
    """With TRUSTED_PROXY_IPS, X-Forwarded-For on a connection that does not
    come from the proxy is ignored: the connection's address is the client."""
    settings.TRUSTED_PROXY_COUNT = 1
    settings.TRUSTED_PROXY_IPS = ["172.18.0.0/16"]

    def direct(password, forwarded_for):
        return client.post(
            reverse("login"),
            {"username": support_staff.username, "password": password},
            REMOTE_ADDR="198.51.100.7",  # not the proxy
            HTTP_X_FORWARDED_FOR=forwarded_for,
        )

    for n in range(5):  # a new "IP" with every guess
        direct("fel-lösenord", f"10.66.0.{n}")
    assert direct(TEST_PASSWORD, "10.9.9.9").status_code == 429
    assert AccessAttempt.objects.get().ip_address == "198.51.100.7"
    rows = AccessLogEntry.objects.filter(action__in=[Action.LOGIN_FAILED, Action.LOCKOUT])
    assert set(rows.values_list("ip", flat=True)) == {"198.51.100.7"}


def test_behind_the_proxy_the_listed_proxy_still_names_the_client(client, support_staff, settings):
    settings.TRUSTED_PROXY_COUNT = 1
    settings.TRUSTED_PROXY_IPS = ["172.18.0.2"]
    via_proxy(client, support_staff.username, "fel-lösenord", "10.66.0.1, 203.0.113.9")
    assert AccessLogEntry.objects.get(action=Action.LOGIN_FAILED).ip == "203.0.113.9"


def test_a_trusted_proxy_that_is_not_an_address_stops_the_app():
    from .test_settings import PRODUCTION_ENV, run_python

    code = (
        "import django, os; os.environ['DJANGO_SETTINGS_MODULE']='bostadforst.settings';"
        "django.setup()"
    )
    env = {**PRODUCTION_ENV, "BEHIND_PROXY": "true"}
    assert run_python(code, {**env, "TRUSTED_PROXY_IPS": "172.18.0.2,10.0.0.0/8"}).returncode == 0
    refused = run_python(code, {**env, "TRUSTED_PROXY_IPS": "proxy.internal"})
    assert refused.returncode != 0
    assert "TRUSTED_PROXY_IPS" in refused.stderr
