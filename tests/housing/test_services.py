"""Housing rules: letting, no double letting (half-open periods), takeovers,
ending a tenancy and incidents."""

import datetime
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from hypothesis import given
from hypothesis import strategies as st

from bostadforst.models import AccessLogEntry
from housing import services
from housing.models import ContractType, ExitReason, Tenancy, TenancyIncident
from participants.models import ParticipantStatus
from tests.participants.factories import ParticipantFactory

from .factories import ApartmentFactory, TenancyFactory

D = datetime.date


def assign(participant, apartment, move_in, user, contract_type=ContractType.SOCIAL):
    return services.tenancy_assign(
        participant=participant,
        apartment=apartment,
        contract_type=contract_type,
        move_in=move_in,
        acting_user=user,
    )


def codes(exc: ValidationError) -> dict[str, list[str]]:
    return {field: [e.code for e in errors] for field, errors in exc.error_dict.items()}


# --- letting -----------------------------------------------------------------


@pytest.mark.django_db
def test_letting_to_an_approved_participant_creates_the_tenancy_and_houses_them(
    approved, apartment, support_staff
):
    tenancy = assign(approved, apartment, D(2024, 3, 1), support_staff)
    approved.refresh_from_db()
    assert approved.status == ParticipantStatus.HOUSED
    assert (tenancy.participant, tenancy.apartment, tenancy.move_in) == (
        approved,
        apartment,
        D(2024, 3, 1),
    )
    assert tenancy.history.get().history_user == support_staff
    assert AccessLogEntry.objects.filter(
        action="create", model="housing.Tenancy", person_id=approved.pk, user=support_staff
    ).exists()


@pytest.mark.django_db
@pytest.mark.parametrize(
    "status", [ParticipantStatus.REFERRED, ParticipantStatus.ASSESSING, ParticipantStatus.EXITED]
)
def test_letting_to_a_participant_who_is_not_approved_is_refused(status, apartment, support_staff):
    participant = ParticipantFactory(status=status)
    with pytest.raises(ValidationError) as exc:
        assign(participant, apartment, D(2024, 3, 1), support_staff)
    assert codes(exc.value) == {"participant": ["participant_not_approved"]}
    assert not Tenancy.objects.exists()
    participant.refresh_from_db()
    assert participant.status == status


@pytest.mark.django_db
def test_a_withdrawn_apartment_cannot_be_let(approved, support_staff):
    apartment = ApartmentFactory(status="withdrawn")
    with pytest.raises(ValidationError) as exc:
        assign(approved, apartment, D(2024, 3, 1), support_staff)
    assert codes(exc.value) == {"apartment": ["apartment_withdrawn"]}


# --- no double letting: the half-open period [move_in, move_out) ---------------


@pytest.mark.django_db
def test_the_next_tenancy_may_start_on_the_previous_move_out_day(apartment, support_staff):
    first = assign(ParticipantFactory(), apartment, D(2024, 1, 1), support_staff)
    services.tenancy_end(
        tenancy=first,
        move_out=D(2024, 6, 1),
        exit_reason=ExitReason.MOVED_ON,
        acting_user=support_staff,
    )
    second = assign(ParticipantFactory(), apartment, D(2024, 6, 1), support_staff)
    assert second.pk and Tenancy.objects.filter(apartment=apartment).count() == 2


@pytest.mark.django_db
def test_one_day_of_overlap_on_the_apartment_is_refused_naming_the_tenancy(
    apartment, support_staff
):
    first = assign(
        ParticipantFactory(first_name="Kim", last_name="Ek"),
        apartment,
        D(2024, 1, 1),
        support_staff,
    )
    services.tenancy_end(
        tenancy=first,
        move_out=D(2024, 6, 1),
        exit_reason=ExitReason.MOVED_ON,
        acting_user=support_staff,
    )
    other = ParticipantFactory()
    with pytest.raises(ValidationError) as exc:
        assign(other, apartment, D(2024, 5, 31), support_staff)
    assert codes(exc.value) == {"apartment": ["apartment_overlap"]}
    message = exc.value.error_dict["apartment"][0].messages[0]
    assert apartment.address in message
    assert "2024-01-01–2024-06-01" in message
    assert "Kim Ek" in message
    assert Tenancy.objects.count() == 1
    other.refresh_from_db()
    assert other.status == ParticipantStatus.APPROVED  # nothing half-saved


