"""The start pages as work queues (issue 17 item 1): for each role the right
items with the right counts on a small world, each link opening a list that
shows exactly the rows counted, the same number of queries at two data
sizes, and no item for a role that may not open its list."""

from datetime import date, timedelta

import pytest
from axes.models import AccessAttempt
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.plugins.otp_totp.models import TOTPDevice

from bostadforst.models import AccessLogEntry
from bostadforst.registry import start_page_queue
from bostadforst.roles import Role
from participants.models import (
    MatchStatus,
    ParticipantStatus,
    ReferralEvent,
    ReferralStatus,
)
from support.models import SupportVisit
from tests.factories import TEST_PASSWORD, UserFactory
from tests.housing.factories import ApartmentFactory, IncidentFactory, TenancyFactory
from tests.participants.factories import ParticipantFactory, ReferralFactory
from tests.support.factories import (
    ActionPlanFactory,
    CrisisPlacementFactory,
    SupportVisitFactory,
)

pytestmark = pytest.mark.django_db

SOCIAL_WORKER_KEYS = {"referrals-asked", "referrals-decided", "referrals-housed"}
SUPPORT_STAFF_KEYS = {
    "planned-visits-today",  # support.planning, with "planned-visits-missed" when any
    "no-contact",
    "plan-reviews",
    "open-incidents",
    "at-crisis-place",
    "unsigned-visits",
}
MANAGER_KEYS = {
    "retention",
    "referrals-waiting",
    "waiting-list",
    "vacant-apartments",
    "no-support-worker",
    "overdue-reviews",
    "access-log-flags",
    "data-quality",
    "fidelity",
}
ADMIN_KEYS = {"users-no-role", "locked-accounts", "users-no-two-factor"}


def verified_client(client_for, user):
    """A client of ``user`` past the code step (with a confirmed device)."""
    client = client_for(user)
    device = TOTPDevice.objects.create(user=user, name="Telefon", confirmed=True)
    session = client.session
    session[DEVICE_ID_SESSION_KEY] = device.persistent_id
    session.save()
    return client


def queue_of(client) -> dict:
    response = client.get(reverse("home"))
    assert response.status_code == 200
    return {item.key: item for item in response.context["queue"]}


def ago(**kwargs):
    return timezone.now() - timedelta(**kwargs)


# --- The previous login ------------------------------------------------------------


def test_a_login_keeps_the_one_before(client, social_worker):
    credentials = {"username": social_worker.username, "password": TEST_PASSWORD}
    client.post(reverse("login"), credentials)
    social_worker.refresh_from_db()
    first = social_worker.last_login
    assert first is not None and social_worker.previous_login is None
    client.post(reverse("logout"))
    client.post(reverse("login"), credentials)
    social_worker.refresh_from_db()
    assert social_worker.previous_login == first
    assert social_worker.last_login > first


# --- Social worker -------------------------------------------------------------------


