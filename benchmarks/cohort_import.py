"""Benchmark of the cohort import against a bare bulk insert of the same rows.

Run on demand (not a test), against PostgreSQL (the server in
``DATABASE_URL`` must let the user create databases):

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/bf_bench_cohort \\
        .venv/bin/python benchmarks/cohort_import.py [--write-readme]

It writes a CSV of 66,000 tenancies of 50,000 people (16,000 of them moved
once; every person with a fictional personnummer) into a temporary folder,
migrates a template database once, and measures, each in a process of its
own (for its peak memory) on a fresh copy of the template:

* the floor: the same participants, landlords, apartments and tenancies read
  from the file and written with Django's ``bulk_create``, without change
  history, access log or any check;
* the import (``reports.cohort.cohort_import``, as the background job runs
  it): every check, change history and an access-log row for every record;
* the same file imported again, into the database the import filled: it
  must change nothing;
* the import's memory: the same import of a smaller file of the same kind
  (``--small``, 20,000 tenancies of 15,000 people: more than one batch of
  ``reports.cohort.PEOPLE_PER_BATCH``, as the large file is), so that the growth of the peak RSS per
  row between the two is the import's memory per row of the file (the rest
  is the process's own). ``--before PATH`` measures at both sizes too the
  import modules (``IMPORT_MODULES``) of another checkout, e.g. a ``git
  worktree`` of an older commit, with the same driver, files and schema.

Each line gives the time, the ratio to the floor (target: at most 4× and
60 s), and the process's peak RSS (``getrusage``) next to its RSS before the
measured step. ``--write-readme`` puts the table into README.md between the
``cohort-import-benchmark`` markers.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import random
import resource
import subprocess
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

ENVIRONMENT = {
    "DJANGO_SETTINGS_MODULE": "bostadforst.settings",
    "DATABASE_URL": "postgres://postgres@127.0.0.1:5432/bf_bench_cohort",
    "DJANGO_READ_DOT_ENV": "false",
    "SECRET_KEY": "benchmark-only-not-secret-0123456789abcdefghijklmnopqrstuvwxyz",
    "ALLOWED_HOSTS": "testserver",
    "DJANGO_DEBUG": "false",
    "SECURE_SSL_REDIRECT": "false",
    "OTP_REQUIRED_FOR_PRIVILEGED": "false",
    "STATIC_MANIFEST": "false",
    "LOG_LEVEL": "WARNING",
}
for _name, _value in ENVIRONMENT.items():
    os.environ.setdefault(_name, _value)

HEADER = [
    "participant_id",
    "personnummer",
    "move_in",
    "move_out",
    "exit_reason",
    "landlord",
    "contract_type",
    "takeover",
]
LANDLORDS = ("Sandvikenhus", "Heimstaden", "Svenska bostäder", "Gavlegårdarna")
REASONS = ("moved_on", "evicted", "terminated", "homelessness", "deceased", "lost_contact")
README_START = "<!-- cohort-import-benchmark:start -->"
README_END = "<!-- cohort-import-benchmark:end -->"


# --- The file -----------------------------------------------------------------------


def write_csv(path: Path, *, people: int, tenancies: int, seed: int = 13) -> None:
    """``tenancies`` rows of ``people`` people: the first ``tenancies -
    people`` of them moved once (the first tenancy ended), the rest have one
    tenancy, a fifth of those ended."""
    from participants.personnummer import generate

    rng = random.Random(seed)
    movers = tenancies - people
    numbers: set[str] = set()
    with path.open("w", newline="", encoding="utf-8") as out:
        writer = csv.writer(out)
        writer.writerow(HEADER)
        for n in range(people):
            ref = f"K{n:06d}"
            number = generate(rng)
            while number in numbers:
                number = generate(rng)
            numbers.add(number)
            move_in = date(2008, 1, 1) + timedelta(days=rng.randrange(0, 10 * 365))
            contract = "social" if rng.random() < 0.6 else "first_hand"
            landlord = rng.choice(LANDLORDS)
            if n < movers:
                end = move_in + timedelta(days=rng.randrange(60, 900))
                reason = "other_hf_apartment" if rng.random() < 0.5 else rng.choice(REASONS)
                writer.writerow([ref, number, move_in, end, reason, landlord, contract, ""])
                move_in = end + timedelta(days=0 if reason == "other_hf_apartment" else 90)
                contract = "first_hand"
            ended = rng.random() < 0.2
            end = move_in + timedelta(days=rng.randrange(30, 1500)) if ended else None
            takeover = ""
            if contract == "social" and rng.random() < 0.25:
                day = move_in + timedelta(days=rng.randrange(1, 25))
                takeover = day if day <= date(2025, 12, 31) and (end is None or day < end) else ""
            writer.writerow(
                [
                    ref,
                    number,
                    move_in,
                    end or "",
                    rng.choice(REASONS) if ended else "",
                    landlord,
                    contract,
                    takeover,
                ]
            )


# --- The measured steps (each in its own process) -----------------------------------


def _rss_mb() -> float:
    """The process's resident memory now (Linux)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


