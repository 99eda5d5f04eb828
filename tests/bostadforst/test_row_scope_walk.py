"""Row scope, walked (issue 18 item 1): a partner organisation's manager,
limited to one referring unit or one provider (``bostadforst.scope``), sees
no one outside it on any page, download, PDF or export.

Every participant of the demo world, and one more person with a record of
every kind (referral with assessments and a log entry, tenancy with an
incident, action plan, visit, crisis placement, network contact, consent,
planned visit, outcome follow-up, activity), is renamed to the marker
``OUTSIDE``; the one person of the partner's unit and provider is ``INSIDE``.
Then every URL pattern of the resolver is opened (GET) by the scoped
managers, with the apps' samples (which point at demo records, all outside),
with arguments pointing at the outside person's records, and with
``?participant=`` pointing at them. No response may show ``OUTSIDE`` or the
outside person's personnummer; every record of theirs answers 404 and is
logged as ``denied``. The walk itself is checked: an unscoped manager's walk
finds the marker, the scoped manager's finds ``INSIDE``.
"""

import random
from dataclasses import dataclass
from datetime import date, timedelta

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone, translation

from bostadforst import scope
from bostadforst.identity import viewing_as
from bostadforst.models import AccessLogEntry
from bostadforst.permissions import ACCESS_TABLE, PUBLIC
from bostadforst.roles import Role
from housing.models import Provider, Tenancy
from participants.models import (
    Answer,
    Criterion,
    EligibilityAssessment,
    Participant,
    ParticipantStatus,
    Referral,
    ReferralEvent,
    ReferralStatus,
    ReferringUnit,
)
from participants.personnummer import generate
from reports import retention, services
from reports.models import Report
from support import planning

from ..factories import UserFactory
from ..housing.factories import ApartmentFactory, IncidentFactory, ProviderFactory, TenancyFactory
from ..participants.factories import (
    ConsentFactory,
    NetworkContactFactory,
    ParticipantFactory,
    ReferralFactory,
    ReferringUnitFactory,
)
from ..participants.test_protected_identity_walk import (
    SHOWS_OTHERS,
    leaks_in,
    personnummer_forms,
    protected_kwargs,
    shown_text,
    urls_for,
)
from ..support.factories import (
    ActionPlanFactory,
    ActivityFactory,
    AttendanceFactory,
    CrisisPlacementFactory,
    GoalFactory,
    OutcomeFollowUpFactory,
    PlannedVisitFactory,
    SupportVisitFactory,
)
from ..urlwalk import project_routes

pytestmark = pytest.mark.django_db

OUTSIDE = "Utanförssonius"
INSIDE = "Innanförsdottir"
BORN = date(1971, 5, 9)
OUTSIDE_PNR = generate(random.Random(1818), born_from=BORN, born_to=BORN)
NEEDLES = [OUTSIDE, *personnummer_forms(OUTSIDE_PNR)[:5]]


@dataclass
class Scoped:
    """The outside person's records (attribute names as the protected walk's
    samples expect), the inside person, and who looks."""

    person: Participant
    referral: Referral
    tenancy: object
    incident: object
    plan: object
    visit: object
    placement: object
    contact: object
    activity: object
    inside: Participant
    unit_manager: object  # limited to the partner's referring unit
    provider_manager: object  # limited to the partner provider
    unscoped_manager: object


@pytest.fixture(scope="module")
def scoped(world, django_db_blocker) -> Scoped:
    with django_db_blocker.unblock():
        return _build(world)


def _rename_everyone_outside() -> None:
    """Every person so far (the demo's) gets the marker as last name, in
    their history and in what referrers typed too."""
    Participant._base_manager.update(last_name=OUTSIDE)
    Participant.history.model._base_manager.update(last_name=OUTSIDE)
    Referral._base_manager.update(applicant_last_name=OUTSIDE)
    Referral.history.model._base_manager.update(applicant_last_name=OUTSIDE)


