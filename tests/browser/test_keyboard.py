"""Without a mouse (WCAG 2.1.1, 2.4.3, 3.3.1): a social worker files a referral
with Tab, Shift+Tab, Space, Enter and typing only, and a form that fails
says so where focus is, with a way to each field to correct."""

import pytest

from participants.models import Referral

from ..participants.factories import fictional_personnummer

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("role_groups")]

MAX_TABS = 80

FOCUSED = """() => {
  const el = document.activeElement;
  return {
    tag: el.tagName.toLowerCase(), name: el.name || "", type: el.type || "",
    href: el.getAttribute("href") || "", text: el.textContent.trim().slice(0, 80),
    summary: el.hasAttribute("data-error-summary"), checked: !!el.checked,
    cls: el.className || "",
  };
}"""


def focused(page) -> dict:
    return page.evaluate(FOCUSED)


def tab_to(page, matches, *, key: str = "Tab") -> dict:
    """Press Tab (or Shift+Tab) until the focused element ``matches``."""
    seen = []
    for _ in range(MAX_TABS):
        page.keyboard.press(key)
        element = focused(page)
        if matches(element):
            return element
        seen.append(element["name"] or element["text"][:20] or element["tag"])
    pytest.fail(f"{key} never reached the element; focus went through {seen}")


def field(name: str):
    return lambda element: element["name"] == name


def test_a_social_worker_files_a_referral_with_the_keyboard_only(
    page_as, live_server, social_worker
):
    personnummer = fictional_personnummer()
    page = page_as(social_worker, width=375)
    page.goto(live_server.url + "/")

    # The menu is collapsed at 375 px: open it from the keyboard.
    tab_to(page, lambda e: "navbar-toggler" in e["cls"])
    page.keyboard.press("Enter")
    page.wait_for_selector("#main-nav.show")
    tab_to(page, lambda e: e["href"].endswith("/participants/referrals/new/"))
    with page.expect_navigation():
        page.keyboard.press("Enter")

    tab_to(page, field("personnummer"))
    page.keyboard.type(personnummer)
    tab_to(page, field("first_name"))
    page.keyboard.type("Tangent")
    page.keyboard.press("Tab")
    assert focused(page)["name"] == "last_name"
    page.keyboard.type("Bordsson")
    # Back to correct the first name: Shift+Tab selects what is there, and
    # typing replaces it.
    page.keyboard.press("Shift+Tab")
    assert focused(page)["name"] == "first_name"
    page.keyboard.type("Tangenta")

    # The first choice of the housing situation, then submit without a
    # support need: the form fails.
    situation = tab_to(page, field("housing_situation"))
    page.keyboard.press("Space")
    assert focused(page)["checked"], situation
    tab_to(page, lambda e: e["tag"] == "button" and e["type"] == "submit" and e["text"])
    with page.expect_navigation():
        page.keyboard.press("Enter")

    assert not Referral.objects.filter(applicant_first_name="Tangenta").exists()
    summary = focused(page)
    assert summary["summary"], f"focus after the failed submit: {summary}"
    assert "Stödbehov" in summary["text"], summary["text"]

    # From the summary to the field, and choose with Space.
    tab_to(page, lambda e: e["tag"] == "a" and "Stödbehov" in e["text"])
    page.keyboard.press("Enter")
    assert focused(page)["name"] == "support_need"
    page.keyboard.press("Space")
    assert focused(page)["checked"]
    tab_to(page, lambda e: e["tag"] == "button" and e["type"] == "submit" and e["text"])
    with page.expect_navigation():
        page.keyboard.press("Enter")

    referral = Referral.objects.get(applicant_first_name="Tangenta")
    assert referral.applicant_last_name == "Bordsson"
    assert referral.referred_by == social_worker
    assert page.url.endswith(referral.get_absolute_url())


def test_a_failed_submit_moves_focus_to_the_error_summary(page_as, live_server, social_worker):
    page = page_as(social_worker)
    page.goto(live_server.url + "/participants/referrals/new/")
    with page.expect_navigation():
        page.click("main form button[type=submit]")

    summary = focused(page)
    assert summary["summary"], f"focus after the failed submit: {summary}"
    assert page.get_attribute("[data-error-summary]", "role") == "alert"
    assert "Formuläret har fel" in summary["text"]

    page.click("[data-error-summary] a[href='#id_last_name']")
    assert focused(page)["name"] == "last_name"


def test_support_staffs_header_fits_at_1280_and_more_opens_from_the_keyboard(
    page_as, live_server, support_staff
):
    support_staff.first_name, support_staff.last_name = "Anna-Karin", "Lindqvist Johansson"
    support_staff.save()
    page = page_as(support_staff, width=1280)
    page.goto(live_server.url + "/")

    # One line: every entry of the bar at the same height, none broken.
    tops = page.eval_on_selector_all(
        "#main-nav > ul > li > .nav-link",
        "els => els.map(e => [e.getBoundingClientRect().top, e.getBoundingClientRect().height])",
    )
    assert len({round(top) for top, _ in tops}) == 1, tops
    assert max(height for _, height in tops) < 48, tops

    tab_to(page, lambda e: e["text"].startswith("Mer"))
    page.keyboard.press("Enter")
    page.wait_for_selector("#nav-more + .dropdown-menu.show")
    page.keyboard.press("ArrowDown")
    assert focused(page)["href"].endswith("/participants/referrals/")
    tab_to(page, lambda e: e["href"].endswith("/support/crisis-places/"), key="ArrowDown")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert page.url.endswith("/support/crisis-places/")
