"""Back and submit again, in a real browser: the form pages are not cached,
so Back fetches the page again with a fresh submit token while the browser
restores what was typed. The token the form was first sent with must come
back (static/js/app.js), so the second submit saves nothing new."""

import pytest

from support.models import SupportVisit

from ..housing.factories import TenancyFactory

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("role_groups")]


def test_back_and_submit_again_logs_the_visit_once(page_as, live_server, support_staff):
    housed = TenancyFactory().participant
    page = page_as(support_staff)
    page.goto(f"{live_server.url}/support/visits/new/?participant={housed.pk}")
    page.fill("textarea[name=note]", "Hembesök, pratade om hyran.")
    page.click("main form button[type=submit]")
    page.wait_for_load_state()
    assert SupportVisit.objects.count() == 1

    page.go_back()
    page.wait_for_load_state()
    assert page.input_value("textarea[name=note]") == "Hembesök, pratade om hyran."
    page.click("main form button[type=submit]")
    page.wait_for_load_state()

    assert SupportVisit.objects.count() == 1
    assert "Formuläret var redan skickat" in page.content()


def test_a_new_visit_opened_from_the_menu_is_a_new_record(page_as, live_server, support_staff):
    """Only a history navigation takes the old token back."""
    housed = TenancyFactory().participant
    page = page_as(support_staff)
    for note in ("Första besöket.", "Andra besöket."):
        page.goto(f"{live_server.url}/support/visits/new/?participant={housed.pk}")
        page.fill("textarea[name=note]", note)
        page.click("main form button[type=submit]")
        page.wait_for_load_state()
    assert SupportVisit.objects.count() == 2
