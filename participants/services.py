"""Writes for participants and referrals.

Every function is keyword-only, takes the ``acting_user`` and runs in one
transaction: the change, its ReferralEvent and the history/access-log rows
commit together or not at all. The referral workflow is the table
``TRANSITIONS``; anything outside it is refused with a ValidationError whose
Swedish message the form shows (never a 500).
"""

from datetime import date, datetime

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext

from bostadforst.models import StaleObjectError
from bostadforst.records import record_save
from bostadforst.roles import MANAGERS, TEAM, role_of
from bostadforst.scope import unscoped

from . import eligibility
from .models import (
    PHASE_OF_REFERRAL_STATUS,
    Answer,
    Criterion,
    EligibilityAssessment,
    MatchStatus,
    NetworkContact,
    Participant,
    ParticipantStatus,
    Referral,
    ReferralEvent,
    ReferralStatus,
    TargetGroup,
)
from .personnummer import normalise

S = ReferralStatus

# The referral workflow: from-status -> the statuses it may move to.
# Approved, declined and withdrawn are final; an approved person becomes
# housed on the participant (participant_mark_housed), not on the referral.
TRANSITIONS: dict[str, frozenset[str]] = {
    S.SUBMITTED: frozenset({S.ASSESSING, S.WITHDRAWN}),
    S.ASSESSING: frozenset({S.APPROVED, S.DECLINED, S.WITHDRAWN}),
    S.APPROVED: frozenset(),
    S.DECLINED: frozenset(),
    S.WITHDRAWN: frozenset(),
}
OPEN_STATUSES = frozenset({S.SUBMITTED, S.ASSESSING})
LOG_KINDS = frozenset(
    {
        ReferralEvent.Kind.INTERVIEW_BOOKED,
        ReferralEvent.Kind.INTERVIEW_HELD,
        ReferralEvent.Kind.REFERENCE_CONTACTED,
    }
)


def _today() -> date:
    return timezone.localdate()


def _require_team(user) -> None:
    if role_of(user) not in TEAM:
        raise PermissionDenied


def _require_manager(user) -> None:
    if role_of(user) not in MANAGERS:
        raise PermissionDenied


def _require_referrer_or_team(referral: Referral, user) -> None:
    if role_of(user) in TEAM:
        return
    if referral.referred_by_id != user.pk:
        raise PermissionDenied


def _waits_for_match(referral: Referral, to_status: str) -> bool:
    """The assessment of a referral matched to a known person waits until the
    team has decided whether it is that person: it would otherwise assess (and
    reuse the details of) someone who may not be the applicant."""
    return to_status == S.ASSESSING and referral.match == MatchStatus.PENDING


def _not_yet_theirs(referral: Referral) -> bool:
    """A referral linked to a known person only for the team to confirm is not
    yet that person's record: it is written (filed, added to, withdrawn) even
    while their processing is restricted (``participants.restriction``),
    since a refusal would tell the referring social worker whom the team
    knows. The team's confirmation is refused then."""
    return referral.match == MatchStatus.PENDING


def transition_allowed(referral: Referral, to_status: str) -> bool:
    if _waits_for_match(referral, to_status):
        return False
    return to_status in TRANSITIONS.get(referral.status, frozenset())


