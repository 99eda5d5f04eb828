"""Municipal-scale demo data: ``manage.py seed_demo --participants N --seed S``.

A caseload the size of a large municipality's (N = 10,000 people), over the
three years before the day of the run: a referral each (with its events and
eligibility answers), network contacts, apartments let and re-let without
overlaps, tenancies (some moved to another Housing First apartment, some
ended for every exit reason), incidents (a few still open: the eviction-risk
list), versioned action plans with goals and actions, about 100 support visits
a person with support, crisis placements within the places' capacity, and the
meeting place's weekly activities. Support staff, social workers and the
manager are as many as such a caseload needs (a support worker has about
twelve people).

Everything is written through ``bostadforst.records.record_bulk_create``:
change history and an access-log row for every record, dated when the record
was made, without a query per row. The rows are valid by construction (the
test ``tests/reports/test_scale.py`` runs every model's ``full_clean`` on a
small caseload), so the per-row validation is skipped.

Deterministic: the same ``seed`` on the same day gives the same people, dates
and texts (ids depend on the database). Personnummer come from
``participants.personnummer.generate``, the demo's made-up numbers.
"""

from __future__ import annotations

import math
import random
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal

from django.contrib.auth.models import Group
from django.db import connection, transaction
from django.utils import timezone

from bostadforst.models import User
from bostadforst.records import record_bulk_create, record_save
from bostadforst.roles import Role
from housing.demo import LANDLORDS
from housing.models import Apartment, ContractType, ExitReason, Landlord, Tenancy, TenancyIncident
from participants.demo import DESCRIPTIONS, FIRST_NAMES, LAST_NAMES, STREETS
from participants.models import (
    Answer,
    Criterion,
    EligibilityAssessment,
    HousingSituation,
    NetworkContact,
    Participant,
    ParticipantStatus,
    Referral,
    ReferralEvent,
    ReferralStatus,
    SupportNeed,
    TargetGroup,
    TargetGroupCode,
    TemporaryArrangement,
)
from participants.personnummer import birth_date, generate
from support.demo import ACTIVITIES, CRISIS_PLACES, GOALS, KIND_WEIGHTS, NOTES
from support.models import (
    ActionPlan,
    Activity,
    Attendance,
    CrisisPlace,
    CrisisPlacement,
    Goal,
    GoalAction,
    SupportVisit,
)

HISTORY_DAYS = 3 * 365
CHUNK = 200  # people generated and written together (bounded memory)
PEOPLE_PER_SUPPORT_WORKER = 12
PEOPLE_PER_SOCIAL_WORKER = 60
VISITS_PER_PERSON = (100, 160)  # over a housed person's time with support
EXTRA_PLACE_EVERY = 400  # people per additional crisis place of five beds

# How the caseload stands today (participant phase, weight).
STORIES = [
    ("housed", 62),
    ("exited", 12),
    ("approved", 8),
    ("assessing", 5),
    ("referred", 4),
    ("declined", 5),
    ("withdrawn", 4),
]
EXIT_REASONS = [
    (ExitReason.MOVED_ON, 30),
    (ExitReason.EVICTED, 12),
    (ExitReason.TERMINATED, 8),
    (ExitReason.HOMELESSNESS, 10),
    (ExitReason.INSTITUTION, 10),
    (ExitReason.DECEASED, 8),
    (ExitReason.LOST_CONTACT, 12),
    (ExitReason.OTHER, 10),
]
INCIDENT_TEXT = {
    TenancyIncident.Kind.RENT_ARREARS: "Hyran obetald; hyresvärden har skickat påminnelse.",
    TenancyIncident.Kind.DISTURBANCE: "Grannar har klagat på hög musik sent på kvällen.",
    TenancyIncident.Kind.DAMAGE: "Skada på köksluckor; hyresvärden vill se över.",
    TenancyIncident.Kind.LANDLORD_CONTACT: "Hyresvärden ringde teamet om trapphuset.",
    TenancyIncident.Kind.NOTICE: "Uppsägning av hyresavtalet har skickats.",
}
RELATIONS = [
    (NetworkContact.Relation.PERSONAL_REPRESENTATIVE, "Personligt ombud", "Kommunen"),
    (NetworkContact.Relation.PSYCHIATRY, "Psykiatrisk öppenvård", "Regionen"),
    (NetworkContact.Relation.ADDICTION_CLINIC, "Beroendemottagningen", "Regionen"),
    (NetworkContact.Relation.FAMILY, "Syster", ""),
    (NetworkContact.Relation.FRIEND, "Vän", ""),
]


