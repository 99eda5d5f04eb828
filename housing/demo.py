"""Demo housing: about 25 apartments from the three landlords, and tenancies
for the approved participants that ``participants.demo`` created.

Fifteen approved people are housed (the rest keep waiting): ongoing and ended
tenancies covering every exit reason, a move to another Housing First
apartment, takeovers of social contracts, and incidents, some still open
(rent arrears, a notice of termination) so that the eviction-risk list has
something to show. Everything goes through the services (history, access
log), from a fixed random seed. Idempotent: apartments are looked up by
address, and a participant who already has a tenancy is left alone.
"""

import datetime
import random
from dataclasses import dataclass
from decimal import Decimal

from django.utils import timezone

from participants.models import Participant, ParticipantStatus, ReferralStatus
from participants.services import participant_mark_exited

from . import services
from .models import (
    Apartment,
    ContractType,
    ExitReason,
    Landlord,
    Provider,
    Tenancy,
    TenancyIncident,
)

SEED = 6006
HOUSED_COUNT = 15

LANDLORDS = {
    # name: (contact person, phone, e-mail, city, postal codes, streets)
    "Sandvikenhus": (
        "Lotta Fors",
        "026-24 11 00",
        "uthyrning@sandvikenhus.example.se",
        "Sandviken",
        ["811 30", "811 31", "811 34", "811 39"],
        ["Köpmangatan", "Hyttgatan", "Murargatan", "Järnvägsgatan", "Stensätravägen"],
    ),
    "Heimstaden": (
        "Ahmed Karimi",
        "0771-11 12 13",
        "kundservice@heimstaden.example.se",
        "Sandviken",
        ["811 36", "811 40", "811 42"],
        ["Årsundavägen", "Smedsgatan", "Björkvägen", "Norrsätragatan"],
    ),
    "Svenska bostäder": (
        "Pia Ström",
        "08-508 370 00",
        "bostadforst@svenskabostader.example.se",
        "Stockholm",
        ["124 31", "163 71", "127 38"],
        ["Bandhagsvägen", "Rinkebysvängen", "Skärholmsvägen", "Hökarängsplan"],
    ),
}
APARTMENTS_PER_LANDLORD = {"Sandvikenhus": 10, "Heimstaden": 8, "Svenska bostäder": 7}


@dataclass(frozen=True)
class Plan:
    """One housed person's story."""

    contract: str
    exit_reason: str = ""  # "" = still living there
    takeover: bool = False
    incidents: tuple[tuple[str, bool], ...] = ()  # (kind, still open)
    next_contract: str = ""  # for other_hf_apartment: the next tenancy


A, R = ContractType.SOCIAL, ContractType.FIRST_HAND
K = TenancyIncident.Kind
PLANS = [
    Plan(A, takeover=True),
    Plan(R),
    Plan(A, incidents=((K.RENT_ARREARS, True),)),
    Plan(A, ExitReason.OTHER_HF_APARTMENT, incidents=((K.DISTURBANCE, False),), next_contract=A),
    Plan(A, ExitReason.MOVED_ON, takeover=True),
    Plan(A, ExitReason.EVICTED, incidents=((K.RENT_ARREARS, False), (K.NOTICE, False))),
    Plan(R, incidents=((K.NOTICE, True), (K.LANDLORD_CONTACT, False))),
    Plan(A, ExitReason.TERMINATED, incidents=((K.DISTURBANCE, False), (K.DAMAGE, False))),
    Plan(A, ExitReason.HOMELESSNESS),
    Plan(A, takeover=True, incidents=((K.DAMAGE, False),)),
    Plan(R, ExitReason.INSTITUTION),
    Plan(A, ExitReason.DECEASED),
    Plan(A, ExitReason.LOST_CONTACT, incidents=((K.LANDLORD_CONTACT, False),)),
    Plan(R, ExitReason.OTHER),
    Plan(A, incidents=((K.RENT_ARREARS, True), (K.DISTURBANCE, True))),
]