def social_worker_world(sw, team_member, *, extra: int = 0) -> dict:
    """Referrals of ``sw`` with each change since their last login (two days
    ago), and ones that must not count."""
    sw.previous_login = ago(days=2)
    sw.save(update_fields=["previous_login"])

    def referral(**kwargs):
        return ReferralFactory(referred_by=sw, **kwargs)

    def decided(status, when, **kwargs):
        return referral(status=status, decided_by=team_member, decided_at=when, **kwargs)

    approved_now = decided(ReferralStatus.APPROVED, ago(days=1), participant__status="approved")
    declined_now = decided(
        ReferralStatus.DECLINED, ago(hours=3), decline_reason="Uppfyller inte kriterierna."
    )
    decided(ReferralStatus.APPROVED, ago(days=9), participant__status="approved")  # before
    # Moved in since the last login: approved before it, housed now.
    housed = decided(ReferralStatus.APPROVED, ago(days=20), participant__status="approved")
    housed.participant.status = ParticipantStatus.HOUSED
    housed.participant.save()
    # Of a person already known the social worker learns no more than the
    # referral's own status: not counted as moved in.
    known = decided(
        ReferralStatus.APPROVED,
        ago(days=20),
        participant__status="approved",
        match=MatchStatus.CONFIRMED,
    )
    known.participant.status = ParticipantStatus.HOUSED
    known.participant.save()
    # The team's question waits for an answer; another one was answered.
    asked = referral(status=ReferralStatus.ASSESSING)
    ReferralEvent.objects.create(
        referral=asked, kind=ReferralEvent.Kind.INFORMATION, note="Fråga", created_by=team_member
    )
    answered = referral(status=ReferralStatus.ASSESSING)
    for author in (team_member, sw):
        ReferralEvent.objects.create(
            referral=answered, kind=ReferralEvent.Kind.INFORMATION, note="x", created_by=author
        )
    # Someone else's referral, decided now: never counted.
    ReferralFactory(status=ReferralStatus.APPROVED, decided_by=team_member, decided_at=ago(hours=1))
    for _ in range(extra):
        decided(ReferralStatus.APPROVED, ago(hours=2), participant__status="approved")
        extra_asked = referral(status=ReferralStatus.SUBMITTED)
        ReferralEvent.objects.create(
            referral=extra_asked,
            kind=ReferralEvent.Kind.INFORMATION,
            note="Fråga",
            created_by=team_member,
        )
    return {
        "decided": {approved_now.pk, declined_now.pk},
        "housed": {housed.pk},
        "asked": {asked.pk},
    }


def test_social_worker_sees_their_referrals_news(sw_client, social_worker, unit_manager):
    expected = social_worker_world(social_worker, unit_manager)
    queue = queue_of(sw_client)
    assert set(queue) == SOCIAL_WORKER_KEYS
    assert queue["referrals-decided"].count == 2
    assert queue["referrals-housed"].count == 1
    assert queue["referrals-asked"].count == 1
    assert queue["referrals-asked"].alert
    for key, show in [
        ("referrals-decided", "decided"),
        ("referrals-housed", "housed"),
        ("referrals-asked", "asked"),
    ]:
        response = sw_client.get(queue[key].url)
        assert response.status_code == 200
        assert {r.pk for r in response.context["referrals"]} == expected[show], key


def test_social_worker_list_filter_ignores_unknown_values(sw_client, social_worker, unit_manager):
    social_worker_world(social_worker, unit_manager)
    response = sw_client.get(reverse("participants:my-referrals") + "?show=everything")
    assert response.status_code == 200
    assert response.context["paginator"].count == 7


# --- Support staff -------------------------------------------------------------------


def support_staff_world(ss, *, extra: int = 0) -> dict:
    def mine(**kwargs):
        return ParticipantFactory(status=ParticipantStatus.HOUSED, support_worker=ss, **kwargs)

    today = timezone.localdate()
    long_ago = mine()  # last visit 20 days ago; plan fine
    SupportVisitFactory(participant=long_ago, author=ss, started_at=ago(days=20))
    ActionPlanFactory(participant=long_ago, review_on=today + timedelta(days=60))
    lapsed = mine()  # visited two days ago; review overdue; an open incident
    visit = SupportVisitFactory(participant=lapsed, author=ss, started_at=ago(days=2))
    SupportVisit.objects.filter(pk=visit.pk).update(created_at=ago(days=2))  # unsigned, >24 h
    ActionPlanFactory(participant=lapsed, review_on=today - timedelta(days=1))
    tenancy = TenancyFactory(participant=lapsed)
    IncidentFactory(tenancy=tenancy)
    IncidentFactory(tenancy=tenancy)
    away = mine()  # never visited, no plan, at a crisis place
    CrisisPlacementFactory(participant=away)
    # Not counted: a fresh unsigned entry, a signed one, a colleague's person.
    SupportVisitFactory(participant=lapsed, author=ss, started_at=ago(hours=1))
    signed = SupportVisitFactory(participant=lapsed, author=ss, started_at=ago(days=3))
    SupportVisit.objects.filter(pk=signed.pk).update(created_at=ago(days=3), signed_at=ago(days=3))
    ParticipantFactory(status=ParticipantStatus.HOUSED, support_worker=UserFactory())
    for _ in range(extra):
        person = mine()
        CrisisPlacementFactory(participant=person)
        IncidentFactory(tenancy=TenancyFactory(participant=person))
        ActionPlanFactory(participant=person, review_on=today - timedelta(days=5))
        old = SupportVisitFactory(participant=person, author=ss, started_at=ago(days=30))
        SupportVisit.objects.filter(pk=old.pk).update(created_at=ago(days=30))
    return {
        "no-contact": {long_ago.pk, away.pk},
        "plan-reviews": {lapsed.pk, away.pk},
        "open-incidents": {lapsed.pk},
        "at-crisis-place": {away.pk},
        "unsigned-visits": {visit.pk},
    }


