"""Restricted processing (GDPR art. 18): while a unit manager has a person's
case "under utredning av rättelse", nothing of theirs changes but the
correction itself; the banner shows on the person's pages; only the unit
manager restricts and lifts.

The walk posts every service form page of the project (from the resolver, with
the samples the submit walks use) while everyone is restricted, so a form
page added later is covered without touching this file.
"""

import datetime
from html import unescape

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone, translation

from bostadforst.mixins import TOKEN_FIELD
from bostadforst.models import AccessLogEntry
from bostadforst.records import (
    RESTRICTED_MESSAGE,
    ProcessingRestrictedError,
    record_bulk_create,
    record_bulk_update,
    record_delete,
    record_save,
)
from participants import restriction
from participants.models import NetworkContact, Participant
from support.models import SupportVisit
from support.services import activity_set_attendance, visit_correct, visit_log

from ..bostadforst.test_submit_walks import (
    changes,
    form_errors,
    open_page,
    service_form_routes,
    snapshot,
    token_of,
)
from ..support.factories import ActivityFactory, AttendanceFactory, SupportVisitFactory
from .factories import NetworkContactFactory, ParticipantFactory

pytestmark = pytest.mark.django_db

REASON = "Personen begär rättelse av uppgiften om missbruk i remissen."
WRITES = (
    AccessLogEntry.Action.CREATE,
    AccessLogEntry.Action.UPDATE,
    AccessLogEntry.Action.DELETE,
)

# The correction itself (GDPR art. 18(1)(a)), the restriction's lifting, and
# protecting the person's identity (it only narrows who sees the data, and a
# threatened person cannot wait for the correction to be settled).
CORRECTIONS = frozenset(
    {
        "participants:participant-update",
        "support:visit-correct",
        "participants:participant-restriction-lift",
        "participants:participant-protection",
    }
)
# Form pages whose sample writes no record of a restricted person: a new
# person's referral, a rejected match (the referral gets a new person of its
# own: it never was the known person's), reference data (apartments,
# activities), report orders, files and extracts (reads). Every other form
# page must be refused, so a new one is too until someone decides otherwise
# here; the walk checks in the access log that these wrote nothing of a
# restricted person.
WRITES_NO_PERSON = frozenset(
    {
        "participants:referral-create",
        "participants:referral-match-reject",
        "housing:apartment-create",
        "housing:apartment-update",
        "support:activity-create",
        "reports:report-list",
        "reports:cohort-import",
        "reports:cohort-import-detail",
        "reports:register-extract-start",
        # The user's own settings: reminder kinds and language, the calendar
        # feed's address.
        "reminder-preferences",
        "support:calendar",
        # A research export leaves restricted people out (reports.research_export).
        "reports:research-export",
        # The team's fidelity self-assessment concerns no person.
        "fidelity:assessment-create",
    }
)
# Refused for a restricted person too, but with its own message ("already
# restricted"): tested below.
NOT_WALKED = frozenset({"participants:participant-restrict"})


def restricted_text() -> str:
    """The restriction message's first clause, as the Swedish UI shows it."""
    with translation.override("sv"):
        return str(RESTRICTED_MESSAGE).split("(", 1)[0].strip()


def banner_text() -> str:
    with translation.override("sv"):
        return "Behandlingen är begränsad"


def restrict_everyone() -> set[int]:
    """Every person restricted (set directly: the service has its own tests)."""
    Participant.objects.update(
        processing_restricted_since=timezone.now() - datetime.timedelta(days=1),
        processing_restriction_reason=REASON,
    )
    return set(Participant.objects.values_list("pk", flat=True))


def last_log_pk() -> int:
    return AccessLogEntry.objects.order_by("-pk").values_list("pk", flat=True).first() or 0


# --- The walk ------------------------------------------------------------------------


