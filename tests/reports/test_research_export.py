"""Research exports (issue 18 item 6): a pseudonymised dataset with no
personnummer, name, address, free text or database id in any cell;
pseudonyms stable under one export key and unrelated under another; dates
shifted per person with the intervals kept, or coarsened to the month;
protected people left out and counted; each export logged with its purpose,
decision and key fingerprint (never the key); unit managers only."""

import datetime
import io
import uuid
from html import unescape

import pytest
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from bostadforst.mixins import TOKEN_FIELD
from bostadforst.models import AccessLogEntry
from bostadforst.roles import Role
from participants.models import (
    Answer,
    Criterion,
    EligibilityAssessment,
    Participant,
    ParticipantStatus,
    TargetGroup,
)
from reports import research_export
from reports.models import ResearchExport
from tests.housing.factories import TenancyFactory
from tests.participants.factories import ParticipantFactory, ReferralFactory
from tests.support.factories import (
    CrisisPlacementFactory,
    OutcomeFollowUpFactory,
    SupportVisitFactory,
)

pytestmark = pytest.mark.django_db

KEY = "lunds-universitet-2026-nyckel"
OTHER_KEY = "en-helt-annan-projektnyckel"


@pytest.fixture(autouse=True)
def no_progress_beats(monkeypatch):
    """The heartbeat's own connection cannot see the test's uncommitted rows."""
    monkeypatch.setattr(research_export, "PROGRESS_INTERVAL", 3600)


def _aware(day: str, hour: int = 10) -> datetime.datetime:
    return timezone.make_aware(
        datetime.datetime.combine(datetime.date.fromisoformat(day), datetime.time(hour))
    )


@pytest.fixture
def caseload():
    """Three people with everything a dataset could leak: names,
    personnummer, addresses, notes, descriptions, outcome follow-ups in their
    own words; and one protected person."""
    people = []
    for index, (first, last) in enumerate(
        [("Astrid", "Forskningsson"), ("Bertil", "Uttagsberg"), ("Cecilia", "Pseudolin")]
    ):
        person = ParticipantFactory(
            first_name=first,
            last_name=last,
            status=ParticipantStatus.HOUSED,
            postal_address=f"Hemliga gatan {index + 1}",
        )
        person.target_groups.add(TargetGroup.objects.get(code="long_term_homeless"))
        referral = ReferralFactory(
            participant=person,
            referral_date=datetime.date(2024, 1, 10 + index),
            description=f"Fritext om {first} som aldrig får lämna systemet",
        )
        EligibilityAssessment.objects.create(
            referral=referral,
            criterion=Criterion.HOMELESS,
            answer=Answer.MET,
            note=f"Bedömningsanteckning {last}",
        )
        TenancyFactory(
            participant=person,
            move_in=datetime.date(2024, 3, 1 + index),
            move_out=datetime.date(2025, 6, 15),
            exit_reason="moved_on",
            takeover=datetime.date(2025, 1, 20),
            note=f"Boendeanteckning {last}",
        )
        CrisisPlacementFactory(
            participant=person,
            start=datetime.date(2024, 9, 5),
            end=datetime.date(2024, 9, 12 + index),
            note=f"Placeringsanteckning {last}",
        )
        for day in ("2024-04-02", "2024-04-20", "2024-05-07"):
            SupportVisitFactory(
                participant=person,
                started_at=_aware(day),
                note=f"Journalanteckning om {first} {last}",
            )
        for day, occupation, qol in (("2024-03-05", "none", 4), ("2024-09-02", "studies", None)):
            OutcomeFollowUpFactory(
                participant=person,
                date=datetime.date.fromisoformat(day),
                point_months=0 if day == "2024-03-05" else 6,
                occupation=occupation,
                income_source="financial_assistance",
                addiction_care="yes",
                psychiatric_care="unknown",
                quality_of_life=qol,
                contract_form="social",
                own_words=f"Med egna ord mår {first} bättre sedan flytten",
            )
        people.append(person)
    hidden = ParticipantFactory(
        first_name="Skyddad", last_name="Hemligsdotter", identity_protection="protected"
    )
    TenancyFactory(participant=hidden, move_in=datetime.date(2024, 2, 1))
    OutcomeFollowUpFactory(participant=hidden, date=datetime.date(2024, 2, 3))
    return people, hidden


def run_export(user, *, key=KEY, date_mode="shift", **fields) -> ResearchExport:
    job = research_export.research_export_order(
        project=fields.get("project", "Utvärdering av Bostad först"),
        purpose=fields.get("purpose", "Boendestabilitet över tid"),
        decision_reference=fields.get("decision_reference", "Dnr 2026-01234-01"),
        export_key=key,
        date_mode=date_mode,
        acting_user=user,
    )
    assert research_export.research_export_run(export_id=job.pk) == ResearchExport.State.DONE
    job.refresh_from_db()
    return job


