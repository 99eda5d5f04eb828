"""Benchmark of the retention computation, the dashboard and the report PDF.

Run on demand (not a test):

    .venv/bin/python benchmarks/retention.py                 # SQLite in /tmp
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/bf_bench \\
        .venv/bin/python benchmarks/retention.py            # PostgreSQL

It builds (once; kept between runs) 50,000 participants with 70,000
tenancies — 20,000 people moved once, many of them to another Housing First
apartment — and prints, best of ``--repeat`` runs:

* the floor: reading the tenancy rows once (one ``values_list`` over the table);
* the retention computation without a horizon and with 12 months, and its
  ratio to the floor (target: under 1 s and at most 5× the floor);
* the dashboard page (with the quarterly trend and survival curve; target < 2 s);
* the PDF rendering of a report (target < 2 s).

Data are bulk-inserted here only, for speed: the benchmark measures reads,
and its rows need no change history.
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import time
from datetime import date, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bostadforst.settings")
os.environ.setdefault("DATABASE_URL", "sqlite:////tmp/bf_bench_reports.sqlite3")
os.environ.setdefault("DJANGO_READ_DOT_ENV", "false")
os.environ.setdefault(
    "SECRET_KEY", "benchmark-only-not-secret-0123456789abcdefghijklmnopqrstuvwxyz"
)
os.environ.setdefault("ALLOWED_HOSTS", "testserver")
os.environ.setdefault("DJANGO_DEBUG", "false")
os.environ.setdefault("SECURE_SSL_REDIRECT", "false")
os.environ.setdefault("OTP_REQUIRED_FOR_PRIVILEGED", "false")
os.environ.setdefault("STATIC_MANIFEST", "false")
os.environ.setdefault("LOG_LEVEL", "WARNING")

import django  # noqa: E402

django.setup()

from django.contrib.auth.models import Group  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection, transaction  # noqa: E402
from django.test import Client  # noqa: E402

from bostadforst.models import User  # noqa: E402
from bostadforst.roles import Role  # noqa: E402
from housing.models import Apartment, Landlord, Tenancy  # noqa: E402
from participants.models import Participant, TargetGroup  # noqa: E402
from reports import retention  # noqa: E402
from reports.models import Report  # noqa: E402
from reports.pdf import render_report_pdf  # noqa: E402
from reports.presentation import report_context  # noqa: E402
from reports.services import report_figures  # noqa: E402

AS_OF = date(2025, 12, 31)
REASONS = [
    "moved_on",
    "evicted",
    "terminated",
    "homelessness",
    "institution",
    "deceased",
    "lost_contact",
    "other",
]


def generate(participants: int, tenancies: int, seed: int = 50_000) -> None:
    rng = random.Random(seed)
    movers = tenancies - participants
    with transaction.atomic():
        landlords = [
            Landlord.objects.get_or_create(name=name)[0]
            for name in ("Sandvikenhus", "Heimstaden", "Svenska bostäder", "Gavlegårdarna")
        ]
        people = Participant.objects.bulk_create(
            [Participant(external_ref=f"B{n:06d}", status="housed") for n in range(participants)],
            batch_size=5000,
        )
        groups = list(TargetGroup.objects.all())
        through = Participant.target_groups.through
        through.objects.bulk_create(
            [
                through(participant_id=p.pk, targetgroup_id=rng.choice(groups).pk)
                for p in people
                if rng.random() < 0.6
            ],
            batch_size=5000,
        )
        apartments = Apartment.objects.bulk_create(
            [
                Apartment(landlord=rng.choice(landlords), address=f"Bänkgatan {n}")
                for n in range(tenancies)
            ],
            batch_size=5000,
        )
        rows = []
        flat = iter(apartments)
        for i, person in enumerate(people):
            move_in = date(2012, 1, 1) + timedelta(days=rng.randrange(0, 13 * 365))
            contract = "social" if rng.random() < 0.6 else "first_hand"
            takeover = None
            if contract == "social" and rng.random() < 0.25:
                takeover = move_in + timedelta(days=rng.randrange(30, 700))
            if i < movers:
                end = move_in + timedelta(days=rng.randrange(60, 1500))
                reason = "other_hf_apartment" if rng.random() < 0.5 else rng.choice(REASONS)
                if takeover and takeover >= end:
                    takeover = None
                rows.append(
                    Tenancy(
                        participant=person,
                        apartment=next(flat),
                        contract_type=contract,
                        move_in=move_in,
                        move_out=end,
                        exit_reason=reason,
                        takeover=takeover,
                    )
                )
                start2 = end + timedelta(days=0 if reason == "other_hf_apartment" else 200)
                ended = rng.random() < 0.2
                rows.append(
                    Tenancy(
                        participant=person,
                        apartment=next(flat),
                        contract_type="first_hand",
                        move_in=start2,
                        move_out=start2 + timedelta(days=400) if ended else None,
                        exit_reason=rng.choice(REASONS) if ended else "",
                    )
                )
            else:
                ended = rng.random() < 0.2
                end = move_in + timedelta(days=rng.randrange(30, 3000)) if ended else None
                if takeover and end and takeover >= end:
                    takeover = None
                rows.append(
                    Tenancy(
                        participant=person,
                        apartment=next(flat),
                        contract_type=contract,
                        move_in=move_in,
                        move_out=end,
                        exit_reason=rng.choice(REASONS) if ended else "",
                        takeover=takeover,
                    )
                )
        Tenancy.objects.bulk_create(rows, batch_size=5000)


def best(fn, repeat: int) -> tuple[float, object]:
    times, result = [], None
    for _ in range(repeat):
        started = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - started)
    return min(times), result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--participants", type=int, default=50_000)
    parser.add_argument("--tenancies", type=int, default=70_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()

    call_command("migrate", verbosity=0)
    if (
        Tenancy.objects.count() != args.tenancies
        or Participant.objects.count() != args.participants
    ):
        print("Generating data …", file=sys.stderr)
        Tenancy.objects.all().delete()
        Apartment.objects.all().delete()
        Participant.target_groups.through.objects.all().delete()
        Participant.objects.all().delete()
        started = time.perf_counter()
        generate(args.participants, args.tenancies)
        print(f"  generated in {time.perf_counter() - started:.1f} s", file=sys.stderr)

    manager, _ = User.objects.get_or_create(username="bench-manager")
    manager.groups.add(Group.objects.get(name=Role.UNIT_MANAGER.value))
    client = Client()
    client.force_login(manager)

    columns = (
        "participant_id",
        "move_in",
        "move_out",
        "exit_reason",
        "contract_type",
        "takeover",
        "apartment_id",
    )
    floor, rows = best(lambda: list(Tenancy.objects.values_list(*columns)), args.repeat)
    t0, f0 = best(lambda: retention.compute(as_of=AS_OF, months=0), args.repeat)
    t12, f12 = best(lambda: retention.compute(as_of=AS_OF, months=12), args.repeat)
    url = f"/reports/?as_of={AS_OF.isoformat()}"
    dash, response = best(lambda: client.get(url), args.repeat)
    assert response.status_code == 200, response.status_code
    figures = report_figures(as_of=AS_OF, months=0, filters={})
    context = report_context(report=Report(as_of=AS_OF), figures=figures)
    pdf_time, pdf = best(lambda: render_report_pdf(context=context), args.repeat)

    vendor = connection.vendor
    print(
        f"\nRetention benchmark on {vendor}: {args.participants:,} participants, "
        f"{len(rows):,} tenancies (best of {args.repeat})"
    )
    print(
        f"cohort {f0['cohort']:,}, rate {f0['retention_rate']}, "
        f"12-month cohort {f12['cohort']:,}, rate {f12['retention_rate']}\n"
    )
    print(f"| {'measure':<44} | {'seconds':>8} | {'× floor':>7} | {'target':<16} |")
    print(f"|{'-' * 46}|{'-' * 10}|{'-' * 9}|{'-' * 18}|")

    def line(name, seconds, target, ratio=True):
        r = f"{seconds / floor:.2f}" if ratio else ""
        print(f"| {name:<44} | {seconds:>8.3f} | {r:>7} | {target:<16} |")

    line("read the tenancy rows (values_list, floor)", floor, "", ratio=True)
    line("retention, no horizon", t0, "< 1 s, ≤ 5× floor")
    line("retention, 12 months", t12, "< 1 s, ≤ 5× floor")
    line("dashboard page (trend + survival)", dash, "< 2 s", ratio=False)
    line(f"report PDF render ({len(pdf) // 1024} KiB)", pdf_time, "< 2 s", ratio=False)


if __name__ == "__main__":
    main()