@pytest.mark.django_db
def test_an_ongoing_tenancy_blocks_every_later_move_in(apartment, support_staff):
    assign(ParticipantFactory(), apartment, D(2024, 1, 1), support_staff)
    with pytest.raises(ValidationError):
        assign(ParticipantFactory(), apartment, D(2030 - 5, 1, 1), support_staff)


@pytest.mark.django_db
def test_a_new_open_tenancy_before_an_existing_one_is_refused(apartment, support_staff):
    assign(ParticipantFactory(), apartment, D(2024, 6, 1), support_staff)
    with pytest.raises(ValidationError):
        assign(ParticipantFactory(), apartment, D(2024, 1, 1), support_staff)


@pytest.mark.django_db
def test_a_participant_never_holds_two_tenancies_at_once(approved, support_staff):
    current = assign(approved, ApartmentFactory(), D(2024, 1, 1), support_staff)
    with pytest.raises(ValidationError) as exc:
        assign(approved, ApartmentFactory(), D(2024, 9, 1), support_staff)
    assert codes(exc.value) == {"participant": ["participant_overlap"]}
    assert current.apartment.address in exc.value.error_dict["participant"][0].messages[0]


@pytest.mark.django_db
def test_moving_to_another_housing_first_apartment(approved, support_staff):
    """End with other_hf_apartment, then the next tenancy from the move-out day."""
    old = assign(approved, ApartmentFactory(), D(2023, 2, 1), support_staff)
    services.tenancy_end(
        tenancy=old,
        move_out=D(2024, 4, 1),
        exit_reason=ExitReason.OTHER_HF_APARTMENT,
        acting_user=support_staff,
    )
    new = assign(
        approved,
        ApartmentFactory(),
        D(2024, 4, 1),
        support_staff,
        contract_type=ContractType.FIRST_HAND,
    )
    approved.refresh_from_db()
    assert approved.status == ParticipantStatus.HOUSED
    assert list(approved.tenancies.order_by("move_in")) == [old, new]


@pytest.mark.django_db
def test_ending_a_tenancy_so_it_overlaps_a_later_one_is_refused(apartment, support_staff):
    old = TenancyFactory(
        apartment=apartment,
        move_in=D(2023, 1, 1),
        move_out=D(2023, 6, 1),
        exit_reason=ExitReason.MOVED_ON,
    )
    TenancyFactory(apartment=apartment, move_in=D(2023, 6, 1))
    old.move_out = D(2023, 6, 2)
    with pytest.raises(ValidationError) as exc:
        old.full_clean()
    assert codes(exc.value) == {"apartment": ["apartment_overlap"]}


def overlaps(a: tuple, b: tuple) -> bool:
    """The half-open rule, stated once more independently: [s, e) with e=None = ∞."""
    a_start, a_end = a
    b_start, b_end = b
    return (a_end is None or b_start < a_end) and (b_end is None or a_start < b_end)


periods = st.tuples(st.integers(0, 30), st.one_of(st.none(), st.integers(1, 30))).map(
    lambda t: (t[0], None if t[1] is None else t[0] + t[1])
)


@pytest.mark.django_db
@given(a=periods, b=periods)
def test_the_overlap_check_is_exactly_the_half_open_rule(a, b):
    base = D(2024, 1, 1)

    def day(n):
        return None if n is None else base + datetime.timedelta(days=n)

    apartment = ApartmentFactory()
    existing = TenancyFactory(
        apartment=apartment,
        move_in=day(a[0]),
        move_out=day(a[1]),
        exit_reason=ExitReason.OTHER if a[1] is not None else "",
    )
    candidate = Tenancy(
        participant=ParticipantFactory(),
        apartment=apartment,
        contract_type=ContractType.FIRST_HAND,
        move_in=day(b[0]),
        move_out=day(b[1]),
        exit_reason=ExitReason.OTHER if b[1] is not None else "",
    )
    try:
        candidate.full_clean()
        refused = False
    except ValidationError as exc:
        assert codes(exc) == {"apartment": ["apartment_overlap"]}
        refused = True
    finally:
        existing.delete()
    assert refused == overlaps(a, b)


