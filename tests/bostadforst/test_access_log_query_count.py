"""The access log review page issues the same number of queries whatever the
log holds: flagged or not, one reader or many, of whichever roles."""

import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from bostadforst.log_review import SUPERUSER_LOGIN
from bostadforst.models import AccessLogEntry
from tests.participants.factories import ParticipantFactory, ReferralFactory

pytestmark = pytest.mark.django_db
Action = AccessLogEntry.Action


def read(user, person_id, at):
    return AccessLogEntry.objects.create(
        user=user,
        username=user.username,
        role=user.role or "",
        action=Action.READ,
        model="participants.Participant",
        person_id=person_id,
        at=at,
    )


def page(client):
    with CaptureQueriesContext(connection) as queries:
        response = client.get(reverse("bostadforst:access-log"))
    assert response.status_code == 200
    flagged = {e.pk: [str(f) for f in fl] for e, fl in response.context["rows"] if fl}
    return len(queries), flagged


def test_the_query_count_is_the_same_with_and_without_flags(
    um_client, support_staff, social_worker, other_social_worker, administrator, settings
):
    settings.ACCESS_LOG_BURST_PERSONS = 3
    settings.ACCESS_LOG_BURST_MINUTES = 10
    now = timezone.now()
    own = ParticipantFactory(support_worker=support_staff)
    # One reader, reading their own participant now and then: nothing unusual.
    for hours in (5, 3, 1):
        read(support_staff, own.pk, now - datetime.timedelta(hours=hours))
    quiet_count, quiet_flags = page(um_client)
    assert quiet_flags == {}

    # Several readers of every role; reads outside the caseload, a burst, a
    # superuser login, a failed login without a user.
    referred = ReferralFactory(referred_by=other_social_worker).participant
    strangers = [ParticipantFactory() for _ in range(5)]
    for minute, person in enumerate(strangers):
        read(support_staff, person.pk, now - datetime.timedelta(minutes=30 - minute))
    read(social_worker, strangers[0].pk, now - datetime.timedelta(minutes=20))
    read(other_social_worker, referred.pk, now - datetime.timedelta(minutes=19))
    read(administrator, strangers[1].pk, now - datetime.timedelta(minutes=18))
    AccessLogEntry.objects.create(
        user=administrator,
        username=administrator.username,
        action=Action.LOGIN,
        model=SUPERUSER_LOGIN,
    )
    AccessLogEntry.objects.create(username="nobody", action=Action.LOGIN_FAILED)
    busy_count, busy_flags = page(um_client)
    reasons = {reason for flags in busy_flags.values() for reason in flags}
    assert reasons == {
        "utanför egen ärendelista",
        "många personer på kort tid",
        "inloggning som superanvändare",
    }, busy_flags
    assert busy_count == quiet_count


def test_the_query_count_is_the_same_for_an_empty_page_of_a_filter(um_client, support_staff):
    read(support_staff, ParticipantFactory(support_worker=support_staff).pk, timezone.now())
    with CaptureQueriesContext(connection) as some:
        um_client.get(reverse("bostadforst:access-log"), {"action": Action.READ})
    with CaptureQueriesContext(connection) as none:
        um_client.get(reverse("bostadforst:access-log"), {"action": Action.EXPORT})
    assert len(none) == len(some)


def test_past_the_cap_the_page_says_more_than_and_offers_no_last_page(
    um_client, support_staff, monkeypatch
):
    """The log only grows: it is counted up to a cap (one bounded COUNT), so
    the page costs the same at a million rows; the newest are shown."""
    from bostadforst.views import AccessLogView

    monkeypatch.setattr(AccessLogView, "paginate_by", 2)
    monkeypatch.setattr(AccessLogView, "count_cap", 4)
    now = timezone.now()
    person = ParticipantFactory(support_worker=support_staff)
    for minutes in range(3):
        read(support_staff, person.pk, now - datetime.timedelta(minutes=minutes))
    few, _flags = page(um_client)  # 3 rows and the manager's own reads
    html = um_client.get(reverse("bostadforst:access-log")).content.decode()
    assert "Fler än 4 poster" in html
    for minutes in range(3, 40):
        read(support_staff, person.pk, now - datetime.timedelta(minutes=minutes))
    over, _flags = page(um_client)
    assert over == few
    response = um_client.get(reverse("bostadforst:access-log"))
    html = response.content.decode()
    assert "Fler än 4 poster: de senaste visas." in html
    assert "Sida 1 av 2" in html  # 4 rows counted, 2 a page
    newest = [entry.at for entry, _f in response.context["rows"]]
    assert newest == sorted(newest, reverse=True)


def test_under_the_cap_the_page_counts_every_entry(um_client, support_staff):
    person = ParticipantFactory(support_worker=support_staff)
    read(support_staff, person.pk, timezone.now())
    response = um_client.get(reverse("bostadforst:access-log"))
    count = response.context["page_obj"].paginator.count
    assert count == AccessLogEntry.objects.count() - 1  # less the read of this page
    assert f"{count} poster" in response.content.decode()
