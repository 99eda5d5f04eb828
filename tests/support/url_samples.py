"""Arguments and POST data for every support URL that takes them, for the
walking tests."""

from datetime import timedelta

from django.utils import timezone

from participants.models import Participant, ParticipantStatus
from support import planning, services
from support.models import (
    ActionPlan,
    Activity,
    CrisisPlace,
    CrisisPlacement,
    GoalAction,
    LifeArea,
    PlannedVisit,
    SupportVisit,
)
from support.selectors import participant_choices, plan_current

DATETIME_LOCAL = "%Y-%m-%dT%H:%M"


def _housed(world):
    return Participant.objects.filter(status=ParticipantStatus.HOUSED).order_by("pk").first()


def _visit(world):
    return SupportVisit.objects.order_by("pk").first()


def _open_visit(world) -> SupportVisit:
    """An entry its author may still change and sign (the demo journal is all
    signed): unsigned and fresh, written by the demo support worker, the
    first role the walks use for team pages. Logged here when there is none."""
    author = world.support_staff
    visit = (
        SupportVisit.objects.filter(author=author, signed_at__isnull=True)
        .order_by("-created_at", "-pk")
        .first()
    )
    if visit is not None and not visit.is_locked:
        return visit
    return services.visit_log(
        participant=_housed(world),
        started_at=timezone.localtime().replace(second=0, microsecond=0),
        duration_minutes=30,
        kind=SupportVisit.Kind.HOME_VISIT,
        staff=[author],
        note="Hembesök. Pratade om veckans inköp.",
        sign=False,
        acting_user=author,
    )


def _undoable_visit(world) -> SupportVisit:
    """A visit the demo support worker saved moments ago (still within its
    undo window): the latest of theirs when it still is, else a new one."""
    author = world.support_staff
    visit = SupportVisit.objects.filter(author=author).order_by("-created_at", "-pk").first()
    if visit is not None and visit.can_undo() and not visit.corrections.exists():
        return visit
    return services.visit_log(
        participant=_housed(world),
        started_at=timezone.localtime().replace(second=0, microsecond=0),
        duration_minutes=15,
        kind=SupportVisit.Kind.PHONE,
        staff=[author],
        note="Telefonsamtal. Fel person vald, ångras.",
        sign=True,
        acting_user=author,
    )


def _open_plan(world) -> PlannedVisit:
    """An open plan of the demo support worker for today (so it can be
    logged); planned here when there is none."""
    worker = world.support_staff
    start = timezone.localtime().replace(hour=0, minute=0, second=0, microsecond=0)
    plan = (
        PlannedVisit.objects.filter(
            staff=worker,
            status=PlannedVisit.Status.PLANNED,
            planned_at__gte=start,
            planned_at__lt=start + timedelta(days=1),
        )
        .order_by("pk")
        .first()
    )
    if plan is not None:
        return plan
    return planning.planned_visit_create(
        participant=_housed(world),
        staff=worker,
        planned_at=start.replace(hour=0, minute=5),
        duration_minutes=30,
        note="Ta med blanketterna",
        acting_user=worker,
    )


def _plan(world):
    return ActionPlan.objects.order_by("pk").first()


def _placement(world):
    return CrisisPlacement.objects.order_by("end", "pk").first()


def _ongoing_placement(world):
    return CrisisPlacement.objects.filter(end__isnull=True).order_by("pk").first() or _placement(
        world
    )


def _activity(world):
    return Activity.objects.order_by("pk").first()


SAMPLES = {
    "support:visit-detail": lambda world: {"pk": _visit(world).pk},
    "support:visit-edit": lambda world: {"pk": _open_visit(world).pk},
    "support:visit-sign": lambda world: {"pk": _open_visit(world).pk},
    "support:visit-correct": lambda world: {"pk": _visit(world).pk},
    "support:visit-undo": lambda world: {"pk": _undoable_visit(world).pk},
    "support:planned-visit-detail": lambda world: {"pk": _open_plan(world).pk},
    "support:planned-visit-log": lambda world: {"pk": _open_plan(world).pk},
    "support:planned-visit-cancel": lambda world: {"pk": _open_plan(world).pk},
    "support:visit-list": lambda world: {"participant_pk": _housed(world).pk},
    "support:plan-list": lambda world: {"participant_pk": _housed(world).pk},
    "support:plan-create": lambda world: {"participant_pk": _housed(world).pk},
    "support:outcome-follow-up-create": lambda world: {"pk": _housed(world).pk},
    "support:plan-detail": lambda world: {"pk": _plan(world).pk},
    "support:plan-print": lambda world: {"pk": _plan(world).pk},
    "support:plan-pdf": lambda world: {"pk": _plan(world).pk},
    "support:placement-detail": lambda world: {"pk": _placement(world).pk},
    "support:placement-end": lambda world: {"pk": _ongoing_placement(world).pk},
    "support:activity-detail": lambda world: {"pk": _activity(world).pk},
    "support:activity-attendance": lambda world: {"pk": _activity(world).pk},
}


# --- Valid POST data for the form pages (tests/bostadforst/test_submit_walks.py) --


def _now() -> str:
    return timezone.localtime().strftime(DATETIME_LOCAL)


def _today() -> str:
    return timezone.localdate().isoformat()


