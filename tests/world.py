"""The demo world for project-wide walking tests.

``build_world()`` runs ``seed_demo`` with a fixed password and returns the
demo users by username and by role, a logged-in client for any of them, and
the samples every app declares in ``tests/<app>/url_samples.py``::

    SAMPLES = {"participants:referral-detail": lambda world: {"pk": ...}}
    FORM_SAMPLES = {"participants:referral-add-information": lambda world: {"note": ...}}

``SAMPLES`` give a URL's arguments, ``FORM_SAMPLES`` valid POST data for a
form page (what a user would type; the walk adds the page's submit token).
Apps without that module (yet) are skipped, so a new app adds its samples
without touching this file.
"""

import importlib
import io
from collections.abc import Callable
from dataclasses import dataclass, field

from django.conf import settings
from django.core.management import call_command
from django.test import Client

from bostadforst.models import User
from bostadforst.roles import Role

WORLD_PASSWORD = "demo-lösen-för-tester-2026"

ROLE_USERNAMES = {
    Role.SOCIAL_WORKER: "socialsekreterare",
    Role.SUPPORT_STAFF: "boendestodjare",
    Role.UNIT_MANAGER: "enhetschef",
    Role.ADMINISTRATOR: "admin",
}


def local_apps() -> list[str]:
    """The project's own apps (those living in this repository)."""
    return [
        name
        for name in settings.INSTALLED_APPS
        if "." not in name and (settings.BASE_DIR / name).is_dir()
    ]


def _load(name: str) -> dict[str, Callable]:
    """Merge the dict ``name`` from every ``tests/<app>/url_samples.py`` that exists."""
    samples: dict[str, Callable] = {}
    for app in local_apps():
        module_name = f"tests.{app}.url_samples"
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as exc:
            if exc.name != module_name:
                raise
            continue
        samples.update(getattr(module, name, {}))
    return samples


def load_samples() -> dict[str, Callable]:
    """Merge ``SAMPLES`` (URL arguments) from every app."""
    return _load("SAMPLES")


def load_form_samples() -> dict[str, Callable]:
    """Merge ``FORM_SAMPLES`` (valid POST data per form page) from every app."""
    return _load("FORM_SAMPLES")


@dataclass
class World:
    users: dict[str, User]
    password: str = WORLD_PASSWORD
    samples: dict[str, Callable] = field(default_factory=load_samples)
    form_samples: dict[str, Callable] = field(default_factory=load_form_samples)

    def user(self, role: Role) -> User:
        return self.users[ROLE_USERNAMES[Role(role)]]

    @property
    def social_worker(self) -> User:
        return self.users["socialsekreterare"]

    @property
    def other_social_worker(self) -> User:
        return self.users["socialsekreterare2"]

    @property
    def support_staff(self) -> User:
        return self.users["boendestodjare"]

    @property
    def other_support_staff(self) -> User:
        return self.users["boendestodjare2"]

    @property
    def unit_manager(self) -> User:
        return self.users["enhetschef"]

    @property
    def administrator(self) -> User:
        return self.users["admin"]

    @property
    def by_role(self) -> dict[Role, User]:
        return {role: self.user(role) for role in ROLE_USERNAMES}

    def client(self, who: "Role | str | User | None" = None) -> Client:
        """A client logged in as a role, a username or a user (None: anonymous)."""
        client = Client()
        if who is None:
            return client
        if isinstance(who, User):
            user = who
        elif isinstance(who, Role) or who in Role.values:
            user = self.user(Role(who))
        else:
            user = self.users[who]
        client.force_login(user)
        return client

    def url_kwargs(self, route) -> dict:
        """Arguments for ``route`` from the apps' samples; {} when it takes none.

        Raises LookupError naming the route when it takes arguments and no
        ``tests/<app>/url_samples.py`` gives a sample.
        """
        if not route.converters:
            return {}
        try:
            sample = self.samples[route.name]
        except KeyError:
            app = route.name.split(":", 1)[0]
            raise LookupError(
                f"URL {route.name!r} ({route.pattern}) takes {sorted(route.converters)} but "
                f"tests/{app}/url_samples.py has no SAMPLES[{route.name!r}]: add a lambda "
                "world: {...} giving real arguments"
            ) from None
        return sample(self)

    def form_data(self, route) -> dict:
        """Valid POST data for the form page ``route``, from the apps' samples.

        Raises LookupError naming the route when no ``tests/<app>/url_samples.py``
        gives a ``FORM_SAMPLES`` entry for it.
        """
        try:
            sample = self.form_samples[route.name]
        except KeyError:
            app = route.name.split(":", 1)[0]
            raise LookupError(
                f"Form page {route.name!r} ({route.pattern}) saves through a service but "
                f"tests/{app}/url_samples.py has no FORM_SAMPLES[{route.name!r}]: add a "
                "lambda world: {...} giving valid POST data (include the current 'version' "
                "for a VersionedModelForm)"
            ) from None
        return sample(self)


def build_world() -> World:
    """Seed the demo data (all apps) and return the world around it."""
    call_command("seed_demo", "--password", WORLD_PASSWORD, stdout=io.StringIO())
    users = {u.username: u for u in User.objects.all()}
    return World(users=users)
