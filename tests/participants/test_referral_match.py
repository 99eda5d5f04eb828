"""A referral whose personnummer the team already knows (issue 12, finding 2).

The match is the team's to confirm or reject; the referring social worker sees
what they typed and the referral's own status, the same answer whether or not
the person was known, and gains no access to the known person's record.
"""

import re
from datetime import date

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse

from bostadforst.models import AccessLogEntry
from bostadforst.permissions import ACCESS_TABLE
from bostadforst.registry import participant_sections
from bostadforst.roles import Role
from participants import services
from participants.models import (
    MatchStatus,
    Participant,
    ParticipantStatus,
    Referral,
    ReferralEvent,
    ReferralStatus,
)

from ..urlwalk import project_routes
from .conftest import ALL_MET, referral_data
from .factories import fictional_personnummer

pytestmark = pytest.mark.django_db

TYPED = {
    "first_name": "Typad",
    "last_name": "Skrivsson",
    "phone": "070-999 88 77",
    "email": "typad@example.se",
    "postal_address": "Provgatan 1",
}


def form_post(**overrides) -> dict:
    data = referral_data(**(TYPED | overrides))
    return {"children_in_household": "0"} | {
        k: ("" if v is None else str(v)) for k, v in data.items()
    }


@pytest.fixture
def known(file_referral, other_social_worker, support_staff, unit_manager):
    """A person another social worker referred, approved and now housed, with
    a note on that referral the referring social worker must never see."""
    referral = file_referral(
        acting_user=other_social_worker,
        first_name="Hemligfrid",
        last_name="Känddotter",
        phone="",
        description="Annans remisstext 5150",
    )
    services.referral_start_assessment(referral=referral, acting_user=support_staff)
    services.assessment_record(referral=referral, acting_user=support_staff, answers=ALL_MET)
    services.referral_approve(referral=referral, acting_user=unit_manager)
    services.participant_mark_housed(participant=referral.participant, acting_user=support_staff)
    services.referral_add_information(
        referral=referral, acting_user=other_social_worker, note="Annans uppgift 5150"
    )
    participant = Participant.objects.get(pk=referral.participant_id)
    return participant


@pytest.fixture
def pending(known, file_referral):
    return file_referral(personnummer=known.personnummer, **TYPED)


def known_markers(person: Participant) -> list[str]:
    return [f"{person.first_name} {person.last_name}", person.first_name, "5150", "Har bostad"]


# --- Services ------------------------------------------------------------------------


def test_a_known_personnummer_links_the_referral_for_the_team_to_confirm(known, pending):
    version = known.version
    assert pending.participant_id == known.pk
    assert pending.match == MatchStatus.PENDING
    assert (pending.applicant_first_name, pending.applicant_last_name) == ("Typad", "Skrivsson")
    assert pending.applicant_personnummer == known.personnummer
    assert pending.applicant_email == "typad@example.se"
    known.refresh_from_db()
    # Nothing of the known person's record changes on a match nobody confirmed.
    assert known.version == version
    assert (known.phone, known.email, known.status) == ("", "", ParticipantStatus.HOUSED)


def test_a_new_personnummer_creates_the_person_from_what_was_typed(file_referral):
    referral = file_referral(**TYPED)
    assert referral.match == MatchStatus.NEW
    assert referral.participant.first_name == referral.applicant_first_name == "Typad"
    assert referral.applicant_personnummer == referral.participant.personnummer


def test_confirming_the_match_fills_blanks_and_names_who_confirmed(pending, known, support_staff):
    services.referral_match_confirm(referral=pending, acting_user=support_staff)
    pending.refresh_from_db()
    known.refresh_from_db()
    assert pending.match == MatchStatus.CONFIRMED
    assert pending.history.first().history_user == support_staff
    event = pending.events.get(kind=ReferralEvent.Kind.MATCH_CONFIRMED)
    assert event.created_by == support_staff
    assert (known.first_name, known.last_name) == ("Hemligfrid", "Känddotter")
    assert (known.phone, known.email) == ("070-999 88 77", "typad@example.se")
    assert known.history.first().history_user == support_staff