def _records(world, person, *, unit, provider, today) -> dict:
    """A record of every kind for ``person``, referred by ``unit`` and housed
    with ``provider``."""
    referral = ReferralFactory(
        participant=person,
        referred_by=world.social_worker,
        referring_unit=unit,
        referral_date=today - timedelta(days=400),
        status=ReferralStatus.APPROVED,
        decided_by=world.unit_manager,
        decided_at=timezone.now() - timedelta(days=380),
        applicant_personnummer=person.personnummer,
        applicant_first_name=person.first_name,
        applicant_last_name=person.last_name,
    )
    for criterion in Criterion.values:
        EligibilityAssessment.objects.create(
            referral=referral,
            criterion=criterion,
            answer=Answer.MET,
            assessor=world.support_staff,
            assessed_on=today - timedelta(days=390),
        )
    ReferralEvent.objects.create(
        referral=referral,
        kind=ReferralEvent.Kind.INTERVIEW_HELD,
        occurred_on=today - timedelta(days=395),
        note="Intervju på mötesplatsen.",
        created_by=world.support_staff,
    )
    tenancy = TenancyFactory(
        participant=person,
        apartment=ApartmentFactory(),
        provider=provider,
        move_in=today - timedelta(days=300),
    )
    incident = IncidentFactory(tenancy=tenancy, kind="rent_arrears", occurred_on=today)
    plan = ActionPlanFactory(participant=person, created_by=world.support_staff)
    GoalFactory(plan=plan)
    visit = SupportVisitFactory(participant=person, author=world.support_staff)
    placement = CrisisPlacementFactory(participant=person)
    contact = NetworkContactFactory(participant=person)
    ConsentFactory(participant=person)
    PlannedVisitFactory(participant=person)
    OutcomeFollowUpFactory(participant=person)
    activity = ActivityFactory(title="Promenad i parken")
    AttendanceFactory(activity=activity, participant=person)
    return {
        "referral": referral,
        "tenancy": tenancy,
        "incident": incident,
        "plan": plan,
        "visit": visit,
        "placement": placement,
        "contact": contact,
        "activity": activity,
    }


def _build(world) -> Scoped:
    today = timezone.localdate()
    _rename_everyone_outside()
    partner_unit = ReferringUnitFactory(name="Partnerenheten Väst")
    partner = ProviderFactory(name="Partnerföreningen (IOP)")
    # The outside person: referred and housed by the demo's own unit and provider.
    other_unit = ReferringUnitFactory(name="Annan enhet")
    other_provider = ProviderFactory(name="Annan utförare")
    outside = ParticipantFactory(
        personnummer=OUTSIDE_PNR,
        first_name="Ottilia",
        last_name=OUTSIDE,
        status=ParticipantStatus.HOUSED,
        support_worker=world.support_staff,
    )
    records = _records(world, outside, unit=other_unit, provider=other_provider, today=today)
    inside = ParticipantFactory(
        first_name="Ingrid",
        last_name=INSIDE,
        status=ParticipantStatus.HOUSED,
        support_worker=world.support_staff,
    )
    _records(world, inside, unit=partner_unit, provider=partner, today=today)
    return Scoped(
        person=outside,
        inside=inside,
        unit_manager=UserFactory(
            username="partner-enhet", role=Role.UNIT_MANAGER, scope_unit=partner_unit
        ),
        provider_manager=UserFactory(
            username="partner-utforare", role=Role.UNIT_MANAGER, scope_provider=partner
        ),
        unscoped_manager=world.unit_manager,
        **records,
    )


def walk(world, s: Scoped, user, needles) -> tuple[int, list[str], set[str]]:
    """Open every page a unit manager may open as ``user``: (pages opened,
    leaks of ``needles``, the routes that showed the inside person)."""
    client = world.client(user)
    opened, leaks, inside_seen = 0, [], set()
    for route in project_routes():
        if route.name not in PUBLIC and Role.UNIT_MANAGER not in ACCESS_TABLE.get(route.name, ()):
            continue
        if route.name in {"logout", "set_language"}:
            continue
        for url in urls_for(world, s, route):
            response = client.get(url)
            assert response.status_code < 500, (url, response.status_code)
            opened += 1
            text = shown_text(response)
            if INSIDE in text:
                inside_seen.add(route.name)
            found = leaks_in(text, needles)
            if found:
                leaks.append(f"{route.name} {url} [{response.status_code}]: {found}")
    return opened, leaks, inside_seen


