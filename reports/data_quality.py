"""The data-quality report for the unit manager: rules that find records
needing correction, each a count and a list of exactly the counted rows.

**A rule** is defined once, in ``RULES``: the model it checks, the rows it
applies to (``applies``: "checked rows") and the condition a row breaks
(``breaks``: "flagged rows"), both as ``Q`` objects over that model. The
count (``evaluate``, one aggregate query per rule whatever the data size)
and the list (``flagged_rows``, the page ``reports:data-quality-rule``)
filter the same scoped queryset with the same two conditions, so the list
shows exactly the rows counted.

**Scope.** On a page, a rule sees the rows the user's own selector gives
(``participant_list``, ``plan_queryset``, ``visit_queryset``,
``referral_list``, ``placement_queryset``); the daily snapshot sees every
row. People culled (anonymised) are left out: their records cannot be fixed.

**Score.** ``100 × (1 − flagged rows / checked rows)``, summed over all
rules: the share of checked rows that break no rule, so a rule weighs by the
number of rows it checks (a team's visits outnumber its plans). No checked
rows: no score. ``snapshot_today`` stores it once a day (Celery beat,
``reports.data_quality_snapshot``); running it again the same day replaces
that day's row, never adds one.

**Left to the database.** Some faults the issue names cannot happen, so
they are not counted (``DATABASE_ENFORCED`` lists them on the page):
a tenancy's move-in date is a NOT NULL column; a move-out without an exit
reason (or the reverse) is refused by the check constraint
``tenancy_exit_reason_iff_moved_out``; two overlapping tenancies of one
person or one apartment are refused by ``Tenancy.clean`` on every write
path and, on PostgreSQL, by the exclusion constraints of
``housing/migrations/0003``. Crisis placements of one person may overlap:
only an open placement is unique per person in the database, the overlap
check is in the placement service alone, and a placement changed in the
admin is not checked against the others; the rule ``placement_overlap``
counts them. (A crisis placement during a tenancy is not a fault: the
tenancy goes on while the person stays at the crisis place.)
"""

from __future__ import annotations

import datetime
from collections.abc import Callable
from dataclasses import dataclass

from django.db.models import Count, Exists, OuterRef, Q, QuerySet
from django.urls import reverse
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from housing.models import Tenancy
from participants import selectors as participant_selectors
from participants.models import Participant, ParticipantStatus, Referral
from participants.selectors import OPEN_REFERRAL_STATUSES
from support import selectors as support_selectors
from support.models import ActionPlan, CrisisPlacement, Goal, SupportVisit

from .models import DataQualitySnapshot

# How long a fault may wait before a rule counts it.
PLAN_WITHIN_DAYS = 30
NOTE_WITHIN = datetime.timedelta(hours=24)
REFERRAL_DECIDED_WITHIN_DAYS = 60


@dataclass(frozen=True)
class Rule:
    """One data-quality rule (see the module docstring)."""

    name: str
    label: Promise
    explanation: Promise
    model: type
    # The user's scoped queryset with what the list shows loaded; all rows
    # for ``user=None`` (the daily snapshot).
    rows: Callable[..., QuerySet]
    # Rows the rule applies to, and the condition a row of them breaks, at ``now``.
    applies: Callable[[datetime.datetime], Q]
    breaks: Callable[[datetime.datetime], Q]
    # The URL name of a row's own page, where it is corrected.
    detail: str
    # How a row is named in the list (its ``str`` unless given).
    describe: Callable[[object], str] = str

    def url(self) -> str:
        return reverse("reports:data-quality-rule", kwargs={"rule": self.name})

    def scoped(self, user) -> QuerySet:
        if user is None:
            return self.model._default_manager.all()
        return self.rows(user=user)


def _today(now: datetime.datetime) -> datetime.date:
    return timezone.localdate(now)


# --- The rules -------------------------------------------------------------------


def _housed_applies(now) -> Q:
    """Housed now, first moved in at least PLAN_WITHIN_DAYS days ago."""
    since = _today(now) - datetime.timedelta(days=PLAN_WITHIN_DAYS)
    moved_in = Tenancy.objects.filter(participant=OuterRef("pk"), move_in__lte=since)
    return Q(status=ParticipantStatus.HOUSED, anonymised_at__isnull=True) & Q(Exists(moved_in))


def _housed_breaks(now) -> Q:
    return ~Q(Exists(ActionPlan.objects.filter(participant=OuterRef("pk"))))


