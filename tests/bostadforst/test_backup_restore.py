"""`make backup` / `make restore` (README, "Drift") against PostgreSQL: a dump
of the test database restored into a scratch database, first empty (the
database lost) and then damaged, gives the same rows and media files back."""

import os
import shutil
import subprocess
import sys
from pathlib import Path
from urllib.parse import quote

import pytest
from django.db import connection

from bostadforst.access_log import log_access
from bostadforst.models import AccessLogEntry
from tests.conftest import owner_connect, owner_credentials

from ..participants.factories import ParticipantFactory

ROOT = Path(__file__).resolve().parents[2]

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.skipif(connection.vendor != "postgresql", reason="pg_dump is PostgreSQL's"),
    pytest.mark.skipif(
        not (shutil.which("pg_dump") and shutil.which("pg_restore") and shutil.which("make")),
        reason="needs pg_dump, pg_restore and make",
    ),
]


def database_url(name: str) -> str:
    """The URL of database ``name`` on the test server, as the tables' owner."""
    db = {**connection.settings_dict, **(owner_credentials() or {})}
    user = quote(db["USER"] or "", safe="")
    if db["PASSWORD"]:
        user += ":" + quote(db["PASSWORD"], safe="")
    port = f":{db['PORT']}" if db["PORT"] else ""
    return f"postgres://{user}@{db['HOST'] or '127.0.0.1'}{port}/{name}"


def row_counts(url: str) -> dict[str, int]:
    import psycopg

    with psycopg.connect(url.replace("postgres://", "postgresql://", 1)) as conn:
        tables = [
            name
            for (name,) in conn.execute(
                "SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY 1"
            )
        ]
        return {t: conn.execute(f'SELECT count(*) FROM "{t}"').fetchone()[0] for t in tables}


def make(target: str, **variables) -> subprocess.CompletedProcess:
    env = {**os.environ, "DATABASE_URL": variables.pop("DATABASE_URL")}
    return subprocess.run(
        ["make", "--no-print-directory", target, *(f"{k}={v}" for k, v in variables.items())],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )


@pytest.fixture
def scratch_database():
    """An empty database next to the test database, dropped afterwards."""
    name = f"{connection.settings_dict['NAME']}_restore"[:63]
    with owner_connect() as owner:
        owner.execute(f'DROP DATABASE IF EXISTS "{name}"')
        owner.execute(f'CREATE DATABASE "{name}"')
    yield name
    with owner_connect() as owner:
        owner.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def test_backup_then_restore_into_a_lost_and_into_a_damaged_database(
    transactional_db, tmp_path, scratch_database
):
    for _ in range(3):
        person = ParticipantFactory()
        log_access(action=AccessLogEntry.Action.READ, obj=person, person_id=person.pk)
    media = tmp_path / "media"
    (media / "reports").mkdir(parents=True)
    (media / "reports" / "rapport.pdf").write_bytes(b"%PDF-1.7 a report")
    backups = tmp_path / "backups"
    source = database_url(connection.settings_dict["NAME"])

    result = make("backup", DATABASE_URL=source, BACKUP_DIR=backups, MEDIA_ROOT=media)
    assert result.returncode == 0, result.stdout + result.stderr
    (dump,) = backups.glob("db-*.dump")
    stamp = dump.name.removeprefix("db-").removesuffix(".dump")
    assert (backups / f"media-{stamp}.tar.gz").is_file()
    expected = row_counts(source)
    assert expected["participants_participant"] == 3
    assert expected["bostadforst_accesslogentry"] >= 3

    target = database_url(scratch_database)
    restored_media = tmp_path / "restored-media"
    # Without CONFIRM=yes nothing is touched.
    refused = make("restore", DATABASE_URL=target, BACKUP_DIR=backups, STAMP=stamp)
    assert refused.returncode != 0 and "CONFIRM=yes" in refused.stdout
    assert row_counts(target) == {}

    def restore():
        result = make(
            "restore",
            DATABASE_URL=target,
            BACKUP_DIR=backups,
            MEDIA_ROOT=restored_media,
            STAMP=stamp,
            CONFIRM="yes",
        )
        assert result.returncode == 0, result.stdout + result.stderr

    # The database lost: restored into an empty one.
    restore()
    assert row_counts(target) == expected
    assert (restored_media / "reports" / "rapport.pdf").read_bytes() == b"%PDF-1.7 a report"

    # Damaged: a table dropped, media changed; restored over it.
    import psycopg

    with psycopg.connect(target.replace("postgres://", "postgresql://", 1)) as conn:
        conn.execute("DROP TABLE participants_participant CASCADE")
    (restored_media / "reports" / "rapport.pdf").write_bytes(b"overwritten")
    restore()
    assert row_counts(target) == expected
    assert (restored_media / "reports" / "rapport.pdf").read_bytes() == b"%PDF-1.7 a report"
    assert (tmp_path / f"restored-media.before-{stamp}" / "reports" / "rapport.pdf").is_file()

    # The access log's hash chain came through intact.
    verify = subprocess.run(
        [sys.executable, "manage.py", "verify_access_log"],
        cwd=ROOT,
        env={**os.environ, "DATABASE_URL": target},
        capture_output=True,
        text=True,
        check=False,
    )
    assert verify.returncode == 0, verify.stdout + verify.stderr
