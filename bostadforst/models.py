"""Cross-cutting models: the user, the append-only access log, and the base of
every case model (change history + optimistic locking)."""

import datetime
import hashlib
import json
from collections.abc import Iterable, Mapping
from typing import ClassVar

from django.contrib.auth.models import AbstractUser
from django.db import connections, models, router, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy
from simple_history.models import HistoricalRecords

from .constraints import loaded_foreign_keys, validate_constraints
from .identity import HistoricalIdentityMasked
from .roles import Role, role_of
from .scope import ScopedManager, unscoped


class User(AbstractUser):
    """A staff member of the municipality. The role comes from the user's group."""

    # Until when the user may set up a two-factor device themselves (opened by
    # an administrator; cleared when a device is confirmed).
    otp_enrolment_until = models.DateTimeField(
        _("two-factor setup open until"), null=True, blank=True
    )
    # Set when someone else (an administrator) set the password: it is good
    # for one login, after which the user must choose their own.
    must_change_password = models.BooleanField(_("must choose a new password"), default=False)
    # The OpenID Connect provider's subject identifier (the "sub" claim) of a
    # user who logs in with the municipal account (bostadforst.oidc).
    oidc_sub = models.CharField(
        _("single sign-on subject"), max_length=255, null=True, blank=True, unique=True
    )
    # The login before the current one (``last_login`` has already moved on
    # by the time a page is shown): "what changed since your last login" on
    # the start page counts from here. Set by ``signals.update_login_times``.
    previous_login = models.DateTimeField(
        _("previous login"), null=True, blank=True, editable=False
    )
    # Row scope (``bostadforst.scope``): a partner organisation's manager sees
    # only the people of one referring unit or of one provider, never both.
    # By string: bostadforst imports no app. PROTECT: deleting the unit or
    # provider must not silently widen the user's view to everyone.
    scope_unit = models.ForeignKey(
        "participants.ReferringUnit",
        verbose_name=_("limited to referring unit"),
        help_text=_(
            "The user sees only the people referred by this unit. Leave empty to see everyone."
        ),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    scope_provider = models.ForeignKey(
        "housing.Provider",
        verbose_name=_("limited to provider"),
        help_text=_(
            "The user sees only the people with a tenancy run by this provider. "
            "Leave empty to see everyone."
        ),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )

    class Meta:
        verbose_name = _("user")
        verbose_name_plural = _("users")
        ordering = ["last_name", "first_name", "username"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(scope_unit__isnull=True) | models.Q(scope_provider__isnull=True),
                name="user_scope_unit_or_provider",
                violation_error_message=_(
                    "Limit the user to a referring unit or to a provider, not both."
                ),
            ),
        ]

    def __str__(self) -> str:
        return self.get_full_name() or self.username

    @property
    def role(self) -> Role | None:
        return role_of(self)

    def may_enrol_otp(self, *, now=None) -> bool:
        from django.conf import settings

        if settings.OTP_SELF_ENROLMENT:
            return True
        until = self.otp_enrolment_until
        return until is not None and until > (now or timezone.now())


class StaleObjectError(Exception):
    """Somebody else saved the record after this copy of it was read."""

    def __init__(self, instance: "CaseModel") -> None:
        super().__init__(f"{instance._meta.label} {instance.pk} was changed by someone else")
        self.instance = instance
        self.read_version = instance.version


# The history of every case model (``CaseModel.history``), kept here as well so
# that ``records.record_save`` can write a new record's one history row itself,
# after its many-to-many rows exist (``create_historical_record``).
# Old versions of rows holding a person's identity are masked like the rows
# themselves (bostadforst.identity).
case_history = HistoricalRecords(inherit=True, bases=[HistoricalIdentityMasked, models.Model])


