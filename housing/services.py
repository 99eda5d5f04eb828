"""Writes of the housing app. Every function is one transaction: the change,
its history row and its access-log row commit together or not at all."""

import datetime
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext_lazy as _

from bostadforst.records import record_save
from participants.models import ACTIVE_STATUSES, Participant, ParticipantStatus
from participants.services import participant_mark_exited, participant_mark_housed

from .models import Apartment, ExitReason, Landlord, Tenancy, TenancyIncident
from .selectors import support_staff

ERROR_MESSAGES = {
    "participant_not_approved": _(
        "%(participant)s is not approved for Housing First (status: %(status)s). "
        "An apartment can be let only to an approved participant."
    ),
    "apartment_withdrawn": _("The apartment is withdrawn from Housing First and cannot be let."),
    "tenancy_already_ended": _("The tenancy has already ended (%(move_out)s)."),
    "takeover_already_recorded": _("The takeover is already recorded (%(takeover)s)."),
    "takeover_not_recorded": _("No takeover is recorded for this tenancy yet."),
    "takeover_unchanged": _("This is the date already recorded. Nothing was changed."),
    "correction_reason_required": _("Say briefly why the takeover date is corrected."),
    "not_support_staff": _("Choose an active support worker."),
}


def _error(code: str, field: str | None = None, **params) -> ValidationError:
    error = ValidationError(ERROR_MESSAGES[code], code=code, params=params or None)
    return ValidationError({field: error}) if field else error


def _update(instance, *, allowed: tuple[str, ...], changes: dict, acting_user):
    """Set ``changes`` on ``instance`` and save it, refusing fields outside
    ``allowed``. ``instance.version`` is the version the editor read, so a
    save by someone else in between raises StaleObjectError."""
    unknown = sorted(set(changes) - set(allowed))
    if unknown:
        raise TypeError(f"unexpected fields for {type(instance).__name__}: {unknown!r}")
    for field, value in changes.items():
        setattr(instance, field, value)
    record_save(instance, acting_user=acting_user)
    return instance


@transaction.atomic
def tenancy_set_provider(*, tenancy: Tenancy, provider, acting_user) -> Tenancy:
    """Record (or correct) who runs the tenant's support."""
    return _update(
        tenancy, allowed=("provider",), changes={"provider": provider}, acting_user=acting_user
    )


@transaction.atomic
def landlord_create(
    *, name: str, contact_person: str = "", phone: str = "", email: str = "", acting_user
) -> Landlord:
    landlord = Landlord(name=name, contact_person=contact_person, phone=phone, email=email)
    record_save(landlord, acting_user=acting_user)
    return landlord


LANDLORD_FIELDS = ("name", "contact_person", "phone", "email")


@transaction.atomic
def landlord_update(*, landlord: Landlord, acting_user, **changes) -> Landlord:
    return _update(landlord, allowed=LANDLORD_FIELDS, changes=changes, acting_user=acting_user)


@transaction.atomic
def apartment_create(
    *,
    landlord: Landlord,
    address: str,
    postal_code: str = "",
    city: str = "",
    rooms: Decimal | None = None,
    size_sqm: Decimal | None = None,
    monthly_rent: Decimal | None = None,
    status: str = Apartment.Status.ACTIVE,
    acting_user,
) -> Apartment:
    apartment = Apartment(
        landlord=landlord,
        address=address,
        postal_code=postal_code,
        city=city,
        rooms=rooms,
        size_sqm=size_sqm,
        monthly_rent=monthly_rent,
        status=status,
    )
    record_save(apartment, acting_user=acting_user)
    return apartment


APARTMENT_FIELDS = (
    "landlord",
    "address",
    "postal_code",
    "city",
    "rooms",
    "size_sqm",
    "monthly_rent",
    "status",
)


@transaction.atomic
def apartment_update(*, apartment: Apartment, acting_user, **changes) -> Apartment:
    """Change an apartment's details (optimistic locking: see ``_update``)."""
    return _update(apartment, allowed=APARTMENT_FIELDS, changes=changes, acting_user=acting_user)


