"""Self-service password reset by e-mail: the whole flow through the test
client and Django's local-memory mail backend, no hint whether an account
exists, rate limits, sessions ended, the second factor kept, off without e-mail
or with single sign-on."""

import re
from datetime import datetime, timedelta

import pytest
from django.contrib.auth.tokens import PasswordResetTokenGenerator
from django.core import mail
from django.core.cache import cache
from django.test import Client
from django.urls import reverse
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

from bostadforst.celery import app
from bostadforst.logging import PERSONNUMMER_RE

from ..factories import TEST_PASSWORD, UserFactory
from .test_settings import PRODUCTION_ENV, run_python

pytestmark = pytest.mark.django_db

NEW_PASSWORD = "ny-lång-lösenfras-för-vintern-2026"
LINK = re.compile(r"https?://testserver(/password/reset/[^/\s]+/[^/\s]+/)")


@pytest.fixture
def reset_on(settings):
    """E-mail configured (the local-memory backend) and the reset on; the
    rate-limit counters start from zero; tasks run in-process."""
    settings.PASSWORD_RESET_ENABLED = True
    settings.SSO_ENABLED = False
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    cache.clear()
    eager = app.conf.task_always_eager
    app.conf.task_always_eager = True
    yield settings
    app.conf.task_always_eager = eager
    cache.clear()


@pytest.fixture
def ask(client, django_capture_on_commit_callbacks):
    """POST the reset form from ``ip``; the mail goes out after the commit."""

    def ask(email, ip="10.0.0.7"):
        with django_capture_on_commit_callbacks(execute=True):
            return client.post(reverse("password_reset"), {"email": email}, REMOTE_ADDR=ip)

    return ask


def login(client, username, password):
    return client.post(reverse("login"), {"username": username, "password": password})


def test_the_whole_reset_from_the_login_page_to_a_login_with_the_new_password(
    client, support_staff, reset_on, ask
):
    login_page = client.get(reverse("login")).content.decode()
    assert reverse("password_reset") in login_page
    assert "Glömt lösenordet?" in login_page
    assert client.get(reverse("password_reset")).status_code == 200

    response = ask(support_staff.email)
    assert response.status_code == 302
    assert response["Location"] == reverse("password_reset_done")
    assert "Kontrollera din e-post" in client.get(response["Location"]).content.decode()

    [message] = mail.outbox
    assert message.to == [support_staff.email]
    assert message.subject == "Välj ett nytt lösenord för Bostad först"
    assert "60 minuter" in message.body
    path = LINK.search(message.body).group(1)

    form_page = client.get(path)  # Django moves the token into the session
    assert form_page.status_code == 302
    set_password_url = form_page["Location"]
    assert "Välj ett nytt lösenord" in client.get(set_password_url).content.decode()
    done = client.post(
        set_password_url, {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD}
    )
    assert done["Location"] == reverse("password_reset_complete")
    assert client.get(done["Location"]).status_code == 200

    support_staff.refresh_from_db()
    assert support_staff.check_password(NEW_PASSWORD)
    assert login(Client(), support_staff.username, TEST_PASSWORD).status_code == 200  # refused
    assert login(Client(), support_staff.username, NEW_PASSWORD)["Location"] == reverse("home")
    # The link is good once.
    reused = Client().get(path, follow=True)
    assert "ogiltig eller har gått ut" in reused.content.decode()


def test_the_mail_names_no_person_no_username_and_no_personnummer(reset_on, ask):
    user = UserFactory(
        username="198112189876", first_name="Kim", last_name="Lindqvist", email="kim@example.se"
    )
    ask("kim@example.se")
    [message] = mail.outbox
    # The link's random token may hold ten digits in a row: look past it.
    text = re.sub(r"https?://\S+", "", message.subject + message.body)
    assert not PERSONNUMMER_RE.search(text) and "811218" not in text
    for word in ("Kim", "Lindqvist", user.username):
        assert word not in message.subject + message.body


def test_an_unknown_address_gets_the_same_answer_and_no_mail(client, support_staff, reset_on, ask):
    known = ask(support_staff.email)
    unknown = ask("ingen.alls@example.se")
    assert (unknown.status_code, unknown["Location"]) == (known.status_code, known["Location"])
    assert len(mail.outbox) == 1


def test_a_deactivated_account_gets_no_mail(support_staff, reset_on, ask):
    support_staff.is_active = False
    support_staff.save()
    assert ask(support_staff.email)["Location"] == reverse("password_reset_done")
    assert mail.outbox == []


def test_too_many_requests_for_one_address_get_the_same_answer_and_no_more_mail(
    support_staff, reset_on, ask
):
    reset_on.PASSWORD_RESET_LIMIT_PER_ADDRESS = 2
    answers = {ask(support_staff.email.upper(), ip=f"10.0.0.{n}")["Location"] for n in range(4)}
    assert answers == {reverse("password_reset_done")}
    assert len(mail.outbox) == 2


def test_too_many_requests_from_one_ip_get_the_same_answer_and_no_more_mail(
    social_worker, support_staff, unit_manager, reset_on, ask
):
    reset_on.PASSWORD_RESET_LIMIT_PER_IP = 2
    for user in (social_worker, support_staff, unit_manager):
        assert ask(user.email, ip="10.0.0.9")["Location"] == reverse("password_reset_done")
    assert len(mail.outbox) == 2
    ask(unit_manager.email, ip="10.0.0.10")  # another address is not held back
    assert [m.to for m in mail.outbox][-1] == [unit_manager.email]


def test_unknown_addresses_count_towards_the_limit_too(support_staff, reset_on, ask):
    """Counted before the lookup: a limit that only known addresses reached
    would itself tell which addresses have accounts."""
    reset_on.PASSWORD_RESET_LIMIT_PER_IP = 2
    ask("ingen1@example.se")
    ask("ingen2@example.se")
    ask(support_staff.email)
    assert mail.outbox == []


