"""python manage.py grant_role USERNAME [ROLE] [--superuser] [--revoke] --reason "…"

The only way to grant the administrator role or superuser status (the admin
refuses both); see bostadforst/grants.py.
"""

import getpass
import os

from django.core.management.base import BaseCommand, CommandError

from bostadforst.grants import GrantError, user_role_grant
from bostadforst.models import RoleGrant, User
from bostadforst.roles import Role


def _operator() -> str:
    """The operating-system account running the command."""
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # a container user without a passwd entry
        return os.environ.get("USER", "") or f"uid {os.getuid()}"


class Command(BaseCommand):
    help = (
        "Grant (or with --revoke withdraw) a role or, with --superuser, superuser status. "
        "A reason is required; it is kept with the grant, and the access log gets a row."
    )

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument("role", nargs="?", choices=Role.values, help="The role's code.")
        parser.add_argument(
            "--superuser", action="store_true", help="Superuser status instead of a role."
        )
        parser.add_argument("--revoke", action="store_true", help="Withdraw instead of grant.")
        parser.add_argument("--reason", default="", help="Why (kept with the grant).")

    def handle(self, *args, username, role, superuser, revoke, reason, **options):
        if bool(role) == bool(superuser):
            raise CommandError("Give either a role or --superuser.")
        try:
            user = User.objects.get(username=username)
        except User.DoesNotExist:
            raise CommandError(f"No user {username!r}.") from None
        grant = RoleGrant.SUPERUSER if superuser else role
        try:
            record = user_role_grant(
                user=user, grant=grant, granted=not revoke, reason=reason, by=_operator()
            )
        except GrantError as exc:
            raise CommandError(f'{exc} Give --reason "…".') from None
        verb = "Withdrew" if revoke else "Granted"
        self.stdout.write(
            self.style.SUCCESS(f"{verb} {grant} for {username} (grant #{record.pk}).")
        )