# The import's own modules, in the order they import one another.
IMPORT_MODULES = ("reports.sheets", "reports.cohort_write", "reports.cohort")


def _import_from(root: Path) -> None:
    """Replace the import's modules by those of the checkout ``root`` (the
    rest of the app, and the schema, stay this checkout's)."""
    import importlib.util

    for name in IMPORT_MODULES:
        path = root / (name.replace(".", "/") + ".py")
        spec = importlib.util.spec_from_file_location(name, path)
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)


def child(step: str, csv_path: Path, root: Path | None = None) -> dict:
    import django

    django.setup()
    if root is not None:
        _import_from(root)
    from django.db import connection

    from bostadforst.models import User

    user, _ = User.objects.get_or_create(username="bench-importer")
    connection.close()  # the measured step opens its own connection, as a job does
    before = _rss_mb()
    cpu = resource.getrusage(resource.RUSAGE_SELF)
    cpu_before = cpu.ru_utime + cpu.ru_stime
    started = time.perf_counter()
    if step == "floor":
        floor(csv_path)
        outcome = {}
    else:
        import inspect

        from reports.cohort import cohort_import
        from reports.sheets import read_table

        # The open file, as the job and the command give it (read a chunk at
        # a time); its bytes to a checkout whose reader takes only those.
        streams = "BinaryIO" in str(inspect.signature(read_table).parameters["data"])
        with csv_path.open("rb") as file:
            data = file if streams else file.read()
            result = cohort_import(data=data, filename=csv_path.name, acting_user=user)
        assert result.ok and result.committed, result.errors[:5]
        outcome = {"changes": result.changes, "unchanged": result.tenancies_unchanged}
    seconds = time.perf_counter() - started
    usage = resource.getrusage(resource.RUSAGE_SELF)
    peak = usage.ru_maxrss / 1024
    return {
        "seconds": seconds,
        # The process's own CPU time (the database server's is not in it):
        # steadier than the time on a machine others load.
        "cpu_seconds": usage.ru_utime + usage.ru_stime - cpu_before,
        "rss_before_mb": before,
        "peak_rss_mb": peak,
        "postgresql": connection.pg_version // 10000,
        **outcome,
    }


