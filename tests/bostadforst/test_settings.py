"""Settings come from the environment; production refuses unsafe defaults."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

PRODUCTION_ENV = {
    "DJANGO_READ_DOT_ENV": "false",
    "DJANGO_DEBUG": "false",
    "SECRET_KEY": "p" * 20 + "-Zx9!q8#w7$e6%r5^t4&y3*u2(i1)o0_a-s=d+f[g]h{j}k",
    "ALLOWED_HOSTS": "bostadforst.example.se",
    "OTP_REQUIRED_FOR_PRIVILEGED": "true",
}


# Set for the test run by pytest-env; a production process has none of them.
TEST_ONLY = {"DATABASE_URL", "REDIS_URL", "SECURE_SSL_REDIRECT", "SECURE_COOKIES"}


def clean_env(env: dict) -> dict:
    clean = {k: v for k, v in os.environ.items() if k not in PRODUCTION_ENV and k not in TEST_ONLY}
    clean.update(env)
    return clean


def run_python(code: str, env: dict) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env=clean_env(env),
        capture_output=True,
        text=True,
        timeout=120,
    )


SHOW_DB = (
    "import django, os; os.environ['DJANGO_SETTINGS_MODULE']='bostadforst.settings';"
    "from django.conf import settings as s;"
    "print(s.DATABASES['default']['ENGINE'], s.DATABASES['default']['NAME'],"
    " s.CELERY_TASK_ALWAYS_EAGER, s.CACHES['default']['BACKEND'])"
)


def test_embedded_default_is_sqlite_in_project_folder_with_eager_celery():
    result = run_python(SHOW_DB, PRODUCTION_ENV)
    assert result.returncode == 0, result.stderr
    engine, name, eager, cache = result.stdout.split()
    assert engine == "django.db.backends.sqlite3"
    assert Path(name) == ROOT / "db.sqlite3"
    assert eager == "True"
    assert cache.endswith("LocMemCache")


def test_database_url_and_redis_url_switch_to_postgresql_and_redis():
    env = {
        **PRODUCTION_ENV,
        "DATABASE_URL": "postgres://bf:secret@db.example:5432/bostadforst",
        "REDIS_URL": "redis://redis.example:6379/0",
    }
    result = run_python(SHOW_DB, env)
    assert result.returncode == 0, result.stderr
    engine, name, eager, cache = result.stdout.split()
    assert engine == "django.db.backends.postgresql"
    assert name == "bostadforst"
    assert eager == "False"
    assert cache.endswith("RedisCache")


@pytest.mark.parametrize("missing", ["SECRET_KEY", "ALLOWED_HOSTS"])
def test_production_refuses_to_start_without(missing):
    env = {**PRODUCTION_ENV, missing: ""}
    result = run_python(SHOW_DB, env)
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert missing in result.stderr


def test_deploy_check_is_clean_with_production_environment():
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=clean_env(PRODUCTION_ENV),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "WARNINGS" not in result.stdout + result.stderr


def test_swedish_is_the_default_language_and_stockholm_the_time_zone(settings):
    assert settings.LANGUAGE_CODE == "sv"
    assert settings.TIME_ZONE == "Europe/Stockholm"
    assert [code for code, _name in settings.LANGUAGES] == ["sv", "en"]


@pytest.mark.django_db
def test_interface_is_swedish_even_for_an_english_browser(client):
    response = client.get("/login/", HTTP_ACCEPT_LANGUAGE="en-US,en;q=0.9")
    assert "Logga in" in response.content.decode()
    assert response["Content-Language"] == "sv"


@pytest.mark.django_db
def test_english_is_selectable(client):
    response = client.post("/i18n/setlang/", {"language": "en", "next": "/login/"})
    assert response.status_code == 302
    assert "Log in" in client.get("/login/").content.decode()
