"""Outcomes beyond retention for the cohort (issue 18 item 2): the change
from move-in to 12 and 24 months.

**Definition.** The cohort is everyone with a first move-in on or before the
reference date D. For a point P (0, 12 or 24 months) a person's point day is
their first move-in plus P calendar months; they count at P when the point
day is on or before D and one of their follow-ups dated on or before D lies
within ``WINDOW_MONTHS`` calendar months either side of the point day. Of
those, the follow-up nearest the point day counts (a tie: the earlier date,
then the earlier recorded). For each outcome the value at P is

* occupation: the share with any occupation (not "none");
* addiction care / psychiatric care: the share answering "yes" among those
  whose answer is known (yes or no);
* quality of life: the mean of the ratings given (unanswered left out);
* first-hand contract: the share whose contract form is first-hand.

The change from move-in to P is the value at P minus the value at move-in
(percentage points for shares), over the people counted at each point; n is
shown with each value. The free text in the person's own words is never read.

Two queries whatever the number of people (``load``); ``compute`` is pure.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from django.db.models import Min
from django.utils.translation import gettext_lazy as _

from housing.models import ContractType, Tenancy
from support.models import CareContact, Occupation, OutcomeFollowUp
from support.outcomes import WINDOW_MONTHS, add_months

from .presentation import TEXT, Table

POINTS = (0, 12, 24)


@dataclass(frozen=True)
class Answer:
    """The answers of one follow-up the computation needs (no free text)."""

    pk: int
    date: date
    occupation: str
    addiction_care: str
    psychiatric_care: str
    quality_of_life: int | None
    contract_form: str


def load(*, until: date) -> tuple[dict[int, date], dict[int, list[Answer]]]:
    """First move-ins on or before ``until`` and every follow-up dated on or
    before it, by person: two queries."""
    move_ins = dict(
        Tenancy.objects.order_by()
        .values("participant_id")
        .annotate(first=Min("move_in"))
        .filter(first__lte=until)
        .values_list("participant_id", "first")
    )
    answers: dict[int, list[Answer]] = {}
    rows = (
        OutcomeFollowUp.objects.order_by()
        .filter(date__lte=until)
        .values_list(
            "participant_id",
            "pk",
            "date",
            "occupation",
            "addiction_care",
            "psychiatric_care",
            "quality_of_life",
            "contract_form",
        )
    )
    for pid, *fields in rows.iterator(chunk_size=10_000):
        answers.setdefault(pid, []).append(Answer(*fields))
    return move_ins, answers


def nearest(answers: list[Answer], *, point_day: date, until: date) -> Answer | None:
    """The follow-up nearest ``point_day`` within the window, dated on or
    before ``until``; None if there is none."""
    low = add_months(point_day, -WINDOW_MONTHS)
    high = add_months(point_day, WINDOW_MONTHS)
    inside = [a for a in answers if low <= a.date <= high and a.date <= until]
    if not inside:
        return None
    return min(inside, key=lambda a: (abs((a.date - point_day).days), a.date, a.pk))


def _share(values: list[bool]) -> float | None:
    return sum(values) / len(values) if values else None


def _value(key: str, matched: list[Answer]) -> tuple[float | None, int]:
    """The value of one outcome over the matched follow-ups and its n."""
    if key == "occupation":
        flags = [a.occupation != Occupation.NONE for a in matched]
    elif key in ("addiction_care", "psychiatric_care"):
        known = [getattr(a, key) for a in matched if getattr(a, key) != CareContact.UNKNOWN]
        flags = [v == CareContact.YES for v in known]
    elif key == "first_hand":
        flags = [a.contract_form == ContractType.FIRST_HAND for a in matched]
    else:
        ratings = [a.quality_of_life for a in matched if a.quality_of_life is not None]
        return (sum(ratings) / len(ratings) if ratings else None), len(ratings)
    return _share(flags), len(flags)


OUTCOMES = (
    ("occupation", _("Any occupation")),
    ("addiction_care", _("Contact with addiction care")),
    ("psychiatric_care", _("Contact with psychiatric care")),
    ("quality_of_life", _("Quality of life, mean (1–10)")),
    ("first_hand", _("First-hand contract")),
)


def compute(
    move_ins: dict[int, date], answers: dict[int, list[Answer]], *, as_of: date
) -> dict[str, dict]:
    """For each outcome: per point its value and n, and the change from
    move-in to 12 and 24 months (None where either value is missing)."""
    matched: dict[int, list[Answer]] = {p: [] for p in POINTS}
    for pid, moved_in in move_ins.items():
        own = answers.get(pid)
        if not own:
            continue
        for p in POINTS:
            point_day = add_months(moved_in, p)
            if point_day > as_of:
                continue
            found = nearest(own, point_day=point_day, until=as_of)
            if found is not None:
                matched[p].append(found)
    out: dict[str, dict] = {}
    for key, _label in OUTCOMES:
        values = {p: _value(key, matched[p]) for p in POINTS}
        start = values[0][0]
        out[key] = {
            "values": {p: {"value": v, "n": n} for p, (v, n) in values.items()},
            "change": {
                p: (None if start is None or values[p][0] is None else values[p][0] - start)
                for p in POINTS[1:]
            },
        }
    return out


def outcome_figures(*, as_of: date) -> dict[str, dict]:
    """The cohort's outcomes on ``as_of``: two queries."""
    move_ins, answers = load(until=as_of)
    return compute(move_ins, answers, as_of=as_of)


def _format(key: str, value: float | None, n: int | None = None) -> str:
    if value is None:
        return "–"
    text = f"{value:.1f}".replace(".", ",") if key == "quality_of_life" else f"{value * 100:.0f} %"
    return f"{text} (n = {n})" if n is not None else text


def _format_change(key: str, change: float | None) -> str:
    if change is None:
        return "–"
    if key == "quality_of_life":
        return f"{change:+.1f}".replace(".", ",").replace("-", "−")
    return f"{change * 100:+.0f}".replace("-", "−")


def outcomes_table(figures: dict[str, dict]) -> Table:
    t = Table(
        "outcomes",
        str(_("Outcomes from move-in to 12 and 24 months")),
        [
            (str(_("Outcome")), TEXT),
            (str(_("At move-in")), TEXT),
            (str(_("12 months")), TEXT),
            (str(_("24 months")), TEXT),
            (str(_("Change to 12 months")), TEXT),
            (str(_("Change to 24 months")), TEXT),
        ],
        caption=str(
            _(
                "The follow-up nearest each point within three months. Shares in per cent; "
                "changes in percentage points (quality of life: points on the scale)."
            )
        ),
    )
    for key, label in OUTCOMES:
        row = figures.get(key)
        if row is None:
            continue
        # A stored report's figures went through JSON: the points are text keys.
        values = {int(p): v for p, v in row["values"].items()}
        change = {int(p): v for p, v in row["change"].items()}
        t.rows.append(
            [
                str(label),
                *(_format(key, values[p]["value"], values[p]["n"]) for p in POINTS),
                *(_format_change(key, change[p]) for p in POINTS[1:]),
            ]
        )
    return t
