"""Extension points through which higher apps show their data on lower apps'
pages without an upward import (STYLE.md, "Layering").

Apps register in ``AppConfig.ready()``:

    from bostadforst.registry import participant_sections, timeline_sources
    participant_sections.register(ParticipantSection(...))
    timeline_sources.register(my_timeline_source)
    caseload_checks.register(my_caseload_check)
    protected_checks.register(my_protected_check)
    start_page_queues.register(my_queue_source)
    board_report_sources.register(my_board_source)
"""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, time
from typing import Any

from django.utils import timezone


@dataclass(frozen=True)
class TimelineEvent:
    """One entry on a participant's timeline."""

    when: datetime | date
    kind: str  # short label, e.g. "Support visit"
    title: str
    url: str = ""
    detail: str = ""  # plain text, escaped by the template; never a journal note for SW
    sort_key: tuple = ()

    @property
    def sort_datetime(self) -> tuple:
        """Newest-first ordering key; a date counts as the start of its day."""
        value = self.when
        if isinstance(value, datetime):
            value = timezone.localtime(value) if timezone.is_aware(value) else value
            return (value.date(), value.time(), *self.sort_key)
        return (value, time.min, *self.sort_key)


# A source returns at most ``limit`` events for the participant, newest first,
# in a fixed number of queries, showing only what ``user`` may see.
TimelineSource = Callable[..., list[TimelineEvent]]


@dataclass(frozen=True)
class ParticipantSection:
    """A panel on the participant page, e.g. the tenancy or the action plan."""

    key: str
    order: int
    template: str
    # context(participant, *, user) -> dict, in a fixed number of queries;
    # returns None when the user's role may not see the section.
    context: Callable[..., dict[str, Any] | None]


class Registry(list):
    def register(self, item):
        if item not in self:
            self.append(item)
        return item


# A caseload check tells the access-log review which people belong to its
# readers' own caseloads, so that reads outside them are flagged as unusual:
#   check(*, readers: dict[user, set[int]]) -> dict[int, set[int]]
# gets every reader on the page with the person ids they read, and returns,
# by user id, the subset in that user's caseload; a user the check has no
# opinion about (by role) is left out. A check issues the same number of
# queries whatever it is given (also nothing), so that the review page's query
# count does not depend on the log. The participants app registers e.g.
# "support staff: Participant.support_worker" and "social worker: the people
# they referred".
CaseloadCheck = Callable[..., dict[int, set[int]]]

# A protected check tells the access-log review which people on the page have
# protected identity (issue 15: every read of them is flagged, whoever read):
#   check(*, person_ids: set[int]) -> set[int]
# returns the protected ones among ``person_ids``, in one query whatever it is
# given (also nothing), so the review page's query count stays fixed. The
# participants app registers it.
ProtectedCheck = Callable[..., set[int]]

# The people's names for the access-log review (the manager reads who was
# read, not an id): ``namer(*, person_ids: set[int]) -> dict[int, str]``, in
# one query whatever it is given; names as the viewer may see them (loaded as
# model instances, so protected identities stay masked where they must).
PersonNamer = Callable[..., dict[int, str]]

participant_sections: Registry = Registry()
timeline_sources: Registry = Registry()
caseload_checks: Registry = Registry()
protected_checks: Registry = Registry()
person_namers: Registry = Registry()


@dataclass(frozen=True)
class ProcessingRestriction:
    """A person whose processing is restricted (GDPR art. 18): since when and why."""

    person_id: int
    since: datetime
    reason: str


# Restricted processing: ``source(*, person_ids: set[int]) ->
# dict[int, ProcessingRestriction]`` gives those of the people whose
# processing is restricted now, in one query. The participants app registers
# the one source (``participants.restriction``); the write path
# (``records.record_save``) and the banner ask through
# ``processing_restrictions`` without importing it.
processing_restriction_sources: Registry = Registry()


def processing_restrictions(person_ids) -> dict[int, ProcessingRestriction]:
    """By person id, the restrictions of those of ``person_ids`` (Nones are
    ignored) whose processing is restricted; no query for no people."""
    ids = {pk for pk in person_ids if pk is not None}
    found: dict[int, ProcessingRestriction] = {}
    if ids:
        for source in processing_restriction_sources:
            found.update(source(person_ids=ids))
    return found


