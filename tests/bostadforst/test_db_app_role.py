"""The app's database role (``manage.py db_app_role``, PITFALLS 17): the
tables' owner can rewrite the access log past its trigger in three ways; the
role the app runs as can rewrite it in none."""

import io
import os

import pytest
from django.core.management import CommandError, call_command
from django.db import ProgrammingError, connection, transaction
from psycopg.errors import InsufficientPrivilege

from bostadforst.access_log import log_access
from bostadforst.models import AccessLogEntry
from tests.conftest import django_as_owner, owner_connect

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.skipif(connection.vendor != "postgresql", reason="database roles are PostgreSQL's"),
]

LOG = AccessLogEntry._meta.db_table
TRIGGER = "bostadforst_access_log_append_only"
# The role made for these tests when the suite itself runs as the owner.
TEST_ROLE = "bostadforst_test_app"

# Every way to rewrite the log: statements run in one transaction.
REWRITES = {
    "update": [f"UPDATE {LOG} SET model = 'forged'"],
    "delete": [f"DELETE FROM {LOG}"],
    "truncate": [f"TRUNCATE {LOG}"],
    "disable trigger": [
        f"ALTER TABLE {LOG} DISABLE TRIGGER {TRIGGER}",
        f"UPDATE {LOG} SET model = 'forged'",
    ],
    "replication role": [
        "SET LOCAL session_replication_role = replica",
        f"DELETE FROM {LOG}",
    ],
}


# A row the owner writes in its own transaction (rolled back), so that no
# test needs a committed row and the seconds-long flush after it.
OWNER_ROW = (
    f"INSERT INTO {LOG} (at, username, role, action, model, object_id, view_name, chain_hash) "
    "VALUES (now(), '', '', 'read', 'x', '', '', '') RETURNING id"
)


def owner_row(owner) -> int:
    (pk,) = owner.execute(OWNER_ROW).fetchone()
    # Its deferred foreign-key check now, or TRUNCATE and ALTER TABLE refuse
    # to run with the check pending.
    owner.execute("SET CONSTRAINTS ALL IMMEDIATE")
    return pk


def current_user_and_owner() -> tuple[str, str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT current_user, tableowner FROM pg_tables WHERE tablename = %s", [LOG])
        return cursor.fetchone()


@pytest.fixture
def as_app_role(db):
    """The test's own connection as the app's role: it is that role already
    when the suite runs as it (.ci/run); else it becomes a role that
    ``db_app_role`` makes in the test's transaction, gone with its rollback."""
    user, owner = current_user_and_owner()
    if user == owner:
        call_command("db_app_role", role=TEST_ROLE, stdout=io.StringIO())
        with connection.cursor() as cursor:
            cursor.execute(f"SET LOCAL ROLE {TEST_ROLE}")


@pytest.mark.parametrize("way", REWRITES)
def test_the_app_role_is_refused_every_way_of_rewriting_the_log(way, as_app_role):
    row = log_access(action=AccessLogEntry.Action.LOGIN_FAILED, model="x")
    refused = pytest.raises(ProgrammingError, match="permission denied|must be owner")
    with refused as error, transaction.atomic(), connection.cursor() as cursor:  # noqa: PT012
        for statement in REWRITES[way]:
            cursor.execute(statement)
    assert isinstance(error.value.__cause__, InsufficientPrivilege)
    assert list(AccessLogEntry.objects.values_list("pk", "model")) == [(row.pk, "x")]


def test_the_app_role_can_read_and_append_and_that_is_all(as_app_role):
    log_access(action=AccessLogEntry.Action.LOGIN_FAILED, model="x")
    assert AccessLogEntry.objects.count() == 1
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT p, has_table_privilege(%s, p) FROM unnest(%s::text[]) AS p",
            [LOG, ["SELECT", "INSERT", "UPDATE", "DELETE", "TRUNCATE", "TRIGGER", "REFERENCES"]],
        )
        privileges = dict(cursor.fetchall())
    assert privileges == {
        "SELECT": True,
        "INSERT": True,
        "UPDATE": False,
        "DELETE": False,
        "TRUNCATE": False,
        "TRIGGER": False,
        "REFERENCES": False,
    }


@pytest.mark.parametrize("way", ["truncate", "disable trigger", "replication role"])
def test_the_owner_can_rewrite_the_log_so_the_role_is_what_protects_it(way, owner_connection):
    """The other side of the refusals: these are no dead letters."""
    with owner_connection.transaction(force_rollback=True):
        pk = owner_row(owner_connection)
        for statement in REWRITES[way]:
            owner_connection.execute(statement)
        left = owner_connection.execute(f"SELECT model FROM {LOG} WHERE id = %s", [pk]).fetchall()
    assert left in ([], [("forged",)])


def test_the_trigger_refuses_the_owner_a_plain_update_or_delete(owner_connection):
    with owner_connection.transaction(force_rollback=True):
        owner_row(owner_connection)
        for way in ("update", "delete"):
            with (
                pytest.raises(InsufficientPrivilege, match="append-only"),
                owner_connection.transaction(),
            ):
                owner_connection.execute(REWRITES[way][0])


def test_the_postgresql_suite_runs_as_a_role_that_owns_nothing(db):
    """.ci/run sets DATABASE_OWNER_URL, so on CI the whole suite runs with the
    rights the app has in production."""
    user, owner = current_user_and_owner()
    if user == owner:
        if os.environ.get("CI") == "true":
            pytest.fail("CI runs the PostgreSQL suite as the owner: set DATABASE_OWNER_URL")
        pytest.skip("the suite runs as the owner (DATABASE_OWNER_URL is not set)")
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT rolsuper, rolcreatedb, rolcreaterole, rolreplication, rolbypassrls "
            "FROM pg_roles WHERE rolname = current_user"
        )
        assert cursor.fetchone() == (False, False, False, False, False)
        cursor.execute("SELECT count(*) FROM pg_class WHERE relowner = current_user::regrole")
        assert cursor.fetchone() == (0,)
        cursor.execute(
            "SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE n.nspname = current_schema() AND c.relkind IN ('r', 'p') "
            "AND (has_table_privilege(c.oid, 'TRUNCATE') OR has_table_privilege(c.oid, 'TRIGGER'))"
        )
        assert cursor.fetchone() == (0,)


def test_the_command_is_idempotent_and_checks_what_it_granted(transactional_db):
    with django_as_owner():
        first, second = io.StringIO(), io.StringIO()
        call_command("db_app_role", role=TEST_ROLE, stdout=first)
        call_command("db_app_role", role=TEST_ROLE, stdout=second)
        assert first.getvalue() == second.getvalue()
        assert "owns nothing" in first.getvalue()
    with owner_connect() as owner:
        owned = owner.execute(
            "SELECT count(*) FROM pg_class WHERE relowner = %s::regrole", [TEST_ROLE]
        ).fetchone()
        assert owned == (0,)


def test_the_command_refuses_to_make_the_owner_the_app_role(db):
    _, owner = current_user_and_owner()
    with pytest.raises(CommandError, match="owns the tables"):
        call_command("db_app_role", role=owner)


def test_the_command_refuses_a_password_variable_that_is_not_set(monkeypatch):
    monkeypatch.delenv("NO_SUCH_PASSWORD", raising=False)
    with pytest.raises(CommandError, match="NO_SUCH_PASSWORD is not set"):
        call_command("db_app_role", role=TEST_ROLE, password_env="NO_SUCH_PASSWORD")
