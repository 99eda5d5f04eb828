"""Protected identity (skyddade personuppgifter): whose name, personnummer,
address and phone the person looking may see.

The one place the rule is applied is loading a row from the database: a model
that holds a person's identity mixes in ``IdentityMasked``, and every instance
Django builds from a row (a ``get``, a list, ``select_related``,
``prefetch_related``, a pick list's choices, the admin) passes ``from_db``,
which replaces the identity fields with a neutral alias and "Skyddad adress"
when the current viewer may not see them. Pages, exports, PDFs and e-mails
built from model instances therefore cannot show what the viewer may not see;
code that reads identity columns with ``values()``/``values_list()`` bypasses
this and must not put them in front of a user (the walking test of issue 15
fails for any page or export that does).

The viewer is set per request (``IdentityViewerMiddleware``, also around a
streamed export's rows) and by ``viewing_as(user)`` for work done on a user's
behalf elsewhere. With no viewer (management commands, the system's own
background work) nothing is masked.

Which rows are hidden from a viewer is decided by providers the apps register
in ``hidden_sets`` (the participants app: protected people the viewer is not
named for; the housing app: the apartments they live in), each computed at
most once per viewer, in one query, and only when a row of that kind is met.

A masked instance is never written back as it was read: saving it restores
the identity fields from the database first, so an edit of other fields by
someone who sees the alias cannot overwrite the real name.
"""

import contextvars
import hashlib
import hmac
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager

from django.conf import settings
from django.db.models import Case, F, IntegerField, Q, Value, When
from django.utils.translation import gettext

_viewer: contextvars.ContextVar["Viewer | None"] = contextvars.ContextVar(
    "identity_viewer", default=None
)

# kind -> provider(viewer) -> ids of that kind whose identity the viewer may not
# see. Kinds: "person" (participant ids), "apartment" (apartment ids).
hidden_sets: dict[str, Callable[["Viewer"], Iterable[int]]] = {}


class Viewer:
    """The user on whose behalf rows are read, with their hidden sets (lazy)."""

    def __init__(self, user) -> None:
        self.user = user
        self._hidden: dict[str, frozenset[int]] = {}

    @property
    def user_id(self) -> int | None:
        return self.user.pk if getattr(self.user, "is_authenticated", False) else None

    def hidden(self, kind: str) -> frozenset[int]:
        if kind not in self._hidden:
            provider = hidden_sets.get(kind)
            self._hidden[kind] = frozenset(provider(self) if provider else ())
        return self._hidden[kind]


def current_viewer() -> Viewer | None:
    return _viewer.get()


def hidden_ids(kind: str) -> frozenset[int]:
    """The current viewer's hidden ids of ``kind`` (none without a viewer)."""
    viewer = _viewer.get()
    return viewer.hidden(kind) if viewer is not None else frozenset()


@contextmanager
def viewing_as(user) -> Iterator[Viewer]:
    """Read rows on ``user``'s behalf inside the block."""
    viewer = Viewer(user)
    token = _viewer.set(viewer)
    try:
        yield viewer
    finally:
        _viewer.reset(token)


def streamed_as(viewer: Viewer | None, chunks: Iterable) -> Iterator:
    """``chunks`` produced with ``viewer`` current: a streamed response's body
    is produced after the view (and its middleware) has returned."""
    iterator = iter(chunks)
    while True:
        token = _viewer.set(viewer)
        try:
            chunk = next(iterator)
        except StopIteration:
            return
        finally:
            _viewer.reset(token)
        yield chunk


def shown_order(*terms, kind: str = "person", key: str = "pk") -> list:
    """Order-by terms for a list sorted by names or addresses (``terms``), as
    the viewer sees them: rows hidden from the viewer come after the others,
    among themselves by ``key``, so that a row's place in the list does not
    tell the name or address behind its alias. Just ``terms`` when nothing is
    hidden."""
    hidden = hidden_ids(kind)
    if not hidden:
        return list(terms)
    is_hidden = Q(**{f"{key}__in": sorted(hidden)})
    return [
        Case(When(is_hidden, then=Value(1)), default=Value(0), output_field=IntegerField()),
        Case(When(is_hidden, then=F(key)), default=Value(None), output_field=IntegerField()),
        *terms,
    ]