def _plan_applies(now) -> Q:
    """A person's current plan (earlier versions are never changed)."""
    newer = ActionPlan.objects.filter(
        participant=OuterRef("participant"), number__gt=OuterRef("number")
    )
    return Q(participant__anonymised_at__isnull=True) & ~Q(Exists(newer))


def _plan_breaks(now) -> Q:
    return ~Q(Exists(Goal.objects.filter(plan=OuterRef("pk"))))


def _visit_applies(now) -> Q:
    return Q(started_at__lte=now - NOTE_WITHIN, participant__anonymised_at__isnull=True)


def _visit_breaks(now) -> Q:
    """An empty note (a blank one is stored empty: ``SupportVisit.clean``),
    not made good by a correction.

    ``note = ''`` matches the partial index ``visit_without_note``, so the
    flagged count reads only those rows, not the million visits at N = 10,000
    (the start page's card counts only flagged rows). ``NOT IN`` the
    corrected visits' ids, not ``NOT EXISTS`` a correction: PostgreSQL hashes
    the few corrected ids once, where the correlated subquery was costed per
    visit and pushed the count past the JIT threshold."""
    corrected = SupportVisit.objects.filter(corrects__isnull=False).values("corrects")
    return Q(note="") & ~Q(pk__in=corrected)


def _visit_name(visit: SupportVisit) -> str:
    """The visit's kind and local time (its ``str`` shows the stored UTC time)."""
    return f"{visit.get_kind_display()} {timezone.localtime(visit.started_at):%Y-%m-%d %H:%M}"


def _referral_applies(now) -> Q:
    return Q(status__in=OPEN_REFERRAL_STATUSES)


def _referral_breaks(now) -> Q:
    return Q(referral_date__lte=_today(now) - datetime.timedelta(days=REFERRAL_DECIDED_WITHIN_DAYS))


def _placement_applies(now) -> Q:
    return Q(participant__anonymised_at__isnull=True)


def _placement_breaks(now) -> Q:
    """Another placement of the same person whose [start, end) meets this
    one's (an open end: still going on), as the placement service decides."""
    others = (
        CrisisPlacement.objects.filter(participant=OuterRef("participant"))
        .exclude(pk=OuterRef("pk"))
        .exclude(end__isnull=False, end__lte=OuterRef("start"))
    )
    # The other must also start before this one ends, when it has an end.
    return (Q(end__isnull=True) & Q(Exists(others))) | (
        Q(end__isnull=False) & Q(Exists(others.filter(start__lt=OuterRef("end"))))
    )


def _personnummer_applies(now) -> Q:
    """People entered by hand or by a referral: an imported person
    (``external_ref``) may come from a spreadsheet without one."""
    return Q(anonymised_at__isnull=True, external_ref__isnull=True)


def _personnummer_breaks(now) -> Q:
    return Q(personnummer__isnull=True) | Q(personnummer="")


def _participants(*, user) -> QuerySet:
    return participant_selectors.participant_list(user=user)


def _plans(*, user) -> QuerySet:
    return support_selectors.plan_queryset(user=user).order_by("participant", "-number")


def _visits(*, user) -> QuerySet:
    return support_selectors.visit_queryset(user=user).order_by("started_at", "pk")


def _referrals(*, user) -> QuerySet:
    return participant_selectors.referral_list(user=user).order_by("referral_date", "pk")


def _placements(*, user) -> QuerySet:
    return support_selectors.placement_queryset(user=user).order_by("participant", "start", "pk")


RULES: list[Rule] = [
    Rule(
        name="housed-without-plan",
        label=_("Housed without an action plan"),
        explanation=_(
            "Tenants housed for more than 30 days who have no action plan. Write the plan "
            "with the tenant."
        ),
        model=Participant,
        detail="participants:participant-detail",
        rows=_participants,
        applies=_housed_applies,
        breaks=_housed_breaks,
    ),
    Rule(
        name="plan-without-goals",
        label=_("Action plans without goals"),
        explanation=_(
            "Current action plans with no goal. Revise the plan and add the tenant's goals."
        ),
        model=ActionPlan,
        detail="support:plan-detail",
        rows=_plans,
        applies=_plan_applies,
        breaks=_plan_breaks,
    ),
    Rule(
        name="visit-without-note",
        label=_("Visits without a journal note"),
        explanation=_(
            "Visits more than 24 hours ago with an empty journal note and no correction. "
            "The entry is locked: write a correction with the note."
        ),
        model=SupportVisit,
        detail="support:visit-detail",
        rows=_visits,
        applies=_visit_applies,
        breaks=_visit_breaks,
        describe=_visit_name,
    ),
    Rule(
        name="referral-open-too-long",
        label=_("Referrals undecided for more than 60 days"),
        explanation=_(
            "Referrals still submitted or under assessment 60 days after the referral date. "
            "Decide them or record why they wait."
        ),
        model=Referral,
        detail="participants:referral-detail",
        rows=_referrals,
        applies=_referral_applies,
        breaks=_referral_breaks,
    ),
    Rule(
        name="placement-overlap",
        label=_("Overlapping crisis placements"),
        explanation=_(
            "Crisis placements of one person that overlap another of their placements: "
            "the person would be in two places at once. Correct the start or end dates."
        ),
        model=CrisisPlacement,
        detail="support:placement-detail",
        rows=_placements,
        applies=_placement_applies,
        breaks=_placement_breaks,
    ),
    Rule(
        name="personnummer-missing",
        label=_("Personal identity number missing"),
        explanation=_(
            "Participants without a personal identity number who were not imported from a "
            "spreadsheet. Add the number on the participant's page."
        ),
        model=Participant,
        detail="participants:participant-detail",
        rows=_participants,
        applies=_personnummer_applies,
        breaks=_personnummer_breaks,
    ),
]

