"""WCAG 2.1 AA on every page, in a real browser (issue 14).

Every GET page of every role, from the URL resolver and the apps' samples
(``tests/world.py``), the login pages seen by nobody in particular, and the
Django admin (index, each registered model's list, add and change page) for
the administrator and a superuser: axe-core finds no violation of the WCAG
2.0/2.1 A and AA rules at 1280 and at 375 px, and no page is wider than the
screen at either width although names and addresses in the data are 100
characters long with nowhere to break a line.

One browser and one seeded world per test process (``walk``); each role
walks in one browser context (the viewport is resized between the two widths
rather than loading the page twice), and the roles are separate tests, so
pytest-xdist can split them over the cores.
"""

import importlib
from dataclasses import dataclass

import pytest
from django.apps import apps
from django.contrib import admin
from django.db.models import Value
from django.db.models.functions import Concat, Left
from django.test import Client, RequestFactory, override_settings
from django.urls import reverse

from bostadforst.models import User
from bostadforst.permissions import ACCESS_TABLE, PUBLIC
from bostadforst.roles import Role, role_of
from housing.models import Apartment, Landlord
from participants.models import NetworkContact, Participant, Referral
from support.models import CrisisPlace

from ..urlwalk import project_routes
from ..world import ROLE_USERNAMES, build_world
from .axe import axe_source, axe_violations, describe

# The world is built once per test process (``walk``); each test runs in a
# transaction inside it, which is also what lets pytest-django set up the
# test database at all.
pytestmark = pytest.mark.django_db

WIDTHS = (1280, 375)
ANONYMOUS = "anonymous"
SUPERUSER = "superuser"

# A name with no place to break a line: the worst a layout meets.
LONG = ("Långnamnsdotter" * 7)[:100]


# Rows the data migrations make, which the flush after a transactional test
# removed: (migration module, forward function).
MIGRATION_DATA = [
    ("bostadforst.migrations.0002_create_role_groups", "create_groups"),
    ("housing.migrations.0002_create_landlords", "create_landlords"),
    ("participants.migrations.0002_create_target_groups", "create_target_groups"),
]


def restore_migration_data() -> None:
    """The rows a freshly migrated database has (with the role groups'
    permissions, which ``post_migrate`` gives them)."""
    from bostadforst.signals import sync_role_permissions

    for module, function in MIGRATION_DATA:
        getattr(importlib.import_module(module), function)(apps, None)
    sync_role_permissions(sender=None)


def lengthen(value: str) -> Concat:
    """The stored value made 100 characters long, starting as before."""
    return Left(Concat(value, Value(LONG)), 100)


def long_names_and_addresses() -> None:
    """100-character names and addresses everywhere the demo world has them
    (test data only, hence ``update()``)."""
    Participant.objects.update(
        first_name=lengthen("first_name"),
        last_name=lengthen("last_name"),
        postal_address=lengthen("postal_address"),
    )
    Referral.objects.update(
        applicant_first_name=lengthen("applicant_first_name"),
        applicant_last_name=lengthen("applicant_last_name"),
        applicant_postal_address=lengthen("applicant_postal_address"),
    )
    NetworkContact.objects.update(name=lengthen("name"), organisation=lengthen("organisation"))
    Landlord.objects.update(name=lengthen("name"))
    Apartment.objects.update(address=lengthen("address"))
    CrisisPlace.objects.update(name=lengthen("name"), address=lengthen("address"))
    User.objects.update(first_name=lengthen("first_name"), last_name=lengthen("last_name"))


def is_html_page(client: Client, url: str) -> bool:
    """A whole page (not a download, nor a fragment a page fetches into itself)."""
    response = client.get(url)
    return (
        response.status_code == 200
        and response["Content-Type"].startswith("text/html")
        and response.content.lstrip()[:15].lower() == b"<!doctype html>"
    )


def app_pages(world, who: str) -> list[str]:
    """The project's GET pages ``who`` may open, with the samples' arguments."""
    client = world.client(None if who == ANONYMOUS else who)
    role = None if who == ANONYMOUS else role_of(world.users[who])
    urls = []
    for route in project_routes():
        if who == ANONYMOUS:
            if route.name not in PUBLIC or route.converters:
                continue
        elif role not in ACCESS_TABLE.get(route.name, ()):
            continue
        url = reverse(route.name, kwargs=world.url_kwargs(route))
        if is_html_page(client, url):
            urls.append(url)
    return urls