@transaction.atomic
def tenancy_assign(
    *,
    participant: Participant,
    apartment: Apartment,
    contract_type: str,
    move_in: datetime.date,
    note: str = "",
    support_worker=None,
    provider=None,
    acting_user,
) -> Tenancy:
    """Let ``apartment`` to an approved ``participant`` from ``move_in``.

    Creates the tenancy, marks the participant housed and, given
    ``support_worker`` (an active support worker), makes them the tenant's
    support worker, in one transaction: a tenant is never housed without
    the one who will visit them. The participant row is locked first so
    that two simultaneous assignments to the same person are checked one
    after the other (on PostgreSQL the exclusion constraints refuse the
    loser in any case).
    """
    if support_worker is not None and not (support_staff().filter(pk=support_worker.pk).exists()):
        raise _error("not_support_staff", "support_worker")
    participant = Participant.objects.select_for_update().get(pk=participant.pk)
    # Approved and waiting, or already housed and moving to another apartment
    # (the old tenancy ended, or ends on the new move-in day; the overlap
    # check refuses anything else).
    if participant.status not in ACTIVE_STATUSES:
        raise _error(
            "participant_not_approved",
            "participant",
            participant=str(participant),
            status=participant.get_status_display(),
        )
    if apartment.status != Apartment.Status.ACTIVE:
        raise _error("apartment_withdrawn", "apartment")
    tenancy = Tenancy(
        participant=participant,
        apartment=apartment,
        contract_type=contract_type,
        provider=provider,
        move_in=move_in,
        note=note,
    )
    record_save(tenancy, acting_user=acting_user)
    participant_mark_housed(participant=participant, acting_user=acting_user)
    if support_worker is not None and participant.support_worker_id != support_worker.pk:
        participant.support_worker = support_worker
        record_save(participant, acting_user=acting_user)
    return tenancy


@transaction.atomic
def tenancy_record_takeover(*, tenancy: Tenancy, takeover: datetime.date, acting_user) -> Tenancy:
    """Record the day the tenant took over the municipality's social contract.

    The tenancy goes on: a takeover changes who holds the contract, not the
    home (DESIGN.md, retention).
    """
    if tenancy.takeover is not None:
        raise _error(
            "takeover_already_recorded", "takeover", takeover=f"{tenancy.takeover:%Y-%m-%d}"
        )
    tenancy.takeover = takeover
    record_save(tenancy, acting_user=acting_user)
    return tenancy


@transaction.atomic
def tenancy_correct_takeover(
    *, tenancy: Tenancy, takeover: datetime.date | None, reason: str, acting_user
) -> Tenancy:
    """Correct a wrongly recorded takeover date, or remove it (``None``) when
    the tenant never took the contract over.

    The takeover share of the retention report counts from this date, so a
    wrong one must be correctable; the date it replaces stays in the change
    history together with who corrected it, when, and ``reason``.
    """
    if tenancy.takeover is None:
        raise _error("takeover_not_recorded", "takeover")
    if takeover == tenancy.takeover:
        raise _error("takeover_unchanged", "takeover")
    reason = reason.strip()
    if not reason:
        raise _error("correction_reason_required", "reason")
    tenancy.takeover = takeover
    record_save(tenancy, acting_user=acting_user, reason=reason)
    return tenancy


@transaction.atomic
def tenancy_end(
    *,
    tenancy: Tenancy,
    move_out: datetime.date,
    exit_reason: str,
    note: str | None = None,
    close_case: bool = False,
    acting_user,
) -> Tenancy:
    """End the tenancy on ``move_out`` (the first day the apartment is free).

    ``exit_reason`` must be an ``ExitReason``. With ``other_hf_apartment`` the
    participant stays housed and gets the next tenancy through
    ``tenancy_assign`` (from ``move_out`` at the earliest), and the case stays
    open whatever ``close_case`` says. Otherwise ``close_case`` closes the
    participant's case as of ``move_out`` (culling counts from that day).
    """
    if tenancy.move_out is not None:
        raise _error("tenancy_already_ended", "move_out", move_out=f"{tenancy.move_out:%Y-%m-%d}")
    if exit_reason not in ExitReason.values:
        raise ValidationError(
            {
                "exit_reason": ValidationError(
                    Tenancy.error_messages["exit_reason_required"], code="exit_reason_required"
                )
            }
        )
    tenancy.move_out = move_out
    tenancy.exit_reason = exit_reason
    if note is not None:
        tenancy.note = note
    record_save(tenancy, acting_user=acting_user)
    if close_case and exit_reason != ExitReason.OTHER_HF_APARTMENT:
        participant_mark_exited(
            participant=tenancy.participant, acting_user=acting_user, closed_on=move_out
        )
    return tenancy


# The fields a cohort file gives for a tenancy identified by (participant, move-in day).
IMPORTED_TENANCY_FIELDS = ("apartment", "contract_type", "move_out", "exit_reason", "takeover")


