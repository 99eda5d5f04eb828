"""On PostgreSQL, refuse UPDATE and DELETE on the access log in the database
itself, so that not even raw SQL from the application's role can rewrite who
read what. SQLite (the embedded demo) relies on the model and admin guards."""

from django.db import migrations

TABLE = "bostadforst_accesslogentry"

# The one UPDATE allowed is the foreign key's ON DELETE SET NULL when a user
# account is deleted: the row keeps the username, and nothing else may change.
# TRUNCATE is left to the table owner's privilege (the test runner's flush uses
# it); production runs the app as a role that does not own the table.
CREATE = f"""
CREATE OR REPLACE FUNCTION bostadforst_access_log_append_only() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'UPDATE' AND NEW.user_id IS NULL
       AND (to_jsonb(NEW) - 'user_id') = (to_jsonb(OLD) - 'user_id') THEN
        RETURN NEW;
    END IF;
    RAISE EXCEPTION 'The access log is append-only (% refused)', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER bostadforst_access_log_append_only
    BEFORE UPDATE OR DELETE ON {TABLE}
    FOR EACH ROW EXECUTE FUNCTION bostadforst_access_log_append_only();
"""

DROP = f"""
DROP TRIGGER IF EXISTS bostadforst_access_log_append_only ON {TABLE};
DROP FUNCTION IF EXISTS bostadforst_access_log_append_only();
"""


def create_trigger(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(CREATE, params=None)


def drop_trigger(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP, params=None)


class Migration(migrations.Migration):
    dependencies = [("bostadforst", "0003_sessions_and_culling_runs")]

    operations = [migrations.RunPython(create_trigger, drop_trigger)]
