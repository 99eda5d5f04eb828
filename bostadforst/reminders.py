"""Reminders by e-mail: what is due, to whom, once per event.

Each app registers the kinds of reminder whose rules it owns (in its
``AppConfig.ready()``)::

    from bostadforst.reminders import ReminderKind, reminder_kinds
    reminder_kinds.register(ReminderKind(key="plan_review_due", ...))

A kind's ``find(*, today)`` returns what is due now, as ``Due`` rows: the
object (by id), the event (a date, a decision's time), the record's path and
who should hear of it (users by id, or everyone with a role). It runs one or a
few queries whatever the data and returns ids only.

``reminders_send`` (Celery beat, ``bostadforst.send_reminders``) then:

1. **Recipients.** Loads the users named (active, with an e-mail address, in
   a role the kind is for) and their choices (kinds turned off, language) in
   a fixed number of queries.
2. **Claim.** Inserts one ``SentReminder`` row per (kind, object, event,
   recipient) under this run's ``run_id``, skipping rows that exist (the
   unique constraint decides, so two runs at the same moment claim disjoint
   rows: the second insert waits on the index until the first commits, then
   is skipped). Rows whose mail failed, or whose run died before it could
   say (a claim older than ``REMINDER_CLAIM_TIMEOUT`` still pending), are
   claimed again by one conditional UPDATE, so only one run gets each.
   The claim commits before any mail goes out.
3. **Send.** One mail per recipient and kind (a link for each of its
   claimed rows, so a manager is not sent forty mails at once), then its
   rows are marked sent (conditional on the run). A mail server that refuses marks the row failed;
   the next run tries it again, up to ``REMINDER_MAX_ATTEMPTS`` times. A mail
   refused is never sent twice; the only window for a duplicate is a worker
   killed between the server's acceptance and the mark (one mail).

The mails carry no personal data: a neutral text of the kind and a link to
the record whose path holds ids only (the page itself asks for a login and
checks the reader's rights). The task takes no arguments and returns counts.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.mail import EmailMessage, get_connection
from django.db import transaction
from django.db.models import F, Q
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation

from .registry import Registry
from .roles import Role, role_of, roles_load

logger = logging.getLogger(__name__)

SUBJECT_TEMPLATE = "bostadforst/reminders_email_subject.txt"
BODY_TEMPLATE = "bostadforst/reminders_email.txt"


@dataclass(frozen=True)
class Due:
    """One event a kind found due: about ``object_id``, at ``event_key`` (a
    review date, a decision's time), shown at ``path`` (ids only), for the
    users ``recipient_ids`` and everyone with one of ``roles``."""

    object_id: int
    event_key: str
    path: str
    recipient_ids: tuple[int, ...] = ()
    roles: frozenset = field(default_factory=frozenset)


@dataclass(frozen=True)
class ReminderKind:
    """A kind of reminder: its texts (neutral, no personal data), who may get
    it, and how to find what is due."""

    key: str
    order: int
    # On the preferences page.
    label: str
    description: str
    # The mail: a subject, and one neutral sentence for ``count`` events
    # (ngettext_lazy with "count"); the links are added. A recipient gets
    # one mail per kind and run, however many events it names.
    subject: str
    text: str
    # The roles that get it (and see it on the preferences page); a named
    # recipient who no longer has one of them is skipped.
    roles: frozenset
    # find(*, today) -> Iterable[Due], in one or a few queries.
    find: Callable[..., Iterable[Due]]
    # The setting whose number of days ``text`` and ``description`` give as
    # %(days)s, so that the mail says what the rule does.
    days_setting: str = ""

    def days(self) -> dict:
        return {"days": getattr(settings, self.days_setting)} if self.days_setting else {}

    def mail_text(self, count: int = 1) -> str:
        return self.text % {"count": count, **self.days()}

    def help_text(self) -> str:
        return str(self.description) % self.days() if self.days_setting else str(self.description)


reminder_kinds: Registry = Registry()


def kinds_for(user) -> list[ReminderKind]:
    """The kinds the user's role gets, in order."""
    role = role_of(user)
    return sorted((k for k in reminder_kinds if role in k.roles), key=lambda k: k.order)


def preferences_of(user) -> tuple[dict[str, bool], str]:
    """The user's choices: by kind key whether it is on (on unless turned
    off), and the language of their mails."""
    from .models import ReminderLanguage, ReminderPreference

    enabled = {k.key: True for k in kinds_for(user)}
    for kind, on in ReminderPreference.objects.filter(user=user).values_list("kind", "enabled"):
        if kind in enabled:
            enabled[kind] = on
    language = (
        ReminderLanguage.objects.filter(user=user).values_list("language", flat=True).first()
        or settings.LANGUAGE_CODE
    )
    return enabled, language


@transaction.atomic
def reminder_preferences_save(*, user, enabled: dict[str, bool], language: str) -> None:
    """Save which kinds ``user`` gets and the language of their mails. Only
    the kinds of the user's role are kept; a few rows, one transaction."""
    from .models import ReminderLanguage, ReminderPreference

    for kind in kinds_for(user):
        ReminderPreference.objects.update_or_create(
            user=user, kind=kind.key, defaults={"enabled": bool(enabled.get(kind.key))}
        )
    ReminderLanguage.objects.update_or_create(user=user, defaults={"language": language})


# --- Sending ------------------------------------------------------------------------


@dataclass
class _Run:
    run_id: uuid.UUID
    now: object
    claimed: int = 0
    sent: int = 0
    failed: int = 0
    mails: int = 0


def reminders_send(*, today: date | None = None) -> dict[str, int]:
    """Find what is due for every registered kind, claim it, and send it.
    Returns counts only (what the beat task reports)."""
    from .models import SentReminder

    today = today or timezone.localdate()
    run = _Run(run_id=uuid.uuid4(), now=timezone.now())
    # The record of each reminder is kept REMINDER_KEEP_DAYS days: longer
    # than any kind looks back, so nothing pruned here is found due again
    # but a tenant still without a support worker after that long.
    pruned, _ = SentReminder.objects.filter(
        claimed_at__lt=run.now - timedelta(days=settings.REMINDER_KEEP_DAYS)
    ).delete()
    found = {kind.key: (kind, list(kind.find(today=today))) for kind in reminder_kinds}
    recipients = _recipients(found)
    rows = _expand(found, recipients)
    _claim(rows, run)
    claimed = list(
        SentReminder.objects.filter(run_id=run.run_id, state=SentReminder.State.PENDING).order_by(
            "pk"
        )
    )
    run.claimed = len(claimed)
    if claimed:
        _send(claimed, run, recipients, {k: kind for k, (kind, _) in found.items()})
    return {
        "due": len(rows),
        "claimed": run.claimed,
        "sent": run.sent,
        "failed": run.failed,
        "mails": run.mails,
        "pruned": pruned,
    }


@dataclass(frozen=True)
class _Recipient:
    user_id: int
    email: str
    language: str
    role: Role | None
    off: frozenset  # kind keys turned off


def _recipients(found: dict) -> dict[int, _Recipient]:
    """Everyone the due events name, by id: active, with an e-mail address,
    in a role the kind is for. Three queries whatever the data."""
    from .models import ReminderLanguage, ReminderPreference

    ids = {pk for _, dues in found.values() for d in dues for pk in d.recipient_ids}
    roles = {Role(r).value for _, dues in found.values() for d in dues for r in d.roles}
    # [0] keeps the IN list non-empty, so the query is always issued.
    users = list(
        get_user_model()
        ._default_manager.filter(is_active=True)
        .exclude(email="")
        .filter(Q(pk__in=sorted(ids) or [0]) | Q(groups__name__in=sorted(roles) or [""]))
        .distinct()
        .only("pk", "email", "is_superuser")
    )
    roles_load(users)
    user_ids = [u.pk for u in users] or [0]
    off: dict[int, set[str]] = {}
    for user_id, kind in ReminderPreference.objects.filter(
        user_id__in=user_ids, enabled=False
    ).values_list("user_id", "kind"):
        off.setdefault(user_id, set()).add(kind)
    languages = dict(
        ReminderLanguage.objects.filter(user_id__in=user_ids).values_list("user_id", "language")
    )
    known = {code for code, _ in settings.LANGUAGES}
    out = {}
    for u in users:
        language = languages.get(u.pk)
        out[u.pk] = _Recipient(
            user_id=u.pk,
            email=u.email,
            language=language if language in known else settings.LANGUAGE_CODE,
            role=role_of(u),
            off=frozenset(off.get(u.pk, ())),
        )
    return out


def _expand(found: dict, recipients: dict[int, _Recipient]) -> list[tuple]:
    """(kind, object id, event key, recipient id, path) for each mail due:
    each event to its named users and the users of its roles, if the kind is
    for their role and they have not turned it off."""
    by_role: dict[str, list[int]] = {}
    for r in recipients.values():
        if r.role is not None:
            by_role.setdefault(r.role.value, []).append(r.user_id)
    rows: dict[tuple, str] = {}
    for key, (kind, dues) in found.items():
        for due in dues:
            targets = list(due.recipient_ids)
            for role in due.roles:
                targets.extend(by_role.get(Role(role).value, ()))
            for user_id in targets:
                r = recipients.get(user_id)
                if r is None or key in r.off or r.role not in kind.roles:
                    continue
                rows.setdefault((key, due.object_id, str(due.event_key), user_id), due.path)
    return [(*k, path) for k, path in rows.items()]


def _claim(rows: list[tuple], run: _Run) -> None:
    """Claim this run's rows: new ones by an insert that skips existing
    (kind, object, event, recipient) rows, failed or abandoned ones by a
    conditional UPDATE. Commits before any mail is sent, so that a second
    run sees the claims."""
    from .models import SentReminder

    if not rows:
        return
    State = SentReminder.State
    with transaction.atomic():
        SentReminder.objects.bulk_create(
            [
                SentReminder(
                    kind=kind,
                    object_id=object_id,
                    event_key=event_key,
                    recipient_id=user_id,
                    path=path,
                    run_id=run.run_id,
                    claimed_at=run.now,
                    attempts=1,
                )
                for kind, object_id, event_key, user_id, path in rows
            ],
            ignore_conflicts=True,
            batch_size=500,
        )
    # Retries: only of events still due to a recipient who still wants them
    # (the rows just computed), so a moved review date or a kind turned off
    # since is not sent late. The WHERE is evaluated again under the row lock,
    # so of two runs at once only the first takes a row.
    retry = Q(state=State.FAILED, attempts__lt=settings.REMINDER_MAX_ATTEMPTS) | Q(
        state=State.PENDING,
        claimed_at__lt=run.now - timedelta(seconds=settings.REMINDER_CLAIM_TIMEOUT),
    )
    wanted = Q()
    for kind in {r[0] for r in rows}:
        wanted |= Q(kind=kind, object_id__in=sorted({r[1] for r in rows if r[0] == kind}))
    keys = {r[:4] for r in rows}
    candidates = [
        pk
        for pk, *key in SentReminder.objects.filter(wanted)
        .filter(retry)
        .values_list("pk", "kind", "object_id", "event_key", "recipient_id")
        if tuple(key) in keys
    ]
    if candidates:
        SentReminder.objects.filter(retry, pk__in=candidates).update(
            run_id=run.run_id,
            claimed_at=run.now,
            state=State.PENDING,
            attempts=F("attempts") + 1,
        )


def _send(claimed: list, run: _Run, recipients: dict[int, _Recipient], kinds: dict) -> None:
    """Send one mail per recipient and kind over one connection and record
    the outcome on its rows (conditional on this run holding them)."""
    from .models import SentReminder

    State = SentReminder.State
    site = settings.SITE_URL.rstrip("/")
    preferences_url = site + reverse("reminder-preferences")
    connection = get_connection(fail_silently=False)
    try:
        connection.open()
    except Exception as exc:  # the mail server away: every row fails, all retried
        SentReminder.objects.filter(run_id=run.run_id, state=State.PENDING).update(
            state=State.FAILED, error=type(exc).__name__
        )
        run.failed = len(claimed)
        logger.warning("reminders: mail server not reached (%s)", type(exc).__name__)
        return
    groups: dict[tuple[int, str], list] = {}
    for row in claimed:
        groups.setdefault((row.recipient_id, row.kind), []).append(row)
    try:
        for (recipient_id, kind_key), group in groups.items():
            mine = SentReminder.objects.filter(pk__in=[r.pk for r in group], run_id=run.run_id)
            recipient = recipients.get(recipient_id)
            kind = kinds.get(kind_key)
            if recipient is None or kind is None:
                mine.update(state=State.FAILED, error="recipient or kind gone")
                run.failed += len(group)
                continue
            urls = [site + r.path for r in group]
            try:
                _message(kind, urls, recipient, preferences_url, connection).send()
            except Exception as exc:
                mine.update(state=State.FAILED, error=type(exc).__name__)
                run.failed += len(group)
                logger.warning(
                    "reminders: %s to user_id=%s not sent (%s)",
                    kind_key,
                    recipient_id,
                    type(exc).__name__,
                )
                continue
            mine.update(state=State.SENT, sent_at=timezone.now(), error="")
            run.sent += len(group)
            run.mails += 1
    finally:
        connection.close()


def _message(kind, urls, recipient, preferences_url, connection) -> EmailMessage:
    with translation.override(recipient.language):
        context = {
            "text": kind.mail_text(len(urls)),
            "urls": urls,
            "preferences_url": preferences_url,
            "municipality_name": settings.MUNICIPALITY_NAME,
        }
        subject = " ".join(
            render_to_string(SUBJECT_TEMPLATE, {**context, "subject": kind.subject}).split()
        )
        body = render_to_string(BODY_TEMPLATE, context)
    return EmailMessage(
        subject=subject,
        body=body,
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[recipient.email],
        connection=connection,
    )
