"""Writes of support data: one transaction per call, with its history and
access-log rows (the history signal writes them inside the same transaction).

Every rule that spans rows lives here (plan versions, journal locking,
crisis-place capacity); forms only check single values.
"""

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from bostadforst.records import record_delete, record_save
from bostadforst.scope import unscoped
from participants.models import NetworkContact, Participant

from .models import (
    ActionPlan,
    Activity,
    Attendance,
    CrisisPlace,
    CrisisPlacement,
    Goal,
    GoalAction,
    JournalLockedError,
    SupportVisit,
)
from .selectors import team_members

ERRORS = {
    "review_before_agreed": _("The review date cannot be before the date the plan was agreed."),
    "agreed_in_future": _("The plan cannot be agreed on a date that has not come yet."),
    "no_goals": _("Write at least one goal in the tenant's own words."),
    "partner_not_in_network": _(
        "The collaborating party must be one of the participant's network contacts."
    ),
    "partner_required": _("Choose which collaborating party does this."),
    "plan_changed": _(
        "Someone else saved version %(number)s of the plan after you opened it. Nothing was "
        "saved: open the plan again to revise the latest version."
    ),
    "staff_not_team": _("Only members of the team can be named."),
    "visit_in_future": _("A visit cannot be logged for a day after today."),
    "staff_required": _("Choose at least one staff member."),
    "goal_not_participants": _("Only goals from the participant's own action plan can be chosen."),
    "not_author": _("Only the author of a journal entry can change or sign it."),
    "already_signed": _("The journal entry is already signed."),
    "end_before_start": _("The end date cannot be before the start date."),
    "over_capacity": _(
        "%(place)s is full on %(day)s (%(capacity)s places). Choose another place or other dates."
    ),
    "place_inactive": _("This crisis place is no longer in use."),
    "placement_overlap": _(
        "The participant already has a crisis placement in this period (from %(start)s). "
        "End it before starting a new one."
    ),
    "placement_already_ended": _("This placement has already ended."),
    "not_active_participant": _("Attendance can only be recorded for active participants."),
}


def _error(field_name: str | None, code: str, **params) -> ValidationError:
    message = ERRORS[code]
    error = ValidationError(message, code=code, params=params or None)
    return ValidationError({field_name: [error]}) if field_name else error


# --- Action plans --------------------------------------------------------------


@dataclass
class ActionData:
    who: str
    what: str
    how: str = ""
    by_when: date | None = None
    staff: object | None = None  # a team member (User) when who == team
    partner: NetworkContact | None = None


@dataclass
class GoalData:
    life_area: str
    text: str
    actions: list[ActionData] = field(default_factory=list)


@transaction.atomic
def plan_create_version(
    *,
    participant: Participant,
    agreed_on: date,
    review_on: date,
    on_breach: str,
    goals: Sequence[GoalData],
    based_on: int | None = None,
    acting_user,
) -> ActionPlan:
    """Write a new version of the participant's action plan.

    Revising never changes an earlier version: the new row gets the next
    number and its own goal and action rows, so every version stays readable
    as it was agreed with the tenant.
    """
    errors: dict[str, list] = {}
    if agreed_on > timezone.localdate():
        errors.setdefault("agreed_on", []).append(_error(None, "agreed_in_future"))
    if review_on < agreed_on:
        errors.setdefault("review_on", []).append(_error(None, "review_before_agreed"))
    if not goals:
        errors.setdefault("__all__", []).append(_error(None, "no_goals"))
    team_ids = set(team_members().values_list("pk", flat=True))
    for goal in goals:
        for action in goal.actions:
            if action.who == GoalAction.Who.PARTNER:
                if action.partner is None:
                    errors.setdefault("__all__", []).append(_error(None, "partner_required"))
                elif action.partner.participant_id != participant.pk:
                    errors.setdefault("__all__", []).append(_error(None, "partner_not_in_network"))
            if action.staff is not None and action.staff.pk not in team_ids:
                errors.setdefault("__all__", []).append(_error(None, "staff_not_team"))
    if errors:
        raise ValidationError(errors)

    # Lock the participant row so two people saving a revision at the same
    # moment get consecutive numbers (the unique constraint is the backstop).
    Participant.objects.select_for_update().filter(pk=participant.pk).first()
    last = ActionPlan.objects.filter(participant=participant).order_by("-number").first()
    if based_on is not None and (last.number if last else 0) != based_on:
        raise _error(None, "plan_changed", number=last.number if last else 0)
    plan = ActionPlan(
        participant=participant,
        number=(last.number + 1) if last else 1,
        agreed_on=agreed_on,
        review_on=review_on,
        on_breach=on_breach,
        created_by=acting_user,
    )
    record_save(plan, acting_user=acting_user)
    for position, goal_data in enumerate(goals):
        goal = Goal(
            plan=plan, life_area=goal_data.life_area, text=goal_data.text, position=position
        )
        record_save(goal, acting_user=acting_user)
        for action_data in goal_data.actions:
            action = GoalAction(
                goal=goal,
                who=action_data.who,
                staff=action_data.staff if action_data.who == GoalAction.Who.TEAM else None,
                partner=(
                    action_data.partner if action_data.who == GoalAction.Who.PARTNER else None
                ),
                what=action_data.what,
                how=action_data.how,
                by_when=action_data.by_when,
            )
            record_save(action, acting_user=acting_user)
    return plan