@pytest.mark.parametrize("route", service_form_routes(), ids=lambda r: r.name)
def test_a_restricted_persons_records_change_through_no_form_but_the_correction(world, route):
    if route.name in NOT_WALKED:
        pytest.skip("refused with its own message; tested below")
    data = world.form_data(route)
    # The page's records exist before the restriction (a sample may make one:
    # the visit an undo takes back is logged moments before).
    world.url_kwargs(route)
    people = restrict_everyone()
    client, url, page = open_page(world, route)
    token = token_of(route, page)
    before, since = snapshot(), last_log_pk()

    response = client.post(url, {**data, TOKEN_FIELD: token})

    written = sorted(
        AccessLogEntry.objects.filter(
            pk__gt=since, action__in=WRITES, person_id__in=people
        ).values_list("model", flat=True)
    )
    if route.name in CORRECTIONS:
        assert response.status_code == 302, f"{route.name}: correction refused: " + form_errors(
            response
        )
    elif route.name in WRITES_NO_PERSON:
        assert response.status_code == 302, form_errors(response)
        assert not written, f"{route.name} changed a restricted person's records: {written}"
    else:
        assert response.status_code == 400, (
            f"{route.name} answered {response.status_code} for a restricted person "
            f"(it wrote {written})"
        )
        assert restricted_text() in unescape(response.content.decode()), form_errors(response)
        assert changes(before, snapshot()) == {}, f"{route.name}: something was saved"
        assert not written


# --- The write path ------------------------------------------------------------------


@pytest.fixture
def restricted(db, unit_manager):
    person = ParticipantFactory(status="housed")
    return restriction.processing_restrict(
        participant=person, reason=REASON, acting_user=unit_manager
    )


def test_every_write_function_refuses_a_restricted_persons_record(restricted, support_staff):
    contact = NetworkContactFactory(participant=ParticipantFactory())
    other = NetworkContact(participant=restricted, name="Ny kontakt", relation="friend")
    with pytest.raises(ProcessingRestrictedError) as refused:
        record_save(other, acting_user=support_staff)
    assert refused.value.code == "processing_restricted"
    assert isinstance(refused.value, ValidationError)
    with pytest.raises(ProcessingRestrictedError):
        record_bulk_create(NetworkContact, [other], acting_user=support_staff)
    moved = NetworkContact.objects.get(pk=contact.pk)
    moved.participant = restricted
    with pytest.raises(ProcessingRestrictedError):
        record_save(moved, acting_user=support_staff)
    own = NetworkContactFactory(participant=restricted)
    own.note = "Ändrad"
    with pytest.raises(ProcessingRestrictedError):
        record_bulk_update(NetworkContact, [own], ["note"], acting_user=support_staff)
    with pytest.raises(ProcessingRestrictedError):
        record_delete(own, acting_user=support_staff)
    assert NetworkContact.objects.get(pk=own.pk).note == ""
    assert not NetworkContact.objects.filter(name="Ny kontakt").exists()


def test_records_of_other_people_and_reference_data_are_written_as_before(
    restricted, support_staff
):
    contact = NetworkContact(participant=ParticipantFactory(), name="Annan", relation="friend")
    record_save(contact, acting_user=support_staff)
    record_save(ActivityFactory.build(title="Grillkväll"), acting_user=support_staff)
    assert contact.pk is not None


def test_an_activity_cannot_drop_or_add_a_restricted_attendee(restricted, support_staff):
    activity = ActivityFactory()
    AttendanceFactory(activity=activity, participant=restricted)
    with pytest.raises(ProcessingRestrictedError):
        activity_set_attendance(activity=activity, participants=[], acting_user=support_staff)
    assert activity.attendances.filter(participant=restricted).exists()


def test_a_journal_correction_is_a_new_linked_entry_and_the_original_stays(
    restricted, support_staff
):
    original = SupportVisitFactory(participant=restricted, author=support_staff)
    original_note = original.note
    with pytest.raises(ProcessingRestrictedError):
        visit_log(
            participant=restricted,
            started_at=timezone.now(),
            duration_minutes=30,
            kind=SupportVisit.Kind.PHONE,
            staff=[support_staff],
            note="Ett nytt samtal.",
            acting_user=support_staff,
        )
    correction = visit_correct(
        original=original,
        started_at=original.started_at,
        duration_minutes=original.duration_minutes,
        kind=original.kind,
        staff=[support_staff],
        note="Rättelse: missbruket gällde inte personen.",
        sign=True,
        acting_user=support_staff,
    )
    assert correction.pk != original.pk
    assert correction.corrects_id == original.pk
    original.refresh_from_db()
    assert original.note == original_note
    assert list(original.corrections.all()) == [correction]


