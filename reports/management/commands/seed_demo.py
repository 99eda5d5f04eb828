"""python manage.py seed_demo [--password PW]: fictional demo data.

Composed here, at the top of the app layering, because it needs every app.
Each app seeds its own part (``<app>/demo.py``); every part is idempotent.
"""

import importlib
import secrets

import environ
from django.core.management.base import BaseCommand
from django.db import transaction

from bostadforst.demo import DEMO_USERS, seed_users
from bostadforst.models import User

# In dependency order; each module has ``seed(*, users: dict) -> None``.
APP_SEEDERS = ["participants.demo", "housing.demo", "support.demo", "reports.demo"]


class Command(BaseCommand):
    help = "Create demo users (one per role) and a small fictional caseload."

    def add_arguments(self, parser):
        parser.add_argument("--password", help="Password for every demo user.")

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
        with transaction.atomic():
            users = seed_users(password=password, reset_passwords=not generated)
            for module_name in APP_SEEDERS:
                try:
                    module = importlib.import_module(module_name)
                except ModuleNotFoundError as exc:
                    if exc.name != module_name:
                        raise
                    continue
                module.seed(users=users)
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
