"""Demo data for the support app: crisis places, action plans, about a year of
visits per housed participant, a few crisis placements, meeting-place
activities and outcome follow-ups. Fictional, deterministic and idempotent:
each part is created only where it is missing, so a second run changes
nothing.
"""

import random
from datetime import date, datetime, time, timedelta

from django.db.models import Min
from django.utils import timezone

from bostadforst.records import record_save
from housing.models import Tenancy
from participants.models import NetworkContact, Participant, ParticipantStatus

from . import services
from .models import (
    Activity,
    CrisisPlace,
    CrisisPlacement,
    GoalAction,
    LifeArea,
    PlannedVisit,
    SupportVisit,
)

CRISIS_PLACES = [
    ("Sviktplatsen Björkgården", "Björkvägen 4", 3),
    ("Akutplatsen Tallbacken", "Tallbacksgatan 12", 2),
    ("Stödboendet Ängen", "Ängsvägen 9", 2),
]

GOALS = [
    (
        LifeArea.HOUSING,
        "Jag vill bo kvar och ha det fint hemma.",
        "Städa tillsammans varannan vecka",
    ),
    (LifeArea.FINANCES, "Jag vill att hyran alltid är betald i tid.", "Autogiro för hyran"),
    (LifeArea.HEALTH, "Jag vill sova bättre och orka mer.", "Boka tid på vårdcentralen"),
    (
        LifeArea.SUBSTANCE_USE,
        "Jag vill dricka mindre på helgerna.",
        "Prata med beroendemottagningen",
    ),
    (LifeArea.SOCIAL_RELATIONS, "Jag vill träffa min syster oftare.", "Ringa syster varje söndag"),
    (
        LifeArea.OCCUPATION,
        "Jag vill ha något att göra på dagarna.",
        "Prova mötesplatsens aktiviteter",
    ),
]

NOTES = {
    SupportVisit.Kind.HOME_VISIT: [
        "Hembesök. Lägenheten i gott skick. Pratade om veckans inköp och post.",
        "Hembesök. Gick igenom räkningar tillsammans, hyran betald.",
        "Hembesök. Deltagaren trött men positiv, vill prova fisket på mötesplatsen.",
    ],
    SupportVisit.Kind.PHONE: [
        "Telefonsamtal. Bekräftade tid hos vårdcentralen på torsdag.",
        "Telefonsamtal. Deltagaren ringde om ett brev från hyresvärden; vi läser det ihop.",
    ],
    SupportVisit.Kind.ACCOMPANIMENT: [
        "Följde med till vårdcentralen. Ny tid om tre veckor.",
        "Följde med till Försäkringskassan för att lämna in ansökan.",
    ],
    SupportVisit.Kind.MEETING_PLACE: ["Träffades på mötesplatsen, matlagning i grupp."],
    SupportVisit.Kind.DIGITAL: ["Videosamtal. Gick igenom handlingsplanens mål."],
    SupportVisit.Kind.MISSED: ["Inställt besök, deltagaren var inte hemma. Lämnade lapp."],
}

KIND_WEIGHTS = [
    (SupportVisit.Kind.HOME_VISIT, 6),
    (SupportVisit.Kind.PHONE, 3),
    (SupportVisit.Kind.ACCOMPANIMENT, 2),
    (SupportVisit.Kind.MEETING_PLACE, 1),
    (SupportVisit.Kind.DIGITAL, 1),
    (SupportVisit.Kind.MISSED, 1),
]

ACTIVITIES = [
    ("Fiske vid sjön", "Vi lånar spön och fikar vid bryggan."),
    ("Matlagning", "Vi lagar soppa och bakar bröd tillsammans."),
    ("Målning", "Akvarell med en konstnär från studieförbundet."),
    ("Föreläsning: ekonomi i vardagen", "Budget- och skuldrådgivningen besöker oss."),
    ("Promenad och fika", "Runt sjön, sedan fika på mötesplatsen."),
]


def seed(*, users: dict) -> None:
    today = timezone.localdate()
    fallback = users.get("boendestodjare")
    places = _seed_places(users.get("admin") or fallback)
    # The demo caseload: housed participants with a support worker. Imported
    # historical cohorts (seeded later, without a worker) are left alone, so
    # a second run finds exactly the same people and changes nothing.
    housed = list(
        Participant.objects.filter(
            status=ParticipantStatus.HOUSED, support_worker__isnull=False
        ).order_by("pk")[:40]
    )
    move_ins = dict(
        Tenancy.objects.filter(participant__in=housed)
        .order_by("participant_id", "-move_in")
        .values_list("participant_id", "move_in")
    )
    for index, participant in enumerate(housed):
        rng = random.Random(7000 + index)
        worker = participant.support_worker
        start = max(
            move_ins.get(participant.pk, today - timedelta(days=365)), today - timedelta(days=365)
        )
        _seed_plan(participant, worker=worker, start=start, today=today, rng=rng, index=index)
        _seed_visits(participant, worker=worker, start=start, today=today, rng=rng)
    _seed_placements(housed, places=places, today=today, user=fallback)
    _seed_activities(housed, today=today, user=fallback)
    _seed_planned_visits(housed, today=today)
    _seed_follow_ups(housed, today=today)