@pytest.mark.parametrize("who", ["unit_manager", "provider_manager"])
def test_no_page_or_download_shows_anyone_outside_the_scope(world, scoped, who):
    opened, leaks, inside_seen = walk(world, scoped, getattr(scoped, who), NEEDLES)
    assert opened > 50
    assert not leaks, "\n".join(leaks)
    # The walk sees the manager's own people where the team's lists show them.
    assert {
        "participants:participant-list",
        "participants:participant-list-csv",
        "participants:referral-queue",
    } <= inside_seen
    page = world.client(getattr(scoped, who)).get(scoped.inside.get_absolute_url())
    assert page.status_code == 200 and INSIDE in page.text


def test_the_walk_finds_the_marker_for_a_manager_without_scope(world, scoped):
    """The walk works: without a scope the same pages show the outside people."""
    _opened, leaks, _seen = walk(world, scoped, scoped.unscoped_manager, [OUTSIDE])
    shown = {leak.split()[0] for leak in leaks}
    assert {
        "bostadforst:access-log",
        "participants:participant-list",
        "participants:participant-list-csv",
        "participants:participant-detail",
        "participants:referral-queue",
        "support:activity-detail",
        "support:plan-pdf",
        "reports:register-extract-pdf",
    } <= shown


def _denied_rows(s: Scoped, user) -> int:
    return AccessLogEntry.objects.filter(
        action=AccessLogEntry.Action.DENIED, person_id=s.person.pk, user=user
    ).count()


@pytest.mark.parametrize("who", ["unit_manager", "provider_manager"])
def test_a_record_outside_the_scope_is_a_404_logged_as_denied(world, scoped, who):
    user = getattr(scoped, who)
    client = world.client(user)
    checked = []
    for route in project_routes():
        if route.name in SHOWS_OTHERS or Role.UNIT_MANAGER not in ACCESS_TABLE.get(route.name, ()):
            continue
        kwargs = protected_kwargs(route, scoped)
        if kwargs is None:
            continue
        before = _denied_rows(scoped, user)
        response = client.get(reverse(route.name, kwargs=kwargs))
        assert response.status_code == 404, (route.name, response.status_code)
        assert _denied_rows(scoped, user) == before + 1, route.name
        checked.append(route.name)
    assert {
        "participants:participant-detail",
        "participants:referral-detail",
        "housing:tenancy-detail",
        "support:visit-detail",
        "support:plan-pdf",
        "support:placement-detail",
    } <= set(checked)


def test_every_case_model_of_a_person_reads_through_the_scope():
    assert scope.unscoped_case_models() == []


# --- Figures, reports and the dashboard's filters ----------------------------------


def _cohort(client, query: dict) -> int:
    response = client.get(reverse("reports:dashboard"), query)
    assert response.status_code == 200
    return response.context["figures"]["cohort"]


def test_the_dashboard_counts_only_the_scope_and_filters_by_unit_and_provider(world, scoped):
    today = timezone.localdate().isoformat()
    unit = scoped.unit_manager.scope_unit_id
    provider = scoped.provider_manager.scope_provider_id
    everyone = world.client(scoped.unscoped_manager)
    assert _cohort(everyone, {"as_of": today}) > 2
    # The inside person is the one person of the partner's unit and provider.
    assert _cohort(world.client(scoped.unit_manager), {"as_of": today}) == 1
    assert _cohort(world.client(scoped.provider_manager), {"as_of": today}) == 1
    assert _cohort(everyone, {"as_of": today, "unit": unit}) == 1
    assert _cohort(everyone, {"as_of": today, "provider": provider}) == 1
    # A filter and a scope together: the people of both (here nobody).
    other = scoped.tenancy.provider_id
    assert _cohort(world.client(scoped.unit_manager), {"as_of": today, "provider": other}) == 0


