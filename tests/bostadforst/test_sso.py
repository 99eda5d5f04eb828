"""The claim -> role mapping shared by OpenID Connect and SAML logins."""

import pytest
from django.contrib.auth.models import Group

from bostadforst.models import AccessLogEntry, RoleGrant
from bostadforst.roles import Role, role_of
from bostadforst.sso import role_map, roles_from_claims, sync_user_role
from tests.factories import UserFactory

MAP = {"grp-sw": "social_worker", "grp-boss": "unit_manager", "grp-it": "administrator"}


def test_roles_from_claims_picks_the_most_privileged_mapped_value():
    assert roles_from_claims(["other", "grp-sw", "grp-boss"], MAP) == Role.UNIT_MANAGER
    assert roles_from_claims("grp-sw", MAP) == Role.SOCIAL_WORKER
    assert roles_from_claims(["other"], MAP) is None
    assert roles_from_claims([], MAP) is None
    assert roles_from_claims(None, MAP) is None


def test_role_map_reads_json_and_refuses_unknown_roles(settings):
    settings.OIDC_ROLE_MAP = '{"a": "support_staff"}'
    assert roles_from_claims(["a"]) == Role.SUPPORT_STAFF
    with pytest.raises(ValueError):
        role_map({"a": "king"})


@pytest.mark.django_db
def test_sync_user_role_replaces_the_role_group_and_keeps_it_on_record():
    user = UserFactory(role=Role.SOCIAL_WORKER)
    other = Group.objects.create(name="not-a-role")
    user.groups.add(other)
    assert sync_user_role(user, Role.ADMINISTRATOR, source="oidc")
    user.refresh_from_db()
    assert role_of(user) == Role.ADMINISTRATOR
    assert user.is_staff
    assert set(user.groups.values_list("name", flat=True)) == {"administrator", "not-a-role"}
    grants = set(RoleGrant.objects.filter(user=user).values_list("grant", "granted", "by"))
    assert grants == {("social_worker", False, "oidc"), ("administrator", True, "oidc")}
    assert AccessLogEntry.objects.filter(
        object_id=str(user.pk), action=AccessLogEntry.Action.UPDATE
    ).exists()
    # Nothing changes: nothing is written.
    assert not sync_user_role(user, Role.ADMINISTRATOR, source="oidc")
    assert RoleGrant.objects.filter(user=user).count() == 2
    # Removed from the group: no role, no admin site.
    assert sync_user_role(user, None, source="oidc")
    user.refresh_from_db()
    assert role_of(user) is None
    assert not user.is_staff
