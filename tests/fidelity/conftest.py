import importlib

import pytest
from django.apps import apps


@pytest.fixture
def fidelity_world(db):
    """The rows data migrations make (the role groups with their permissions,
    the default fidelity scale), made again if a transactional test flushed
    them before this one ran on the same worker. Idempotent."""
    from django.contrib.auth.models import Group

    from bostadforst.roles import Role
    from bostadforst.signals import sync_role_permissions

    for role in Role:
        Group.objects.get_or_create(name=role.value)
    sync_role_permissions(sender=None)
    seed = importlib.import_module("fidelity.migrations.0002_seed_default_scale").seed
    seed(apps, None)
