"""Production hardening on every page: security headers, no inline script or
style (the CSP forbids them), CSRF on every POST, secure cookies in production."""

import re
import subprocess
import sys

import pytest
from django.apps import apps
from django.test import Client
from django.urls import reverse

from bostadforst.permissions import ACCESS_TABLE, PUBLIC

from ..urlwalk import project_routes
from .test_settings import PRODUCTION_ENV, ROOT, clean_env

pytestmark = pytest.mark.django_db

INLINE_SCRIPT = re.compile(r"<script(?![^>]*\bsrc=)[^>]*>", re.I)
STYLE_ATTRIBUTE = re.compile(r"<[^>]+\sstyle\s*=", re.I)
EVENT_HANDLER = re.compile(r"<[^>]+\son[a-z]+\s*=", re.I)


def walked_pages(world):
    """(route name, role, response) for every GET page each allowed role opens."""
    for route in project_routes():
        if route.name in PUBLIC or route.name not in ACCESS_TABLE:
            continue
        try:
            kwargs = world.url_kwargs(route)
        except LookupError:
            continue  # reported by test_url_matrix
        url = reverse(route.name, kwargs=kwargs)
        role = sorted(ACCESS_TABLE[route.name])[0]
        yield route.name, role, world.client(role).get(url)


def test_every_authenticated_page_sends_the_security_headers(world):
    checked = 0
    for name, role, response in walked_pages(world):
        if response.status_code >= 500:
            pytest.fail(f"{name} as {role}: {response.status_code}")
        assert "no-store" in response.get("Cache-Control", ""), name
        assert response.get("X-Frame-Options") == "DENY", name
        assert response.get("Referrer-Policy") == "same-origin", name
        assert response.get("X-Content-Type-Options") == "nosniff", name
        csp = response.get("Content-Security-Policy", "")
        assert "default-src 'self'" in csp and "frame-ancestors 'none'" in csp, name
        assert "unsafe-inline" not in csp and "unsafe-eval" not in csp, name
        checked += 1
    assert checked >= 3


def test_no_page_has_inline_script_style_or_event_handlers(world):
    offenders = []
    for name, _role, response in walked_pages(world):
        if not response.get("Content-Type", "").startswith("text/html"):
            continue
        html = response.content.decode()
        for pattern in (INLINE_SCRIPT, STYLE_ATTRIBUTE, EVENT_HANDLER):
            match = pattern.search(html)
            if match:
                offenders.append((name, match.group(0)[:80]))
    assert not offenders, offenders


def test_the_login_page_sends_the_csp_and_frame_headers(client):
    response = client.get(reverse("login"))
    assert response["X-Frame-Options"] == "DENY"
    assert "script-src 'self'" in response["Content-Security-Policy"]


def test_hsts_is_sent_over_https(client, support_staff):
    client.force_login(support_staff)
    response = client.get(reverse("home"), secure=True)
    assert response["Strict-Transport-Security"] == ("max-age=31536000; includeSubDomains; preload")


# Rows that logging in (force_login) writes by itself.
LOGIN_BOOKKEEPING = {
    "bostadforst.AccessLogEntry",
    "bostadforst.UserSession",
    "sessions.Session",
    "axes.AccessLog",
    "axes.AccessAttempt",
}


def row_counts() -> dict[str, int]:
    return {m._meta.label: m._base_manager.count() for m in apps.get_models()}


def test_every_post_without_a_csrf_token_is_refused(world):
    # URLs first: a sample may create the row it points at (an open visit).
    urls = []
    for route in project_routes():
        if route.name not in ACCESS_TABLE and route.name not in PUBLIC:
            continue
        try:
            urls.append((route, reverse(route.name, kwargs=world.url_kwargs(route))))
        except LookupError:
            continue
    before = row_counts()
    checked = 0
    for route, url in urls:
        client = Client(enforce_csrf_checks=True)
        if route.name not in PUBLIC:
            client.force_login(world.user(sorted(ACCESS_TABLE[route.name])[0]))
        response = client.post(url, {"username": "admin", "password": world.password})
        if response.status_code == 405:
            continue  # GET-only page
        assert response.status_code == 403, (route.name, response.status_code)
        assert b"CSRF" in response.content, route.name
        checked += 1
    after = row_counts()
    for label in LOGIN_BOOKKEEPING:
        after.pop(label, None), before.pop(label, None)
    assert after == before
    assert checked >= 3


def test_production_cookies_are_secure_httponly_and_samesite():
    code = (
        "import os; os.environ['DJANGO_SETTINGS_MODULE']='bostadforst.settings';"
        "from django.conf import settings as s;"
        "print(s.SESSION_COOKIE_SECURE, s.CSRF_COOKIE_SECURE, s.SESSION_COOKIE_HTTPONLY,"
        " s.CSRF_COOKIE_HTTPONLY, s.SESSION_COOKIE_SAMESITE, s.SECURE_SSL_REDIRECT,"
        " s.SECURE_HSTS_SECONDS, s.OTP_REQUIRED_FOR_PRIVILEGED, s.X_FRAME_OPTIONS)"
    )
    result = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        # The production default, not the value test_settings passes explicitly.
        env=clean_env({k: v for k, v in PRODUCTION_ENV.items() if "OTP" not in k}),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == [
        "True",
        "True",
        "True",
        "True",
        "Lax",
        "True",
        "31536000",
        "True",
        "DENY",
    ]