def test_the_personal_details_can_be_corrected(restricted, ss_client):
    url = reverse("participants:participant-update", kwargs={"pk": restricted.pk})
    page = ss_client.get(url)
    data = {
        "personnummer": restricted.personnummer,
        "first_name": restricted.first_name,
        "last_name": "Rättadsson",
        "phone": "",
        "email": "",
        "postal_address": "Rättade gatan 1",
        "registered_since": "",
        "children_in_household": "0",
        "support_worker": "",
        "version": str(restricted.version),
        TOKEN_FIELD: page.context["form"][TOKEN_FIELD].value(),
    }
    response = ss_client.post(url, data)
    assert response.status_code == 302, form_errors(response)
    restricted.refresh_from_db()
    assert restricted.last_name == "Rättadsson"
    assert restricted.processing_restricted_since is not None  # still restricted


# --- Restricting and lifting -----------------------------------------------------------


def test_the_manager_restricts_and_lifts_and_the_history_keeps_both_reasons(
    um_client, unit_manager, support_staff
):
    person = ParticipantFactory(status="housed")
    restrict_url = reverse("participants:participant-restrict", kwargs={"pk": person.pk})
    page = um_client.get(restrict_url)
    assert page.status_code == 200
    response = um_client.post(
        restrict_url, {"reason": REASON, TOKEN_FIELD: page.context["form"][TOKEN_FIELD].value()}
    )
    assert response.status_code == 302
    person.refresh_from_db()
    assert person.processing_restricted_since is not None
    assert person.processing_restriction_reason == REASON
    with pytest.raises(ProcessingRestrictedError):
        record_save(
            NetworkContact(participant=person, name="X", relation="friend"),
            acting_user=support_staff,
        )

    lift_url = reverse("participants:participant-restriction-lift", kwargs={"pk": person.pk})
    page = um_client.get(lift_url)
    response = um_client.post(
        lift_url,
        {
            "outcome": "Uppgiften rättad.",
            TOKEN_FIELD: page.context["form"][TOKEN_FIELD].value(),
        },
    )
    assert response.status_code == 302
    person.refresh_from_db()
    assert person.processing_restricted_since is None
    assert person.processing_restriction_reason == ""
    history = list(person.history.order_by("history_id"))
    assert any(h.processing_restriction_reason == REASON for h in history)
    assert history[-1].history_change_reason == "Uppgiften rättad."
    assert history[-1].history_user_id == unit_manager.pk
    # Writable again.
    record_save(
        NetworkContact(participant=person, name="X", relation="friend"), acting_user=support_staff
    )


def test_a_restriction_needs_a_reason_and_is_not_set_twice(um_client, restricted):
    url = reverse("participants:participant-restrict", kwargs={"pk": restricted.pk})
    page = um_client.get(url)
    token = page.context["form"][TOKEN_FIELD].value()
    response = um_client.post(url, {"reason": "  ", TOKEN_FIELD: token})
    assert response.status_code == 400
    response = um_client.post(url, {"reason": "Igen", TOKEN_FIELD: token})
    assert response.status_code == 400
    with translation.override("sv"):
        assert str(restriction.ERRORS["already_restricted"]) in unescape(response.content.decode())


def test_lifting_a_person_who_is_not_restricted_is_refused(um_client):
    person = ParticipantFactory()
    url = reverse("participants:participant-restriction-lift", kwargs={"pk": person.pk})
    page = um_client.get(url)
    response = um_client.post(
        url, {"outcome": "Klart", TOKEN_FIELD: page.context["form"][TOKEN_FIELD].value()}
    )
    assert response.status_code == 400
    person.refresh_from_db()
    assert person.version == 1


