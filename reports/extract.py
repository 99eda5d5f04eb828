"""Register extracts (registerutdrag): what the system holds about one person
and who has read or changed it (GDPR art. 15; the EU Court's judgment
C-579/21 gives the person the dates and the staff behind each consultation).

**What is in it.** The person's own row and every row that belongs to them or
refers to them, found through the model graph that culling walks
(``bostadforst.gallring.graph`` and ``collect``): a model added later is
in the extract without touching this module, as it is culled without touching
that one. Rows that were deleted but are still kept in the change history are
given as their last kept version, marked as deleted. Each row gives every
field with its label (the field's verbose name) and its display value
(a choice's label, a related row's name, dates as 2026-11-23), except the
bookkeeping no one reads (``TECHNICAL_FIELDS``, a model's
``register_extract_exclude``) and the pointer back to the person. A
many-to-many field is a field of its row; its join table is not a section of
its own unless the row holding the field is not in the extract.

The access log extract lists every row of the access log about the person
(reads, changes, exports, refusals) within the chosen period: when, the
staff member's role, their name unless ``REGISTER_EXTRACT_NAMES_STAFF`` is
off, what was done, the kind of record and the page.

**How it is made.** A unit manager orders it (``register_extract_order``); a
background job (``bostadforst.jobs``, task ``reports.register_extract``, which
takes the job's id only) collects it, renders the PDF through
``bostadforst.pdf.render_pdf`` and logs the export against the person. The
period limits the access log only: the person's records are always given in
full, since the right of access covers everything held.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal

from django.apps import apps
from django.conf import settings
from django.core.exceptions import ObjectDoesNotExist, ValidationError
from django.core.files.base import ContentFile
from django.db import models, transaction
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.formats import number_format
from django.utils.text import capfirst
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from bostadforst import gallring
from bostadforst.access_log import log_access
from bostadforst.jobs import SWEEP_GRACE, JobQueue, Run
from bostadforst.models import AccessLogEntry
from bostadforst.roles import Role
from participants.models import Participant

from .models import RegisterExtract

# The Celery task that runs ``register_extract_run`` (reports.tasks.make_register_extract).
EXTRACT_TASK = "reports.register_extract"
EXTRACT_JOBS = JobQueue(RegisterExtract, task=EXTRACT_TASK, name="register extract")

# Bookkeeping of every case row (optimistic locking) and of jobs, which
# tells the person nothing about themselves.
TECHNICAL_FIELDS = frozenset({"version"})
CHUNK = 500
EMPTY = "–"
# Seconds between the progress writes (heartbeats) of a running extract job.
PROGRESS_INTERVAL = 1.0

ORDER_REFUSED = {
    "period": gettext_lazy("The start of the period cannot be after its end."),
}


# --- What an extract holds --------------------------------------------------------


@dataclass
class Row:
    """One record: its name and its fields as (label, value) pairs."""

    title: str
    fields: list[tuple[str, str]]
    deleted: bool = False


@dataclass
class Section:
    """The rows of one model (or of one many-to-many field's join table)."""

    model: type[models.Model]
    title: str
    rows: list[Row]


@dataclass
class LogLine:
    at: str
    role: str
    name: str
    action: str
    record: str
    page: str


@dataclass
class Extract:
    person: Participant
    sections: list[Section]
    log: list[LogLine]
    period_from: datetime.date | None
    period_to: datetime.date | None
    names_staff: bool
    produced_at: datetime.datetime = field(default_factory=timezone.now)

    @property
    def shown_models(self) -> set[type[models.Model]]:
        return {section.model for section in self.sections}


# --- Display values ---------------------------------------------------------------


def _text(value) -> str:
    """A value as the extract shows it: dates as 2026-11-23, times in local time."""
    if value is None or value == "":
        return EMPTY
    if isinstance(value, bool):
        return _("Yes") if value else _("No")
    if isinstance(value, datetime.datetime):
        if timezone.is_aware(value):
            value = timezone.localtime(value)
        return value.strftime("%Y-%m-%d %H:%M")
    if isinstance(value, datetime.date):
        return value.isoformat()
    if isinstance(value, Decimal | float):
        return number_format(value, decimal_pos=2, force_grouping=True)
    if hasattr(value, "_meta") and value._meta.label == settings.AUTH_USER_MODEL:
        return value.get_full_name() or value.get_username()
    return str(value)


def _shown_fields(model: type[models.Model], person: type[models.Model]) -> list:
    """The fields an extract gives of ``model``'s rows, in the model's order."""
    excluded = TECHNICAL_FIELDS | set(getattr(model, "register_extract_exclude", ()))
    shown = []
    for f in model._meta.concrete_fields:
        if f.primary_key or f.name in excluded:
            continue
        if isinstance(f, models.BinaryField | models.FileField):
            continue
        if f.is_relation and f.related_model is person and model is not person:
            continue  # every row is the person's: the pointer adds nothing
        shown.append(f)
    return shown


def _field_value(obj: models.Model, f) -> str:
    value = getattr(obj, f.attname)
    if value is None or value == "":
        return EMPTY
    display = getattr(type(obj), f"{f.name}_display", None)
    if isinstance(display, property):
        return _text(getattr(obj, f"{f.name}_display"))  # a personnummer as YYYYMMDD-NNNN
    if f.choices:
        return _text(dict(f.flatchoices).get(value, value))
    if f.is_relation:
        try:
            return _text(getattr(obj, f.name))
        except ObjectDoesNotExist:  # a history row pointing at a deleted row
            return EMPTY
    return _text(value)


def _row(obj: models.Model, shown: list, m2m: list, *, deleted: bool = False) -> Row:
    fields = [(capfirst(str(f.verbose_name)), _field_value(obj, f)) for f in shown]
    for f in m2m:
        items = ", ".join(_text(item) for item in getattr(obj, f.name).all())
        fields.append((capfirst(str(f.verbose_name)), items or EMPTY))
    return Row(title=_text(obj), fields=fields, deleted=deleted)


def _chunks(values):
    values = sorted(values)
    for start in range(0, len(values), CHUNK):
        yield values[start : start + CHUNK]


# --- Collecting -------------------------------------------------------------------


def _owner_of(through: type[models.Model]) -> tuple[type[models.Model], models.Field] | None:
    """The model and many-to-many field whose join table ``through`` is."""
    for model in apps.get_models():
        for f in model._meta.many_to_many:
            if f.remote_field.through is through:
                return model, f
    return None


def _belonging_ids(person: type[models.Model], pid: int, edges) -> dict[type, set]:
    """Ids per model of the rows that belong to the person (``gallring.collect``)
    and of the rows that only refer to one of those (a SET_NULL key)."""
    ids = gallring.collect(person, {pid}, edges)
    for edge in edges:
        if edge.owning or not ids.get(edge.parent):
            continue
        for chunk in _chunks(ids[edge.parent]):
            lookup = {f"{edge.field.attname}__in": chunk}
            ids[edge.model] |= set(
                edge.model._base_manager.filter(**lookup).values_list("pk", flat=True)
            )
    return ids


def _section(model, pks: set, person) -> Section:
    """The rows ``pks`` of ``model``: live rows, then rows kept only in the
    change history (their last version), oldest first."""
    shown = _shown_fields(model, person)
    m2m = list(model._meta.many_to_many)
    related = [f.name for f in shown if f.is_relation]
    rows: list[Row] = []
    live: set = set()
    for chunk in _chunks(pks):
        queryset = (
            model._base_manager.filter(pk__in=chunk)
            .select_related(*related)
            .prefetch_related(*(f.name for f in m2m))
            .order_by("pk")
        )
        for obj in queryset:
            live.add(obj.pk)
            rows.append(_row(obj, shown, m2m))
    gone = set(pks) - live
    history = gallring.history_model_of(model)
    if gone and history is not None:
        pk_name = model._meta.pk.attname
        for chunk in _chunks(gone):
            latest = {}
            for version in history.objects.filter(**{f"{pk_name}__in": chunk}).order_by(
                "history_date", "history_id"
            ):
                latest[getattr(version, pk_name)] = version
            for pk in sorted(latest):
                version = latest[pk]
                rows.append(_row(version, shown, [], deleted=True))
    return Section(model=model, title=capfirst(str(model._meta.verbose_name_plural)), rows=rows)


def _join_section(through, pks: set, owner_field) -> Section:
    """A join table's rows when the row holding the field is not in the extract."""
    keys = [f for f in through._meta.concrete_fields if f.is_relation]
    rows = []
    for chunk in _chunks(pks):
        for obj in through.objects.filter(pk__in=chunk).select_related(*(f.name for f in keys)):
            fields = [
                (capfirst(str(f.related_model._meta.verbose_name)), _text(getattr(obj, f.name)))
                for f in keys
            ]
            rows.append(Row(title=" – ".join(value for _label, value in fields), fields=fields))
    return Section(model=through, title=capfirst(str(owner_field.verbose_name)), rows=rows)


def extract_sections(
    person_row: Participant, *, progress: Callable[[int, int], None] | None = None
) -> list[Section]:
    """Every record of the person, a section per model: the person first,
    then in the order the model graph reaches them."""
    person = gallring.person_model()
    edges = gallring.graph(person)
    ids = _belonging_ids(person, person_row.pk, edges)
    order = [person]
    for edge in edges:
        if edge.model not in order:
            order.append(edge.model)
    todo = [m for m in order if ids.get(m)]
    sections = []
    for done, model in enumerate(todo, start=1):
        if model._meta.auto_created:
            owner = _owner_of(model)
            if owner is not None and owner[0] in ids and ids[owner[0]]:
                continue  # a field of its rows
            if owner is not None:
                sections.append(_join_section(model, ids[model], owner[1]))
        else:
            sections.append(_section(model, ids[model], person))
        if progress:
            progress(done, len(todo))
    return sections


def _day_start(day: datetime.date) -> datetime.datetime:
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time.min))