# --- ending a tenancy ----------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize("reason", ExitReason.values)
def test_every_exit_reason_ends_a_tenancy(reason, approved, apartment, support_staff):
    tenancy = assign(approved, apartment, D(2022, 5, 1), support_staff)
    services.tenancy_end(
        tenancy=tenancy, move_out=D(2024, 5, 1), exit_reason=reason, acting_user=support_staff
    )
    tenancy.refresh_from_db()
    assert (tenancy.move_out, tenancy.exit_reason) == (D(2024, 5, 1), reason)
    assert not tenancy.is_ongoing


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("reason", "close_case", "status", "closed_on"),
    [
        (ExitReason.MOVED_ON, True, "exited", D(2024, 5, 1)),
        (ExitReason.EVICTED, False, "housed", None),
        (ExitReason.OTHER_HF_APARTMENT, True, "housed", None),
    ],
)
def test_ending_a_tenancy_closes_the_case_only_when_asked_and_never_on_a_transfer(
    reason, close_case, status, closed_on, approved, apartment, support_staff
):
    tenancy = assign(approved, apartment, D(2022, 5, 1), support_staff)
    services.tenancy_end(
        tenancy=tenancy,
        move_out=D(2024, 5, 1),
        exit_reason=reason,
        close_case=close_case,
        acting_user=support_staff,
    )
    approved.refresh_from_db()
    assert (approved.status, approved.closed_on) == (status, closed_on)


@pytest.mark.django_db
@pytest.mark.parametrize(
    "move_out, reason, expected",
    [
        (D(2022, 4, 30), ExitReason.MOVED_ON, {"move_out": ["move_out_before_move_in"]}),
        (D(2022, 5, 1), ExitReason.MOVED_ON, {"move_out": ["move_out_before_move_in"]}),
        (D(2024, 5, 1), "", {"exit_reason": ["exit_reason_required"]}),
        (D(2024, 5, 1), "bored", {"exit_reason": ["exit_reason_required"]}),
        (
            D(1999, 5, 1),
            ExitReason.MOVED_ON,
            {"move_out": ["date_too_early", "move_out_before_move_in"]},
        ),
    ],
)
def test_ending_with_bad_input_is_refused_and_changes_nothing(
    move_out, reason, expected, approved, apartment, support_staff
):
    tenancy = assign(approved, apartment, D(2022, 5, 1), support_staff)
    with pytest.raises(ValidationError) as exc:
        services.tenancy_end(
            tenancy=tenancy, move_out=move_out, exit_reason=reason, acting_user=support_staff
        )
    assert codes(exc.value) == expected
    tenancy.refresh_from_db()
    assert tenancy.move_out is None and tenancy.exit_reason == ""


@pytest.mark.django_db
def test_a_tenancy_cannot_be_ended_twice(approved, apartment, support_staff):
    tenancy = assign(approved, apartment, D(2022, 5, 1), support_staff)
    services.tenancy_end(
        tenancy=tenancy,
        move_out=D(2023, 1, 1),
        exit_reason=ExitReason.DECEASED,
        acting_user=support_staff,
    )
    with pytest.raises(ValidationError) as exc:
        services.tenancy_end(
            tenancy=tenancy,
            move_out=D(2023, 2, 1),
            exit_reason=ExitReason.OTHER,
            acting_user=support_staff,
        )
    assert codes(exc.value) == {"move_out": ["tenancy_already_ended"]}


# --- contract takeover -----------------------------------------------------------