DESCRIPTIONS = {
    K.RENT_ARREARS: "Hyran för {month} är inte betald. Hyresvärden har skickat påminnelse.",
    K.DISTURBANCE: "Grannar har klagat på hög musik och besök sent på kvällen.",
    K.DAMAGE: "Vattenskada i badrummet efter att kranen lämnats på.",
    K.LANDLORD_CONTACT: "Hyresvärden ringde teamet om oro för hyresgästens hälsa.",
    K.NOTICE: "Hyresvärden har skickat uppsägning av hyresavtalet med anledning av skuld.",
}
RESOLUTIONS = {
    K.RENT_ARREARS: "Skulden betald efter avbetalningsplan med hyresvärden.",
    K.DISTURBANCE: "Samtal med hyresgästen och grannen; inga fler klagomål.",
    K.DAMAGE: "Skadan reparerad; hyresgästen betalar självrisken.",
    K.LANDLORD_CONTACT: "Hembesök genomfört tillsammans med hyresvärden.",
    K.NOTICE: "Uppsägningen återkallad efter möte med hyresvärden.",
}


def seed(*, users: dict) -> None:
    rng = random.Random(SEED)
    today = timezone.localdate()
    admin = users["admin"]
    staff = [users["boendestodjare"], users["boendestodjare2"]]
    apartments = _seed_apartments(rng, acting_user=admin)
    people = _candidates()
    free = [a for a in apartments if not a.tenancies.exists()]
    for index, (participant, plan) in enumerate(zip(people, PLANS, strict=False)):
        if participant.tenancies.exists():
            continue
        person_rng = random.Random(SEED * 100 + index)
        _house(participant, plan, free, person_rng, today, acting_user=staff[index % 2])
    _seed_providers(acting_user=admin)


PROVIDERS = (
    ("Kommunens Bostad först-team", Provider.Kind.MUNICIPAL),
    ("Stadsmissionen (IOP)", Provider.Kind.IOP_PARTNER),
)


def _seed_providers(*, acting_user) -> None:
    """The municipality's team and an IOP partner; the demo's own tenancies
    without a provider get one, alternating by participant. Imported history
    (people known by the municipality's reference, seeded later by
    reports.demo) keeps none, as an import without the column would: the
    breakdowns' "none recorded" row. Idempotent."""
    from bostadforst.records import ProcessingRestrictedError, record_save

    providers = []
    for name, kind in PROVIDERS:
        provider = Provider.objects.filter(name=name).first()
        if provider is None:
            provider = Provider(name=name, kind=kind)
            record_save(provider, acting_user=acting_user)
        providers.append(provider)
    own = Tenancy.objects.filter(provider=None, participant__external_ref__isnull=True)
    for tenancy in own.order_by("pk"):
        tenancy.provider = providers[tenancy.participant_id % 2]
        try:
            record_save(tenancy, acting_user=acting_user)
        except ProcessingRestrictedError:
            continue


