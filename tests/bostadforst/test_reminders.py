"""Reminders by e-mail (issue 17 item 3): each event once, to the right
person, with no personal data, and only to those who want it."""

import re
import socket
from datetime import timedelta

import pytest
from django.conf import settings
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from bostadforst import reminders
from bostadforst.models import ReminderLanguage, ReminderPreference, SentReminder
from bostadforst.reminders import reminder_kinds, reminders_send
from bostadforst.roles import Role
from bostadforst.tasks import send_reminders
from housing.models import ExitReason
from participants.models import ParticipantStatus, ReferralStatus
from tests.factories import UserFactory
from tests.housing.factories import TenancyFactory
from tests.participants.factories import ParticipantFactory, ReferralFactory
from tests.support.factories import ActionPlanFactory

pytestmark = pytest.mark.django_db

SITE = "https://bostadforst.example.se"


@pytest.fixture(autouse=True)
def site_url(settings):
    settings.SITE_URL = SITE
    settings.REMINDERS_ENABLED = True


def today():
    return timezone.localdate()


def person(**kwargs):
    """A person with every kind of personal data an e-mail must not carry."""
    return ParticipantFactory(
        first_name="Ingrid",
        last_name="Ödmarksson",
        postal_address="Storgatan 17, 123 45 Exempelstad",
        **kwargs,
    )


def assert_no_personal_data(message, p):
    text = f"{message.subject}\n{message.body}"
    for value in (p.first_name, p.last_name, p.personnummer, p.personnummer[2:], "Storgatan"):
        assert value not in text, value
    assert not re.search(r"\d{6,8}-?\d{4}", text), text  # nothing like a personnummer
    links = re.findall(r"https?://\S+", message.body)
    assert links
    for link in links:
        assert link.startswith(SITE + "/"), link
        assert re.fullmatch(r"[a-z/\-0-9]*", link[len(SITE) :]), link  # ids only


def sent_to(address):
    return [m for m in mail.outbox if address in m.to]


# --- The three kinds ----------------------------------------------------------------


def due_plan(worker, *, days=7, **kwargs):
    p = person(status=ParticipantStatus.HOUSED, support_worker=worker, **kwargs)
    plan = ActionPlanFactory(participant=p, review_on=today() + timedelta(days=days))
    return p, plan


def test_a_plan_review_due_within_7_days_reaches_the_support_worker_once(mailoutbox):
    worker = UserFactory(role=Role.SUPPORT_STAFF)
    colleague = UserFactory(role=Role.SUPPORT_STAFF)
    manager = UserFactory(role=Role.UNIT_MANAGER)
    p, plan = due_plan(worker)
    due_plan(worker, days=8)  # not yet
    due_plan(worker, days=-1)  # overdue: the review lists show it, no reminder

    result = reminders_send()

    assert result["sent"] == 1
    assert len(mailoutbox) == 1
    message = mailoutbox[0]
    assert message.to == [worker.email]
    assert "En uppföljning av en handlingsplan ska göras inom 7 dagar." in message.body
    assert f"{SITE}/support/plans/{plan.pk}/" in message.body
    assert_no_personal_data(message, p)
    assert not sent_to(colleague.email) and not sent_to(manager.email)

    assert reminders_send()["claimed"] == 0
    assert len(mailoutbox) == 1


def test_one_mail_per_recipient_and_kind_names_every_record(mailoutbox):
    worker = UserFactory(role=Role.SUPPORT_STAFF)
    plans = [due_plan(worker, days=d)[1] for d in (1, 4, 7)]
    result = reminders_send()
    assert (result["sent"], result["mails"]) == (3, 1)
    body = mailoutbox[0].body
    assert "3 uppföljningar av handlingsplaner ska göras inom 7 dagar." in body
    assert "Öppna uppgifterna" in body
    for plan in plans:
        assert f"{SITE}/support/plans/{plan.pk}/" in body
    assert reminders_send()["claimed"] == 0