def plan_as_data(plan: ActionPlan) -> list[GoalData]:
    """The goals and actions of ``plan``, ready to copy into a new version."""
    return [
        GoalData(
            life_area=goal.life_area,
            text=goal.text,
            actions=[
                ActionData(
                    who=a.who,
                    what=a.what,
                    how=a.how,
                    by_when=a.by_when,
                    staff=a.staff,
                    partner=a.partner,
                )
                for a in goal.actions.all()
            ],
        )
        for goal in plan.goals.all()
    ]


# --- Support visits ------------------------------------------------------------


def _check_visit(
    *,
    participant: Participant,
    started_at: datetime,
    staff: Iterable,
    goals: Iterable[Goal],
) -> None:
    """The rules of a visit that span rows; the duration's range is the
    model's own (checked by ``full_clean`` when the entry is saved)."""
    errors: dict[str, list] = {}
    if timezone.localtime(started_at).date() > timezone.localdate():
        errors["started_at"] = [_error(None, "visit_in_future")]
    staff = list(staff)
    if not staff:
        errors["staff"] = [_error(None, "staff_required")]
    else:
        # Only the people named are looked up, not the whole team (hundreds
        # of staff in a large municipality).
        ids = {u.pk for u in staff}
        named = team_members().filter(pk__in=ids).order_by().values_list("pk", flat=True)
        if set(named) != ids:
            errors["staff"] = [_error(None, "staff_not_team")]
    if _plans_of_others(goals, participant=participant):
        errors["goals"] = [_error(None, "goal_not_participants")]
    if errors:
        raise ValidationError(errors)


def _plans_of_others(goals: Sequence[Goal], *, participant: Participant) -> bool:
    """Whether one of ``goals`` belongs to a plan of another person: one query
    for any number of goals (none when their plans are loaded already)."""
    goals = list(goals)
    if all(Goal.plan.is_cached(g) for g in goals):
        return any(g.plan.participant_id != participant.pk for g in goals)
    plan_ids = {g.plan_id for g in goals}
    return (
        ActionPlan._base_manager.filter(pk__in=plan_ids)
        .exclude(participant_id=participant.pk)
        .exists()
    )


@transaction.atomic
def visit_log(
    *,
    participant: Participant,
    started_at: datetime,
    duration_minutes: int,
    kind: str,
    staff: Iterable,
    note: str = "",
    goals: Iterable[Goal] = (),
    sign: bool = False,
    corrects: SupportVisit | None = None,
    acting_user,
) -> SupportVisit:
    """Log a support visit with its journal note; the acting user is its author.

    ``sign`` signs the note at once (it is then locked). ``corrects`` makes
    the entry a correction of an earlier one, which itself stays unchanged.
    """
    staff, goals = list(staff), list(goals)
    _check_visit(
        participant=participant,
        started_at=started_at,
        staff=staff,
        goals=goals,
    )
    visit = SupportVisit(
        participant=participant,
        started_at=started_at,
        duration_minutes=duration_minutes,
        kind=kind,
        note=note,
        author=acting_user,
        corrects=corrects,
        signed_at=timezone.now() if sign else None,
    )
    # A correction entry is the one journal write allowed while the person's
    # processing is restricted (GDPR art. 18, participants.restriction): it
    # adds a linked entry and leaves the corrected one as it was.
    record_save(
        visit,
        acting_user=acting_user,
        m2m={"staff": staff, "goals": goals},
        restriction_exempt=corrects is not None,
    )
    return visit


@transaction.atomic
def visit_correct(
    *,
    original: SupportVisit,
    started_at: datetime,
    duration_minutes: int,
    kind: str,
    staff: Iterable,
    note: str,
    goals: Iterable[Goal] = (),
    sign: bool = False,
    acting_user,
) -> SupportVisit:
    """Write a correction: a new entry that references the one it corrects."""
    return visit_log(
        participant=original.participant,
        started_at=started_at,
        duration_minutes=duration_minutes,
        kind=kind,
        staff=staff,
        note=note,
        goals=goals,
        sign=sign,
        corrects=original,
        acting_user=acting_user,
    )


@transaction.atomic
def visit_update(
    *,
    visit: SupportVisit,
    started_at: datetime,
    duration_minutes: int,
    kind: str,
    staff: Iterable,
    note: str,
    goals: Iterable[Goal] = (),
    sign: bool = False,
    acting_user,
) -> SupportVisit:
    """Change an entry while it is still open (its author, within 24 hours,
    before signing). The model refuses a locked entry whoever saves it."""
    if visit.author_id != acting_user.pk:
        raise _error(None, "not_author")
    if visit.is_locked:
        raise JournalLockedError()
    staff, goals = list(staff), list(goals)
    _check_visit(
        participant=visit.participant,
        started_at=started_at,
        staff=staff,
        goals=goals,
    )
    visit.started_at = started_at
    visit.duration_minutes = duration_minutes
    visit.kind = kind
    visit.note = note
    record_save(
        visit,
        acting_user=acting_user,
        m2m={"staff": staff, "goals": goals},
        restriction_exempt=visit.corrects_id is not None,  # finishing a correction entry
    )
    if sign:
        visit_sign(visit=visit, acting_user=acting_user)
    return visit


