"""Model validation of case records without needless queries.

Django validates a model's ``CheckConstraint`` by asking the database
(``SELECT 1 WHERE <condition>``, in a savepoint of its own when inside a
transaction: three statements per constraint), and a foreign key by looking
the row up (``SELECT 1 … WHERE id = …``). A record saved from a form is
validated twice (the ModelForm, then ``records.record_save``), so a visit
logged through the quick log paid nine statements for one ``duration <=
1440`` and two foreign keys whose rows the request had just read.

Here the simple conditions the project's constraints use (comparisons,
``in``, ``isnull``, ``AND``/``OR``/``NOT``, ``F()`` of another field) are
evaluated in Python with SQL's three-valued logic: a condition that is
unknown (a NULL) passes, as ``COALESCE(condition, true)`` does in Django's
query and as a ``CHECK`` does in the database. Anything else (an expression,
a join, text ordered by collation, mixed types) is asked of the database as
before. And a foreign key whose related row is already loaded on the instance
(read from the database in this request, not a new object) is not looked up
again unless the field limits its choices.

Neither weakens a guarantee: the database enforces every ``CHECK`` and
foreign key itself, so a row deleted or changed in between still fails, as an
``IntegrityError`` that the form views turn into a form error
(``mixins.ServiceFormMixin``).
"""

import datetime
import decimal
import operator

from django.core.exceptions import ValidationError
from django.db import models, router
from django.db.models import F, Q
from django.db.models.constraints import CheckConstraint

_ORDER = {"gt": operator.gt, "gte": operator.ge, "lt": operator.lt, "lte": operator.le}
_LOOKUPS = {"exact", "in", "isnull", *_ORDER}


class _AskTheDatabase(Exception):
    """The condition uses something evaluated here is not sure to agree on."""


class _Skip(Exception):
    """The condition names a field excluded from validation (Django skips it)."""


def _kind(value) -> str | None:
    """The values Python compares as SQL does, by kind; None for the rest."""
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, (int, float, decimal.Decimal)):
        return "number"
    if isinstance(value, datetime.datetime):
        return "datetime" if value.tzinfo is not None else None
    if isinstance(value, datetime.date):
        return "date"
    if isinstance(value, str):
        return "text"
    return None


def _operand(value, values: dict):
    if isinstance(value, F):
        if "__" in value.name:
            raise _AskTheDatabase
        if value.name not in values:
            raise _Skip
        return values[value.name]
    if hasattr(value, "resolve_expression"):
        raise _AskTheDatabase
    return value


def _compare(lookup: str, left, right) -> bool | None:
    """One lookup; None when SQL's answer is unknown (a NULL compared)."""
    if lookup == "isnull":
        if not isinstance(right, bool):
            raise _AskTheDatabase
        return (left is None) == right
    if left is None or right is None:
        return None
    if lookup == "in":
        items = list(right)
        if None in items or any(_kind(item) != _kind(left) for item in items):
            raise _AskTheDatabase
        if _kind(left) is None:
            raise _AskTheDatabase
        return left in items
    kind = _kind(left)
    if kind is None or kind != _kind(right):
        raise _AskTheDatabase
    if lookup == "exact":
        return left == right
    if lookup in _ORDER and kind in ("number", "date", "datetime"):
        return _ORDER[lookup](left, right)
    raise _AskTheDatabase  # text ordering depends on the collation


def evaluate(condition: Q, values: dict) -> bool | None:
    """``condition`` over the field values ``values`` (by field name), in
    SQL's three-valued logic: True, False or None (unknown)."""
    results = []
    for child in condition.children:
        if isinstance(child, Q):
            results.append(evaluate(child, values))
            continue
        if not isinstance(child, tuple):
            raise _AskTheDatabase
        path, right = child
        name, _sep, lookup = path.partition("__")
        lookup = lookup or "exact"
        if lookup not in _LOOKUPS or name == "pk":
            raise _AskTheDatabase  # a join, a transform, another lookup
        if name not in values:
            raise _Skip
        if lookup == "exact" and right is None:
            lookup, right = "isnull", True  # as Django turns ``= None`` into IS NULL
        results.append(_compare(lookup, values[name], _operand(right, values)))
    if condition.connector == Q.AND:
        result = False if False in results else (None if None in results else True)
    elif condition.connector == Q.OR:
        result = True if True in results else (None if None in results else False)
    else:
        raise _AskTheDatabase
    if condition.negated:
        result = None if result is None else not result
    return result


def _values(instance: models.Model, meta, exclude) -> dict:
    """The instance's field values by field name (a foreign key by its id), as
    Django's ``_get_field_expression_map`` gives them to the database."""
    values = {}
    for field in meta.local_concrete_fields:
        if field.name in exclude or field.generated:
            continue
        value = getattr(instance, field.attname)
        if hasattr(value, "resolve_expression"):
            raise _AskTheDatabase
        values[field.name] = value
    return values


def validate_constraints(instance: models.Model, exclude=None) -> None:
    """``Model.validate_constraints``, with the check constraints that can be
    evaluated here evaluated here (see the module's docstring)."""
    exclude = set(exclude or ())
    using = router.db_for_write(type(instance), instance=instance)
    errors: dict = {}
    for model_class, model_constraints in instance.get_constraints():
        for constraint in model_constraints:
            try:
                if not (
                    isinstance(constraint, CheckConstraint)
                    and _check_here(constraint, instance, model_class, exclude)
                ):
                    constraint.validate(model_class, instance, exclude=exclude, using=using)
            except ValidationError as error:
                if getattr(error, "code", None) == "unique" and len(constraint.fields) == 1:
                    errors.setdefault(constraint.fields[0], []).append(error)
                else:
                    errors = error.update_error_dict(errors)
    if errors:
        raise ValidationError(errors)


def _check_here(constraint: CheckConstraint, instance, model_class, exclude) -> bool:
    """Check ``constraint`` in Python: True when done (raises on a violation),
    False when the database must be asked."""
    try:
        verdict = evaluate(Q(constraint.condition), _values(instance, model_class._meta, exclude))
    except _Skip:
        return True
    except (_AskTheDatabase, TypeError):
        return False
    if verdict is False:
        raise ValidationError(
            constraint.get_violation_error_message(), code=constraint.violation_error_code
        )
    return True


def loaded_foreign_keys(instance: models.Model) -> set[str]:
    """Names of the foreign keys of ``instance`` whose related row is loaded
    on it, read from the database (not a new object), with the same id, and
    that limit their choices in no way: their lookup would only find that row
    again."""
    names = set()
    for field in instance._meta.concrete_fields:
        if not field.many_to_one or field.remote_field.parent_link or not field.is_cached(instance):
            continue
        related = field.get_cached_value(instance)
        if (
            related is None
            or related._state.adding
            or field.get_limit_choices_to()
            or field.validators
            or field.remote_field.field_name != related._meta.pk.name
            or related.pk != getattr(instance, field.attname)
        ):
            continue
        names.add(field.name)
    return names
