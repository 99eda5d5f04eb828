"""Walk the access log's hash chain and name the first broken row.

Each row's ``chain_hash`` is the hash of the row before it and its own content
(``bostadforst.models.access_log_hash``). Walking in id order, a row whose
hash does not match was changed, or the row before it was deleted (its
successor then links to a hash that is gone); a gap in the ids before it says
which is likelier, though ids also skip for inserts that were rolled back.

The chain cannot show rows cut off its end, nor a chain recomputed from the
first changed row on by someone who can rewrite the table. Against both, keep
the last row and hash this command prints somewhere outside the database, and
pass them later as ``--head ID:HASH``: that row must still be there, unchanged.
"""

from django.core.management.base import BaseCommand, CommandError
from django.db import DEFAULT_DB_ALIAS, connections
from django.db.models import Max

from bostadforst.models import AccessLogEntry, User, access_log_hash

FIELDS = AccessLogEntry.CHAINED_FIELDS
# How far past the highest user id known to look for the id of a deleted
# account (see ``Walk.deleted_user``).
USER_ID_MARGIN = 1000


class Command(BaseCommand):
    help = "Verify the access log's hash chain; name the first broken row (exit code 1)."

    def add_arguments(self, parser):
        parser.add_argument(
            "--head",
            metavar="ID:HASH",
            help="a row and hash printed by an earlier run, which must still be in the chain",
        )
        parser.add_argument("--database", default=DEFAULT_DB_ALIAS)

    def handle(self, *, head: str | None, database: str, **options):
        expected = None
        if head:
            pk, _, chain_hash = head.partition(":")
            if not pk.isdigit() or len(chain_hash) != 64:
                raise CommandError("--head takes ID:HASH, as printed by an earlier run.")
            expected = (int(pk), chain_hash)
        walk = Walk(using=database)
        problem = walk.run(expected)
        if problem:
            raise CommandError(f"The access log's chain is broken: {problem}")
        if walk.rows == 0:
            self.stdout.write("The access log is empty.")
            return
        self.stdout.write(
            f"The access log's chain is intact: {walk.rows} rows. "
            f"Last row: {walk.last_pk}:{walk.last_hash}"
        )


class Walk:
    """One pass over the log in id order, a chunk of rows at a time."""

    def __init__(self, *, using: str) -> None:
        self.using = using
        self.rows = 0
        self.last_pk: int | None = None
        self.last_hash = ""
        self.free_ids: list[int] | None = None
        self.deleted_ids: dict[str, int] = {}

    def run(self, head: tuple[int, str] | None) -> str | None:
        """The first break, described, or None."""
        rows = (
            AccessLogEntry._base_manager.using(self.using)
            .order_by("pk")
            .values_list("pk", "chain_hash", *FIELDS)
            .iterator(chunk_size=2000)
        )
        head_seen = False
        for pk, stored, *values in rows:
            content = dict(zip(FIELDS, values, strict=True))
            if not self.matches(stored, content):
                return self.describe(pk, stored)
            if head and pk == head[0]:
                if stored != head[1]:
                    return f"row {pk} no longer has the hash recorded for it (rewritten)."
                head_seen = True
            self.rows += 1
            self.last_pk, self.last_hash = pk, stored
        if head and not head_seen:
            return f"row {head[0]}, recorded as the head, is gone (rows were deleted from the end)."
        return None

    def matches(self, stored: str, content: dict) -> bool:
        if not stored:
            return False
        if stored == access_log_hash(self.last_hash, content):
            return True
        return content["user_id"] is None and self.deleted_user(stored, content)

    def deleted_user(self, stored: str, content: dict) -> bool:
        """Whether the row matches its hash with the id of a deleted account.

        Deleting an account sets ``user_id`` to NULL in its log rows (the one
        change the trigger allows); the row keeps the username. The id it had
        is found by trying the ids no account has now, up to a margin past the
        highest known, and remembered per username. Only NULL can hide an id
        this way: a row naming a user must match with that user.
        """
        username = content["username"]
        if not username:
            return False
        if self.free_ids is None:
            taken = set(User._base_manager.using(self.using).values_list("pk", flat=True))
            logged = AccessLogEntry._base_manager.using(self.using).aggregate(m=Max("user_id"))
            highest = max(taken | {logged["m"] or 0, self.highest_user_id_given()})
            self.free_ids = [pk for pk in range(1, highest + USER_ID_MARGIN) if pk not in taken]
        known = self.deleted_ids.get(username)
        candidates = [known] if known else []
        candidates += self.free_ids
        for pk in candidates:
            if stored == access_log_hash(self.last_hash, {**content, "user_id": pk}):
                self.deleted_ids[username] = pk
                return True
        return False

    def highest_user_id_given(self) -> int:
        """The highest id the user table's sequence has handed out: a deleted
        account's id may lie far past every id left (ids of rolled-back
        inserts are skipped too), beyond the margin."""
        connection = connections[self.using]
        table = User._meta.db_table
        with connection.cursor() as cursor:
            if connection.vendor == "postgresql":
                cursor.execute(
                    "SELECT pg_sequence_last_value(pg_get_serial_sequence(%s, 'id'))", [table]
                )
            elif connection.vendor == "sqlite":
                cursor.execute("SELECT seq FROM sqlite_sequence WHERE name = %s", [table])
            else:
                return 0
            row = cursor.fetchone()
        return int(row[0]) if row and row[0] is not None else 0

    def describe(self, pk: int, stored: str) -> str:
        if not stored:
            return f"row {pk} has no hash (written past the chain, by raw SQL or an old release)."
        if self.last_pk is None:
            return (
                f"row {pk}, the first, does not start the chain: rows before it were "
                f"deleted, or it was changed."
            )
        if pk != self.last_pk + 1:
            return (
                f"row {pk} does not follow row {self.last_pk}: a row between them was "
                f"deleted, or row {pk} was changed."
            )
        return f"row {pk} does not match its hash: it was changed."