def _transition(
    *,
    referral: Referral,
    to_status: str,
    acting_user,
    note: str = "",
    at: datetime | None = None,
) -> ReferralEvent:
    """Move the referral to ``to_status`` and record who and when.

    Refuses a move outside ``TRANSITIONS`` (e.g. approving a withdrawn
    referral, or a tampered status in a POST) with a message, not an error page.
    """
    if _waits_for_match(referral, to_status):
        raise ValidationError(
            gettext(
                "The personal identity number matches a person already known. Confirm or "
                "reject that match before the assessment starts."
            ),
            code="match_pending",
        )
    if to_status not in ReferralStatus.values or not transition_allowed(referral, to_status):
        raise ValidationError(
            gettext("A referral that is “%(current)s” cannot be changed to “%(new)s”.")
            % {
                "current": referral.get_status_display(),
                "new": (
                    ReferralStatus(to_status).label
                    if to_status in ReferralStatus.values
                    else to_status
                ),
            },
            code="transition",
        )
    at = at or timezone.now()
    from_status = referral.status
    referral.status = to_status
    pending = _not_yet_theirs(referral)
    record_save(referral, acting_user=acting_user, restriction_exempt=pending)
    event = ReferralEvent(
        referral=referral,
        kind=ReferralEvent.Kind.TRANSITION,
        from_status=from_status,
        to_status=to_status,
        occurred_on=timezone.localdate(at),
        note=note,
        created_by=acting_user,
        created_at=at,
    )
    record_save(event, acting_user=acting_user, restriction_exempt=pending)
    _sync_participant_status(
        participant=referral.participant, acting_user=acting_user, on=timezone.localdate(at)
    )
    return event


def _sync_participant_status(
    *, participant: Participant, acting_user, on: date | None = None
) -> None:
    """Derive the participant's status from their referrals.

    A housed participant stays housed whatever happens to a later referral;
    an approved one stays approved until housed. Otherwise the most advanced
    referral decides; with no open or approved referral left the case is
    closed (exited), which starts the culling period. A referral matched to
    the person but not yet confirmed by the team does not count: it may be
    someone else's.
    """
    if participant.status == ParticipantStatus.HOUSED:
        return
    statuses = set(
        participant.referrals.exclude(match=MatchStatus.PENDING).values_list("status", flat=True)
    )
    most_advanced = next(
        (status for status in (S.APPROVED, S.ASSESSING, S.SUBMITTED) if status in statuses),
        S.WITHDRAWN,
    )
    new = PHASE_OF_REFERRAL_STATUS[most_advanced]
    if new == participant.status:
        return
    participant.status = new
    participant.closed_on = (on or _today()) if new == ParticipantStatus.EXITED else None
    record_save(participant, acting_user=acting_user)


# --- Referrals --------------------------------------------------------------------


@transaction.atomic
def referral_create(
    *,
    acting_user,
    personnummer: str,
    first_name: str,
    last_name: str,
    referral_date: date,
    housing_situation: str,
    support_need: str,
    temporary_arrangement: str = "",
    situation_since: date | None = None,
    description: str = "",
    phone: str = "",
    email: str = "",
    postal_address: str = "",
    registered_since: date | None = None,
    children_in_household: int = 0,
    referring_unit=None,
    at: datetime | None = None,
) -> Referral:
    """File a referral; what was typed about the person is kept on it.

    A new personnummer creates the participant from those details. A
    personnummer already known links the referral to that person for the team
    to confirm or reject (``MatchStatus.PENDING``): the known person's record
    is not touched and their phase not changed until the team confirms, and
    the referring social worker is answered exactly as for a new person, so
    that filing a referral never tells them whom the team knows.
    """
    number = normalise(personnummer)
    # Known to the team is known among everyone, not only the filer's row
    # scope: the answer is the same either way, and the team sees the match.
    with unscoped():
        participant = Participant.objects.select_for_update().filter(personnummer=number).first()
    match = MatchStatus.NEW if participant is None else MatchStatus.PENDING
    if participant is None:
        participant = Participant(
            personnummer=number,
            first_name=first_name,
            last_name=last_name,
            phone=phone,
            email=email,
            postal_address=postal_address,
            registered_since=registered_since,
            children_in_household=children_in_household,
            status=ParticipantStatus.REFERRED,
            created_at=at or timezone.now(),
        )
        record_save(participant, acting_user=acting_user)
    referral = Referral(
        participant=participant,
        referred_by=acting_user,
        referral_date=referral_date,
        referring_unit=referring_unit,
        housing_situation=housing_situation,
        temporary_arrangement=temporary_arrangement,
        situation_since=situation_since,
        support_need=support_need,
        description=description,
        status=S.SUBMITTED,
        match=match,
        applicant_personnummer=number,
        applicant_first_name=first_name,
        applicant_last_name=last_name,
        applicant_phone=phone,
        applicant_email=email,
        applicant_postal_address=postal_address,
        applicant_registered_since=registered_since,
        applicant_children_in_household=children_in_household,
        created_at=at or timezone.now(),
    )
    pending = _not_yet_theirs(referral)
    record_save(referral, acting_user=acting_user, restriction_exempt=pending)
    record_save(
        ReferralEvent(
            referral=referral,
            kind=ReferralEvent.Kind.TRANSITION,
            to_status=S.SUBMITTED,
            occurred_on=referral_date,
            created_by=acting_user,
            created_at=at or timezone.now(),
        ),
        acting_user=acting_user,
        restriction_exempt=pending,
    )
    _sync_participant_status(participant=participant, acting_user=acting_user)
    return referral


