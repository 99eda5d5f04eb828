"""The access log's hash chain: every way a row is written chains it to the
one before; ``verify_access_log`` names the first row after a deletion and a
changed row; concurrent inserts on PostgreSQL never share a predecessor; the
migration chains the rows written before it."""

import io
import threading
import time

import pytest
from django.core.management import CommandError, call_command
from django.db import connection, transaction
from django.db.migrations.executor import MigrationExecutor
from django.test import RequestFactory

from bostadforst.access_log import log_access
from bostadforst.models import AccessLogEntry, access_log_hash
from bostadforst.records import record_read
from tests.conftest import django_as_owner
from tests.factories import UserFactory

POSTGRES = connection.vendor == "postgresql"
LOG = AccessLogEntry._meta.db_table
TRIGGER = "bostadforst_access_log_append_only"
Action = AccessLogEntry.Action

pytestmark = pytest.mark.django_db
# On PostgreSQL the owner rewrites rows from its own connection, which sees
# committed rows only: those tests commit (and pay for the flush after). No
# role users in them: the flush empties the role groups.
tampering = pytest.mark.django_db(transaction=POSTGRES)


@pytest.fixture
def tamper(request):
    """Run SQL on the log past every guard of the app: on SQLite directly
    (the trigger is PostgreSQL's), on PostgreSQL as the table's owner with the
    trigger off for that one transaction."""
    if not POSTGRES:

        def run(sql: str, params=()) -> None:
            with connection.cursor() as cursor:
                cursor.execute(sql, params)

        return run
    owner = request.getfixturevalue("owner_connection")

    def run(sql: str, params=()) -> None:
        with owner.transaction():
            owner.execute(f"ALTER TABLE {LOG} DISABLE TRIGGER {TRIGGER}")
            owner.execute(sql, params)
            owner.execute("SET CONSTRAINTS ALL IMMEDIATE")  # no pending events for ALTER
            owner.execute(f"ALTER TABLE {LOG} ENABLE TRIGGER {TRIGGER}")

    return run


def verify(*args) -> str:
    out = io.StringIO()
    call_command("verify_access_log", *args, stdout=out)
    return out.getvalue()


def log_rows(count: int, **fields) -> list[AccessLogEntry]:
    return [
        log_access(action=Action.LOGIN_FAILED, model=f"row {n}", **fields) for n in range(count)
    ]


def values(entry: AccessLogEntry) -> dict:
    return {name: getattr(entry, name) for name in AccessLogEntry.CHAINED_FIELDS}


def test_each_row_hashes_the_one_before_and_its_own_content():
    first, second = log_rows(2)
    assert first.chain_hash == access_log_hash("", values(first))
    assert second.chain_hash == access_log_hash(first.chain_hash, values(second))
    # What was hashed is what the database gives back.
    stored = AccessLogEntry.objects.get(pk=second.pk)
    assert access_log_hash(first.chain_hash, values(stored)) == second.chain_hash


def test_rows_from_every_write_path_form_one_chain():
    user = UserFactory()
    request = RequestFactory().get("/", REMOTE_ADDR="2001:DB8:0:0:0:0:0:1")
    request.user = user
    log_access(action=Action.READ, request=request, model="x", person_id="7")
    AccessLogEntry.objects.create(action=Action.LOCKOUT, username="someone")  # signals
    AccessLogEntry.objects.bulk_create(  # records._log: several people, one INSERT
        AccessLogEntry(action=Action.READ, user=user, username=user.username, person_id=pk)
        for pk in (1, 2, 3)
    )
    record_read(user, user)  # a record without a person: one row through _log
    assert AccessLogEntry.objects.filter(chain_hash="").count() == 0
    assert "chain is intact: 6 rows" in verify()


@tampering
def test_a_deleted_row_breaks_the_link_of_the_next(tamper):
    first, second, third = log_rows(3)
    tamper(f"DELETE FROM {LOG} WHERE id = %s", [second.pk])
    with pytest.raises(CommandError, match=f"row {third.pk} does not follow row {first.pk}"):
        verify()


@tampering
def test_a_changed_row_no_longer_matches_its_hash(tamper):
    _, second, _ = log_rows(3)
    tamper(f"UPDATE {LOG} SET person_id = 99 WHERE id = %s", [second.pk])
    with pytest.raises(CommandError, match=f"row {second.pk} does not match its hash"):
        verify()


def test_a_row_written_past_the_chain_is_named():
    log_rows(1)
    with connection.cursor() as cursor:  # the trigger allows INSERT, and so does the role
        cursor.execute(
            f"INSERT INTO {LOG} (at, username, role, action, model, object_id, view_name, "
            "chain_hash) VALUES (CURRENT_TIMESTAMP, '', '', 'read', '', '', '', '')"
        )
    last = AccessLogEntry.objects.order_by("pk").last()
    with pytest.raises(CommandError, match=f"row {last.pk} has no hash"):
        verify()


@tampering
def test_deleting_an_account_keeps_the_chain_whole_but_not_open_to_change(tamper):
    """Deleting a user sets user_id to NULL in their rows (the one change the
    trigger allows); the rest of each row is still held to its hash."""
    user = UserFactory()
    mine = log_rows(2, user=user)
    log_rows(1)
    user.delete()
    assert not AccessLogEntry.objects.filter(user_id__isnull=False).exists()
    verify()
    tamper(f"UPDATE {LOG} SET model = 'forged' WHERE id = %s", [mine[1].pk])
    with pytest.raises(CommandError, match=f"row {mine[1].pk} does not match its hash"):
        verify()