@pytest.mark.django_db
def test_a_social_contract_records_its_takeover_and_goes_on(approved, apartment, support_staff):
    tenancy = assign(approved, apartment, D(2022, 5, 1), support_staff)
    services.tenancy_record_takeover(
        tenancy=tenancy, takeover=D(2023, 5, 1), acting_user=support_staff
    )
    tenancy.refresh_from_db()
    assert tenancy.takeover == D(2023, 5, 1)
    assert tenancy.is_ongoing and tenancy.move_out is None


@pytest.mark.django_db
def test_a_takeover_on_the_move_in_day_is_allowed(approved, apartment, support_staff):
    tenancy = assign(approved, apartment, D(2022, 5, 1), support_staff)
    services.tenancy_record_takeover(
        tenancy=tenancy, takeover=D(2022, 5, 1), acting_user=support_staff
    )


@pytest.mark.django_db
@pytest.mark.parametrize(
    "contract_type, move_out, takeover, code",
    [
        (ContractType.FIRST_HAND, None, D(2023, 1, 1), "takeover_first_hand"),
        (ContractType.SOCIAL, None, D(2022, 4, 30), "takeover_before_move_in"),
        (ContractType.SOCIAL, D(2023, 1, 1), D(2023, 1, 1), "takeover_after_move_out"),
        (ContractType.SOCIAL, D(2023, 1, 1), D(2023, 3, 1), "takeover_after_move_out"),
        (
            ContractType.SOCIAL,
            None,
            datetime.date.today() + datetime.timedelta(days=3),
            "takeover_in_future",
        ),
    ],
)
def test_a_takeover_outside_a_social_contract_is_refused(
    contract_type, move_out, takeover, code, approved, apartment, support_staff
):
    tenancy = assign(approved, apartment, D(2022, 5, 1), support_staff, contract_type)
    if move_out:
        services.tenancy_end(
            tenancy=tenancy,
            move_out=move_out,
            exit_reason=ExitReason.OTHER,
            acting_user=support_staff,
        )
    version = Tenancy.objects.get(pk=tenancy.pk).version
    with pytest.raises(ValidationError) as exc:
        services.tenancy_record_takeover(
            tenancy=tenancy, takeover=takeover, acting_user=support_staff
        )
    assert codes(exc.value) == {"takeover": [code]}
    stored = Tenancy.objects.get(pk=tenancy.pk)
    assert stored.takeover is None and stored.version == version


@pytest.mark.django_db
def test_a_recorded_takeover_is_not_silently_overwritten(approved, apartment, support_staff):
    tenancy = assign(approved, apartment, D(2022, 5, 1), support_staff)
    services.tenancy_record_takeover(
        tenancy=tenancy, takeover=D(2023, 5, 1), acting_user=support_staff
    )
    with pytest.raises(ValidationError) as exc:
        services.tenancy_record_takeover(
            tenancy=tenancy, takeover=D(2023, 6, 1), acting_user=support_staff
        )
    assert codes(exc.value) == {"takeover": ["takeover_already_recorded"]}


@pytest.mark.django_db
def test_a_wrong_takeover_date_is_corrected_and_the_old_one_kept_in_history(
    approved, apartment, support_staff, unit_manager
):
    tenancy = assign(approved, apartment, D(2022, 5, 1), support_staff)
    services.tenancy_record_takeover(
        tenancy=tenancy, takeover=D(2023, 5, 1), acting_user=support_staff
    )
    services.tenancy_correct_takeover(
        tenancy=tenancy,
        takeover=D(2023, 6, 1),
        reason="Fel månad skrevs in",
        acting_user=unit_manager,
    )
    tenancy.refresh_from_db()
    assert tenancy.takeover == D(2023, 6, 1) and tenancy.is_ongoing
    latest, previous = tenancy.history.order_by("-history_id")[:2]
    assert (previous.takeover, latest.takeover) == (D(2023, 5, 1), D(2023, 6, 1))
    assert latest.history_user == unit_manager
    assert latest.history_change_reason == "Fel månad skrevs in"


