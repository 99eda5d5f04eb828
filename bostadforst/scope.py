"""Row scope: a partner organisation's manager sees only their own people.

A user may be limited (``User.scope_unit`` / ``User.scope_provider``, set by
the administrator, never both) to the people of one referring unit or of one
provider:

* a person is **of a referring unit** when any of their referrals names that
  unit (but a referral matched to a person already known, until the team
  confirms the match: filing a known personnummer opens no one's case);
* a person is **of a provider** when any of their tenancies names that
  provider.

(Any, not the first: a person who moved from the municipality's own team to
an IOP partner is the partner's too. The retention breakdowns, by contrast,
put each person in one group: the unit of their first approved referral, the
provider of their first tenancy.)

The one place the scope is applied is the default manager of every case
model that belongs to a participant (``CaseModel.participant_path``):
``ScopedManager.get_queryset`` filters by ``scope_people``. Every selector,
list, ``record_get``, reverse relation, prefetch, pick list, ``values()``
aggregate, export and report computation reads through it, so none can skip
it; ``records.record_get`` looks for a missing row through the base manager,
so a row outside the scope is a 404 logged as ``denied``. The filter is a
subquery (``participant_id IN (SELECT participant_id FROM … WHERE unit = x)``),
never a list of ids, so a page issues the same queries as before.

Where the limits come from:

* the current viewer (``bostadforst.identity``: set per request by the
  middleware, and by ``viewing_as``);
* ``narrowed(limits)``: a further limit for a block of work — the dashboard's
  unit and provider filters, a background job run for a scoped user
  (``scoped_as(user)``), a report ordered from a filtered dashboard
  (``filter_limits(report.filters)``).

Several limits narrow together (an intersection). Reference data and models
without a participant (apartments, activities, crisis places) are not
limited: what they show of people they show through scoped relations.

Which people a limit names is answered by providers the apps register in
``people_sets`` (participants: "unit", housing: "provider"), each a queryset
of participant ids. A limit of an unknown kind scopes to nobody (closed).
"""

from __future__ import annotations

import contextvars
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager

from django.db import models

from .identity import current_viewer

UNIT = "unit"
PROVIDER = "provider"
KINDS = (UNIT, PROVIDER)

# The user's own limit, by kind: the user model's columns.
USER_FIELDS = {UNIT: "scope_unit_id", PROVIDER: "scope_provider_id"}

# kind -> provider(id) -> a queryset of the participant ids of that unit or
# provider (``.values("participant_id")``), read through the base manager.
people_sets: dict[str, Callable[[int], models.QuerySet]] = {}

Limit = tuple[str, int]

_narrowed: contextvars.ContextVar[tuple[Limit, ...]] = contextvars.ContextVar(
    "scope_narrowed", default=()
)


def user_limits(user) -> tuple[Limit, ...]:
    """The limits set on ``user`` (none for anonymous users and unscoped ones)."""
    if user is None or not getattr(user, "is_authenticated", False):
        return ()
    return tuple(
        (kind, value)
        for kind, field in USER_FIELDS.items()
        if (value := getattr(user, field, None)) is not None
    )


def user_filters(user) -> dict[str, int]:
    """The user's own limit as report filters (``scope_unit``/``scope_provider``),
    stored with what they order so that the job, run without them, keeps it."""
    return {f"scope_{kind}": value for kind, value in user_limits(user)}


def filter_limits(filters: dict | None) -> tuple[Limit, ...]:
    """The limits named by report or dashboard filters: the chosen ``unit`` and
    ``provider`` and the orderer's own ``scope_unit``/``scope_provider``."""
    limits = []
    for key, value in (filters or {}).items():
        kind = key.removeprefix("scope_")
        if kind in KINDS and value not in ("", None):
            limits.append((kind, int(value)))
    return tuple(limits)


# Set while the database's own rules are checked in Python (unique values):
# those are about every row, not the viewer's (``unscoped``).
_unscoped: contextvars.ContextVar[bool] = contextvars.ContextVar("scope_unscoped", default=False)


@contextmanager
def unscoped() -> Iterator[None]:
    """No limits inside the block: for checks of the database's own rules
    (``CaseModel.validate_unique``), whose messages name no one; a scoped
    user's save would otherwise pass the check and fail in the database."""
    token = _unscoped.set(True)
    try:
        yield
    finally:
        _unscoped.reset(token)


def current_limits() -> tuple[Limit, ...]:
    if _unscoped.get():
        return ()
    viewer = current_viewer()
    own = user_limits(viewer.user) if viewer is not None else ()
    return own + _narrowed.get()


def is_scoped(user) -> bool:
    return bool(user_limits(user))


@contextmanager
def narrowed(limits: Iterable[Limit]) -> Iterator[None]:
    """Read every case row inside the block limited by ``limits`` as well."""
    token = _narrowed.set(_narrowed.get() + tuple(limits))
    try:
        yield
    finally:
        _narrowed.reset(token)


def scoped_as(user):
    """Work done for ``user`` without a request (a background job): their limit."""
    return narrowed(user_limits(user))


def scope_people(
    queryset: models.QuerySet,
    *,
    person_path: str | None = None,
    limits: Iterable[Limit] | None = None,
) -> models.QuerySet:
    """``queryset`` limited to the people of ``limits`` (the current ones by
    default), following ``person_path`` (the model's ``participant_path`` by
    default; "self" for the participant). Unchanged without limits or for a
    model that belongs to no participant."""
    limits = current_limits() if limits is None else tuple(limits)
    if not limits:
        return queryset
    path = person_path or getattr(queryset.model, "participant_path", None)
    if path is None:
        return queryset
    lookup = "pk" if path == "self" else path
    for kind, value in limits:
        people = people_sets.get(kind)
        if people is None:
            return queryset.none()
        queryset = queryset.filter(**{f"{lookup}__in": people(value)})
    return queryset


class ScopedManager(models.Manager):
    """The default manager of a case model: rows limited by ``scope_people``.
    Models with their own queryset use ``ScopedManager.from_queryset(...)()``."""

    def get_queryset(self) -> models.QuerySet:
        return scope_people(super().get_queryset())


def unscoped_case_models() -> list[type[models.Model]]:
    """Case models that belong to a participant but whose default manager is
    not scoped (a walking test requires none)."""
    from django.apps import apps

    from .models import CaseModel

    return [
        model
        for model in apps.get_models()
        if issubclass(model, CaseModel)
        and model.participant_path is not None
        and not isinstance(model._default_manager, ScopedManager)
    ]
