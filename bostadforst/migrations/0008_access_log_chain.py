"""The access log's hash chain: a ``chain_hash`` column, and the rows already
written chained to each other in id order, so that ``verify_access_log``
covers the whole log, not only what is written after this release.

Schema and data are one migration on purpose: on PostgreSQL both run in one
transaction, and ADD COLUMN's lock keeps every insert out until the backfill
has committed, so no row can slip in unchained between them. Migrate with the
app stopped all the same: rows an old release writes afterwards have no hash,
and ``verify_access_log`` names the first of them.

The backfill rewrites rows of an append-only table, so on PostgreSQL it turns
the trigger of migration 0004 off for its own transaction (the owner runs
migrations; the app's role could not). ``chain_hash`` is a frozen copy of
``bostadforst.models.access_log_hash`` (migrations import no app code); a test
checks that rows chained here verify. Rerunnable: the chain is recomputed from
the first row.
"""

import datetime
import hashlib
import json

from django.db import migrations, models
from django.utils import timezone

TABLE = "bostadforst_accesslogentry"
TRIGGER = "bostadforst_access_log_append_only"
BATCH = 2000
CHAINED_FIELDS = (
    "at",
    "user_id",
    "username",
    "role",
    "action",
    "model",
    "object_id",
    "person_id",
    "view_name",
    "ip",
)


def chain_hash(previous: str, entry, fields: dict) -> str:
    content = [previous]
    for name in CHAINED_FIELDS:
        value = fields[name].to_python(getattr(entry, name))
        if value == "" and fields[name].null:
            value = None
        elif isinstance(value, datetime.datetime):
            if timezone.is_naive(value):
                value = timezone.make_aware(value)
            value = value.astimezone(datetime.UTC).isoformat(timespec="microseconds")
        elif isinstance(value, str):
            value = str(value)
        content.append(value)
    encoded = json.dumps(content, ensure_ascii=False, separators=(",", ":")).encode()
    return hashlib.sha256(encoded).hexdigest()


def chain_existing_rows(apps, schema_editor):
    AccessLogEntry = apps.get_model("bostadforst", "AccessLogEntry")
    fields = {field.attname: field for field in AccessLogEntry._meta.concrete_fields}
    rows = AccessLogEntry._base_manager.using(schema_editor.connection.alias)
    postgres = schema_editor.connection.vendor == "postgresql"
    if postgres:
        schema_editor.execute(f"ALTER TABLE {TABLE} DISABLE TRIGGER {TRIGGER}")
    previous, last_pk = "", 0
    # In id order, a batch at a time: the log is the largest table.
    while batch := list(rows.filter(pk__gt=last_pk).order_by("pk")[:BATCH]):
        for entry in batch:
            entry.chain_hash = previous = chain_hash(previous, entry, fields)
        rows.bulk_update(batch, ["chain_hash"])
        last_pk = batch[-1].pk
    if postgres:
        schema_editor.execute(f"ALTER TABLE {TABLE} ENABLE TRIGGER {TRIGGER}")


class Migration(migrations.Migration):
    dependencies = [("bostadforst", "0007_user_must_change_password")]

    operations = [
        migrations.AddField(
            model_name="accesslogentry",
            name="chain_hash",
            field=models.CharField(
                blank=True, editable=False, max_length=64, verbose_name="chain hash"
            ),
        ),
        # Reversing only drops the column (above), so nothing to undo here.
        migrations.RunPython(chain_existing_rows, migrations.RunPython.noop),
    ]