def _require_pending_match(referral: Referral) -> None:
    if referral.match != MatchStatus.PENDING:
        raise ValidationError(
            gettext("There is no match with a known person left to decide on this referral."),
            code="match_decided",
        )


def _match_decided(
    *, referral: Referral, match: str, kind: str, acting_user, reason: str, at: datetime | None
) -> None:
    """Save the team's decision on the referral (its history row names who
    decided, with ``reason``) and the entry in the team's log of it."""
    referral.match = match
    record_save(referral, acting_user=acting_user, reason=reason)
    record_save(
        ReferralEvent(
            referral=referral,
            kind=kind,
            occurred_on=timezone.localdate(at) if at else _today(),
            created_by=acting_user,
            created_at=at or timezone.now(),
        ),
        acting_user=acting_user,
    )


@transaction.atomic
def referral_match_confirm(
    *, referral: Referral, acting_user, at: datetime | None = None
) -> Referral:
    """The team confirms that the referral is about the known person.

    The referral then counts on that person (their phase follows it), and the
    details the social worker typed fill what the person's record leaves
    blank; nothing recorded is overwritten. The social worker is still shown
    only what they typed (``Referral.person_for_referrer``).
    """
    _require_team(acting_user)
    _require_pending_match(referral)
    participant = referral.participant
    changed = False
    for field, value in [
        ("phone", referral.applicant_phone),
        ("email", referral.applicant_email),
        ("postal_address", referral.applicant_postal_address),
        ("registered_since", referral.applicant_registered_since),
    ]:
        if value and not getattr(participant, field):
            setattr(participant, field, value)
            changed = True
    if changed:
        record_save(participant, acting_user=acting_user)
    _match_decided(
        referral=referral,
        match=MatchStatus.CONFIRMED,
        kind=ReferralEvent.Kind.MATCH_CONFIRMED,
        acting_user=acting_user,
        reason=gettext("Known person confirmed"),
        at=at,
    )
    _sync_participant_status(
        participant=participant, acting_user=acting_user, on=timezone.localdate(at) if at else None
    )
    return referral


@transaction.atomic
def referral_match_reject(
    *, referral: Referral, acting_user, at: datetime | None = None
) -> Referral:
    """The team finds that the referral is about someone else than the known person.

    The personnummer is unique to the known person, so the number typed is
    wrong for this applicant (or the known person's is; the team checks that
    on their page). The referral moves to a new participant made from what
    the social worker typed, without a personnummer, and goes on in the
    workflow as for any new person; the team asks the social worker for the
    right number (information on the referral) and adds it on the person's
    page. The social worker is answered as before: a rejection visible to them
    would tell them that the number belongs to someone the team knows.
    """
    _require_team(acting_user)
    _require_pending_match(referral)
    participant = Participant(
        personnummer=None,
        first_name=referral.applicant_first_name,
        last_name=referral.applicant_last_name,
        phone=referral.applicant_phone,
        email=referral.applicant_email,
        postal_address=referral.applicant_postal_address,
        registered_since=referral.applicant_registered_since,
        children_in_household=referral.applicant_children_in_household,
        status=ParticipantStatus.REFERRED,
        created_at=at or timezone.now(),
    )
    record_save(participant, acting_user=acting_user)
    referral.participant = participant
    _match_decided(
        referral=referral,
        match=MatchStatus.REJECTED,
        kind=ReferralEvent.Kind.MATCH_REJECTED,
        acting_user=acting_user,
        reason=gettext("Known person rejected"),
        at=at,
    )
    # A referral withdrawn while the match waited closes the new case at once.
    _sync_participant_status(
        participant=participant, acting_user=acting_user, on=timezone.localdate(at) if at else None
    )
    return referral