def test_records_of_sent_reminders_are_kept_a_year(mailoutbox):
    """After REMINDER_KEEP_DAYS the record goes; a tenant still without a
    support worker is then announced again."""
    manager = UserFactory(role=Role.UNIT_MANAGER)
    TenancyFactory(participant=person(), move_in=today() - timedelta(days=400))
    reminders_send()
    SentReminder.objects.update(
        claimed_at=timezone.now() - timedelta(days=settings.REMINDER_KEEP_DAYS, seconds=1)
    )
    result = reminders_send()
    assert (result["pruned"], result["sent"]) == (1, 1)
    assert [m.to for m in mailoutbox] == [[manager.email], [manager.email]]


def test_a_moved_review_date_is_a_new_event(mailoutbox):
    worker = UserFactory(role=Role.SUPPORT_STAFF)
    _, plan = due_plan(worker, days=6)
    reminders_send()
    plan.review_on = today() + timedelta(days=3)
    plan.save()
    reminders_send()
    assert len(mailoutbox) == 2


def test_only_the_current_plan_counts_and_without_a_support_worker_its_author_hears(
    mailoutbox,
):
    author = UserFactory(role=Role.SUPPORT_STAFF)
    p = person(status=ParticipantStatus.HOUSED)
    ActionPlanFactory(participant=p, number=1, review_on=today() + timedelta(days=2))
    ActionPlanFactory(
        participant=p, number=2, review_on=today() + timedelta(days=5), created_by=author
    )
    reminders_send()
    assert [m.to for m in mailoutbox] == [[author.email]]


def test_a_decided_referral_reaches_the_social_worker_who_referred(mailoutbox):
    referrer = UserFactory(role=Role.SOCIAL_WORKER)
    other = UserFactory(role=Role.SOCIAL_WORKER)
    manager = UserFactory(role=Role.UNIT_MANAGER)
    p = person(status=ParticipantStatus.APPROVED)
    referral = ReferralFactory(
        participant=p,
        referred_by=referrer,
        status=ReferralStatus.APPROVED,
        decided_by=manager,
        decided_at=timezone.now() - timedelta(hours=1),
        applicant_first_name=p.first_name,
        applicant_last_name=p.last_name,
        applicant_personnummer=p.personnummer,
    )
    ReferralFactory(referred_by=other)  # not decided
    ReferralFactory(  # decided long ago
        referred_by=other,
        status=ReferralStatus.DECLINED,
        decline_reason="Uppfyller inte kriterierna.",
        decided_by=manager,
        decided_at=timezone.now() - timedelta(days=30),
    )

    reminders_send()
    reminders_send()

    assert len(mailoutbox) == 1
    message = mailoutbox[0]
    assert message.to == [referrer.email]
    assert f"{SITE}/participants/referrals/{referral.pk}/" in message.body
    assert "En remiss du har skickat har fått ett beslut." in message.body
    assert_no_personal_data(message, p)


def test_a_tenant_without_a_support_worker_for_3_days_reaches_every_unit_manager(mailoutbox):
    managers = [UserFactory(role=Role.UNIT_MANAGER) for _ in range(2)]
    staff = UserFactory(role=Role.SUPPORT_STAFF)
    social = UserFactory(role=Role.SOCIAL_WORKER)
    p = person()
    TenancyFactory(participant=p, move_in=today() - timedelta(days=3))
    TenancyFactory(participant=person(), move_in=today() - timedelta(days=2))  # too soon
    TenancyFactory(participant=person(support_worker=staff), move_in=today() - timedelta(days=9))
    TenancyFactory(  # moved out
        participant=person(),
        move_in=today() - timedelta(days=90),
        move_out=today() - timedelta(days=1),
        exit_reason=ExitReason.MOVED_ON,
    )

    reminders_send()
    reminders_send()

    assert sorted(m.to[0] for m in mailoutbox) == sorted(m.email for m in managers)
    for message in mailoutbox:
        assert f"{SITE}/participants/{p.pk}/" in message.body
        assert "En hyresgäst har saknat utsedd boendestödjare i 3 dagar." in message.body
        assert_no_personal_data(message, p)
    assert not sent_to(staff.email) and not sent_to(social.email)


