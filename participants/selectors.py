"""Reads for participants and referrals, scoped by role.

A social worker reaches only the referrals they filed and no participant
record; the team (support staff and unit managers) reaches everything.
``*_get_for_user`` raises Http404 both for a missing row and for one the user
may not see, so the two cannot be told apart. Every list is returned with its
joins done, so a page issues the same number of queries whatever its length.
"""

from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db.models import (
    Case,
    Count,
    F,
    Min,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Subquery,
    Value,
    When,
)
from django.db.models.functions import NullIf
from django.utils import timezone

from bostadforst.identity import hidden_ids, shown_order
from bostadforst.roles import TEAM, Role, role_of

from .models import (
    PHASE_OF_REFERRAL_STATUS,
    Applicant,
    MatchStatus,
    NetworkContact,
    Participant,
    ParticipantStatus,
    Referral,
    ReferralEvent,
    ReferralStatus,
    TargetGroup,
    TargetGroupCode,
)
from .personnummer import normalise


def _search_filter(query: str, *, prefix: str = "") -> Q:
    """Name words, or a personnummer in any accepted form (exact match only:
    a partial number would let a search enumerate people by birth date)."""
    query = (query or "").strip()
    if not query:
        return Q()
    # A protected person the viewer may not see is never found by their name
    # or number: the alias in the result would tie the two together.
    hidden = hidden_ids("person")
    condition = ~Q(**{f"{prefix}pk__in": hidden}) if hidden else Q()
    try:
        return condition & Q(**{f"{prefix}personnummer": normalise(query)})
    except ValidationError:
        pass
    for word in query.split()[:5]:
        condition &= Q(**{f"{prefix}first_name__icontains": word}) | Q(
            **{f"{prefix}last_name__icontains": word}
        )
    return condition


# Filter values beyond the plain statuses, for the start page's links: the
# referrals waiting for a decision (submitted or under assessment), and the
# housed tenants nobody supports yet.
WAITING_FOR_DECISION = "waiting"
OPEN_REFERRAL_STATUSES = (ReferralStatus.SUBMITTED, ReferralStatus.ASSESSING)
HOUSED_WITHOUT_WORKER = "housed_no_worker"


def last_referring_unit_id(*, user) -> int | None:
    """The active unit of the user's latest referral that named one: the
    default unit of their next referral. Reads no person's data (unit ids of
    the user's own referrals only)."""
    return (
        Referral.objects.filter(referred_by=user, referring_unit__active=True)
        .order_by("-created_at", "-pk")
        .values_list("referring_unit_id", flat=True)
        .first()
    )


def referral_list(*, user, status: str = "", search: str = "") -> QuerySet[Referral]:
    """The referral queue (team) or the user's own referrals (social worker)."""
    role = role_of(user)
    qs = Referral.objects.select_related("participant", "referred_by")
    if role == Role.SOCIAL_WORKER:
        qs = qs.filter(referred_by=user)
    elif role not in TEAM:
        return qs.none()
    if status == WAITING_FOR_DECISION:
        qs = qs.filter(status__in=OPEN_REFERRAL_STATUSES)
    elif status in ReferralStatus.values:
        qs = qs.filter(status=status)
    if search:
        qs = qs.filter(_search_filter(search, prefix="participant__"))
    return qs.order_by("-referral_date", "-pk")


def referral_person_for_user(*, user, referral: Referral) -> Participant | Applicant:
    """The person a referral page names: the participant for the team; for
    the referring social worker what they typed, when the referral was linked
    to a person already known (``Referral.person_for_referrer``)."""
    return referral.participant if role_of(user) in TEAM else referral.person_for_referrer


@dataclass(frozen=True)
class ReferrerFollowUp:
    """What the referring social worker follows on their referral's page."""

    phase: str
    # The person whose other-app summaries (support, housing) may be shown;
    # None: none are.
    sections_of: Participant | None


