"""A real browser (Debian's chromium through Playwright, PITFALLS 18) against
the live test server. Skipped where chromium is missing, except in CI.

When a browser test fails, every page still open in the browser is saved to
``test-artifacts/<test name>/`` (git-ignored): a full-page screenshot and the
HTML, with an index of their addresses. The path is printed with the failure.
"""

import os
import re
import shutil
from pathlib import Path

import pytest

# The browsers this process has up: module-scoped, so at most one at a time,
# but a list costs nothing and needs no reset.
_open_browsers: list = []

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(scope="module")
def browser():
    executable = shutil.which("chromium")
    if executable is None:
        if os.environ.get("CI") == "true":
            pytest.fail("CI needs Debian's chromium (apt-get install chromium)")
        pytest.skip("chromium is not installed (apt-get install chromium); no browser tests")
    sync_api = pytest.importorskip("playwright.sync_api")
    # While Playwright runs, its event loop lives in this thread, and Django
    # would refuse database use as if from async code. Allowed only while the
    # browser is up: a leak into other tests' environment would fail
    # ``check --deploy`` (async.E001).
    before = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    try:
        with sync_api.sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
            _open_browsers.append(browser)
            try:
                yield browser
            finally:
                _open_browsers.remove(browser)
                browser.close()
    finally:
        if before is None:
            del os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"]
        else:
            os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = before


@pytest.fixture
def role_groups(transactional_db):
    """The role groups a data migration made: a transactional test before
    this one flushed them with everything else."""
    from django.contrib.auth.models import Group

    from bostadforst.roles import Role

    for role in Role:
        Group.objects.get_or_create(name=role.value)


@pytest.fixture
def new_page(browser):
    """A page in a browser context of its own (its own cookies), not logged
    in: ``new_page(width=375, height=812)``. Closed after the test."""
    contexts = []

    def open_page(*, width: int = 1280, height: int = 900):
        # A Swedish user's browser: Accept-Language, Intl and the time zone
        # (date fields still follow the browser's own UI language).
        context = browser.new_context(
            viewport={"width": width, "height": height},
            locale="sv-SE",
            timezone_id="Europe/Stockholm",
        )
        contexts.append(context)
        return context.new_page()

    yield open_page
    for context in contexts:
        context.close()


@pytest.fixture
def page_as(new_page, live_server):
    """A browser page logged in as ``user`` (the session of a test client),
    in a context of its own: ``page_as(user, width=375, height=812)``. A new
    client each time: logging another user in on the same client would end
    the first one's session."""
    from django.test import Client

    def open_page(user, *, width: int = 1280, height: int = 900):
        client = Client()
        client.force_login(user)
        page = new_page(width=width, height=height)
        page.context.add_cookies(
            [
                {
                    "name": "sessionid",
                    "value": client.cookies["sessionid"].value,
                    "url": live_server.url,
                }
            ]
        )
        return page

    return open_page


# --- Artefacts of a failure ---------------------------------------------------


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    """Save what the browser showed when a test failed.

    The hook runs before the test's fixtures are torn down, so the contexts a
    test opened (through ``page_as`` or ``browser.new_context()`` itself) are
    still open. The path goes into the report's sections, which pytest prints
    with the failure (and pytest-xdist carries back from its workers).
    """
    report = yield
    if report.failed and report.when in ("setup", "call") and _open_browsers:
        folder = save_browser_artifacts(item)
        if folder is not None:
            report.sections.append(("browser artifacts", f"Screenshots and HTML: {folder}"))
    return report


def save_browser_artifacts(item) -> Path | None:
    pages = [
        page for browser in _open_browsers for context in browser.contexts for page in context.pages
    ]
    if not pages:
        return None
    name = re.sub(r"[^A-Za-z0-9_.-]+", "_", item.name).strip("_")
    folder = Path(item.config.rootpath) / "test-artifacts" / name
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    index = []
    for number, page in enumerate(pages, start=1):
        stem = f"page-{number}"
        index.append(f"{stem}: {page.url}")
        # Each save on its own: a crashed or closed page must not cost the
        # other pages' artefacts, or hide the test's own failure.
        try:
            page.screenshot(path=folder / f"{stem}.png", full_page=True, timeout=10_000)
        except Exception as exc:
            index.append(f"  no screenshot: {exc}")
        try:
            (folder / f"{stem}.html").write_text(page.content(), encoding="utf-8")
        except Exception as exc:
            index.append(f"  no HTML: {exc}")
    (folder / "pages.txt").write_text("\n".join(index) + "\n", encoding="utf-8")
    return folder