def floor(csv_path: Path) -> None:
    """The same rows written bare: read, one object per record, bulk_create."""
    from django.db import transaction

    from housing.models import Apartment, Landlord, Tenancy
    from participants.models import Participant

    people: dict[str, Participant] = {}
    landlords = {landlord.name: landlord for landlord in Landlord.objects.all()}
    apartments: list[Apartment] = []
    tenancies: list[Tenancy] = []
    with csv_path.open(encoding="utf-8") as source:
        for row in csv.DictReader(source):
            ref = row["participant_id"]
            person = people.get(ref)
            if person is None:
                person = people[ref] = Participant(
                    external_ref=ref, personnummer=row["personnummer"], status="housed"
                )
            landlord = landlords.get(row["landlord"])
            if landlord is None:
                landlord = landlords[row["landlord"]] = Landlord(name=row["landlord"])
            move_in = date.fromisoformat(row["move_in"])
            apartment = Apartment(landlord=landlord, address=f"{ref} ({move_in:%Y-%m-%d})")
            apartments.append(apartment)
            tenancies.append(
                Tenancy(
                    participant=person,
                    apartment=apartment,
                    contract_type=row["contract_type"],
                    move_in=move_in,
                    move_out=date.fromisoformat(row["move_out"]) if row["move_out"] else None,
                    exit_reason=row["exit_reason"],
                    takeover=date.fromisoformat(row["takeover"]) if row["takeover"] else None,
                )
            )
    with transaction.atomic():
        Landlord.objects.bulk_create([lord for lord in landlords.values() if lord.pk is None])
        Participant.objects.bulk_create(people.values(), batch_size=2000)
        Apartment.objects.bulk_create(apartments, batch_size=2000)
        Tenancy.objects.bulk_create(tenancies, batch_size=2000)


# --- The driver ---------------------------------------------------------------------


def _with_database(url: str, name: str) -> str:
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path=f"/{name}"))


def _admin(url: str, *statements: str) -> None:
    import psycopg

    with psycopg.connect(_with_database(url, "postgres"), autocommit=True) as connection:
        for statement in statements:
            connection.execute(statement)