def admin_pages(world, user: User) -> list[str]:
    """The admin's index and, per registered model, the list, the add page and
    the first row's change page, as far as ``user`` may open them."""
    request = RequestFactory().get("/")
    request.user = user
    client = world.client(user)
    urls = [reverse("admin:index")]
    for model, model_admin in sorted(
        admin.site._registry.items(), key=lambda item: item[0]._meta.label
    ):
        if not model_admin.has_view_or_change_permission(request):
            continue
        info = f"admin:{model._meta.app_label}_{model._meta.model_name}"
        urls.append(reverse(f"{info}_changelist"))
        if model_admin.has_add_permission(request):
            urls.append(reverse(f"{info}_add"))
        row = model_admin.get_queryset(request).order_by("pk").first()
        if row is not None:
            urls.append(reverse(f"{info}_change", args=[row.pk]))
    return [url for url in urls if is_html_page(client, url)]


def open_context(browser, server, session: str | None):
    """A test-only context that lets axe in past the app's CSP, with the
    session cookie ``session`` (None: not logged in)."""
    context = browser.new_context(viewport={"width": WIDTHS[0], "height": 900}, bypass_csp=True)
    context.add_init_script(axe_source())
    if session is not None:
        context.add_cookies([{"name": "sessionid", "value": session, "url": server.url}])
    return context


PHONE = WIDTHS[-1]
# The app's tables shown at the width, wider than their box (a sideways scroll
# inside .table-responsive): tests/bostadforst/test_tables_fit_375.py keeps
# each to three columns or a card list; this is the same in the browser. The
# admin's own lists scroll by design.
WIDE_TABLES = """() => [...document.querySelectorAll("main table")]
  .filter((t) => t.offsetParent !== null && t.scrollWidth > t.parentElement.clientWidth + 1)
  .map((t) => [(t.caption || t.rows[0] || t).textContent.trim().slice(0, 60),
               t.scrollWidth, t.parentElement.clientWidth])"""


# After a resize, what the page's scripts do about it (ResizeObserver) happens
# by the next frame.
NEXT_FRAME = "() => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r)))"


def audit(page, url: str, who: str) -> list[str]:
    """What is wrong with the page at ``url``: axe at each width, and overflow at 375 px."""
    page.set_viewport_size({"width": WIDTHS[0], "height": 900})
    # "load": the admin builds some widgets on the load event.
    page.goto(url, wait_until="load")
    return audit_current(page, url, who)


def audit_current(page, url: str, who: str) -> list[str]:
    """``audit`` of the page as it is now, from 1280 px down."""
    problems = []
    for width in WIDTHS:
        if page.viewport_size["width"] != width:
            page.set_viewport_size({"width": width, "height": 900})
            page.evaluate(NEXT_FRAME)
        violations = axe_violations(page)
        if violations:
            problems.append(describe(violations, url=url, who=who, width=width))
        scroll_width = page.evaluate("document.documentElement.scrollWidth")
        if scroll_width > width:
            problems.append(f"{url} as {who}: {scroll_width} px wide at {width} px")
        if width == PHONE and "/admin/" not in url:
            problems += [
                f"{url} as {who}: the table {name!r} is {wide} px wide in {box} px at {width} px"
                for name, wide, box in page.evaluate(WIDE_TABLES)
            ]
    return problems


# Who walks, and the admin's pages in two halves so that test processes
# share them out.
SUPERUSER_PARTS = 2
WHO = [ANONYMOUS, *ROLE_USERNAMES.values()] + [
    f"{SUPERUSER}-{n}" for n in range(1, SUPERUSER_PARTS + 1)
]


@dataclass
class Visitor:
    session: str | None  # the session cookie's value; None: not logged in
    urls: list[str]