def _weighted(pairs) -> list:
    return [value for value, weight in pairs for _ in range(weight)]


@dataclass
class Staff:
    support: list[User]
    social: list[User]
    manager: User


@dataclass
class Person:
    """One generated person and the records made for them (unsaved until written)."""

    story: str
    participant: Participant
    worker: User | None
    referral: Referral | None = None
    tenancies: list[Tenancy] = field(default_factory=list)


@dataclass
class Batch:
    """The unsaved records of one chunk of people, in writing order."""

    people: list[Person] = field(default_factory=list)
    target_groups: list[dict] = field(default_factory=list)
    referrals: list[Referral] = field(default_factory=list)
    events: list[ReferralEvent] = field(default_factory=list)
    assessments: list[EligibilityAssessment] = field(default_factory=list)
    contacts: list[NetworkContact] = field(default_factory=list)
    apartments: list[Apartment] = field(default_factory=list)
    tenancies: list[Tenancy] = field(default_factory=list)
    incidents: list[TenancyIncident] = field(default_factory=list)
    plans: list[ActionPlan] = field(default_factory=list)
    goals: list[Goal] = field(default_factory=list)
    actions: list[GoalAction] = field(default_factory=list)
    visits: list[SupportVisit] = field(default_factory=list)
    visit_m2m: list[dict] = field(default_factory=list)
    placements: list[CrisisPlacement] = field(default_factory=list)


