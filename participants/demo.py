"""Demo caseload: fictional referrals in every state, filed through the services.

27 people: 3 submitted, 3 under assessment (partly assessed), 17 approved
(one by a manager's override; 15 of them the housing demo houses, 2 stay
waiting), 2 declined, 2 withdrawn. Names are made up; personnummer are
generated with valid check digits (``personnummer.generate``) from a fixed
seed, so every run produces the same people. A person whose number already
exists is skipped: running it twice changes nothing.

One more referral shows a match with a known person: the first social worker
refers someone the second one referred earlier (approved, housed by the
housing demo), and the team has yet to confirm or reject the match.
"""

import random
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from django.utils import timezone

from . import services
from .consent import consent_record
from .models import (
    Answer,
    ConsentGivenAs,
    ConsentPurpose,
    Criterion,
    HousingSituation,
    NetworkContact,
    Participant,
    Referral,
    ReferralEvent,
    ReferringUnit,
    SupportNeed,
    TargetGroupCode,
    TemporaryArrangement,
)
from .personnummer import birth_date, generate

SEED = 5005

FIRST_NAMES = [
    "Anna", "Mikael", "Lena", "Peter", "Karin", "Johan", "Eva", "Stefan", "Maria", "Thomas",
    "Sofia", "Daniel", "Camilla", "Fredrik", "Linda", "Andreas", "Jenny", "Patrik", "Malin",
    "Magnus", "Sara", "Niklas", "Helena", "Roger", "Emma", "Kent", "Ulrika",
]  # fmt: skip
LAST_NAMES = [
    "Andersson", "Johansson", "Karlsson", "Nilsson", "Eriksson", "Larsson", "Olsson",
    "Persson", "Svensson", "Gustafsson", "Pettersson", "Jonsson", "Jansson", "Hansson",
    "Bengtsson", "Jönsson", "Lindberg", "Jakobsson", "Magnusson", "Lindström", "Olofsson",
    "Lindqvist", "Lindgren", "Axelsson", "Berg", "Bergström", "Lundberg",
]  # fmt: skip
STREETS = ["Storgatan", "Kungsgatan", "Drottninggatan", "Järnvägsgatan", "Skolgatan", "Parkvägen"]

# (state, count). Order matters: the housing demo takes the first approved.
PLAN = [
    ("approved", 15),
    ("approved_waiting", 1),
    ("approved_override", 1),
    ("submitted", 3),
    ("assessing", 3),
    ("declined", 2),
    ("withdrawn", 2),
]

DESCRIPTIONS = [
    "Har levt i hemlöshet i flera år, växlande mellan härbärge och akutboende. "
    "Vill ha en egen lägenhet och har uttryckt att hen vill ta emot stöd.",
    "Långvarigt blandmissbruk och psykisk ohälsa. Spärrad på flera boenden. "
    "Har kontakt med beroendemottagningen och vill bo själv.",
    "Skrivs ut från behandlingshem inom två månader utan ordnat boende.",
    "Bor tillfälligt hos bekanta sedan några veckor. Har en fungerande kontakt "
    "med socialtjänsten och personligt ombud.",
]


@dataclass
class DemoPerson:
    state: str
    personnummer: str
    first_name: str
    last_name: str
    referral_date: date
    registered_since: date
    housing_situation: str
    temporary_arrangement: str
    situation_since: date | None
    support_need: str
    description: str
    children: int
    target_groups: list[str] = field(default_factory=list)
    phone: str = ""
    address: str = ""


def _at(day: date, hour: int = 10) -> datetime:
    return timezone.make_aware(datetime.combine(day, time(hour, 0)))


