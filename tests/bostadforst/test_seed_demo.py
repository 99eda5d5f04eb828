"""seed_demo creates one user per role and can run twice without changing anything."""

import io
import shutil
import subprocess
from pathlib import Path

import pytest
from django.apps import apps
from django.core.management import call_command

from bostadforst.models import AccessLogEntry, User
from bostadforst.roles import Role

ROOT = Path(__file__).resolve().parents[2]


def snapshot() -> dict[str, int]:
    return {m._meta.label: m.objects.count() for m in apps.get_models()}


@pytest.mark.django_db
def test_seed_demo_creates_a_user_per_role_with_the_given_password():
    call_command("seed_demo", "--password", "demo-lösen-123", stdout=io.StringIO())
    for username, role in [
        ("socialsekreterare", Role.SOCIAL_WORKER),
        ("boendestodjare", Role.SUPPORT_STAFF),
        ("enhetschef", Role.UNIT_MANAGER),
        ("admin", Role.ADMINISTRATOR),
    ]:
        user = User.objects.get(username=username)
        assert user.role == role
        assert user.check_password("demo-lösen-123")


@pytest.mark.django_db
def test_seed_demo_twice_changes_nothing():
    call_command("seed_demo", "--password", "demo-lösen-123", stdout=io.StringIO())
    first = snapshot()
    passwords = dict(User.objects.values_list("username", "password"))
    call_command("seed_demo", stdout=io.StringIO())
    assert snapshot() == first
    assert dict(User.objects.values_list("username", "password")) == passwords
    assert AccessLogEntry.objects.count() == first["bostadforst.AccessLogEntry"]


@pytest.mark.django_db
def test_seed_demo_prints_a_generated_password_when_none_is_given(monkeypatch):
    monkeypatch.delenv("DEMO_PASSWORD", raising=False)
    out = io.StringIO()
    call_command("seed_demo", stdout=out)
    line = next(x for x in out.getvalue().splitlines() if x.startswith("Password for new"))
    password = line.rsplit(" ", 1)[1]
    assert User.objects.get(username="enhetschef").check_password(password)


@pytest.mark.django_db
def test_seed_demo_prints_the_password_from_the_environment_and_it_works(monkeypatch):
    """DEMO_PASSWORD in the environment wins over .env; the password printed is
    the one set (``make run`` printed the one in .env, which was then refused)."""
    monkeypatch.setenv("DEMO_PASSWORD", "från-miljön-2026")
    out = io.StringIO()
    call_command("seed_demo", stdout=out)
    assert "Password (DEMO_PASSWORD): från-miljön-2026" in out.getvalue().splitlines()
    assert User.objects.get(username="enhetschef").check_password("från-miljön-2026")


@pytest.mark.skipif(shutil.which("make") is None, reason="needs make")
def test_make_run_prints_no_password_of_its_own():
    """Only seed_demo names the password; the recipe after it prints none."""
    result = subprocess.run(
        ["make", "-n", "run"], cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    seed = next(i for i, line in enumerate(lines) if "manage.py seed_demo" in line)
    assert not [line for line in lines[seed + 1 :] if "password" in line.lower()]
