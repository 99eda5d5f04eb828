"""The referral workflow: every transition allowed and refused, who and when,
linking a known person, the decision rules and housing an approved person."""

from datetime import date, timedelta

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from participants import services
from participants.models import (
    Answer,
    Criterion,
    MatchStatus,
    Participant,
    ParticipantStatus,
    Referral,
    ReferralEvent,
    ReferralStatus,
)
from participants.services import TRANSITIONS

from .conftest import ALL_MET, referral_data

pytestmark = pytest.mark.django_db
S = ReferralStatus


def transitions(referral):
    return list(
        referral.events.filter(kind=ReferralEvent.Kind.TRANSITION)
        .order_by("created_at", "pk")
        .values_list("from_status", "to_status", "created_by__username")
    )


def test_filing_a_referral_creates_the_participant_and_records_the_submission(submitted):
    assert submitted.status == S.SUBMITTED
    assert submitted.participant.status == ParticipantStatus.REFERRED
    assert submitted.match == MatchStatus.NEW
    assert transitions(submitted) == [("", S.SUBMITTED, "sw")]
    assert submitted.history.first().history_user.username == "sw"


def test_a_known_personnummer_links_the_referral_instead_of_creating_a_copy(
    file_referral, other_social_worker, support_staff
):
    first = file_referral(phone="")
    number = first.participant.personnummer
    short = f"{number[2:8]}-{number[8:]}"
    second = file_referral(
        acting_user=other_social_worker,
        personnummer=short,
        first_name="Annat",
        last_name="Namn",
        phone="070-111 22 33",
    )
    assert Participant.objects.count() == 1
    assert second.participant == first.participant
    assert second.match == MatchStatus.PENDING
    assert Participant.objects.get().phone == ""  # nothing changes before the team confirms
    services.referral_match_confirm(referral=second, acting_user=support_staff)
    participant = Participant.objects.get()
    assert (participant.first_name, participant.last_name) == ("Kalle", "Testsson")
    assert participant.phone == "070-111 22 33"  # a blank is filled in, nothing overwritten


def test_an_invalid_personnummer_saves_nothing(file_referral):
    with pytest.raises(ValidationError):
        file_referral(personnummer="811218-9875")
    assert not Participant.objects.exists()
    assert not Referral.objects.exists()


def test_a_future_referral_date_is_refused_and_nothing_is_saved(file_referral):
    with pytest.raises(ValidationError) as info:
        file_referral(referral_date=date.today() + timedelta(days=1))
    assert "referral_date" in info.value.error_dict
    assert not Participant.objects.exists()


def test_a_registration_before_birth_is_refused(file_referral):
    data = referral_data()
    born = date(int(data["personnummer"][:4]), int(data["personnummer"][4:6]), 1)
    with pytest.raises(ValidationError) as info:
        file_referral(personnummer=data["personnummer"], registered_since=born - timedelta(days=1))
    assert "registered_since" in info.value.error_dict


def test_starting_the_assessment_records_who_and_when(assessing, support_staff):
    assert assessing.status == S.ASSESSING
    event = assessing.events.filter(to_status=S.ASSESSING).get()
    assert event.created_by == support_staff
    assert event.occurred_on == date.today()
    assert assessing.participant.status == ParticipantStatus.ASSESSING


def test_approving_with_all_six_met(approved, unit_manager):
    approved.refresh_from_db()
    assert approved.status == S.APPROVED
    assert approved.decided_by == unit_manager and approved.decided_at is not None
    assert approved.override_justification == ""
    assert approved.participant.status == ParticipantStatus.APPROVED


def test_approval_without_all_met_needs_a_written_justification(assessing, unit_manager):
    with pytest.raises(ValidationError) as info:
        services.referral_approve(referral=assessing, acting_user=unit_manager)
    assert "override_justification" in info.value.error_dict
    assert Referral.objects.get().status == S.ASSESSING
    referral = Referral.objects.get()
    services.referral_approve(
        referral=referral, acting_user=unit_manager, override_justification="Akut behov."
    )
    referral.refresh_from_db()
    assert referral.status == S.APPROVED
    assert referral.was_overridden
    assert referral.override_justification == "Akut behov."
    assert referral.events.get(to_status=S.APPROVED).note == "Akut behov."


def test_declining_needs_a_reason_and_closes_the_case(assessing, unit_manager):
    with pytest.raises(ValidationError):
        services.referral_decline(referral=assessing, acting_user=unit_manager, reason="  ")
    referral = Referral.objects.get()
    services.referral_decline(
        referral=referral, acting_user=unit_manager, reason="Hyr i andra hand."
    )
    referral.refresh_from_db()
    assert referral.status == S.DECLINED
    assert referral.participant.status == ParticipantStatus.EXITED
    assert referral.participant.closed_on == date.today()