def _seed_places(user) -> list[CrisisPlace]:
    out = []
    for name, address, capacity in CRISIS_PLACES:
        place = CrisisPlace.objects.filter(name=name).first()
        if place is None:
            place = record_save(
                CrisisPlace(name=name, address=address, capacity=capacity), acting_user=user
            )
        out.append(place)
    return out


def _seed_plan(participant, *, worker, start: date, today: date, rng, index: int) -> None:
    if participant.action_plans.exists():
        return
    contact = NetworkContact.objects.filter(participant=participant).order_by("pk").first()
    chosen = rng.sample(GOALS, 3)
    goals = []
    for area, text, action in chosen:
        actions = [services.ActionData(who=GoalAction.Who.TENANT, what=action)]
        actions.append(
            services.ActionData(
                who=GoalAction.Who.TEAM,
                staff=worker,
                what="Stötta och påminna vid hembesöken",
                how="Vid varje besök",
            )
        )
        if contact is not None and area in (LifeArea.HEALTH, LifeArea.SUBSTANCE_USE):
            actions.append(
                services.ActionData(
                    who=GoalAction.Who.PARTNER, partner=contact, what="Följa upp tillsammans"
                )
            )
        goals.append(services.GoalData(life_area=area, text=text, actions=actions))
    agreed = min(start + timedelta(days=14), today)
    # Every third plan is past its review date, so the flag shows in the demo.
    review = agreed + timedelta(days=90 if index % 3 == 0 else 180)
    plan = services.plan_create_version(
        participant=participant,
        agreed_on=agreed,
        review_on=max(review, agreed),
        on_breach="Vid kraftigt återfall: en tid på sviktplats, sedan hem igen. "
        "Teamet kontaktar hyresvärden och personligt ombud.",
        goals=goals,
        acting_user=worker,
    )
    if index % 2 == 1 and agreed + timedelta(days=120) < today:
        revised = services.plan_as_data(plan)
        revised[0].text += " Det går bättre nu."
        services.plan_create_version(
            participant=participant,
            agreed_on=agreed + timedelta(days=120),
            review_on=agreed + timedelta(days=300),
            on_breach=plan.on_breach,
            goals=revised,
            acting_user=worker,
        )


def _seed_visits(participant, *, worker, start: date, today: date, rng) -> None:
    """2–4 visits a month since the move-in (at most a year back). Written as
    the journal would hold them: created at the visit, signed the same day."""
    if participant.visits.exists():
        return
    kinds = [k for k, w in KIND_WEIGHTS for _ in range(w)]
    month = date(start.year, start.month, 1)
    tz = timezone.get_current_timezone()
    while month <= today:
        next_month = (month + timedelta(days=32)).replace(day=1)
        days = sorted(rng.sample(range(0, (next_month - month).days), rng.randint(2, 4)))
        for offset in days:
            day = month + timedelta(days=offset)
            if day < start or day >= today:
                continue
            kind = rng.choice(kinds)
            started = datetime.combine(
                day, time(rng.randint(9, 15), rng.choice([0, 15, 30, 45])), tz
            )
            visit = SupportVisit(
                participant=participant,
                started_at=started,
                duration_minutes=0
                if kind == SupportVisit.Kind.MISSED
                else rng.choice([15, 30, 45, 60, 90]),
                kind=kind,
                note=rng.choice(NOTES[kind]),
                author=worker,
                created_at=started + timedelta(hours=1),
                signed_at=started + timedelta(hours=2),
            )
            # Signed in the past, which visit_log cannot do: one history row,
            # holding the staff too.
            record_save(visit, acting_user=worker, m2m={"staff": [worker], "goals": []})
        month = next_month


def _seed_placements(housed, *, places, today: date, user) -> None:
    if CrisisPlacement.objects.exists() or user is None:
        return
    # Two finished stays and one ongoing, at different places.
    plan = [
        (1, places[0], today - timedelta(days=150), today - timedelta(days=138), "relapse"),
        (3, places[1], today - timedelta(days=60), today - timedelta(days=53), "mental_health"),
        (5, places[0], today - timedelta(days=4), None, "relapse"),
    ]
    for index, place, start, end, reason in plan:
        if index >= len(housed):
            continue
        participant = housed[index]
        services.placement_create(
            participant=participant,
            place=place,
            start=start,
            end=end,
            reason=reason,
            note="Kraftigt återfall; bostaden behålls, teamet håller kontakt med hyresvärden.",
            acting_user=participant.support_worker or user,
        )


