"""The pages as each role sees them: who may see and do what, bad input as
form errors (400), masking and POSTed searches, and pinned query counts."""

import logging
from datetime import date, timedelta

import pytest
from django.urls import reverse

from participants import services
from participants.models import (
    MatchStatus,
    Participant,
    ParticipantStatus,
    Referral,
    ReferralEvent,
    ReferralStatus,
)

from .conftest import ALL_MET, referral_data
from .factories import ParticipantFactory, ReferralFactory

pytestmark = pytest.mark.django_db


def form_post(**overrides) -> dict:
    data = referral_data(**overrides)
    return {"children_in_household": "0"} | {
        k: ("" if v is None else str(v)) for k, v in data.items()
    }


# --- Social worker -------------------------------------------------------------------


def test_a_social_worker_files_a_referral_and_sees_it_in_my_referrals(sw_client):
    data = form_post(description="Sover på härbärge sedan ett år.")
    response = sw_client.post(reverse("participants:referral-create"), data)
    assert response.status_code == 302
    referral = Referral.objects.get()
    assert response["Location"] == referral.get_absolute_url()
    assert referral.referred_by.username == "sw"
    page = sw_client.get(reverse("participants:my-referrals")).content.decode()
    assert "Kalle Testsson" in page and "Remitterad" in page
    number = referral.participant.personnummer
    assert f"{number[:8]}-****" in page
    assert number[8:] not in page


def test_a_referral_for_a_known_person_is_linked_without_telling_the_social_worker(
    sw_client, file_referral, other_social_worker
):
    known = file_referral(
        acting_user=other_social_worker, first_name="Berit", description="Annans remisstext"
    )
    data = form_post(personnummer=known.participant.personnummer, first_name="Annan")
    response = sw_client.post(reverse("participants:referral-create"), data, follow=True)
    assert response.status_code == 200
    html = response.content.decode()
    assert "redan känd" not in html and "Remissen är skickad." in html
    assert Participant.objects.count() == 1
    mine = Referral.objects.get(referred_by__username="sw")
    assert mine.match == MatchStatus.PENDING
    # Nothing of the other social worker's referral or of the known person shows.
    assert other_social_worker.get_full_name() not in html
    assert known.description not in html
    assert "Annan Testsson" in html and "Berit" not in html


def test_a_social_worker_reaches_only_their_own_referrals(
    sw_client, file_referral, other_social_worker
):
    other = file_referral(acting_user=other_social_worker)
    for name in [
        "participants:referral-detail",
        "participants:referral-add-information",
        "participants:referral-withdraw",
    ]:
        assert sw_client.get(reverse(name, kwargs={"pk": other.pk})).status_code == 404
    response = sw_client.post(
        reverse("participants:referral-add-information", kwargs={"pk": other.pk}), {"note": "x"}
    )
    assert response.status_code == 404
    assert not other.events.filter(kind=ReferralEvent.Kind.INFORMATION).exists()
    assert (
        other.participant.first_name
        not in sw_client.get(reverse("participants:my-referrals")).content.decode()
    )


def test_a_social_worker_adds_information_and_does_not_see_the_teams_notes(
    sw_client, assessing, support_staff
):
    services.referral_log_entry_add(
        referral=assessing,
        acting_user=support_staff,
        kind=ReferralEvent.Kind.INTERVIEW_HELD,
        occurred_on=date.today(),
        note="Hemlig intervjuanteckning",
    )
    url = reverse("participants:referral-add-information", kwargs={"pk": assessing.pk})
    response = sw_client.post(url, {"note": "Har fått kontakt med psykiatrin."})
    assert response.status_code == 302
    html = sw_client.get(assessing.get_absolute_url()).content.decode()
    assert "Har fått kontakt med psykiatrin." in html
    assert "Hemlig intervjuanteckning" not in html
    assert "Under utredning" in html


@pytest.mark.parametrize(
    "name",
    [
        "participants:referral-queue",
        "participants:participant-list",
    ],
)
def test_a_social_worker_cannot_open_team_pages(sw_client, name):
    assert sw_client.get(reverse(name)).status_code == 403