@transaction.atomic
def tenancy_import(
    *,
    participant: Participant,
    apartment: Apartment,
    contract_type: str,
    move_in: datetime.date,
    move_out: datetime.date | None = None,
    exit_reason: str = "",
    takeover: datetime.date | None = None,
    acting_user,
) -> tuple[Tenancy, str]:
    """Record a tenancy as a municipality's cohort file gives it, ended or not.

    A tenancy is identified by (participant, move-in day): a new one is
    created, a known one takes the file's values, an identical one is left
    alone (no history row), so importing the same file twice changes nothing.
    Returns the tenancy and ``"created"``, ``"updated"`` or ``"unchanged"``.

    The tenancy's own validation applies as for ``tenancy_assign`` (the
    half-open overlap rule of ``Tenancy.clean``), but not the letting rules:
    the file records the past, so neither the participant's status nor a
    since withdrawn apartment is checked, and the participant's case is left
    to ``participant_update_from_tenancies`` once all their tenancies are in.
    """
    values = {
        "apartment": apartment,
        "contract_type": contract_type,
        "move_out": move_out,
        "exit_reason": exit_reason,
        "takeover": takeover,
    }
    tenancy = Tenancy.objects.filter(participant=participant, move_in=move_in).first()
    if tenancy is None:
        tenancy = Tenancy(participant=participant, move_in=move_in, **values)
        record_save(tenancy, acting_user=acting_user)
        return tenancy, "created"
    unchanged = tenancy.apartment_id == apartment.pk and all(
        getattr(tenancy, name) == value for name, value in values.items() if name != "apartment"
    )
    if unchanged:
        return tenancy, "unchanged"
    _update(tenancy, allowed=IMPORTED_TENANCY_FIELDS, changes=values, acting_user=acting_user)
    return tenancy, "updated"


def participant_state_from_tenancies(latest: Tenancy) -> tuple[str, datetime.date | None]:
    """The case (status, closing day) an imported participant's tenancies
    give, from the latest of them.

    A cohort file records tenancies, not case decisions: the person is housed
    (no closing day) while their latest tenancy goes on or ended by a move to
    another Housing First apartment, and otherwise exited as of that
    tenancy's move-out day, the day culling counts from. The one rule for
    ``participant_update_from_tenancies`` and the cohort import's bulk write.
    """
    if latest.move_out is None or latest.exit_reason == ExitReason.OTHER_HF_APARTMENT:
        return ParticipantStatus.HOUSED, None
    return ParticipantStatus.EXITED, latest.move_out


@transaction.atomic
def participant_update_from_tenancies(*, participant: Participant, acting_user) -> bool:
    """Bring an imported participant's case in line with their tenancies
    (``participant_state_from_tenancies``): houses the person or closes their
    case through the participants' services. Writes nothing when the case
    already says so; returns whether it changed.
    """
    participant.refresh_from_db(fields=["status", "version", "closed_on"])
    latest = participant.tenancies.order_by("-move_in", "-pk").first()
    if latest is None:
        return False
    status, closed_on = participant_state_from_tenancies(latest)
    if status == ParticipantStatus.HOUSED:
        if participant.status == ParticipantStatus.HOUSED:
            return False
        participant_mark_housed(participant=participant, acting_user=acting_user, reopen=True)
        return True
    if participant.status == ParticipantStatus.EXITED and participant.closed_on == closed_on:
        return False
    participant_mark_exited(participant=participant, acting_user=acting_user, closed_on=closed_on)
    return True


@transaction.atomic
def incident_create(
    *,
    tenancy: Tenancy,
    kind: str,
    occurred_on: datetime.date,
    description: str,
    amount: Decimal | None = None,
    resolved_on: datetime.date | None = None,
    resolution: str = "",
    acting_user,
) -> TenancyIncident:
    incident = TenancyIncident(
        tenancy=tenancy,
        kind=kind,
        occurred_on=occurred_on,
        description=description,
        amount=amount,
        resolved_on=resolved_on,
        resolution=resolution,
    )
    record_save(incident, acting_user=acting_user)
    return incident


INCIDENT_FIELDS = ("kind", "occurred_on", "description", "amount", "resolved_on", "resolution")


@transaction.atomic
def incident_update(*, incident: TenancyIncident, acting_user, **changes) -> TenancyIncident:
    """Change an incident, e.g. record its resolution (optimistic locking:
    see ``_update``)."""
    return _update(incident, allowed=INCIDENT_FIELDS, changes=changes, acting_user=acting_user)