class CaseloadGenerator:
    """Draws the caseload from one ``random.Random(seed)``; the draws never
    depend on database ids, so a seed gives the same data in any database."""

    def __init__(self, *, participants: int, seed: int, staff: Staff, today: date) -> None:
        self.n = participants
        self.rng = random.Random(seed)
        self.staff = staff
        self.today = today
        self.start = today - timedelta(days=HISTORY_DAYS)
        self.tz = timezone.get_current_timezone()
        self.now = timezone.now()
        self.numbers: set[str] = set()
        self.stories = _weighted(STORIES)
        self.exit_reasons = _weighted(EXIT_REASONS)
        self.kinds = _weighted(KIND_WEIGHTS)
        self.groups = {g.code: g for g in TargetGroup.objects.all()}
        self.landlords: list[Landlord] = []
        self.places: list[CrisisPlace] = []
        # Apartments whose last tenancy has ended: (free from, apartment).
        self.free_apartments: list[tuple[date, Apartment]] = []
        self.apartment_count = 0
        # Beds taken per place and day (index: days since self.start).
        self.occupancy: dict[int, list[int]] = {}
        # (participant, first day, last day) of housed people, for activities.
        self.attendable: list[tuple[Participant, date, date]] = []

    # --- helpers ----------------------------------------------------------------------

    def at(self, day: date, hour: int, minute: int = 0) -> datetime:
        return datetime.combine(day, time(hour, minute), self.tz)

    def day_between(self, first: date, last: date) -> date:
        if last <= first:
            return first
        return first + timedelta(days=self.rng.randint(0, (last - first).days))

    def personnummer(self) -> str:
        while True:
            number = generate(self.rng, born_from=date(1955, 1, 1), born_to=date(2003, 12, 31))
            if number not in self.numbers:
                self.numbers.add(number)
                return number

    # --- one person ---------------------------------------------------------------------

    def person(self, index: int, batch: Batch) -> None:
        rng, today = self.rng, self.today
        story = rng.choice(self.stories)
        # When the referral came, by how the case stands today.
        if story in {"housed", "exited"}:
            move_in = self.day_between(self.start + timedelta(days=200), today - timedelta(days=14))
            referral_date = move_in - timedelta(days=rng.randint(45, 200))
        elif story == "approved":
            referral_date = today - timedelta(days=rng.randint(30, 200))
        elif story == "assessing":
            referral_date = today - timedelta(days=rng.randint(8, 60))
        elif story == "referred":
            referral_date = today - timedelta(days=rng.randint(0, 7))
        else:
            referral_date = self.day_between(self.start, today - timedelta(days=20))
        number = self.personnummer()
        born = birth_date(number)
        first = rng.choice(FIRST_NAMES)
        last = rng.choice(LAST_NAMES)
        registered = max(
            referral_date - timedelta(days=rng.randint(200, 365 * 15)), born + timedelta(days=365)
        )
        groups = [TargetGroupCode.LONG_TERM_HOMELESS]
        if rng.random() < 0.35:
            groups.append(TargetGroupCode.COMPLEX_NEEDS)
        if born.year >= 1998:
            groups.append(TargetGroupCode.YOUNG_ADULTS)
        elif born.year <= 1960:
            groups.append(TargetGroupCode.ELDERLY)
        children = rng.randint(1, 3) if rng.random() < 0.08 else 0
        if children:
            groups.append(TargetGroupCode.FAMILIES)
        has_worker = story in {"housed", "exited", "approved", "assessing"}
        worker = self.staff.support[index % len(self.staff.support)] if has_worker else None
        social = self.staff.social[index % len(self.staff.social)]
        created = self.at(referral_date, rng.randint(8, 15), rng.choice([0, 15, 30, 45]))
        phone = f"070-{rng.randint(100, 999)} {rng.randint(10, 99)} {rng.randint(10, 99)}"
        address = f"{rng.choice(STREETS)} {rng.randint(1, 80)}"
        participant = Participant(
            personnummer=number,
            first_name=first,
            last_name=last,
            phone=phone,
            postal_address=address,
            registered_since=registered,
            children_in_household=children,
            support_worker=worker,
            status={
                "housed": ParticipantStatus.HOUSED,
                "exited": ParticipantStatus.EXITED,
                "approved": ParticipantStatus.APPROVED,
                "assessing": ParticipantStatus.ASSESSING,
                "referred": ParticipantStatus.REFERRED,
                "declined": ParticipantStatus.EXITED,
                "withdrawn": ParticipantStatus.EXITED,
            }[story],
            created_at=created,
        )
        person = Person(story=story, participant=participant, worker=worker)
        batch.people.append(person)
        batch.target_groups.append({"target_groups": [self.groups[c] for c in groups]})
        self.referral(person, batch, social=social, day=referral_date, created=created)
        if story in {"housed", "exited"}:
            self.housing(person, batch, move_in=move_in)
            self.plans_and_visits(person, batch)
        elif story == "approved":
            self.visits(
                person,
                batch,
                person.referral.decided_at.date() + timedelta(days=1),
                today,
                count=rng.randint(2, 10),
                goals_by_day=[],
            )
        if person.referral and story not in {"referred"}:
            self.contacts(person, batch, referral_date)

    def referral(self, person: Person, batch: Batch, *, social, day: date, created) -> None:
        rng = self.rng
        p = person.participant
        situation = rng.choice(
            [HousingSituation.ACUTE] * 3
            + [HousingSituation.INSTITUTION, HousingSituation.SOCIAL_SOLUTION]
            + [HousingSituation.SHORT_TERM_OWN]
        )
        arrangement = ""
        since = day - timedelta(days=rng.randint(30, 2000))
        if situation == HousingSituation.SHORT_TERM_OWN:
            arrangement = TemporaryArrangement.FRIENDS
            since = day - timedelta(days=rng.randint(10, 85))
        status = {
            "housed": ReferralStatus.APPROVED,
            "exited": ReferralStatus.APPROVED,
            "approved": ReferralStatus.APPROVED,
            "assessing": ReferralStatus.ASSESSING,
            "referred": ReferralStatus.SUBMITTED,
            "declined": ReferralStatus.DECLINED,
            "withdrawn": ReferralStatus.WITHDRAWN,
        }[person.story]
        decided_on = None
        if status in {ReferralStatus.APPROVED, ReferralStatus.DECLINED}:
            latest = self.today - timedelta(days=1)
            decided_on = min(day + timedelta(days=rng.randint(20, 40)), latest)
        referral = Referral(
            participant=p,
            referred_by=social,
            referral_date=day,
            housing_situation=situation,
            temporary_arrangement=arrangement,
            situation_since=since,
            support_need=rng.choice(list(SupportNeed.values)),
            description=rng.choice(DESCRIPTIONS),
            status=status,
            applicant_personnummer=p.personnummer,
            applicant_first_name=p.first_name,
            applicant_last_name=p.last_name,
            applicant_phone=p.phone,
            applicant_postal_address=p.postal_address,
            applicant_registered_since=p.registered_since,
            applicant_children_in_household=p.children_in_household,
            decided_by=self.staff.manager if decided_on else None,
            decided_at=self.at(decided_on, 14) if decided_on else None,
            decline_reason="Bedöms inte tillhöra målgruppen; annan insats föreslås."
            if status == ReferralStatus.DECLINED
            else "",
            created_at=created,
        )
        person.referral = referral
        batch.referrals.append(referral)
        events = [(ReferralEvent.Kind.TRANSITION, "", ReferralStatus.SUBMITTED, day, social)]
        assessor = person.worker or self.staff.support[0]
        started = min(day + timedelta(days=rng.randint(2, 7)), self.today)
        if status != ReferralStatus.SUBMITTED and status != ReferralStatus.WITHDRAWN:
            events.append(
                (ReferralEvent.Kind.TRANSITION, ReferralStatus.SUBMITTED,
                 ReferralStatus.ASSESSING, started, assessor)
            )  # fmt: skip
            events.append((ReferralEvent.Kind.INTERVIEW_HELD, "", "", started, assessor))
            answers = self.answers(status)
            for criterion, answer in answers.items():
                batch.assessments.append(
                    EligibilityAssessment(
                        referral=referral,
                        criterion=criterion,
                        answer=answer,
                        assessor=assessor if answer != Answer.UNKNOWN else None,
                        assessed_on=started if answer != Answer.UNKNOWN else None,
                        created_at=self.at(started, 15),
                    )
                )
        if decided_on:
            events.append(
                (ReferralEvent.Kind.TRANSITION, ReferralStatus.ASSESSING, status, decided_on,
                 self.staff.manager)
            )  # fmt: skip
        if status == ReferralStatus.WITHDRAWN:
            withdrawn = min(day + timedelta(days=rng.randint(3, 30)), self.today)
            events.append(
                (ReferralEvent.Kind.TRANSITION, ReferralStatus.SUBMITTED, status, withdrawn,
                 social)
            )  # fmt: skip
        for kind, before, after, on, by in events:
            batch.events.append(
                ReferralEvent(
                    referral=referral,
                    kind=kind,
                    from_status=before,
                    to_status=after,
                    occurred_on=on,
                    created_by=by,
                    created_at=self.at(on, 16),
                )
            )

    def answers(self, status: str) -> dict[str, str]:
        if status == ReferralStatus.APPROVED:
            return dict.fromkeys(Criterion.values, Answer.MET)
        if status == ReferralStatus.DECLINED:
            answers = dict.fromkeys(Criterion.values, Answer.MET)
            answers[self.rng.choice(Criterion.values)] = Answer.NOT_MET
            return answers
        return {c: self.rng.choice([Answer.MET, Answer.UNKNOWN]) for c in Criterion.values}

    def contacts(self, person: Person, batch: Batch, day: date) -> None:
        for relation, name, organisation in self.rng.sample(RELATIONS, self.rng.randint(1, 3)):
            batch.contacts.append(
                NetworkContact(
                    participant=person.participant,
                    name=f"{name} {self.rng.choice(LAST_NAMES)}",
                    relation=relation,
                    organisation=organisation,
                    phone=f"026-{self.rng.randint(10, 99)} {self.rng.randint(10, 99)} "
                    f"{self.rng.randint(10, 99)}",
                    consent_to_contact=self.rng.random() < 0.8,
                    created_at=self.at(day, 11),
                )
            )

    # --- housing ------------------------------------------------------------------------

    def apartment(self, move_in: date, batch: Batch) -> Apartment:
        """An apartment free from ``move_in``: one whose last tenancy ended by
        then (the same day at the latest: half-open periods), else a new one."""
        free = self.free_apartments
        for _ in range(8):
            if not free:
                break
            i = self.rng.randrange(len(free))
            free_from, flat = free[i]
            if free_from <= move_in:
                free[i] = free[-1]
                free.pop()
                return flat
        self.apartment_count += 1
        name = self.rng.choice(list(LANDLORDS))
        _contact, _phone, _mail, city, postcodes, streets = LANDLORDS[name]
        flat = Apartment(
            landlord=next(lord for lord in self.landlords if lord.name == name),
            address=f"{self.rng.choice(streets)} {self.rng.randint(1, 90)}, "
            f"lgh {1000 + self.apartment_count}",
            postal_code=self.rng.choice(postcodes),
            city=city,
            rooms=Decimal(self.rng.choice([1, 1, 2, 2, 3])),
            size_sqm=Decimal(self.rng.randint(28, 75)),
            monthly_rent=Decimal(self.rng.randint(45, 95) * 100),
            created_at=self.at(self.start - timedelta(days=30), 9),
        )
        batch.apartments.append(flat)
        return flat

    def housing(self, person: Person, batch: Batch, *, move_in: date) -> None:
        rng, today = self.rng, self.today
        # Approved before the move-in (the referral is decided 20–40 days in).
        decided = person.referral.decided_at.date()
        move_in = max(move_in, decided + timedelta(days=1))
        periods = []
        start = move_in
        if rng.random() < 0.15 and (today - start).days > 200:
            # Moved to another Housing First apartment on the same day.
            end = start + timedelta(days=rng.randint(90, (today - start).days - 30))
            periods.append((start, end, ExitReason.OTHER_HF_APARTMENT))
            start = end
        if person.story == "exited":
            end = start + timedelta(days=rng.randint(30, max(31, (today - start).days)))
            end = min(end, today)
            if end <= start:
                end = start + timedelta(days=1)
            periods.append((start, end, rng.choice(self.exit_reasons)))
            person.participant.closed_on = end
        else:
            periods.append((start, None, ""))
        for begin, end, reason in periods:
            flat = self.apartment(begin, batch)
            contract = ContractType.SOCIAL if rng.random() < 0.6 else ContractType.FIRST_HAND
            takeover = None
            last_day = (end or today) - timedelta(days=1)
            if contract == ContractType.SOCIAL and rng.random() < 0.3:
                candidate = begin + timedelta(days=rng.randint(180, 700))
                if candidate <= min(last_day, today):
                    takeover = candidate
            tenancy = Tenancy(
                participant=person.participant,
                apartment=flat,
                contract_type=contract,
                move_in=begin,
                move_out=end,
                exit_reason=reason,
                takeover=takeover,
                created_at=self.at(begin, 10),
            )
            person.tenancies.append(tenancy)
            batch.tenancies.append(tenancy)
            if end is not None:
                self.free_apartments.append((end, flat))
            self.incidents(tenancy, batch)
        self.attendable.append((person.participant, move_in, periods[-1][1] or today))
        self.placements(person, batch)

    def incidents(self, tenancy: Tenancy, batch: Batch) -> None:
        rng, today = self.rng, self.today
        last = min(tenancy.move_out or today, today)
        for _ in range(rng.choice([0, 0, 0, 1, 1, 2, 3])):
            kind = rng.choice(list(TenancyIncident.Kind))
            occurred = self.day_between(tenancy.move_in, last)
            ongoing = tenancy.move_out is None
            stays_open = ongoing and (today - occurred).days < 60 and rng.random() < 0.5
            resolved = (
                None if stays_open else min(occurred + timedelta(days=rng.randint(0, 45)), today)
            )
            batch.incidents.append(
                TenancyIncident(
                    tenancy=tenancy,
                    kind=kind,
                    occurred_on=occurred,
                    amount=Decimal(rng.randint(20, 180) * 50)
                    if kind == TenancyIncident.Kind.RENT_ARREARS
                    else None,
                    description=INCIDENT_TEXT[kind],
                    resolved_on=resolved,
                    resolution="Löst tillsammans med hyresvärden." if resolved else "",
                    created_at=self.at(occurred, 13),
                )
            )

    def placements(self, person: Person, batch: Batch) -> None:
        """Short crisis stays while the tenancy goes on, one at a time, never
        more people at a place than its beds."""
        rng, today = self.rng, self.today
        if rng.random() >= 0.15:
            return
        first = person.tenancies[0].move_in
        last = person.tenancies[-1].move_out or today
        day = first
        for _ in range(rng.randint(1, 2)):
            start = self.day_between(day + timedelta(days=10), last - timedelta(days=1))
            if start >= last or start > today:
                return
            ongoing = person.tenancies[-1].move_out is None and (today - start).days < 10
            end = None if ongoing else min(start + timedelta(days=rng.randint(3, 30)), last, today)
            place = self.free_place(start, end or today)
            if place is None:
                return
            batch.placements.append(
                CrisisPlacement(
                    participant=person.participant,
                    place=place,
                    start=start,
                    end=end,
                    reason=rng.choice(list(CrisisPlacement.Reason)),
                    note="Återfall; bostaden behålls och teamet håller kontakt med hyresvärden.",
                    created_at=self.at(start, 12),
                )
            )
            if end is None:
                return
            day = end

    def free_place(self, start: date, end: date) -> CrisisPlace | None:
        """A place with a free bed every day of [start, end] (taken if found)."""
        first = (start - self.start).days
        last = max(first, (end - self.start).days)
        for place in self.rng.sample(self.places, len(self.places)):
            beds = self.occupancy.setdefault(place.pk, [0] * (HISTORY_DAYS + 2))
            if all(beds[d] < place.capacity for d in range(first, last + 1)):
                for d in range(first, last + 1):
                    beds[d] += 1
                return place
        return None

    # --- support ------------------------------------------------------------------------

    def plans_and_visits(self, person: Person, batch: Batch) -> None:
        rng, today = self.rng, self.today
        first = person.tenancies[0].move_in
        last = min(person.tenancies[-1].move_out or today, today)
        agreed = min(first + timedelta(days=rng.randint(7, 21)), today)
        number = 0
        goals_by_day: list[tuple[date, list[Goal]]] = []
        chosen = rng.sample(GOALS, rng.randint(2, 3))
        while agreed <= last:
            number += 1
            review = agreed + timedelta(days=180)
            plan = ActionPlan(
                participant=person.participant,
                number=number,
                agreed_on=agreed,
                review_on=review,
                on_breach="Vid kraftigt återfall: en tid på sviktplats, sedan hem igen.",
                created_by=person.worker,
                created_at=self.at(agreed, 14),
            )
            batch.plans.append(plan)
            goals = []
            for position, (area, text, action) in enumerate(chosen):
                goal = Goal(
                    plan=plan,
                    life_area=area,
                    text=text,
                    position=position,
                    created_at=plan.created_at,
                )
                goals.append(goal)
                batch.goals.append(goal)
                batch.actions.append(
                    GoalAction(
                        goal=goal,
                        who=GoalAction.Who.TENANT,
                        what=action,
                        by_when=review,
                        created_at=plan.created_at,
                    )
                )
                batch.actions.append(
                    GoalAction(
                        goal=goal,
                        who=GoalAction.Who.TEAM,
                        staff=person.worker,
                        what="Stötta och påminna vid hembesöken",
                        how="Vid varje besök",
                        created_at=plan.created_at,
                    )
                )
            goals_by_day.append((agreed, goals))
            # Most plans are revised near their review date; some overdue.
            agreed = review + timedelta(days=rng.randint(-20, 40))
        self.visits(
            person,
            batch,
            first - timedelta(days=14),
            last,
            count=rng.randint(*VISITS_PER_PERSON),
            goals_by_day=goals_by_day,
        )

    def visits(self, person, batch, first: date, last: date, *, count: int, goals_by_day) -> None:
        rng = self.rng
        worker = person.worker
        days = (last - first).days
        if days <= 0:
            return
        second = self.staff.support
        for offset in sorted(rng.randrange(days) for _ in range(count)):
            day = first + timedelta(days=offset)
            kind = rng.choice(self.kinds)
            started = self.at(day, rng.randint(8, 16), rng.choice([0, 15, 30, 45]))
            created = started + timedelta(minutes=rng.randint(20, 180))
            if created >= self.now:
                continue
            signed = created + timedelta(minutes=30)
            staff = [worker]
            if rng.random() < 0.1:
                other = rng.choice(second)
                if other != worker:
                    staff.append(other)
            plan_goals = [g for since, goals in goals_by_day if since <= day for g in goals][-3:]
            goals = [rng.choice(plan_goals)] if plan_goals and rng.random() < 0.25 else []
            batch.visits.append(
                SupportVisit(
                    participant=person.participant,
                    started_at=started,
                    duration_minutes=0
                    if kind == SupportVisit.Kind.MISSED
                    else rng.choice([15, 30, 45, 60, 90, 120]),
                    kind=kind,
                    note=rng.choice(NOTES[kind]),
                    author=worker,
                    signed_at=signed if signed < self.now else None,
                    created_at=created,
                )
            )
            batch.visit_m2m.append({"staff": staff, "goals": goals})

    # --- writing ------------------------------------------------------------------------

    def write(self, batch: Batch) -> int:
        """Write one chunk; the number of rows written (history and log rows not counted)."""
        manager = self.staff.manager
        people = [p.participant for p in batch.people]
        record_bulk_create(
            Participant,
            people,
            acting_user=lambda p: p.support_worker or manager,
            m2m=batch.target_groups,
            clean=False,
        )
        record_bulk_create(
            Referral, batch.referrals, acting_user=lambda r: r.referred_by, clean=False
        )
        record_bulk_create(
            ReferralEvent, batch.events, acting_user=lambda e: e.created_by, clean=False
        )
        record_bulk_create(
            EligibilityAssessment,
            batch.assessments,
            acting_user=lambda a: a.assessor or a.referral.participant.support_worker or manager,
            clean=False,
        )
        record_bulk_create(
            NetworkContact,
            batch.contacts,
            acting_user=lambda c: c.participant.support_worker or manager,
            clean=False,
        )
        record_bulk_create(Apartment, batch.apartments, acting_user=manager, clean=False)
        record_bulk_create(
            Tenancy, batch.tenancies, acting_user=lambda t: t.participant.support_worker,
            clean=False,
        )  # fmt: skip
        record_bulk_create(
            TenancyIncident,
            batch.incidents,
            acting_user=lambda i: i.tenancy.participant.support_worker,
            clean=False,
        )
        record_bulk_create(ActionPlan, batch.plans, acting_user=lambda p: p.created_by, clean=False)
        record_bulk_create(Goal, batch.goals, acting_user=lambda g: g.plan.created_by, clean=False)
        record_bulk_create(
            GoalAction, batch.actions, acting_user=lambda a: a.goal.plan.created_by, clean=False
        )
        record_bulk_create(
            SupportVisit,
            batch.visits,
            acting_user=lambda v: v.author,
            m2m=batch.visit_m2m,
            clean=False,
        )
        record_bulk_create(
            CrisisPlacement,
            batch.placements,
            acting_user=lambda p: p.participant.support_worker,
            clean=False,
        )
        return sum(
            len(rows)
            for rows in (
                people, batch.referrals, batch.events, batch.assessments, batch.contacts,
                batch.apartments, batch.tenancies, batch.incidents, batch.plans, batch.goals,
                batch.actions, batch.visits, batch.placements,
            )
        )  # fmt: skip

    def activities(self) -> int:
        """The meeting place: a weekly activity over the three years, with
        4–12 of the people housed at the time."""
        rng = self.rng
        user = self.staff.manager
        activities, attendance = [], []
        day = self.start + timedelta(days=7)
        by_start = sorted(self.attendable, key=lambda row: row[1])
        week = 0
        while day < self.today:
            title, description = ACTIVITIES[week % len(ACTIVITIES)]
            activity = Activity(
                title=title, date=day, description=description, created_at=self.at(day, 17)
            )
            activities.append(activity)
            present = [p for p, first, last in by_start if first <= day < last]
            for participant in rng.sample(present, min(len(present), rng.randint(4, 12))):
                attendance.append(
                    Attendance(
                        activity=activity, participant=participant, created_at=activity.created_at
                    )
                )
            day += timedelta(days=7)
            week += 1
        record_bulk_create(Activity, activities, acting_user=user, clean=False)
        record_bulk_create(Attendance, attendance, acting_user=user, clean=False)
        return len(activities) + len(attendance)