@pytest.mark.parametrize("param", ["unit", "provider"])
@pytest.mark.parametrize("value", ["999999", "abc", "1 OR 1=1", "-1", "²"])
def test_a_bad_filter_is_a_swedish_400(world, scoped, param, value):
    response = world.client(scoped.unscoped_manager).get(
        reverse("reports:dashboard"), {param: value}, HTTP_ACCEPT_LANGUAGE="sv"
    )
    assert response.status_code == 400
    assert "i listan" in response.text


def test_breakdowns_of_a_filtered_dashboard_sum_to_its_total(world, scoped):
    """Within the people of a provider, the breakdowns by unit and by provider
    add up to the filtered cohort, and each filtered total equals the
    breakdown row of everyone when each person has one unit and one provider
    (the inside and outside people)."""
    as_of = timezone.localdate()
    everyone = retention.compute(as_of=as_of)
    sources = [
        ("unit", "referring_unit", ReferringUnit.objects.all()),
        ("provider", "provider", Provider.objects.all()),
    ]
    for kind, name, rows in sources:
        for row in rows:
            with scope.narrowed([(kind, row.pk)]):
                part = retention.compute(as_of=as_of)
            # Anyone of the unit (provider), at least those whose first is it.
            first = everyone["breakdown"][name].get(row.name, {"cohort": 0})["cohort"]
            assert part["cohort"] >= first, (kind, row.name)
            for breakdown in ("referring_unit", "provider"):
                groups = part["breakdown"][breakdown].values()
                assert sum(g["cohort"] for g in groups) == part["cohort"]
    with scope.narrowed([("provider", scoped.provider_manager.scope_provider_id)]):
        alone = retention.compute(as_of=as_of)
    assert alone["cohort"] == everyone["breakdown"]["provider"]["Partnerföreningen (IOP)"]["cohort"]
    assert alone["cohort"] == 1


def test_a_report_ordered_from_a_filtered_dashboard_carries_the_filter_and_the_scope(world, scoped):
    client = world.client(scoped.unit_manager)
    provider = scoped.provider_manager.scope_provider_id
    unfiltered = services.report_order(as_of=timezone.localdate(), acting_user=world.unit_manager)
    # The dashboard's order link opens the form with its parameters.
    page = client.get(reverse("reports:report-list"), {"provider": provider, "months": "12"})
    assert page.context["form"].initial["provider"].pk == provider
    assert unfiltered.get_absolute_url() not in page.text  # a report of everyone
    response = client.post(
        reverse("reports:report-list"),
        {"as_of": timezone.localdate().isoformat(), "months": "0", "provider": provider},
    )
    assert response.status_code == 302
    report = Report.objects.latest("pk")
    assert report.filters == {
        "provider": provider,
        "scope_unit": scoped.unit_manager.scope_unit_id,
    }
    assert services.report_run(report_id=report.pk) == Report.State.DONE
    report.refresh_from_db()
    assert report.figures["cohort"] == 1
    # Another scope's manager, and its report only to its own scope.
    assert client.get(report.get_absolute_url()).status_code == 200
    other = world.client(scoped.provider_manager)
    assert other.get(report.get_absolute_url()).status_code == 404
    assert client.get(unfiltered.get_absolute_url()).status_code == 404


def test_the_start_page_says_whose_people_the_manager_sees(world, scoped):
    page = world.client(scoped.unit_manager).get(reverse("home"), HTTP_ACCEPT_LANGUAGE="sv")
    assert "Du ser bara personer som remitterats av Partnerenheten Väst" in page.text
    page = world.client(scoped.provider_manager).get(reverse("home"), HTTP_ACCEPT_LANGUAGE="sv")
    assert "Partnerföreningen (IOP)" in page.text
    assert 'id="row-scope"' not in world.client(scoped.unscoped_manager).get("/").text


def test_the_calendar_feed_holds_only_the_workers_own_people(world, scoped):
    """The feed is fetched without a login: the worker's own scope applies."""
    worker = UserFactory(
        username="partner-stodjare",
        role=Role.SUPPORT_STAFF,
        scope_provider_id=scoped.provider_manager.scope_provider_id,
    )
    inside = PlannedVisitFactory(participant=scoped.inside, staff=worker)
    PlannedVisitFactory(participant=scoped.person, staff=worker)
    plans = planning.calendar_feed_plans(user=worker, now=timezone.now())
    assert [plan.pk for plan in plans] == [inside.pk]


