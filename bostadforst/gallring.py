"""Culling (gallring) of closed cases, found through the model graph.

Swedish social-services records are culled a number of years after the last
entry (SoL 12 kap., the municipality's document management plan). A person is
due when their case closed more than ``GALLRING_YEARS`` years ago and nothing
of theirs was entered or changed since. Everything that belongs to them is
deleted: their own row, every row reached from it through foreign keys (the
referral, its events and assessments, tenancies, visits, plans, ...), those
rows' change history, the admin's change log entries about them, and files
stored in their rows. The access log keeps its rows, which hold the person's
id only and nothing that identifies them.

bostadforst imports no app: the person model is named by a setting and the
rows that belong to a person are found through the app registry's model
graph, so a model added later is culled without touching this module.

Ownership rule for a foreign key pointing at a row that belongs to a person:
``SET_NULL`` means "refers to" (the referring row stays, the reference is
cleared); any other ``on_delete`` means "is part of" (the row goes too). A
case model whose ``participant_path`` is None is reference data (landlords,
crisis places) and is never culled.

Aggregate report figures do not point at people and are untouched.

Protected identity (skyddade personuppgifter) and consents are rows of the
person or rows pointing at them (the access list's join rows, the consent
rows, the history rows that recorded the protection), so they go with the
person like everything else. The research exemption keeps a person with their
identity, so it never applies to anyone whose identity is or ever was
protected (``GALLRING_PROTECTED_FIELD`` non-blank in the row or in any of its
history rows): they are culled like people born on other days.
"""

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date

from dateutil.relativedelta import relativedelta
from django.apps import apps
from django.conf import settings
from django.contrib.admin.models import LogEntry
from django.contrib.contenttypes.fields import GenericForeignKey
from django.contrib.contenttypes.models import ContentType
from django.db import connection, models, transaction
from django.db.models import Max
from django.utils import timezone

from .models import GallringRun

CHUNK = 500
RESEARCH_DAYS = frozenset({5, 15, 25})


@dataclass(frozen=True)
class Edge:
    model: type[models.Model]
    field: models.ForeignKey
    parent: type[models.Model]
    owning: bool  # False: SET_NULL, the row only refers to the parent


@dataclass
class CullPlan:
    """What one run found: due people and, per model, the rows to delete."""

    today: date
    cutoff: date
    due: list[int] = field(default_factory=list)
    exempted: list[int] = field(default_factory=list)
    later_entry: list[int] = field(default_factory=list)
    rows: dict[type, set] = field(default_factory=dict)
    history_rows: dict[type, set] = field(default_factory=dict)


def person_model() -> type[models.Model]:
    return apps.get_model(settings.GALLRING_PERSON_MODEL)


def is_historical(model) -> bool:
    """simple-history's generated models carry ``instance_type``."""
    return hasattr(model, "instance_type") and hasattr(model, "history_id")


def history_model_of(model):
    try:
        from simple_history.exceptions import NotHistoricalModelError
        from simple_history.utils import get_history_model_for_model

        return get_history_model_for_model(model)
    except NotHistoricalModelError:
        return None


def is_reference_data(model) -> bool:
    return "participant_path" in dir(model) and model.participant_path is None


def graph(person) -> list[Edge]:
    """Every foreign-key edge from a live model to a model that belongs to a person."""
    live = [
        m
        for m in apps.get_models(include_auto_created=True)
        if not is_historical(m) and not m._meta.proxy
    ]
    belonging = {person}
    edges: list[Edge] = []
    changed = True
    while changed:
        changed = False
        for model in live:
            if model is person or is_reference_data(model):
                continue
            for f in model._meta.concrete_fields:
                if not (f.many_to_one or f.one_to_one) or f.related_model not in belonging:
                    continue
                owning = f.remote_field.on_delete is not models.SET_NULL
                edge = Edge(model, f, f.related_model, owning)
                if edge not in edges:
                    edges.append(edge)
                if owning and model not in belonging:
                    belonging.add(model)
                    changed = True
    return edges


def _chunks(values):
    values = sorted(values)
    for start in range(0, len(values), CHUNK):
        yield values[start : start + CHUNK]


