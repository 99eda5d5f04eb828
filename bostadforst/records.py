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
``record_bulk_create`` gives many new records the same (history, log rows,
many-to-many parts) in a few statements (the cohort import, demo data at
municipal scale).

**Restricted processing** (GDPR art. 18): while a person's processing is
restricted (``registry.processing_restrictions``, asked by the record's
``participant_pk()``), every write above refuses a record of theirs with
``ProcessingRestrictedError`` (a ``ValidationError``, so form pages answer 400
with nothing saved), except where the caller passes
``restriction_exempt=True``. Only these do: the correction itself (the
person's details, a journal correction entry), the lifting of the
restriction, and a new referral that is only linked to a known person until
the team confirms it (refusing it would tell the referring social worker whom
the team knows). A page that reads a record
notes the people it shows on the request (``request.record_person_ids``), so
that the base template can show the restriction banner on it.

Nothing else in the project sets simple-history's private attributes
(``_history_user``, ``_change_reason``, ``skip_history_when_saving``); a
walking test checks it.
"""

import contextlib
import datetime
from collections import defaultdict
from collections.abc import Iterable, Sequence

from django.core.exceptions import ValidationError
from django.db import connections, models, router, transaction
from django.db.models import F
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from .access_log import access_log_entry
from .identity import current_viewer
from .models import (
    AccessLogEntry,
    CaseModel,
    StaleObjectError,
    access_log_chain_head,
    access_log_hash,
    case_history,
)
from .registry import processing_restrictions
from .roles import role_of

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
    viewer = current_viewer()
    if viewer is not None and isinstance(obj, CaseModel) and obj.identity_closed_to(viewer):
        # A protected person's record, to someone not named for them: as if
        # it did not exist, and logged as a refused attempt.
        _log(
            request_or_user,
            action=AccessLogEntry.Action.DENIED,
            obj=obj,
            person_ids=_person_ids(obj),
        )
        raise Http404(queryset.model._meta.object_name)
    record_read(request_or_user, obj)
    return obj


def record_read(request_or_user, obj: models.Model) -> None:
    """Log that ``obj`` was shown, against every person it shows.

    For records reached without a lookup (a page's own object list is not a
    read of one record); anything fetched by id goes through ``record_get``.
    """
    person_ids = _person_ids(obj)
    _log(request_or_user, action=AccessLogEntry.Action.READ, obj=obj, person_ids=person_ids)
    request, _user = _split(request_or_user)
    if request is not None and person_ids:
        # Whose record the page shows: its banners (a restriction) ask for these.
        shown = request.__dict__.setdefault("record_person_ids", set())
        shown.update(person_ids)


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


def record_exported_many(request_or_user, objs: Iterable[models.Model]) -> None:
    """Log that a list left the system as a file (a caseload as CSV or .xlsx):
    an export against every person each row shows, all in one INSERT."""
    _write(
        request_or_user,
        AccessLogEntry.Action.EXPORT,
        [(obj, person_id) for obj in objs for person_id in sorted(_person_ids(obj))],
    )


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


class ProcessingRestrictedError(ValidationError):
    """A write to a record of a person whose processing is restricted."""


RESTRICTED_MESSAGE = _(
    "Nothing was saved: the processing of this person's data is restricted while a "
    "request for correction is looked into (since %(since)s). Only the correction itself "
    "can be saved until a unit manager lifts the restriction."
)


def refuse_if_restricted(objs: Iterable[CaseModel], *, exempt: bool = False) -> None:
    """Raise ``ProcessingRestrictedError`` when one of ``objs`` is a record of a
    person whose processing is restricted, unless the write is ``exempt`` (see
    the module's docstring). One query for any number of records; none for
    records of nobody (reference data, a person not yet saved)."""
    if exempt:
        return
    restricted = processing_restrictions(obj.participant_pk() for obj in objs)
    if restricted:
        first = restricted[min(restricted)]
        error = ProcessingRestrictedError(
            RESTRICTED_MESSAGE,
            code="processing_restricted",
            params={"since": f"{timezone.localtime(first.since):%Y-%m-%d}"},
        )
        error.person_ids = set(restricted)  # for a writer of many rows to name the row
        raise error


@transaction.atomic
def record_save(
    instance: CaseModel,
    *,
    acting_user,
    reason: str = "",
    m2m: dict[str, Iterable] | None = None,
    clean: bool = True,
    restriction_exempt: bool = False,
) -> CaseModel:
    """Validate and save one case record as ``acting_user``.

    ``instance.version`` is the version the editor read: a save by someone
    else in between raises ``StaleObjectError`` and changes nothing.
    ``reason`` is kept on the history row (e.g. why a date was corrected).
    ``m2m`` sets many-to-many parts ({"staff": users}) so that the record's
    one history row of this save holds them as well. ``clean=False`` only for
    callers that ran ``full_clean`` themselves (the admin's form did).
    ``restriction_exempt=True`` only for the few writes allowed while the
    person's processing is restricted (the correction itself, the lifting;
    see the module's docstring); any other save of such a person's record is
    refused with ``ProcessingRestrictedError``.
    """
    refuse_if_restricted([instance], exempt=restriction_exempt)
    if clean:
        instance.full_clean()
    instance._history_user = acting_user
    if reason:
        instance._change_reason = reason
    adding = instance._state.adding or instance.pk is None
    if m2m and adding:
        # The many-to-many rows need the new id, and simple-history would
        # write the insert's history row (snapshot and access-log row) before
        # they could exist: the row is saved without it, its many-to-many
        # rows added, and then its one history row written, which snapshots
        # them and, last in the transaction, takes the access log's lock.
        instance.skip_history_when_saving = True
        try:
            instance.save()
        finally:
            del instance.skip_history_when_saving
        _add_m2m_to_new(instance, m2m)
        case_history.create_historical_record(instance, "+", using=instance._state.db)
        return instance
    if m2m:
        # Before the save: its history row then snapshots the new values.
        _set_m2m_quietly(instance, m2m)
    instance.save()
    return instance


@transaction.atomic
def record_bulk_create(
    model: type[CaseModel],
    objs: Sequence[CaseModel],
    *,
    acting_user,
    reason: str = "",
    m2m: Sequence[dict[str, Iterable]] | None = None,
    clean: bool = True,
) -> list[CaseModel]:
    """Create many new case records of one ``model`` as ``acting_user``, with
    what ``record_save`` gives one: a history row each, an access-log row each
    (chained like every other), and the many-to-many parts (``m2m``, one dict
    per object, as in ``record_save``) in the records and in their history
    rows. All in one transaction.

    ``acting_user`` is a user, or a function giving the user who made each
    object (demo data: a visit's author), for its history and log rows. Each
    history and access-log row is dated at its record's ``created_at`` (now,
    unless the caller sets when the record was made, as demo data of earlier
    years does). ``clean=False`` only for callers that validated the rows
    themselves: ``full_clean`` runs queries per row (overlaps), which a
    generator of a million rows that are valid by construction cannot pay.

    simple-history's signals, and so the access-log receiver, do not run for
    bulk writes (PITFALLS 4), and Django's ``bulk_create`` spends most of its
    time preparing each value of each row; so the rows are written here as
    prepared values: through ``COPY`` on PostgreSQL (``_copy``), as
    multi-row INSERTs of several hundred rows a statement on SQLite.
    """
    objs = list(objs)
    if m2m is not None and len(m2m) != len(objs):
        raise ValueError("m2m needs one dict per object")
    if not objs:
        return objs
    refuse_if_restricted(objs)
    if clean:
        for obj in objs:
            obj.full_clean()
    using = router.db_for_write(model)
    connection = connections[using]
    users = [acting_user(obj) if callable(acting_user) else acting_user for obj in objs]

    # The records themselves.
    fields = [f for f in model._meta.concrete_fields if not f.primary_key]
    rows = [_prepared(obj, fields, connection) for obj in objs]
    ids = _insert(model, [f.column for f in fields], rows, connection)
    for obj, pk in zip(objs, ids, strict=True):
        obj.pk = pk
        obj._state.adding = False
        obj._state.db = using

    # Their history rows: the same prepared values, who, when and why.
    history_model = model.history.model
    tracked = {f.attname for f in history_model.tracked_fields}
    positions = [i for i, f in enumerate(fields) if f.attname in tracked]
    history_fields = [fields[i] for i in positions]
    pk_field = model._meta.pk
    if pk_field.attname in tracked:
        history_fields.insert(0, pk_field)
    to_db = _datetime_to_db(connection)
    history_rows = []
    for obj, row, user in zip(objs, rows, users, strict=True):
        values = [row[i] for i in positions]
        if pk_field.attname in tracked:
            values.insert(0, obj.pk)
        history_rows.append(
            (
                *values,
                to_db(obj.created_at),
                reason or None,
                "+",
                getattr(user, "pk", None),
            )
        )
    history_columns = [f.column for f in history_fields] + [
        "history_date",
        "history_change_reason",
        "history_type",
        "history_user_id",
    ]
    history_ids = _insert(history_model, history_columns, history_rows, connection)
    if m2m is not None:
        _bulk_m2m(model, objs, history_model, history_ids, m2m, connection)

    # One access-log row each, chained after the last row.
    previous = access_log_chain_head(using=using)
    label = model._meta.label
    log_rows = []
    for obj, user in zip(objs, users, strict=True):
        authenticated = getattr(user, "is_authenticated", False)
        values = {
            "at": obj.created_at,
            "user_id": user.pk if authenticated else None,
            "username": user.get_username() if authenticated else "",
            "role": _role_value(user) if authenticated else "",
            "action": AccessLogEntry.Action.CREATE.value,
            "model": label,
            "object_id": str(obj.pk),
            "person_id": obj.participant_pk(),
            "view_name": "",
            "ip": None,
        }
        previous = access_log_hash(previous, values)
        values["at"] = to_db(obj.created_at)
        log_rows.append((*values.values(), previous))
    columns = [AccessLogEntry._meta.get_field(name).column for name in values] + ["chain_hash"]
    _insert(AccessLogEntry, columns, log_rows, connection, returning=False)
    return objs


def _prepared(obj: models.Model, fields, connection) -> tuple:
    """The database values of a new row, as ``Model.save`` would write them."""
    to_db = _datetime_to_db(connection)
    values = []
    for field in fields:
        if field.is_relation:
            # A parent assigned before it was saved: take its id now.
            value = getattr(obj, field.attname)
            if value is None and field.is_cached(obj):
                parent = field.get_cached_value(obj)
                if parent is not None:
                    # Not setattr: that would drop the cached parent, which the
                    # history and log rows still read (``participant_pk``).
                    value = obj.__dict__[field.attname] = parent.pk
            values.append(value)
        elif getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False):
            values.append(field.get_db_prep_save(field.pre_save(obj, True), connection))
        else:
            value = getattr(obj, field.attname)
            if value is None or isinstance(value, (str, int)):
                pass
            elif isinstance(value, datetime.datetime) and timezone.is_aware(value):
                value = to_db(value)
            else:
                value = field.get_db_prep_save(value, connection)
            values.append(value)
    return tuple(values)


def _datetime_to_db(connection):
    """An aware datetime as the backend stores it: SQLite as UTC text (what
    ``adapt_datetimefield_value`` gives, without its per-value checks);
    PostgreSQL takes it as it is."""
    if connection.vendor == "sqlite":
        return lambda value: value.astimezone(datetime.UTC).replace(tzinfo=None).isoformat(" ")
    return lambda value: value


def _insert(model, columns: list[str], rows: list[tuple], connection, *, returning=True):
    """INSERT ``rows`` into ``model``'s table in statements of many rows; the
    new ids in the order of ``rows`` (SQLite returns a multi-row INSERT's
    rows in order, which Django's ``bulk_create`` relies on too). On
    PostgreSQL through ``COPY`` (``_copy``)."""
    if connection.vendor == "postgresql":
        return _copy(model, columns, rows, connection, returning=returning)
    quote = connection.ops.quote_name
    table = quote(model._meta.db_table)
    pk = quote(model._meta.pk.column)
    names = ", ".join(quote(c) for c in columns)
    one = "(" + ", ".join(["%s"] * len(columns)) + ")"
    # SQLite allows 32,766 parameters a statement.
    per_statement = max(1, min(1000, 32_000 // len(columns)))
    ids: list[int] = []
    with connection.cursor() as cursor:
        for start in range(0, len(rows), per_statement):
            chunk = rows[start : start + per_statement]
            sql = f"INSERT INTO {table} ({names}) VALUES {', '.join([one] * len(chunk))}"
            params = [value for row in chunk for value in row]
            if returning:
                cursor.execute(f"{sql} RETURNING {pk}", params)
                ids.extend(row[0] for row in cursor.fetchall())
            else:
                cursor.execute(sql, params)
    return ids


def _copy(model, columns: list[str], rows: list[tuple], connection, *, returning: bool):
    """PostgreSQL: the rows through COPY, in psycopg's C code: no statement
    per chunk to parse and no parameter per value to bind (an INSERT of
    arrays spent its time quoting them). The new ids, when asked for, are
    drawn from the table's sequence first (one query) and written with the
    rows; without them the column's default numbers the rows in their
    order, as the access log's chain needs."""
    if not rows:
        return []
    quote = connection.ops.quote_name
    table = quote(model._meta.db_table)
    ids: list[int] = []
    with connection.cursor() as cursor:
        if returning:
            pk = model._meta.pk.column
            cursor.execute(
                "SELECT nextval(pg_get_serial_sequence(%s, %s)) FROM generate_series(1, %s)",
                [table, pk, len(rows)],
            )
            ids = [row[0] for row in cursor.fetchall()]
            columns = [pk, *columns]
            rows = [(pk_value, *row) for pk_value, row in zip(ids, rows, strict=True)]
        names = ", ".join(quote(c) for c in columns)
        # psycopg's own cursor: its errors made Django's, as for any statement.
        with (
            connection.wrap_database_errors,
            cursor.cursor.copy(f"COPY {table} ({names}) FROM STDIN") as copy,
        ):
            for row in rows:
                copy.write_row(row)
    return ids


def _bulk_m2m(model, objs, history_model, history_ids, values, connection) -> None:
    """The many-to-many rows of newly created ``objs`` and their snapshots in
    the history rows ``history_ids`` (one each, in the same order)."""
    snapshotted = {f.name for f in getattr(history_model, "_history_m2m_fields", ())}
    for name in sorted({name for value in values for name in value}):
        field = model._meta.get_field(name)
        through = field.remote_field.through
        own = through._meta.get_field(field.m2m_field_name()).column
        other = through._meta.get_field(field.m2m_reverse_field_name()).column
        pairs = [
            (obj.pk, getattr(item, "pk", item), history_id)
            for obj, value, history_id in zip(objs, values, history_ids, strict=True)
            for item in value.get(name, ())
        ]
        if not pairs:
            continue
        through_ids = _insert(through, [own, other], [p[:2] for p in pairs], connection)
        if name not in snapshotted:
            continue
        snapshot_model = getattr(history_model, name).model
        _insert(
            snapshot_model,
            [through._meta.pk.column, own, other, "history_id"],
            [(pk, *pair) for pk, pair in zip(through_ids, pairs, strict=True)],
            connection,
            returning=False,
        )


@transaction.atomic
def record_bulk_update(
    model: type[CaseModel],
    objs: Sequence[CaseModel],
    fields: Sequence[str],
    *,
    acting_user,
    reason: str = "",
    batch_size: int = 2000,
) -> list[CaseModel]:
    """Save the changed ``fields`` of many case records of one ``model`` as
    ``acting_user``, with what ``record_save`` gives one: the version check,
    a history row each naming the user (and ``reason``) and an access-log row
    each; all in one transaction, in a few statements per ``batch_size``
    records whatever their number.

    Each object's ``version`` is the version its caller read: when someone
    else saved one of them since, ``StaleObjectError`` names it and nothing
    is changed. The caller validated the objects (as for ``record_bulk_create``
    with ``clean=False``).
    """
    objs = list(objs)
    refuse_if_restricted(objs)
    fields = [name for name in fields if name not in ("version", "updated_at")]
    history = model.history
    for start in range(0, len(objs), batch_size):
        chunk = objs[start : start + batch_size]
        _claim_versions(model, chunk)
        now = timezone.now()
        for obj in chunk:
            obj.updated_at = now  # bulk_update skips auto_now
            obj._history_date = now
            obj._history_user = acting_user
        model._base_manager.bulk_update(chunk, [*fields, "updated_at"])
        history.bulk_history_create(chunk, update=True, default_change_reason=reason)
        AccessLogEntry.objects.bulk_create(
            access_log_entry(
                action=AccessLogEntry.Action.UPDATE,
                user=acting_user,
                obj=obj,
                person_id=obj.participant_pk(),
            )
            for obj in chunk
        )
    return objs


def _claim_versions(model: type[CaseModel], objs: Sequence[CaseModel]) -> None:
    """``CaseModel.save``'s check for many rows: ``UPDATE … SET version =
    version + 1 WHERE pk IN (…) AND version = n``, one statement per version
    read (the rows then stay locked until the transaction ends). Fewer rows
    matched than given means someone saved one of them since."""
    by_version: dict[int, list[CaseModel]] = defaultdict(list)
    for obj in objs:
        by_version[obj.version].append(obj)
    for version, group in by_version.items():
        pks = [obj.pk for obj in group]
        matched = model._base_manager.filter(pk__in=pks, version=version).update(
            version=F("version") + 1
        )
        if matched != len(group):
            now = dict(model._base_manager.filter(pk__in=pks).values_list("pk", "version"))
            raise StaleObjectError(next(obj for obj in group if now.get(obj.pk) != version + 1))
        for obj in group:
            obj.version = version + 1


@transaction.atomic
def record_delete(instance: CaseModel, *, acting_user) -> None:
    """Delete a case record; the history row names ``acting_user``."""
    refuse_if_restricted([instance])
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


def _add_m2m_to_new(instance: CaseModel, values: dict[str, Iterable]) -> None:
    """The many-to-many rows of a record just inserted: one INSERT a field
    (none for an empty one). A new record has no rows yet, so the reads
    ``set()`` makes to compute what to add and remove are skipped, and so are
    the ``m2m_changed`` signals, whose one receiver is simple-history's, which
    would write a history row per change (``_set_m2m_quietly`` keeps it quiet
    for the same reason)."""
    for name, items in values.items():
        field = instance._meta.get_field(name)
        through = field.remote_field.through
        own = through._meta.get_field(field.m2m_field_name()).attname
        other = through._meta.get_field(field.m2m_reverse_field_name()).attname
        ids = list(dict.fromkeys(getattr(item, "pk", item) for item in items))
        through._base_manager.using(instance._state.db).bulk_create(
            through(**{own: instance.pk, other: pk}) for pk in ids
        )


def _role_value(user) -> str:
    role = role_of(user)
    return role.value if role else ""
