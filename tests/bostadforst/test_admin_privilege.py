"""No self-escalation in the admin: one's own privileges are read-only, the
administrator role and superuser status are granted only on the command line
(``manage.py grant_role``, with a reason, logged), an administrator cannot
touch a superuser's account, and superuser logins are flagged in the log review."""

import pytest
from django.contrib.auth.models import Group, Permission
from django.core.management import CommandError, call_command
from django.urls import reverse

from bostadforst.models import AccessLogEntry, RoleGrant, User
from bostadforst.roles import Role

from ..factories import TEST_PASSWORD, UserFactory
from .test_admin_walk import rendered_post

pytestmark = pytest.mark.django_db
Action = AccessLogEntry.Action
PRIVILEGES = ("is_superuser", "is_staff", "groups", "user_permissions")


def change_url(user) -> str:
    return reverse("admin:bostadforst_user_change", args=[user.pk])


def password_url(user) -> str:
    return reverse("admin:auth_user_password_change", args=[user.pk])


def post_change(client, user, **changes):
    """Post ``user``'s change page as rendered, with ``changes`` on top."""
    page = client.get(change_url(user))
    assert page.status_code == 200
    data = rendered_post(page)
    data.update(changes)
    return client.post(change_url(user), data)


@pytest.fixture
def superuser(db):
    return UserFactory(username="root", is_superuser=True, is_staff=True)


def group(role: Role) -> Group:
    return Group.objects.get(name=role.value)


# --- One's own account ------------------------------------------------------------------


def test_ones_own_privileges_are_read_only_on_ones_own_change_page(
    admin_user_client, administrator
):
    page = admin_user_client.get(change_url(administrator))

    form = page.context["adminform"].form
    assert not set(PRIVILEGES) & set(form.fields), sorted(form.fields)


@pytest.mark.parametrize("who", ["administrator", "superuser"])
def test_a_posted_privilege_change_to_ones_own_account_changes_nothing(request, client_for, who):
    user = request.getfixturevalue(who)
    before = (user.is_superuser, user.is_staff, set(user.groups.all()))
    perm = Permission.objects.get(codename="view_participant")

    response = post_change(
        client_for(user),
        user,
        is_superuser="on",
        is_staff="",
        groups=[g.pk for g in Group.objects.all()],
        user_permissions=[perm.pk],
    )

    assert response.status_code in (200, 302)
    user.refresh_from_db()
    assert (user.is_superuser, user.is_staff, set(user.groups.all())) == before
    assert not user.user_permissions.exists()


def test_the_probe_administrator_cannot_become_superuser(admin_user_client, administrator):
    """The finding: tick "Superuser status" on one's own account, then read case data."""
    post_change(admin_user_client, administrator, is_superuser="on")

    administrator.refresh_from_db()
    assert not administrator.is_superuser
    assert (
        admin_user_client.get(reverse("admin:participants_participant_changelist")).status_code
        == 403
    )


# --- Other accounts ---------------------------------------------------------------------


def test_an_administrator_gives_other_roles_in_the_admin(admin_user_client, social_worker):
    response = post_change(admin_user_client, social_worker, groups=[group(Role.SUPPORT_STAFF).pk])

    assert response.status_code == 302
    assert set(social_worker.groups.all()) == {group(Role.SUPPORT_STAFF)}


@pytest.mark.parametrize("who", ["administrator", "superuser"])
def test_the_administrator_role_cannot_be_granted_in_the_admin(
    request, client_for, social_worker, who
):
    user = request.getfixturevalue(who)

    response = post_change(
        client_for(user),
        social_worker,
        groups=[group(Role.SOCIAL_WORKER).pk, group(Role.ADMINISTRATOR).pk],
    )

    assert response.status_code == 200
    errors = response.context["adminform"].form.errors.as_data()
    assert [e.code for e in errors["groups"]] == ["grant_on_command_line"]
    assert "manage.py grant_role" in response.content.decode()
    assert set(social_worker.groups.all()) == {group(Role.SOCIAL_WORKER)}


def test_removing_the_administrator_role_in_the_admin_is_allowed(admin_user_client):
    other = UserFactory(username="adm2", role=Role.ADMINISTRATOR)

    response = post_change(admin_user_client, other, groups=[])

    assert response.status_code == 302
    assert not other.groups.exists()


@pytest.mark.parametrize("who", ["administrator", "superuser"])
def test_superuser_status_cannot_be_granted_in_the_admin(request, client_for, social_worker, who):
    client = client_for(request.getfixturevalue(who))

    page = client.get(change_url(social_worker))
    post_change(client, social_worker, is_superuser="on", user_permissions=[1, 2])

    assert "is_superuser" not in page.context["adminform"].form.fields
    assert "user_permissions" not in page.context["adminform"].form.fields
    social_worker.refresh_from_db()
    assert not social_worker.is_superuser
    assert not social_worker.user_permissions.exists()


def test_an_administrator_cannot_change_a_superuser_or_set_its_password(
    admin_user_client, superuser
):
    data = {"password1": "ett-nytt-lösenord-2026!", "password2": "ett-nytt-lösenord-2026!"}

    assert admin_user_client.post(password_url(superuser), data).status_code == 403
    assert admin_user_client.get(password_url(superuser)).status_code == 403
    page = admin_user_client.get(change_url(superuser))
    assert page.status_code == 200  # listed and shown, read-only
    assert admin_user_client.post(change_url(superuser), {"username": "x"}).status_code == 403
    superuser.refresh_from_db()
    assert superuser.username == "root"
    assert superuser.check_password(TEST_PASSWORD)


