"""How a request reaches a case record: one read path and one write path.

**Read** — ``record_get(request, queryset, pk=…)``: the row of the user's
scoped ``queryset``, else one 404 for both "missing" and "not yours" (ids
cannot be probed). A found row is logged as a read against every person it
shows (``CaseModel.person_ids()``: an apartment shows its tenants, an
activity who attended); a row that exists outside the scope is logged as
``denied``. ``RecordMixin`` gives a view the same through ``get_object()``.
A list page that shows many people (the admin's) logs them with
``record_read_many``, in one INSERT.

**Write** — ``record_save(instance, acting_user=…)``: ``full_clean`` once, the
acting user (and a reason, if any) named in the change history, and the
version check of ``CaseModel.save`` (``UPDATE … WHERE version = n`` in the same
statement). The history row becomes the access-log row (``signals.py``), in
the same transaction. Many-to-many parts of a record (a visit's staff and
goals) are set here too, so that the history row holds them.

Nothing else in the project sets simple-history's private attributes
(``_history_user``, ``_change_reason``, ``skip_history_when_saving``); a
walking test checks it.
"""

import contextlib
from collections.abc import Iterable

from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.http import Http404

from .access_log import access_log_entry
from .models import AccessLogEntry, CaseModel

# --- Read ---------------------------------------------------------------------------


def _person_ids(obj: models.Model) -> set[int]:
    return obj.person_ids() if isinstance(obj, CaseModel) else set()


def _log(request_or_user, *, action: str, obj: models.Model, person_ids: set[int]) -> None:
    """One access-log row per person (one row without a person for reference
    data), in one INSERT whatever the number of people."""
    rows = [(obj, person_id) for person_id in sorted(person_ids) or [None]]
    _write(request_or_user, action, rows)


def _write(request_or_user, action: str, rows: Iterable[tuple[models.Model, int | None]]) -> None:
    """The access-log rows (record, person id) in one INSERT."""
    request, user = _split(request_or_user)
    AccessLogEntry.objects.bulk_create(
        access_log_entry(action=action, request=request, user=user, obj=obj, person_id=person_id)
        for obj, person_id in rows
    )


def _split(request_or_user):
    """(request, user) from a request, or (None, user) from a user (tasks, commands)."""
    if hasattr(request_or_user, "META") and hasattr(request_or_user, "user"):
        return request_or_user, request_or_user.user
    return None, request_or_user


def query_id(request, name: str) -> int | None:
    """The id in ``?name=`` (a preselection, a filter), or None when it is
    missing or not a plain id: ASCII digits that fit a database id ("²" is a
    digit to Python, not to ``int``)."""
    value = request.GET.get(name, "")
    if value.isascii() and value.isdigit() and len(value) <= 18:
        return int(value)
    return None


def record_get(request_or_user, queryset: models.QuerySet, **lookup) -> models.Model:
    """The row of the user-scoped ``queryset`` matching ``lookup``, else Http404.

    ``queryset`` must already be scoped to what the user may see (a selector).
    Bad lookup values (text for an id, a NUL byte) are a 404 like a missing row.
    """
    try:
        obj = queryset.get(**lookup)
    except (queryset.model.DoesNotExist, ValueError, TypeError, ValidationError) as exc:
        hidden = None
        with contextlib.suppress(ValueError, TypeError, ValidationError):
            hidden = queryset.model._base_manager.filter(**lookup).first()
        if hidden is not None:
            _log(
                request_or_user,
                action=AccessLogEntry.Action.DENIED,
                obj=hidden,
                person_ids=_person_ids(hidden),
            )
        raise Http404(queryset.model._meta.object_name) from exc
    record_read(request_or_user, obj)
    return obj


def record_read(request_or_user, obj: models.Model) -> None:
    """Log that ``obj`` was shown, against every person it shows.

    For records reached without a lookup (a page's own object list is not a
    read of one record); anything fetched by id goes through ``record_get``.
    """
    _log(request_or_user, action=AccessLogEntry.Action.READ, obj=obj, person_ids=_person_ids(obj))


