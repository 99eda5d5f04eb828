"""Housing pages: who may open them, the forms' answers to good and bad
input, and query counts that do not grow with the data."""

import datetime
import re
from decimal import Decimal

import pytest
from django.urls import reverse

from bostadforst.roles import Role
from housing.models import ContractType, ExitReason, Tenancy, TenancyIncident
from housing.participant_page import housing_timeline, tenancy_section_context
from participants.models import ParticipantStatus
from tests.participants.factories import ParticipantFactory

from .factories import ApartmentFactory, IncidentFactory, TenancyFactory

D = datetime.date


@pytest.fixture
def tenancy(db):
    return TenancyFactory(move_in=D(2023, 3, 1), contract_type=ContractType.SOCIAL)


def all_urls(tenancy, incident):
    return [
        reverse("housing:apartment-list"),
        reverse("housing:apartment-create"),
        reverse("housing:apartment-detail", kwargs={"pk": tenancy.apartment_id}),
        reverse("housing:apartment-update", kwargs={"pk": tenancy.apartment_id}),
        reverse("housing:tenancy-assign"),
        reverse("housing:tenancy-detail", kwargs={"pk": tenancy.pk}),
        reverse("housing:tenancy-takeover", kwargs={"pk": tenancy.pk}),
        reverse("housing:tenancy-end", kwargs={"pk": tenancy.pk}),
        reverse("housing:incident-create", kwargs={"pk": tenancy.pk}),
        reverse("housing:incident-update", kwargs={"pk": incident.pk}),
        reverse("housing:eviction-risk-list"),
    ]


@pytest.mark.django_db
@pytest.mark.parametrize(
    "role, status",
    [
        (Role.SUPPORT_STAFF, 200),
        (Role.UNIT_MANAGER, 200),
        (Role.SOCIAL_WORKER, 403),
        (Role.ADMINISTRATOR, 403),
    ],
)
def test_housing_pages_are_the_teams_only(role, status, role_users, client_for, tenancy):
    client = client_for(role_users[role])
    incident = IncidentFactory(tenancy=tenancy)
    for url in all_urls(tenancy, incident):
        assert client.get(url).status_code == status, url


@pytest.mark.django_db
def test_anonymous_visitors_are_sent_to_the_login_page(client, tenancy):
    incident = IncidentFactory(tenancy=tenancy)
    for url in all_urls(tenancy, incident):
        response = client.get(url)
        assert response.status_code == 302 and "/login/" in response["Location"], url


@pytest.mark.django_db
def test_a_missing_record_is_a_404(ss_client):
    for name in (
        "apartment-detail",
        "tenancy-detail",
        "tenancy-end",
        "incident-update",
        "incident-create",
    ):
        assert ss_client.get(reverse(f"housing:{name}", kwargs={"pk": 999999})).status_code == 404


@pytest.mark.django_db
def test_a_social_worker_sees_no_housing_section_or_events(social_worker, support_staff, tenancy):
    assert tenancy_section_context(tenancy.participant, user=social_worker) is None
    assert housing_timeline(tenancy.participant, user=social_worker, limit=10) == []
    context = tenancy_section_context(tenancy.participant, user=support_staff)
    assert context["housing_current"] == tenancy


@pytest.mark.django_db
def test_the_participant_section_flags_open_eviction_risks(support_staff, tenancy):
    IncidentFactory(tenancy=tenancy, kind="notice", occurred_on=D(2024, 1, 10))
    IncidentFactory(
        tenancy=tenancy, kind="damage", occurred_on=D(2024, 1, 11), resolved_on=D(2024, 2, 1)
    )
    context = tenancy_section_context(tenancy.participant, user=support_staff)
    assert context["housing_eviction_risk"] is True
    assert [i.kind for i in context["housing_open_incidents"]] == ["notice"]
    kinds = [e.kind for e in housing_timeline(tenancy.participant, user=support_staff, limit=10)]
    assert kinds == ["Tenancy incident", "Tenancy incident", "Move-in"] or len(kinds) == 3


# --- letting in the browser ----------------------------------------------------