def test_support_staff_see_their_caseload_queues(ss_client, support_staff, settings):
    settings.CONTACT_OVERDUE_DAYS = 14
    expected = support_staff_world(support_staff)
    queue = queue_of(ss_client)
    assert set(queue) == SUPPORT_STAFF_KEYS
    counts = {key: queue[key].count for key in expected}
    assert counts == {key: len(rows) for key, rows in expected.items()}
    assert "14" in queue["no-contact"].title
    assert queue["open-incidents"].detail  # "2 open incidents in all"
    assert "2" in queue["open-incidents"].detail
    for key, rows in expected.items():
        response = ss_client.get(queue[key].url)
        assert response.status_code == 200
        if key == "unsigned-visits":
            shown = {v.pk for v in response.context["unsigned"]}
        else:
            shown = {row.participant.pk for row in response.context["rows"]}
        assert shown == rows, key


def test_contact_overdue_days_is_a_setting(ss_client, support_staff, settings):
    support_staff_world(support_staff)
    settings.CONTACT_OVERDUE_DAYS = 30
    queue = queue_of(ss_client)
    assert queue["no-contact"].count == 1  # only the person never visited
    response = ss_client.get(queue["no-contact"].url)
    assert len(response.context["rows"]) == 1


# --- Unit manager --------------------------------------------------------------------


def manager_world(manager, *, extra: int = 0) -> dict:
    today = timezone.localdate()
    ReferralFactory(referral_date=today - timedelta(days=10))
    ReferralFactory(status=ReferralStatus.ASSESSING, referral_date=today - timedelta(days=3))
    for days in (4, 10):
        ReferralFactory(
            status=ReferralStatus.APPROVED,
            decided_by=manager,
            decided_at=ago(days=days),
            participant__status=ParticipantStatus.APPROVED,
        )
    worker = UserFactory(role=Role.SUPPORT_STAFF)
    unsupported = TenancyFactory(participant__support_worker=None).participant
    supported = TenancyFactory(participant__support_worker=worker).participant
    ActionPlanFactory(participant=supported, review_on=today - timedelta(days=2))
    ActionPlanFactory(participant=unsupported, review_on=today + timedelta(days=30))
    empty = ApartmentFactory()
    TenancyFactory(
        apartment=empty,
        participant__status=ParticipantStatus.EXITED,
        move_in=date(2024, 1, 1),
        move_out=today - timedelta(days=20),
        exit_reason="moved_on",
    )
    admin = UserFactory(is_superuser=True, username="root")
    AccessLogEntry(action=AccessLogEntry.Action.LOGIN, user=admin, model="superuser").save()
    for _ in range(extra):
        ReferralFactory(referral_date=today - timedelta(days=2))
        TenancyFactory(participant__support_worker=None)
        ApartmentFactory()
        ReferralFactory(
            status=ReferralStatus.APPROVED,
            decided_by=manager,
            decided_at=ago(days=7),
            participant__status=ParticipantStatus.APPROVED,
        )
        plan_person = TenancyFactory(participant__support_worker=worker).participant
        ActionPlanFactory(participant=plan_person, review_on=today - timedelta(days=9))
    return {"unsupported": unsupported, "supported": supported, "empty": empty}