@transaction.atomic
def visit_sign(*, visit: SupportVisit, acting_user) -> SupportVisit:
    """Sign the entry: only its author may, and it is locked from then on."""
    if visit.author_id != acting_user.pk:
        raise _error(None, "not_author")
    if visit.signed_at is not None:
        raise _error(None, "already_signed")
    visit.signed_at = timezone.now()
    record_save(visit, acting_user=acting_user, restriction_exempt=visit.corrects_id is not None)
    return visit


# --- Crisis placements -----------------------------------------------------------


def _overlapping(qs, start: date, end: date | None):
    """Rows of ``qs`` whose [start, end) meets [start, end) (open end = no end)."""
    qs = qs.exclude(end__isnull=False, end__lte=start)
    if end is not None:
        qs = qs.filter(start__lt=end)
    return qs


def _peak_occupancy(
    periods: list[tuple[date, date | None]], start: date, end: date | None
) -> tuple[int, date]:
    """The most placements at once within [start, end), and the first day it
    happens. Sweeps the periods' start and end days (half-open intervals)."""
    events: list[tuple[date, int]] = []
    for p_start, p_end in periods:
        events.append((max(p_start, start), 1))
        if p_end is not None:
            events.append((p_end, -1))
    # An end on the same day as another start frees the bed first.
    events.sort(key=lambda e: (e[0], e[1]))
    peak, peak_day, current = 0, start, 0
    for day, delta in events:
        current += delta
        if current > peak and (end is None or day < end):
            peak, peak_day = current, max(day, start)
    return peak, peak_day


@transaction.atomic
def placement_create(
    *,
    participant: Participant,
    place: CrisisPlace,
    start: date,
    end: date | None,
    reason: str,
    note: str = "",
    acting_user,
) -> CrisisPlacement:
    """Place a participant at a crisis place for a time.

    The tenancy is deliberately not touched: in Housing First the home is
    kept during the stay and the person moves back afterwards.
    """
    if end is not None and end < start:
        raise _error("end", "end_before_start")
    # Lock the place row: two placements at the same place are checked one
    # after the other, so the last free bed cannot be given twice.
    place = CrisisPlace.objects.select_for_update().get(pk=place.pk)
    if not place.is_active:
        raise _error("place", "place_inactive")
    Participant.objects.select_for_update().filter(pk=participant.pk).first()
    own = _overlapping(CrisisPlacement.objects.filter(participant=participant), start, end)
    clash = own.order_by("start").first()
    if clash is not None:
        raise _error(None, "placement_overlap", start=f"{clash.start:%Y-%m-%d}")
    if end is None or end > start:
        # Every stay at the place takes a bed, not only those of the people
        # the viewer's row scope shows (the message names none of them).
        with unscoped():
            periods = list(
                _overlapping(CrisisPlacement.objects.filter(place=place), start, end).values_list(
                    "start", "end"
                )
            )
        peak, day = _peak_occupancy(periods, start, end)
        if peak + 1 > place.capacity:
            raise _error(
                None,
                "over_capacity",
                place=place.name,
                day=f"{day:%Y-%m-%d}",
                capacity=place.capacity,
            )
    placement = CrisisPlacement(
        participant=participant, place=place, start=start, end=end, reason=reason, note=note
    )
    record_save(placement, acting_user=acting_user)
    return placement


@transaction.atomic
def placement_end(*, placement: CrisisPlacement, end: date, acting_user) -> CrisisPlacement:
    """Record the day the participant left the crisis place and went home.

    Only the placement changes; the tenancy was active all along.
    """
    if placement.end is not None:
        raise _error(None, "placement_already_ended")
    if end < placement.start:
        raise _error("end", "end_before_start")
    placement.end = end
    record_save(placement, acting_user=acting_user)
    return placement


# --- Meeting place ---------------------------------------------------------------


@transaction.atomic
def activity_create(*, title: str, date: date, description: str = "", acting_user) -> Activity:
    activity = Activity(title=title, date=date, description=description)
    record_save(activity, acting_user=acting_user)
    return activity


@transaction.atomic
def activity_set_attendance(
    *, activity: Activity, participants: Iterable[Participant], acting_user
) -> Activity:
    """Make the attendance list exactly ``participants``: rows are added and
    removed one by one so each change has its history and audit row."""
    wanted = {p.pk: p for p in participants}
    existing = {a.participant_id: a for a in activity.attendances.all()}
    for pk, attendance in existing.items():
        if pk not in wanted:
            record_delete(attendance, acting_user=acting_user)
    for pk, participant in wanted.items():
        if pk not in existing:
            record_save(
                Attendance(activity=activity, participant=participant), acting_user=acting_user
            )
    return activity