def sheets(job: ResearchExport) -> dict[str, list[tuple]]:
    with job.file.open("rb") as file:
        book = load_workbook(io.BytesIO(file.read()), read_only=True, data_only=True)
    return {sheet.title: list(sheet.iter_rows(values_only=True)) for sheet in book.worksheets}


# The Swedish headings, as the tests name the columns.
HEADINGS = {
    "Pseudonym": "pseudonym",
    "Status": "status",
    "Målgrupper": "target_groups",
    "Remissdatum": "referral_date",
    "Boendesituation": "housing_situation",
    "Stödbehov": "support_need",
    "Bedömning": "eligibility",
    "Inflyttning": "move_in",
    "Utflyttning": "move_out",
    "Avslutsorsak": "exit_reason",
    "Kontraktsform": "contract_type",
    "Övertagande": "takeover",
    "Start": "start",
    "Slut": "end",
    "Orsak": "reason",
    "Månad": "month",
    "Stödbesök": "visits",
    "Uteblivna": "missed",
    "Uppföljningsdatum": "date",
    "Uppföljningspunkt": "point",
    "Sysselsättning": "occupation",
    "Försörjning": "income_source",
    "Beroendevård": "addiction_care",
    "Psykiatri": "psychiatric_care",
    "Livskvalitet": "quality_of_life",
}


def table(book, title) -> list[dict]:
    header, *rows = book[title]
    return [dict(zip([HEADINGS[h] for h in header], row, strict=False)) for row in rows]


def test_no_cell_holds_a_personnummer_name_address_free_text_or_id(caseload, unit_manager):
    people, hidden = caseload
    job = run_export(unit_manager)
    book = sheets(job)

    assert list(book) == [
        "README",
        "Personer",
        "Boenden",
        "Sviktplaceringar",
        "Stödbesök per månad",
        "Uppföljningar av utfall",
    ]
    forbidden = set()
    for person in [*people, hidden]:
        forbidden |= {person.first_name, person.last_name, person.postal_address}
        forbidden |= {person.personnummer, person.personnummer[2:], person.personnummer_display}
        for tenancy in person.tenancies.all():
            forbidden |= {tenancy.note, tenancy.apartment.address}
        for referral in person.referrals.all():
            forbidden |= {referral.description}
            forbidden |= {a.note for a in referral.assessments.all()}
        forbidden |= {p.note for p in person.crisis_placements.all()}
        forbidden |= {v.note for v in person.visits.all()}
        forbidden |= {f.own_words for f in person.outcome_follow_ups.all()}
    forbidden.discard("")
    # The fixture's own words are set, so the scan below looks for them.
    assert sum("Med egna ord" in text for text in forbidden) == 3
    digits = {p.personnummer.replace("-", "") for p in [*people, hidden]}
    ids = {str(p.pk) for p in [*people, hidden]}
    cells = 0
    for rows in book.values():
        for row in rows:
            for value in row:
                if value is None:
                    continue
                cells += 1
                text = str(value)
                assert not any(word in text for word in forbidden), text
                assert not any(number in text.replace("-", "") for number in digits), text
    assert cells > 100
    for title in (
        "Personer",
        "Boenden",
        "Sviktplaceringar",
        "Stödbesök per månad",
        "Uppföljningar av utfall",
    ):
        for row in table(book, title):
            assert row["pseudonym"] not in ids and len(row["pseudonym"]) == 16


def test_protected_people_are_left_out_and_only_counted(caseload, unit_manager):
    people, hidden = caseload
    # By month: shifted, a visit on 2 April can move into March and make a
    # seventh visit month, depending on the person's id (PostgreSQL's ids
    # depend on the tests run before).
    job = run_export(unit_manager, date_mode="month")
    book = sheets(job)

    assert len(table(book, "Personer")) == 3
    assert len(table(book, "Boenden")) == 3
    hidden_name = research_export.pseudonym(research_export.derive_key(KEY), hidden.pk)
    assert all(hidden_name not in str(row) for rows in book.values() for row in rows)
    assert job.counts == {
        "people": 3,
        "tenancies": 3,
        "placements": 3,
        "visit_months": 6,
        "outcome_follow_ups": 6,
        "protected_excluded": 1,
        "restricted_excluded": 0,
    }
    readme = " ".join(str(cell) for row in book["README"] for cell in row)
    assert "1 lämnades utanför" in readme