def test_a_pending_match_leaves_the_phase_until_the_team_confirms(
    assessing, unit_manager, file_referral, support_staff
):
    services.referral_decline(referral=assessing, acting_user=unit_manager, reason="Skäl.")
    again = file_referral(personnummer=assessing.participant.personnummer)
    person = Participant.objects.get()
    assert person.status == ParticipantStatus.EXITED
    services.referral_match_confirm(referral=again, acting_user=support_staff)
    person.refresh_from_db()
    assert person.status == ParticipantStatus.REFERRED and person.closed_on is None


def test_rejecting_the_match_gives_the_referral_a_person_of_its_own(pending, known, unit_manager):
    version = known.version
    services.referral_match_reject(referral=pending, acting_user=unit_manager)
    pending.refresh_from_db()
    known.refresh_from_db()
    assert pending.match == MatchStatus.REJECTED
    assert pending.participant_id != known.pk
    new = pending.participant
    assert (new.first_name, new.last_name, new.phone) == ("Typad", "Skrivsson", "070-999 88 77")
    # The typed number is the known person's (it is unique): it stays on the
    # referral as typed, and the new person has none until the team has the right one.
    assert new.personnummer is None
    assert pending.applicant_personnummer == known.personnummer
    assert new.status == ParticipantStatus.REFERRED
    assert known.version == version
    assert pending.history.first().history_user == unit_manager
    assert pending.events.get(kind=ReferralEvent.Kind.MATCH_REJECTED).created_by == unit_manager


@pytest.mark.parametrize("action", ["referral_match_confirm", "referral_match_reject"])
def test_only_the_team_decides_a_match(pending, social_worker, action):
    with pytest.raises(PermissionDenied):
        getattr(services, action)(referral=pending, acting_user=social_worker)


@pytest.mark.parametrize("action", ["referral_match_confirm", "referral_match_reject"])
def test_a_match_is_decided_once(pending, support_staff, action):
    getattr(services, action)(referral=pending, acting_user=support_staff)
    for again in ["referral_match_confirm", "referral_match_reject"]:
        with pytest.raises(ValidationError) as info:
            getattr(services, again)(referral=pending, acting_user=support_staff)
        assert info.value.code == "match_decided"


def test_a_referral_without_a_match_has_nothing_to_decide(submitted, support_staff):
    with pytest.raises(ValidationError) as info:
        services.referral_match_confirm(referral=submitted, acting_user=support_staff)
    assert info.value.code == "match_decided"


def test_the_assessment_waits_for_the_team_to_decide_the_match(pending, support_staff):
    assert not services.transition_allowed(pending, ReferralStatus.ASSESSING)
    with pytest.raises(ValidationError) as info:
        services.referral_start_assessment(referral=pending, acting_user=support_staff)
    assert info.value.code == "match_pending"
    services.referral_match_confirm(referral=pending, acting_user=support_staff)
    services.referral_start_assessment(referral=pending, acting_user=support_staff)
    assert pending.status == ReferralStatus.ASSESSING


# --- What the referring social worker sees ---------------------------------------------


def test_the_social_worker_sees_what_they_typed_not_the_known_person(
    sw_client, known, social_worker
):
    response = sw_client.post(
        reverse("participants:referral-create"),
        form_post(personnummer=known.personnummer),
        follow=True,
    )
    assert response.status_code == 200
    referral = Referral.objects.get(referred_by=social_worker)
    pages = {
        "detail": response.content.decode(),
        "mine": sw_client.get(reverse("participants:my-referrals")).content.decode(),
    }
    for name in ["participants:referral-add-information", "participants:referral-withdraw"]:
        pages[name] = sw_client.get(reverse(name, kwargs={"pk": referral.pk})).content.decode()
    for page, html in pages.items():
        assert "Typad Skrivsson" in html, page
        for marker in known_markers(known):
            assert marker not in html, (page, marker)
        assert "redan känd" not in html and "känd person" not in html.lower(), page
    assert "Remissen är skickad." in pages["detail"]
    assert response.context["sections"] == []


