"""Check constraints evaluated in Python agree with the database's answer, and
what is no longer asked of the database is still refused by it."""

import datetime
import uuid
from decimal import Decimal

import pytest
from django.apps import apps
from django.core.exceptions import ValidationError
from django.db import connection, models
from django.db.models import F, Q, Value
from django.db.models.constraints import CheckConstraint
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from hypothesis import given
from hypothesis import strategies as st

from bostadforst.constraints import _AskTheDatabase, _Skip, evaluate, loaded_foreign_keys
from bostadforst.models import CaseModel
from support.models import SupportVisit
from tests.participants.factories import ParticipantFactory

STOCKHOLM = timezone.get_fixed_timezone(60)


def _check_constraints():
    for model in apps.get_models():
        if not issubclass(model, CaseModel):
            continue
        for constraint in model._meta.constraints:
            if isinstance(constraint, CheckConstraint):
                yield model, constraint


CONSTRAINTS = list(_check_constraints())


def _values_for(field: models.Field):
    """A few values of the field's type, NULL among them where allowed."""
    if field.choices:
        pool = st.sampled_from([value for value, _label in field.choices] + [""])
    elif isinstance(field, models.DateTimeField):
        pool = st.datetimes(
            min_value=datetime.datetime(2020, 1, 1), max_value=datetime.datetime(2020, 1, 3)
        ).map(lambda d: d.replace(tzinfo=STOCKHOLM))
    elif isinstance(field, models.DateField):
        pool = st.dates(min_value=datetime.date(2020, 1, 1), max_value=datetime.date(2020, 1, 5))
    elif isinstance(field, (models.IntegerField, models.ForeignKey)):
        pool = st.integers(min_value=-2, max_value=2000)
    elif isinstance(field, models.DecimalField):
        pool = st.decimals(min_value=-3, max_value=3, places=1).map(Decimal)
    elif isinstance(field, models.BooleanField):
        pool = st.booleans()
    else:
        pool = st.sampled_from(["", "a", "b"])
    return st.one_of(st.none(), pool) if field.null else pool


def test_the_project_has_check_constraints_to_evaluate():
    assert len(CONSTRAINTS) >= 10
    names = {c.name for _m, c in CONSTRAINTS}
    assert any("duration" in name for name in names)


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("model", "constraint"), CONSTRAINTS, ids=[c.name for _m, c in CONSTRAINTS]
)
def test_a_check_constraint_is_evaluated_as_the_database_evaluates_it(model, constraint):
    fields = [f for f in model._meta.local_concrete_fields if not f.primary_key]

    @given(st.fixed_dictionaries({f.name: _values_for(f) for f in fields}))
    def agree(values):
        try:
            verdict = evaluate(Q(constraint.condition), values)
        except (_AskTheDatabase, _Skip):
            return
        against = {
            f.name: Value(values[f.name], f) if values[f.name] is not None else Value(None, f)
            for f in fields
        }
        assert (verdict is not False) == Q(constraint.condition).check(against), values

    agree()


@pytest.mark.parametrize(
    ("condition", "values", "verdict"),
    [
        (Q(a__lte=5), {"a": 5}, True),
        (Q(a__lte=5), {"a": 6}, False),
        (Q(a__lte=5), {"a": None}, None),  # NULL: unknown, passes
        (~Q(a__lte=5), {"a": None}, None),
        (Q(a__isnull=True) | Q(a__gt=F("b")), {"a": None, "b": 3}, True),
        (Q(a__isnull=True) | Q(a__gt=F("b")), {"a": 2, "b": 3}, False),
        (Q(a__isnull=True) | Q(a__gt=F("b")), {"a": 2, "b": None}, None),
        (Q(a=None), {"a": None}, True),
        (~Q(s__in=["x", "y"]), {"s": "x"}, False),
        (~Q(s="d") | ~Q(r=""), {"s": "d", "r": ""}, False),
        (~Q(s="d") | ~Q(r=""), {"s": "d", "r": "why"}, True),
    ],
)
def test_sql_three_valued_logic(condition, values, verdict):
    assert evaluate(condition, values) is verdict


@pytest.mark.parametrize(
    ("condition", "values"),
    [
        (Q(s__lt="b"), {"s": "a"}),  # text order depends on the collation
        (Q(a__lte=F("b")), {"a": datetime.date(2020, 1, 1), "b": timezone.now()}),
        (Q(p__status="x"), {"p": 1}),  # a join
        (Q(a__year=2020), {"a": datetime.date(2020, 1, 1)}),  # a transform
        (Q(a__lte=F("b__c")), {"a": 1, "b": 2}),
        (Q(a=uuid.uuid4()), {"a": uuid.uuid4()}),
    ],
)
def test_what_python_might_answer_differently_is_asked_of_the_database(condition, values):
    with pytest.raises(_AskTheDatabase):
        evaluate(condition, values)


@pytest.mark.django_db
def test_a_violated_check_constraint_is_refused_with_its_message_and_no_query(support_staff):
    visit = SupportVisit(
        participant=ParticipantFactory(),
        author=support_staff,
        started_at=timezone.now(),
        duration_minutes=24 * 60 + 1,
        kind=SupportVisit.Kind.HOME_VISIT,
        note="x",
    )
    with CaptureQueriesContext(connection) as queries, pytest.raises(ValidationError) as caught:
        visit.validate_constraints()
    assert not queries.captured_queries
    (constraint,) = [c for c in SupportVisit._meta.constraints if "duration" in c.name]
    assert caught.value.messages == [constraint.get_violation_error_message()]


@pytest.mark.django_db
def test_foreign_keys_loaded_in_the_request_are_not_looked_up_again(support_staff):
    person = ParticipantFactory()
    visit = SupportVisit(participant=person, author=support_staff)
    assert loaded_foreign_keys(visit) == {"participant", "author"}
    by_id = SupportVisit(participant_id=person.pk, author_id=support_staff.pk)
    assert loaded_foreign_keys(by_id) == set()  # only ids: looked up as before
    unsaved = SupportVisit(participant=ParticipantFactory.build(), author=support_staff)
    assert loaded_foreign_keys(unsaved) == {"author"}
    with pytest.raises(ValidationError) as caught:
        SupportVisit(participant_id=10**9, author=support_staff).clean_fields()
    assert "participant" in caught.value.message_dict
