"""Demo users, one per role (and a second social worker and support worker)."""

from django.contrib.auth.models import Group

from .models import User
from .roles import Role

DEMO_USERS = [
    # username, first name, last name, role
    ("socialsekreterare", "Sara", "Lind", Role.SOCIAL_WORKER),
    ("socialsekreterare2", "Omar", "Haddad", Role.SOCIAL_WORKER),
    ("boendestodjare", "Jonas", "Berg", Role.SUPPORT_STAFF),
    ("boendestodjare2", "Maria", "Nilsson", Role.SUPPORT_STAFF),
    ("enhetschef", "Eva", "Holm", Role.UNIT_MANAGER),
    ("admin", "Anders", "Ek", Role.ADMINISTRATOR),
]


def seed_users(*, password: str, reset_passwords: bool) -> dict[str, User]:
    """Create the demo users if missing. An existing user's password is only
    changed with ``reset_passwords`` (a password given on the command line),
    so a second plain run changes nothing."""
    users = {}
    for username, first, last, role in DEMO_USERS:
        user, created = User.objects.get_or_create(
            username=username,
            defaults={
                "first_name": first,
                "last_name": last,
                "email": f"{username}@example.se",
                "is_staff": role == Role.ADMINISTRATOR,
            },
        )
        if created or (reset_passwords and not user.check_password(password)):
            user.set_password(password)
            user.save()
        user.groups.add(Group.objects.get(name=role.value))
        users[username] = user
    return users