def referral_follow_up(*, referral: Referral) -> ReferrerFollowUp:
    """How it is going for the person, as the referring social worker sees it.

    A person the referral brought in (a new personnummer, or a match the team
    rejected): their phase, and once the referral is approved the summaries
    the other apps give a social worker. Before approval those summaries can
    only say "nothing yet" for such a person, and leaving them out keeps the
    page the same as for a person already known.

    A person already known (a match pending or confirmed): the phase this
    referral alone gives (``PHASE_OF_REFERRAL_STATUS``) and no summaries, so
    that nothing of the person's record (housed, plan dates, the team's last
    contact) reaches someone who only had to type their personnummer. Until
    the referral is approved the page is the same whether or not the person
    was known.
    """
    if referral.linked_to_known_person:
        return ReferrerFollowUp(
            phase=str(PHASE_OF_REFERRAL_STATUS[referral.status].label), sections_of=None
        )
    participant = referral.participant
    return ReferrerFollowUp(
        phase=str(participant.get_status_display()),
        sections_of=participant if referral.status == ReferralStatus.APPROVED else None,
    )


def referral_rejected_person_id(*, referral: Referral) -> int | None:
    """The id of the known person a rejected match pointed at (the one who
    holds the personnummer typed), for the team's link; None otherwise. Only
    the id: the referral page does not show that person's record."""
    if referral.match != MatchStatus.REJECTED or not referral.applicant_personnummer:
        return None
    return (
        Participant.objects.filter(personnummer=referral.applicant_personnummer)
        .values_list("pk", flat=True)
        .first()
    )


def referral_events_for_user(*, user, referral: Referral) -> list[ReferralEvent]:
    """The referral's log, newest first. The referring social worker sees the
    status changes and information entries, not the team's interview and
    reference notes."""
    qs = referral.events.select_related("created_by").order_by("-created_at", "-pk")
    if role_of(user) not in TEAM:
        qs = qs.filter(kind__in=[ReferralEvent.Kind.TRANSITION, ReferralEvent.Kind.INFORMATION])
    return list(qs)


def target_groups_in_order() -> QuerySet[TargetGroup]:
    """The six target groups in Stockholm's order (acute homelessness first),
    not the alphabetical order of their codes."""
    position = Case(
        *[When(code=code, then=Value(i)) for i, code in enumerate(TargetGroupCode.values)],
        default=Value(len(TargetGroupCode.values)),
    )
    return TargetGroup.objects.order_by(position, "code")


def participant_list(*, user, status: str = "", search: str = "") -> QuerySet[Participant]:
    if role_of(user) not in TEAM:
        return Participant.objects.none()
    qs = Participant.objects.select_related("support_worker").prefetch_related(
        Prefetch("target_groups", queryset=target_groups_in_order())
    )
    if status == HOUSED_WITHOUT_WORKER:
        qs = qs.filter(status=ParticipantStatus.HOUSED, support_worker__isnull=True)
    elif status:
        qs = qs.filter(status=status)
    if search:
        qs = qs.filter(_search_filter(search))
    # People imported without a name (only the municipal reference) after the
    # named ones, so the first page is the people the team knows by name.
    return qs.order_by(
        *shown_order(
            NullIf("last_name", Value("")).asc(nulls_last=True), "first_name", "external_ref"
        ),
        "pk",
    )


def participant_referrals(*, participant: Participant) -> list[Referral]:
    return list(
        participant.referrals.select_related("referred_by", "decided_by").order_by(
            "-referral_date", "-pk"
        )
    )


def network_contact_queryset(*, user) -> QuerySet[NetworkContact]:
    """The network contacts of the participants ``user`` may see."""
    return NetworkContact.objects.select_related("participant").filter(
        participant__in=participant_list(user=user)
    )


# --- What changed for the referring social worker ----------------------------------