def ss_client_user(client):
    """The support worker ``ss_client`` is logged in as (an active support worker)."""
    from bostadforst.models import User

    return User.objects.get(pk=client.session["_auth_user_id"])


@pytest.mark.django_db
def test_the_team_lets_an_apartment_in_the_browser(ss_client, approved, apartment):
    page = ss_client.get(reverse("housing:tenancy-assign") + f"?apartment={apartment.pk}")
    assert page.status_code == 200 and str(approved) in page.content.decode()
    response = ss_client.post(
        reverse("housing:tenancy-assign"),
        {
            "participant": approved.pk,
            "apartment": apartment.pk,
            "contract_type": ContractType.SOCIAL,
            "move_in": "2024-04-01",
            "support_worker": ss_client_user(ss_client).pk,
        },
    )
    tenancy = Tenancy.objects.get()
    assert response.status_code == 302 and response["Location"] == tenancy.get_absolute_url()
    approved.refresh_from_db()
    assert approved.status == ParticipantStatus.HOUSED


@pytest.mark.django_db
def test_letting_to_someone_not_approved_answers_400_with_a_reason(ss_client, apartment):
    referred = ParticipantFactory(status=ParticipantStatus.REFERRED)
    response = ss_client.post(
        reverse("housing:tenancy-assign"),
        {
            "participant": referred.pk,
            "apartment": apartment.pk,
            "contract_type": ContractType.SOCIAL,
            "move_in": "2024-04-01",
            "support_worker": ss_client_user(ss_client).pk,
        },
    )
    assert response.status_code == 400
    assert "inte beviljats" in response.content.decode()
    assert not Tenancy.objects.exists()


@pytest.mark.django_db
def test_double_letting_answers_400_naming_the_other_tenancy(ss_client, approved, tenancy):
    response = ss_client.post(
        reverse("housing:tenancy-assign"),
        {
            "participant": approved.pk,
            "apartment": tenancy.apartment_id,
            "contract_type": ContractType.FIRST_HAND,
            "move_in": "2024-04-01",
            "support_worker": ss_client_user(ss_client).pk,
        },
    )
    assert response.status_code == 400
    body = response.content.decode()
    assert "redan uthyrd" in body and "2023-03-01" in body
    assert Tenancy.objects.count() == 1


@pytest.mark.django_db
def test_the_team_records_a_takeover(ss_client, tenancy):
    response = ss_client.post(
        reverse("housing:tenancy-takeover", kwargs={"pk": tenancy.pk}),
        {"takeover": "2024-02-01", "version": tenancy.version},
    )
    assert response.status_code == 302
    tenancy.refresh_from_db()
    assert tenancy.takeover == D(2024, 2, 1)


@pytest.mark.django_db
def test_the_team_corrects_a_wrong_takeover_date_with_a_reason(ss_client, tenancy):
    tenancy.takeover = D(2024, 2, 1)
    tenancy.save()
    detail = reverse("housing:tenancy-detail", kwargs={"pk": tenancy.pk})
    url = reverse("housing:tenancy-takeover", kwargs={"pk": tenancy.pk})
    assert url in ss_client.get(detail).content.decode()
    page = ss_client.get(url).content.decode()
    assert "Rätta datumet för övertagandet" in page and "2024-02-01" in page

    response = ss_client.post(url, {"takeover": "2024-03-01", "version": tenancy.version})
    assert response.status_code == 400  # no reason given
    tenancy.refresh_from_db()
    assert tenancy.takeover == D(2024, 2, 1)

    response = ss_client.post(
        url,
        {"takeover": "2024-03-01", "reason": "Fel månad", "version": tenancy.version},
    )
    assert response.status_code == 302
    tenancy.refresh_from_db()
    assert tenancy.takeover == D(2024, 3, 1)
    body = ss_client.get(detail).content.decode()
    assert "Fel månad" in body and "2024-03-01" in body