def _normalised(html: str) -> str:
    """The page without what differs between any two referrals: ids, dates,
    times, the masked number's birth date, tokens and nonces."""
    html = re.sub(r"<input[^>]*type=\"hidden\"[^>]*>", "", html)
    html = re.sub(r"\bnonce=\"[^\"]*\"", "", html)
    html = re.sub(r"/referrals/\d+/", "/referrals/N/", html)
    html = re.sub(r"\d{8}-\*{4}", "NUMBER", html)
    return re.sub(r"\d{4}-\d{2}-\d{2}( \d{2}:\d{2})?", "DATE", html)


def test_the_social_worker_gets_the_same_answer_whether_or_not_the_person_is_known(
    sw_client, known
):
    url = reverse("participants:referral-create")
    for_new = sw_client.post(url, form_post(personnummer=fictional_personnummer()), follow=True)
    for_known = sw_client.post(url, form_post(personnummer=known.personnummer), follow=True)
    assert for_new.status_code == for_known.status_code == 200
    assert _normalised(for_known.content.decode()) == _normalised(for_new.content.decode())


def test_a_social_worker_follows_a_new_person_they_referred(sw_client, approved, support_staff):
    """A person the referral itself brought in: the phase and the other apps'
    summaries once the referral is approved, as before."""
    services.participant_mark_housed(participant=approved.participant, acting_user=support_staff)
    response = sw_client.get(approved.get_absolute_url())
    html = response.content.decode()
    assert "Så går det" in html and "Har bostad" in html and "Kalle Testsson" in html
    shown = {s["template"] for s in response.context["sections"]}
    visible = {
        s.template
        for s in participant_sections
        if s.context(approved.participant, user=approved.referred_by) is not None
    }
    assert shown == visible


def test_a_confirmed_match_still_shows_the_social_worker_only_what_they_typed(
    sw_client, pending, known, support_staff, unit_manager
):
    services.referral_match_confirm(referral=pending, acting_user=support_staff)
    services.referral_start_assessment(referral=pending, acting_user=support_staff)
    services.assessment_record(referral=pending, acting_user=support_staff, answers=ALL_MET)
    services.referral_approve(referral=pending, acting_user=unit_manager)
    response = sw_client.get(pending.get_absolute_url())
    html = response.content.decode()
    assert "Typad Skrivsson" in html and "Beviljad" in html
    for marker in known_markers(known):
        assert marker not in html, marker
    assert response.context["sections"] == []


def test_the_social_worker_cannot_confirm_or_reject(sw_client, pending):
    for name in ["participants:referral-match-confirm", "participants:referral-match-reject"]:
        url = reverse(name, kwargs={"pk": pending.pk})
        assert sw_client.get(url).status_code == 403
        assert sw_client.post(url, {"version": pending.version}).status_code == 403
    pending.refresh_from_db()
    assert pending.match == MatchStatus.PENDING


# --- What the team sees and does ------------------------------------------------------


def test_the_team_sees_a_known_person_with_a_link_to_their_record(ss_client, pending, known):
    html = ss_client.get(pending.get_absolute_url()).content.decode()
    assert "Känd person" in html
    assert reverse("participants:participant-detail", kwargs={"pk": known.pk}) in html
    assert "Typad Skrivsson" in html  # what the social worker typed, to compare
    for name in ["participants:referral-match-confirm", "participants:referral-match-reject"]:
        assert f'action="{reverse(name, kwargs={"pk": pending.pk})}"' in html
    # No start of the assessment before the match is decided.
    start = reverse("participants:referral-start-assessment", kwargs={"pk": pending.pk})
    assert f'action="{start}"' not in html
    queue = ss_client.get(reverse("participants:referral-queue")).content.decode()
    assert "Känd person" in queue


def test_the_team_confirms_the_match_from_the_referral_page(ss_client, pending, support_staff):
    url = reverse("participants:referral-match-confirm", kwargs={"pk": pending.pk})
    response = ss_client.post(url, {"version": pending.version})
    assert response.status_code == 302
    assert response["Location"] == pending.get_absolute_url()
    pending.refresh_from_db()
    assert pending.match == MatchStatus.CONFIRMED
    assert pending.history.first().history_user == support_staff
    html = ss_client.get(pending.get_absolute_url()).content.decode()
    assert "Känd person, bekräftad" in html