def test_a_social_worker_cannot_open_a_participant_page_or_decide(sw_client, submitted):
    assert (
        sw_client.get(
            reverse("participants:participant-detail", kwargs={"pk": submitted.participant_id})
        ).status_code
        == 403
    )
    assert (
        sw_client.get(
            reverse("participants:referral-decide", kwargs={"pk": submitted.pk})
        ).status_code
        == 403
    )


# --- Bad input ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"referral_date": date.today() + timedelta(days=1)}, "referral_date"),
        ({"registered_since": date.today() + timedelta(days=1)}, "registered_since"),
        ({"registered_since": date(1950, 1, 1)}, "registered_since"),
        ({"personnummer": "811218-9875"}, "personnummer"),
        ({"personnummer": "abc"}, "personnummer"),
        ({"description": "x" * 5001}, "description"),
        ({"first_name": "x" * 101}, "first_name"),
        ({"housing_situation": "mansion"}, "housing_situation"),
        (
            {"housing_situation": "acute", "temporary_arrangement": "friends"},
            "temporary_arrangement",
        ),
        ({"housing_situation": "short_term_own"}, "temporary_arrangement"),
        ({"situation_since": date.today() + timedelta(days=3)}, "situation_since"),
        (
            {
                "referral_date": date.today() - timedelta(days=10),
                "situation_since": date.today() - timedelta(days=5),
            },
            "situation_since",
        ),
        ({"support_need": "everything"}, "support_need"),
        ({"children_in_household": "-1"}, "children_in_household"),
    ],
)
def test_bad_input_on_the_referral_form_is_a_form_error_and_saves_nothing(
    sw_client, overrides, field
):
    response = sw_client.post(reverse("participants:referral-create"), form_post(**overrides))
    assert response.status_code == 400
    assert field in response.context["form"].errors
    assert not Participant.objects.exists()
    assert not Referral.objects.exists()


def test_a_tampered_decision_is_a_form_error(um_client, fully_assessed):
    url = reverse("participants:referral-decide", kwargs={"pk": fully_assessed.pk})
    response = um_client.post(url, {"decision": "housed", "version": fully_assessed.version})
    assert response.status_code == 400
    assert Referral.objects.get().status == ReferralStatus.ASSESSING


def test_deciding_a_withdrawn_referral_is_refused_with_a_message(
    um_client, assessing, social_worker
):
    services.referral_withdraw(referral=assessing, acting_user=social_worker)
    assessing.refresh_from_db()
    url = reverse("participants:referral-decide", kwargs={"pk": assessing.pk})
    response = um_client.post(
        url,
        {"decision": "approve", "override_justification": "x", "version": assessing.version},
    )
    assert response.status_code == 400
    assert "kan inte ändras till" in response.content.decode()
    assert Referral.objects.get().status == ReferralStatus.WITHDRAWN


def test_starting_an_assessment_twice_is_refused_not_a_500(ss_client, assessing):
    url = reverse("participants:referral-start-assessment", kwargs={"pk": assessing.pk})
    response = ss_client.post(url, {"version": assessing.version})
    assert response.status_code == 400


def test_a_stale_decision_is_refused_with_what_changed(um_client, fully_assessed, support_staff):
    version = fully_assessed.version
    fully_assessed.description = "Ny text"
    fully_assessed._history_user = support_staff
    fully_assessed.save()
    url = reverse("participants:referral-decide", kwargs={"pk": fully_assessed.pk})
    response = um_client.post(url, {"decision": "approve", "version": version})
    assert response.status_code == 400
    assert Referral.objects.get().status == ReferralStatus.ASSESSING


def test_a_tampered_log_kind_is_a_form_error(ss_client, assessing):
    url = reverse("participants:referral-log-entry", kwargs={"pk": assessing.pk})
    response = ss_client.post(
        url, {"kind": "transition", "occurred_on": date.today().isoformat(), "note": ""}
    )
    assert response.status_code == 400


# --- Team and manager -----------------------------------------------------------------