def test_a_reset_ends_every_session_of_the_user(support_staff, reset_on, ask):
    elsewhere = Client()
    login(elsewhere, support_staff.username, TEST_PASSWORD)
    assert elsewhere.get(reverse("home")).status_code == 200
    ask(support_staff.email)
    browser = Client()
    set_password_url = browser.get(LINK.search(mail.outbox[0].body).group(1))["Location"]
    browser.post(set_password_url, {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD})
    assert elsewhere.get(reverse("home"))["Location"].startswith(reverse("login"))
    assert browser.get(reverse("home"))["Location"].startswith(reverse("login"))  # not logged in


def test_a_reset_does_not_get_past_the_second_factor(client, unit_manager, reset_on, ask):
    reset_on.OTP_REQUIRED_FOR_PRIVILEGED = True
    device = TOTPDevice.objects.create(user=unit_manager, name="app", confirmed=True)
    ask(unit_manager.email)
    assert "autentiseringsapp" in mail.outbox[0].body
    set_password_url = client.get(LINK.search(mail.outbox[0].body).group(1))["Location"]
    client.post(set_password_url, {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD})
    response = login(client, unit_manager.username, NEW_PASSWORD)
    assert response["Location"] == reverse("otp-verify")
    assert client.get(reverse("home"))["Location"].startswith(reverse("otp-verify"))
    client.post(reverse("otp-verify"), {"token": f"{totp(device.bin_key):06d}"})
    assert client.get(reverse("home")).status_code == 200


def test_a_password_chosen_through_a_reset_clears_a_pending_forced_change(
    client, support_staff, reset_on, ask
):
    support_staff.must_change_password = True
    support_staff.save()
    ask(support_staff.email)
    set_password_url = client.get(LINK.search(mail.outbox[0].body).group(1))["Location"]
    client.post(set_password_url, {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD})
    support_staff.refresh_from_db()
    assert support_staff.check_password(NEW_PASSWORD)
    assert not support_staff.must_change_password


def test_a_weak_new_password_is_refused_in_swedish(client, support_staff, reset_on, ask):
    ask(support_staff.email)
    set_password_url = client.get(LINK.search(mail.outbox[0].body).group(1))["Location"]
    response = client.post(set_password_url, {"new_password1": "kort", "new_password2": "kort"})
    assert response.status_code == 400
    assert "minst 12 tecken" in response.content.decode()
    support_staff.refresh_from_db()
    assert support_staff.check_password(TEST_PASSWORD)


class _Then(PasswordResetTokenGenerator):
    def __init__(self, now: datetime):
        super().__init__()
        self.then = now

    def _now(self):
        return self.then


def test_a_reset_link_expires_after_an_hour(client, support_staff, reset_on):
    assert reset_on.PASSWORD_RESET_TIMEOUT == 60 * 60
    uid = urlsafe_base64_encode(force_bytes(support_staff.pk))
    for minutes_ago, valid in [(59, True), (61, False)]:
        token = _Then(datetime.now() - timedelta(minutes=minutes_ago)).make_token(support_staff)
        url = reverse("password_reset_confirm", kwargs={"uidb64": uid, "token": token})
        page = Client().get(url, follow=True).content.decode()
        assert ("ogiltig eller har gått ut" not in page) is valid, minutes_ago


RESET_URLS = [
    ("password_reset", {}),
    ("password_reset_done", {}),
    ("password_reset_confirm", {"uidb64": "MQ", "token": "x-y"}),
    ("password_reset_complete", {}),
]


@pytest.mark.parametrize(
    "switch",
    [{"PASSWORD_RESET_ENABLED": False}, {"PASSWORD_RESET_ENABLED": True, "SSO_ENABLED": True}],
    ids=["no-email", "single-sign-on"],
)
def test_when_off_every_reset_page_is_404_and_the_login_page_has_no_link(
    client, support_staff, settings, switch
):
    for name, value in switch.items():
        setattr(settings, name, value)
    for name, kwargs in RESET_URLS:
        url = reverse(name, kwargs=kwargs)
        assert client.get(url).status_code == 404, name
        assert client.post(url, {"email": support_staff.email}).status_code == 404, name
    assert reverse("password_reset") not in client.get(reverse("login")).content.decode()
    assert mail.outbox == []


# --- Settings ----------------------------------------------------------------


SHOW_RESET = (
    "import os; os.environ['DJANGO_SETTINGS_MODULE']='bostadforst.settings';"
    "from django.conf import settings as s;"
    "print(s.PASSWORD_RESET_ENABLED, s.EMAIL_BACKEND, s.PASSWORD_RESET_TIMEOUT)"
)


def test_the_reset_is_on_exactly_when_email_is_configured():
    off = run_python(SHOW_RESET, {**PRODUCTION_ENV, "EMAIL_URL": ""})
    assert off.returncode == 0, off.stderr
    assert off.stdout.split()[0] == "False"
    on = run_python(SHOW_RESET, {**PRODUCTION_ENV, "EMAIL_URL": "smtp+tls://u:p@smtp.example:587"})
    assert on.returncode == 0, on.stderr
    assert on.stdout.split() == ["True", "django.core.mail.backends.smtp.EmailBackend", "3600"]


def test_the_reset_cannot_be_turned_on_without_email():
    result = run_python(
        SHOW_RESET, {**PRODUCTION_ENV, "EMAIL_URL": "", "PASSWORD_RESET_ENABLED": "true"}
    )
    assert result.returncode != 0
    assert "PASSWORD_RESET_ENABLED needs EMAIL_URL" in result.stderr
