"""Fixtures for every test: one user per role and logged-in clients."""

import os

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