def test_the_team_rejects_the_match_from_the_referral_page(um_client, pending, known):
    url = reverse("participants:referral-match-reject", kwargs={"pk": pending.pk})
    response = um_client.post(url, {"version": pending.version})
    assert response.status_code == 302
    pending.refresh_from_db()
    assert pending.match == MatchStatus.REJECTED
    assert pending.participant_id != known.pk
    html = um_client.get(pending.get_absolute_url()).content.decode()
    assert "Inte den kända personen" in html


def test_a_stale_confirmation_is_refused(ss_client, pending, support_staff):
    version = pending.version
    services.referral_match_reject(referral=pending, acting_user=support_staff)
    url = reverse("participants:referral-match-confirm", kwargs={"pk": pending.pk})
    response = ss_client.post(url, {"version": version})
    assert response.status_code == 400
    pending.refresh_from_db()
    assert pending.match == MatchStatus.REJECTED


def test_the_match_routes_are_the_teams():
    team = {Role.SUPPORT_STAFF, Role.UNIT_MANAGER}
    for name in ["participants:referral-match-confirm", "participants:referral-match-reject"]:
        assert set(ACCESS_TABLE[name]) == team


# --- The walk: every page a social worker reaches ----------------------------------------


def test_no_page_shows_the_referring_social_worker_the_known_person(world, db):
    """File a referral for a housed person another social worker referred, then
    open every page the social worker may open, with the samples' ids and with
    the ids of the new referral, the known person and their referral: none
    shows the person's name, phone, phase, the other referral's text or any
    section of the person page; the only reads logged against the person are
    of the referral the social worker filed."""
    other = (
        Referral.objects.filter(
            referred_by=world.other_social_worker, participant__status=ParticipantStatus.HOUSED
        )
        .exclude(participant__referrals__referred_by=world.social_worker)
        .select_related("participant")
        .order_by("pk")
        .first()
    )
    person = other.participant
    services.referral_add_information(
        referral=other, acting_user=world.other_social_worker, note="Annans uppgift 5150"
    )
    sw = world.social_worker
    client = world.client(sw)
    response = client.post(
        reverse("participants:referral-create"),
        form_post(personnummer=person.personnummer, referral_date=date.today()),
    )
    assert response.status_code == 302
    mine = Referral.objects.filter(referred_by=sw).order_by("-pk").first()
    assert mine.participant_id == person.pk

    markers = [f"{person.first_name} {person.last_name}", "5150"]
    if person.phone:
        markers.append(person.phone)
    own_markers = ["Har bostad", "Uppföljning försenad", "Senaste kontakt med teamet"]
    section_templates = {s.template for s in participant_sections}
    ids = [mine.pk, other.pk, person.pk]
    walked = 0
    for route in project_routes():
        if Role.SOCIAL_WORKER not in ACCESS_TABLE.get(route.name, ()):
            continue
        kwargs_list = [world.url_kwargs(route)]
        if route.converters:
            kwargs_list += [
                {key: pk for key in route.converters}
                for pk in ids
                if set(route.converters.values()) == {"IntConverter"}
            ]
        for kwargs in kwargs_list:
            url = reverse(route.name, kwargs=kwargs)
            answer = client.get(url)
            if answer.status_code != 200 or not answer["Content-Type"].startswith("text/"):
                continue
            walked += 1
            html = answer.content.decode()
            for marker in markers:
                assert marker not in html, (url, marker)
            if str(mine.pk) in url.split("/"):
                for marker in own_markers:
                    assert marker not in html, (url, marker)
                used = {t.name for t in answer.templates}
                assert not used & section_templates, (url, used & section_templates)
    assert walked >= 5

    reads = AccessLogEntry.objects.filter(
        user=sw, person_id=person.pk, action=AccessLogEntry.Action.READ
    )
    assert reads.exists()
    assert set(reads.values_list("model", "object_id")) == {("participants.Referral", str(mine.pk))}
    assert not AccessLogEntry.objects.filter(
        user=sw, person_id=person.pk, model="participants.Participant"
    ).exists()