@transaction.atomic
def referral_add_information(*, referral: Referral, acting_user, note: str) -> ReferralEvent:
    """The referring social worker or the team adds information to a referral."""
    _require_referrer_or_team(referral, acting_user)
    if referral.status in {S.DECLINED, S.WITHDRAWN}:
        raise ValidationError(
            gettext("The referral is closed (%(status)s); information can no longer be added.")
            % {"status": referral.get_status_display()},
            code="closed",
        )
    event = ReferralEvent(
        referral=referral,
        kind=ReferralEvent.Kind.INFORMATION,
        occurred_on=_today(),
        note=note,
        created_by=acting_user,
    )
    record_save(event, acting_user=acting_user, restriction_exempt=_not_yet_theirs(referral))
    return event


@transaction.atomic
def referral_start_assessment(
    *, referral: Referral, acting_user, at: datetime | None = None
) -> Referral:
    _require_team(acting_user)
    _transition(referral=referral, to_status=S.ASSESSING, acting_user=acting_user, at=at)
    return referral


def _ensure_assessing(referral: Referral, acting_user, at: datetime | None = None) -> None:
    """Interviews, references and criteria belong to the assessment: recording
    one on a submitted referral starts the assessment (a recorded transition)."""
    if referral.status == S.SUBMITTED:
        _transition(referral=referral, to_status=S.ASSESSING, acting_user=acting_user, at=at)
    elif referral.status != S.ASSESSING:
        raise ValidationError(
            gettext("The referral is %(status)s; the assessment can no longer be changed.")
            % {"status": referral.get_status_display().lower()},
            code="not_assessing",
        )


@transaction.atomic
def referral_log_entry_add(
    *,
    referral: Referral,
    acting_user,
    kind: str,
    occurred_on: date,
    note: str = "",
    at: datetime | None = None,
) -> ReferralEvent:
    """Record an interview (booked or held) or a reference contacted."""
    _require_team(acting_user)
    if kind not in LOG_KINDS:
        raise ValidationError({"kind": gettext("Choose a valid kind of entry.")}, code="kind")
    if kind != ReferralEvent.Kind.INTERVIEW_BOOKED and occurred_on > _today():
        raise ValidationError(
            {"occurred_on": gettext("The date cannot be in the future.")}, code="future"
        )
    _ensure_assessing(referral, acting_user, at)
    event = ReferralEvent(
        referral=referral,
        kind=kind,
        occurred_on=occurred_on,
        note=note,
        created_by=acting_user,
        created_at=at or timezone.now(),
    )
    record_save(event, acting_user=acting_user)
    return event


