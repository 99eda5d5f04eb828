"""Housing retention ("kvarboende"), exactly as defined in DESIGN.md.

Inputs: a reference date D and a horizon of N months (0 = none).

* A participant's **first move-in** is the earliest ``move_in`` of any of their
  tenancies; the **first tenancy** is that tenancy (ties: the lowest id).
* **Cohort**: without a horizon, everyone whose first move-in is on or before D,
  read on R = D. With a horizon, everyone whose first move-in + N calendar
  months (``relativedelta``: 31 Jan + 1 month = 28/29 Feb) is on or before D,
  each read on their own R = first move-in + N months.
* **Status on R** comes from the latest tenancy started on or before R (ties:
  the highest id). Active on R (``move_in <= R`` and no move-out or
  ``move_out > R``) → housed; else by exit reason: ``moved_on`` → moved on,
  ``other_hf_apartment`` → housed, ``deceased`` → deceased, anything else → lost.
* **Rates**: (housed + moved on) / (cohort − deceased), and (housed + moved on)
  / cohort; no denominator → ``None``.
* **Takeover share**: members who took over a social contract on or before R /
  members with a social-contract tenancy started on or before R.

How it is computed: a fixed number of queries (the tenancy rows with their
landlord, the landlord names, the target-group links), then one pass in Python
over the rows, O(rows). The rows are loaded once into ``RetentionData`` so that
the dashboard's quarterly trend and survival curve reuse them without another
query. Measured in ``benchmarks/retention.py``: the pass costs a small multiple
of merely reading the rows, which an SQL formulation (window functions per
reading day) did not beat on SQLite.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date
from fractions import Fraction
from typing import Any

from dateutil.relativedelta import relativedelta
from django.conf import settings

from housing.models import ContractType, ExitReason, Landlord, Tenancy
from participants.models import Participant

HOUSED = "housed"
MOVED_ON = "moved_on"
LOST = "lost"
DECEASED = "deceased"
STATUSES = (HOUSED, MOVED_ON, LOST, DECEASED)

# Exit reasons that do not count as lost (DESIGN.md, step 3).
_EXIT_STATUS = {
    ExitReason.MOVED_ON.value: MOVED_ON,
    ExitReason.OTHER_HF_APARTMENT.value: HOUSED,
    ExitReason.DECEASED.value: DECEASED,
}
NO_TARGET_GROUP = "none"
FILTER_KEYS = ("landlord", "contract_type", "target_group", "move_in_year")
# An average calendar month in days, for the survival curve's month axis.
MONTH_DAYS = 365.2425 / 12


def add_months(day: date, months: int, _cache: dict = {}) -> date:  # noqa: B006 (memo)
    """``day`` + ``months`` calendar months, clamped to the month's end."""
    key = (day, months)
    result = _cache.get(key)
    if result is None:
        result = day + relativedelta(months=months)
        if len(_cache) < 200_000:
            _cache[key] = result
    return result


@dataclass
class Counts:
    """The counts of one group of the cohort and the rates derived from them."""

    cohort: int = 0
    housed: int = 0
    moved_on: int = 0
    lost: int = 0
    deceased: int = 0
    social: int = 0
    took_over: int = 0

    def add(self, status: str, had_social: bool, took_over: bool) -> None:
        self.cohort += 1
        setattr(self, status, getattr(self, status) + 1)
        if had_social:
            self.social += 1
            if took_over:
                self.took_over += 1

    @property
    def retained(self) -> int:
        return self.housed + self.moved_on

    @property
    def retention_rate(self) -> Fraction | None:
        denominator = self.cohort - self.deceased
        return Fraction(self.retained, denominator) if denominator else None

    @property
    def retention_rate_incl_deceased(self) -> Fraction | None:
        return Fraction(self.retained, self.cohort) if self.cohort else None

    @property
    def takeover_share(self) -> Fraction | None:
        return Fraction(self.took_over, self.social) if self.social else None

    def meets(self, target: float) -> bool | None:
        rate = self.retention_rate
        # Compared as exact fractions: 4/5 meets 0.80, whatever floats say.
        return None if rate is None else rate >= Fraction(str(target))

    def as_dict(self, target: float) -> dict[str, Any]:
        return {
            "cohort": self.cohort,
            "housed": self.housed,
            "moved_on": self.moved_on,
            "lost": self.lost,
            "deceased": self.deceased,
            "retention_rate": _round(self.retention_rate),
            "retention_rate_incl_deceased": _round(self.retention_rate_incl_deceased),
            "meets_target": self.meets(target),
            "takeover_share": _round(self.takeover_share),
            "social_contracts": self.social,
            "took_over": self.took_over,
        }


def _round(value: Fraction | None) -> float | None:
    return None if value is None else round(float(value), 4)


