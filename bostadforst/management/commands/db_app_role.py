"""Create or update the PostgreSQL role the app runs as (PITFALLS 17).

The append-only trigger on the access log (migration 0004) binds every role
but the table's owner, who can ``TRUNCATE``, ``ALTER TABLE … DISABLE TRIGGER``
or ``SET session_replication_role = replica``. So the owner only migrates,
and the web process, the worker and beat connect as a role that owns nothing:
no superuser, ``CREATEDB``, ``CREATEROLE``, ``REPLICATION`` or ``BYPASSRLS``;
``SELECT, INSERT, UPDATE, DELETE`` on the app's tables, but on the access log
only ``SELECT, INSERT`` (and ``UPDATE`` of ``user_id``, which the trigger lets
become NULL only, when an account is deleted); ``SELECT`` on
``django_migrations``; no ``TRUNCATE``, ``TRIGGER`` or ``REFERENCES``.

A command rather than a migration: the role's name and password differ per
deployment, and grants are per table, so it runs as the owner after every
``migrate`` (idempotent). Default privileges cover tables a later migration
creates, until the command runs again and corrects any that need less.
"""

import os
import re

from django.core.management.base import BaseCommand, CommandError
from django.db import DEFAULT_DB_ALIAS, DatabaseError, connections, transaction
from psycopg import sql

from bostadforst.models import AccessLogEntry

ATTRIBUTES = "LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS"
ROLE_NAME = re.compile(r"[a-z_][a-z0-9_]{0,62}")