def _visit_quick_log(world) -> dict:
    return {
        "participant": str(_housed(world).pk),
        "kind": SupportVisit.Kind.HOME_VISIT,
        "started_at": _now(),
        "duration_minutes": "30",
        "staff": [str(world.support_staff.pk)],
        "note": "Hembesök. Gick igenom räkningar tillsammans, hyran betald.",
        "sign": "on",
    }


def _visit_edit(world) -> dict:
    visit = _open_visit(world)
    return {
        "kind": visit.kind,
        "started_at": timezone.localtime(visit.started_at).strftime(DATETIME_LOCAL),
        "duration_minutes": str(visit.duration_minutes),
        "staff": [str(pk) for pk in visit.staff.values_list("pk", flat=True)],
        "note": "Hembesök. Kompletterat: pratade även om posten.",
        "version": str(visit.version),
    }


def _visit_correct(world) -> dict:
    original = _visit(world)
    return {
        "kind": original.kind,
        "started_at": timezone.localtime(original.started_at).strftime(DATETIME_LOCAL),
        "duration_minutes": str(original.duration_minutes),
        "staff": [str(world.support_staff.pk)],
        "note": "Rättelse: besöket var ett telefonsamtal.",
        "sign": "on",
    }


def _planned_visit_create(world) -> dict:
    tomorrow = timezone.localtime() + timedelta(days=1)
    return {
        "participant": str(_housed(world).pk),
        "planned_at": tomorrow.replace(hour=14, minute=30).strftime(DATETIME_LOCAL),
        "duration_minutes": "45",
        "staff": str(world.support_staff.pk),
        "note": "Ta med blanketterna",
    }


def _planned_visit_log(world) -> dict:
    plan = _open_plan(world)
    return {
        "kind": SupportVisit.Kind.HOME_VISIT,
        "started_at": timezone.localtime(plan.planned_at).strftime(DATETIME_LOCAL),
        "duration_minutes": "30",
        "staff": [str(plan.staff_id)],
        "note": "Hembesök enligt plan. Gick igenom posten.",
        "sign": "on",
    }


def _plan_create(world) -> dict:
    current = plan_current(participant=_housed(world))
    return {
        "based_on": str(current.number if current else 0),
        "agreed_on": _today(),
        "review_on": (timezone.localdate() + timedelta(days=180)).isoformat(),
        "on_breach": "Sviktplats en tid, sedan hem igen.",
        "goal-TOTAL_FORMS": "1",
        "goal-INITIAL_FORMS": "0",
        "goal-0-life_area": LifeArea.FINANCES,
        "goal-0-text": "Jag vill att hyran alltid är betald i tid.",
        "goal-0-action-TOTAL_FORMS": "1",
        "goal-0-action-INITIAL_FORMS": "0",
        "goal-0-action-0-who": GoalAction.Who.TENANT,
        "goal-0-action-0-what": "Autogiro för hyran",
    }


def _placement_create(world) -> dict:
    """Someone with no stay at all, at a place with no ongoing stay."""
    participant = (
        participant_choices(user=world.support_staff).filter(crisis_placements__isnull=True).first()
    )
    place = (
        CrisisPlace.objects.filter(is_active=True)
        .exclude(placements__end__isnull=True)
        .order_by("pk")
        .first()
    )
    return {
        "participant": str(participant.pk),
        "place": str(place.pk),
        "start": _today(),
        "end": "",
        "reason": CrisisPlacement.Reason.RELAPSE,
        "note": "Kraftigt återfall; bostaden behålls.",
    }


def _activity_attendance(world) -> dict:
    """Who took part already, and one more."""
    activity = _activity(world)
    attending = set(activity.attendances.values_list("participant_id", flat=True))
    newcomer = participant_choices(user=world.support_staff).exclude(pk__in=attending).first().pk
    return {"participants": [str(pk) for pk in sorted(attending | {newcomer})]}


FORM_SAMPLES = {
    "support:visit-quick-log": _visit_quick_log,
    "support:visit-edit": _visit_edit,
    "support:visit-sign": lambda world: {"version": str(_open_visit(world).version)},
    "support:visit-correct": _visit_correct,
    "support:visit-undo": lambda world: {},
    "support:planned-visit-create": _planned_visit_create,
    "support:planned-visit-log": _planned_visit_log,
    "support:planned-visit-cancel": lambda world: {"version": str(_open_plan(world).version)},
    "support:calendar": lambda world: {},
    "support:plan-create": _plan_create,
    "support:placement-create": _placement_create,
    "support:outcome-follow-up-create": lambda world: {
        "date": timezone.localdate().isoformat(),
        "occupation": "day_activity",
        "income_source": "financial_assistance",
        "addiction_care": "yes",
        "psychiatric_care": "unknown",
        "quality_of_life": "6",
        "own_words": "Lugnare nu.",
        "contract_form": "social",
    },
    "support:placement-end": lambda world: {
        "end": _today(),
        "version": str(_ongoing_placement(world).version),
    },
    "support:activity-create": lambda world: {
        "title": "Boule i parken",
        "date": _today(),
        "description": "Vi spelar boule och fikar efteråt.",
    },
    "support:activity-attendance": _activity_attendance,
}