def test_a_row_detached_from_an_account_that_still_exists_is_found():
    """Setting user_id to NULL is allowed by the trigger (and granted to the
    app's role) for deleted accounts only, as far as the chain is concerned."""
    user = UserFactory()
    _, row = log_rows(2, user=user)
    with connection.cursor() as cursor:
        cursor.execute(f"UPDATE {LOG} SET user_id = NULL WHERE id = %s", [row.pk])
    with pytest.raises(CommandError, match=f"row {row.pk} does not match its hash"):
        verify()


@tampering
def test_a_recorded_head_catches_a_cut_off_end(tamper):
    log_rows(3)
    head = verify().rsplit("Last row: ", 1)[1].strip()
    assert "intact" in verify("--head", head)
    pk = int(head.split(":")[0])
    tamper(f"DELETE FROM {LOG} WHERE id = %s", [pk])
    verify()  # the chain alone cannot see it
    with pytest.raises(CommandError, match=f"row {pk}, recorded as the head, is gone"):
        verify("--head", head)


@pytest.mark.django_db(transaction=True)  # SQLite migrates outside a transaction
def test_the_migration_chains_the_rows_written_before_it():
    """0008 chains the existing rows with a frozen copy of the hash; rows it
    chained verify with the app's own. Migrating needs the owner."""
    before = [("bostadforst", "0007_user_must_change_password")]
    # Rows a test before this one left (see the test below) are chained too.
    existing = AccessLogEntry.objects.count()
    with django_as_owner():
        executor = MigrationExecutor(connection)
        executor.migrate(before)
        old = executor.loader.project_state(before).apps.get_model("bostadforst", "AccessLogEntry")
        old.objects.bulk_create(
            old(action="read", username=f"u{n}", ip=ip, person_id=n)
            for n, ip in enumerate(["10.0.0.1", "::ffff:10.0.0.2", "2001:db8::1", None])
        )
        executor = MigrationExecutor(connection)
        executor.migrate(executor.loader.graph.leaf_nodes())
    assert f"chain is intact: {existing + 4} rows" in verify()
    log_rows(1)
    assert f"chain is intact: {existing + 5} rows" in verify()


@pytest.mark.django_db(transaction=True)  # other threads see committed rows only
@pytest.mark.skipif(not POSTGRES, reason="SQLite serializes writing transactions itself")
def test_a_concurrent_insert_waits_and_chains_to_the_row_of_the_first():
    """Without the lock the second insert would read the last committed row,
    the same one the first chained to, while the first has not committed."""
    logged = threading.Event()
    errors = []

    def in_thread(work):
        def run():
            try:
                work()
            except Exception as exc:  # noqa: BLE001 - reported below
                errors.append(exc)
            finally:
                connection.close()

        return threading.Thread(target=run)

    def slow():
        with transaction.atomic():
            log_access(action=Action.LOGIN_FAILED, model="slow")
            logged.set()
            time.sleep(0.5)

    def fast():
        assert logged.wait(10)
        log_access(action=Action.LOGIN_FAILED, model="fast")

    threads = [in_thread(slow), in_thread(fast)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert not errors
    slow_row, fast_row = AccessLogEntry.objects.order_by("pk")
    assert (slow_row.model, fast_row.model) == ("slow", "fast")
    assert fast_row.chain_hash == access_log_hash(slow_row.chain_hash, values(fast_row))
    verify()


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(not POSTGRES, reason="SQLite serializes writing transactions itself")
def test_many_concurrent_writers_keep_one_chain():
    errors = []

    def writer(n: int) -> None:
        try:
            for i in range(15):
                if i % 3:
                    log_access(action=Action.LOGIN_FAILED, model=f"{n}.{i}")
                else:
                    AccessLogEntry.objects.bulk_create(
                        AccessLogEntry(action=Action.READ, model=f"{n}.{i}", person_id=p)
                        for p in range(3)
                    )
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(exc)
        finally:
            connection.close()

    # Rows a test before this one left on the same database (the accessibility
    # walk's teardown restores the data migration's rows with their log rows)
    # belong to the chain too; this test counts only its own.
    before = set(AccessLogEntry.objects.values_list("pk", flat=True))
    threads = [threading.Thread(target=writer, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert not errors
    written = AccessLogEntry.objects.exclude(pk__in=before)
    assert sorted(written.values_list("model", flat=True)) == sorted(
        f"{n}.{i}" for n in range(4) for i in range(15) for _ in range(1 if i % 3 else 3)
    )
    assert f"chain is intact: {len(before) + 100} rows" in verify()


def test_a_deleted_account_far_past_every_id_left_is_still_found():
    """Ids skip (deleted accounts, rolled-back inserts): the walk looks as far
    as the user table's sequence has gone, not a margin past the ids left."""
    from bostadforst.management.commands.verify_access_log import USER_ID_MARGIN
    from bostadforst.models import User

    UserFactory()
    skip = USER_ID_MARGIN * 3
    table = User._meta.db_table
    with connection.cursor() as cursor:  # as many ids skipped as rolled-back inserts would
        if connection.vendor == "postgresql":
            cursor.execute(
                "SELECT count(nextval(pg_get_serial_sequence(%s, 'id'))) "
                "FROM generate_series(1, %s)",
                [table, skip],
            )
        else:
            cursor.execute(
                "UPDATE sqlite_sequence SET seq = seq + %s WHERE name = %s", [skip, table]
            )
    gone = UserFactory()
    assert gone.pk > max(User.objects.exclude(pk=gone.pk).values_list("pk", flat=True)) + skip - 1
    log_rows(2, user=gone)
    gone.delete()
    verify()
