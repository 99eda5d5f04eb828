"""Outcome follow-ups (issue 18 item 2): the follow-up points, recording a
follow-up and the reads the participant page needs.

The rule: a person is followed up at move-in and every six months after the
first move-in (``POINT_STEP``). A follow-up belongs to the point nearest its
date (``point_for``); a date more than ``WINDOW_MONTHS`` before the first
move-in belongs to none and is refused. The next point is *due* once its day
has passed and no follow-up was recorded for it or a later point.

The write goes through ``record_save`` (validation, history, access-log row,
and the refusal while the person's processing is restricted).
"""

import calendar
from dataclasses import dataclass
from datetime import date

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Min
from django.utils.translation import gettext_lazy as _

from bostadforst.records import record_save
from bostadforst.roles import TEAM, role_of
from housing.models import Tenancy
from participants.models import Participant

from .models import OutcomeFollowUp

# A follow-up every six months from the first move-in.
POINT_STEP = 6
# A follow-up counts for a point within three months either side of it.
WINDOW_MONTHS = 3

FOLLOW_UP_FIELDS = (
    "date",
    "occupation",
    "income_source",
    "addiction_care",
    "psychiatric_care",
    "quality_of_life",
    "own_words",
    "contract_form",
)


def add_months(day: date, months: int) -> date:
    """``day`` moved ``months`` calendar months (negative: back); the 31st
    becomes the month's last day where the month is shorter."""
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    month += 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def months_between(start: date, end: date) -> float:
    """Whole calendar months from ``start`` to ``end`` plus the fraction of
    the month that follows (negative when ``end`` is before ``start``)."""
    whole = (end.year - start.year) * 12 + end.month - start.month
    if add_months(start, whole) > end:
        whole -= 1
    base = add_months(start, whole)
    following = add_months(start, whole + 1)
    return whole + (end - base).days / (following - base).days


def point_for(*, first_move_in: date, day: date) -> int | None:
    """The follow-up point (months after the first move-in: 0, 6, 12 …)
    nearest ``day``; a tie goes to the later point. None for a day more than
    ``WINDOW_MONTHS`` before the move-in."""
    months = months_between(first_move_in, day)
    if months < -WINDOW_MONTHS:
        return None
    if months <= 0:
        return 0
    lower = int(months // POINT_STEP) * POINT_STEP
    return lower if months - lower < POINT_STEP / 2 else lower + POINT_STEP


@dataclass(frozen=True)
class NextPoint:
    """The next follow-up point to record and whether its day has passed."""

    months: int
    day: date
    due: bool


def next_point(*, first_move_in: date | None, points_done, today: date) -> NextPoint | None:
    """The point after the latest one recorded (move-in if none), and
    whether it is due (its day is today or has passed). None before any
    move-in."""
    if first_move_in is None:
        return None
    done = list(points_done)
    months = max(done) + POINT_STEP if done else 0
    day = add_months(first_move_in, months)
    return NextPoint(months=months, day=day, due=day <= today)


def first_move_in(participant: Participant) -> date | None:
    """The day of the person's first move-in (one query)."""
    return Tenancy.objects.filter(participant=participant).aggregate(first=Min("move_in"))["first"]


def _require_team(user) -> None:
    if role_of(user) not in TEAM:
        raise PermissionDenied


@transaction.atomic
def follow_up_record(*, participant: Participant, acting_user, **fields) -> OutcomeFollowUp:
    """Record an outcome follow-up of the person; its point is derived from
    the first move-in. Refused for a person who has not moved in, or for a
    date more than three months before the move-in."""
    _require_team(acting_user)
    unknown = set(fields) - set(FOLLOW_UP_FIELDS)
    if unknown:
        raise TypeError(f"follow_up_record() got unexpected fields {sorted(unknown)!r}")
    moved_in = first_move_in(participant)
    if moved_in is None:
        raise ValidationError(
            _("The person has not moved in yet: follow-ups start at the move-in."),
            code="no_move_in",
        )
    point = point_for(first_move_in=moved_in, day=fields["date"])
    if point is None:
        raise ValidationError(
            {
                "date": ValidationError(
                    _("The date is more than three months before the first move-in (%(day)s)."),
                    code="before_move_in",
                    params={"day": moved_in.isoformat()},
                )
            }
        )
    follow_up = OutcomeFollowUp(
        participant=participant, point_months=point, recorded_by=acting_user, **fields
    )
    follow_up.own_words = (follow_up.own_words or "").strip()
    record_save(follow_up, acting_user=acting_user)
    return follow_up


def follow_up_list(*, participant: Participant) -> list[OutcomeFollowUp]:
    """The person's follow-ups, newest first (one query)."""
    return list(participant.outcome_follow_ups.select_related("recorded_by"))