RULES_BY_NAME: dict[str, Rule] = {rule.name: rule for rule in RULES}

# Faults the database itself refuses (see the module docstring): shown on
# the page so that the manager knows they were considered.
DATABASE_ENFORCED = [
    _("Tenancies without a move-in date: the database requires the date."),
    _(
        "Tenancies with a move-out date but no exit reason: the database refuses them "
        "(and an exit reason without a move-out date)."
    ),
    _(
        "Overlapping tenancies of one person or one apartment: refused when saved, and by "
        "the database on PostgreSQL."
    ),
]


# --- Counting and listing ----------------------------------------------------------


@dataclass(frozen=True)
class Result:
    rule: Rule
    checked: int | None
    flagged: int


def evaluate(
    *, user=None, now: datetime.datetime | None = None, checked: bool = True
) -> list[Result]:
    """Each rule's checked and flagged rows: one aggregate query per rule.

    With a ``user``, the rows of their scope (what the rule's list shows
    them); without, every row (the daily snapshot). Without ``checked`` only
    the flagged rows are counted (``checked`` is None): the start page's
    card, which must not read every visit to say how many lack a note.
    """
    now = now or timezone.now()
    results = []
    for rule in RULES:
        qs = rule.model._default_manager.filter(rule.applies(now))
        if user is not None:
            rows = rule.rows(user=user)
            if not _every_row(rows, rule.model):
                qs = qs.filter(pk__in=rows.values("pk"))
        if checked:
            counts = qs.aggregate(checked=Count("pk"), flagged=Count("pk", filter=rule.breaks(now)))
        else:
            counts = {"checked": None, "flagged": qs.filter(rule.breaks(now)).count()}
        results.append(Result(rule=rule, checked=counts["checked"], flagged=counts["flagged"]))
    return results


def _every_row(rows: QuerySet, model) -> bool:
    """Whether ``rows`` (a user's scope) is every row of ``model``: no
    condition, slice or distinct. Then the scope is left out of the count: as
    a ``pk IN (...)`` over an annotated list (the visits' correction count) it
    made PostgreSQL group a million visits for the manager's start page
    (2.2 s at 10,000 people)."""
    query = rows.query
    return (
        rows.model is model
        and not query.where
        and not query.is_sliced
        and not query.distinct
        and not query.combinator
    )


def flagged_rows(rule: Rule, *, user, now: datetime.datetime | None = None) -> QuerySet:
    """The rows ``rule`` counts for ``user``, with what their list shows loaded."""
    now = now or timezone.now()
    return rule.rows(user=user).filter(rule.applies(now)).filter(rule.breaks(now))


def score(results: list[Result]) -> float | None:
    """The share of checked rows that break no rule (0–1), None when none were checked."""
    checked = sum(r.checked for r in results)
    flagged = sum(r.flagged for r in results)
    return 1 - flagged / checked if checked else None


def snapshot_today(*, now: datetime.datetime | None = None) -> DataQualitySnapshot:
    """Store today's counts over every row; again the same day, replace them."""
    now = now or timezone.now()
    results = evaluate(now=now)
    snapshot, _created = DataQualitySnapshot.objects.update_or_create(
        day=_today(now),
        defaults={
            "checked": sum(r.checked for r in results),
            "flagged": sum(r.flagged for r in results),
            "counts": {r.rule.name: [r.checked, r.flagged] for r in results},
        },
    )
    return snapshot