def record_read_many(request_or_user, objs: Iterable[models.Model]) -> None:
    """Log that a list page showed ``objs``: a read against every person each
    row shows, all in one INSERT. Rows that show nobody are not logged (a list
    of reference data is not a read of anyone)."""
    _write(
        request_or_user,
        AccessLogEntry.Action.READ,
        [(obj, person_id) for obj in objs for person_id in sorted(_person_ids(obj))],
    )


def record_exported(request_or_user, obj: models.Model) -> None:
    """Log that ``obj`` left the system as a file (a PDF, a printout)."""
    _log(request_or_user, action=AccessLogEntry.Action.EXPORT, obj=obj, person_ids=_person_ids(obj))


class RecordMixin:
    """A view about one record: ``get_object()`` goes through ``record_get``.

    Subclasses give ``record_queryset()`` (the user's scoped queryset, from a
    selector). The record is fetched, authorised and logged once per request,
    on GET and POST alike.
    """

    pk_url_kwarg = "pk"

    def record_queryset(self) -> models.QuerySet:
        raise NotImplementedError(f"{type(self).__name__} must define record_queryset()")

    def get_queryset(self):
        return self.record_queryset()

    def get_object(self, queryset=None):
        if not hasattr(self, "_record"):
            self._record = record_get(
                self.request, self.record_queryset(), pk=self.kwargs[self.pk_url_kwarg]
            )
        return self._record


# --- Write --------------------------------------------------------------------------


@transaction.atomic
def record_save(
    instance: CaseModel,
    *,
    acting_user,
    reason: str = "",
    m2m: dict[str, Iterable] | None = None,
    clean: bool = True,
) -> CaseModel:
    """Validate and save one case record as ``acting_user``.

    ``instance.version`` is the version the editor read: a save by someone
    else in between raises ``StaleObjectError`` and changes nothing.
    ``reason`` is kept on the history row (e.g. why a date was corrected).
    ``m2m`` sets many-to-many parts ({"staff": users}) so that the record's
    one history row of this save holds them as well. ``clean=False`` only for
    callers that ran ``full_clean`` themselves (the admin's form did).
    """
    if clean:
        instance.full_clean()
    instance._history_user = acting_user
    if reason:
        instance._change_reason = reason
    adding = instance._state.adding or instance.pk is None
    if m2m and not adding:
        # Before the save: its history row then snapshots the new values.
        _set_m2m_quietly(instance, m2m)
    instance.save()
    if m2m and adding:
        # The insert's history row was written before the many-to-many rows
        # could exist (they need the id): set them, then fill its snapshot.
        _set_m2m_quietly(instance, m2m)
        _snapshot_m2m(instance)
    return instance


@transaction.atomic
def record_delete(instance: CaseModel, *, acting_user) -> None:
    """Delete a case record; the history row names ``acting_user``."""
    instance._history_user = acting_user
    instance.delete()


def _set_m2m_quietly(instance: CaseModel, values: dict[str, Iterable]) -> None:
    """Set many-to-many fields without a history row per change (simple-history
    writes one on every m2m change made elsewhere, so those stay recorded)."""
    instance.skip_history_when_saving = True
    try:
        for name, items in values.items():
            getattr(instance, name).set(list(items))
    finally:
        del instance.skip_history_when_saving


def _snapshot_m2m(instance: CaseModel) -> None:
    """Copy the many-to-many rows of ``instance`` into its latest history row."""
    record = instance.history.order_by("-history_id").first()
    for m2m in record._history_m2m_fields:
        snapshot_model = getattr(type(record), m2m.name).model
        through = m2m.remote_field.through
        columns = [f.attname for f in through._meta.concrete_fields]
        snapshot_model.objects.filter(history=record).delete()
        snapshot_model.objects.bulk_create(
            snapshot_model(history=record, **dict(zip(columns, values, strict=True)))
            for values in through.objects.filter(**{m2m.m2m_field_name(): instance}).values_list(
                *columns
            )
        )