@pytest.mark.parametrize("start", [S.SUBMITTED, S.ASSESSING])
def test_an_open_referral_can_be_withdrawn_by_the_referring_social_worker(
    start, submitted, social_worker, support_staff
):
    if start == S.ASSESSING:
        services.referral_start_assessment(referral=submitted, acting_user=support_staff)
    services.referral_withdraw(referral=submitted, acting_user=social_worker, reason="Fått boende.")
    submitted.refresh_from_db()
    assert submitted.status == S.WITHDRAWN
    assert transitions(submitted)[-1] == (start, S.WITHDRAWN, "sw")


def test_another_social_worker_cannot_withdraw_or_add_information(submitted, other_social_worker):
    with pytest.raises(PermissionDenied):
        services.referral_withdraw(referral=submitted, acting_user=other_social_worker)
    with pytest.raises(PermissionDenied):
        services.referral_add_information(
            referral=submitted, acting_user=other_social_worker, note="x"
        )


def test_only_managers_decide(fully_assessed, support_staff):
    with pytest.raises(PermissionDenied):
        services.referral_approve(referral=fully_assessed, acting_user=support_staff)
    with pytest.raises(PermissionDenied):
        services.referral_decline(referral=fully_assessed, acting_user=support_staff, reason="x")


def test_a_social_worker_cannot_start_the_assessment(submitted, social_worker):
    with pytest.raises(PermissionDenied):
        services.referral_start_assessment(referral=submitted, acting_user=social_worker)


def _move_to(status, referral, *, support_staff, unit_manager, social_worker):
    if status == S.SUBMITTED:
        return
    if status == S.WITHDRAWN:
        services.referral_withdraw(referral=referral, acting_user=social_worker)
        return
    services.assessment_record(referral=referral, acting_user=support_staff, answers=ALL_MET)
    if status == S.APPROVED:
        services.referral_approve(referral=referral, acting_user=unit_manager)
    elif status == S.DECLINED:
        services.referral_decline(referral=referral, acting_user=unit_manager, reason="Skäl.")


REFUSED = [(a, b) for a in S.values for b in [*S.values, "housed"] if b not in TRANSITIONS[a]]


@pytest.mark.parametrize(("from_status", "to_status"), REFUSED)
def test_every_transition_outside_the_table_is_refused_with_a_message(
    from_status, to_status, submitted, support_staff, unit_manager, social_worker
):
    _move_to(
        from_status,
        submitted,
        support_staff=support_staff,
        unit_manager=unit_manager,
        social_worker=social_worker,
    )
    referral = Referral.objects.get()
    assert referral.status == from_status
    events_before = referral.events.count()
    with pytest.raises(ValidationError) as info:
        services._transition(referral=referral, to_status=to_status, acting_user=unit_manager)
    assert info.value.code == "transition"
    assert "kan inte ändras till" in info.value.messages[0]
    referral.refresh_from_db()
    assert referral.status == from_status
    assert referral.events.count() == events_before


@pytest.mark.parametrize(
    ("from_status", "to_status"),
    [(a, b) for a, targets in TRANSITIONS.items() for b in sorted(targets)],
)
def test_every_transition_in_the_table_is_allowed_and_recorded(
    from_status, to_status, submitted, support_staff, unit_manager, social_worker
):
    _move_to(
        from_status,
        submitted,
        support_staff=support_staff,
        unit_manager=unit_manager,
        social_worker=social_worker,
    )
    referral = Referral.objects.get()
    if to_status == S.APPROVED:
        services.referral_approve(referral=referral, acting_user=unit_manager)
    elif to_status == S.DECLINED:
        services.referral_decline(referral=referral, acting_user=unit_manager, reason="Skäl.")
    elif to_status == S.WITHDRAWN:
        services.referral_withdraw(referral=referral, acting_user=social_worker)
    else:
        services.referral_start_assessment(referral=referral, acting_user=support_staff)
    referral.refresh_from_db()
    assert referral.status == to_status
    assert transitions(referral)[-1][:2] == (from_status, to_status)


def test_recording_criteria_starts_the_assessment_and_names_the_assessor(submitted, support_staff):
    services.assessment_record(
        referral=submitted,
        acting_user=support_staff,
        answers={Criterion.HOMELESS: (Answer.MET, "Härbärge.")},
    )
    submitted.refresh_from_db()
    assert submitted.status == S.ASSESSING
    row = submitted.assessments.get()
    assert (row.assessor, row.assessed_on, row.note) == (support_staff, date.today(), "Härbärge.")