def test_unit_manager_sees_the_teams_queues(um_client, unit_manager):
    world = manager_world(unit_manager)
    queue = queue_of(um_client)
    assert set(queue) == MANAGER_KEYS
    waiting = queue["referrals-waiting"]
    assert waiting.count == 2 and "10" in waiting.detail
    assert queue["waiting-list"].count == 2
    assert "7" in queue["waiting-list"].detail  # median of 4 and 10 days
    assert queue["no-support-worker"].count == 1
    assert queue["vacant-apartments"].count == 1
    assert "20" in queue["vacant-apartments"].detail
    assert queue["overdue-reviews"].count == 1
    assert queue["access-log-flags"].count == 1
    retention = queue["retention"]
    assert retention.figure.startswith("100")
    assert retention.trend == "flat" and not retention.alert

    rows = um_client.get(queue["referrals-waiting"].url).context["referrals"]
    assert {r.status for r in rows} == {"submitted", "assessing"} and len(rows) == 2
    rows = um_client.get(queue["waiting-list"].url).context["participants"]
    assert len(rows) == 2 and {p.status for p in rows} == {"approved"}
    rows = um_client.get(queue["no-support-worker"].url).context["participants"]
    assert [p.pk for p in rows] == [world["unsupported"].pk]
    rows = um_client.get(queue["vacant-apartments"].url).context["apartments"]
    assert [a.pk for a in rows] == [world["empty"].pk]
    rows = um_client.get(queue["overdue-reviews"].url).context["rows"]
    assert [p.pk for p in rows] == [world["supported"].pk]
    assert um_client.get(queue["retention"].url).status_code == 200
    assert um_client.get(queue["access-log-flags"].url).status_code == 200


def test_retention_below_target_is_said_in_words(um_client, unit_manager):
    TenancyFactory()
    TenancyFactory(move_out=timezone.localdate() - timedelta(days=5), exit_reason="evicted")
    retention = queue_of(um_client)["retention"]
    assert retention.figure.startswith("50")
    assert retention.alert and retention.trend == "down"
    html = um_client.get(reverse("home")).content.decode()
    assert "Behöver åtgärdas" in html


def test_access_log_flags_count_from_the_last_review(um_client, unit_manager):
    manager_world(unit_manager)
    assert queue_of(um_client)["access-log-flags"].count == 1
    um_client.get(reverse("bostadforst:access-log"))
    assert queue_of(um_client)["access-log-flags"].count == 0


# --- Administrator -------------------------------------------------------------------


def admin_world(*, extra: int = 0) -> None:
    UserFactory(username="utan-roll")
    UserFactory(username="inaktiv", is_active=False)
    for username, failures in [("gissare", 5), ("slarvig", 1)]:
        AccessAttempt.objects.get_or_create(
            username=username,
            ip_address="192.0.2.10",
            user_agent="x",
            defaults={
                "path_info": "/login/",
                "get_data": "",
                "post_data": "",
                "failures_since_start": failures,
            },
        )
    with_device = UserFactory(role=Role.UNIT_MANAGER, username="chef-med-app")
    TOTPDevice.objects.get_or_create(user=with_device, name="Telefon", confirmed=True)
    UserFactory(role=Role.UNIT_MANAGER, username="chef-utan-app")
    UserFactory(role=Role.SUPPORT_STAFF, username="boendestod")
    for n in range(extra):
        UserFactory(username=f"ny-{extra}-{n}")
        UserFactory(role=Role.UNIT_MANAGER, username=f"chef-{extra}-{n}")
        AccessAttempt.objects.create(
            username=f"g{extra}-{n}",
            ip_address="192.0.2.12",
            user_agent="x",
            path_info="/login/",
            get_data="",
            post_data="",
            failures_since_start=7,
        )