@dataclass
class Person:
    """One participant's tenancies, sorted by (move_in, id), and the first one's facts."""

    tenancies: list[tuple] = field(default_factory=list)
    target_groups: tuple[str, ...] = ()

    @property
    def first(self) -> tuple:
        return self.tenancies[0]


@dataclass
class RetentionData:
    """Everything the computation needs, read in a fixed number of queries."""

    people: dict[int, Person]
    landlords: dict[int, str]


def load(*, until: date | None = None) -> RetentionData:
    """Read the tenancy rows (started on or before ``until``) and the target groups.

    Three queries whatever the number of participants. Rows are sorted in
    Python: one person rarely has more than a few tenancies, so the per-person
    sort is cheap and spares the database an ORDER BY over the whole table.
    """
    rows = Tenancy.objects.order_by()
    if until is not None:
        rows = rows.filter(move_in__lte=until)
    people: dict[int, Person] = {}
    # (move_in, move_out, exit_reason, contract_type, takeover, landlord_id, id)
    for pid, move_in, move_out, reason, contract, takeover, landlord_id, pk in rows.values_list(
        "participant_id",
        "move_in",
        "move_out",
        "exit_reason",
        "contract_type",
        "takeover",
        "apartment__landlord_id",
        "pk",
    ).iterator(chunk_size=10_000):
        person = people.get(pid)
        if person is None:
            person = people[pid] = Person()
        person.tenancies.append((move_in, move_out, reason, contract, takeover, landlord_id, pk))
    for person in people.values():
        if len(person.tenancies) > 1:
            person.tenancies.sort(key=lambda t: (t[0], t[6]))
    links = Participant.target_groups.through.objects.values_list(
        "participant_id", "targetgroup__code"
    )
    groups: dict[int, list[str]] = defaultdict(list)
    for pid, code in links.order_by():
        groups[pid].append(code)
    for pid, codes in groups.items():
        if pid in people:
            people[pid].target_groups = tuple(sorted(codes))
    landlords = dict(Landlord.objects.order_by().values_list("pk", "name"))
    return RetentionData(people=people, landlords=landlords)


@dataclass
class Reading:
    """One cohort member's reading: who, when read, status and first tenancy."""

    participant_id: int
    first_move_in: date
    reading_day: date
    status: str
    status_tenancy: tuple
    had_social: bool
    took_over: bool
    first: tuple
    target_groups: tuple[str, ...]


def readings(data: RetentionData, *, as_of: date, months: int = 0, filters=None) -> list[Reading]:
    """The cohort for (``as_of``, ``months``) and each member's status, O(rows)."""
    filters = {k: v for k, v in (filters or {}).items() if k in FILTER_KEYS and v not in ("", None)}
    out: list[Reading] = []
    append = out.append
    for pid, person in data.people.items():
        first = person.tenancies[0]
        first_move_in = first[0]
        reading_day = add_months(first_move_in, months) if months else as_of
        if first_move_in > as_of or reading_day > as_of:
            continue
        if filters and not _matches(filters, first, person.target_groups):
            continue
        latest = None
        had_social = took_over = False
        for tenancy in person.tenancies:
            if tenancy[0] > reading_day:
                break
            latest = tenancy
            if tenancy[3] == ContractType.SOCIAL:
                had_social = True
                if tenancy[4] is not None and tenancy[4] <= reading_day:
                    took_over = True
        move_out = latest[1]
        if move_out is None or move_out > reading_day:
            status = HOUSED
        else:
            status = _EXIT_STATUS.get(latest[2], LOST)
        append(
            Reading(
                pid,
                first_move_in,
                reading_day,
                status,
                latest,
                had_social,
                took_over,
                first,
                person.target_groups,
            )
        )
    return out


def _matches(filters: dict, first: tuple, target_groups: tuple[str, ...]) -> bool:
    if "landlord" in filters and str(first[5]) != str(filters["landlord"]):
        return False
    if "contract_type" in filters and first[3] != filters["contract_type"]:
        return False
    if "move_in_year" in filters and str(first[0].year) != str(filters["move_in_year"]):
        return False
    return not ("target_group" in filters and filters["target_group"] not in target_groups)


def tally(members: list[Reading], landlords: dict[int, str]) -> tuple[Counts, dict]:
    """Total counts and the four breakdowns (by the first tenancy and target group)."""
    total = Counts()
    by_landlord: dict[str, Counts] = defaultdict(Counts)
    by_contract: dict[str, Counts] = defaultdict(Counts)
    by_year: dict[str, Counts] = defaultdict(Counts)
    by_group: dict[str, Counts] = defaultdict(Counts)
    for r in members:
        args = (r.status, r.had_social, r.took_over)
        total.add(*args)
        by_landlord[landlords.get(r.first[5], str(r.first[5]))].add(*args)
        by_contract[r.first[3]].add(*args)
        by_year[str(r.first[0].year)].add(*args)
        # A person in several target groups counts in each of them.
        for code in r.target_groups or (NO_TARGET_GROUP,):
            by_group[code].add(*args)
    breakdown = {
        "landlord": dict(sorted(by_landlord.items())),
        "contract_type": dict(sorted(by_contract.items())),
        "move_in_year": dict(sorted(by_year.items())),
        "target_group": dict(sorted(by_group.items())),
    }
    return total, breakdown


