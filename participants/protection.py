"""Setting and lifting a person's protected identity (skyddade personuppgifter).

The unit manager decides on the grade (Skatteverket's three: sekretess-
markering, skyddad folkbokföring, fingerade personuppgifter) and names the
support staff who may work with the person and so see their identity
(``participants.identity``). Every change is saved through
``record_save`` with the manager's reason, so the change history keeps who
decided, when and why (Socialstyrelsen, "Skyddade personuppgifter och
dokumentation": the decision and its grounds are documented).

Also here: the change history of protection for the protection page, and the
access-log review's question "which of these people are protected"
(``bostadforst.registry.protected_checks``).
"""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from django.apps import apps
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from bostadforst.records import record_save
from bostadforst.roles import Role, role_of, roles_load

from .models import IdentityProtection, Participant

ERRORS = {
    "reason_required": _("Give the reason for the change."),
    "not_support_staff": _(
        "Only support staff can be named to see the identity: %(names)s is not support staff."
    ),
    "unchanged": _("Nothing was changed."),
}

# Fields whose change makes a history row part of the protection history (the
# grade), and the bookkeeping fields every save changes.
_BOOKKEEPING = frozenset({"version", "updated_at", "identity_protection"})


def _require_unit_manager(user) -> None:
    if role_of(user) != Role.UNIT_MANAGER:
        raise PermissionDenied


@transaction.atomic
def participant_set_protection(
    participant: Participant,
    *,
    protection: str,
    staff: Iterable,
    reason: str,
    acting_user,
) -> Participant:
    """Set ``participant``'s protection grade and the staff who may see their
    identity, as the unit manager ``acting_user``, for ``reason``.

    A change without a reason is refused; so is naming someone who is not
    active support staff (the role that works with the person; unit managers
    see every identity anyway). Lifting protection (grade "none") empties the
    list: it means nothing without protection, and a later protection starts
    from a list chosen then. A submit that changes nothing saves nothing.
    """
    _require_unit_manager(acting_user)
    if protection not in IdentityProtection.values:
        raise ValidationError(
            {"protection": gettext("Choose one of the grades.")}, code="invalid_choice"
        )
    staff = [] if protection == IdentityProtection.NONE else list(staff)
    roles_load(staff)
    outsiders = [u for u in staff if not u.is_active or role_of(u) != Role.SUPPORT_STAFF]
    if outsiders:
        raise ValidationError(
            {
                "staff": ValidationError(
                    ERRORS["not_support_staff"],
                    code="not_support_staff",
                    params={"names": ", ".join(str(u) for u in outsiders)},
                )
            }
        )
    current_staff = set(participant.identity_access.values_list("pk", flat=True))
    changed = participant.identity_protection != protection or current_staff != {
        u.pk for u in staff
    }
    if not changed:
        return participant
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": ERRORS["reason_required"]}, code="reason_required")
    participant.identity_protection = protection
    # Protecting a threatened person cannot wait for a correction request to
    # be settled, and the marking only narrows who sees the data: allowed
    # while processing is restricted.
    return record_save(
        participant,
        acting_user=acting_user,
        reason=reason,
        m2m={"identity_access": staff},
        restriction_exempt=True,
    )


@dataclass(frozen=True)
class ProtectionChange:
    """One row of a person's protection history."""

    at: datetime
    by: str
    protection: str
    protection_label: str
    reason: str
    staff: tuple[str, ...] = ()


def protection_history(participant: Participant) -> list[ProtectionChange]:
    """The changes of ``participant``'s protection, newest first: history rows
    where the grade or the staff named changed (each history row holds the
    access list as it was, ``Participant._history_m2m_fields``), and rows
    saved with a reason that changed nothing else of the record. Two queries
    (the history rows with their users, the lists with their staff).

    The rows are read as values: only the date, the user, the grade and the
    reason reach the page, never the identity a row holds.
    """
    fields = [
        f.attname
        for f in Participant._meta.concrete_fields
        if f.attname not in _BOOKKEEPING and not f.primary_key
    ]
    rows = list(
        Participant.history.filter(id=participant.pk)
        .order_by("history_date", "history_id")
        .values(
            "history_id",
            "history_date",
            "history_change_reason",
            "history_user__username",
            "history_user__first_name",
            "history_user__last_name",
            "identity_protection",
            *fields,
        )
    )
    named: dict[int, list[str]] = {row["history_id"]: [] for row in rows}
    through = apps.get_model("participants", "HistoricalParticipant_identity_access")
    lists = through.objects.filter(history_id__in=list(named)).values_list(
        "history_id", "user__first_name", "user__last_name", "user__username"
    )
    for history_id, first, last, username in lists.order_by("user__last_name", "user__pk"):
        named[history_id].append(f"{first or ''} {last or ''}".strip() or username)
    labels = dict(IdentityProtection.choices)
    changes = []
    previous = None
    for row in rows:
        staff = tuple(named[row["history_id"]])
        grade_changed = (
            row["identity_protection"] != previous["identity_protection"]
            or staff != tuple(named[previous["history_id"]])
            if previous is not None
            else bool(row["identity_protection"] or staff)
        )
        only_protection = (
            previous is not None
            and bool(row["history_change_reason"])
            and all(row[name] == previous[name] for name in fields)
        )
        if grade_changed or only_protection:
            name = f"{row['history_user__first_name'] or ''} {row['history_user__last_name'] or ''}"
            changes.append(
                ProtectionChange(
                    at=row["history_date"],
                    by=name.strip() or row["history_user__username"] or "–",
                    protection=row["identity_protection"],
                    protection_label=str(labels.get(row["identity_protection"], "")),
                    reason=row["history_change_reason"] or "",
                    staff=staff,
                )
            )
        previous = row
    changes.reverse()
    return changes


def protected_among(*, person_ids: Iterable[int]) -> set[int]:
    """The people among ``person_ids`` with protected identity, for the
    access-log review (``bostadforst.registry.protected_checks``). One query
    whatever it is given: [0] (no participant has id 0) keeps the IN list
    non-empty, since Django skips the query for an empty one."""
    ids = sorted(set(person_ids)) or [0]
    return set(Participant.objects.protected().filter(pk__in=ids).values_list("pk", flat=True))


def names_of(*, person_ids: Iterable[int]) -> dict[int, str]:
    """By id, the people's names for the access-log review
    (``bostadforst.registry.person_namers``), as the viewer may see them (the
    rows pass the masking rule). One query whatever it is given (see above)."""
    ids = sorted(set(person_ids)) or [0]
    people = Participant._base_manager.filter(pk__in=ids).only(
        *Participant.identity_fields, "external_ref", "identity_protection"
    )
    return {person.pk: str(person) for person in people}


# Participant-level exports (lists of people as CSV/.xlsx) leave protected
# people out unless a unit manager asks for them with ``?include_protected=1``:
# a file is copied and forwarded beyond the access list's reach, and routines
# for protected personal data keep such printouts apart. Aggregated figures
# (counts, rates) always count everyone.
INCLUDE_PROTECTED = "include_protected"


def export_includes_protected(*, user, asked: bool) -> bool:
    """Whether a participant-level export by ``user`` includes protected people."""
    return asked and role_of(user) == Role.UNIT_MANAGER


def unprotected_only(queryset, *, path: str = ""):
    """``queryset`` without the rows of people with protected identity;
    ``path`` leads from its model to the participant ("tenancy__participant")."""
    field = f"{path}__identity_protection" if path else "identity_protection"
    return queryset.filter(**{field: IdentityProtection.NONE})