def test_people_under_restricted_processing_are_left_out_and_counted(caseload, unit_manager):
    """GDPR art. 18: a restricted person's data may be stored, not processed."""
    people, _hidden = caseload
    restricted = people[0]
    Participant.objects.filter(pk=restricted.pk).update(
        processing_restricted_since=timezone.now(), processing_restriction_reason="Utreds."
    )
    job = run_export(unit_manager)
    book = sheets(job)

    assert len(table(book, "Personer")) == 2
    name = research_export.pseudonym(research_export.derive_key(KEY), restricted.pk)
    assert all(name not in str(row) for rows in book.values() for row in rows)
    assert job.counts["restricted_excluded"] == 1
    readme = " ".join(str(cell) for row in book["README"] for cell in row)
    assert "begränsad (GDPR art. 18) finns inte i tabellerna; 1 lämnades utanför" in readme


def test_pseudonyms_are_stable_under_one_key_and_unrelated_under_another(caseload, unit_manager):
    first = table(sheets(run_export(unit_manager)), "Personer")
    again = table(sheets(run_export(unit_manager)), "Personer")
    other = table(sheets(run_export(unit_manager, key=OTHER_KEY)), "Personer")

    names = [row["pseudonym"] for row in first]
    assert names == [row["pseudonym"] for row in again]
    assert len(set(names)) == 3
    assert not set(names) & {row["pseudonym"] for row in other}


def test_shifted_dates_keep_each_persons_intervals(caseload, unit_manager, settings):
    settings.RESEARCH_DATE_SHIFT_DAYS = 14
    people, _hidden = caseload
    derived = research_export.derive_key(KEY)
    book = sheets(run_export(unit_manager))
    tenancies = {row["pseudonym"]: row for row in table(book, "Boenden")}
    placements = {row["pseudonym"]: row for row in table(book, "Sviktplaceringar")}
    persons = {row["pseudonym"]: row for row in table(book, "Personer")}

    offsets = set()
    for person in people:
        name = research_export.pseudonym(derived, person.pk)
        tenancy = person.tenancies.get()
        placement = person.crisis_placements.get()
        shown = tenancies[name]
        offset = shown["move_in"].date() - tenancy.move_in
        assert abs(offset.days) <= 14
        offsets.add(offset.days)
        assert shown["move_out"].date() - tenancy.move_out == offset
        assert shown["takeover"].date() - tenancy.takeover == offset
        assert placements[name]["start"].date() - placement.start == offset
        assert placements[name]["end"].date() - placement.end == offset
        referral = person.referrals.get()
        assert persons[name]["referral_date"].date() - referral.referral_date == offset
        follow_ups = [
            row for row in table(book, "Uppföljningar av utfall") if row["pseudonym"] == name
        ]
        assert [row["date"].date() - offset for row in follow_ups] == [
            f.date for f in person.outcome_follow_ups.order_by("date")
        ]
        assert offset.days == research_export.date_offset(derived, person.pk, 14)
    # Three people, 29 possible offsets: a key that shifts nobody would be a bug.
    assert offsets != {0}


def test_the_offsets_are_spread_over_the_whole_window():
    derived = research_export.derive_key(KEY)
    offsets = {research_export.date_offset(derived, pk, 14) for pk in range(2000)}
    assert offsets == set(range(-14, 15))


def test_month_coarsening_gives_every_date_as_its_month(caseload, unit_manager):
    people, _hidden = caseload
    job = run_export(unit_manager, date_mode="month")
    book = sheets(job)
    derived = research_export.derive_key(KEY)

    assert job.shift_days == 0
    for row in table(book, "Boenden"):
        assert row["move_in"] in {"2024-03"} and row["move_out"] == "2025-06"
        assert row["takeover"] == "2025-01"
    for row in table(book, "Sviktplaceringar"):
        assert (row["start"], row["end"]) == ("2024-09", "2024-09")
    assert (
        sorted(row["date"] for row in table(book, "Uppföljningar av utfall"))
        == ["2024-03"] * 3 + ["2024-09"] * 3
    )
    visits = table(book, "Stödbesök per månad")
    name = research_export.pseudonym(derived, people[0].pk)
    assert [(r["month"], r["visits"]) for r in visits if r["pseudonym"] == name] == [
        ("2024-04", 2),
        ("2024-05", 1),
    ]


def test_codes_not_labels_or_text_describe_the_person(caseload, unit_manager):
    book = sheets(run_export(unit_manager, date_mode="month"))
    row = table(book, "Personer")[0]
    assert row["status"] == "housed"
    assert row["target_groups"] == "long_term_homeless"
    assert row["eligibility"] == "homeless=met"
    assert row["referral_date"] == "2024-01"
    tenancy = table(book, "Boenden")[0]
    assert tenancy["exit_reason"] == "moved_on"
    assert tenancy["contract_type"] == caseload[0][0].tenancies.get().contract_type