class CaseModel(models.Model):
    """Base of every model that holds case data.

    * ``history``: django-simple-history keeps every saved version (who, when,
      what); the signal in ``bostadforst.signals`` turns each history row into
      an access-log row.
    * ``version``: optimistic locking. Saving an existing row first runs
      ``UPDATE … SET version = version + 1 WHERE pk = … AND version = n``; when
      that matches no row, someone else saved in between and the save is
      refused with ``StaleObjectError`` instead of overwriting their work. The
      check and the increment are one statement, so two concurrent saves can
      never both pass it (the row lock is held until the transaction ends).
    * ``participant_path``: the lookup from this model to its participant, so
      that audit rows name the person (by id) whose record changed.
    """

    version = models.PositiveIntegerField(_("version"), default=1, editable=False)
    created_at = models.DateTimeField(_("created"), default=timezone.now, editable=False)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    history = case_history

    # Rows of people outside the viewer's row scope are never read
    # (``bostadforst.scope``); ``_base_manager`` stays unscoped.
    objects = ScopedManager()

    participant_path: ClassVar[str | None] = "participant"

    class Meta:
        abstract = True

    def save(self, *args, **kwargs) -> None:
        if self._state.adding or self.pk is None:
            return super().save(*args, **kwargs)
        with transaction.atomic():
            matched = (
                type(self)
                ._base_manager.filter(pk=self.pk, version=self.version)
                .update(version=F("version") + 1)
            )
            if not matched:
                raise StaleObjectError(self)
            self.version += 1
            if kwargs.get("update_fields") is not None:
                kwargs["update_fields"] = {*kwargs["update_fields"], "version", "updated_at"}
            super().save(*args, **kwargs)

    def clean_fields(self, exclude=None) -> None:
        # A foreign key whose row is loaded on the instance is not looked up
        # again (the database enforces it; bostadforst.constraints).
        super().clean_fields(exclude={*(exclude or ()), *loaded_foreign_keys(self)})

    def validate_unique(self, exclude=None) -> None:
        # Unique values are unique among every row, not only the viewer's
        # (bostadforst.scope): checked unscoped, so that a scoped user gets
        # the form's error, not the database's IntegrityError.
        with unscoped():
            super().validate_unique(exclude)

    def validate_constraints(self, exclude=None) -> None:
        # Simple check constraints evaluated in Python, not by a query each
        # (the database enforces them; bostadforst.constraints). Unique
        # constraints among every row, as above.
        with unscoped():
            validate_constraints(self, exclude)

    def participant_pk(self) -> int | None:
        """The id of the participant this row belongs to (None for reference data)."""
        if self.participant_path is None:
            return None
        obj = self
        *steps, last = self.participant_path.split("__")
        for step in steps:
            obj = getattr(obj, step, None)
            if obj is None:
                return None
        return getattr(obj, f"{last}_id", None) if last != "self" else obj.pk

    def identity_closed_to(self, viewer) -> bool:
        """Whether ``viewer`` may not open this record at all: it belongs to a
        person whose protected identity is hidden from them
        (``bostadforst.identity``; ``records.record_get`` answers 404)."""
        person = self.participant_pk()
        return person is not None and person in viewer.hidden("person")

    def person_ids(self) -> set[int]:
        """The people whose data a page showing this record shows, for the
        access log. A record of one person names that person; records that
        show several (an apartment's tenants, an activity's attendance)
        override this."""
        pk = self.participant_pk()
        return {pk} if pk is not None else set()


class AccessLogQuerySet(models.QuerySet):
    def bulk_create(self, objs, *args, **kwargs):
        """Insert several rows in one INSERT, chained in the order given."""
        if kwargs.get("update_conflicts"):
            raise PermissionError("The access log is append-only.")
        objs = list(objs)
        if not objs:
            return objs
        with transaction.atomic(using=self.db, savepoint=False):
            access_log_chain(objs, using=self.db)
            return super().bulk_create(objs, *args, **kwargs)

    def update(self, **kwargs):
        raise PermissionError("The access log is append-only.")

    def delete(self):
        raise PermissionError("The access log is append-only.")


