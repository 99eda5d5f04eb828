"""Two more Kaplan–Meier curves beside tenancy survival (issue 18 item 2):
waiting time from approval to move-in, and time from moving into a social
contract to taking it over as a first-hand contract.

**Waiting time.** A person's approval day A is the earliest day (Europe/
Stockholm) on which one of their referrals was approved, on or before the
reference date D. People with a tenancy that started before A are left out
(housed before the decision recorded here, e.g. imported data). The **event**
is the first move-in on or after A (and on or before D). **Censored** without
a move-in: at the day the case was closed if it was closed on or before D
(left the programme without moving in; a closing day before A counts as A),
else at D (still waiting). Filters on the first tenancy (landlord, contract
type, year of move-in) do not exist for people still waiting, so only the
target-group filter applies.

**Time to takeover.** A person's start S is the move-in of their first
social-contract tenancy started on or before D. The **event** is the
earliest takeover day (``Tenancy.takeover``) on or before D among their
tenancies. **Censored** without one: at the move-out of their latest
social-contract tenancy started on or before D if it ended on or before D
(left the social contract, moved elsewhere or out), else at D. The filters
apply as for tenancy survival, by the person's first tenancy.

Both curves read the tenancy rows ``retention.load`` already holds; the
waiting time reads the approvals in one more query (``load_approvals``).
Months as in ``kaplan_meier``.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from django.db.models.functions import TruncDate

from participants.models import Referral, ReferralStatus

from .kaplan_meier import kaplan_meier, median_month
from .retention import CONTRACT, MOVE_IN, MOVE_OUT, SOCIAL, TAKEOVER, RetentionData, _matches

# participant id -> (approval days, local dates, each with the day the case
# was closed or None); a person approved twice has two approval days.
Approvals = dict[int, tuple[list[date], date | None]]


def load_approvals() -> Approvals:
    """Every approved referral's decision day and its person's closing day, in
    one query whatever the number of people. The local day is taken in SQL
    (``TruncDate`` in the current time zone): a local date per row in Python
    was most of the dashboard's second at N = 10,000."""
    out: Approvals = {}
    rows = (
        Referral.objects.order_by()
        .filter(status=ReferralStatus.APPROVED, decided_at__isnull=False)
        .values_list("participant_id", TruncDate("decided_at"), "participant__closed_on")
    )
    for pid, day, closed_on in rows.iterator(chunk_size=10_000):
        own = out.get(pid)
        if own is None:
            out[pid] = ([day], closed_on)
        else:
            own[0].append(day)
    return out


def waiting_spells(
    data: RetentionData, approvals: Approvals, *, as_of: date, filters=None
) -> list[tuple[int, bool]]:
    """(days from approval, moved in) per approved person, as defined above."""
    group = (filters or {}).get("target_group") or None
    spells: list[tuple[int, bool]] = []
    for pid, (days, closed_on) in approvals.items():
        approved = min((day for day in days if day <= as_of), default=None)
        if approved is None:
            continue
        if group is not None and group not in data.groups.get(pid, ()):
            continue
        moved_in = None
        before = False
        for tenancy in data.people.get(pid, ()):
            start = tenancy[MOVE_IN]
            if start < approved:
                before = True
                break
            if start <= as_of:
                moved_in = start
                break
        if before:
            continue
        if moved_in is not None:
            spells.append(((moved_in - approved).days, True))
        elif closed_on is not None and closed_on <= as_of:
            spells.append(((max(closed_on, approved) - approved).days, False))
        else:
            spells.append(((as_of - approved).days, False))
    return spells


def waiting_time(
    data: RetentionData, approvals: Approvals, *, as_of: date, filters=None
) -> list[dict[str, Any]]:
    """Kaplan–Meier estimate of the share still waiting by months since approval."""
    return kaplan_meier(waiting_spells(data, approvals, as_of=as_of, filters=filters))


def takeover_spells(data: RetentionData, *, as_of: date, filters=None) -> list[tuple[int, bool]]:
    """(days from the first social-contract move-in, took over) per person."""
    filters = {k: v for k, v in (filters or {}).items() if v not in ("", None)}
    spells: list[tuple[int, bool]] = []
    for pid, tenancies in data.people.items():
        start = took_over = last_social = None
        for tenancy in tenancies:  # sorted by (move_in, id)
            if tenancy[MOVE_IN] > as_of:
                break
            if tenancy[CONTRACT] != SOCIAL:
                continue
            if start is None:
                start = tenancy[MOVE_IN]
            last_social = tenancy
            day = tenancy[TAKEOVER]
            if day is not None and day <= as_of and (took_over is None or day < took_over):
                took_over = day
        if start is None:
            continue
        if filters and not _matches(filters, tenancies[0], data.groups.get(pid, ())):
            continue
        if took_over is not None:
            spells.append(((took_over - start).days, True))
        else:
            ended = last_social[MOVE_OUT]
            end = ended if ended is not None and ended <= as_of else as_of
            spells.append(((end - start).days, False))
    return spells


def takeover_time(data: RetentionData, *, as_of: date, filters=None) -> list[dict[str, Any]]:
    """Kaplan–Meier estimate of the share not yet holding the contract first-hand,
    by months since moving into a social contract."""
    return kaplan_meier(takeover_spells(data, as_of=as_of, filters=filters))


def add_time_to_event(figures: dict, data: RetentionData, *, as_of: date, filters=None) -> None:
    """Put both curves and their medians into ``figures`` (the dashboard's and a
    stored report's), reusing the loaded tenancy rows: one query more."""
    figures["waiting"] = waiting_time(data, load_approvals(), as_of=as_of, filters=filters)
    figures["median_waiting_months"] = median_month(figures["waiting"])
    figures["takeover_time"] = takeover_time(data, as_of=as_of, filters=filters)
    figures["median_takeover_months"] = median_month(figures["takeover_time"])