def _record_kind(label: str) -> str:
    if not label:
        return EMPTY
    try:
        return capfirst(str(apps.get_model(label)._meta.verbose_name))
    except (LookupError, ValueError):
        return label


def extract_log(
    *,
    person_id: int,
    period_from: datetime.date | None = None,
    period_to: datetime.date | None = None,
    names_staff: bool = True,
) -> list[LogLine]:
    """Every access-log row about the person within the period (both days
    included, local time), oldest first."""
    rows = AccessLogEntry.objects.filter(person_id=person_id).select_related("user")
    if period_from:
        rows = rows.filter(at__gte=_day_start(period_from))
    if period_to:
        rows = rows.filter(at__lt=_day_start(period_to + datetime.timedelta(days=1)))
    actions = dict(AccessLogEntry.Action.choices)
    roles = dict(Role.choices)
    lines = []
    kinds: dict[str, str] = {}
    for entry in rows.order_by("at", "pk").iterator(chunk_size=2000):
        if names_staff:
            name = (entry.user.get_full_name() if entry.user else "") or entry.username or EMPTY
        else:
            name = ""
        if entry.model not in kinds:
            kinds[entry.model] = _record_kind(entry.model)
        lines.append(
            LogLine(
                at=_text(entry.at),
                role=str(roles.get(entry.role, entry.role)) or EMPTY,
                name=name,
                action=capfirst(str(actions.get(entry.action, entry.action))),
                record=kinds[entry.model],
                page=entry.view_name or EMPTY,
            )
        )
    return lines