@pytest.mark.django_db
def test_a_takeover_that_never_happened_can_be_removed(approved, apartment, support_staff):
    tenancy = assign(approved, apartment, D(2022, 5, 1), support_staff)
    services.tenancy_record_takeover(
        tenancy=tenancy, takeover=D(2023, 5, 1), acting_user=support_staff
    )
    services.tenancy_correct_takeover(
        tenancy=tenancy, takeover=None, reason="Registrerades av misstag", acting_user=support_staff
    )
    tenancy.refresh_from_db()
    assert tenancy.takeover is None


@pytest.mark.django_db
@pytest.mark.parametrize(
    "recorded, takeover, reason, code, field",
    [
        (None, D(2023, 6, 1), "Fel datum", "takeover_not_recorded", "takeover"),
        (D(2023, 5, 1), D(2023, 5, 1), "Fel datum", "takeover_unchanged", "takeover"),
        (D(2023, 5, 1), D(2023, 6, 1), "   ", "correction_reason_required", "reason"),
        (D(2023, 5, 1), D(2022, 4, 1), "Fel år", "takeover_before_move_in", "takeover"),
    ],
)
def test_a_takeover_correction_is_checked_like_a_new_takeover(
    recorded, takeover, reason, code, field, approved, apartment, support_staff
):
    tenancy = assign(approved, apartment, D(2022, 5, 1), support_staff)
    if recorded:
        services.tenancy_record_takeover(
            tenancy=tenancy, takeover=recorded, acting_user=support_staff
        )
    version = Tenancy.objects.get(pk=tenancy.pk).version
    with pytest.raises(ValidationError) as exc:
        services.tenancy_correct_takeover(
            tenancy=tenancy, takeover=takeover, reason=reason, acting_user=support_staff
        )
    assert codes(exc.value) == {field: [code]}
    stored = Tenancy.objects.get(pk=tenancy.pk)
    assert stored.takeover == recorded and stored.version == version


# --- incidents -------------------------------------------------------------------


@pytest.mark.django_db
def test_an_incident_is_logged_and_later_resolved(support_staff):
    tenancy = TenancyFactory(move_in=D(2023, 1, 1))
    incident = services.incident_create(
        tenancy=tenancy,
        kind=TenancyIncident.Kind.RENT_ARREARS,
        occurred_on=D(2024, 2, 1),
        amount=Decimal("6200"),
        description="Hyran för januari obetald.",
        acting_user=support_staff,
    )
    assert incident.is_open and incident.is_eviction_risk
    services.incident_update(
        incident=incident,
        resolved_on=D(2024, 3, 1),
        resolution="Avbetalningsplan med hyresvärden.",
        acting_user=support_staff,
    )
    incident.refresh_from_db()
    assert not incident.is_open and incident.history.count() == 2


@pytest.mark.django_db
@pytest.mark.parametrize(
    "kind, occurred_on, amount, resolved_on, expected",
    [
        ("rent_arrears", D(2024, 2, 1), None, None, {"amount": ["amount_required"]}),
        (
            "disturbance",
            D(2024, 2, 1),
            Decimal("100"),
            None,
            {"amount": ["amount_only_for_arrears"]},
        ),
        ("rent_arrears", D(2024, 2, 1), Decimal("-5"), None, {"amount": ["min_value"]}),
        ("damage", D(2022, 12, 31), None, None, {"occurred_on": ["before_tenancy"]}),
        (
            "damage",
            D(2024, 2, 1),
            None,
            D(2024, 1, 31),
            {"resolved_on": ["resolved_before_occurred"]},
        ),
        (
            "notice",
            datetime.date.today() + datetime.timedelta(days=1),
            None,
            None,
            {"occurred_on": ["in_future"]},
        ),
    ],
)
def test_bad_incidents_are_refused(kind, occurred_on, amount, resolved_on, expected, support_staff):
    tenancy = TenancyFactory(move_in=D(2023, 1, 1))
    with pytest.raises(ValidationError) as exc:
        services.incident_create(
            tenancy=tenancy,
            kind=kind,
            occurred_on=occurred_on,
            amount=amount,
            resolved_on=resolved_on,
            description="x",
            acting_user=support_staff,
        )
    assert codes(exc.value) == expected
    assert not TenancyIncident.objects.exists()