def caseload_of(readers: dict) -> dict[int, set[int]]:
    """By user id, the people among each reader's person ids (``readers``:
    user -> ids) in that reader's caseload; a user no registered check has an
    opinion about is absent (then nothing of theirs is flagged)."""
    own: dict[int, set[int]] = {}
    for check in caseload_checks:
        for user_id, ids in check(readers=readers).items():
            own.setdefault(user_id, set()).update(ids)
    return own


def person_names(person_ids) -> dict[int, str]:
    """By id, the names of the people among ``person_ids`` (as the registered
    namers give them; none without one)."""
    ids = set(person_ids)
    names: dict[int, str] = {}
    for namer in person_namers:
        names.update(namer(person_ids=ids))
    return names


def protected_among(person_ids) -> set[int]:
    """The people among ``person_ids`` with protected identity (as the
    registered checks say; none without one)."""
    ids = set(person_ids)
    found: set[int] = set()
    for check in protected_checks:
        found.update(check(person_ids=ids))
    return found


@dataclass(frozen=True)
class StartPageBlock:
    """A block on the start page, e.g. the consents that run out soon."""

    key: str
    order: int
    template: str
    # context(*, user) -> dict, in a fixed number of queries; returns None
    # when the block is not for the user's role.
    context: Callable[..., dict[str, Any] | None]


start_page_blocks: Registry = Registry()


def start_page(*, user) -> list[dict]:
    """The registered blocks the user's start page shows, in order."""
    blocks = []
    for block in sorted(start_page_blocks, key=lambda b: b.order):
        block_context = block.context(user=user)
        if block_context is not None:
            blocks.append({"template": block.template, "context": block_context})
    return blocks


@dataclass(frozen=True)
class QueueItem:
    """One work-queue card on the start page: a count and the link to the
    list filtered to exactly those rows."""

    key: str
    order: int
    title: str
    count: int
    explanation: str
    url: str
    link_text: str
    # A figure shown instead of the count (e.g. "83 %"), and a line under it
    # (e.g. "oldest waits 12 days").
    figure: str = ""
    detail: str = ""
    # Needs attention now: the card says so in words too, never by colour alone.
    alert: bool = False
    # "up", "down" or "flat" against an earlier reading; "" for none.
    trend: str = ""
    trend_text: str = ""


# A queue source gives the user's work-queue items:
#   source(*, user, today) -> list[QueueItem]
# in a number of queries that does not depend on the data (aggregates, not
# rows); an empty list for a role it has nothing for. Each item is only given
# to a role that may open its link, and counts only the rows that list shows
# that user.
start_page_queues: Registry = Registry()


def start_page_queue(*, user, today=None) -> list[QueueItem]:
    """The registered work-queue items for the user, in order."""
    today = today or timezone.localdate()
    items: list[QueueItem] = []
    for source in start_page_queues:
        items.extend(source(user=user, today=today))
    return sorted(items, key=lambda item: (item.order, item.key))


@dataclass(frozen=True)
class BoardSection:
    """A section a higher app adds to the board report (the PDF a unit
    manager orders from the dashboard), e.g. the team's fidelity score beside
    retention: a lead sentence and one table. It is stored with the report's
    figures, so every value is JSON-safe (text, numbers, None; dates as ISO
    text) and aggregate: nothing about a person, so it outlives culling."""

    key: str
    order: int
    title: str
    lead: str
    # (heading, kind): the report's cell kinds, "text", "int" or "rate" (a
    # fraction shown as per cent).
    columns: list[tuple[str, str]]
    rows: list[list[Any]]
    caption: str = ""


# A board source gives its section of the board report for a reference date:
#   source(*, as_of: date) -> BoardSection | None
# in a fixed number of queries, with what the report's reader (a unit
# manager) may see; None when it has nothing to add. The fidelity app
# registers the team's latest self-assessment.
board_report_sources: Registry = Registry()


def board_report_sections(*, as_of: date) -> list[BoardSection]:
    """The registered sections of the board report on ``as_of``, in order."""
    sections = [s for s in (source(as_of=as_of) for source in board_report_sources) if s]
    return sorted(sections, key=lambda s: (s.order, s.key))