# --- Who is skipped --------------------------------------------------------------


def test_a_kind_turned_off_is_not_sent_and_others_still_are(mailoutbox):
    worker = UserFactory(role=Role.SUPPORT_STAFF)
    other = UserFactory(role=Role.SUPPORT_STAFF)
    due_plan(worker)
    due_plan(other)
    ReminderPreference.objects.create(user=worker, kind="plan_review_due", enabled=False)
    reminders_send()
    assert [m.to for m in mailoutbox] == [[other.email]]
    assert not SentReminder.objects.filter(recipient=worker).exists()


def test_inactive_users_users_without_address_and_wrong_roles_are_skipped(mailoutbox):
    inactive = UserFactory(role=Role.SUPPORT_STAFF, is_active=False)
    no_address = UserFactory(role=Role.SUPPORT_STAFF, email="")
    moved_on = UserFactory(role=Role.SOCIAL_WORKER)  # named, but no longer support staff
    for worker in (inactive, no_address, moved_on):
        due_plan(worker)
    UserFactory(role=Role.UNIT_MANAGER, is_active=False)
    TenancyFactory(participant=person(), move_in=today() - timedelta(days=5))
    assert reminders_send()["claimed"] == 0
    assert mailoutbox == []


def test_the_mail_is_in_the_recipients_language(mailoutbox):
    worker = UserFactory(role=Role.SUPPORT_STAFF)
    ReminderLanguage.objects.create(user=worker, language="en")
    due_plan(worker)
    reminders_send()
    assert "A review of an action plan is due within 7 days." in mailoutbox[0].body
    assert mailoutbox[0].subject == "Reminder: action plan review – Bostad först"


def test_the_number_of_days_follows_the_setting(mailoutbox, settings):
    settings.REMINDER_REVIEW_DAYS = 14
    worker = UserFactory(role=Role.SUPPORT_STAFF)
    due_plan(worker, days=12)
    reminders_send()
    assert "inom 14 dagar" in mailoutbox[0].body


# --- Once per event, failures retried ------------------------------------------------


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_a_mail_server_that_does_not_answer_is_retried_later_without_duplicates(
    mailoutbox, settings
):
    worker = UserFactory(role=Role.SUPPORT_STAFF)
    due_plan(worker)
    locmem = settings.EMAIL_BACKEND
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_TIMEOUT = "127.0.0.1", closed_port(), 2

    result = reminders_send()
    assert (result["claimed"], result["sent"], result["failed"], result["mails"]) == (1, 0, 1, 0)
    row = SentReminder.objects.get()
    assert (row.state, row.attempts, row.error) == ("failed", 1, "ConnectionRefusedError")

    settings.EMAIL_BACKEND = locmem
    assert reminders_send()["sent"] == 1
    assert reminders_send()["claimed"] == 0
    assert len(mailoutbox) == 1
    row.refresh_from_db()
    assert (row.state, row.attempts) == ("sent", 2)


def test_a_failing_mail_is_given_up_after_the_last_attempt(mailoutbox, settings):
    worker = UserFactory(role=Role.SUPPORT_STAFF)
    due_plan(worker)
    settings.REMINDER_MAX_ATTEMPTS = 2
    locmem = settings.EMAIL_BACKEND
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_TIMEOUT = "127.0.0.1", closed_port(), 2
    reminders_send()
    reminders_send()
    settings.EMAIL_BACKEND = locmem
    assert reminders_send()["claimed"] == 0
    assert mailoutbox == []
    assert SentReminder.objects.get().attempts == 2


