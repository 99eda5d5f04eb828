"""What the support app adds to the participant page (owned by participants/):
a section with the action plan, recent visits and any crisis placement, and
timeline entries. Registered in ``SupportConfig.ready()``.

Social workers get a summary only: whether there is a plan and when it is
reviewed, and when the team last had contact. Never a journal note, a goal,
a placement or its reason.
"""

from datetime import timedelta

from django.db.models import Max
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext

from bostadforst.registry import ParticipantSection, TimelineEvent
from bostadforst.roles import Role, role_of

from .models import ActionPlan, Attendance, CrisisPlacement, SupportVisit
from .planning import next_planned_visit
from .selectors import is_team, review_status

DEFAULT_LIMIT = 50


def section_context(participant, *, user) -> dict | None:
    """The support section: five queries for the team, two for a social worker."""
    today = timezone.localdate()
    role = role_of(user)
    if role == Role.SOCIAL_WORKER:
        plan = (
            ActionPlan.objects.filter(participant=participant)
            .order_by("-number")
            .values("number", "agreed_on", "review_on")
            .first()
        )
        last_contact = (
            SupportVisit.objects.filter(participant=participant)
            .exclude(kind=SupportVisit.Kind.MISSED)
            .aggregate(last=Max("started_at"))["last"]
        )
        return {
            "participant": participant,
            "summary_only": True,
            "plan": plan,
            "review_status": review_status(plan["review_on"] if plan else None, today=today),
            "last_contact": last_contact,
        }
    if not is_team(user):
        return None
    plan = ActionPlan.objects.filter(participant=participant).order_by("-number").first()
    visits = list(
        SupportVisit.objects.filter(participant=participant)
        .select_related("author")
        .order_by("-started_at", "-pk")[:5]
    )
    placement = (
        CrisisPlacement.objects.filter(participant=participant, end__isnull=True)
        .select_related("place")
        .first()
    )
    attended = Attendance.objects.filter(
        participant=participant, activity__date__gte=today - timedelta(days=365)
    ).count()
    next_plan = next_planned_visit(participant=participant, now=timezone.now())
    return {
        "participant": participant,
        "summary_only": False,
        "plan": plan,
        "review_status": review_status(plan.review_on if plan else None, today=today),
        "visits": visits,
        "open_placement": placement,
        "activities_last_year": attended,
        "next_plan": next_plan,
    }


SECTION = ParticipantSection(
    key="support",
    order=30,
    template="support/_partials/participant_section.html",
    context=section_context,
)


def _slice(qs, *, limit, offset):
    limit = max(0, min(int(limit or DEFAULT_LIMIT), 500))
    offset = max(0, int(offset or 0))
    return qs[offset : offset + limit]


def plan_timeline(participant, *, user, limit=DEFAULT_LIMIT, offset=0, **kwargs):
    """Plan versions. A social worker sees that a plan was agreed, nothing more."""
    role = role_of(user)
    if not (is_team(user) or role == Role.SOCIAL_WORKER):
        return []
    qs = (
        ActionPlan.objects.filter(participant=participant)
        .only("pk", "number", "agreed_on", "review_on")
        .order_by("-agreed_on", "-number")
    )
    team = is_team(user)
    return [
        TimelineEvent(
            when=plan.agreed_on,
            kind=gettext("Action plan"),
            title=gettext("Action plan version %(number)s agreed") % {"number": plan.number},
            url=reverse("support:plan-detail", kwargs={"pk": plan.pk}) if team else "",
            detail=(gettext("Next review %(date)s") % {"date": f"{plan.review_on:%Y-%m-%d}"})
            if team
            else "",
            sort_key=(plan.number,),
        )
        for plan in _slice(qs, limit=limit, offset=offset)
    ]


def visit_timeline(participant, *, user, limit=DEFAULT_LIMIT, offset=0, **kwargs):
    """Visits, for the team only; the note itself stays on the visit's page."""
    if not is_team(user):
        return []
    qs = (
        SupportVisit.objects.filter(participant=participant)
        .select_related("author")
        .only(
            "pk",
            "started_at",
            "duration_minutes",
            "kind",
            "signed_at",
            "corrects_id",
            "author__first_name",
            "author__last_name",
            "author__username",
        )
        .order_by("-started_at", "-pk")
    )
    events = []
    for visit in _slice(qs, limit=limit, offset=offset):
        title = gettext("%(kind)s, %(minutes)s min") % {
            "kind": visit.get_kind_display(),
            "minutes": visit.duration_minutes,
        }
        if visit.corrects_id:
            title = gettext("Correction: %(title)s") % {"title": title}
        events.append(
            TimelineEvent(
                when=visit.started_at,
                kind=gettext("Support visit"),
                title=title,
                url=reverse("support:visit-detail", kwargs={"pk": visit.pk}),
                detail=gettext("Written by %(author)s") % {"author": visit.author},
                sort_key=(visit.pk,),
            )
        )
    return events


def placement_timeline(participant, *, user, limit=DEFAULT_LIMIT, offset=0, **kwargs):
    """Crisis placements, for the team only (the reason is sensitive)."""
    if not is_team(user):
        return []
    qs = (
        CrisisPlacement.objects.filter(participant=participant)
        .select_related("place")
        .order_by("-start", "-pk")
    )
    events = []
    for placement in _slice(qs, limit=limit, offset=offset):
        if placement.end:
            detail = gettext("%(start)s–%(end)s, then home again") % {
                "start": f"{placement.start:%Y-%m-%d}",
                "end": f"{placement.end:%Y-%m-%d}",
            }
        else:
            detail = gettext("From %(start)s, ongoing") % {"start": f"{placement.start:%Y-%m-%d}"}
        events.append(
            TimelineEvent(
                when=placement.start,
                kind=gettext("Crisis placement"),
                title=gettext("Crisis placement at %(place)s") % {"place": placement.place.name},
                url=reverse("support:placement-detail", kwargs={"pk": placement.pk}),
                detail=detail,
                sort_key=(placement.pk,),
            )
        )
    return events


def activity_timeline(participant, *, user, limit=DEFAULT_LIMIT, offset=0, **kwargs):
    """Meeting-place activities the participant took part in (team only)."""
    if not is_team(user):
        return []
    qs = (
        Attendance.objects.filter(participant=participant)
        .select_related("activity")
        .order_by("-activity__date", "-pk")
    )
    return [
        TimelineEvent(
            when=a.activity.date,
            kind=gettext("Meeting place"),
            title=a.activity.title,
            url=reverse("support:activity-detail", kwargs={"pk": a.activity_id}),
            sort_key=(a.pk,),
        )
        for a in _slice(qs, limit=limit, offset=offset)
    ]


TIMELINE_SOURCES = [plan_timeline, visit_timeline, placement_timeline, activity_timeline]