@pytest.mark.django_db
def test_a_takeover_correction_over_someone_elses_save_is_refused(
    ss_client, tenancy, support_staff
):
    from housing import services

    tenancy.takeover = D(2024, 2, 1)
    tenancy.save()
    read_version = tenancy.version
    services.tenancy_correct_takeover(
        tenancy=Tenancy.objects.get(pk=tenancy.pk),
        takeover=D(2024, 2, 15),
        reason="Rättat av kollega",
        acting_user=support_staff,
    )
    response = ss_client.post(
        reverse("housing:tenancy-takeover", kwargs={"pk": tenancy.pk}),
        {"takeover": "2024-03-01", "reason": "Fel månad", "version": read_version},
    )
    assert response.status_code == 400
    tenancy.refresh_from_db()
    assert tenancy.takeover == D(2024, 2, 15)


@pytest.mark.django_db
def test_a_takeover_on_a_first_hand_contract_answers_400(ss_client):
    tenancy = TenancyFactory(contract_type=ContractType.FIRST_HAND)
    response = ss_client.post(
        reverse("housing:tenancy-takeover", kwargs={"pk": tenancy.pk}),
        {"takeover": "2024-02-01", "version": tenancy.version},
    )
    assert response.status_code == 400
    assert "socialt kontrakt" in response.content.decode()
    tenancy.refresh_from_db()
    assert tenancy.takeover is None


@pytest.mark.django_db
def test_the_team_ends_a_tenancy_with_a_reason(ss_client, tenancy):
    response = ss_client.post(
        reverse("housing:tenancy-end", kwargs={"pk": tenancy.pk}),
        {
            "move_out": "2024-05-01",
            "exit_reason": ExitReason.INSTITUTION,
            "note": "",
            "close_case": "on",
            "version": tenancy.version,
        },
    )
    assert response.status_code == 302
    tenancy.refresh_from_db()
    assert (tenancy.move_out, tenancy.exit_reason) == (D(2024, 5, 1), "institution")
    tenancy.participant.refresh_from_db()
    assert tenancy.participant.status == "exited"
    assert tenancy.participant.closed_on == D(2024, 5, 1)


@pytest.mark.django_db
@pytest.mark.parametrize(
    "data, text",
    [
        ({"move_out": "2023-02-01", "exit_reason": "evicted"}, "efter inflyttningsdatumet"),
        ({"move_out": "2024-02-01", "exit_reason": ""}, "Detta fält måste fyllas i"),
        ({"move_out": "2024-02-01", "exit_reason": "bored"}, "giltigt"),
        ({"move_out": "", "exit_reason": "evicted"}, "Detta fält måste fyllas i"),
    ],
)
def test_ending_with_bad_input_answers_400_and_saves_nothing(ss_client, tenancy, data, text):
    response = ss_client.post(
        reverse("housing:tenancy-end", kwargs={"pk": tenancy.pk}),
        {**data, "note": "", "version": tenancy.version},
    )
    assert response.status_code == 400
    assert text in response.content.decode()
    tenancy.refresh_from_db()
    assert tenancy.move_out is None and tenancy.version == 1


@pytest.mark.django_db
def test_a_stale_end_form_is_refused(ss_client, tenancy, support_staff):
    from housing import services

    services.tenancy_record_takeover(
        tenancy=Tenancy.objects.get(pk=tenancy.pk),
        takeover=D(2023, 6, 1),
        acting_user=support_staff,
    )
    response = ss_client.post(
        reverse("housing:tenancy-end", kwargs={"pk": tenancy.pk}),
        {"move_out": "2024-05-01", "exit_reason": "evicted", "note": "", "version": 1},
    )
    assert response.status_code == 400
    tenancy.refresh_from_db()
    assert tenancy.move_out is None


@pytest.mark.django_db
@pytest.mark.parametrize(
    "rent, text",
    [("-100", "kan inte vara negativ"), ("250000", "inte rimlig"), ("12", "inte rimlig")],
)
def test_negative_or_absurd_rent_answers_400(ss_client, rent, text):
    apartment = ApartmentFactory()
    response = ss_client.post(
        reverse("housing:apartment-create"),
        {
            "landlord": apartment.landlord_id,
            "address": "Nygatan 3",
            "monthly_rent": rent,
            "status": "active",
        },
    )
    assert response.status_code == 400
    assert text in response.content.decode()
    assert not apartment.landlord.apartments.filter(address="Nygatan 3").exists()


