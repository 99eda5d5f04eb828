"""python manage.py seed_demo [--password PW] [--participants N [--seed S]]:
fictional demo data.

Composed here, at the top of the app layering, because it needs every app.
Each app seeds its own part (``<app>/demo.py``); every part is idempotent.
With ``--participants N`` the small caseload is replaced by a generated one of
N people with three years of records (``reports/scale.py``), into an empty
caseload, reproducible with ``--seed``; the database's statistics are then
refreshed (``ANALYZE``).
"""

import importlib
import secrets
import time

import environ
from django.core.management.base import BaseCommand, CommandError
from django.db import connection, transaction

from bostadforst.demo import DEMO_USERS, seed_users
from bostadforst.models import User
from participants.models import Participant

# In dependency order; each module has ``seed(*, users: dict) -> None``.
APP_SEEDERS = [
    "participants.demo",
    "housing.demo",
    "support.demo",
    "reports.demo",
    "fidelity.demo",
]


class Command(BaseCommand):
    help = "Create demo users (one per role) and a small fictional caseload."

    def add_arguments(self, parser):
        parser.add_argument("--password", help="Password for every demo user.")
        parser.add_argument(
            "--participants",
            type=int,
            help="Generate a caseload of this many people (three years of records) "
            "instead of the small demo caseload; needs an empty caseload.",
        )
        parser.add_argument(
            "--seed", type=int, default=1, help="Random seed of --participants (default 1)."
        )

    def _scale(self, *, users, participants: int, seed: int) -> None:
        from tqdm import tqdm

        from reports.scale import scale_seed

        started = time.monotonic()
        with tqdm(
            total=participants, unit="people", file=self.stderr, disable=None
        ) as bar:  # disable=None: a bar only on a terminal
            counts = scale_seed(
                participants=participants, seed=seed, users=users, progress=bar.update
            )
        self.stdout.write(
            f"Generated {counts['participants']:,} people, {counts['visits']:,} visits, "
            f"{counts['rows']:,} records (each with its history and access-log row) "
            f"in {time.monotonic() - started:.0f} s."
        )

    def _analyze(self) -> None:
        """Refresh the planner's statistics after the bulk load. The generated
        caseload is written in a few bulk statements; until autovacuum (or
        nothing, on SQLite) analyses the tables the planner takes 10,000
        people for a handful of rows and picks nested loops over them (the
        support worker's start page: 0.28 s of SQL instead of 0.014 s, see
        benchmarks/pages.py). ``ANALYZE`` is the same statement on PostgreSQL
        and SQLite. On PostgreSQL only the tables' owner may analyse them: the
        app's own role (PITFALLS 17) is told to have the owner do it."""
        with connection.cursor() as cursor:
            if connection.vendor == "postgresql":
                cursor.execute(
                    "SELECT pg_has_role(relowner, 'USAGE') FROM pg_class WHERE oid = %s::regclass",
                    [Participant._meta.db_table],
                )
                if not cursor.fetchone()[0]:
                    self.stderr.write(
                        "Statistics not refreshed: this database role does not own the "
                        "tables. Run ANALYZE as their owner before measuring anything."
                    )
                    return
            cursor.execute("ANALYZE")

    def handle(self, *args, **options):
        given = options["password"]
        # DEMO_PASSWORD from the environment wins over the one in .env (settings
        # reads .env without overwriting), so only this command knows which
        # password it set: it prints it, and `make run` prints none of its own.
        password = given or environ.Env().str("DEMO_PASSWORD", default="")
        generated = not password
        if generated:
            password = secrets.token_urlsafe(12)
        missing = (
            len(DEMO_USERS) - User.objects.filter(username__in=[u[0] for u in DEMO_USERS]).count()
        )
        scale = options["participants"]
        if scale is not None and scale < 1:
            raise CommandError("--participants must be at least 1.")
        if scale and Participant.objects.exists():
            raise CommandError(
                "--participants needs an empty caseload: use a new database "
                "(the existing people are left alone)."
            )
        with transaction.atomic():
            users = seed_users(password=password, reset_passwords=not generated)
            if scale:
                self._scale(users=users, participants=scale, seed=options["seed"])
            for module_name in [] if scale else APP_SEEDERS:
                try:
                    module = importlib.import_module(module_name)
                except ModuleNotFoundError as exc:
                    if exc.name != module_name:
                        raise
                    continue
                module.seed(users=users)
        if scale:
            self._analyze()
        self.stdout.write(self.style.SUCCESS("Demo data ready. Logins:"))
        for username, _first, _last, role in DEMO_USERS:
            self.stdout.write(f"  {username:<20} {role.label}")
        if generated and missing:
            self.stdout.write(f"Password for new demo users: {password}")
        elif generated:
            self.stdout.write("Existing demo users keep their passwords.")
        elif not given:
            self.stdout.write(f"Password (DEMO_PASSWORD): {password}")
        else:
            self.stdout.write("Password: the one given with --password.")