def test_the_team_works_a_referral_to_a_managers_approval(ss_client, um_client, submitted):
    detail = ss_client.get(submitted.get_absolute_url())
    assert detail.status_code == 200
    assert "Påbörja utredningen" in detail.content.decode()
    response = ss_client.post(
        reverse("participants:referral-start-assessment", kwargs={"pk": submitted.pk}),
        {"version": submitted.version},
    )
    assert response.status_code == 302
    response = ss_client.post(
        reverse("participants:referral-log-entry", kwargs={"pk": submitted.pk}),
        {
            "kind": ReferralEvent.Kind.REFERENCE_CONTACTED,
            "occurred_on": date.today().isoformat(),
            "note": "Personligt ombud bekräftar.",
        },
    )
    assert response.status_code == 302
    response = ss_client.post(
        reverse("participants:referral-assess", kwargs={"pk": submitted.pk}),
        assessment_post(ALL_MET, versions={}),
    )
    assert response.status_code == 302
    referral = Referral.objects.get()
    assert referral.assessments.count() == 6
    response = um_client.post(
        reverse("participants:referral-decide", kwargs={"pk": referral.pk}),
        {"decision": "approve", "version": referral.version},
    )
    assert response.status_code == 302
    referral.refresh_from_db()
    assert referral.status == ReferralStatus.APPROVED
    assert referral.participant.status == ParticipantStatus.APPROVED


def assessment_post(answers: dict, *, versions: dict) -> dict:
    """The assessment form's POST: each criterion's answer, note and the
    version its row had when the page was opened (0: not assessed yet)."""
    data = {}
    for criterion, (answer, note) in answers.items():
        data[f"answer_{criterion}"] = answer
        data[f"note_{criterion}"] = note
        data[f"version_{criterion}"] = versions.get(criterion, 0)
    return data


def test_two_tabs_saving_the_assessment_the_second_is_refused_and_overwrites_nothing(
    ss_client, support_staff, client_for, unit_manager, assessing
):
    """Two team members open the same assessment; the first changes criterion
    5; the second, still showing the old answer, saves criterion 2: refused,
    naming who changed it, and criterion 5 keeps the first one's answer."""
    url = reverse("participants:referral-assess", kwargs={"pk": assessing.pk})
    services.assessment_record(referral=assessing, acting_user=unit_manager, answers=ALL_MET)
    opened = {a.criterion: a.version for a in assessing.assessments.all()}
    first = {**ALL_MET, "motivated": ("not_met", "Vill inte ha stöd just nu.")}
    assert ss_client.post(url, assessment_post(first, versions=opened)).status_code == 302

    other = client_for(unit_manager)
    second = {**ALL_MET, "support_need": ("unknown", "Osäkert.")}
    response = other.post(url, assessment_post(second, versions=opened))
    assert response.status_code == 400
    html = response.content.decode()
    assert "Någon annan sparade posten" in html and str(support_staff) in html
    rows = {a.criterion: a for a in assessing.assessments.all()}
    assert rows["motivated"].answer == "not_met" and rows["support_need"].answer == "met"

    # The page shown again holds what is stored now for criterion 5 and the
    # second person's own change; saving it again keeps both.
    shown = response.context["form"].data
    assert shown["answer_motivated"] == "not_met" and shown["answer_support_need"] == "unknown"
    assert other.post(url, shown).status_code == 302
    rows = {a.criterion: a.answer for a in assessing.assessments.all()}
    assert rows["motivated"] == "not_met" and rows["support_need"] == "unknown"


def test_the_assessment_form_suggests_residence_and_homelessness(ss_client, assessing):
    html = ss_client.get(
        reverse("participants:referral-assess", kwargs={"pk": assessing.pk})
    ).content.decode()
    assert "Folkbokförd i minst 2 år" in html
    assert "Socialstyrelsens situationer 1–3" in html