@pytest.mark.django_db
def test_the_team_adds_and_edits_an_apartment(ss_client):
    landlord = ApartmentFactory().landlord
    response = ss_client.post(
        reverse("housing:apartment-create"),
        {
            "landlord": landlord.pk,
            "address": "Nygatan 3",
            "city": "Sandviken",
            "rooms": "2",
            "size_sqm": "52",
            "monthly_rent": "6400",
            "status": "active",
        },
    )
    assert response.status_code == 302
    apartment = landlord.apartments.get(address="Nygatan 3")
    response = ss_client.post(
        reverse("housing:apartment-update", kwargs={"pk": apartment.pk}),
        {
            "landlord": landlord.pk,
            "address": "Nygatan 3 B",
            "monthly_rent": "6500",
            "status": "active",
            "version": apartment.version,
        },
    )
    assert response.status_code == 302
    apartment.refresh_from_db()
    assert (apartment.address, apartment.monthly_rent) == ("Nygatan 3 B", Decimal("6500"))


@pytest.mark.django_db
def test_the_team_logs_and_resolves_an_incident(ss_client, tenancy):
    url = reverse("housing:incident-create", kwargs={"pk": tenancy.pk})
    response = ss_client.post(
        url,
        {
            "kind": "rent_arrears",
            "occurred_on": "2024-03-05",
            "amount": "6200",
            "description": "Mars obetald.",
        },
    )
    assert response.status_code == 302
    incident = TenancyIncident.objects.get()
    response = ss_client.post(
        reverse("housing:incident-update", kwargs={"pk": incident.pk}),
        {
            "kind": "rent_arrears",
            "occurred_on": "2024-03-05",
            "amount": "6200",
            "description": "Mars obetald.",
            "resolved_on": "2024-04-02",
            "resolution": "Betalt.",
            "version": incident.version,
        },
    )
    assert response.status_code == 302
    incident.refresh_from_db()
    assert incident.resolved_on == D(2024, 4, 2)


@pytest.mark.django_db
def test_rent_arrears_without_an_amount_answers_400(ss_client, tenancy):
    response = ss_client.post(
        reverse("housing:incident-create", kwargs={"pk": tenancy.pk}),
        {"kind": "rent_arrears", "occurred_on": "2024-03-05", "description": "Obetald."},
    )
    assert response.status_code == 400
    assert "belopp" in response.content.decode()
    assert not TenancyIncident.objects.exists()


# --- lists ----------------------------------------------------------------------


@pytest.mark.django_db
def test_the_apartment_list_derives_vacant_and_let_and_filters(ss_client):
    let = TenancyFactory(apartment__address="Kungsgatan 1").apartment
    ended = TenancyFactory(
        apartment__address="Kungsgatan 2", move_out=D(2024, 2, 1), exit_reason="moved_on"
    ).apartment
    vacant = ApartmentFactory(address="Drottninggatan 5")
    url = reverse("housing:apartment-list")

    def listed(**params):
        response = ss_client.get(url, params)
        return {a.pk for a in response.context["apartments"]}

    assert listed() == {let.pk, ended.pk, vacant.pk}
    assert listed(occupancy="let") == {let.pk}
    assert listed(occupancy="vacant") == {ended.pk, vacant.pk}
    assert listed(q="kungs") == {let.pk, ended.pk}
    assert listed(landlord=vacant.landlord_id) == {vacant.pk}
    assert listed(occupancy="nonsense", landlord="x", page="1") == {let.pk, ended.pk, vacant.pk}