# The start page's "since your last login" questions, by the value of the
# "My referrals" list's ``show`` parameter.
DECIDED = "decided"
HOUSED = "housed"
ASKED = "asked"
REFERRER_CHANGES = (DECIDED, HOUSED, ASKED)


def referrer_since(user):
    """Where "since your last login" starts: the login before this one, or
    when the account was made for a first login."""
    return user.previous_login or user.date_joined


def _referrer_changes(*, user) -> tuple[QuerySet[Referral], dict[str, Q]]:
    """The user's own referrals, annotated, with the condition of each change.

    * decided: approved or declined since ``since``;
    * housed: the person moved in since ``since`` (the first history row with
      the status housed), only for a person the referral brought in: of a
      person already known the social worker learns no more than the
      referral's own status (``referral_follow_up``);
    * asked: still open and the latest information entry is someone else's
      (the team asked them for more), so it waits for their answer.
    """
    since = referrer_since(user)
    history = Participant.history.model.objects
    first_housed = (
        history.filter(id=OuterRef("participant_id"), status=ParticipantStatus.HOUSED)
        .order_by("history_date")
        .values("history_date")[:1]
    )
    last_information_by = (
        ReferralEvent.objects.filter(referral=OuterRef("pk"), kind=ReferralEvent.Kind.INFORMATION)
        .order_by("-created_at", "-pk")
        .values("created_by")[:1]
    )
    qs = referral_list(user=user).annotate(
        first_housed_at=Subquery(first_housed),
        last_information_by=Subquery(last_information_by),
    )
    conditions = {
        DECIDED: Q(
            status__in=[ReferralStatus.APPROVED, ReferralStatus.DECLINED], decided_at__gt=since
        ),
        HOUSED: Q(
            status=ReferralStatus.APPROVED,
            match__in=[MatchStatus.NEW, MatchStatus.REJECTED],
            participant__status=ParticipantStatus.HOUSED,
            first_housed_at__gt=since,
        ),
        ASKED: Q(status__in=OPEN_REFERRAL_STATUSES, last_information_by__isnull=False)
        & ~Q(last_information_by=F("referred_by_id")),
    }
    return qs, conditions


def referrals_changed(*, user, show: str) -> QuerySet[Referral]:
    """The user's own referrals with the change ``show`` (``REFERRER_CHANGES``)."""
    qs, conditions = _referrer_changes(user=user)
    return qs.filter(conditions[show])


def referrer_change_counts(*, user) -> dict[str, int]:
    """How many of the user's own referrals have each change: one query."""
    qs, conditions = _referrer_changes(user=user)
    return qs.aggregate(**{key: Count("pk", filter=q) for key, q in conditions.items()})


def referrals_waiting_for_decision(*, user) -> dict:
    """How many referrals in the user's queue wait for a decision and since
    when the oldest waits (its referral date): one query."""
    return referral_list(user=user, status=WAITING_FOR_DECISION).aggregate(
        count=Count("pk"), oldest=Min("referral_date")
    )


def waiting_list_days(*, user, today) -> list[int]:
    """The days each approved person on the participant list has waited for
    a home, from the decision on their approved referral (the earliest, when
    there are several): one query."""
    approved_at = (
        Referral.objects.filter(participant=OuterRef("pk"), status=ReferralStatus.APPROVED)
        .order_by("decided_at")
        .values("decided_at")[:1]
    )
    rows = (
        participant_list(user=user, status=ParticipantStatus.APPROVED)
        .order_by()
        .prefetch_related(None)
        .select_related(None)
        .annotate(approved_at=Subquery(approved_at))
        .values_list("approved_at", flat=True)
    )
    return [
        max(0, (today - timezone.localtime(at).date()).days) if at is not None else 0 for at in rows
    ]


def housed_without_worker_count(*, user) -> int:
    """Housed tenants on the participant list with no support worker: one query."""
    return participant_list(user=user, status=HOUSED_WITHOUT_WORKER).count()