def collect(person, person_ids: set[int], edges: list[Edge]):
    """Ids per model (live rows and rows that now exist only in history)."""
    ids: dict[type, set] = defaultdict(set)
    ids[person] |= set(person_ids)
    owning = [e for e in edges if e.owning]
    changed = True
    while changed:  # a fixpoint: self-references (a visit correcting a visit)
        changed = False
        for edge in owning:
            parents = ids.get(edge.parent)
            if not parents:
                continue
            found = set()
            for chunk in _chunks(parents):
                lookup = {f"{edge.field.attname}__in": chunk}
                found |= set(edge.model._base_manager.filter(**lookup).values_list("pk", flat=True))
                history = history_model_of(edge.model)
                if history is not None:
                    pk_name = edge.model._meta.pk.attname
                    found |= set(history.objects.filter(**lookup).values_list(pk_name, flat=True))
            if not found <= ids[edge.model]:
                ids[edge.model] |= found
                changed = True
    return ids


def _latest_entry(person, pid: int, edges: list[Edge]) -> date | None:
    """The date of the newest row (created or changed) that belongs to ``pid``."""
    ids = collect(person, {pid}, edges)
    latest = None
    for model, pks in ids.items():
        names = {f.name for f in model._meta.concrete_fields}
        for name in ("created_at", "updated_at"):
            if name not in names or not pks:
                continue
            for chunk in _chunks(pks):
                value = model._base_manager.filter(pk__in=chunk).aggregate(m=Max(name))["m"]
                if value is not None:
                    value = timezone.localdate(value) if hasattr(value, "tzinfo") else value
                    latest = value if latest is None or value > latest else latest
    return latest


def born_on_research_day(personnummer: str | None) -> bool:
    """Born on the 5th, 15th or 25th (samordningsnummer: day + 60)."""
    digits = "".join(ch for ch in (personnummer or "") if ch.isdigit())
    if len(digits) == 10:
        digits = "19" + digits  # the century does not matter for the day
    if len(digits) != 12:
        return False
    day = int(digits[6:8])
    if day > 60:
        day -= 60
    return day in RESEARCH_DAYS


def ever_protected(person, pids) -> set[int]:
    """Those of ``pids`` whose protected-identity field is set now or was set
    in any earlier version of their row (the history keeps every version)."""
    name = getattr(settings, "GALLRING_PROTECTED_FIELD", "")
    if not name or not pids:
        return set()
    set_here = ~models.Q(**{name: ""}) & models.Q(**{f"{name}__isnull": False})
    found: set[int] = set()
    history = history_model_of(person)
    pk_name = person._meta.pk.attname
    for chunk in _chunks(pids):
        found |= set(
            person._base_manager.filter(set_here, pk__in=chunk).values_list("pk", flat=True)
        )
        if history is not None:
            found |= set(
                history.objects.filter(set_here, **{f"{pk_name}__in": chunk}).values_list(
                    pk_name, flat=True
                )
            )
    return found


def plan(*, today: date | None = None) -> CullPlan:
    """Who is due on ``today`` and which rows would go. Reads only."""
    today = today or timezone.localdate()
    cutoff = today - relativedelta(years=settings.GALLRING_YEARS)
    person = person_model()
    edges = graph(person)
    result = CullPlan(today=today, cutoff=cutoff)
    candidates = (
        person._base_manager.filter(
            **{f"{settings.GALLRING_CLOSED_FIELD}__isnull": False},
            **{f"{settings.GALLRING_CLOSED_FIELD}__lt": cutoff},
        )
        .order_by("pk")
        .values_list("pk", settings.GALLRING_PERSONNUMMER_FIELD)
    )
    candidates = list(candidates)
    research_days = (
        {pid for pid, personnummer in candidates if born_on_research_day(personnummer)}
        if settings.GALLRING_RESEARCH_EXEMPTION
        else set()
    )
    # Kept for research means kept with the identity: never a protected one.
    research_days -= ever_protected(person, research_days)
    for pid, _personnummer in candidates:
        latest = _latest_entry(person, pid, edges)
        if latest is not None and latest >= cutoff:
            result.later_entry.append(pid)
            continue
        if pid in research_days:
            result.exempted.append(pid)
            continue
        result.due.append(pid)
    ids = collect(person, set(result.due), edges) if result.due else {}
    for model, pks in ids.items():
        if not pks:
            continue
        result.rows[model] = set(pks)
        history = history_model_of(model)
        if history is not None:
            pk_name = model._meta.pk.attname
            found = set()
            for chunk in _chunks(pks):
                found |= set(
                    history.objects.filter(**{f"{pk_name}__in": chunk}).values_list(
                        "history_id", flat=True
                    )
                )
            if found:
                result.history_rows[history] = found
    result._edges = edges  # used by execute()
    return result