def test_a_second_run_while_the_first_holds_its_claims_sends_nothing(mailoutbox, monkeypatch):
    """Two beat runs at once: the second finds the same events, but the first
    has claimed them (committed before sending), so it claims none."""
    worker = UserFactory(role=Role.SUPPORT_STAFF)
    due_plan(worker)
    due_plan(worker)
    real_send = reminders._send
    second = {}

    def send_after_a_second_run(*args, **kwargs):
        second.update(reminders_send())  # runs between the first run's claim and send
        real_send(*args, **kwargs)

    monkeypatch.setattr(reminders, "_send", send_after_a_second_run)
    first = reminders_send()
    assert (first["claimed"], first["sent"], first["mails"]) == (2, 2, 1)
    assert (second["due"], second["claimed"], second["sent"]) == (2, 0, 0)
    assert len(mailoutbox) == 1


def test_a_claim_left_by_a_dead_worker_is_sent_after_the_timeout_only(mailoutbox, monkeypatch):
    worker = UserFactory(role=Role.SUPPORT_STAFF)
    due_plan(worker)
    monkeypatch.setattr(reminders, "_send", lambda *args, **kwargs: None)  # killed after claim
    reminders_send()
    monkeypatch.undo()
    assert reminders_send()["claimed"] == 0  # another run may still be sending it
    SentReminder.objects.update(
        claimed_at=timezone.now() - timedelta(seconds=settings.REMINDER_CLAIM_TIMEOUT + 1)
    )
    assert reminders_send()["sent"] == 1
    assert reminders_send()["claimed"] == 0
    assert len(mailoutbox) == 1


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_runs_in_parallel_send_each_mail_once(mailoutbox):
    """Two runs in threads with their own connections (PostgreSQL): the
    unique index serialises the claims."""
    import threading

    from django.db import connection, connections

    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL")
    from django.contrib.auth.models import Group

    for role in Role:  # a transactional test before this one flushed them
        Group.objects.get_or_create(name=role.value)
    workers = [UserFactory(role=Role.SUPPORT_STAFF) for _ in range(3)]
    for worker in workers:
        for _ in range(4):
            due_plan(worker)
    results = []
    barrier = threading.Barrier(2)

    def run():
        try:
            barrier.wait()
            results.append(reminders_send())
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sum(r["sent"] for r in results) == 12
    links = [link for m in mailoutbox for link in re.findall(r"\S+/support/plans/\d+/", m.body)]
    assert len(links) == len(set(links)) == 12


# --- Queries and the task -------------------------------------------------------------


@pytest.mark.parametrize(
    "kind_key", ["plan_review_due", "referral_decided", "tenant_without_support_worker"]
)
def test_each_kind_finds_what_is_due_in_one_query(kind_key, django_assert_num_queries):
    kind = next(k for k in reminder_kinds if k.key == kind_key)
    manager = UserFactory(role=Role.UNIT_MANAGER)
    for size in (1, 6):
        for _ in range(size):
            due_plan(UserFactory(role=Role.SUPPORT_STAFF))
            ReferralFactory(
                status=ReferralStatus.APPROVED, decided_by=manager, decided_at=timezone.now()
            )
            TenancyFactory(participant=person(), move_in=today() - timedelta(days=4))
        with django_assert_num_queries(1):
            assert list(kind.find(today=today()))


def test_a_run_takes_the_same_queries_at_two_data_sizes_plus_one_per_mail(
    django_assert_max_num_queries, mailoutbox
):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    def queries_for(size):
        SentReminder.objects.all().delete()
        mailoutbox.clear()
        for _ in range(size):
            due_plan(UserFactory(role=Role.SUPPORT_STAFF))
        with CaptureQueriesContext(connection) as captured:
            result = reminders_send()
        return len(captured) - result["mails"], result["sent"]

    small, sent_small = queries_for(2)
    large, sent_large = queries_for(10)
    assert (sent_small, sent_large) == (2, 12)
    assert small == large


