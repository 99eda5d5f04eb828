"""Protected identity, walked: no page, export or PDF shows a protected
person's name, personnummer, phone, e-mail, postal address or the address of
the apartment they live in to anyone the unit manager has not named for them.

A protected person with everything that can point at a person (a referral by
a social worker, an assessment, a tenancy with an incident, an action plan, a
signed visit, a crisis placement, a network contact, an activity they took
part in) joins the demo world. Then every URL pattern of the resolver is
opened (GET) by each viewer the access table lets in, with the apps' own
samples (``tests/<app>/url_samples.py``), with arguments pointing at the
protected person's records, and without arguments with ``?participant=``
pointing at them; every page of the admin site (list, change and history
pages of every registered model, every old version of the person's rows) is
opened by the administrator and by a superuser (break-glass). HTML, CSV,
.xlsx (openpyxl) and PDF (pypdf) bodies and the response headers are searched.

Unit managers decide on protection and see every identity
(``participants.identity.hidden_people``): their pages, dashboards and
exports are out of scope here, and so are the reports (managers only).
"""

import contextlib
import io
import logging
import random
from dataclasses import dataclass, field
from datetime import date, timedelta

import pytest
from django.contrib import admin
from django.contrib.auth.models import Group
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from openpyxl import load_workbook
from pypdf import PdfReader

from bostadforst.identity import protected_person_alias
from bostadforst.models import AccessLogEntry, CaseModel
from bostadforst.permissions import ACCESS_TABLE, PUBLIC
from bostadforst.roles import Role, role_of
from participants.models import (
    Answer,
    Criterion,
    EligibilityAssessment,
    IdentityProtection,
    Participant,
    ParticipantStatus,
    ReferralEvent,
    ReferralStatus,
)
from participants.personnummer import generate

from ..factories import UserFactory
from ..housing.factories import ApartmentFactory, IncidentFactory, TenancyFactory
from ..support.factories import (
    ActionPlanFactory,
    ActivityFactory,
    AttendanceFactory,
    CrisisPlacementFactory,
    GoalFactory,
    SupportVisitFactory,
)
from ..urlwalk import project_routes
from .factories import NetworkContactFactory, ParticipantFactory, ReferralFactory

pytestmark = pytest.mark.django_db

FIRST_NAME = "Ingeborgina"
LAST_NAME = "Hemlundqvistsson"
BORN = date(1963, 2, 27)
PERSONNUMMER = generate(random.Random(4711), born_from=BORN, born_to=BORN)
PHONE = "070-918 27 36"
EMAIL = "ingeborgina.hemlund@exempel.se"
POSTAL_ADDRESS = "Hemlighetsstigen 41"
APARTMENT_ADDRESS = "Kryptogatan 93"


def personnummer_forms(pnr: str) -> list[str]:
    """Every way the number is written: 12 and 10 digits, with '-' or '+',
    and the birth date alone (the masked form YYYYMMDD-**** shows it)."""
    long, short, last = pnr, pnr[2:], pnr[8:]
    return [
        long,
        short,
        f"{long[:8]}-{last}",
        f"{short[:6]}-{last}",
        f"{short[:6]}+{last}",
        long[:8],
        f"{long[:4]}-{long[4:6]}-{long[6:8]}",
    ]


IDENTITY = [
    FIRST_NAME,
    LAST_NAME,
    *personnummer_forms(PERSONNUMMER),
    PHONE,
    PHONE.replace("-", "").replace(" ", ""),
    EMAIL,
    EMAIL.split("@")[0],
    POSTAL_ADDRESS.split()[0],
]
ADDRESSES = [POSTAL_ADDRESS.split()[0], APARTMENT_ADDRESS.split()[0]]
EVERYTHING = [*IDENTITY, APARTMENT_ADDRESS.split()[0]]