@pytest.mark.django_db
def test_the_eviction_risk_list_holds_open_arrears_and_notices_oldest_first(ss_client):
    ongoing = TenancyFactory(move_in=D(2022, 1, 1))
    ended = TenancyFactory(move_in=D(2022, 1, 1), move_out=D(2024, 6, 1), exit_reason="evicted")
    notice = IncidentFactory(tenancy=ongoing, kind="notice", occurred_on=D(2024, 3, 1))
    arrears = IncidentFactory(
        tenancy=ongoing, kind="rent_arrears", amount=Decimal("900"), occurred_on=D(2024, 1, 15)
    )
    IncidentFactory(
        tenancy=ongoing,
        kind="rent_arrears",
        amount=Decimal("1"),
        occurred_on=D(2023, 1, 15),
        resolved_on=D(2023, 2, 1),
    )  # resolved
    IncidentFactory(tenancy=ongoing, kind="disturbance", occurred_on=D(2023, 1, 1))
    IncidentFactory(tenancy=ongoing, kind="damage", occurred_on=D(2023, 1, 1))
    IncidentFactory(tenancy=ongoing, kind="landlord_contact", occurred_on=D(2023, 1, 1))
    IncidentFactory(tenancy=ended, kind="notice", occurred_on=D(2024, 1, 1))  # ended tenancy
    response = ss_client.get(reverse("housing:eviction-risk-list"))
    assert list(response.context["incidents"]) == [arrears, notice]
    assert "900" in response.content.decode()


def build_caseload(n: int) -> None:
    for i in range(n):
        tenancy = TenancyFactory(move_in=D(2021, 1, 1) + datetime.timedelta(days=i))
        IncidentFactory(tenancy=tenancy, kind="rent_arrears", amount=Decimal("500"))
        IncidentFactory(tenancy=tenancy, kind="notice")
        TenancyFactory(
            apartment=tenancy.apartment,
            move_in=D(2019, 1, 1),
            move_out=D(2020, 1, 1),
            exit_reason="other",
        )
        ApartmentFactory()


def count_queries(client, url) -> int:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as ctx:
        assert client.get(url).status_code == 200
    return len(ctx.captured_queries)


# Queries per list page: six for the request itself (session, user, role, and
# the session's activity stamp in a savepoint), one for the protected people
# hidden from the viewer (bostadforst.identity), then the page's own: the
# apartment list its count, landlord filter, page and current tenants; the
# eviction-risk list its count and page (tenancy, tenant, apartment and
# landlord joined in).
LIST_QUERY_BUDGET = {
    "housing:apartment-list": 7 + 4,
    "housing:eviction-risk-list": 7 + 2,
}


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("name", "params", "rows"),
    [
        ("housing:apartment-list", "", "apartments"),
        ("housing:apartment-list", "?occupancy=let&q=Testgatan", "apartments"),
        ("housing:eviction-risk-list", "", "incidents"),
    ],
)
def test_list_pages_take_the_same_number_of_queries_at_two_sizes(
    name, params, rows, ss_client, django_assert_num_queries
):
    url = reverse(name) + params
    build_caseload(2)
    ss_client.get(url)  # warm the session and the role cache
    small_rows = len(ss_client.get(url).context[rows])
    small = count_queries(ss_client, url)
    build_caseload(12)
    with django_assert_num_queries(small):
        response = ss_client.get(url)
    assert response.status_code == 200
    assert len(response.context[rows]) > 2 * small_rows  # the page really grew
    assert small <= LIST_QUERY_BUDGET[name]


@pytest.mark.django_db
def test_detail_pages_take_the_same_number_of_queries_at_two_sizes(
    ss_client, django_assert_num_queries
):
    small = TenancyFactory(move_in=D(2024, 1, 1))
    big = TenancyFactory(move_in=D(2024, 1, 1))
    for year in range(2010, 2020):
        TenancyFactory(
            apartment=big.apartment,
            move_in=D(year, 1, 1),
            move_out=D(year, 6, 1),
            exit_reason="other",
        )
        IncidentFactory(tenancy=big, occurred_on=D(2024, 2, year - 2009))
    for name, a, b in [
        ("apartment-detail", small.apartment_id, big.apartment_id),
        ("tenancy-detail", small.pk, big.pk),
    ]:
        n = count_queries(ss_client, reverse(f"housing:{name}", kwargs={"pk": a}))
        with django_assert_num_queries(n):
            ss_client.get(reverse(f"housing:{name}", kwargs={"pk": b}))