def scale_staff(*, participants: int, users: dict[str, User]) -> Staff:
    """The demo users plus as many generated staff as the caseload needs
    (about twelve people per support worker, sixty referrals per social
    worker). Generated staff cannot log in (no usable password)."""
    wanted = {
        Role.SUPPORT_STAFF: max(0, math.ceil(participants / PEOPLE_PER_SUPPORT_WORKER) - 2),
        Role.SOCIAL_WORKER: max(0, math.ceil(participants / PEOPLE_PER_SOCIAL_WORKER) - 2),
    }
    prefix = {Role.SUPPORT_STAFF: "bst", Role.SOCIAL_WORKER: "soc"}
    rng = random.Random(participants)
    new = []
    for role, count in wanted.items():
        existing = set(
            User.objects.filter(username__startswith=f"{prefix[role]}-").values_list(
                "username", flat=True
            )
        )
        for n in range(1, count + 1):
            username = f"{prefix[role]}-{n:04d}"
            if username in existing:
                continue
            new.append(
                (
                    role,
                    User(
                        username=username,
                        first_name=rng.choice(FIRST_NAMES),
                        last_name=rng.choice(LAST_NAMES),
                        email=f"{username}@example.se",
                        password="!",  # unusable: generated staff do not log in
                    ),
                )
            )
    User.objects.bulk_create([user for _role, user in new], batch_size=1000)
    groups = {g.name: g for g in Group.objects.filter(name__in=[r.value for r in wanted])}
    User.groups.through.objects.bulk_create(
        [
            User.groups.through(user_id=user.pk, group_id=groups[role.value].pk)
            for role, user in new
        ],
        batch_size=1000,
        ignore_conflicts=True,
    )

    def staff_of(role: Role, demo: list[str]) -> list[User]:
        generated = list(
            User.objects.filter(username__startswith=f"{prefix[role]}-").order_by("username")[
                : wanted[role]
            ]
        )
        return [users[name] for name in demo] + generated

    return Staff(
        support=staff_of(Role.SUPPORT_STAFF, ["boendestodjare", "boendestodjare2"]),
        social=staff_of(Role.SOCIAL_WORKER, ["socialsekreterare", "socialsekreterare2"]),
        manager=users["enhetschef"],
    )