@dataclass
class Protected:
    """The protected person, their records, and who looks."""

    person: Participant
    referral: object
    tenancy: object
    incident: object
    plan: object
    visit: object
    placement: object
    contact: object
    activity: object
    referrer: object  # the social worker who referred them
    other_social_worker: object
    unlisted_worker: object  # their own support worker, not on the access list
    listed_worker: object
    administrator: object
    superuser: object
    alias_seen: list = field(default_factory=list)


@pytest.fixture(scope="module")
def protected(world, django_db_blocker) -> Protected:
    """The protected person in the demo world (rolled back with it)."""
    with django_db_blocker.unblock():
        return _build(world)


def _build(world) -> Protected:
    today = timezone.localdate()
    person = ParticipantFactory(
        personnummer=PERSONNUMMER,
        first_name=FIRST_NAME,
        last_name=LAST_NAME,
        phone=PHONE,
        email=EMAIL,
        postal_address=POSTAL_ADDRESS,
        status=ParticipantStatus.APPROVED,
        support_worker=world.support_staff,
    )
    referral = ReferralFactory(
        participant=person,
        referred_by=world.social_worker,
        referral_date=today - timedelta(days=400),
        status=ReferralStatus.APPROVED,
        decided_by=world.unit_manager,
        decided_at=timezone.now() - timedelta(days=380),
        description="Har bott i bil sedan hösten; vill ha en egen lägenhet.",
        applicant_personnummer=PERSONNUMMER,
        applicant_first_name=FIRST_NAME,
        applicant_last_name=LAST_NAME,
        applicant_phone=PHONE,
        applicant_email=EMAIL,
        applicant_postal_address=POSTAL_ADDRESS,
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
    apartment = ApartmentFactory(address=APARTMENT_ADDRESS, postal_code="811 99")
    tenancy = TenancyFactory(
        participant=person, apartment=apartment, move_in=today - timedelta(days=300)
    )
    incident = IncidentFactory(tenancy=tenancy, kind="rent_arrears", occurred_on=today)
    plan = ActionPlanFactory(participant=person, created_by=world.support_staff)
    GoalFactory(plan=plan)
    visit = SupportVisitFactory(participant=person, author=world.other_support_staff)
    placement = CrisisPlacementFactory(participant=person)
    contact = NetworkContactFactory(
        participant=person, name="Kurt Kontaktsson", phone="070-555 00 11"
    )
    activity = ActivityFactory(title="Promenad i Hemlösa skogen")
    AttendanceFactory(activity=activity, participant=person)
    AttendanceFactory(
        activity=activity, participant=Participant.objects.exclude(pk=person.pk).first()
    )
    person.identity_protection = IdentityProtection.PROTECTED_REGISTRATION
    person.save()
    person.identity_access.add(world.other_support_staff)
    superuser = UserFactory(username="walk-breakglass", is_superuser=True, is_staff=True)
    superuser.groups.add(Group.objects.get(name=Role.ADMINISTRATOR.value))
    return Protected(
        person=person,
        referral=referral,
        tenancy=tenancy,
        incident=incident,
        plan=plan,
        visit=visit,
        placement=placement,
        contact=contact,
        activity=activity,
        referrer=world.social_worker,
        other_social_worker=world.other_social_worker,
        unlisted_worker=world.support_staff,
        listed_worker=world.other_support_staff,
        administrator=world.administrator,
        superuser=superuser,
    )


# Arguments pointing at the protected person's records: route -> (p -> kwargs).
def _person(p):
    return {"pk": p.person.pk}


def _referral(p):
    return {"pk": p.referral.pk}


def _tenancy(p):
    return {"pk": p.tenancy.pk}


def _visit(p):
    return {"pk": p.visit.pk}


def _plan(p):
    return {"pk": p.plan.pk}


def _placement(p):
    return {"pk": p.placement.pk}


def _of_person(p):
    return {"participant_pk": p.person.pk}


PROTECTED_SAMPLES = {
    "participants:participant-detail": _person,
    "participants:participant-update": _person,
    "participants:network-contact-create": _person,
    "participants:network-contact-update": lambda p: {"pk": p.contact.pk},
    "participants:referral-detail": _referral,
    "participants:referral-add-information": _referral,
    "participants:referral-withdraw": _referral,
    "participants:referral-start-assessment": _referral,
    "participants:referral-log-entry": _referral,
    "participants:referral-assess": _referral,
    "participants:referral-decide": _referral,
    "participants:referral-match-confirm": _referral,
    "participants:referral-match-reject": _referral,
    "housing:tenancy-detail": _tenancy,
    "housing:tenancy-takeover": _tenancy,
    "housing:tenancy-end": _tenancy,
    "housing:incident-create": _tenancy,
    "housing:incident-update": lambda p: {"pk": p.incident.pk},
    "support:visit-detail": _visit,
    "support:visit-edit": _visit,
    "support:visit-sign": _visit,
    "support:visit-correct": _visit,
    "support:visit-list": _of_person,
    "support:plan-list": _of_person,
    "support:plan-create": _of_person,
    "support:plan-detail": _plan,
    "support:plan-print": _plan,
    "support:plan-pdf": _plan,
    "support:placement-detail": _placement,
    "support:placement-end": _placement,
    # Not records of the person: pages that show them among others (the
    # apartment shows its tenant, the activity who took part), masked.
    "housing:apartment-detail": lambda p: {"pk": p.tenancy.apartment_id},
    "housing:apartment-update": lambda p: {"pk": p.tenancy.apartment_id},
    "support:activity-detail": lambda p: {"pk": p.activity.pk},
    "support:activity-attendance": lambda p: {"pk": p.activity.pk},
}
SHOWS_OTHERS = {
    "housing:apartment-detail",
    "housing:apartment-update",
    "support:activity-detail",
    "support:activity-attendance",
}


def protected_kwargs(route, p) -> dict | None:
    """Arguments pointing at the person's record of ``route``, if it has one
    (a new page about a person, taking ``participant_pk``, gets theirs)."""
    if route.name in PROTECTED_SAMPLES:
        return PROTECTED_SAMPLES[route.name](p)
    if set(route.converters) == {"participant_pk"}:
        return _of_person(p)
    return None


# --- What a response shows -------------------------------------------------------


def shown_text(response) -> str:
    """The headers and the body as text (.xlsx cells, PDF text)."""
    body = b"".join(response.streaming_content) if response.streaming else response.content
    headers = "\n".join(f"{k}: {v}" for k, v in response.items())
    content_type = response.get("Content-Type", "")
    if "spreadsheetml" in content_type:
        book = load_workbook(io.BytesIO(body), read_only=True, data_only=True)
        cells = [
            str(value)
            for sheet in book.worksheets
            for row in sheet.iter_rows(values_only=True)
            for value in row
            if value is not None
        ]
        book.close()
        text = "\n".join([*cells, *(sheet.title for sheet in book.worksheets)])
    elif "pdf" in content_type:
        reader = PdfReader(io.BytesIO(body))
        text = "\n".join(page.extract_text() or "" for page in reader.pages)
        text += "\n" + str(reader.metadata or "")
    else:
        text = body.decode("utf-8-sig", errors="replace")
    return headers + "\n" + text


def leaks_in(text: str, needles) -> list[str]:
    folded = text.casefold()
    return [n for n in needles if n.casefold() in folded]


def _reverse(name: str, kwargs: dict) -> str | None:
    try:
        return reverse(name, kwargs=kwargs)
    except NoReverseMatch:
        return None


def urls_for(world, p, route) -> list[str]:
    """The URLs to open for ``route``: the apps' sample, the protected
    person's record, and ``?participant=`` pointing at them. A route taking
    arguments without a sample is skipped here; test_url_matrix fails for it."""
    if not route.converters:
        base = reverse(route.name)
        # A preselection, and an export asking for protected people (which
        # only a unit manager may, participants.protection).
        return [base, f"{base}?participant={p.person.pk}&include_protected=1"]
    urls = []
    mine = protected_kwargs(route, p)
    if mine is not None:
        urls.append(_reverse(route.name, mine))
    with contextlib.suppress(LookupError):
        urls.append(_reverse(route.name, world.url_kwargs(route)))
    return [u for u in urls if u]


def walk(world, p, user, needles) -> tuple[int, list[str]]:
    """Open every page ``user`` may open; (pages opened, leaks found). The
    pages showing the person's alias are kept in ``p.alias_seen``."""
    client = world.client(user)
    role = role_of(user)
    alias = protected_person_alias(p.person.pk)
    opened, leaks = 0, []
    p.alias_seen = []
    for route in project_routes():
        if route.name not in PUBLIC and role not in ACCESS_TABLE.get(route.name, ()):
            continue
        if route.name in {"logout", "set_language"}:
            continue
        for url in urls_for(world, p, route):
            response = client.get(url)
            assert response.status_code < 500, (url, response.status_code)
            opened += 1
            text = shown_text(response)
            if alias in text:
                p.alias_seen.append(route.name)
            found = leaks_in(text, needles)
            if found:
                leaks.append(f"{route.name} {url} [{response.status_code}]: {found}")
    return opened, leaks


# --- The walks -------------------------------------------------------------------


@pytest.mark.parametrize(
    "who",
    ["unlisted_worker", "other_social_worker", "administrator"],
)
def test_no_page_or_export_shows_the_identity_to_someone_not_named(world, protected, who, caplog):
    caplog.set_level(logging.DEBUG)
    opened, leaks = walk(world, protected, getattr(protected, who), EVERYTHING)
    assert opened > 10
    assert not leaks, "\n".join(leaks)
    assert "Not Found" in caplog.text  # the 404s: logs are captured
    assert not leaks_in(caplog.text, EVERYTHING)  # and no log line names them
    if who == "unlisted_worker":  # the person is on the team's pages, as the alias
        assert {"support:my-participants", "support:activity-detail"} <= set(protected.alias_seen)
        # Hidden people come last in lists sorted by name (shown_order).
        listing = world.client(protected.unlisted_worker).get(
            reverse("participants:participant-list"), {"page": "last"}
        )
        assert protected_person_alias(protected.person.pk) in listing.text


def test_the_referrer_sees_what_they_typed_but_never_the_address(world, protected):
    opened, leaks = walk(world, protected, protected.referrer, ADDRESSES)
    assert opened > 10
    assert not leaks, "\n".join(leaks)
    page = world.client(protected.referrer).get(protected.referral.get_absolute_url())
    assert page.status_code == 200
    assert LAST_NAME in page.text  # what they typed


def test_a_listed_support_worker_sees_the_person(world, protected):
    client = world.client(protected.listed_worker)
    page = client.get(protected.person.get_absolute_url())
    assert page.status_code == 200
    assert LAST_NAME in page.text and FIRST_NAME in page.text
    listing = client.get(reverse("participants:participant-list"))
    assert LAST_NAME in listing.text
    apartment = client.get(
        reverse("housing:apartment-detail", args=[protected.tenancy.apartment_id])
    )
    assert APARTMENT_ADDRESS in apartment.text


# --- Denied opens ----------------------------------------------------------------


def _denied_rows(p, user) -> int:
    return AccessLogEntry.objects.filter(
        action=AccessLogEntry.Action.DENIED, person_id=p.person.pk, user=user
    ).count()


@pytest.mark.parametrize("who", ["unlisted_worker", "other_social_worker", "referrer"])
def test_opening_a_record_of_the_person_is_a_404_logged_as_denied(world, protected, who):
    user = getattr(protected, who)
    role = role_of(user)
    client = world.client(user)
    checked = []
    for route in project_routes():
        if route.name in SHOWS_OTHERS or role not in ACCESS_TABLE.get(route.name, ()):
            continue
        kwargs = protected_kwargs(route, protected)
        if kwargs is None:
            continue
        if who == "referrer" and route.name.startswith("participants:referral-"):
            continue  # their own referral, opened in the walk above
        before = _denied_rows(protected, user)
        response = client.get(reverse(route.name, kwargs=kwargs))
        assert response.status_code == 404, (route.name, response.status_code)
        assert _denied_rows(protected, user) == before + 1, route.name
        checked.append(route.name)
    assert checked or who == "referrer"
    if role == Role.SUPPORT_STAFF:
        assert {"participants:participant-detail", "support:visit-detail"} <= set(checked)


# --- The admin site --------------------------------------------------------------


def _rows_of_person(model, p) -> list:
    """The rows of ``model`` that belong to or show the protected person."""
    if model is Participant:
        return [p.person]
    if model is type(p.tenancy.apartment):
        return [p.tenancy.apartment]
    if model is type(p.activity):
        return [p.activity]
    path = getattr(model, "participant_path", None)
    if not (isinstance(model, type) and issubclass(model, CaseModel)) or not path:
        return []
    return list(model._base_manager.filter(**{path.removesuffix("__self"): p.person}))


def admin_urls(p) -> list[str]:
    """Every admin page that lists or shows the person's rows."""
    urls = [reverse("admin:index")]
    for model in admin.site._registry:
        info = f"admin:{model._meta.app_label}_{model._meta.model_name}"
        urls.append(reverse(f"{info}_changelist"))
        for row in _rows_of_person(model, p):
            urls += [
                reverse(f"{info}_change", args=[row.pk]),
                reverse(f"{info}_history", args=[row.pk]),
            ]
            for version in row.history.all() if hasattr(row, "history") else ():
                try:  # one old version (simple-history's admin)
                    urls.append(reverse(f"{info}_simple_history", args=[row.pk, version.pk]))
                except NoReverseMatch:
                    break
    return urls


@pytest.mark.parametrize("who", ["administrator", "superuser"])
def test_no_admin_page_shows_the_identity(world, protected, who):
    """The administrator sees users and reference data; a superuser (break
    glass) sees case records too, but is not named for the person either."""
    client = world.client(getattr(protected, who))
    leaks = []
    urls = admin_urls(protected)
    for url in urls:
        response = client.get(url)
        assert response.status_code in {200, 302, 403}, (url, response.status_code)
        found = leaks_in(shown_text(response), EVERYTHING)
        if found:
            leaks.append(f"{url} [{response.status_code}]: {found}")
    assert len(urls) > 20
    assert not leaks, "\n".join(leaks)


def test_the_walk_finds_the_identity_where_it_is_shown(world, protected):
    """The walk itself works: the listed worker's walk finds the name (not in
    exports: those leave protected people out for all but unit managers)."""
    opened, leaks = walk(world, protected, protected.listed_worker, [LAST_NAME])
    assert any("participants:participant-detail" in leak for leak in leaks)
    assert any("support:plan-pdf" in leak for leak in leaks)  # PDFs are read
    assert any("support:visit-detail" in leak for leak in leaks)


@pytest.mark.parametrize("who", ["administrator", "superuser"])
def test_an_admin_search_by_the_identity_finds_nothing(world, protected, who):
    """A search that found the person's rows (shown masked) would tie the
    name or the address to the alias, as the app's own searches know
    (participants.selectors): the terms match no one else in the world."""
    client = world.client(getattr(protected, who))
    found = []
    for model, model_admin in admin.site._registry.items():
        if not model_admin.search_fields:
            continue
        url = reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist")
        for term in (LAST_NAME, FIRST_NAME, APARTMENT_ADDRESS.split()[0]):
            response = client.get(url, {"q": term})
            if response.status_code == 200 and response.context["cl"].result_count:
                found.append(f"{url}?q={term}")
    assert not found, found