# --- a cohort file's tenancies (the reports' import) ---------------------------


def import_tenancy(participant, apartment, move_in, user, **kwargs):
    return services.tenancy_import(
        participant=participant,
        apartment=apartment,
        contract_type=kwargs.pop("contract_type", ContractType.SOCIAL),
        move_in=move_in,
        acting_user=user,
        **kwargs,
    )


@pytest.mark.django_db
def test_an_imported_tenancy_meets_the_overlap_rule_of_a_letting(
    apartment, approved, support_staff
):
    """One rule, in ``Tenancy.clean``: the import gets the codes and messages
    that ``tenancy_assign`` gets."""
    assign(approved, apartment, D(2024, 1, 1), support_staff)
    with pytest.raises(ValidationError) as exc:
        import_tenancy(ParticipantFactory(), apartment, D(2024, 6, 1), support_staff)
    assert codes(exc.value) == {"apartment": ["apartment_overlap"]}
    with pytest.raises(ValidationError) as exc:
        import_tenancy(approved, ApartmentFactory(), D(2023, 6, 1), support_staff)
    assert codes(exc.value) == {"participant": ["participant_overlap"]}
    assert Tenancy.objects.count() == 1


@pytest.mark.django_db
def test_an_imported_tenancy_is_created_then_updated_then_left_alone(support_staff):
    person, apartment = ParticipantFactory(), ApartmentFactory()
    tenancy, outcome = import_tenancy(person, apartment, D(2015, 1, 1), support_staff)
    assert outcome == "created"
    _same, outcome = import_tenancy(
        person,
        apartment,
        D(2015, 1, 1),
        support_staff,
        move_out=D(2017, 1, 1),
        exit_reason=ExitReason.EVICTED,
    )
    assert outcome == "updated"
    history = tenancy.history.count()
    _same, outcome = import_tenancy(
        person,
        apartment,
        D(2015, 1, 1),
        support_staff,
        move_out=D(2017, 1, 1),
        exit_reason=ExitReason.EVICTED,
    )
    assert outcome == "unchanged"
    assert tenancy.history.count() == history == 2
    assert tenancy.history.first().history_user == support_staff


@pytest.mark.django_db
def test_the_case_follows_the_latest_imported_tenancy(approved, support_staff):
    """Housed while it goes on; closed through participant_mark_exited on its
    move-out day (culling counts from there); reopened by a correction."""
    tenancy, _ = import_tenancy(
        approved,
        ApartmentFactory(),
        D(2012, 1, 1),
        support_staff,
        move_out=D(2014, 5, 31),
        exit_reason=ExitReason.OTHER_HF_APARTMENT,
    )
    assert services.participant_update_from_tenancies(
        participant=approved, acting_user=support_staff
    )
    assert (approved.status, approved.closed_on) == (ParticipantStatus.HOUSED, None)
    import_tenancy(
        approved,
        ApartmentFactory(),
        D(2014, 5, 31),
        support_staff,
        move_out=D(2016, 2, 29),
        exit_reason=ExitReason.LOST_CONTACT,
    )
    assert services.participant_update_from_tenancies(
        participant=approved, acting_user=support_staff
    )
    assert (approved.status, approved.closed_on) == (ParticipantStatus.EXITED, D(2016, 2, 29))
    history = approved.history.count()
    assert not services.participant_update_from_tenancies(
        participant=approved, acting_user=support_staff
    )
    assert approved.history.count() == history
    import_tenancy(approved, ApartmentFactory(), D(2014, 5, 31), support_staff)  # corrected
    assert services.participant_update_from_tenancies(
        participant=approved, acting_user=support_staff
    )
    assert (approved.status, approved.closed_on) == (ParticipantStatus.HOUSED, None)