@pytest.mark.django_db
def test_pages_show_dates_the_swedish_way(ss_client, tenancy):
    body = ss_client.get(reverse("housing:tenancy-detail", kwargs={"pk": tenancy.pk})).content
    assert re.search(rb"2023-03-01", body)


@pytest.mark.django_db
def test_the_participant_page_section_renders_the_current_tenancy(support_staff, tenancy):
    from django.template.loader import render_to_string

    IncidentFactory(tenancy=tenancy, kind="rent_arrears", amount=Decimal("4800"))
    context = tenancy_section_context(tenancy.participant, user=support_staff)
    html = render_to_string("housing/_partials/participant_section.html", {"section": context})
    assert tenancy.apartment.address in html
    assert "Vräkningsrisk" in html and "4\xa0800" in html


@pytest.mark.django_db
def test_the_letting_form_offers_the_waiting_first_and_groups_vacant_apartments(ss_client):
    waiting = ParticipantFactory(status=ParticipantStatus.APPROVED, last_name="Väntarsson")
    moving = TenancyFactory(move_in=D(2024, 1, 1)).participant
    nameless = ParticipantFactory(imported=True, first_name="", last_name="")
    nameless.status = ParticipantStatus.HOUSED
    nameless.save()
    vacant = ApartmentFactory(address="Ledigvägen 1")
    form = ss_client.get(reverse("housing:tenancy-assign")).context["form"]
    groups = form.fields["participant"].widget.choices[1:]
    assert [label for label, _ in groups] == ["Beviljad, väntar på lägenhet", "Har bostad"]
    offered = {pk for _label, options in groups for pk, _name in options}
    assert waiting.pk in offered and moving.pk in offered
    assert nameless.pk not in offered
    apartments = dict(form.fields["apartment"].widget.choices[1:])
    assert list(apartments) == [
        "Lediga lägenheter",
        "Uthyrda nu (för inflyttning efter nuvarande hyresgäst)",
    ]
    assert vacant.pk in {pk for pk, _ in apartments["Lediga lägenheter"]}


@pytest.mark.django_db
def test_letting_records_the_provider_and_the_tenancy_page_shows_it(ss_client, approved, apartment):
    from .factories import ProviderFactory

    iop = ProviderFactory(name="Stadsmissionen (IOP)", kind="iop_partner")
    ProviderFactory(name="Avslutad partner", active=False)
    page = ss_client.get(reverse("housing:tenancy-assign")).content.decode()
    assert "Stadsmissionen (IOP)" in page and "Avslutad partner" not in page
    response = ss_client.post(
        reverse("housing:tenancy-assign"),
        {
            "participant": approved.pk,
            "apartment": apartment.pk,
            "contract_type": ContractType.SOCIAL,
            "provider": iop.pk,
            "move_in": "2024-04-01",
            "support_worker": ss_client_user(ss_client).pk,
        },
    )
    tenancy = Tenancy.objects.get()
    assert response.status_code == 302 and tenancy.provider == iop
    detail = ss_client.get(tenancy.get_absolute_url()).content.decode()
    assert "Utförare" in detail and "Stadsmissionen (IOP)" in detail


@pytest.mark.django_db
def test_the_team_changes_a_tenancys_provider(ss_client, tenancy):
    from .factories import ProviderFactory

    iop = ProviderFactory(name="Stadsmissionen (IOP)", kind="iop_partner")
    url = reverse("housing:tenancy-provider", kwargs={"pk": tenancy.pk})
    assert "Ändra utförare" in ss_client.get(tenancy.get_absolute_url()).content.decode()
    assert ss_client.get(url).status_code == 200
    response = ss_client.post(url, {"provider": iop.pk, "version": tenancy.version})
    assert response.status_code == 302
    tenancy.refresh_from_db()
    assert tenancy.provider == iop and tenancy.history.latest().provider_id == iop.pk
    stale = ss_client.post(url, {"provider": "", "version": tenancy.version - 1})
    assert stale.status_code in (400, 409)
    tenancy.refresh_from_db()
    assert tenancy.provider == iop