class AccessLogEntry(models.Model):
    """One read, change or security event, kept for the manager's log review.

    Append-only: rows are never changed or deleted by the app or the admin, and
    on PostgreSQL a trigger refuses UPDATE and DELETE as well, and the app's
    database role may only SELECT and INSERT (``manage.py db_app_role``). The
    person is kept by id only: no name or personnummer is ever copied here, so
    culling a person leaves nothing identifying behind.

    Hash-chained: ``chain_hash`` is the sha256 of the previous row's hash and
    this row's ``CHAINED_FIELDS`` (``access_log_hash``), so that a row deleted
    or changed by someone who can bypass the trigger (the table's owner) is
    found by ``manage.py verify_access_log``.
    """

    # Every column but the id and the hash itself. ``user_id`` is the one
    # column the database lets change (to NULL, when the account is deleted;
    # migration 0004), which ``verify_access_log`` allows for.
    CHAINED_FIELDS: ClassVar[tuple[str, ...]] = (
        "at",
        "user_id",
        "username",
        "role",
        "action",
        "model",
        "object_id",
        "person_id",
        "view_name",
        "ip",
    )

    class Action(models.TextChoices):
        READ = "read", _("read")
        CREATE = "create", _("created")
        UPDATE = "update", _("changed")
        DELETE = "delete", _("deleted")
        EXPORT = "export", _("exported")
        DENIED = "denied", _("access denied")
        LOGIN = "login", _("logged in")
        LOGIN_FAILED = "login_failed", _("failed login")
        LOCKOUT = "lockout", _("locked out")
        LOGOUT = "logout", _("logged out")

    at = models.DateTimeField(_("when"), default=timezone.now, db_index=True)
    user = models.ForeignKey(
        "bostadforst.User",
        verbose_name=_("user"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    username = models.CharField(_("username"), max_length=150, blank=True)
    role = models.CharField(_("role"), max_length=20, blank=True, choices=Role.choices)
    action = models.CharField(_("action"), max_length=20, choices=Action.choices)
    model = models.CharField(_("record type"), max_length=100, blank=True)
    object_id = models.CharField(_("record id"), max_length=64, blank=True)
    person_id = models.BigIntegerField(_("person id"), null=True, blank=True, db_index=True)
    view_name = models.CharField(_("page"), max_length=100, blank=True)
    ip = models.GenericIPAddressField(_("IP address"), null=True, blank=True)
    chain_hash = models.CharField(_("chain hash"), max_length=64, blank=True, editable=False)

    objects = AccessLogQuerySet.as_manager()

    class Meta:
        verbose_name = _("access log entry")
        verbose_name_plural = _("access log")
        ordering = ["-at", "-pk"]
        indexes = [models.Index(fields=["user", "at"]), models.Index(fields=["person_id", "at"])]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.username} {self.action} {self.model}"

    def save(self, *args, **kwargs) -> None:
        if not self._state.adding:
            raise PermissionError("The access log is append-only.")
        using = kwargs.get("using") or router.db_for_write(type(self), instance=self)
        with transaction.atomic(using=using, savepoint=False):
            access_log_chain([self], using=using)
            super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise PermissionError("The access log is append-only.")


# Any fixed number, unique among the project's advisory locks.
ACCESS_LOG_CHAIN_LOCK = 0x626F_7374_6164  # "bostad"


def access_log_hash(previous: str, values: Mapping) -> str:
    """The chain hash of a row: sha256 (hex) of the previous row's hash ("" for
    the first row) and the row's ``CHAINED_FIELDS``, given as a mapping.

    Each value goes through its field's ``to_python`` and the time is written
    in UTC, so that the values of an unsaved row and the same row read back
    from either database (an IPv6 address in PostgreSQL's spelling, "5" for a
    person id) give the same hash.
    """
    fields = {field.attname: field for field in AccessLogEntry._meta.concrete_fields}
    content = [previous]
    for name in AccessLogEntry.CHAINED_FIELDS:
        value = fields[name].to_python(values[name])
        if value == "" and fields[name].null:
            value = None  # how the database keeps a blank IP address
        elif isinstance(value, datetime.datetime):
            if timezone.is_naive(value):
                value = timezone.make_aware(value)
            value = value.astimezone(datetime.UTC).isoformat(timespec="microseconds")
        elif isinstance(value, str):
            value = str(value)  # a TextChoices member as its plain value
        content.append(value)
    encoded = json.dumps(content, ensure_ascii=False, separators=(",", ":")).encode()
    return hashlib.sha256(encoded).hexdigest()


def access_log_chain(entries: Iterable[AccessLogEntry], *, using: str) -> None:
    """Give unsaved rows their ``chain_hash``, in order, after the last row.

    The one place rows are chained (``AccessLogEntry.save`` and
    ``AccessLogQuerySet.bulk_create`` call it). Call it inside the transaction
    that inserts them. Two transactions must never both chain to the same last
    row, so on PostgreSQL this first takes a transaction-level advisory lock: a
    concurrent insert waits until this transaction ends, and only then reads
    the last row (a fresh snapshot under READ COMMITTED), which is now ours.
    Locking the last row itself (``SELECT … FOR UPDATE``) would not do: the
    waiter would get that same row back, not the one inserted after it. SQLite
    serializes writing transactions itself (``BEGIN IMMEDIATE``, settings).

    The lock is held until commit, so log rows are written one transaction at a
    time; a transaction that logs and then waits for a row lock held by one
    that is about to log ends in PostgreSQL's deadlock error (rare: both must
    write several records at once).
    """
    previous = access_log_chain_head(using=using)
    for entry in entries:
        values = {name: getattr(entry, name) for name in AccessLogEntry.CHAINED_FIELDS}
        entry.chain_hash = previous = access_log_hash(previous, values)


def access_log_chain_head(*, using: str) -> str:
    """The hash new rows chain to, with the lock that keeps it the last one
    until this transaction ends (see ``access_log_chain``; call it inside the
    transaction that inserts them). For writers of many rows that hash them
    with ``access_log_hash`` themselves (``records.record_bulk_create``)."""
    connection = connections[using]
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [ACCESS_LOG_CHAIN_LOCK])
    # The primary key's index answers this from its last entry.
    return (
        AccessLogEntry._base_manager.using(using)
        .order_by("-pk")
        .values_list("chain_hash", flat=True)
        .first()
    ) or ""