def scale_seed(
    *,
    participants: int,
    seed: int,
    users: dict[str, User],
    today: date | None = None,
    progress: Callable[[int], None] | None = None,
) -> Counter:
    """Generate and write ``participants`` people with their three years of
    records. ``progress`` is called with the number of people done after each
    chunk. Returns the number of rows written per kind."""
    if Participant.objects.exists():
        raise ValueError("The caseload is not empty.")
    today = today or timezone.localdate()
    counts: Counter = Counter()
    with transaction.atomic():
        _check_foreign_keys_per_statement()
        staff = scale_staff(participants=participants, users=users)
        generator = CaseloadGenerator(
            participants=participants, seed=seed, staff=staff, today=today
        )
        generator.landlords = _landlords(staff.manager)
        generator.places = _places(staff.manager, participants)
        for start in range(0, participants, CHUNK):
            batch = Batch()
            for index in range(start, min(start + CHUNK, participants)):
                generator.person(index, batch)
            counts["rows"] += generator.write(batch)
            counts["participants"] += len(batch.people)
            counts["visits"] += len(batch.visits)
            if progress:
                progress(len(batch.people))
        counts["rows"] += generator.activities()
    return counts


def _check_foreign_keys_per_statement() -> None:
    """On PostgreSQL, check the foreign keys at the end of each statement
    rather than at COMMIT. Django declares them DEFERRABLE INITIALLY
    DEFERRED, so a million rows queued a million checks for the COMMIT (ten
    minutes at N = 10,000, longer than writing the rows). Every row is still
    checked; each INSERT refers only to rows written before it."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")


def _landlords(user) -> list[Landlord]:
    out = []
    for name, (contact, phone, _mail, _city, _codes, _streets) in LANDLORDS.items():
        landlord = Landlord.objects.filter(name=name).first()
        if landlord is None:
            landlord = record_save(
                Landlord(name=name, contact_person=contact, phone=phone), acting_user=user
            )
        out.append(landlord)
    return out


def _places(user, participants: int) -> list[CrisisPlace]:
    wanted = list(CRISIS_PLACES) + [
        (f"Sviktplats {n}", f"Stödvägen {n}", 5)
        for n in range(1, participants // EXTRA_PLACE_EVERY + 1)
    ]
    out = []
    for name, address, capacity in wanted:
        place = CrisisPlace.objects.filter(name=name).first()
        if place is None:
            place = record_save(
                CrisisPlace(name=name, address=address, capacity=capacity), acting_user=user
            )
        out.append(place)
    return out