@transaction.atomic
def assessment_record(
    *,
    referral: Referral,
    acting_user,
    answers: dict[str, tuple[str, str]],
    versions: dict[str, int] | None = None,
    at: datetime | None = None,
) -> list[EligibilityAssessment]:
    """Record the assessor's answers, ``{criterion: (answer, note)}``.

    Only criteria whose answer or note changed are saved, so the history shows
    who last changed what; each saved row names the assessor and the date.
    ``versions`` holds each criterion's version when the form was opened (0:
    not assessed then): an answer that differs from one someone else saved
    since is refused with ``StaleObjectError``, and nothing is saved.
    """
    _require_team(acting_user)
    unknown = set(answers) - set(Criterion.values)
    bad = [a for a, _n in answers.values() if a not in Answer.values]
    if unknown or bad:
        raise ValidationError(gettext("Choose a valid answer for each criterion."), code="answer")
    _ensure_assessing(referral, acting_user, at)
    at = at or timezone.now()
    existing = {a.criterion: a for a in referral.assessments.all()}
    saved = []
    for criterion, (answer, note) in answers.items():
        row = existing.get(criterion) or EligibilityAssessment(
            referral=referral, criterion=criterion, created_at=at
        )
        if row.pk is not None and row.answer == answer and row.note == note:
            continue
        read = versions.get(criterion) if versions is not None else row.version
        if row.pk is not None and read != row.version:
            row.version = read or 0
            raise StaleObjectError(row)
        row.answer, row.note = answer, note
        row.assessor, row.assessed_on = acting_user, timezone.localdate(at)
        record_save(row, acting_user=acting_user)
        saved.append(row)
    return saved


def referral_answers(referral: Referral) -> dict[str, str]:
    return {a.criterion: a.answer for a in referral.assessments.all()}


def _decide(
    *,
    referral: Referral,
    to_status: str,
    acting_user,
    at: datetime | None,
    decline_reason: str = "",
    override_justification: str = "",
) -> None:
    """Record a manager's decision: who and when on the referral, the reason
    or the justification (the other cleared), and the transition whose log
    entry carries the same text."""
    referral.decline_reason = decline_reason
    referral.override_justification = override_justification
    referral.decided_by = acting_user
    referral.decided_at = at or timezone.now()
    _transition(
        referral=referral,
        to_status=to_status,
        acting_user=acting_user,
        note=decline_reason or override_justification,
        at=referral.decided_at,
    )


@transaction.atomic
def referral_approve(
    *,
    referral: Referral,
    acting_user,
    override_justification: str = "",
    at: datetime | None = None,
) -> None:
    """A unit manager approves. All six criteria met, or an override with a
    written justification that is stored on the referral and shown on it."""
    _require_manager(acting_user)
    justification = (override_justification or "").strip()
    if eligibility.all_met(referral_answers(referral)):
        justification = ""
    elif not justification:
        raise ValidationError(
            {
                "override_justification": gettext(
                    "Not all six criteria are met. To approve anyway, write the justification "
                    "for the override."
                )
            },
            code="justification_required",
        )
    _decide(
        referral=referral,
        to_status=S.APPROVED,
        acting_user=acting_user,
        at=at,
        override_justification=justification,
    )


@transaction.atomic
def referral_decline(
    *, referral: Referral, acting_user, reason: str, at: datetime | None = None
) -> None:
    _require_manager(acting_user)
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError(
            {"decline_reason": gettext("Write the reason for declining.")}, code="reason_required"
        )
    _decide(
        referral=referral,
        to_status=S.DECLINED,
        acting_user=acting_user,
        at=at,
        decline_reason=reason,
    )


@transaction.atomic
def referral_withdraw(
    *, referral: Referral, acting_user, reason: str = "", at: datetime | None = None
) -> None:
    """The referring social worker or the team withdraws an open referral."""
    _require_referrer_or_team(referral, acting_user)
    _transition(
        referral=referral,
        to_status=S.WITHDRAWN,
        acting_user=acting_user,
        note=reason.strip(),
        at=at,
    )


# --- Participants -----------------------------------------------------------------


# The fields the team edits (target groups go separately: a many-to-many set
# after the row is saved). The edit form lists the same fields.
PARTICIPANT_FIELDS = (
    "personnummer",
    "first_name",
    "last_name",
    "phone",
    "email",
    "postal_address",
    "registered_since",
    "children_in_household",
    "support_worker",
)


@transaction.atomic
def participant_update(
    *, participant: Participant, acting_user, target_groups=None, **fields
) -> Participant:
    """Save the team's edits of a participant (optimistic locking: the instance
    carries the version the editor read)."""
    _require_team(acting_user)
    for name, value in fields.items():
        if name not in PARTICIPANT_FIELDS:
            raise TypeError(f"participant_update() got an unexpected field {name!r}")
        if name == "personnummer" and value:
            value = normalise(value)
        setattr(participant, name, value)
    # Correcting the person's details is what a restriction of processing
    # (GDPR art. 18, ``participants.restriction``) waits for: allowed then.
    record_save(participant, acting_user=acting_user, restriction_exempt=True)
    if target_groups is not None:
        participant.target_groups.set(target_groups)
    return participant