def extract_collect(
    *,
    person_id: int,
    period_from: datetime.date | None = None,
    period_to: datetime.date | None = None,
    names_staff: bool | None = None,
    progress: Callable[[str, int, int], None] | None = None,
) -> Extract:
    """The register extract of person ``person_id``."""
    if names_staff is None:
        names_staff = settings.REGISTER_EXTRACT_NAMES_STAFF
    person = gallring.person_model()._base_manager.get(pk=person_id)

    def sections_done(done: int, total: int) -> None:
        if progress:
            progress(RegisterExtract.Stage.COLLECT, done, total + 2)

    sections = extract_sections(person, progress=sections_done)
    total = len(sections) + 2
    if progress:
        progress(RegisterExtract.Stage.LOG, total - 2, total)
    log = extract_log(
        person_id=person_id,
        period_from=period_from,
        period_to=period_to,
        names_staff=names_staff,
    )
    if progress:
        progress(RegisterExtract.Stage.RENDER, total - 1, total)
    return Extract(
        person=person,
        sections=sections,
        log=log,
        period_from=period_from,
        period_to=period_to,
        names_staff=names_staff,
    )


def extract_html(extract: Extract) -> str:
    with translation.override("sv"):
        return render_to_string(
            "reports/register_extract_pdf.html",
            {
                "extract": extract,
                "person": extract.person,
                "municipality_name": settings.MUNICIPALITY_NAME,
                "produced": _text(extract.produced_at),
            },
        )