def test_group_changes_in_the_admin_are_in_the_access_log(
    administrator, admin_user_client, social_worker
):
    post_change(admin_user_client, social_worker, groups=[group(Role.SUPPORT_STAFF).pk])

    row = AccessLogEntry.objects.get(action=Action.UPDATE, model="bostadforst.User")
    assert (row.user, row.object_id) == (administrator, str(social_worker.pk))


# --- manage.py grant_role ---------------------------------------------------------------


def test_grant_role_gives_the_administrator_role_with_a_reason_logged(social_worker):
    call_command("grant_role", "sw", "administrator", reason="Ny systemförvaltare, beslut 2026-17")

    social_worker.refresh_from_db()
    assert social_worker.role == Role.ADMINISTRATOR
    assert social_worker.is_staff
    grant = RoleGrant.objects.get()
    assert (grant.user, grant.grant, grant.granted, grant.reason) == (
        social_worker,
        "administrator",
        True,
        "Ny systemförvaltare, beslut 2026-17",
    )
    row = AccessLogEntry.objects.get(action=Action.UPDATE, model="bostadforst.User")
    assert row.object_id == str(social_worker.pk)
    assert row.username.endswith("(manage.py grant_role)")


def test_grant_role_superuser_and_revoke(administrator):
    call_command("grant_role", "adm", superuser=True, reason="Break-glass, incident 4711")
    administrator.refresh_from_db()
    assert administrator.is_superuser and administrator.is_staff

    call_command("grant_role", "adm", superuser=True, revoke=True, reason="Incident 4711 closed")
    administrator.refresh_from_db()
    assert not administrator.is_superuser
    assert administrator.is_staff  # still an administrator
    assert list(RoleGrant.objects.order_by("pk").values_list("grant", "granted")) == [
        ("superuser", True),
        ("superuser", False),
    ]
    assert (
        AccessLogEntry.objects.filter(action=Action.UPDATE, model="bostadforst.User").count() == 2
    )


def test_revoking_the_administrator_role_ends_admin_access(administrator):
    call_command("grant_role", "adm", "administrator", revoke=True, reason="Byter tjänst")

    administrator.refresh_from_db()
    assert administrator.role is None
    assert not administrator.is_staff


@pytest.mark.parametrize(
    ("args", "options"),
    [
        (["sw", "administrator"], {}),  # no reason
        (["sw", "administrator"], {"reason": "   "}),
        (["nobody", "administrator"], {"reason": "x"}),
        (["sw"], {"reason": "x"}),  # neither a role nor --superuser
        (["sw", "administrator"], {"reason": "x", "superuser": True}),  # both
    ],
)
def test_grant_role_refuses_without_reason_user_or_role(social_worker, args, options):
    with pytest.raises(CommandError):
        call_command("grant_role", *args, **options)

    assert not RoleGrant.objects.exists()
    social_worker.refresh_from_db()
    assert social_worker.role == Role.SOCIAL_WORKER and not social_worker.is_superuser


def test_grant_role_refuses_an_unknown_role(social_worker):
    with pytest.raises(CommandError):
        call_command("grant_role", "sw", "king", reason="x")


def test_role_grants_are_shown_read_only_in_the_admin(admin_user_client, social_worker):
    call_command("grant_role", "sw", "unit_manager", reason="Ny enhetschef")
    url = reverse("admin:bostadforst_rolegrant_changelist")

    response = admin_user_client.get(url)

    assert response.status_code == 200
    grant = RoleGrant.objects.get()
    change = admin_user_client.get(reverse("admin:bostadforst_rolegrant_change", args=[grant.pk]))
    assert "Ny enhetschef" in change.content.decode()
    assert (
        admin_user_client.post(
            reverse("admin:bostadforst_rolegrant_change", args=[grant.pk]), {"reason": "x"}
        ).status_code
        == 403
    )


# --- Superuser logins in the log review -------------------------------------------------


def test_superuser_logins_are_flagged_in_the_log_review(
    client, superuser, support_staff, um_client
):
    for user in (superuser, support_staff):
        client.post(reverse("login"), {"username": user.username, "password": TEST_PASSWORD})
        client.post(reverse("logout"))

    response = um_client.get(reverse("bostadforst:access-log"), {"action": "login"})

    flags = {e.username: [str(f) for f in fl] for e, fl in response.context["rows"]}
    assert (flags["root"], flags["ss"]) == (["inloggning som superanvändare"], [])
    assert "inloggning som superanvändare" in response.content.decode()


def test_a_superuser_login_stays_flagged_after_the_status_is_revoked(client, superuser, um_client):
    client.post(reverse("login"), {"username": "root", "password": TEST_PASSWORD})
    User.objects.filter(pk=superuser.pk).update(is_superuser=False)

    response = um_client.get(reverse("bostadforst:access-log"), {"action": "login"})

    flags = [[str(f) for f in fl] for e, fl in response.context["rows"] if e.username == "root"]
    assert flags == [["inloggning som superanvändare"]]


@pytest.mark.django_db
def test_the_admin_index_names_third_party_apps_in_swedish(admin_user_client):
    html = admin_user_client.get(reverse("admin:index")).content.decode()
    for english in ("Axes", "AXES", "Access attempts", "Access logs", "Otp_Totp", "TOTP devices"):
        assert english not in html, english
    for swedish in ("Inloggningsspärrar", "Inloggningsförsök", "Tvåfaktorsinloggning"):
        assert swedish in html, swedish