def _run(args: list[str], url: str) -> dict:
    output = subprocess.run(
        [sys.executable, __file__, *args],
        env={**os.environ, "DATABASE_URL": url},
        capture_output=True,
        text=True,
    )
    if output.returncode:
        sys.exit(f"{' '.join(args[:2])} failed:\n{output.stderr[-3000:]}")
    return json.loads(output.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--people", type=int, default=50_000)
    parser.add_argument("--tenancies", type=int, default=66_000)
    parser.add_argument("--small", type=int, default=20_000, help="tenancies of the small file")
    parser.add_argument("--before", type=Path, help="a checkout whose import is measured too")
    parser.add_argument("--write-readme", action="store_true")
    parser.add_argument("--child", choices=["floor", "import"], help=argparse.SUPPRESS)
    parser.add_argument("--csv", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--root", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(child(args.child, args.csv, args.root)))
        return

    url = os.environ["DATABASE_URL"]
    if not url.startswith(("postgres://", "postgresql://")):
        sys.exit("The benchmark runs on PostgreSQL: set DATABASE_URL to a postgres:// URL.")
    base = urlsplit(url).path.lstrip("/")
    template, run = f"{base}_template", f"{base}_run"
    with tempfile.TemporaryDirectory() as folder:
        csv_path = Path(folder) / "kohort.csv"
        small_path = Path(folder) / "kohort-liten.csv"
        import django

        django.setup()
        write_csv(csv_path, people=args.people, tenancies=args.tenancies)
        # The same kind of file, smaller: the same share of people who moved.
        small_people = args.small * args.people // args.tenancies
        write_csv(small_path, people=small_people, tenancies=args.small)
        size = csv_path.stat().st_size / 1e6
        print(
            f"{args.tenancies:,} tenancies of {args.people:,} people, {size:.1f} MB",
            file=sys.stderr,
        )
        _admin(url, f'DROP DATABASE IF EXISTS "{template}"', f'CREATE DATABASE "{template}"')
        subprocess.run(
            [sys.executable, str(ROOT / "manage.py"), "migrate", "--verbosity", "0"],
            env={**os.environ, "DATABASE_URL": _with_database(url, template)},
            check=True,
        )
        results = {}
        # The import of the whole file last: the same file again goes into
        # the database it filled.
        steps = [("floor", csv_path, None), ("small", small_path, None)]
        if args.before:
            steps += [("before_small", small_path, args.before), ("before", csv_path, args.before)]
        steps.append(("import", csv_path, None))
        for step, path, root in steps:
            _admin(
                url,
                f'DROP DATABASE IF EXISTS "{run}"',
                f'CREATE DATABASE "{run}" TEMPLATE "{template}"',
            )
            child_args = ["--child", "floor" if step == "floor" else "import", "--csv", str(path)]
            if root is not None:
                child_args += ["--root", str(root.resolve())]
            results[step] = _run(child_args, _with_database(url, run))
            print(
                f"  {step}: {results[step]['seconds']:.1f} s "
                f"(CPU {results[step]['cpu_seconds']:.1f} s), "
                f"peak RSS {results[step]['peak_rss_mb']:.0f} MB",
                file=sys.stderr,
            )
        results["again"] = _run(
            ["--child", "import", "--csv", str(csv_path)], _with_database(url, run)
        )
        print(f"  again: {results['again']['seconds']:.1f} s", file=sys.stderr)
        _admin(url, f'DROP DATABASE IF EXISTS "{run}"', f'DROP DATABASE IF EXISTS "{template}"')
    assert results["again"]["changes"] == 0, results["again"]
    results["load"] = os.getloadavg()[1]  # others' work on the machine meanwhile
    table = render(results, args.people, args.tenancies, args.small)
    print(table)
    if args.write_readme:
        write_readme(table)


def render(results: dict, people: int, tenancies: int, small: int) -> str:
    floor = results["floor"]["seconds"]
    labels = {
        "floor": "bare `bulk_create` of the same rows (floor)",
        "import": "`cohort_import` (checks, history, access log)",
        "again": "the same file again (changes nothing)",
    }
    targets = {"floor": "", "import": "≤ 4×, ≤ 60 s", "again": "≤ import"}
    lines = [
        f"Import of {tenancies:,} tenancies of {people:,} people from a CSV into a fresh "
        f"PostgreSQL {results['floor']['postgresql']} database, "
        f"measured {date.today():%Y-%m-%d} (`benchmarks/cohort_import.py`; load average "
        f"{results['load']:.1f} on the {os.cpu_count()}-core machine while it ran):",
        "",
        "| step | time | × floor | CPU time | peak RSS (before) | target |",
        "|---|---|---|---|---|---|",
    ]
    for step, label in labels.items():
        r = results[step]
        lines.append(
            f"| {label} | {r['seconds']:.1f} s | {r['seconds'] / floor:.2f} | "
            f"{r['cpu_seconds']:.1f} s | "
            f"{r['peak_rss_mb']:.0f} MB ({r['rss_before_mb']:.0f} MB) | {targets[step]} |"
        )
    lines += [
        "",
        f"Peak RSS of the import at {small:,} and {tenancies:,} tenancy rows, and its growth "
        "per row between the two (the process's own memory, about the same at both sizes, "
        "drops out):",
        "",
        f"| import | {small:,} rows | {tenancies:,} rows | per row |",
        "|---|---|---|---|",
    ]
    pairs = [("now", "small", "import")]
    if "before" in results:
        pairs.insert(0, ("before (`--before`)", "before_small", "before"))
    for label, low, high in pairs:
        a, b = results[low]["peak_rss_mb"], results[high]["peak_rss_mb"]
        slope = (b - a) * 1024 * 1024 / (tenancies - small)
        lines.append(f"| {label} | {a:.0f} MB | {b:.0f} MB | {slope / 1024:.2f} KB |")
    return "\n".join(lines)


def write_readme(table: str) -> None:
    """Replace the table between the markers (added at the end of the
    Performance section the first time)."""
    readme = ROOT / "README.md"
    text = readme.read_text(encoding="utf-8")
    block = f"{README_START}\n{table}\n{README_END}"
    if README_START in text:
        head, rest = text.split(README_START, 1)
        _old, tail = rest.split(README_END, 1)
        text = head + block + tail
    else:
        text = text.rstrip("\n") + "\n\n" + block + "\n"
    readme.write_text(text, encoding="utf-8")


if __name__ == "__main__":
    main()