def alias_code(kind: str, pk: int) -> str:
    """A short code that stays the same for one record and tells nothing of
    it (keyed on SECRET_KEY, so it cannot be computed back to the id)."""
    digest = hmac.new(settings.SECRET_KEY.encode(), f"{kind}:{pk}".encode(), hashlib.sha256)
    alphabet = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"  # no 0/O, 1/I
    number = int.from_bytes(digest.digest()[:4], "big")
    return "".join(alphabet[(number >> (5 * i)) & 31] for i in range(4))


def protected_person_alias(pk: int) -> str:
    return gettext("Protected participant %(code)s") % {"code": alias_code("person", pk)}


def protected_address() -> str:
    return gettext("Protected address")


class IdentityMasked:
    """Mixin for a model whose rows hold a person's identity (put it before
    the model base). A model says which of its rows are hidden from a viewer
    (``identity_hidden_from``) and what a hidden row shows instead
    (``mask_identity``, which must only set the fields in ``identity_fields``)."""

    identity_fields: tuple[str, ...] = ()

    def identity_hidden_from(self, viewer: Viewer) -> bool:  # pragma: no cover - abstract
        raise NotImplementedError

    def mask_identity(self, viewer: Viewer) -> None:  # pragma: no cover - abstract
        raise NotImplementedError

    @property
    def identity_masked(self) -> bool:
        return getattr(self, "_identity_masked", False)

    def _apply_identity_mask(self) -> None:
        viewer = _viewer.get()
        if viewer is not None and self.pk is not None and self.identity_hidden_from(viewer):
            self.mask_identity(viewer)
            self._identity_masked = True

    @classmethod
    def from_db(cls, db, field_names, values):
        instance = super().from_db(db, field_names, values)
        instance._apply_identity_mask()
        return instance

    def refresh_from_db(self, *args, **kwargs) -> None:
        super().refresh_from_db(*args, **kwargs)
        self._apply_identity_mask()

    def save(self, *args, **kwargs) -> None:
        viewer = _viewer.get()
        hidden = (
            viewer is not None
            and not self._state.adding
            and self.pk is not None
            and self.identity_hidden_from(viewer)
        )
        if not hidden:
            return super().save(*args, **kwargs)
        # Write the real identity back, not the alias the viewer was shown.
        real = (
            type(self)
            ._base_manager.using(self._state.db or "default")
            .filter(pk=self.pk)
            .values(*self.identity_fields)
            .first()
        )
        if real is None:
            return super().save(*args, **kwargs)
        for name, value in real.items():
            setattr(self, name, value)
        try:
            super().save(*args, **kwargs)
        finally:
            self.mask_identity(viewer)
            self._identity_masked = True


class HistoricalIdentityMasked:
    """A base of every historical model (``CaseModel.history``): an old
    version of a row holding a person's identity is masked as it is loaded,
    by the same rule as the row itself. The admin's history list and old
    versions, and anything else built from a version (``.instance``,
    ``history_object``, the list of changes between versions), therefore show
    the alias too. Historical models of other models are left as they are."""

    @classmethod
    def from_db(cls, db, field_names, values):
        version = super().from_db(db, field_names, values)
        model = getattr(cls, "instance_type", None)
        viewer = _viewer.get()
        if viewer is None or model is None or not issubclass(model, IdentityMasked):
            return version
        loaded = version.__dict__
        # The row as it was, to ask the model's own rule (no query: only the
        # columns this version loaded).
        row = model(
            **{
                field.attname: loaded[field.attname]
                for field in model._meta.concrete_fields
                if field.attname in loaded
            }
        )
        if row.pk is not None and row.identity_hidden_from(viewer):
            row.mask_identity(viewer)
            for name in model.identity_fields:
                if name in loaded:
                    setattr(version, name, getattr(row, name))
            version._identity_masked = True
        return version