@pytest.mark.parametrize("name", ["participant-restrict", "participant-restriction-lift"])
def test_only_the_unit_manager_reaches_the_restriction_pages(
    name, restricted, sw_client, ss_client, admin_user_client, client
):
    url = reverse(f"participants:{name}", kwargs={"pk": restricted.pk})
    for other in (sw_client, ss_client, admin_user_client):
        assert other.get(url).status_code == 403
        assert other.post(url, {"reason": "x", "outcome": "x"}).status_code == 403
    assert client.get(url).status_code == 302  # to the login page
    restricted.refresh_from_db()
    assert restricted.processing_restricted_since is not None


def test_the_services_check_the_role_too(restricted, support_staff):
    from django.core.exceptions import PermissionDenied

    with pytest.raises(PermissionDenied):
        restriction.processing_restriction_lift(
            participant=restricted, outcome="x", acting_user=support_staff
        )
    with pytest.raises(PermissionDenied):
        restriction.processing_restrict(
            participant=ParticipantFactory(), reason="x", acting_user=support_staff
        )


# --- Banners ---------------------------------------------------------------------------


def test_every_page_of_the_person_shows_the_banner_with_date_and_reason(
    restricted, ss_client, um_client, support_staff
):
    visit = SupportVisitFactory(participant=restricted, author=support_staff)
    since = timezone.localtime(restricted.processing_restricted_since).strftime("%Y-%m-%d")
    pages = [
        reverse("participants:participant-detail", kwargs={"pk": restricted.pk}),
        reverse("participants:participant-update", kwargs={"pk": restricted.pk}),
        reverse("support:visit-detail", kwargs={"pk": visit.pk}),
        reverse("support:visit-correct", kwargs={"pk": visit.pk}),
        reverse("support:visit-quick-log") + f"?participant={restricted.pk}",
    ]
    for url in pages:
        html = unescape(ss_client.get(url).content.decode())
        assert banner_text() in html, url
        assert f"{since}: {REASON}" in html, url
    manager_page = um_client.get(pages[0]).content.decode()
    assert reverse("participants:participant-restriction-lift", kwargs={"pk": restricted.pk}) in (
        manager_page
    )
    assert "restriction/" not in ss_client.get(pages[0]).content.decode()


def test_no_banner_for_other_people_or_lists(restricted, ss_client, um_client):
    other = ParticipantFactory(status="housed")
    for url in (
        reverse("participants:participant-detail", kwargs={"pk": other.pk}),
        reverse("participants:participant-list"),
        reverse("home"),
    ):
        assert banner_text() not in ss_client.get(url).content.decode(), url
    page = um_client.get(reverse("participants:participant-detail", kwargs={"pk": other.pk}))
    assert reverse("participants:participant-restrict", kwargs={"pk": other.pk}) in (
        page.content.decode()
    )


def test_the_banner_goes_when_the_restriction_is_lifted(restricted, ss_client, unit_manager):
    restriction.processing_restriction_lift(
        participant=restricted, outcome="Rättat", acting_user=unit_manager
    )
    url = reverse("participants:participant-detail", kwargs={"pk": restricted.pk})
    assert banner_text() not in ss_client.get(url).content.decode()


def test_a_referral_of_a_restricted_known_person_is_filed_as_for_anyone(
    restricted, social_worker, unit_manager
):
    """Refusing it would tell the social worker that the number belongs to
    someone the team knows; the team's confirmation of the match waits."""
    from participants import services
    from participants.models import MatchStatus

    version = restricted.version
    referral = services.referral_create(
        acting_user=social_worker,
        personnummer=restricted.personnummer,
        first_name="Ny",
        last_name="Remiss",
        referral_date=timezone.localdate(),
        housing_situation="acute",
        support_need="both",
    )
    assert referral.match == MatchStatus.PENDING
    services.referral_add_information(
        referral=referral, acting_user=social_worker, note="Mer om situationen."
    )
    restricted.refresh_from_db()
    assert restricted.version == version
    with pytest.raises(ProcessingRestrictedError):
        services.referral_match_confirm(referral=referral, acting_user=unit_manager)
