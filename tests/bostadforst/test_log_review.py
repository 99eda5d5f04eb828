"""The log review's period filter: Stockholm days, compared on ``at`` itself
so that an index on ``at`` serves it."""

import datetime
from zoneinfo import ZoneInfo

import pytest

from bostadforst.log_review import filter_log
from bostadforst.models import AccessLogEntry

pytestmark = pytest.mark.django_db
STOCKHOLM = ZoneInfo("Europe/Stockholm")


def at(*args):
    return datetime.datetime(*args, tzinfo=STOCKHOLM)


def test_the_period_covers_whole_stockholm_days_and_nothing_more():
    times = {
        "before": at(2026, 3, 28, 23, 59, 59, 999999),
        "first": at(2026, 3, 29, 0, 0),  # the day summer time begins
        "last": at(2026, 10, 25, 23, 59, 59, 999999),  # the day it ends
        "after": at(2026, 10, 26, 0, 0),
    }
    for name, when in times.items():
        AccessLogEntry.objects.create(username=name, action=AccessLogEntry.Action.LOGIN, at=when)
    found = filter_log(
        AccessLogEntry.objects.all(),
        date_from=datetime.date(2026, 3, 29),
        date_to=datetime.date(2026, 10, 25),
    )
    assert sorted(found.values_list("username", flat=True)) == ["first", "last"]


def test_the_period_compares_the_time_itself_not_its_date():
    """A cast of every row's ``at`` to a date cannot use the index on ``at``."""
    sql = str(
        filter_log(
            AccessLogEntry.objects.all(),
            date_from=datetime.date(2026, 11, 1),
            date_to=datetime.date(2026, 11, 30),
        ).query
    ).lower()
    assert "cast_date" not in sql and "time zone" not in sql and "::date" not in sql