def test_suggestions_are_shown_beside_the_question_not_pre_answered(ss_client, assessing):
    """The page says "your answer decides": nothing is ticked "met" for the
    assessor, whatever the data suggests."""
    response = ss_client.get(reverse("participants:referral-assess", kwargs={"pk": assessing.pk}))
    form = response.context["form"]
    answers = {name: form[name].value() for name in form.fields if name.startswith("answer_")}
    assert set(answers.values()) == {"unknown"}, answers
    assert "Förslag utifrån registrerade uppgifter" in response.content.decode()


def test_an_override_needs_a_justification_which_is_then_shown(um_client, assessing):
    url = reverse("participants:referral-decide", kwargs={"pk": assessing.pk})
    response = um_client.post(url, {"decision": "approve", "version": assessing.version})
    assert response.status_code == 400
    assert "override_justification" in response.context["form"].errors
    response = um_client.post(
        url,
        {
            "decision": "approve",
            "override_justification": "Akut behov, tidigare folkbokförd här länge.",
            "version": assessing.version,
        },
    )
    assert response.status_code == 302
    html = um_client.get(assessing.get_absolute_url()).content.decode()
    assert "Akut behov, tidigare folkbokförd här länge." in html
    assert "Motivering" in html


def test_declining_needs_a_reason(um_client, assessing):
    url = reverse("participants:referral-decide", kwargs={"pk": assessing.pk})
    response = um_client.post(url, {"decision": "decline", "version": assessing.version})
    assert response.status_code == 400
    assert "decline_reason" in response.context["form"].errors


def test_support_staff_cannot_decide(ss_client, fully_assessed):
    url = reverse("participants:referral-decide", kwargs={"pk": fully_assessed.pk})
    assert ss_client.post(url, {"decision": "approve", "version": 1}).status_code == 403


def test_the_administrator_sees_no_case_pages(admin_user_client, submitted):
    for url in [
        reverse("participants:referral-queue"),
        reverse("participants:participant-list"),
        submitted.get_absolute_url(),
    ]:
        assert admin_user_client.get(url).status_code == 403


def test_the_queue_filters_by_status(ss_client, submitted, file_referral, support_staff):
    other = file_referral(first_name="Greta")
    services.referral_start_assessment(referral=other, acting_user=support_staff)
    html = ss_client.get(reverse("participants:referral-queue") + "?status=assessing")
    assert "Greta" in html.content.decode()
    assert "Kalle" not in html.content.decode()