def test_administrator_sees_account_problems(client_for, administrator, settings):
    settings.OTP_REQUIRED_FOR_PRIVILEGED = True
    admin_user_client = verified_client(client_for, administrator)
    settings.OTP_REQUIRED_FOR_ALL = False
    settings.AXES_FAILURE_LIMIT = 5
    admin_world()
    queue = queue_of(admin_user_client)
    assert set(queue) == ADMIN_KEYS
    assert queue["users-no-role"].count == 1
    assert queue["locked-accounts"].count == 1
    # The manager without a device (the administrator has one).
    assert queue["users-no-two-factor"].count == 1
    expected = {
        "users-no-role": {"utan-roll"},
        "users-no-two-factor": {"chef-utan-app"},
    }
    for key, names in expected.items():
        response = admin_user_client.get(queue[key].url)
        assert response.status_code == 200
        assert {u.username for u in response.context["cl"].result_list} == names, key
    response = admin_user_client.get(queue["locked-accounts"].url)
    assert response.status_code == 200
    assert [a.username for a in response.context["cl"].result_list] == ["gissare"]


def test_no_two_factor_item_when_none_is_required(admin_user_client, settings):
    settings.OTP_REQUIRED_FOR_PRIVILEGED = False
    settings.OTP_REQUIRED_FOR_ALL = False
    assert set(queue_of(admin_user_client)) == {"users-no-role", "locked-accounts"}


# --- Every role: items, layout, query counts ------------------------------------------


def test_a_user_without_a_role_gets_no_queue():
    assert start_page_queue(user=UserFactory()) == []


@pytest.mark.parametrize(
    ("role", "keys"),
    [
        (Role.SOCIAL_WORKER, SOCIAL_WORKER_KEYS),
        (Role.SUPPORT_STAFF, SUPPORT_STAFF_KEYS),
        (Role.UNIT_MANAGER, MANAGER_KEYS),
        (Role.ADMINISTRATOR, ADMIN_KEYS),
    ],
)
def test_each_role_gets_only_its_own_items(role, keys, role_users, client_for, settings):
    settings.OTP_REQUIRED_FOR_PRIVILEGED = True
    client = verified_client(client_for, role_users[role])
    queue = queue_of(client)
    assert set(queue) == keys
    for item in queue.values():
        # Every link opens for this role (least privilege).
        assert client.get(item.url).status_code == 200, item.key


def test_start_page_cards_have_headings_and_link_text(um_client, unit_manager):
    manager_world(unit_manager)
    html = um_client.get(reverse("home")).content.decode()
    assert '<h2 class="h4" id="work-queue-heading">Att göra</h2>' in html
    assert html.count('class="h6 card-title"') == len(MANAGER_KEYS)
    assert "Väntar på beslut" in html or "väntar på beslut" in html
    assert "Snabblänkar" in html


def _home_queries(client) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert client.get(reverse("home")).status_code == 200
    return len(queries)


# Queries of one start page per role, pinned: a new card or a card that starts
# reading per row shows here (the benchmark's "queries" columns, plus the
# two-factor check of a verified session).
HOME_QUERIES = {
    Role.SOCIAL_WORKER: 8,
    Role.SUPPORT_STAFF: 12,
    Role.UNIT_MANAGER: 32,
    Role.ADMINISTRATOR: 10,
}


@pytest.mark.parametrize("role", list(Role))
def test_query_count_does_not_grow_with_the_data(role, role_users, client_for, settings):
    settings.OTP_REQUIRED_FOR_PRIVILEGED = True
    user = role_users[role]
    client = verified_client(client_for, user)
    worlds = {
        Role.SOCIAL_WORKER: lambda extra: social_worker_world(
            user, UserFactory(role=Role.UNIT_MANAGER), extra=extra
        ),
        Role.SUPPORT_STAFF: lambda extra: support_staff_world(user, extra=extra),
        Role.UNIT_MANAGER: lambda extra: manager_world(user, extra=extra),
        Role.ADMINISTRATOR: lambda extra: admin_world(extra=extra),
    }
    worlds[role](0)
    small = _home_queries(client)
    worlds[role](6)
    large = _home_queries(client)
    assert small == large == HOME_QUERIES[role]
