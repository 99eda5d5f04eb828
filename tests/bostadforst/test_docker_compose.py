"""docker-compose.yml is checked, not started (no Docker engine runs here)."""

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]


def compose() -> dict:
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())


def settings_variables() -> set[str]:
    """Every environment variable the settings module reads through django-environ."""
    source = (ROOT / "bostadforst" / "settings.py").read_text()
    return set(re.findall(r"env(?:\.\w+)?\(\s*\"([A-Z_]+)\"", source))


APP_SERVICES = ("web", "worker", "beat")


def test_stack_has_database_broker_migrations_web_worker_and_beat():
    services = compose()["services"]
    assert set(services) == {"db", "redis", "migrate", "web", "worker", "beat"}
    for name in set(services) - {"migrate"}:
        assert "healthcheck" in services[name], name
    assert services["migrate"]["restart"] == "no"  # one-shot: runs to completion


def database_user(service: dict) -> str:
    # Not urlsplit: the password is a ${VAR:?message} placeholder here.
    return re.match(r"postgres://(\w+):", service["environment"]["DATABASE_URL"]).group(1)


def test_migrations_run_as_the_owner_and_the_app_as_a_role_of_its_own():
    """PITFALLS 17: the owner could truncate the access log or turn its
    trigger off; the processes that face users connect as a role that cannot."""
    services = compose()["services"]
    owner = services["db"]["environment"]["POSTGRES_USER"]
    migrate = services["migrate"]
    assert database_user(migrate) == owner
    command = str(migrate["command"])
    assert command.index("manage.py migrate") < command.index("manage.py db_app_role")
    app_role = re.search(r"db_app_role --role (\w+)", command).group(1)
    for name in APP_SERVICES:
        assert database_user(services[name]) == app_role != owner, name
        assert "migrate" not in str(services[name]["command"]), name
        depends = services[name]["depends_on"]["migrate"]
        assert depends["condition"] == "service_completed_successfully", name


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
    for name in (*APP_SERVICES, "migrate"):
        # ... or by a command the service runs (db_app_role --password-env VAR).
        read = known | set(re.findall(r"--password-env (\w+)", str(services[name]["command"])))
        unknown = set(services[name]["environment"]) - read
        assert not unknown, f"{name} sets variables nothing reads: {unknown}"


@pytest.mark.skipif(
    not (shutil.which("docker-compose") or shutil.which("docker")), reason="no Docker Compose"
)
def test_docker_compose_accepts_the_file():
    required = ("POSTGRES_PASSWORD", "APP_DATABASE_PASSWORD", "SECRET_KEY", "ALLOWED_HOSTS")
    env = {**os.environ, **dict.fromkeys(required, "x")}
    command = ["docker-compose"] if shutil.which("docker-compose") else ["docker", "compose"]
    result = subprocess.run(
        [*command, "-f", str(ROOT / "docker-compose.yml"), "config", "-q"],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    # Docker without its Compose plugin answers "unknown command", "is not a
    # docker command" or, taking -f for its own flag, "unknown shorthand flag".
    missing = ("unknown command", "is not a docker command", "unknown shorthand flag")
    if any(text in result.stderr for text in missing):
        pytest.skip("no Docker Compose plugin")
    assert result.returncode == 0, result.stderr


def test_the_image_never_gets_local_secrets_or_the_virtual_environment():
    ignored = (ROOT / ".dockerignore").read_text().split()
    for entry in (".env", ".venv", "db.sqlite3*", ".git"):
        assert entry in ignored


def test_web_runs_gunicorn_with_its_config_file_and_is_checked_through_healthz():
    services = compose()["services"]
    web = services["web"]
    assert web["command"][:3] == ["gunicorn", "-c", "gunicorn.conf.py"]
    assert (ROOT / "gunicorn.conf.py").is_file()
    assert "bostadforst.healthcheck" in " ".join(web["healthcheck"]["test"])
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert re.search(r'^CMD \["gunicorn", "-c", "gunicorn.conf.py"', dockerfile, re.M)
    assert re.search(r"^HEALTHCHECK .*\n\s+CMD .*bostadforst\.healthcheck", dockerfile, re.M)


def test_only_the_migrate_job_migrates_and_the_app_waits_for_it_to_finish():
    services = compose()["services"]
    assert "manage.py migrate" in str(services["migrate"]["command"])
    assert "migrate" not in (ROOT / "Dockerfile").read_text().split("CMD", 1)[-1]
    for name in APP_SERVICES:
        assert "manage.py migrate" not in str(services[name]["command"]), name
        depends = services[name]["depends_on"]
        assert depends["migrate"] == {"condition": "service_completed_successfully"}, name
    assert "depends_on" in services["migrate"]  # waits for the database itself


def beat_healthcheck(env: dict) -> subprocess.CompletedProcess:
    """The beat service's healthcheck command, as the container's shell runs it."""
    command = compose()["services"]["beat"]["healthcheck"]["test"]
    assert command[0] == "CMD-SHELL"
    return subprocess.run(
        ["sh", "-c", command[1].replace("$$", "$")],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


@pytest.mark.celery_worker
@pytest.mark.skipif(not os.environ.get("TEST_REDIS_URL"), reason="TEST_REDIS_URL not set")
def test_beat_is_healthy_while_it_runs_and_not_once_it_stopped(tmp_path):
    """The compose file's beat command and healthcheck, run for real against
    Redis: beat answers the ping on its own node while it runs; stopped, the
    check fails (the old check, a schedule file, passed forever after)."""
    import socket
    import sys
    import time

    command = compose()["services"]["beat"]["command"]
    assert command[:4] == ["celery", "-A", "bostadforst", "beat"]
    assert "--enable-remote-control" in command
    schedule = command.index("-s") + 1
    command = [*command[:schedule], str(tmp_path / "schedule"), *command[schedule + 1 :]]
    env = {
        **os.environ,
        "REDIS_URL": os.environ["TEST_REDIS_URL"],
        "DATABASE_URL": f"sqlite:///{tmp_path / 'beat.sqlite3'}",
        "HOSTNAME": socket.gethostname(),
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",
    }
    beat = subprocess.Popen(
        [sys.executable, "-m", *command],
        cwd=ROOT,
        env=env,
        stdout=(tmp_path / "beat.log").open("wb"),
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            check = beat_healthcheck(env)
            if check.returncode == 0 or time.monotonic() > deadline:
                break
            time.sleep(1)
        assert check.returncode == 0, (check.stdout, check.stderr)
        assert f"celerybeat@{env['HOSTNAME']}" in check.stdout
    finally:
        beat.terminate()
        try:
            beat.wait(timeout=30)
        except subprocess.TimeoutExpired:
            beat.kill()
            beat.wait()
    assert beat_healthcheck(env).returncode != 0