class UserSession(models.Model):
    """The session keys of a logged-in user, so that logout, deactivation or a
    password change can end the user's other sessions on any session engine
    (iterating every stored session would decode them all)."""

    user = models.ForeignKey(
        "bostadforst.User",
        verbose_name=_("user"),
        on_delete=models.CASCADE,
        related_name="tracked_sessions",
    )
    session_key = models.CharField(_("session key"), max_length=64, unique=True)
    created_at = models.DateTimeField(_("created"), default=timezone.now)

    class Meta:
        verbose_name = _("user session")
        verbose_name_plural = _("user sessions")

    def __str__(self) -> str:
        return f"{self.user_id} {self.created_at:%Y-%m-%d %H:%M}"


class GallringRun(models.Model):
    """One run of the culling (gallring). Counts only: no name, personnummer
    or id of a culled person is kept, since keeping them would defeat it."""

    started_at = models.DateTimeField(_("started"), default=timezone.now)
    dry_run = models.BooleanField(_("dry run"), default=False)
    persons_due = models.PositiveIntegerField(_("persons due"), default=0)
    persons_exempted = models.PositiveIntegerField(_("kept for research"), default=0)
    persons_culled = models.PositiveIntegerField(_("persons culled"), default=0)
    rows_deleted = models.PositiveIntegerField(_("rows deleted"), default=0)

    class Meta:
        verbose_name = _("culling run")
        verbose_name_plural = _("culling runs")
        ordering = ["-started_at", "-pk"]

    def __str__(self) -> str:
        return f"{self.started_at:%Y-%m-%d %H:%M} ({self.persons_culled})"


