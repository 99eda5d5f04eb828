"""Fixtures for every test: one user per role and logged-in clients; on
PostgreSQL, the test database set up so that the suite runs as the app's
least-privileged role."""

import contextlib
import io
import os
from unittest import mock

import environ
import psycopg
import pytest
from django.test import Client
from hypothesis import HealthCheck, settings

from bostadforst.roles import Role

from .factories import UserFactory

settings.register_profile(
    "ci",
    derandomize=True,
    deadline=None,
    max_examples=60,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
settings.register_profile("dev", deadline=None, max_examples=30)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "dev"))


# --- The test database --------------------------------------------------------
# With DATABASE_OWNER_URL set (.ci/run sets it), the test database is created
# and migrated as that owner, ``db_app_role`` gives the role in DATABASE_URL
# what the app gets in production, and the tests then connect as that role
# (PITFALLS 17). It may not TRUNCATE, so the flush after a transactional test
# runs as the owner, as do tests that need owner rights (``owner_connection``).
# Without it, everything runs as the DATABASE_URL user, as before.

CREDENTIALS = ("USER", "PASSWORD", "HOST", "PORT")
# The app role's credentials while the owner's are in use (one per process).
app_credentials: dict[str, str] = {}


def owner_credentials() -> dict | None:
    url = os.environ.get("DATABASE_OWNER_URL")
    if not url:
        return None
    config = environ.Env.db_url_config(url)
    return {key: config.get(key) or "" for key in CREDENTIALS}


def owner_connect(*, owner: bool = True) -> psycopg.Connection:
    """A new connection to the test database as the tables' owner (autocommit),
    or with ``owner=False`` as the role the suite runs as."""
    from django.db import connection

    db = {**connection.settings_dict, **((owner and owner_credentials()) or {})}
    return psycopg.connect(
        dbname=db["NAME"],
        user=db["USER"] or None,
        password=db["PASSWORD"] or None,
        host=db["HOST"] or None,
        port=db["PORT"] or None,
        autocommit=True,
    )


@contextlib.contextmanager
def django_as_owner():
    """The test's own Django connection as the owner for a while, e.g. to run
    a management command that needs owner rights (transactional tests only:
    the connection is closed on the way in and out)."""
    from django.db import connection

    if not app_credentials:
        yield
        return
    connection.close()
    connection.settings_dict.update(owner_credentials())
    try:
        yield
    finally:
        connection.close()
        connection.settings_dict.update(app_credentials)


def flush_as_owner(ops, sql_list) -> None:
    """``DatabaseOperations.execute_sql_flush`` for the app's role: the owner
    runs Django's TRUNCATE (and sequence resets) in one transaction."""
    with owner_connect() as owner, owner.transaction():
        for statement in sql_list:
            owner.execute(statement)


@pytest.fixture(scope="session")
def django_db_modify_db_settings(django_db_modify_db_settings):
    """Create and migrate the test database as the owner."""
    from django.db import connection

    owner = owner_credentials()
    if owner and connection.vendor == "postgresql":
        app_credentials.update({key: connection.settings_dict[key] for key in CREDENTIALS})
        connection.settings_dict.update(owner)


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup, django_db_blocker):
    """Then grant the app's role its rights and connect as it."""
    from django.core.management import call_command
    from django.db import connection

    if not app_credentials:
        yield
        return
    with django_db_blocker.unblock():
        call_command("db_app_role", role=app_credentials["USER"], stdout=io.StringIO())
        connection.close()
    connection.settings_dict.update(app_credentials)
    # On the class: a thread or async context (the browser tests) gets a
    # connection object of its own.
    with mock.patch.object(type(connection.ops), "execute_sql_flush", flush_as_owner):
        yield
    # pytest-django drops the database (without --reuse-db) as the owner.
    with django_db_blocker.unblock():
        connection.close()
    connection.settings_dict.update(owner_credentials())


@pytest.fixture
def owner_connection(django_db_setup):
    """A psycopg connection to the test database as the tables' owner
    (PostgreSQL only; autocommit). Not the test's own connection: it sees
    committed rows only (a test's own rows need ``transactional_db``, whose
    flush costs seconds; a test can work in a transaction of this connection
    instead and roll it back)."""
    from django.db import connection

    if connection.vendor != "postgresql":
        pytest.skip("database roles are PostgreSQL only")
    with owner_connect() as owner:
        yield owner


@pytest.fixture(autouse=True)
def fast_password_hasher(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def social_worker(db):
    return UserFactory(username="sw", role=Role.SOCIAL_WORKER)


@pytest.fixture
def other_social_worker(db):
    return UserFactory(username="sw2", role=Role.SOCIAL_WORKER)


@pytest.fixture
def support_staff(db):
    return UserFactory(username="ss", role=Role.SUPPORT_STAFF)


@pytest.fixture
def unit_manager(db):
    return UserFactory(username="um", role=Role.UNIT_MANAGER)


@pytest.fixture
def administrator(db):
    return UserFactory(username="adm", role=Role.ADMINISTRATOR)


@pytest.fixture
def role_users(social_worker, support_staff, unit_manager, administrator):
    return {
        Role.SOCIAL_WORKER: social_worker,
        Role.SUPPORT_STAFF: support_staff,
        Role.UNIT_MANAGER: unit_manager,
        Role.ADMINISTRATOR: administrator,
    }


def _client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def sw_client(social_worker):
    return _client_for(social_worker)


@pytest.fixture
def ss_client(support_staff):
    return _client_for(support_staff)


@pytest.fixture
def um_client(unit_manager):
    return _client_for(unit_manager)


@pytest.fixture
def admin_user_client(administrator):
    return _client_for(administrator)


@pytest.fixture
def client_for():
    """Log in any user: ``client_for(user)``."""
    return _client_for


@pytest.fixture(scope="module")
def world(django_db_setup, django_db_blocker):
    """The seeded demo world, built once per test module and rolled back after it.

    Tests that use it also take ``db`` (each test then runs in a savepoint
    inside this module's transaction, so nothing leaks between tests).
    """
    from django.db import transaction

    from .world import build_world

    with django_db_blocker.unblock():
        atomic = transaction.atomic()
        atomic.__enter__()
        try:
            yield build_world()
        finally:
            transaction.set_rollback(True)
            atomic.__exit__(None, None, None)