def test_scoped_pages_read_the_scope_as_a_subquery_in_as_many_queries(world, scoped):
    """The scope adds no query (a subquery, never a list of ids): the same
    pages issue as many queries for a scoped manager as for one without."""

    def queries(user, url) -> list[str]:
        client = world.client(user)
        client.get(url)  # warm: sessions, role caches
        with CaptureQueriesContext(connection) as captured:
            assert client.get(url).status_code == 200
        return [q["sql"] for q in captured.captured_queries if "SAVEPOINT" not in q["sql"].upper()]

    for url in [
        reverse("participants:participant-list"),
        reverse("participants:referral-queue"),
        reverse("reports:data-quality"),
    ]:
        scoped_sql = queries(scoped.unit_manager, url)
        plain_sql = queries(scoped.unscoped_manager, url)
        extra = 1 if url == reverse("reports:data-quality") else 0  # no snapshot chart
        assert len(scoped_sql) + extra == len(plain_sql), url
        assert any("IN (SELECT" in sql and "referring_unit_id" in sql for sql in scoped_sql)


def test_unique_values_are_checked_among_everyone_not_only_the_scope(world, scoped):
    """A scoped manager giving their person the personnummer of someone outside
    gets the form's error (the database would refuse it: a 500)."""
    person = Participant.objects.get(pk=scoped.inside.pk)
    person.personnummer = OUTSIDE_PNR
    with viewing_as(scoped.unit_manager):
        assert not Participant.objects.filter(personnummer=OUTSIDE_PNR).exists()
        with pytest.raises(ValidationError) as raised:
            person.full_clean()
    assert "personnummer" in raised.value.message_dict


@pytest.mark.parametrize("who", ["unit_manager", "provider_manager"])
def test_a_scoped_manager_cannot_import_a_cohort(world, scoped, who):
    """The import matches the file against every tenancy held, which a scope
    would hide: a partner's manager gets a 403 (logged as denied), and the
    dashboard offers no import; the municipality's manager imports as before."""
    client = world.client(getattr(scoped, who))
    denied = AccessLogEntry.objects.filter(action=AccessLogEntry.Action.DENIED).count()
    assert client.get(reverse("reports:cohort-import")).status_code == 403
    assert client.post(reverse("reports:cohort-import"), {}).status_code == 403
    template = reverse("reports:cohort-import-template-xlsx")
    assert client.get(template).status_code == 403
    assert AccessLogEntry.objects.filter(action=AccessLogEntry.Action.DENIED).count() == denied + 3
    import_url = reverse("reports:cohort-import")
    assert import_url not in client.get(reverse("reports:dashboard")).text
    unscoped = world.client(scoped.unscoped_manager)
    assert unscoped.get(import_url).status_code == 200
    assert import_url in unscoped.get(reverse("reports:dashboard")).text


def test_an_apartment_let_to_someone_outside_the_scope_is_not_let_again(world, scoped):
    """The rule against double letting is about every tenancy, not the
    scope's: a scoped manager letting the apartment of someone they do not
    see gets the form's error (without it SQLite stored a double letting and
    PostgreSQL's constraint refused it with a 500), and the message names
    the period but not the tenant."""
    held = Tenancy.objects.get(pk=scoped.tenancy.pk)
    new = Tenancy(
        participant_id=scoped.inside.pk,
        apartment_id=held.apartment_id,
        move_in=held.move_in + timedelta(days=1),
        contract_type=held.contract_type,
    )
    with viewing_as(scoped.unit_manager), translation.override("en"):
        assert not Tenancy.objects.filter(pk=held.pk).exists()
        with pytest.raises(ValidationError) as raised:
            new.full_clean()
        message = " ".join(raised.value.message_dict["apartment"])
    assert "already let" in message and str(held.move_in) in message
    assert OUTSIDE not in message and "Ottilia" not in message
    with (
        viewing_as(scoped.unit_manager),
        translation.override("sv"),
        pytest.raises(ValidationError) as raised,
    ):
        new.full_clean()
    assert "utanför de personer du ser" in " ".join(raised.value.message_dict["apartment"])
    # An unscoped manager's message names the tenant, as before.
    with viewing_as(scoped.unscoped_manager), pytest.raises(ValidationError) as raised:
        new.full_clean()
    assert OUTSIDE in " ".join(raised.value.message_dict["apartment"])


