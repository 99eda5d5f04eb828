"""Demo data for the reports app: a historical cohort as a municipality would
import it from its spreadsheet, and one finished report.

Deterministic (``random.Random``) and idempotent: the import identifies rows
by reference and move-in day, and the report is made only once.
"""

import random
from datetime import date, timedelta

from django.utils import timezone

from .cohort import cohort_import
from .models import Report

LANDLORDS = ["Sandvikenhus", "Heimstaden", "Svenska bostäder"]
# Weighted like the municipalities' published outcomes: most keep their home.
OUTCOMES = (
    ["housed"] * 15
    + ["moved_on"] * 2
    + [
        "evicted",
        "terminated",
        "homelessness",
        "institution",
        "lost_contact",
        "deceased",
        "other_hf_apartment",
    ]
)
DEMO_TITLE = "Demo: kvarboende hittills"


def cohort_csv(*, people: int = 60, seed: int = 2026, today: date | None = None) -> str:
    rng = random.Random(seed)
    today = today or date(2026, 1, 1)
    lines = ["participant_id,move_in,move_out,exit_reason,landlord,contract_type,takeover"]
    for n in range(1, people + 1):
        ref = f"HIST-{n:03d}"
        move_in = date(2016, 1, 1) + timedelta(days=rng.randrange(0, 8 * 365))
        contract = rng.choice(["social", "social", "first_hand"])
        landlord = rng.choice(LANDLORDS)
        outcome = rng.choice(OUTCOMES)
        takeover = ""
        end = move_in + timedelta(days=rng.randrange(120, 2000))
        if end >= today:
            outcome = "housed"
        if contract == "social" and rng.random() < 0.3:
            limit = (end if outcome != "housed" else today) - move_in
            takeover = (move_in + timedelta(days=rng.randrange(1, max(limit.days, 2)))).isoformat()
        if outcome == "housed":
            lines.append(f"{ref},{move_in},,,{landlord},{contract},{takeover}")
        elif outcome == "other_hf_apartment":
            lines.append(
                f"{ref},{move_in},{end},other_hf_apartment,{landlord},{contract},{takeover}"
            )
            lines.append(f"{ref},{end},,,{rng.choice(LANDLORDS)},first_hand,")
        else:
            lines.append(f"{ref},{move_in},{end},{outcome},{landlord},{contract},{takeover}")
    return "\n".join(lines) + "\n"


def seed(*, users: dict) -> None:
    manager = users.get("enhetschef")
    result = cohort_import(data=cohort_csv().encode(), filename="demo.csv", acting_user=manager)
    if not result.ok:  # never leave demo data half made; say why
        raise RuntimeError("; ".join(str(e) for e in result.errors[:5]))
    if Report.objects.filter(title=DEMO_TITLE).exists():
        return
    from .services import report_run

    as_of = timezone.localdate().replace(day=1) - timedelta(days=1)
    report = Report.objects.create(
        as_of=as_of, months=0, title=DEMO_TITLE, ordered_by=manager, sent_to_broker=True
    )
    # Run in-process: demo seeding must not depend on a worker being up.
    report_run(report_id=report.pk)