def test_the_beat_task_takes_no_arguments_and_returns_counts_only(mailoutbox):
    entry = settings.CELERY_BEAT_SCHEDULE["reminders-send"]
    assert entry["task"] == "bostadforst.send_reminders"
    assert not entry.get("args") and not entry.get("kwargs")
    p, _ = due_plan(UserFactory(role=Role.SUPPORT_STAFF))
    result = send_reminders.apply().get()
    assert result == {"due": 1, "claimed": 1, "sent": 1, "failed": 0, "mails": 1, "pruned": 0}
    assert p.personnummer not in repr(result)


def test_the_beat_task_sends_nothing_when_reminders_are_off(mailoutbox, settings):
    settings.REMINDERS_ENABLED = False
    due_plan(UserFactory(role=Role.SUPPORT_STAFF))
    assert send_reminders.apply().get() == {"skipped": True}
    assert mailoutbox == []


# --- The preferences page ----------------------------------------------------------


URL = "/reminders/"


def test_the_url_is_the_preferences_page():
    assert reverse("reminder-preferences") == URL


@pytest.mark.parametrize(
    ("role", "kind_label"),
    [
        (Role.SOCIAL_WORKER, "En remiss du har skickat har fått ett beslut"),
        (Role.SUPPORT_STAFF, "En planuppföljning närmar sig"),
        (Role.UNIT_MANAGER, "En hyresgäst saknar boendestödjare"),
    ],
)
def test_each_role_sees_and_turns_off_its_own_kinds(role, kind_label, client_for):
    user = UserFactory(role=role)
    client = client_for(user)
    page = client.get(URL)
    assert page.status_code == 200
    html = page.content.decode()
    assert "Påminnelser" in html and kind_label in html
    kinds = [k for k in reminder_kinds if role in k.roles]
    assert len(kinds) == 1
    others = [k for k in reminder_kinds if role not in k.roles]
    for other in others:
        assert f'name="kind_{other.key}"' not in html

    response = client.post(URL, {"language": "sv"})  # every box cleared
    assert response.status_code == 302
    assert ReminderPreference.objects.get(user=user, kind=kinds[0].key).enabled is False
    assert not ReminderPreference.objects.filter(user=user, kind__in=[k.key for k in others])

    client.post(URL, {"language": "en", f"kind_{kinds[0].key}": "on"})
    assert ReminderPreference.objects.get(user=user, kind=kinds[0].key).enabled is True
    assert ReminderLanguage.objects.get(user=user).language == "en"


def test_the_page_is_closed_to_administrators_and_asks_anonymous_users_to_log_in(
    client, admin_user_client
):
    assert admin_user_client.get(URL).status_code == 403
    response = client.get(URL)
    assert response.status_code == 302 and "/login/" in response["Location"]


def test_a_bad_language_is_refused_with_a_swedish_message(sw_client):
    response = sw_client.post(URL, {"language": "xx"})
    assert response.status_code == 400
    assert "Välj ett giltigt alternativ" in response.content.decode()


def test_the_page_says_when_the_account_has_no_address(client_for):
    user = UserFactory(role=Role.SUPPORT_STAFF, email="")
    assert "saknar e-postadress" in client_for(user).get(URL).content.decode()


def test_the_user_menu_links_to_the_page(sw_client, admin_user_client):
    assert f'href="{URL}"' in sw_client.get("/").content.decode()
    assert f'href="{URL}"' not in admin_user_client.get("/").content.decode()


def test_the_command_sends_what_is_due_once(mailoutbox):
    from io import StringIO

    from django.core.management import call_command

    due_plan(UserFactory(role=Role.SUPPORT_STAFF))
    out = StringIO()
    call_command("send_reminders", stdout=out)
    call_command("send_reminders", stdout=out)
    assert out.getvalue().splitlines() == [
        "due 1, claimed 1, sent 1 in 1 e-mails, failed 0",
        "due 1, claimed 0, sent 0 in 0 e-mails, failed 0",
    ]
    assert len(mailoutbox) == 1