def test_a_crisis_place_full_with_people_outside_the_scope_is_full(world, scoped):
    """A crisis place's capacity counts every placement, not the scope's."""
    from support.models import CrisisPlacement
    from support.services import placement_create

    held = CrisisPlacement.objects.select_related("place").get(pk=scoped.placement.pk)
    place = held.place
    day = max(held.start, timezone.localdate() - timedelta(days=1))
    with scope.unscoped():
        occupied = CrisisPlacement.objects.filter(place=place).count()
    place.capacity = occupied
    place.save()
    # The inside person's own stay would clash first.
    CrisisPlacement.objects.filter(participant_id=scoped.inside.pk).delete()
    with viewing_as(scoped.unit_manager):
        assert not CrisisPlacement.objects.filter(place=place).exists()
        with pytest.raises(ValidationError) as raised:
            placement_create(
                participant=Participant.objects.get(pk=scoped.inside.pk),
                place=place,
                start=day,
                end=day + timedelta(days=3),
                reason=held.reason,
                acting_user=scoped.unit_manager,
            )
    assert raised.value.code == "over_capacity"
    assert CrisisPlacement.objects.filter(place=place).count() == occupied


def test_an_apartment_let_to_someone_outside_the_scope_shows_as_let_without_its_tenant(
    world, scoped
):
    """Whether an apartment is let is every tenancy's business; who lets it
    is the scope's: the list says "Let" with no tenant, and the letting
    form offers it after the vacant ones."""
    from housing.selectors import apartment_list, lettable_apartments

    held = Tenancy.objects.get(pk=scoped.tenancy.pk)
    assert held.is_ongoing
    manager = scoped.unit_manager
    with viewing_as(manager):
        listed = next(a for a in apartment_list(user=manager) if a.pk == held.apartment_id)
        offered = next(a for a in lettable_apartments(user=manager) if a.pk == held.apartment_id)
    assert listed.is_let and listed.current_tenancies == []
    assert offered.is_let


def test_a_referral_for_someone_outside_the_scope_finds_the_person_known(world, scoped):
    """Whether a personnummer is known is about every person: a social
    worker limited to a unit filing a referral for someone outside it gets
    the answer any referral gets, and the team a match to confirm (not a
    form error saying the number is taken, nor a second person). A referral
    the team has not confirmed opens no one's case to the unit."""
    from participants.models import HousingSituation, MatchStatus, Referral, SupportNeed
    from participants.services import referral_create

    social_worker = UserFactory(role=Role.SOCIAL_WORKER, scope_unit=scoped.unit_manager.scope_unit)
    with viewing_as(social_worker):
        referral = referral_create(
            acting_user=social_worker,
            personnummer=OUTSIDE_PNR,
            first_name="Annat",
            last_name="Namn",
            referral_date=timezone.localdate(),
            housing_situation=HousingSituation.ACUTE,
            support_need=SupportNeed.BOTH,
            referring_unit=social_worker.scope_unit,
        )
    referral = Referral._base_manager.get(pk=referral.pk)
    assert referral.participant_id == scoped.person.pk
    assert referral.match == MatchStatus.PENDING
    assert Participant._base_manager.filter(personnummer=OUTSIDE_PNR).count() == 1
    # The match is the team's to confirm: until then the unit's manager does
    # not see the known person's case through it.
    with viewing_as(scoped.unit_manager):
        assert not Participant.objects.filter(pk=scoped.person.pk).exists()
        assert not Referral.objects.filter(pk=referral.pk).exists()
    Referral._base_manager.filter(pk=referral.pk).update(match=MatchStatus.CONFIRMED)
    with viewing_as(scoped.unit_manager):
        assert Participant.objects.filter(pk=scoped.person.pk).exists()
