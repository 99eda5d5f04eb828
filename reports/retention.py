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
landlord and provider, the landlord names, the provider names, the target-group
links, each person's first approved referral with its referring unit), then one
pass in Python
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
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction
from operator import itemgetter
from typing import Any

from dateutil.relativedelta import relativedelta
from django.conf import settings

from housing.models import ContractType, ExitReason, Landlord, Provider, Tenancy
from participants.models import Participant, Referral, ReferralStatus

from .kaplan_meier import kaplan_meier, median_month

HOUSED = "housed"
MOVED_ON = "moved_on"
LOST = "lost"
DECEASED = "deceased"
STATUSES = (HOUSED, MOVED_ON, LOST, DECEASED)

NO_TARGET_GROUP = "none"
# The group of people whose first approved referral names no referring unit
# (or who have none), and of those whose first tenancy names no provider.
NO_UNIT = "none"
NO_PROVIDER = "none"
FILTER_KEYS = ("landlord", "contract_type", "target_group", "move_in_year")
FOUR_DECIMALS = Decimal("0.0001")


_MONTH_CACHE: dict[int, dict[date, date]] = {}


def add_months(day: date, months: int) -> date:
    """``day`` + ``months`` calendar months, clamped to the month's end
    (``relativedelta``: 31 Jan + 1 month = 28/29 Feb). Memoised: a cohort has
    far fewer distinct move-in days than people."""
    cache = _MONTH_CACHE.setdefault(months, {})
    result = cache.get(day)
    if result is None:
        result = day + relativedelta(months=months)
        if len(cache) < 100_000:
            cache[day] = result
    return result


# Status indexes into a counts list, and the list's layout.
H, M, L, X = 0, 1, 2, 3  # housed, moved on, lost, deceased (X: died)
STATUS_NAMES = (HOUSED, MOVED_ON, LOST, DECEASED)
_EXIT_INDEX = {
    ExitReason.MOVED_ON.value: M,
    ExitReason.OTHER_HF_APARTMENT.value: H,
    ExitReason.DECEASED.value: X,
}
SOCIAL = ContractType.SOCIAL.value

# A tenancy row: (move_in, move_out, exit_reason, contract_type, takeover, landlord_id, id),
# as loaded followed by (participant_id, provider_id); rows built by tests may stop at id.
MOVE_IN, MOVE_OUT, REASON, CONTRACT, TAKEOVER, LANDLORD, PK = range(7)
PROVIDER = 8


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

    @classmethod
    def from_list(cls, c: list[int]) -> Counts:
        """From ``[housed, moved_on, lost, deceased, social, took_over]``."""
        return cls(c[H] + c[M] + c[L] + c[X], c[H], c[M], c[L], c[X], c[4], c[5])

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
    """4 decimals, half up, from the exact fraction: 1/32 = 0.03125 → 0.0313.

    ``round(float(value), 4)`` would round that tie to even (0.0312), and a
    board report reads half up like any other Swedish statistic.
    """
    if value is None:
        return None
    exact = Decimal(value.numerator) / Decimal(value.denominator)
    return float(exact.quantize(FOUR_DECIMALS, rounding=ROUND_HALF_UP))


@dataclass
class Person:
    """One participant's tenancy rows, sorted by (move_in, id), and target groups
    (used by tests to build data without the database)."""

    tenancies: list[tuple] = field(default_factory=list)
    target_groups: tuple[str, ...] = ()
    referring_unit: str | None = None