def _seed_apartments(rng: random.Random, *, acting_user) -> list[Apartment]:
    apartments = []
    for name, (contact, phone, email, city, codes, streets) in LANDLORDS.items():
        landlord = Landlord.objects.get(name=name)
        if not landlord.contact_person:
            services.landlord_update(
                landlord=landlord,
                contact_person=contact,
                phone=phone,
                email=email,
                acting_user=acting_user,
            )
        used: set[str] = set()
        for _n in range(APARTMENTS_PER_LANDLORD[name]):
            address = f"{rng.choice(streets)} {rng.randint(1, 80)}"
            while address in used:
                address = f"{rng.choice(streets)} {rng.randint(1, 80)}"
            used.add(address)
            rooms = rng.choice([Decimal("1"), Decimal("1"), Decimal("1.5"), Decimal("2")])
            size = Decimal(rng.randint(24, 36) if rooms < 2 else rng.randint(42, 58))
            rent = Decimal(int(size) * rng.randint(105, 135) // 10 * 10)
            postal_code = rng.choice(codes)  # drawn before the lookup: same sequence every run
            existing = Apartment.objects.filter(landlord=landlord, address=address).first()
            apartments.append(
                existing
                or services.apartment_create(
                    landlord=landlord,
                    address=address,
                    postal_code=postal_code,
                    city=city,
                    rooms=rooms,
                    size_sqm=size,
                    monthly_rent=rent,
                    acting_user=acting_user,
                )
            )
    return apartments


def _candidates() -> list[Participant]:
    """Approved people, in the order the participants demo created them;
    those housed by an earlier run keep their place (their status changed)."""
    return list(
        Participant.objects.filter(
            referrals__status=ReferralStatus.APPROVED,
        )
        .distinct()
        .order_by("pk")[:HOUSED_COUNT]
    )


def _approved_on(participant: Participant) -> datetime.date:
    referral = participant.referrals.filter(status=ReferralStatus.APPROVED).first()
    if referral and referral.decided_at:
        return timezone.localdate(referral.decided_at)
    return referral.referral_date if referral else participant.created_at.date()


def _house(participant, plan: Plan, free: list, rng, today, *, acting_user) -> None:
    if participant.status != ParticipantStatus.APPROVED or not free:
        return
    move_in = min(
        _approved_on(participant) + datetime.timedelta(days=rng.randint(14, 75)),
        today - datetime.timedelta(days=20),
    )
    apartment = free.pop(rng.randrange(len(free)))
    tenancy = services.tenancy_assign(
        participant=participant,
        apartment=apartment,
        contract_type=plan.contract,
        move_in=move_in,
        acting_user=acting_user,
    )
    span = (today - move_in).days  # at least 20
    move_out = None
    if plan.exit_reason:
        move_out = move_in + datetime.timedelta(days=rng.randint(max(10, span // 2), span - 1))
    last_day = (move_out or today) - datetime.timedelta(days=1)
    if plan.takeover and plan.contract == ContractType.SOCIAL:
        takeover = move_in + datetime.timedelta(
            days=min(rng.randint(300, 500), (last_day - move_in).days)
        )
        services.tenancy_record_takeover(
            tenancy=tenancy, takeover=takeover, acting_user=acting_user
        )
    for kind, still_open in plan.incidents:
        room = max((last_day - move_in).days, 1)
        if still_open:  # recent enough to be acted on now
            occurred = last_day - datetime.timedelta(days=rng.randint(min(5, room), min(room, 150)))
        else:
            occurred = move_in + datetime.timedelta(days=rng.randint(room // 3, room))
        occurred = max(occurred, move_in)
        occurred = min(occurred, last_day)
        resolved = None
        if not still_open:
            resolved = min(
                occurred + datetime.timedelta(days=rng.randint(7, 45)),
                last_day + datetime.timedelta(days=1),
                today,
            )
        services.incident_create(
            tenancy=tenancy,
            kind=kind,
            occurred_on=occurred,
            amount=Decimal(rng.choice([4800, 6200, 9300, 12400]))
            if kind == K.RENT_ARREARS
            else None,
            description=DESCRIPTIONS[kind].format(month=f"{occurred:%Y-%m}"),
            resolved_on=resolved,
            resolution=RESOLUTIONS[kind] if resolved else "",
            acting_user=acting_user,
        )
    if move_out is None:
        return
    services.tenancy_end(
        tenancy=tenancy, move_out=move_out, exit_reason=plan.exit_reason, acting_user=acting_user
    )
    if plan.exit_reason == ExitReason.OTHER_HF_APARTMENT and free:
        services.tenancy_assign(
            participant=participant,
            apartment=free.pop(rng.randrange(len(free))),
            contract_type=plan.next_contract or plan.contract,
            move_in=move_out,
            acting_user=acting_user,
        )
    elif move_out <= today:
        participant_mark_exited(
            participant=participant, acting_user=acting_user, closed_on=move_out
        )