def build_people(today: date) -> list[DemoPerson]:
    """The demo people, deterministic for a given ``today``."""
    rng = random.Random(SEED)
    people = []
    index = 0
    for state, count in PLAN:
        for _n in range(count):
            if state.startswith("approved"):
                # Approved over the last four years, so the housing demo can
                # spread move-ins over several cohort years.
                referral_date = today - timedelta(days=rng.randint(120, 1400))
            elif state in {"declined", "withdrawn"}:
                referral_date = today - timedelta(days=rng.randint(60, 500))
            elif state == "assessing":
                referral_date = today - timedelta(days=rng.randint(20, 45))
            else:
                referral_date = today - timedelta(days=rng.randint(1, 15))
            born_number = generate(rng, born_from=date(1960, 1, 1), born_to=date(1998, 12, 31))
            situation = rng.choice(
                [
                    HousingSituation.ACUTE,
                    HousingSituation.ACUTE,
                    HousingSituation.INSTITUTION,
                    HousingSituation.SOCIAL_SOLUTION,
                    HousingSituation.SHORT_TERM_OWN,
                ]
            )
            arrangement = ""
            since = referral_date - timedelta(days=rng.randint(20, 900))
            if situation == HousingSituation.SHORT_TERM_OWN:
                arrangement = TemporaryArrangement.FRIENDS
                since = referral_date - timedelta(days=rng.randint(10, 80))
            if state == "declined" and index % 2 == 0:
                situation = HousingSituation.SHORT_TERM_OWN
                arrangement = TemporaryArrangement.SECOND_HAND
            # Registered long ago for most; a few only recently (residence not met).
            years_back = rng.choice([1, 3, 5, 8, 12, 20]) if state != "approved_override" else 1
            registered = referral_date - timedelta(days=365 * years_back + rng.randint(0, 200))
            groups = [TargetGroupCode.LONG_TERM_HOMELESS]
            if rng.random() < 0.4:
                groups.append(TargetGroupCode.COMPLEX_NEEDS)
            if rng.random() < 0.2:
                groups = [TargetGroupCode.ACUTE_HOMELESS]
            children = 0
            if rng.random() < 0.12:
                children = rng.randint(1, 2)
                groups.append(TargetGroupCode.FAMILIES)
            people.append(
                DemoPerson(
                    state=state,
                    personnummer=born_number,
                    first_name=FIRST_NAMES[index % len(FIRST_NAMES)],
                    last_name=LAST_NAMES[(index * 7) % len(LAST_NAMES)],
                    referral_date=referral_date,
                    registered_since=max(registered, _birth(born_number) + timedelta(days=1)),
                    housing_situation=situation,
                    temporary_arrangement=arrangement,
                    situation_since=since,
                    support_need=rng.choice(list(SupportNeed.values)),
                    description=rng.choice(DESCRIPTIONS),
                    children=children,
                    target_groups=groups,
                    phone=f"070-{rng.randint(100, 999)} {rng.randint(10, 99)} "
                    f"{rng.randint(10, 99)}",
                    address=f"{rng.choice(STREETS)} {rng.randint(1, 60)}",
                )
            )
            index += 1
    return people


def _birth(number: str) -> date:
    return birth_date(number)


ALL_MET = {c: (Answer.MET, "") for c in Criterion.values}


def seed(*, users: dict) -> None:
    today = timezone.localdate()
    social_workers = [users["socialsekreterare"], users["socialsekreterare2"]]
    support = [users["boendestodjare"], users["boendestodjare2"]]
    manager = users["enhetschef"]
    people = build_people(today)
    for index, person in enumerate(people):
        if Participant.objects.filter(personnummer=person.personnummer).exists():
            continue
        _seed_person(
            person,
            index=index,
            social_worker=social_workers[index % 2],
            support_worker=support[index % 2],
            manager=manager,
        )
    # people[1] is approved and was referred by the second social worker.
    _seed_known_person_referral(person=people[1], social_worker=social_workers[0], today=today)
    _seed_referring_units(users=users, social_workers=social_workers)


REFERRING_UNITS = ("Stadsdelsförvaltning Norr", "Stadsdelsförvaltning Söder")


def _seed_referring_units(*, users: dict, social_workers: list) -> None:
    """Two districts; each social worker's referrals name theirs (the first
    worker refers from Norr, the second from Söder). Idempotent: a unit is made
    once, and only referrals without a unit are given one."""
    from bostadforst.records import ProcessingRestrictedError, record_save

    units = []
    for name in REFERRING_UNITS:
        unit = ReferringUnit.objects.filter(name=name).first()
        if unit is None:
            unit = ReferringUnit(name=name, kind=ReferringUnit.Kind.DISTRICT)
            record_save(unit, acting_user=users["admin"])
        units.append(unit)
    for worker, unit in zip(social_workers, units, strict=True):
        for referral in Referral.objects.filter(referred_by=worker, referring_unit=None):
            referral.referring_unit = unit
            try:
                record_save(referral, acting_user=worker)
            except ProcessingRestrictedError:
                continue


def _seed_known_person_referral(*, person: DemoPerson, social_worker, today: date) -> None:
    """A referral whose personnummer matches ``person``, filed by a social
    worker who did not refer them (skipped when that referral exists)."""
    if Referral.objects.filter(
        participant__personnummer=person.personnummer, referred_by=social_worker
    ).exists():
        return
    day = today - timedelta(days=3)
    services.referral_create(
        acting_user=social_worker,
        personnummer=person.personnummer,
        first_name=person.first_name,
        last_name=person.last_name,
        phone="",
        email=f"{person.first_name.lower()}@example.se",
        registered_since=person.registered_since,
        children_in_household=person.children,
        referral_date=day,
        housing_situation=HousingSituation.ACUTE,
        support_need=person.support_need,
        description="Ny kontakt med socialtjänsten efter flytt mellan stadsdelar.",
        at=_at(day, 9),
    )