def test_an_unchanged_answer_is_not_saved_again(fully_assessed, support_staff):
    saved = services.assessment_record(
        referral=fully_assessed, acting_user=support_staff, answers=ALL_MET
    )
    assert saved == []


def test_criteria_of_a_decided_referral_cannot_change(approved, support_staff):
    with pytest.raises(ValidationError) as info:
        services.assessment_record(
            referral=approved,
            acting_user=support_staff,
            answers={Criterion.HOMELESS: (Answer.NOT_MET, "")},
        )
    assert info.value.code == "not_assessing"


def test_a_tampered_answer_or_log_kind_is_refused(assessing, support_staff):
    with pytest.raises(ValidationError):
        services.assessment_record(
            referral=assessing, acting_user=support_staff, answers={"homeless": ("yes", "")}
        )
    with pytest.raises(ValidationError):
        services.referral_log_entry_add(
            referral=assessing,
            acting_user=support_staff,
            kind=ReferralEvent.Kind.TRANSITION,
            occurred_on=date.today(),
        )


def test_an_interview_held_cannot_be_in_the_future_but_a_booked_one_can(assessing, support_staff):
    tomorrow = date.today() + timedelta(days=1)
    with pytest.raises(ValidationError):
        services.referral_log_entry_add(
            referral=assessing,
            acting_user=support_staff,
            kind=ReferralEvent.Kind.INTERVIEW_HELD,
            occurred_on=tomorrow,
        )
    event = services.referral_log_entry_add(
        referral=assessing,
        acting_user=support_staff,
        kind=ReferralEvent.Kind.INTERVIEW_BOOKED,
        occurred_on=tomorrow,
    )
    assert event.created_by == support_staff


def test_an_approved_participant_is_housed_and_stays_housed(approved, support_staff):
    participant = approved.participant
    services.participant_mark_housed(participant=participant, acting_user=support_staff)
    assert Participant.objects.get().status == ParticipantStatus.HOUSED
    # Moving to another Housing First apartment: still housed, no error.
    services.participant_mark_housed(participant=participant, acting_user=support_staff)
    assert Participant.objects.get().status == ParticipantStatus.HOUSED


def test_a_participant_not_approved_cannot_be_housed(assessing, support_staff):
    with pytest.raises(ValidationError) as info:
        services.participant_mark_housed(
            participant=assessing.participant, acting_user=support_staff
        )
    assert info.value.code == "not_approved"
    assert Participant.objects.get().status == ParticipantStatus.ASSESSING


def test_a_later_referral_does_not_unhouse_a_housed_participant(
    approved, support_staff, file_referral, unit_manager
):
    services.participant_mark_housed(participant=approved.participant, acting_user=support_staff)
    again = file_referral(personnummer=approved.participant.personnummer)
    services.referral_withdraw(referral=again, acting_user=unit_manager)
    assert Participant.objects.get().status == ParticipantStatus.HOUSED


def test_a_re_referral_reopens_an_exited_case_once_the_team_confirms_it(
    assessing, unit_manager, file_referral
):
    services.referral_decline(referral=assessing, acting_user=unit_manager, reason="Skäl.")
    again = file_referral(personnummer=assessing.participant.personnummer)
    assert again.match == MatchStatus.PENDING
    services.referral_match_confirm(referral=again, acting_user=unit_manager)
    participant = Participant.objects.get()
    assert participant.status == ParticipantStatus.REFERRED
    assert participant.closed_on is None


def test_information_cannot_be_added_to_a_closed_referral(submitted, social_worker):
    services.referral_withdraw(referral=submitted, acting_user=social_worker)
    with pytest.raises(ValidationError):
        services.referral_add_information(referral=submitted, acting_user=social_worker, note="x")


def test_a_decision_on_a_stale_copy_is_refused(fully_assessed, unit_manager, support_staff):
    from bostadforst.models import StaleObjectError

    stale = Referral.objects.get()
    services.referral_add_information(referral=fully_assessed, acting_user=support_staff, note="x")
    fully_assessed.refresh_from_db()
    fully_assessed.description = "ändrad"
    fully_assessed._history_user = support_staff
    fully_assessed.save()
    with pytest.raises(StaleObjectError):
        services.referral_approve(referral=stale, acting_user=unit_manager)
    assert Referral.objects.get().status == S.ASSESSING
