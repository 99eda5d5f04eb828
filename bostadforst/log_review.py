"""The manager's log review ("loggkontroll"): filtering the access log and
flagging unusual access.

Four patterns are flagged on the rows shown:

* a read of a person outside the reader's caseload (the apps say what a
  caseload is through ``registry.caseload_checks``; bostadforst imports no app);
* a burst: a user who read more than ``ACCESS_LOG_BURST_PERSONS`` distinct
  people within ``ACCESS_LOG_BURST_MINUTES`` minutes up to that read;
* a login as a superuser (break-glass access, which reaches every case record
  in the admin), recorded on the login row at the time (``SUPERUSER_LOGIN``);
* every read, export or refused attempt concerning a person with protected
  identity, by anyone, named on the person's access list or not (issue 15;
  the apps say who is protected through ``registry.protected_checks``). The
  person's protection now decides, not at the time of the read: a person
  protected today is the one whose earlier reads the manager checks.
"""

from bisect import bisect_left
from collections import defaultdict
from datetime import date, datetime, time, timedelta

from django.conf import settings
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from .models import AccessLogEntry
from .registry import caseload_of, protected_among
from .roles import roles_load

OUTSIDE_CASELOAD = _("outside own caseload")
BURST = _("many people in a short time")
SUPERUSER = _("login as superuser")
PROTECTED = _("Protected identity")

# The actions that show (or tried to show) a person's record to someone.
_PERSON_ACCESS = frozenset(
    {AccessLogEntry.Action.READ, AccessLogEntry.Action.EXPORT, AccessLogEntry.Action.DENIED}
)

# The record type of a superuser's login row (signals.on_login): the login is
# into a superuser account. Kept on the row, so that withdrawing the status
# later does not hide the login.
SUPERUSER_LOGIN = "superuser"


def _local_midnight(day: date) -> datetime:
    """The instant the Stockholm day ``day`` begins (DST-aware)."""
    return timezone.make_aware(datetime.combine(day, time.min))


def filter_log(
    queryset: QuerySet, *, user=None, person=None, date_from=None, date_to=None, action=""
) -> QuerySet:
    """The rows matching the review form's filters (each one optional).

    ``date_to`` includes the whole day; days are Stockholm days. The period
    is compared as a range of instants (from local midnight, to before the
    next one) rather than ``at__date``, which casts every row's ``at`` and so
    cannot use an index: a month of a 1.3-million-row log was a full scan.
    The indexes (at), (user, at) and (person_id, at) serve the usual questions.
    """
    if user is not None:
        queryset = queryset.filter(user=user)
    if person is not None:
        queryset = queryset.filter(person_id=person)
    if date_from is not None:
        queryset = queryset.filter(at__gte=_local_midnight(date_from))
    if date_to is not None:
        queryset = queryset.filter(at__lt=_local_midnight(date_to + timedelta(days=1)))
    if action:
        queryset = queryset.filter(action=action)
    return queryset


def flag_unusual(entries: list[AccessLogEntry]) -> dict[int, list]:
    """Flags per entry id for ``entries`` (one page): a list of reasons.

    A fixed number of queries whatever the page holds (the readers' roles,
    one per caseload check and per protected check, the burst window): a
    count that depended on the log would grow, or vary, with what the manager
    happens to review. Every query is bounded by the page: its readers, its
    people, and the burst window before its oldest read (the (user, at) index).
    """
    flags: dict[int, list] = defaultdict(list)
    for entry in entries:
        if entry.action == AccessLogEntry.Action.LOGIN and entry.model == SUPERUSER_LOGIN:
            flags[entry.pk].append(SUPERUSER)
    reads = [e for e in entries if e.action == AccessLogEntry.Action.READ and e.user_id]

    accesses = [e for e in entries if e.action in _PERSON_ACCESS and e.person_id is not None]
    protected = protected_among({e.person_id for e in accesses})
    for entry in accesses:
        if entry.person_id in protected:
            flags[entry.pk].append(PROTECTED)

    by_user: dict[int, list[AccessLogEntry]] = defaultdict(list)
    for entry in reads:
        by_user[entry.user_id].append(entry)
    # One user instance per reader (select_related gives one per row), whose
    # role cache roles_load fills for the caseload checks.
    readers = {entries_of_user[0].user: entries_of_user for entries_of_user in by_user.values()}
    roles_load(readers)
    own = caseload_of(
        {
            reader: {e.person_id for e in entries_of_user if e.person_id is not None}
            for reader, entries_of_user in readers.items()
        }
    )
    for user_id, entries_of_user in by_user.items():
        if user_id not in own:
            continue
        for entry in entries_of_user:
            if entry.person_id is not None and entry.person_id not in own[user_id]:
                flags[entry.pk].append(OUTSIDE_CASELOAD)

    window = timedelta(minutes=settings.ACCESS_LOG_BURST_MINUTES)
    limit = settings.ACCESS_LOG_BURST_PERSONS
    latest = max((e.at for e in reads), default=timezone.now())
    earliest = min((e.at for e in reads), default=latest) - window
    timeline: dict[int, list[tuple]] = defaultdict(list)
    rows = (
        AccessLogEntry.objects.filter(
            action=AccessLogEntry.Action.READ,
            # [0] (no user has pk 0) keeps the query when the page has no
            # reads: Django skips it for an empty IN list.
            user_id__in=list(by_user) or [0],
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