def extract_render(extract: Extract) -> bytes:
    """The extract as a tagged PDF (``bostadforst.pdf.render_pdf``)."""
    from bostadforst.pdf import render_pdf  # loads WeasyPrint: only when rendering

    html = extract_html(extract)
    with translation.override("sv"):
        return render_pdf(html)


# --- The job ----------------------------------------------------------------------


@transaction.atomic
def register_extract_order(
    *,
    participant: Participant,
    period_from: datetime.date | None = None,
    period_to: datetime.date | None = None,
    acting_user,
) -> RegisterExtract:
    """Store the order of a register extract and queue its job once committed."""
    if period_from and period_to and period_from > period_to:
        raise ValidationError(ORDER_REFUSED["period"], code="period")
    job = RegisterExtract(
        participant=participant,
        period_from=period_from,
        period_to=period_to,
        ordered_by=acting_user,
    )
    job.full_clean()
    job.save()
    job_id = job.pk
    transaction.on_commit(lambda: EXTRACT_JOBS.send(job_id))
    return job


def register_extract_sweep_unsent(*, grace: datetime.timedelta = SWEEP_GRACE) -> int:
    """Send the extract jobs the broker never received, and again those whose
    worker stopped beating; returns how many were sent."""
    return EXTRACT_JOBS.sweep(grace=grace)


def register_extract_run(*, extract_id: int) -> str:
    """Collect and render extract ``extract_id`` once; the state it ends in."""
    return EXTRACT_JOBS.run(extract_id, _make, interval=PROGRESS_INTERVAL)


def _make(run: Run) -> str:
    job: RegisterExtract = run.job
    parts = {"total": 0}

    def progress(stage: str, done: int, total: int) -> None:
        parts["total"] = total
        run.note(stage=stage, done=done, total=total)

    extract = extract_collect(
        person_id=job.participant_id,
        period_from=job.period_from,
        period_to=job.period_to,
        progress=progress,
    )
    if run.lost:
        return run.taken_over()
    pdf = extract_render(extract)
    name = f"registerutdrag-{job.pk}.pdf"
    job.pdf.save(name, ContentFile(pdf), save=False)
    try:
        with transaction.atomic():
            stored = run.finish(pdf=job.pdf.name, done=parts["total"])
            if stored:
                # Producing the extract is an export of everything about the
                # person, logged in the transaction that stores it.
                log_access(
                    action=AccessLogEntry.Action.EXPORT,
                    user=job.ordered_by,
                    obj=job,
                    person_id=job.participant_id,
                )
    except BaseException:
        job.pdf.delete(save=False)
        raise
    if not stored:
        job.pdf.delete(save=False)
        return run.taken_over()
    return RegisterExtract.State.DONE


def extract_progress(job: RegisterExtract) -> dict:
    """The status page's and poll's progress: per cent and one line of text."""
    if job.state == RegisterExtract.State.QUEUED:
        return {"percent": 0, "step": 0, "text": _("Waiting to start.")}
    if job.state == RegisterExtract.State.FAILED:
        return {"percent": None, "step": None, "text": _("The job failed.")}
    if job.state == RegisterExtract.State.DONE:
        return {"percent": 100, "step": 100, "text": _("The extract is ready.")}
    percent = min(99, job.done * 100 // job.total) if job.total else None
    text = job.get_stage_display() if job.stage else _("Starting.")
    step = None if percent is None else 5 * round(percent / 5)
    return {"percent": percent, "step": step, "text": str(text)}
