"""docker-compose.yml is checked, not started (no Docker engine runs here)."""

import re
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]


def compose() -> dict:
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())


def settings_variables() -> set[str]:
    """Every environment variable the settings module reads through django-environ."""
    source = (ROOT / "bostadforst" / "settings.py").read_text()
    return set(re.findall(r"env(?:\.\w+)?\(\s*\"([A-Z_]+)\"", source))


def test_stack_has_database_broker_web_worker_and_beat():
    services = compose()["services"]
    assert set(services) == {"db", "redis", "web", "worker", "beat"}
    for name in services:
        assert "healthcheck" in services[name], name


def test_web_waits_for_a_healthy_database_and_redis():
    depends = compose()["services"]["web"]["depends_on"]
    assert depends["db"]["condition"] == "service_healthy"
    assert depends["redis"]["condition"] == "service_healthy"


def test_app_services_are_built_from_the_dockerfile_and_run_the_right_process():
    services = compose()["services"]
    assert (ROOT / "Dockerfile").is_file()
    for name in ("web", "worker", "beat"):
        assert services[name]["build"] == "."
    assert "gunicorn" in str(services["web"]["command"])
    assert "worker" in services["worker"]["command"]
    assert "beat" in services["beat"]["command"]


def test_every_variable_set_for_the_app_is_read_by_the_settings():
    services = compose()["services"]
    known = settings_variables()
    assert {"DATABASE_URL", "REDIS_URL", "SECRET_KEY", "ALLOWED_HOSTS"} <= known
    for name in ("web", "worker", "beat"):
        unknown = set(services[name]["environment"]) - known
        assert not unknown, f"{name} sets variables the settings never read: {unknown}"


def test_the_image_never_gets_local_secrets_or_the_virtual_environment():
    ignored = (ROOT / ".dockerignore").read_text().split()
    for entry in (".env", ".venv", "db.sqlite3*", ".git"):
        assert entry in ignored