class SubmitToken(models.Model):
    """A form's one-time submit token, claimed by the submit that used it.

    Every form that saves through a service carries a fresh token; the first
    submit claims it in the same transaction as the record it creates, and
    keeps where the record is shown. A replay of the token (Back and submit
    again, a double click, a retry after a timeout) finds the claim and shows
    that record instead of creating another (PITFALLS 16). The URL names a
    record by id only, never a person.
    """

    token = models.UUIDField(_("token"), unique=True)
    user = models.ForeignKey(
        "bostadforst.User", verbose_name=_("user"), on_delete=models.CASCADE, related_name="+"
    )
    created_at = models.DateTimeField(_("created"), default=timezone.now, db_index=True)
    result_url = models.CharField(_("result"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("submit token")
        verbose_name_plural = _("submit tokens")

    def __str__(self) -> str:
        return str(self.token)


class RoleGrant(models.Model):
    """One grant or withdrawal of the administrator role, superuser status or
    another role made on the command line (``manage.py grant_role``), with the
    reason given there. The admin cannot grant the administrator role or
    superuser status at all, so this is their full history since it began.

    Append-only like the access log (which gets an UPDATE row on the user for
    each grant: it has no room for the reason).
    """

    SUPERUSER = "superuser"

    at = models.DateTimeField(_("when"), default=timezone.now)
    user = models.ForeignKey(
        "bostadforst.User",
        verbose_name=_("user"),
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    username = models.CharField(_("username"), max_length=150)
    grant = models.CharField(
        _("role"),
        max_length=20,
        choices=[*Role.choices, (SUPERUSER, _("superuser status"))],
    )
    granted = models.BooleanField(_("granted"), help_text=_("No: withdrawn."))
    reason = models.TextField(_("reason"), max_length=2000)
    by = models.CharField(_("run by"), max_length=150)

    class Meta:
        verbose_name = _("role grant")
        verbose_name_plural = _("role grants")
        ordering = ["-at", "-pk"]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.username} {self.grant}"

    def save(self, *args, **kwargs) -> None:
        if not self._state.adding:
            raise PermissionError("Role grants are append-only.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise PermissionError("Role grants are append-only.")


class ReminderPreference(models.Model):
    """Whether a user gets one kind of reminder by e-mail (``bostadforst.reminders``);
    without a row the kind is on."""

    user = models.ForeignKey(
        "bostadforst.User",
        verbose_name=_("user"),
        on_delete=models.CASCADE,
        related_name="reminder_preferences",
    )
    kind = models.CharField(_("kind of reminder"), max_length=50)
    enabled = models.BooleanField(pgettext_lazy("reminder preference", "on"), default=True)

    class Meta:
        verbose_name = _("reminder preference")
        verbose_name_plural = _("reminder preferences")
        constraints = [
            models.UniqueConstraint(fields=["user", "kind"], name="one_preference_per_kind")
        ]

    def __str__(self) -> str:
        return f"{self.kind}: {self.enabled}"


class ReminderLanguage(models.Model):
    """The language a user's reminders are written in (Swedish without a row):
    mails are sent by a task, away from the language cookie of any request."""

    user = models.OneToOneField(
        "bostadforst.User",
        verbose_name=_("user"),
        on_delete=models.CASCADE,
        primary_key=True,
        related_name="reminder_language",
    )
    language = models.CharField(_("language"), max_length=10)

    class Meta:
        verbose_name = _("reminder language")
        verbose_name_plural = _("reminder languages")

    def __str__(self) -> str:
        return self.language


class SentReminder(models.Model):
    """One reminder mail: claimed before it is sent, so that each event
    reaches each recipient once (``bostadforst.reminders``).

    The unique constraint on (kind, object, event, recipient) is the claim: a
    second run, or two at once, cannot insert the row again. The row names
    the object by id and the record by its path (ids only); no personal data.
    """

    class State(models.TextChoices):
        PENDING = "pending", _("Claimed, not yet sent")
        SENT = "sent", _("Sent")
        FAILED = "failed", _("Failed, to be retried")

    kind = models.CharField(_("kind of reminder"), max_length=50)
    object_id = models.PositiveBigIntegerField(_("record id"))
    # What makes the event: a review date, the time of a decision.
    event_key = models.CharField(_("event"), max_length=64)
    recipient = models.ForeignKey(
        "bostadforst.User",
        verbose_name=_("recipient"),
        on_delete=models.CASCADE,
        related_name="+",
    )
    path = models.CharField(_("link"), max_length=200)
    state = models.CharField(
        _("state"), max_length=10, choices=State.choices, default=State.PENDING
    )
    # The run that holds the row; every later write is conditional on it.
    run_id = models.UUIDField(_("run"), editable=False)
    claimed_at = models.DateTimeField(_("claimed"), default=timezone.now)
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    sent_at = models.DateTimeField(_("sent"), null=True, blank=True)
    # The exception's class name only: a server's message may quote the address.
    error = models.CharField(_("reason for failure"), max_length=100, blank=True)

    class Meta:
        verbose_name = _("sent reminder")
        verbose_name_plural = _("sent reminders")
        constraints = [
            models.UniqueConstraint(
                fields=["kind", "object_id", "event_key", "recipient"],
                name="one_reminder_per_event_and_recipient",
            )
        ]
        indexes = [models.Index(fields=["run_id"], name="sentreminder_run")]

    def __str__(self) -> str:
        return f"{self.kind} {self.object_id} {self.event_key} ({self.state})"