def _seed_person(person: DemoPerson, *, index, social_worker, support_worker, manager) -> None:
    day = person.referral_date
    referral = services.referral_create(
        acting_user=social_worker,
        personnummer=person.personnummer,
        first_name=person.first_name,
        last_name=person.last_name,
        phone=person.phone,
        postal_address="",
        registered_since=person.registered_since,
        children_in_household=person.children,
        referral_date=day,
        housing_situation=person.housing_situation,
        temporary_arrangement=person.temporary_arrangement,
        situation_since=person.situation_since,
        support_need=person.support_need,
        description=person.description,
        at=_at(day, 9),
    )
    participant = referral.participant
    if person.state == "submitted":
        return
    services.referral_start_assessment(
        referral=referral, acting_user=support_worker, at=_at(day + timedelta(days=2))
    )
    services.referral_log_entry_add(
        referral=referral,
        acting_user=support_worker,
        kind=ReferralEvent.Kind.INTERVIEW_BOOKED,
        occurred_on=day + timedelta(days=9),
        note="Intervju bokad på mötesplatsen.",
        at=_at(day + timedelta(days=3)),
    )
    if person.state == "withdrawn":
        services.referral_withdraw(
            referral=referral,
            acting_user=social_worker,
            reason="Personen har fått ett eget boende på annat sätt.",
            at=_at(day + timedelta(days=6)),
        )
        return
    services.referral_log_entry_add(
        referral=referral,
        acting_user=support_worker,
        kind=ReferralEvent.Kind.INTERVIEW_HELD,
        occurred_on=day + timedelta(days=9),
        note="Intervju genomförd. Vill bo självständigt och ta emot stöd.",
        at=_at(day + timedelta(days=9), 14),
    )
    if person.state == "assessing":
        partial = dict(list(ALL_MET.items())[: 2 + index % 3])
        services.assessment_record(
            referral=referral,
            acting_user=support_worker,
            answers=partial,
            at=_at(day + timedelta(days=10)),
        )
        return
    services.referral_log_entry_add(
        referral=referral,
        acting_user=support_worker,
        kind=ReferralEvent.Kind.REFERENCE_CONTACTED,
        occurred_on=day + timedelta(days=12),
        note="Kontakt med personligt ombud, som bekräftar behovet av stöd.",
        at=_at(day + timedelta(days=12)),
    )
    answers = dict(ALL_MET)
    if person.state == "declined":
        answers[Criterion.HOMELESS] = (Answer.NOT_MET, "Hyr i andra hand sedan ett år.")
    if person.state == "approved_override":
        answers[Criterion.RESIDENCE] = (Answer.NOT_MET, "Folkbokförd i kommunen i ett år.")
    services.assessment_record(
        referral=referral,
        acting_user=support_worker,
        answers=answers,
        at=_at(day + timedelta(days=14)),
    )
    decided = _at(day + timedelta(days=21), 11)
    if person.state == "declined":
        services.referral_decline(
            referral=referral,
            acting_user=manager,
            reason="Uppfyller inte kriteriet om hemlöshet: hyr i andra hand.",
            at=decided,
        )
        return
    services.referral_approve(
        referral=referral,
        acting_user=manager,
        override_justification=(
            "Har bott i kommunen i ett år men har tidigare varit folkbokförd här i tio år; "
            "akut behov."
            if person.state == "approved_override"
            else ""
        ),
        at=decided,
    )
    participant.refresh_from_db()
    services.participant_update(
        participant=participant,
        acting_user=manager,
        target_groups=services.target_groups_for(person.target_groups),
        support_worker=support_worker,
    )
    if index % 3 == 0:
        contact = services.network_contact_create(
            participant=participant,
            acting_user=support_worker,
            name=f"{LAST_NAMES[(index + 3) % len(LAST_NAMES)]}, personligt ombud",
            relation=NetworkContact.Relation.PERSONAL_REPRESENTATIVE,
            organisation="Personligt ombud i kommunen",
            phone="010-123 45 67",
            consent_to_contact=True,
        )
        # A written consent to contact the representative; every other one
        # runs out within the month, so the start page has some to renew.
        today = timezone.localdate()
        consent_record(
            participant=participant,
            acting_user=support_worker,
            purpose=ConsentPurpose.CONTACT,
            recipient_contact=contact,
            given_as=ConsentGivenAs.WRITTEN,
            given_on=min(day + timedelta(days=10), today),
            expires_on=today + timedelta(days=20) if index % 2 == 0 else None,
        )
    if index % 4 == 1:
        services.network_contact_create(
            participant=participant,
            acting_user=support_worker,
            name="Beroendemottagningen",
            relation=NetworkContact.Relation.ADDICTION_CLINIC,
            organisation="Regionens beroendemottagning",
            consent_to_contact=index % 2 == 1,
        )