def _delete_files(model, pks) -> None:
    file_fields = [f for f in model._meta.concrete_fields if isinstance(f, models.FileField)]
    if not file_fields:
        return
    for chunk in _chunks(pks):
        for values in model._base_manager.filter(pk__in=chunk).values_list(
            *[f.attname for f in file_fields]
        ):
            for f, name in zip(file_fields, values, strict=True):
                if name:
                    f.storage.delete(name)


@transaction.atomic
def execute(result: CullPlan) -> GallringRun:
    """Delete what ``result`` lists and record the run (counts only).

    Raw deletes skip signals on purpose: a normal delete would write a new
    history row holding the very data being culled. Foreign keys are checked
    at the end of the transaction (they are deferred), so the order of the
    deletes does not matter, and a row outside the plan that still points at
    a culled row aborts the whole run instead of leaving a dangling reference.
    """
    using = connection.alias
    deleted = 0
    for edge in result._edges:
        if edge.owning or edge.parent not in result.rows:
            continue
        # A row that only refers to a culled one keeps existing, without the reference.
        for chunk in _chunks(result.rows[edge.parent]):
            edge.model._base_manager.filter(**{f"{edge.field.attname}__in": chunk}).update(
                **{edge.field.attname: None}
            )
    for model, pks in result.rows.items():
        _delete_files(model, pks)
        # Looked up, not get_or_create: a culling run must not add content types.
        content_type = ContentType.objects.filter(
            app_label=model._meta.app_label, model=model._meta.model_name
        ).first()
        for chunk in _chunks(pks):
            deleted += model._base_manager.filter(pk__in=chunk)._raw_delete(using)
            if content_type is None:
                continue
            LogEntry.objects.filter(
                content_type=content_type, object_id__in=[str(pk) for pk in chunk]
            ).delete()
            for generic in _generic_relations():
                deleted += generic.model._base_manager.filter(
                    **{generic.ct_field: content_type, f"{generic.fk_field}__in": chunk}
                )._raw_delete(using)
    for history, history_ids in result.history_rows.items():
        # Rows that hang off a history row (simple-history's snapshots of
        # many-to-many fields, e.g. a visit's staff and goals) go with it.
        dependants = [rel for rel in history._meta.related_objects if rel.field.many_to_one]
        for chunk in _chunks(history_ids):
            for rel in dependants:
                deleted += rel.related_model._base_manager.filter(
                    **{f"{rel.field.attname}__in": chunk}
                )._raw_delete(using)
            deleted += history._base_manager.filter(history_id__in=chunk)._raw_delete(using)
    connection.check_constraints()
    return GallringRun.objects.create(
        dry_run=False,
        persons_due=len(result.due),
        persons_exempted=len(result.exempted),
        persons_culled=len(result.due),
        rows_deleted=deleted,
    )


def _generic_relations() -> list[GenericForeignKey]:
    return [
        f
        for m in apps.get_models()
        for f in m._meta.private_fields
        if isinstance(f, GenericForeignKey)
    ]


def run(*, dry_run: bool = False, today: date | None = None) -> tuple[CullPlan, GallringRun | None]:
    """Plan, and unless ``dry_run`` execute, one culling run. A dry run
    changes nothing, not even the record of runs."""
    result = plan(today=today)
    if dry_run:
        return result, None
    if not result.due:
        return result, GallringRun.objects.create(persons_exempted=len(result.exempted))
    return result, execute(result)
