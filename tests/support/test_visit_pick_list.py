"""The quick log's participant list: the worker's own caseload first, then the
team's housed tenants; never people approved but not yet housed who are not
the worker's, never records imported without a name; searchable on a phone."""

import re

import pytest
from django.urls import reverse

from participants.models import ParticipantStatus
from tests.participants.factories import ParticipantFactory

from .factories import SupportVisitFactory

pytestmark = pytest.mark.django_db

URL = reverse("support:visit-quick-log")


def _groups(html: str) -> list[tuple[str, list[int]]]:
    picker = re.search(r'<select name="participant".*?</select>', html, re.S).group(0)
    return [
        (label, [int(pk) for pk in re.findall(r'<option value="(\d+)"', body)])
        for label, body in re.findall(r'<optgroup label="([^"]+)">(.*?)</optgroup>', picker, re.S)
    ]


def test_my_caseload_first_then_the_teams_housed_tenants(ss_client, support_staff):
    mine_housed = ParticipantFactory(
        support_worker=support_staff, status=ParticipantStatus.HOUSED, last_name="Öberg"
    )
    mine_waiting = ParticipantFactory(
        support_worker=support_staff, status=ParticipantStatus.APPROVED, last_name="Ahl"
    )
    visited = ParticipantFactory(status=ParticipantStatus.HOUSED, last_name="Björk")
    SupportVisitFactory(participant=visited, author=support_staff)
    others = [
        ParticipantFactory(status=ParticipantStatus.HOUSED, last_name=name)
        for name in ("Andersson", "Zetterlund")
    ]
    html = ss_client.get(URL).content.decode()
    assert _groups(html) == [
        ("Mina deltagare", [mine_waiting.pk, mine_housed.pk]),
        ("Nyligen besökta", [visited.pk]),
        ("Övriga hyresgäster", [p.pk for p in others]),
    ]


def test_others_waiting_for_a_home_and_nameless_imports_are_not_offered(ss_client, support_staff):
    waiting = ParticipantFactory(status=ParticipantStatus.APPROVED)
    nameless = ParticipantFactory(
        imported=True, first_name="", last_name="", status=ParticipantStatus.HOUSED
    )
    mine_nameless = ParticipantFactory(
        imported=True,
        first_name="",
        last_name="",
        status=ParticipantStatus.HOUSED,
        support_worker=support_staff,
    )
    exited = ParticipantFactory(status=ParticipantStatus.EXITED)
    tenant = ParticipantFactory(status=ParticipantStatus.HOUSED)
    offered = {pk for _label, pks in _groups(ss_client.get(URL).content.decode()) for pk in pks}
    assert tenant.pk in offered
    assert not offered & {waiting.pk, nameless.pk, mine_nameless.pk, exited.pk}


def test_a_preselected_person_is_shown_even_when_not_in_the_list(ss_client):
    """From the participant page (?participant=) the person is always there,
    and a visit to someone approved but not yet housed can still be logged."""
    waiting = ParticipantFactory(status=ParticipantStatus.APPROVED)
    html = ss_client.get(URL + f"?participant={waiting.pk}").content.decode()
    assert waiting.pk in {pk for _label, pks in _groups(html) for pk in pks}
    assert re.search(rf'<option value="{waiting.pk}" selected>', html)


def test_the_list_has_a_search_box_from_a_static_script(ss_client, housed):
    html = ss_client.get(URL).content.decode()
    select = re.search(r'<select name="participant"[^>]*>', html).group(0)
    assert "data-filter" in select and 'data-filter-label="Sök i listan"' in select
    assert '<script src="/static/js/pick_lists.js">' in html
    # No inline script anywhere in the form (CSP).
    assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", html)