def _seed_activities(housed, *, today: date, user) -> None:
    if Activity.objects.exists() or user is None:
        return
    rng = random.Random(4242)
    for weeks_ago in range(50, 0, -3):
        title, description = ACTIVITIES[weeks_ago % len(ACTIVITIES)]
        activity = services.activity_create(
            title=title,
            date=today - timedelta(weeks=weeks_ago),
            description=description,
            acting_user=user,
        )
        if housed:
            attendees = rng.sample(housed, min(len(housed), rng.randint(2, 6)))
            services.activity_set_attendance(
                activity=activity, participants=attendees, acting_user=user
            )


# (days from today, hour, minute, minutes, note, status) of each support
# worker's demo plans: one missed yesterday, two today, the rest of the week
# and later, and one called off, so that every group of "Planerade besök" and
# the start page's cards show something.
PLANNED = [
    (-1, 13, 0, 45, "", PlannedVisit.Status.PLANNED),
    (0, 9, 30, 45, "Ta med blanketterna från Försäkringskassan", PlannedVisit.Status.PLANNED),
    (0, 14, 0, 30, "", PlannedVisit.Status.PLANNED),
    (1, 10, 0, 60, "Följa med till vårdcentralen", PlannedVisit.Status.PLANNED),
    (2, 11, 0, None, "", PlannedVisit.Status.CANCELLED),
    (3, 15, 0, 45, "", PlannedVisit.Status.PLANNED),
    (9, 10, 30, 45, "Uppföljning av handlingsplanen", PlannedVisit.Status.PLANNED),
]


def _seed_planned_visits(housed, *, today: date) -> None:
    """A week of plans for each support worker with a demo caseload. Written
    through the write path as planned the day before (a plan for yesterday
    could not be made today)."""
    if PlannedVisit.objects.exists():
        return
    tz = timezone.get_current_timezone()
    by_worker: dict = {}
    for participant in housed:
        by_worker.setdefault(participant.support_worker, []).append(participant)
    for worker, people in sorted(by_worker.items(), key=lambda item: item[0].pk):
        for index, (days, hour, minute, minutes, note, status) in enumerate(PLANNED):
            day = today + timedelta(days=days)
            record_save(
                PlannedVisit(
                    participant=people[index % len(people)],
                    staff=worker,
                    planned_at=datetime.combine(day, time(hour, minute), tz),
                    duration_minutes=minutes,
                    note=note,
                    status=status,
                    created_by=worker,
                    created_at=timezone.now() - timedelta(days=2),
                ),
                acting_user=worker,
            )


def _seed_follow_ups(housed, *, today: date) -> None:
    """Outcome follow-ups (issue 18 item 2) for the first ten of the demo
    caseload: every six-month point since the first move-in, the latest one
    left out for every third person so that the page shows a follow-up due.
    Answers drift towards occupation and a first-hand contract over time."""
    from django.core.exceptions import ValidationError

    from . import outcomes
    from .models import OutcomeFollowUp

    if OutcomeFollowUp.objects.exists():
        return
    first = dict(
        Tenancy.objects.filter(participant__in=housed[:10])
        .order_by()
        .values("participant_id")
        .annotate(first=Min("move_in"))
        .values_list("participant_id", "first")
    )
    occupations = ["none", "none", "day_activity", "work_training", "studies", "employment"]
    for index, participant in enumerate(housed[:10]):
        moved_in = first.get(participant.pk)
        if moved_in is None:
            continue
        rng = random.Random(9100 + index)
        points = []
        months = 0
        while outcomes.add_months(moved_in, months) <= today and months <= 48:
            points.append(months)
            months += outcomes.POINT_STEP
        if index % 3 == 0 and len(points) > 1:
            points.pop()
        for step, months in enumerate(points):
            progress = min(step + rng.randint(0, 2), len(occupations) - 1)
            try:
                outcomes.follow_up_record(
                    participant=participant,
                    acting_user=participant.support_worker,
                    date=outcomes.add_months(moved_in, months),
                    occupation=occupations[progress],
                    income_source="financial_assistance" if progress < 4 else "salary",
                    addiction_care=rng.choice(["yes", "yes", "no", "unknown"]),
                    psychiatric_care=rng.choice(["yes", "no", "no", "unknown"]),
                    quality_of_life=min(10, 3 + step + rng.randint(0, 2)),
                    own_words="Det känns tryggare att ha en egen dörr att stänga." if step else "",
                    contract_form="first_hand" if step >= 4 else "social",
                )
            except ValidationError:
                # A person under restricted processing gets none.
                break