@dataclass
class RetentionData:
    """Everything the computation needs, read in a fixed number of queries:
    each participant's tenancy rows sorted by (move_in, id), their target
    groups, the landlords' and providers' names, and the referring unit (its
    name) of each person's first approved referral."""

    people: dict[int, Person | list[tuple]]
    landlords: dict[int, str]
    groups: dict[int, tuple[str, ...]] = field(default_factory=dict)
    providers: dict[int, str] = field(default_factory=dict)
    units: dict[int, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        # Accept Person objects (tests) as well as bare row lists (load()).
        for pid, value in list(self.people.items()):
            if isinstance(value, Person):
                self.people[pid] = value.tenancies
                if value.target_groups:
                    self.groups[pid] = value.target_groups
                if value.referring_unit:
                    self.units[pid] = value.referring_unit


_by_move_in_and_id = itemgetter(MOVE_IN, PK)


def load(*, until: date | None = None) -> RetentionData:
    """Read the tenancy rows (started on or before ``until``), the target-group
    links, the landlord and provider names and the first approved referrals'
    units: five queries whatever the number of people.

    Rows are grouped and sorted in Python: one person rarely has more than a
    few tenancies, so the per-person sort is cheap and spares the database an
    ORDER BY over the whole table.
    """
    rows = Tenancy.objects.order_by()
    if until is not None:
        rows = rows.filter(move_in__lte=until)
    people: dict[int, list[tuple]] = {}
    get = people.get
    for row in rows.values_list(
        "move_in",
        "move_out",
        "exit_reason",
        "contract_type",
        "takeover",
        "apartment__landlord_id",
        "pk",
        "participant_id",
        "provider_id",
    ).iterator(chunk_size=10_000):
        own = get(row[7])
        if own is None:
            people[row[7]] = [row]
        else:
            own.append(row)
    for own in people.values():
        if len(own) > 1:
            own.sort(key=_by_move_in_and_id)
    groups: dict[int, list[str]] = defaultdict(list)
    links = Participant.target_groups.through.objects.order_by().values_list(
        "participant_id", "targetgroup__code"
    )
    for pid, code in links:
        groups[pid].append(code)
    landlords = dict(Landlord.objects.order_by().values_list("pk", "name"))
    providers = dict(Provider.objects.order_by().values_list("pk", "name"))
    return RetentionData(
        people=people,
        landlords=landlords,
        providers=providers,
        units=first_referring_units(),
        # Everyone's groups, housed or not: the waiting-time curve filters
        # people who have no tenancy yet by target group too.
        groups={pid: tuple(sorted(codes)) for pid, codes in groups.items()},
    )


def first_referring_units() -> dict[int, str]:
    """participant id -> the name of the referring unit of their first approved
    referral (earliest decision, then lowest id); people whose first approved
    referral names no unit are left out. One query, ordered by the database:
    reading each decision time into Python to compare took 0.4 s at 10,000
    people."""
    first: dict[int, str | None] = {}
    rows = (
        Referral.objects.filter(status=ReferralStatus.APPROVED)
        .order_by("decided_at", "pk")
        .values_list("participant_id", "referring_unit__name")
    )
    for pid, name in rows.iterator(chunk_size=10_000):
        # decided_at is set on every approved referral (a check constraint).
        first.setdefault(pid, name)
    return {pid: name for pid, name in first.items() if name}


# A reading: (participant_id, first_move_in, reading_day, status index,
# status tenancy, had social contract, took over, first tenancy).
R_PID, R_FIRST_DAY, R_DAY, R_STATUS, R_LATEST, R_SOCIAL, R_TOOK, R_FIRST = range(8)


def readings(data: RetentionData, *, as_of: date, months: int = 0, filters=None) -> list[tuple]:
    """The cohort for (``as_of``, ``months``) and each member's status, O(rows).

    The loop is written out for speed: it runs once per person for every
    figure, quarter and curve on the dashboard.
    """
    filters = {k: v for k, v in (filters or {}).items() if k in FILTER_KEYS and v not in ("", None)}
    groups = data.groups
    out: list[tuple] = []
    append = out.append
    exit_index = _EXIT_INDEX
    cache = _MONTH_CACHE.setdefault(months, {}) if months else None
    for pid, tenancies in data.people.items():
        first = tenancies[0]
        first_day = first[0]
        if first_day > as_of:
            continue
        if months:
            reading_day = cache.get(first_day) or add_months(first_day, months)
            if reading_day > as_of:
                continue
        else:
            reading_day = as_of
        if filters and not _matches(filters, first, groups.get(pid, ())):
            continue
        if len(tenancies) == 1:
            latest = first
            had_social = first[3] == SOCIAL
            took_over = had_social and first[4] is not None and first[4] <= reading_day
        else:
            latest = first
            had_social = took_over = False
            for tenancy in tenancies:
                if tenancy[0] > reading_day:
                    break
                latest = tenancy
                if tenancy[3] == SOCIAL:
                    had_social = True
                    if tenancy[4] is not None and tenancy[4] <= reading_day:
                        took_over = True
        move_out = latest[1]
        status = H if move_out is None or move_out > reading_day else exit_index.get(latest[2], L)
        append((pid, first_day, reading_day, status, latest, had_social, took_over, first))
    return out


def _matches(filters: dict, first: tuple, target_groups: tuple[str, ...]) -> bool:
    if "landlord" in filters and str(first[5]) != str(filters["landlord"]):
        return False
    if "contract_type" in filters and first[3] != filters["contract_type"]:
        return False
    if "move_in_year" in filters and str(first[0].year) != str(filters["move_in_year"]):
        return False
    return not ("target_group" in filters and filters["target_group"] not in target_groups)


def _total(members: list[tuple]) -> Counts:
    c = [0, 0, 0, 0, 0, 0]
    for m in members:
        c[m[3]] += 1
        if m[5]:
            c[4] += 1
            if m[6]:
                c[5] += 1
    return Counts.from_list(c)


def tally(
    members: list[tuple],
    landlords: dict[int, str],
    groups: dict[int, tuple[str, ...]],
    providers: dict[int, str] | None = None,
    units: dict[int, str] | None = None,
) -> tuple[Counts, dict[str, dict[str, Counts]]]:
    """Total counts and the six breakdowns: by the first tenancy's landlord,
    contract type, year and provider, by target group, and by the referring
    unit of the person's first approved referral. Every member is in exactly
    one group of each breakdown but target group (a person in several groups
    counts in each), so those rows sum to the total."""
    providers = providers or {}
    units = units or {}
    keyed: dict[str, dict] = {
        "landlord": {},
        "contract_type": {},
        "move_in_year": {},
        "target_group": {},
        "referring_unit": {},
        "provider": {},
    }
    by_landlord, by_contract, by_year, by_group, by_unit, by_provider = keyed.values()

    def bump(table: dict, key, m: tuple) -> None:
        c = table.get(key)
        if c is None:
            c = table[key] = [0, 0, 0, 0, 0, 0]
        c[m[3]] += 1
        if m[5]:
            c[4] += 1
            if m[6]:
                c[5] += 1

    for m in members:
        first = m[7]
        bump(by_landlord, first[5], m)
        bump(by_contract, first[3], m)
        bump(by_year, first[0].year, m)
        # A person in several target groups counts in each of them.
        for code in groups.get(m[0]) or (NO_TARGET_GROUP,):
            bump(by_group, code, m)
        bump(by_unit, units.get(m[0], NO_UNIT), m)
        provider_id = first[PROVIDER] if len(first) > PROVIDER else None
        bump(
            by_provider,
            NO_PROVIDER if provider_id is None else providers.get(provider_id, str(provider_id)),
            m,
        )
    breakdown = {
        "landlord": {landlords.get(k, str(k)): Counts.from_list(v) for k, v in by_landlord.items()},
        "contract_type": {k: Counts.from_list(v) for k, v in by_contract.items()},
        "move_in_year": {str(k): Counts.from_list(v) for k, v in by_year.items()},
        "target_group": {k: Counts.from_list(v) for k, v in by_group.items()},
        "referring_unit": {k: Counts.from_list(v) for k, v in by_unit.items()},
        "provider": {k: Counts.from_list(v) for k, v in by_provider.items()},
    }
    return _total(members), {k: dict(sorted(v.items())) for k, v in breakdown.items()}


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
    total, breakdown = tally(members, data.landlords, data.groups, data.providers, data.units)
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
        total = _total(readings(data, as_of=end, months=months, filters=filters))
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
    spells: list[tuple[int, bool]] = []
    for r in readings(data, as_of=as_of, months=0, filters=filters):
        status = r[R_STATUS]
        if status == H:
            end, event = as_of, False
        else:
            end, event = r[R_LATEST][1], status == L
        spells.append(((end - r[R_FIRST_DAY]).days, event))
    return kaplan_meier(spells)


def median_survival_months(points: list[dict]) -> int | None:
    """The first month at whose end half or fewer are still housed (None if never)."""
    return median_month(points)
