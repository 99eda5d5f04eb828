"""A real browser (Debian's chromium through Playwright, PITFALLS 18) against
the live test server. Skipped where chromium is missing, except in CI."""

import os
import shutil

import pytest

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
        pytest.skip("chromium is not installed")
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
            yield browser
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
def page_as(browser, live_server, client):
    """A browser page logged in as ``user`` (the session of a test client)."""
    contexts = []

    def open_page(user, *, width: int = 1280):
        client.force_login(user)
        context = browser.new_context(viewport={"width": width, "height": 900})
        context.add_cookies(
            [
                {
                    "name": "sessionid",
                    "value": client.cookies["sessionid"].value,
                    "url": live_server.url,
                }
            ]
        )
        contexts.append(context)
        return context.new_page()

    yield open_page
    for context in contexts:
        context.close()