def visitors(world, superuser: User) -> dict[str, Visitor]:
    """Everyone in ``WHO``, logged in, with the pages they walk."""
    admin_urls = admin_pages(world, superuser)
    out = {}
    for who in WHO:
        if who.startswith(SUPERUSER):
            user = superuser
            part = int(who.rsplit("-", 1)[1])
            urls = admin_urls[part - 1 :: SUPERUSER_PARTS]
        elif who == ANONYMOUS:
            user, urls = None, app_pages(world, who)
        else:
            user = world.users[who]
            urls = app_pages(world, who)
            if who == ROLE_USERNAMES[Role.ADMINISTRATOR]:
                urls += admin_pages(world, user)
        session = None
        if user is not None:
            client = Client()
            client.force_login(user)
            session = client.cookies["sessionid"].value
        out[who] = Visitor(session, urls)
    return out


@pytest.fixture(scope="module")
def walk(browser, django_db_setup, django_db_blocker):
    """A live server over the demo world with long names, and who walks which
    pages: built once per test process, committed, and emptied after the
    module as a transactional test's data is (the ``live_server`` fixture would
    empty the database after every test, and seeding takes most of a minute).

    Everything that writes to the database (the test client's look at each
    page, the logins) happens here, outside the tests' transactions: on
    PostgreSQL a test's transaction holding the access log's lock would keep
    the live server from answering."""
    from django.core.management import call_command
    from pytest_django.live_server_helper import LiveServer

    axe_source()  # skip (or fail in CI) before seeding when axe cannot be had
    with (
        django_db_blocker.unblock(),
        # The password reset by e-mail on, so that its pages are walked too.
        override_settings(
            PASSWORD_RESET_ENABLED=True,
            SSO_ENABLED=False,
            EMAIL_BACKEND="django.core.mail.backends.locmem.EmailBackend",
        ),
    ):
        server = LiveServer("localhost")
        server._live_server_modified_settings.enable()
        try:
            restore_migration_data()
            world = build_world()
            long_names_and_addresses()
            superuser = User.objects.create_user(
                "a11y-superuser", is_superuser=True, is_staff=True, password=None
            )
            # Its login is also a highlighted row in the access log.
            yield server, visitors(world, superuser)
        finally:
            server._live_server_modified_settings.disable()
            server.stop()
            # The tests after this module (pytest-django runs them in
            # transactions, before the transactional ones) expect a freshly
            # migrated database.
            call_command("flush", verbosity=0, interactive=False)
            restore_migration_data()


def test_the_audit_sees_a_violation_and_an_overflow(walk, browser):
    """The walk below can fail: an unlabeled field and a wide block are found."""
    server, _ = walk
    context = open_context(browser, server, None)
    page = context.new_page()
    try:
        page.goto(server.url + reverse("login"), wait_until="load")
        page.evaluate(
            """() => {
              const main = document.querySelector("main");
              main.insertAdjacentHTML("beforeend", "<input type=text><div class=wide></div>");
              Object.assign(main.querySelector(".wide").style, {width: "2000px", height: "1em"});
              main.insertAdjacentHTML("beforeend", "<div class=table-responsive><table>"
                + "<caption>Wide</caption><tr></tr></table></div>");
              const row = main.querySelector("table tr");
              for (let i = 0; i < 8; i++) row.insertCell().textContent = "Enhetschef";
            }"""
        )
        problems = audit_current(page, "/login/", ANONYMOUS)
    finally:
        context.close()
    assert any("label (critical" in p for p in problems), problems
    assert any("2" in p and "px wide at 1280 px" in p for p in problems), problems
    assert any("px wide at 375 px" in p for p in problems), problems
    assert any("the table 'Wide' is" in p for p in problems), problems


@pytest.mark.parametrize("who", WHO)
def test_every_page_passes_axe_and_fits_a_phone(walk, browser, who):
    server, everyone = walk
    visitor = everyone[who]
    assert visitor.urls, who

    context = open_context(browser, server, visitor.session)
    page = context.new_page()
    problems = []
    try:
        for url in visitor.urls:
            problems += audit(page, server.url + url, who)
    finally:
        context.close()
    assert not problems, f"{len(problems)} problems on {len(visitor.urls)} pages:\n" + "\n".join(
        problems
    )