@transaction.atomic
def participant_mark_housed(
    *, participant: Participant, acting_user, reopen: bool = False
) -> Participant:
    """An approved participant moves into a tenancy (called by housing).

    Only an approved participant can be housed; a participant who is already
    housed (moving between Housing First apartments) stays housed. ``reopen``
    also houses a closed (exited) case again and clears its closing day: an
    imported cohort file corrected to show the tenancy going on.
    """
    participant.refresh_from_db(fields=["status", "version", "closed_on"])
    if participant.status == ParticipantStatus.HOUSED:
        return participant
    refusal = participant_housing_refusal(participant, reopen=reopen)
    if refusal is not None:
        raise refusal
    participant.status = ParticipantStatus.HOUSED
    participant.closed_on = None
    record_save(participant, acting_user=acting_user)
    return participant


def participant_housing_refusal(
    participant: Participant, *, reopen: bool = False
) -> ValidationError | None:
    """Why ``participant`` (not yet housed) cannot be housed, or None: only an
    approved participant can, and with ``reopen`` an exited one. The rule of
    ``participant_mark_housed``, which the cohort import's bulk write asks too.
    """
    allowed = {ParticipantStatus.APPROVED} | ({ParticipantStatus.EXITED} if reopen else set())
    if participant.status in allowed:
        return None
    return ValidationError(
        gettext(
            "Only a participant whose referral is approved can be housed; %(name)s is “%(status)s”."
        )
        % {"name": participant, "status": participant.get_status_display()},
        code="not_approved",
    )


@transaction.atomic
def participant_mark_exited(
    *, participant: Participant, acting_user, closed_on: date | None = None
) -> Participant:
    """Close the case (e.g. the tenancy ended and the person left the programme)."""
    participant.refresh_from_db(fields=["status", "version", "closed_on"])
    participant.status = ParticipantStatus.EXITED
    participant.closed_on = closed_on or _today()
    record_save(participant, acting_user=acting_user)
    return participant


@transaction.atomic
def participant_create_imported(
    *, external_ref: str, personnummer: str | None = None, acting_user
) -> Participant:
    """A participant from a municipality's cohort file (the reports' import).

    The municipality admitted them before their records came here, so they
    start approved; the housing app then houses them or closes their case from
    the tenancies in the file (``housing.services.participant_update_from_tenancies``).
    """
    participant = Participant(
        external_ref=external_ref,
        personnummer=personnummer,
        status=ParticipantStatus.APPROVED,
    )
    record_save(participant, acting_user=acting_user)
    return participant


def target_groups_for(codes) -> list[TargetGroup]:
    return list(TargetGroup.objects.filter(code__in=list(codes)))


# --- Network contacts -------------------------------------------------------------

NETWORK_FIELDS = (
    "name",
    "relation",
    "organisation",
    "phone",
    "email",
    "consent_to_contact",
    "note",
)


def _set_fields(instance, fields: dict, names) -> None:
    for name in names:
        if name in fields:
            setattr(instance, name, fields[name])


@transaction.atomic
def network_contact_create(*, participant: Participant, acting_user, **fields) -> NetworkContact:
    _require_team(acting_user)
    contact = NetworkContact(participant=participant)
    _set_fields(contact, fields, NETWORK_FIELDS)
    record_save(contact, acting_user=acting_user)
    return contact


@transaction.atomic
def network_contact_update(*, contact: NetworkContact, acting_user, **fields) -> NetworkContact:
    _require_team(acting_user)
    _set_fields(contact, fields, NETWORK_FIELDS)
    record_save(contact, acting_user=acting_user)
    return contact
