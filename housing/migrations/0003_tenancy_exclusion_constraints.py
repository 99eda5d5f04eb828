"""No double letting, enforced by PostgreSQL itself.

Two exclusion constraints refuse a tenancy whose half-open period
[move_in, move_out) overlaps another tenancy of the same apartment, or of the
same participant. An open tenancy (no move-out date) runs to infinity. The
equality part over a bigint column needs the ``btree_gist`` extension.

SQLite has no exclusion constraints and fails on the EXCLUDE syntax, so these
operations do nothing there (the model's ``clean()`` is the check on SQLite).
They change no migration state either: the constraints are not declared on
the model, or ``makemigrations`` would emit an ``AddConstraint`` that breaks
the embedded SQLite default.
"""

from django.contrib.postgres.constraints import ExclusionConstraint
from django.contrib.postgres.fields import DateRangeField, RangeBoundary, RangeOperators
from django.contrib.postgres.operations import BtreeGistExtension
from django.db import migrations, models
from django.db.models.functions import Cast, Coalesce


class DateRange(models.Func):
    function = "DATERANGE"
    output_field = DateRangeField()


def tenancy_period():
    """daterange(move_in, coalesce(move_out, 'infinity'), '[)')."""
    return DateRange(
        "move_in",
        Coalesce("move_out", Cast(models.Value("infinity"), models.DateField())),
        RangeBoundary(inclusive_lower=True, inclusive_upper=False),
    )


def exclusion(name: str, column: str) -> ExclusionConstraint:
    return ExclusionConstraint(
        name=name,
        expressions=[(column, RangeOperators.EQUAL), (tenancy_period(), RangeOperators.OVERLAPS)],
        violation_error_code="tenancy_overlap",
    )


class AddPostgresConstraint(migrations.operations.base.Operation):
    """Add ``constraint`` to ``model_name`` on PostgreSQL only; no state change."""

    reduces_to_sql = True
    reversible = True

    def __init__(self, model_name: str, constraint) -> None:
        self.model_name = model_name
        self.constraint = constraint

    def deconstruct(self):
        return (self.__class__.__name__, [], {"model_name": self.model_name, "constraint": self.constraint})

    def state_forwards(self, app_label, state):
        pass

    def database_forwards(self, app_label, schema_editor, from_state, to_state):
        if schema_editor.connection.vendor == "postgresql":
            model = to_state.apps.get_model(app_label, self.model_name)
            schema_editor.add_constraint(model, self.constraint)

    def database_backwards(self, app_label, schema_editor, from_state, to_state):
        if schema_editor.connection.vendor == "postgresql":
            model = from_state.apps.get_model(app_label, self.model_name)
            schema_editor.remove_constraint(model, self.constraint)

    def describe(self):
        return f"On PostgreSQL: add constraint {self.constraint.name} to {self.model_name}"

    @property
    def migration_name_fragment(self):
        return f"{self.model_name.lower()}_{self.constraint.name.lower()}"


class Migration(migrations.Migration):
    dependencies = [("housing", "0002_create_landlords")]

    operations = [
        # A no-op on databases other than PostgreSQL (CreateExtension checks the vendor).
        BtreeGistExtension(),
        AddPostgresConstraint("tenancy", exclusion("tenancy_apartment_no_overlap", "apartment")),
        AddPostgresConstraint("tenancy", exclusion("tenancy_participant_no_overlap", "participant")),
    ]