def test_search_by_personnummer_is_posted_and_finds_the_person(ss_client, file_referral):
    target = file_referral(first_name="Signe")
    file_referral(first_name="Olle")
    number = target.participant.personnummer
    response = ss_client.post(
        reverse("participants:referral-queue"), {"q": f"{number[2:8]}-{number[8:]}"}
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert "Signe" in html and "Olle" not in html
    assert number not in html.replace(f'value="{number[2:8]}-{number[8:]}"', "")


def test_search_by_name_works_on_the_participant_list(ss_client, file_referral):
    file_referral(first_name="Signe", last_name="Ek")
    file_referral(first_name="Olle", last_name="Ström")
    response = ss_client.post(reverse("participants:participant-list"), {"q": "ström"})
    html = response.content.decode()
    assert "Olle" in html and "Signe" not in html


def test_a_search_in_the_query_string_is_ignored(ss_client, file_referral):
    file_referral(first_name="Signe")
    response = ss_client.get(reverse("participants:referral-queue") + "?q=Nobody")
    assert "Signe" in response.content.decode()


def test_the_full_personnummer_shows_only_on_the_participants_own_page(ss_client, submitted):
    number = submitted.participant.personnummer
    full = f"{number[:8]}-{number[8:]}"
    for url in [
        reverse("participants:referral-queue"),
        reverse("participants:participant-list"),
        submitted.get_absolute_url(),
    ]:
        html = ss_client.get(url).content.decode()
        assert full not in html and number not in html
        assert f"{number[:8]}-****" in html
    assert full in ss_client.get(submitted.participant.get_absolute_url()).content.decode()


def test_the_personnummer_never_reaches_the_logs(sw_client, caplog):
    data = form_post()
    with caplog.at_level(logging.DEBUG):
        sw_client.post(reverse("participants:referral-create"), data)
        sw_client.post(reverse("participants:referral-create"), form_post(personnummer="x"))
    number = data["personnummer"]
    assert number not in caplog.text and number[2:] not in caplog.text


def test_the_participant_page_shows_a_timeline_newest_first(ss_client, approved):
    html = ss_client.get(approved.participant.get_absolute_url()).content.decode()
    assert "Tidslinje" in html
    assert html.index("Remiss: Beviljad") < html.index("Remiss: Remitterad")


def test_the_team_edits_a_participant_with_versioning(ss_client, submitted, support_staff):
    participant = submitted.participant
    url = reverse("participants:participant-update", kwargs={"pk": participant.pk})
    data = {
        "personnummer": participant.personnummer,
        "first_name": "Karl",
        "last_name": participant.last_name,
        "children_in_household": "1",
        "registered_since": participant.registered_since.isoformat(),
        "support_worker": str(support_staff.pk),
        "target_groups": [],
        "version": str(participant.version),
    }
    assert ss_client.post(url, data).status_code == 302
    participant.refresh_from_db()
    assert (participant.first_name, participant.support_worker) == ("Karl", support_staff)
    stale = ss_client.post(url, data | {"first_name": "Kurt"})
    assert stale.status_code == 400
    assert Participant.objects.get().first_name == "Karl"


def test_the_team_adds_and_edits_a_network_contact(ss_client, submitted):
    participant = submitted.participant
    url = reverse("participants:network-contact-create", kwargs={"pk": participant.pk})
    response = ss_client.post(
        url,
        {"name": "Lisa Ombud", "relation": "personal_representative", "consent_to_contact": "on"},
    )
    assert response.status_code == 302
    contact = participant.network_contacts.get()
    assert contact.consent_to_contact
    edit = reverse("participants:network-contact-update", kwargs={"pk": contact.pk})
    response = ss_client.post(
        edit, {"name": "Lisa Ombud", "relation": "friend", "version": contact.version}
    )
    assert response.status_code == 302
    contact.refresh_from_db()
    assert contact.relation == "friend" and not contact.consent_to_contact
    assert "Lisa Ombud" in ss_client.get(submitted.get_absolute_url()).content.decode()


def test_reading_a_referral_and_a_participant_is_logged(ss_client, submitted, support_staff):
    from bostadforst.models import AccessLogEntry

    ss_client.get(submitted.get_absolute_url())
    ss_client.get(submitted.participant.get_absolute_url())
    reads = AccessLogEntry.objects.filter(user=support_staff, action="read")
    assert set(reads.values_list("person_id", flat=True)) == {submitted.participant_id}
    assert reads.count() == 2


# --- Query counts ----------------------------------------------------------------------


def make_rows(count: int, referred_by) -> None:
    for _ in range(count):
        referral = ReferralFactory(referred_by=referred_by)
        referral.participant.target_groups.set([1, 2])


@pytest.mark.parametrize(
    "url_name", ["participants:referral-queue", "participants:participant-list"]
)
def test_list_pages_issue_the_same_few_queries_for_5_and_200_rows(
    client_for, support_staff, social_worker, django_assert_max_num_queries, url_name
):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client = client_for(support_staff)
    url = reverse(url_name)
    counts = []
    for size in (5, 200):
        make_rows(size - Referral.objects.count(), social_worker)
        client.get(url)  # warm the session
        with CaptureQueriesContext(connection) as queries:
            response = client.get(url)
        assert response.status_code == 200
        counts.append(len(queries))
        searched = None
        with CaptureQueriesContext(connection) as search_queries:
            searched = client.post(url, {"q": "a"})
        assert searched.status_code == 200
        counts.append(len(search_queries))
    assert counts[0] == counts[2] and counts[1] == counts[3], counts
    assert max(counts) <= 10, counts


def test_the_participant_page_has_a_constant_query_count(client_for, support_staff, social_worker):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client = client_for(support_staff)
    participant = ParticipantFactory()
    counts = []
    for size in (2, 40):
        while participant.referrals.count() < size:
            referral = ReferralFactory(participant=participant, referred_by=social_worker)
            services.referral_add_information(
                referral=referral, acting_user=support_staff, note="x"
            )
        with CaptureQueriesContext(connection) as queries:
            response = client.get(participant.get_absolute_url())
        assert response.status_code == 200
        counts.append(len(queries))
    assert counts[0] == counts[1], counts


@pytest.mark.django_db
def test_manager_reaches_the_persons_access_log_and_the_change_history_from_the_page(
    um_client, unit_manager
):
    from participants.models import Participant

    participant = Participant.objects.create(first_name="Ada", last_name="Lund")
    html = um_client.get(participant.get_absolute_url()).content.decode()
    assert f"/access-log/?person={participant.pk}" in html
    assert "Ändringshistorik" in html
    log = um_client.get(f"/access-log/?person={participant.pk}").content.decode()
    assert unit_manager.get_full_name() in log or unit_manager.username in log


# --- Second pass: gaps found in the audit of issue 5 -----------------------------------


def test_a_tampered_status_in_the_referral_form_changes_nothing(sw_client):
    data = form_post() | {"status": "approved", "match": "confirmed", "decided_by": "1"}
    response = sw_client.post(reverse("participants:referral-create"), data)
    assert response.status_code == 302
    referral = Referral.objects.get()
    assert referral.status == ReferralStatus.SUBMITTED
    assert referral.match == MatchStatus.NEW and referral.decided_by is None
    assert referral.participant.status == ParticipantStatus.REFERRED


def test_a_tampered_status_in_the_participant_form_changes_nothing(ss_client, submitted):
    participant = submitted.participant
    url = reverse("participants:participant-update", kwargs={"pk": participant.pk})
    data = participant_post(participant) | {"status": "housed", "closed_on": "2020-01-01"}
    assert ss_client.post(url, data).status_code == 302
    participant.refresh_from_db()
    assert participant.status == ParticipantStatus.REFERRED
    assert participant.closed_on is None


def test_a_tampered_status_on_a_referral_action_changes_nothing(sw_client, submitted):
    url = reverse("participants:referral-add-information", kwargs={"pk": submitted.pk})
    response = sw_client.post(url, {"note": "Ny uppgift.", "status": "approved"})
    assert response.status_code == 302
    submitted.refresh_from_db()
    assert submitted.status == ReferralStatus.SUBMITTED


@pytest.mark.parametrize(
    ("overrides", "field", "swedish"),
    [
        (
            {"referral_date": date.today() + timedelta(days=1)},
            "referral_date",
            "Remissdatum kan inte ligga i framtiden.",
        ),
        (
            {"registered_since": date.today() + timedelta(days=1)},
            "registered_since",
            "Datum för folkbokföring kan inte ligga i framtiden.",
        ),
        (
            {"registered_since": date(1950, 1, 1)},
            "registered_since",
            "Datum för folkbokföring kan inte ligga före födelsedatum.",
        ),
    ],
)
def test_bad_dates_on_the_referral_form_answer_400_with_a_swedish_message(
    sw_client, overrides, field, swedish
):
    response = sw_client.post(reverse("participants:referral-create"), form_post(**overrides))
    assert response.status_code == 400
    assert response.context["form"].errors[field] == [swedish]
    assert swedish in response.content.decode()
    assert not Participant.objects.exists() and not Referral.objects.exists()


def participant_post(participant, **overrides) -> dict:
    data = {
        "personnummer": participant.personnummer or "",
        "first_name": participant.first_name,
        "last_name": participant.last_name,
        "phone": participant.phone,
        "email": participant.email,
        "postal_address": participant.postal_address,
        "registered_since": (
            participant.registered_since.isoformat() if participant.registered_since else ""
        ),
        "children_in_household": str(participant.children_in_household),
        "target_groups": [],
        "support_worker": "",
        "version": str(participant.version),
    }
    data.update(overrides)
    return data


@pytest.mark.parametrize(
    ("overrides", "field", "swedish"),
    [
        (
            {"registered_since": (date.today() + timedelta(days=1)).isoformat()},
            "registered_since",
            "Datum för folkbokföring kan inte ligga i framtiden.",
        ),
        (
            {"registered_since": "1950-01-01"},
            "registered_since",
            "Datum för folkbokföring kan inte ligga före födelsedatum.",
        ),
        ({"personnummer": "811218-9875"}, "personnummer", "Kontrollsiffran"),
        ({"children_in_household": "-1"}, "children_in_household", "0"),
        ({"first_name": "x" * 101}, "first_name", "100"),
    ],
)
def test_bad_input_on_the_participant_form_answers_400_and_saves_nothing(
    ss_client, submitted, overrides, field, swedish
):
    participant = submitted.participant
    url = reverse("participants:participant-update", kwargs={"pk": participant.pk})
    response = ss_client.post(url, participant_post(participant, **overrides))
    assert response.status_code == 400
    assert swedish in " ".join(response.context["form"].errors[field])
    fresh = Participant.objects.get()
    assert (fresh.version, fresh.registered_since, fresh.first_name) == (
        participant.version,
        participant.registered_since,
        participant.first_name,
    )


def test_a_personnummer_already_on_another_participant_is_a_form_error(
    ss_client, submitted, file_referral
):
    other = file_referral(first_name="Signe").participant
    participant = submitted.participant
    url = reverse("participants:participant-update", kwargs={"pk": participant.pk})
    response = ss_client.post(url, participant_post(participant, personnummer=other.personnummer))
    assert response.status_code == 400
    assert "personnummer" in response.context["form"].errors
    participant.refresh_from_db()
    assert participant.personnummer != other.personnummer


def test_the_team_edits_target_groups_and_children_and_sees_them_on_the_page(ss_client, submitted):
    from participants.models import TargetGroup, TargetGroupCode

    participant = submitted.participant
    groups = TargetGroup.objects.filter(
        code__in=[TargetGroupCode.FAMILIES, TargetGroupCode.YOUNG_ADULTS]
    )
    url = reverse("participants:participant-update", kwargs={"pk": participant.pk})
    data = participant_post(
        participant,
        children_in_household="2",
        target_groups=[str(g.pk) for g in groups],
    )
    assert ss_client.post(url, data).status_code == 302
    participant.refresh_from_db()
    assert participant.children_in_household == 2
    assert set(participant.target_groups.values_list("code", flat=True)) == {
        TargetGroupCode.FAMILIES,
        TargetGroupCode.YOUNG_ADULTS,
    }
    html = ss_client.get(participant.get_absolute_url()).content.decode()
    assert "Barnfamiljer med osäkra boendeförhållanden" in html and "Unga vuxna" in html
    listing = ss_client.get(reverse("participants:participant-list")).content.decode()
    assert "Unga vuxna" in listing
    # Unticking every group clears them.
    data = participant_post(participant, children_in_household="0")
    assert ss_client.post(url, data).status_code == 302
    assert not participant.target_groups.exists()


def test_another_social_workers_referral_answers_404_and_logs_the_denial(
    sw_client, social_worker, file_referral, other_social_worker
):
    from bostadforst.models import AccessLogEntry

    other = file_referral(acting_user=other_social_worker)
    for name in [
        "participants:referral-detail",
        "participants:referral-add-information",
        "participants:referral-withdraw",
    ]:
        assert sw_client.get(reverse(name, kwargs={"pk": other.pk})).status_code == 404
    denied = AccessLogEntry.objects.filter(user=social_worker, action="denied")
    assert denied.count() == 3
    assert set(denied.values_list("person_id", flat=True)) == {other.participant_id}
    assert not AccessLogEntry.objects.filter(user=social_worker, action="read").exists()
    # A referral that does not exist answers the same 404, with nothing to log.
    missing = reverse("participants:referral-detail", kwargs={"pk": other.pk + 1000})
    assert sw_client.get(missing).status_code == 404
    assert denied.count() == 3


def test_an_override_is_shown_on_the_participant_page(ss_client, assessing, unit_manager):
    services.referral_approve(
        referral=assessing,
        acting_user=unit_manager,
        override_justification="Akut behov trots kort folkbokföring.",
    )
    html = ss_client.get(assessing.participant.get_absolute_url()).content.decode()
    assert "Akut behov trots kort folkbokföring." in html


def test_a_personnummer_search_leaves_no_trace_in_urls_or_logs(ss_client, file_referral, caplog):
    import re

    target = file_referral(first_name="Signe")
    number = target.participant.personnummer
    with caplog.at_level(logging.DEBUG):
        for url_name in ["participants:referral-queue", "participants:participant-list"]:
            response = ss_client.post(reverse(url_name), {"q": number})
            assert response.status_code == 200
            assert "Signe" in response.content.decode()
            links = re.findall(r'(?:href|action|src)="([^"]*)"', response.content.decode())
            assert links and not any(number[2:8] in link for link in links)
    assert number[2:] not in caplog.text


def test_the_queue_pages_by_get_and_a_search_pages_by_post(ss_client, social_worker, support_staff):
    for index in range(30):
        ReferralFactory(referred_by=social_worker, participant__last_name=f"Ek{index:02d}")
    url = reverse("participants:referral-queue")
    first = ss_client.get(url)
    assert len(first.context["referrals"]) == 25
    assert 'href="?page=2"' in first.content.decode()
    second = ss_client.get(url + "?page=2")
    assert len(second.context["referrals"]) == 5
    searched = ss_client.post(url, {"q": "Ek", "page": "2"})
    assert searched.status_code == 200
    assert len(searched.context["referrals"]) == 5
    assert searched.context["page_obj"].number == 2


def test_my_referrals_issues_the_same_few_queries_for_5_and_200_rows(
    client_for, social_worker, django_assert_num_queries
):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client = client_for(social_worker)
    url = reverse("participants:my-referrals")
    counts = []
    for size in (5, 200):
        make_rows(size - Referral.objects.count(), social_worker)
        client.get(url)  # warm the session
        with CaptureQueriesContext(connection) as queries:
            assert client.get(url).status_code == 200
        counts.append(len(queries))
    assert counts[0] == counts[1] <= 10, counts


def test_the_participant_list_shows_named_people_before_imported_ones_without_a_name(
    ss_client,
):
    Participant.objects.create(external_ref="HIST-001")
    ParticipantFactory(first_name="Åsa", last_name="Öberg")
    ParticipantFactory(first_name="Bo", last_name="Ek")
    rows = ss_client.get(reverse("participants:participant-list")).context["participants"]
    assert [str(p) for p in rows] == ["Bo Ek", "Åsa Öberg", "HIST-001"]


def test_target_groups_are_offered_and_shown_in_stockholms_order(ss_client, submitted):
    from participants.models import TargetGroup, TargetGroupCode

    participant = submitted.participant
    url = reverse("participants:participant-update", kwargs={"pk": participant.pk})
    form = ss_client.get(url).context["form"]
    offered = [group.code for group in form.fields["target_groups"].queryset]
    assert offered == list(TargetGroupCode.values)
    participant.target_groups.set(TargetGroup.objects.all())
    html = ss_client.get(participant.get_absolute_url()).content.decode()
    assert html.index("Akut hemlöshet") < html.index("Unga vuxna") < html.index("Äldre")


def test_the_log_form_names_the_kind_of_entry_apart_from_the_note(ss_client, assessing):
    html = ss_client.get(assessing.get_absolute_url()).content.decode()
    assert "Typ av händelse" in html and "Anteckning" in html


def test_on_a_phone_the_participant_list_shows_groups_and_worker_without_a_sideways_scroll(
    ss_client,
):
    """The last two columns are hidden below the md breakpoint and shown
    inside the status cell instead (rendered HTML: the classes that do it)."""
    from tests.participants.factories import ParticipantFactory

    ParticipantFactory()
    html = ss_client.get(reverse("participants:participant-list")).content.decode()
    assert html.count('class="d-none d-md-table-cell"') >= 4  # two headers, two cells a row
    assert '<div class="d-md-none small mt-1">' in html