def compute(
    *,
    as_of: date,
    months: int = 0,
    filters: dict | None = None,
    data: RetentionData | None = None,
    target: float | None = None,
) -> dict[str, Any]:
    """The retention figures for ``as_of`` and ``months`` as a JSON-ready dict.

    Keys as in ``retention_report --format json``: ``as_of``, ``months``, the
    counts, both rates (4 decimals, ``None`` without a denominator),
    ``target``, ``meets_target``, ``takeover_share`` and ``breakdown``.
    """
    if months < 0:
        raise ValueError("months must be 0 or more")
    if target is None:
        target = settings.RETENTION_TARGET
    if data is None:
        data = load(until=as_of)
    members = readings(data, as_of=as_of, months=months, filters=filters)
    total, breakdown = tally(members, data.landlords)
    result = {"as_of": as_of.isoformat(), "months": months, **total.as_dict(target)}
    result["target"] = target
    result["filters"] = {k: v for k, v in (filters or {}).items() if v not in ("", None)}
    result["breakdown"] = {
        name: {key: counts.as_dict(target) for key, counts in groups.items()}
        for name, groups in breakdown.items()
    }
    return result


# --- Trend and survival --------------------------------------------------------


def quarter_ends(as_of: date, count: int = 8) -> list[date]:
    """The ``count`` most recent quarter ends on or before ``as_of``, oldest first."""
    quarter_month = ((as_of.month - 1) // 3 + 1) * 3
    end = date(as_of.year, quarter_month, 1) + relativedelta(months=1, days=-1)
    if end > as_of:
        end = date(as_of.year, quarter_month - 2, 1) - relativedelta(days=1)
    ends = [end]
    while len(ends) < count:
        end = date(end.year, end.month, 1) - relativedelta(months=2, days=1)
        ends.append(end)
    return sorted(ends)


def trend(
    data: RetentionData, *, as_of: date, months: int = 0, filters=None, count: int = 8
) -> list[dict[str, Any]]:
    """The rate at each of the last ``count`` quarter ends (same horizon and filters)."""
    target = settings.RETENTION_TARGET
    points = []
    for end in quarter_ends(as_of, count):
        total, _ = tally(readings(data, as_of=end, months=months, filters=filters), {})
        points.append(
            {
                "date": end.isoformat(),
                "label": f"{end.year} Q{(end.month - 1) // 3 + 1}",
                **total.as_dict(target),
            }
        )
    return points


def survival(data: RetentionData, *, as_of: date, filters=None) -> list[dict[str, Any]]:
    """Kaplan–Meier estimate of the share still housed by months since first move-in.

    Everyone whose first move-in is on or before ``as_of`` is followed from that
    day. The **event** is losing the home (status *lost*), at the move-out day of
    the tenancy that ended. **Censored**: people still housed, at ``as_of``
    (their outcome is not known yet); people who moved on or died, at their
    move-out day — neither is a lost home, and counting them as events would
    understate how well tenancies hold, counting them as housed until ``as_of``
    would overstate it. A move to another Housing First apartment continues the
    same spell.

    Returns one point per whole month: ``month``, ``at_risk`` (still followed at
    the start of the month), ``events`` (homes lost during it), ``censored``
    and ``survival`` (the share still housed at the end of it, 4 decimals).
    """
    spells: list[tuple[float, bool]] = []
    for r in readings(data, as_of=as_of, months=0, filters=filters):
        if r.status == HOUSED:
            end, event = as_of, False
        else:
            end, event = r.status_tenancy[1], r.status == LOST
        spells.append(((end - r.first_move_in).days / MONTH_DAYS, event))
    if not spells:
        return []
    last_month = int(max(t for t, _ in spells))
    events = [0] * (last_month + 1)
    censored = [0] * (last_month + 1)
    for t, event in spells:
        month = min(int(t), last_month)
        if event:
            events[month] += 1
        else:
            censored[month] += 1
    points = []
    at_risk = len(spells)
    share = 1.0
    for month in range(last_month + 1):
        # Within a month, events are taken before censorings (the usual
        # convention when both fall in the same interval).
        if at_risk:
            share *= 1 - events[month] / at_risk
        points.append(
            {
                "month": month,
                "at_risk": at_risk,
                "events": events[month],
                "censored": censored[month],
                "survival": round(share, 4),
            }
        )
        at_risk -= events[month] + censored[month]
    return points


def median_survival_months(points: list[dict]) -> int | None:
    """The first month at whose end half or fewer are still housed (None if never)."""
    for point in points:
        if point["survival"] <= 0.5:
            return point["month"]
    return None