def test_a_manager_orders_downloads_and_both_are_logged(
    um_client, unit_manager, caseload, django_capture_on_commit_callbacks
):
    page = reverse("reports:research-export")
    assert um_client.get(page).status_code == 200
    with django_capture_on_commit_callbacks(execute=True):
        response = um_client.post(
            page,
            {
                TOKEN_FIELD: str(uuid.uuid4()),
                "project": "Lunds universitet: Bostad först-utvärdering",
                "decision_reference": "Dnr 2026-05555-01",
                "purpose": "Jämföra boendestabilitet med trappstegsmodellen",
                "export_key": KEY,
                "date_mode": "shift",
            },
        )
    assert response.status_code == 302
    job = ResearchExport.objects.get()
    assert job.state == ResearchExport.State.DONE, job.error
    assert job.ordered_by == unit_manager
    assert job.decision_reference == "Dnr 2026-05555-01"
    assert job.purpose.startswith("Jämföra")
    assert job.key_fingerprint == research_export.key_fingerprint(research_export.derive_key(KEY))
    assert KEY not in str(ResearchExport.objects.values().get())
    assert job.derived_key == ""  # gone with the run that used it
    made = AccessLogEntry.objects.filter(
        action=AccessLogEntry.Action.EXPORT, model="reports.ResearchExport"
    )
    assert made.count() == 1 and made.get().user == unit_manager

    listing = unescape(um_client.get(page).content.decode())
    assert job.key_fingerprint in listing and "Dnr 2026-05555-01" in listing
    assert "3 personer, 3 boenden" in listing
    download = um_client.get(reverse("reports:research-export-xlsx", kwargs={"pk": job.pk}))
    assert download.status_code == 200
    assert b"".join(download.streaming_content).startswith(b"PK")
    assert made.count() == 2


def test_a_short_key_is_refused_in_swedish(um_client):
    response = um_client.post(
        reverse("reports:research-export"),
        {
            TOKEN_FIELD: str(uuid.uuid4()),
            "project": "Projekt",
            "decision_reference": "Dnr 1",
            "purpose": "Syfte",
            "export_key": "kort",
            "date_mode": "shift",
        },
    )
    assert response.status_code == 400
    assert "minst 16 tecken" in unescape(response.content.decode())
    assert not ResearchExport.objects.exists()


@pytest.mark.parametrize("role", [Role.SUPPORT_STAFF, Role.SOCIAL_WORKER, Role.ADMINISTRATOR])
def test_only_the_unit_manager_may_order_or_download(role, role_users, client_for, unit_manager):
    job = run_export(unit_manager)
    client = client_for(role_users[role])

    assert client.get(reverse("reports:research-export")).status_code == 403
    response = client.post(
        reverse("reports:research-export"),
        {"project": "x", "decision_reference": "x", "purpose": "x", "export_key": KEY},
    )
    assert response.status_code == 403
    assert (
        client.get(reverse("reports:research-export-xlsx", kwargs={"pk": job.pk})).status_code
        == 403
    )
    assert ResearchExport.objects.count() == 1


def test_an_unfinished_export_has_nothing_to_download(um_client, unit_manager):
    job = research_export.research_export_order(
        project="P",
        purpose="S",
        decision_reference="D",
        export_key=KEY,
        date_mode="shift",
        acting_user=unit_manager,
    )
    response = um_client.get(reverse("reports:research-export-xlsx", kwargs={"pk": job.pk}))
    assert response.status_code == 404


def test_a_redelivered_job_writes_and_logs_once(unit_manager, caseload):
    job = run_export(unit_manager)
    assert research_export.research_export_run(export_id=job.pk) == ResearchExport.State.DONE
    assert AccessLogEntry.objects.filter(model="reports.ResearchExport").count() == 1


def test_outcome_rows_give_the_structured_answers_as_codes(caseload, unit_manager):
    """Per person and follow-up: the point, codes for the answers, the rating
    as a number (empty when not given), under the person's pseudonym; never
    the own words."""
    people, _hidden = caseload
    derived = research_export.derive_key(KEY)
    book = sheets(run_export(unit_manager, date_mode="month"))
    rows = table(book, "Uppföljningar av utfall")
    names = {row["pseudonym"] for row in table(book, "Personer")}

    assert {row["pseudonym"] for row in rows} == names
    name = research_export.pseudonym(derived, people[0].pk)
    assert [row for row in rows if row["pseudonym"] == name] == [
        {
            "pseudonym": name,
            "date": "2024-03",
            "point": 0,
            "occupation": "none",
            "income_source": "financial_assistance",
            "addiction_care": "yes",
            "psychiatric_care": "unknown",
            "quality_of_life": 4,
            "contract_type": "social",
        },
        {
            "pseudonym": name,
            "date": "2024-09",
            "point": 6,
            "occupation": "studies",
            "income_source": "financial_assistance",
            "addiction_care": "yes",
            "psychiatric_care": "unknown",
            "quality_of_life": None,
            "contract_type": "social",
        },
    ]
    readme = " ".join(str(cell) for row in book["README"] for cell in row)
    assert "Uppföljningar av utfall: Livskvalitet" in readme