class Command(BaseCommand):
    help = (
        "Create or update the least-privileged PostgreSQL role the app connects as. "
        "Run as the tables' owner after every migrate."
    )

    def add_arguments(self, parser):
        parser.add_argument("--role", required=True, help="the app's role, e.g. bostadforst_app")
        parser.add_argument(
            "--password-env",
            metavar="VAR",
            help="environment variable holding the role's password (else it is left as is)",
        )
        parser.add_argument("--database", default=DEFAULT_DB_ALIAS)

    def handle(self, *, role: str, password_env: str | None, database: str, **options):
        connection = connections[database]
        if connection.vendor != "postgresql":
            raise CommandError("Database roles exist on PostgreSQL only.")
        if not ROLE_NAME.fullmatch(role):
            raise CommandError("The role name must be lower-case letters, digits and _.")
        password = None
        if password_env:
            password = os.environ.get(password_env)
            if not password:
                raise CommandError(f"{password_env} is not set.")
        self.connection = connection
        log_table = AccessLogEntry._meta.db_table
        with transaction.atomic(using=database):
            schema, owner = self.fetch(
                "SELECT schemaname, tableowner FROM pg_tables "
                "WHERE tablename = %s AND schemaname = current_schema()",
                [log_table],
            ) or (None, None)
            if owner is None:
                raise CommandError(f"No table {log_table}: run migrate first.")
            if role == owner:
                raise CommandError(f"{role} owns the tables; the app needs a role of its own.")
            self.ensure_role(role, password)
            if self.fetch("SELECT pg_has_role(%s, %s, 'MEMBER')", [role, owner])[0]:
                raise CommandError(f"{role} is a member of {owner}: revoke that first.")
            owned = self.fetch(
                "SELECT string_agg(relname, ', ') FROM pg_class "
                "WHERE relowner = (SELECT oid FROM pg_roles WHERE rolname = %s)",
                [role],
            )[0]
            if owned:
                raise CommandError(f"{role} owns {owned}: reassign them to {owner} first.")
            self.grant(role=role, owner=owner, schema=schema, log_table=log_table)
            self.check_refusals(role, log_table)
        self.stdout.write(
            f"{role}: SELECT, INSERT, UPDATE, DELETE on the tables in {schema}, "
            f"SELECT, INSERT on {log_table}; owns nothing."
        )
        if self.fetch("SELECT has_schema_privilege(%s, %s, 'CREATE')", [role, schema])[0]:
            self.stderr.write(
                f"Warning: {role} may create tables in {schema} (through PUBLIC); "
                f"consider REVOKE CREATE ON SCHEMA {schema} FROM PUBLIC."
            )

    def fetch(self, query: str, params=()) -> tuple | None:
        with self.connection.cursor() as cursor:
            cursor.execute(query, params)
            return cursor.fetchone()

    def run(self, template: str, **names) -> None:
        """Run DDL with identifiers (and literals) quoted by psycopg."""
        statement = sql.SQL(template).format(**names)
        with self.connection.cursor() as cursor:
            cursor.execute(statement.as_string(self.connection.connection))

    def ensure_role(self, role: str, password: str | None) -> None:
        ident = sql.Identifier(role)
        exists = self.fetch(
            "SELECT rolcanlogin AND NOT (rolsuper OR rolcreatedb OR rolcreaterole "
            "OR rolreplication OR rolbypassrls) FROM pg_roles WHERE rolname = %s",
            [role],
        )
        if exists is None:
            try:
                # A savepoint: another process (a parallel test worker) may
                # create the same role at the same moment.
                with transaction.atomic(using=self.connection.alias):
                    self.run(f"CREATE ROLE {{role}} {ATTRIBUTES}", role=ident)
            except DatabaseError:
                if self.fetch("SELECT 1 FROM pg_roles WHERE rolname = %s", [role]) is None:
                    raise
        elif not exists[0]:
            self.run(f"ALTER ROLE {{role}} {ATTRIBUTES}", role=ident)
        if password is not None:
            self.run("ALTER ROLE {role} PASSWORD {pw}", role=ident, pw=sql.Literal(password))

    def grant(self, *, role: str, owner: str, schema: str, log_table: str) -> None:
        names = {
            "role": sql.Identifier(role),
            "owner": sql.Identifier(owner),
            "schema": sql.Identifier(schema),
            "log": sql.Identifier(schema, log_table),
            "migrations": sql.Identifier(schema, "django_migrations"),
            "db": sql.Identifier(self.fetch("SELECT current_database()")[0]),
        }
        for statement in (
            "GRANT CONNECT ON DATABASE {db} TO {role}",
            # The cohort import stages a file's rows in a temporary table
            # (PUBLIC has this by default; granted in case IT revoked it).
            "GRANT TEMPORARY ON DATABASE {db} TO {role}",
            "GRANT USAGE ON SCHEMA {schema} TO {role}",
            "REVOKE CREATE ON SCHEMA {schema} FROM {role}",
            # Start from nothing, so that a grant made by hand does not survive.
            "REVOKE ALL ON ALL TABLES IN SCHEMA {schema} FROM {role}",
            "REVOKE ALL ON ALL SEQUENCES IN SCHEMA {schema} FROM {role}",
            "GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA {schema} TO {role}",
            "GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA {schema} TO {role}",
            "REVOKE INSERT, UPDATE, DELETE ON {migrations} FROM {role}",
            "REVOKE UPDATE, DELETE ON {log} FROM {role}",
            # ON DELETE SET NULL when an account is deleted; the trigger allows
            # no other change of the column.
            "GRANT UPDATE (user_id) ON {log} TO {role}",
            # Tables and sequences a later migration creates.
            "ALTER DEFAULT PRIVILEGES FOR ROLE {owner} IN SCHEMA {schema} "
            "GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO {role}",
            "ALTER DEFAULT PRIVILEGES FOR ROLE {owner} IN SCHEMA {schema} "
            "GRANT USAGE, SELECT ON SEQUENCES TO {role}",
        ):
            self.run(statement, **names)

    def check_refusals(self, role: str, log_table: str) -> None:
        """What the role must never be able to do, checked after granting."""
        for privilege in ("UPDATE", "DELETE", "TRUNCATE", "TRIGGER"):
            query = "SELECT has_table_privilege(%s, %s, %s)"
            if self.fetch(query, [role, log_table, privilege])[0]:
                raise CommandError(f"{role} still has {privilege} on {log_table}.")
        truncatable = self.fetch(
            "SELECT string_agg(c.relname, ', ') FROM pg_class c "
            "JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE c.relkind IN ('r', 'p') AND n.nspname = current_schema() "
            "AND (has_table_privilege(%s, c.oid, 'TRUNCATE') "
            "OR has_table_privilege(%s, c.oid, 'TRIGGER'))",
            [role, role],
        )[0]
        if truncatable:
            raise CommandError(f"{role} may TRUNCATE or add triggers to {truncatable}.")
