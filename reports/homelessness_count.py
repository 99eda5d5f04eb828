"""Socialstyrelsen's homelessness count: every participant's situation in one ISO week.

Socialstyrelsen counts homelessness in four situations during one week
(week 14 in 2017 and 2023). ``week_situation`` is the one rule for the
situation a person was in during a week; everything else here loads the rows
it needs and turns its answers into the anonymous survey rows and the counts.

**Who is in the count.** A person is in the programme on a day ``d`` of the
week when their first referral (one not waiting for the team to confirm a
match to a known person) or their first tenancy (people from a cohort import
have no referral) is dated on or before ``d``, and their case was not closed
on or before ``d`` (``closed_on`` is the first day outside the programme, as
a tenancy's move-out day is the first day outside the home). People referred
after the week and people who left before it have no such day and are not in
the count; a person who died leaves on their move-out day.

**The situation on one day** of the programme:

* a Housing First tenancy that day (``move_in <= d < move_out``):
  a first-hand contract, or a social contract taken over on or before ``d``
  → not homeless; a social contract (the municipality holds it and sublets
  it) → situation 3, long-term housing arranged by social services;
* no tenancy, but a stay at a crisis place (sviktplats/akutplats) → situation
  1, acute homelessness: without a home of their own the person is in
  emergency accommodation. A stay while the tenancy goes on changes nothing:
  the person keeps the home and moves back (DESIGN.md), so the tenancy decides;
* no tenancy and no stay: the latest referral dated on or before ``d`` gives
  the situation (and situation 4's kind of arrangement), unless a tenancy
  ended after that referral: then ``moved_on`` (other permanent housing) →
  not homeless, and any other exit → unknown (the system does not record
  where the person went: the manager has to check);
* nothing at all → unknown.

**The situation in the week**: Socialstyrelsen counts everyone who was in one
of the four situations at some time during the week. A person with a day in
situation 1–4 is counted in the situation of the latest such day (a person
moving from a shelter into a social-contract flat on Wednesday counts in 3; one
taking over their contract on Wednesday still counts in 3); else a person with
an unknown day is "unknown"; else "not homeless".

**Homeless since**: the referral's "in this situation since", but not before
the end of the latest tenancy in which the person was not homeless (a
first-hand contract, or a social contract after its takeover) that ended on or
before the day counted; after such a tenancy, without a later date from a
referral, the move-out day. Situation 3 counts as homelessness (Socialstyrelsen's
definition), so a social-contract tenancy does not end the spell.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta

from dateutil.relativedelta import relativedelta
from django.db.models import Prefetch, Q
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from housing.models import ContractType, ExitReason, Tenancy
from participants.models import (
    HousingSituation,
    MatchStatus,
    Participant,
    Referral,
    SupportNeed,
    TemporaryArrangement,
)
from participants.personnummer import birth_date, legal_sex
from support.models import CrisisPlacement

# Socialstyrelsen's survey week (2017 and 2023: week 14, early April).
SURVEY_WEEK = 14

UNKNOWN = "unknown"
HOMELESS = (
    HousingSituation.ACUTE,
    HousingSituation.INSTITUTION,
    HousingSituation.SOCIAL_SOLUTION,
    HousingSituation.SHORT_TERM_OWN,
)
# Order of the rows and the summary: the four situations, unknown, not homeless.
ORDER = (*HOMELESS, UNKNOWN, HousingSituation.NOT_HOMELESS)
SITUATION_NUMBER = {situation: index for index, situation in enumerate(HOMELESS, start=1)}

# What a day's situation was read from.
BASIS_REFERRAL = "referral"
BASIS_SOCIAL_CONTRACT = "social_contract"
BASIS_FIRST_HAND = "first_hand"
BASIS_TAKEOVER = "takeover"
BASIS_CRISIS_PLACE = "crisis_place"
BASIS_EXIT = "exit"
BASIS_NONE = "none"
BASIS_LABELS = {
    BASIS_REFERRAL: gettext_lazy("Referral"),
    BASIS_SOCIAL_CONTRACT: gettext_lazy("Social contract in the programme"),
    BASIS_FIRST_HAND: gettext_lazy("First-hand contract in the programme"),
    BASIS_TAKEOVER: gettext_lazy("Social contract taken over"),
    BASIS_CRISIS_PLACE: gettext_lazy("Crisis place without a tenancy"),
    BASIS_EXIT: gettext_lazy("Tenancy ended"),
    BASIS_NONE: gettext_lazy("No information"),
}

WEEK_PATTERN = re.compile(r"^\s*(\d{4})\s*-?\s*[wW]?\s*(\d{1,2})\s*$")


@dataclass(frozen=True, order=True)
class IsoWeek:
    """An ISO 8601 week (Monday to Sunday), e.g. 2026-W14."""

    year: int
    week: int

    @classmethod
    def of(cls, day: date) -> IsoWeek:
        year, week, _weekday = day.isocalendar()
        return cls(year, week)

    @classmethod
    def parse(cls, text: str) -> IsoWeek | None:
        """``2026-W14`` (the week input's value), ``2026W14`` or ``2026-14``;
        None for anything else or a week the year does not have."""
        match = WEEK_PATTERN.match(text or "")
        if match is None:
            return None
        return cls.checked(int(match[1]), int(match[2]))

    @classmethod
    def checked(cls, year: int, week: int) -> IsoWeek | None:
        """The week, or None when ``year`` has no week ``week`` (53 only in some years)."""
        if not 1900 <= year <= 9998 or not 1 <= week <= 53:
            return None
        try:
            date.fromisocalendar(year, week, 1)
        except ValueError:
            return None
        return cls(year, week)

    @property
    def first_day(self) -> date:
        return date.fromisocalendar(self.year, self.week, 1)

    @property
    def last_day(self) -> date:
        return date.fromisocalendar(self.year, self.week, 7)

    @property
    def days(self) -> list[date]:
        return [self.first_day + timedelta(days=n) for n in range(7)]

    @property
    def label(self) -> str:
        return f"{self.year}-W{self.week:02d}"

    def __str__(self) -> str:
        return self.label


def default_week(today: date) -> IsoWeek:
    """The current or latest survey week: week ``SURVEY_WEEK`` of this year
    once it has begun, else last year's."""
    this_year = IsoWeek(today.isocalendar()[0], SURVEY_WEEK)
    if this_year.first_day <= today:
        return this_year
    return IsoWeek(this_year.year - 1, SURVEY_WEEK)


@dataclass(frozen=True)
class WeekSituation:
    """A person's situation in a week, as ``week_situation`` answers it."""

    situation: str  # a HousingSituation value or UNKNOWN
    day: date  # the day of the week the situation describes
    basis: str  # BASIS_*: what it was read from
    arrangement: str = ""  # situation 4's kind (TemporaryArrangement), from a referral
    homeless_since: date | None = None
    at_crisis_place: bool = False  # at a crisis place on some day of the week

    @property
    def is_homeless(self) -> bool:
        return self.situation in HOMELESS


@dataclass(frozen=True)
class _Day:
    situation: str
    basis: str
    referral: Referral | None = None


def _active(start: date, end: date | None, day: date) -> bool:
    """``day`` in the half-open period [start, end)."""
    return start <= day and (end is None or day < end)


def _day(
    day: date,
    referrals: Sequence[Referral],
    tenancies: Sequence[Tenancy],
    placements: Sequence[CrisisPlacement],
) -> _Day | None:
    """The situation on ``day``; None when the person is not alive that day
    (a tenancy ended by death and the case not closed)."""
    current = [t for t in tenancies if _active(t.move_in, t.move_out, day)]
    if current:
        tenancy = max(current, key=lambda t: (t.move_in, t.pk or 0))
        if tenancy.contract_type != ContractType.SOCIAL:
            return _Day(HousingSituation.NOT_HOMELESS, BASIS_FIRST_HAND)
        if tenancy.takeover is not None and tenancy.takeover <= day:
            return _Day(HousingSituation.NOT_HOMELESS, BASIS_TAKEOVER)
        return _Day(HousingSituation.SOCIAL_SOLUTION, BASIS_SOCIAL_CONTRACT)
    if any(_active(p.start, p.end, day) for p in placements):
        return _Day(HousingSituation.ACUTE, BASIS_CRISIS_PLACE)
    referral = max(
        (r for r in referrals if r.referral_date <= day),
        key=lambda r: (r.referral_date, r.pk or 0),
        default=None,
    )
    ended = max(
        (t for t in tenancies if t.move_out is not None and t.move_out <= day),
        key=lambda t: (t.move_out, t.pk or 0),
        default=None,
    )
    if ended is not None and (referral is None or referral.referral_date < ended.move_out):
        if ended.exit_reason == ExitReason.DECEASED:
            return None
        if ended.exit_reason == ExitReason.MOVED_ON:
            return _Day(HousingSituation.NOT_HOMELESS, BASIS_EXIT)
        return _Day(UNKNOWN, BASIS_EXIT)
    if referral is not None:
        return _Day(referral.housing_situation, BASIS_REFERRAL, referral)
    return _Day(UNKNOWN, BASIS_NONE)


def _homeless_since(
    day: date, referrals: Sequence[Referral], tenancies: Sequence[Tenancy]
) -> date | None:
    """When the homelessness counted on ``day`` began (module docstring)."""
    housed_until = max(
        (
            t.move_out
            for t in tenancies
            if t.move_out is not None
            and t.move_out <= day
            and (t.contract_type != ContractType.SOCIAL or t.takeover is not None)
        ),
        default=None,
    )
    referral = max(
        (r for r in referrals if r.referral_date <= day and r.housing_situation in HOMELESS),
        key=lambda r: (r.referral_date, r.pk or 0),
        default=None,
    )
    since = referral.situation_since if referral is not None else None
    if housed_until is None:
        return since
    if since is not None:
        return max(since, housed_until)
    if referral is None or referral.referral_date < housed_until:
        return housed_until
    return None


def week_situation(
    *,
    week: IsoWeek,
    referrals: Sequence[Referral],
    tenancies: Sequence[Tenancy],
    placements: Sequence[CrisisPlacement],
    closed_on: date | None,
) -> WeekSituation | None:
    """The person's situation during ``week`` by Socialstyrelsen's four
    situations (the rule in the module docstring), or None when they were
    not in the programme on any day of it.

    ``referrals``: the person's referrals, without those waiting for a match
    to be confirmed; ``tenancies`` and ``placements``: their Housing First
    tenancies and crisis-place stays; ``closed_on``: the day their case was
    closed, if it was.
    """
    starts = [r.referral_date for r in referrals] + [t.move_in for t in tenancies]
    if not starts:
        return None
    entry = min(starts)
    days: list[tuple[date, _Day]] = []
    for day in week.days:
        if day < entry or (closed_on is not None and day >= closed_on):
            continue
        found = _day(day, referrals, tenancies, placements)
        if found is not None:
            days.append((day, found))
    if not days:
        return None
    homeless = [(d, s) for d, s in days if s.situation in HOMELESS]
    unknown = [(d, s) for d, s in days if s.situation == UNKNOWN]
    day, chosen = (homeless or unknown or days)[-1]
    in_week = {d for d, _s in days}
    at_crisis_place = any(any(_active(p.start, p.end, d) for p in placements) for d in in_week)
    arrangement = ""
    if chosen.situation == HousingSituation.SHORT_TERM_OWN and chosen.referral is not None:
        arrangement = chosen.referral.temporary_arrangement
    return WeekSituation(
        situation=chosen.situation,
        day=day,
        basis=chosen.basis,
        arrangement=arrangement,
        homeless_since=(
            _homeless_since(day, referrals, tenancies) if chosen.situation in HOMELESS else None
        ),
        at_crisis_place=at_crisis_place,
    )


# --- The survey rows ------------------------------------------------------------

AGE_GROUPS = ((0, 17), (18, 24), (25, 34), (35, 44), (45, 54), (55, 64), (65, None))
# Upper bounds (exclusive, in months) of the time-in-homelessness groups.
DURATION_GROUPS = (
    (3, gettext_lazy("Less than 3 months")),
    (6, gettext_lazy("3 to 6 months")),
    (12, gettext_lazy("6 to 12 months")),
    (36, gettext_lazy("1 to 3 years")),
    (120, gettext_lazy("3 to 10 years")),
    (None, gettext_lazy("More than 10 years")),
)


def age_group(born: date | None, on: date) -> str:
    if born is None:
        return _("Not known")
    age = relativedelta(on, born).years
    for low, high in AGE_GROUPS:
        if high is None:
            return _("%(low)s or older") % {"low": low}
        if low <= age <= high:
            return f"{low}\u2013{high}"
    return _("Not known")


def duration_group(months: int | None) -> str:
    if months is None:
        return _("Not known")
    for bound, label in DURATION_GROUPS:
        if bound is None or months < bound:
            return str(label)
    return _("Not known")


def situation_label(situation: str) -> str:
    if situation == UNKNOWN:
        return _("Unknown: check the person's tenancies and referral")
    return str(HousingSituation(situation).label)


@dataclass(frozen=True)
class CountRow:
    """One person in the count, without anything that names them."""

    situation: str
    basis: str
    arrangement: str
    at_crisis_place: bool
    sex: str  # "female", "male" or ""
    birth_year: int | None  # None for people with protected identity
    age_group: str
    months_homeless: int | None  # None for people with protected identity
    duration_group: str
    children: bool
    addiction: bool | None
    mental_illness: bool | None
    protected: bool
    # Only to break ties in the order; never written out.
    sort_key: int


@dataclass
class CountResult:
    week: IsoWeek
    rows: list[CountRow]

    def counts(self) -> dict[str, Counter]:
        """Per situation (and ``"homeless"`` for 1–4, ``"all"``): the count by sex."""
        out: dict[str, Counter] = {key: Counter() for key in (*ORDER, "homeless", "all")}
        for row in self.rows:
            for key in (row.situation, "all", *(["homeless"] if row.situation in HOMELESS else [])):
                out[key][row.sex] += 1
                out[key]["total"] += 1
        return out


def _participants(week: IsoWeek) -> Iterable[Participant]:
    """Everyone who could be in the programme during ``week``, with the rows
    the rule reads: four queries whatever the number of people."""
    first, last = week.first_day, week.last_day
    referrals = Referral.objects.exclude(match=MatchStatus.PENDING).filter(referral_date__lte=last)
    tenancies = Tenancy.objects.filter(move_in__lte=last)
    return (
        Participant.objects.filter(
            Q(pk__in=referrals.values("participant")) | Q(pk__in=tenancies.values("participant"))
        )
        .exclude(closed_on__lte=first)
        .prefetch_related(
            Prefetch("referrals", queryset=referrals.order_by("referral_date", "pk")),
            Prefetch("tenancies", queryset=tenancies.order_by("move_in", "pk")),
            Prefetch(
                "crisis_placements",
                queryset=CrisisPlacement.objects.filter(start__lte=last).order_by("start", "pk"),
            ),
        )
        .order_by("pk")
    )


def homelessness_count(*, week: IsoWeek) -> CountResult:
    """Every participant in the programme during ``week`` with their situation,
    as anonymous rows ordered by situation, age group, sex and birth year (the
    order says nothing of who is who; ``sort_key`` only breaks ties)."""
    rows = []
    for person in _participants(week):
        referrals = list(person.referrals.all())
        found = week_situation(
            week=week,
            referrals=referrals,
            tenancies=list(person.tenancies.all()),
            placements=list(person.crisis_placements.all()),
            closed_on=person.closed_on,
        )
        if found is None:
            continue
        rows.append(_row(person, referrals, found, week))
    rows.sort(
        key=lambda r: (
            ORDER.index(r.situation) if r.situation in ORDER else len(ORDER),
            AGE_SORT.get(r.age_group, len(AGE_SORT)),
            r.sex or "~",
            r.birth_year or 9999,
            r.sort_key,
        )
    )
    return CountResult(week=week, rows=rows)


def _age_sort() -> dict[str, int]:
    return {f"{low}\u2013{high}": index for index, (low, high) in enumerate(AGE_GROUPS) if high}


AGE_SORT = _age_sort()


def _row(
    person: Participant, referrals: list[Referral], found: WeekSituation, week: IsoWeek
) -> CountRow:
    born = birth_date(person.personnummer) if person.personnummer else None
    months = None
    if found.homeless_since is not None:
        delta = relativedelta(found.day, found.homeless_since)
        months = delta.years * 12 + delta.months
    need = referrals[-1].support_need if referrals else None
    protected = person.is_protected
    return CountRow(
        situation=found.situation,
        basis=found.basis,
        arrangement=found.arrangement,
        at_crisis_place=found.at_crisis_place,
        sex=legal_sex(person.personnummer) if person.personnummer else "",
        birth_year=None if protected or born is None else born.year,
        age_group=age_group(born, week.last_day),
        months_homeless=None if protected else months,
        duration_group=duration_group(months) if found.is_homeless else "",
        children=person.children_in_household > 0,
        addiction=None if need is None else need in (SupportNeed.ADDICTION, SupportNeed.BOTH),
        mental_illness=(
            None if need is None else need in (SupportNeed.MENTAL_ILLNESS, SupportNeed.BOTH)
        ),
        protected=protected,
        sort_key=person.pk,
    )


# --- As a workbook ----------------------------------------------------------------


def _yes_no(value: bool | None) -> str:
    if value is None:
        return ""
    return _("Yes") if value else _("No")


def sex_label(sex: str) -> str:
    return {"female": _("Woman"), "male": _("Man")}.get(sex, _("Not known"))


def row_header() -> list[str]:
    return [
        _("Row"),
        _("Week"),
        _("Situation (1–4)"),
        _("Housing situation"),
        _("Kind of short-term arrangement (situation 4)"),
        _("Read from"),
        _("At a crisis place during the week"),
        _("Legal sex (from the personal identity number)"),
        _("Year of birth"),
        _("Age group"),
        _("Time in homelessness"),
        _("Months in homelessness"),
        _("Children in the household"),
        _("Addiction or dependence"),
        _("Mental illness"),
    ]


def row_cells(result: CountResult) -> Iterable[list]:
    for number, row in enumerate(result.rows, start=1):
        yield [
            number,
            result.week.label,
            SITUATION_NUMBER.get(row.situation),
            situation_label(row.situation),
            str(TemporaryArrangement(row.arrangement).label) if row.arrangement else "",
            str(BASIS_LABELS[row.basis]),
            _yes_no(row.at_crisis_place),
            sex_label(row.sex),
            row.birth_year,
            row.age_group,
            row.duration_group,
            row.months_homeless,
            _yes_no(row.children),
            _yes_no(row.addiction),
            _yes_no(row.mental_illness),
        ]


def summary_header() -> list[str]:
    return [_("Housing situation"), _("Number of people"), _("Women"), _("Men"), _("Sex not known")]


def summary_rows(result: CountResult, *, made_at=None) -> list[list]:
    """The counts per situation, then what the export covers (dates as dates)."""
    counts = result.counts()

    def line(label: str, key: str) -> list:
        c = counts[key]
        return [label, c["total"], c["female"], c["male"], c[""]]

    rows = [line(situation_label(s), s) for s in HOMELESS]
    rows.append(line(_("Homeless by Socialstyrelsen's definition (situations 1–4)"), "homeless"))
    rows.append(line(situation_label(UNKNOWN), UNKNOWN))
    rows.append(line(str(HousingSituation.NOT_HOMELESS.label), HousingSituation.NOT_HOMELESS))
    rows.append(line(_("Everyone in the programme during the week"), "all"))
    rows.append([])
    rows.append([_("Week"), result.week.label])
    rows.append([_("First day"), result.week.first_day])
    rows.append([_("Last day"), result.week.last_day])
    if made_at is not None:
        rows.append([_("Exported"), made_at])
    return rows
