"""The manager's log review ("loggkontroll"): filtering the access log and
flagging unusual access.

Three patterns are flagged on the rows shown:

* a read of a person outside the reader's caseload (the apps say what a
  caseload is through ``registry.caseload_checks``; bostadforst imports no app);
* a burst: a user who read more than ``ACCESS_LOG_BURST_PERSONS`` distinct
  people within ``ACCESS_LOG_BURST_MINUTES`` minutes up to that read;
* a login as a superuser (break-glass access, which reaches every case record
  in the admin), recorded on the login row at the time (``SUPERUSER_LOGIN``).
"""

from bisect import bisect_left
from collections import defaultdict
from datetime import timedelta

from django.conf import settings
from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _

from .models import AccessLogEntry
from .registry import caseload_of

OUTSIDE_CASELOAD = _("outside own caseload")
BURST = _("many people in a short time")
SUPERUSER = _("login as superuser")

# The record type of a superuser's login row (signals.on_login): the login is
# into a superuser account. Kept on the row, so that withdrawing the status
# later does not hide the login.
SUPERUSER_LOGIN = "superuser"


def filter_log(
    queryset: QuerySet, *, user=None, person=None, date_from=None, date_to=None, action=""
) -> QuerySet:
    """The rows matching the review form's filters (each one optional).

    ``date_to`` includes the whole day; the composite indexes (user, at) and
    (person_id, at) serve the two usual questions.
    """
    if user is not None:
        queryset = queryset.filter(user=user)
    if person is not None:
        queryset = queryset.filter(person_id=person)
    if date_from is not None:
        queryset = queryset.filter(at__date__gte=date_from)
    if date_to is not None:
        queryset = queryset.filter(at__date__lte=date_to)
    if action:
        queryset = queryset.filter(action=action)
    return queryset


def flag_unusual(entries: list[AccessLogEntry]) -> dict[int, list]:
    """Flags per entry id for ``entries`` (one page): a list of reasons.

    One query for the burst window plus one caseload query per distinct
    reader on the page (at most the page size, usually a handful).
    """
    flags: dict[int, list] = defaultdict(list)
    for entry in entries:
        if entry.action == AccessLogEntry.Action.LOGIN and entry.model == SUPERUSER_LOGIN:
            flags[entry.pk].append(SUPERUSER)
    reads = [e for e in entries if e.action == AccessLogEntry.Action.READ and e.user_id]
    if not reads:
        return flags

    by_user: dict[int, list[AccessLogEntry]] = defaultdict(list)
    for entry in reads:
        by_user[entry.user_id].append(entry)
    for entries_of_user in by_user.values():
        reader = entries_of_user[0].user
        person_ids = {e.person_id for e in entries_of_user if e.person_id is not None}
        if not person_ids or reader is None:
            continue
        own = caseload_of(reader, person_ids)
        if own is None:
            continue
        for entry in entries_of_user:
            if entry.person_id is not None and entry.person_id not in own:
                flags[entry.pk].append(OUTSIDE_CASELOAD)

    window = timedelta(minutes=settings.ACCESS_LOG_BURST_MINUTES)
    limit = settings.ACCESS_LOG_BURST_PERSONS
    earliest = min(e.at for e in reads) - window
    latest = max(e.at for e in reads)
    timeline: dict[int, list[tuple]] = defaultdict(list)
    rows = (
        AccessLogEntry.objects.filter(
            action=AccessLogEntry.Action.READ,
            user_id__in=by_user.keys(),
            person_id__isnull=False,
            at__gte=earliest,
            at__lte=latest,
        )
        .order_by("at")
        .values_list("user_id", "at", "person_id")
    )
    for user_id, at, person_id in rows:
        timeline[user_id].append((at, person_id))
    for user_id, entries_of_user in by_user.items():
        events = timeline[user_id]
        times = [at for at, _pid in events]
        for entry in entries_of_user:
            start = bisect_left(times, entry.at - window)
            end = bisect_left(times, entry.at + timedelta(microseconds=1))
            if len({pid for _at, pid in events[start:end]}) > limit:
                flags[entry.pk].append(BURST)
    return flags
