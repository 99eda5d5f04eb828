"""The system check of the SAML settings' files (bostadforst.saml.check_saml_files):
a key file that is missing or not a key stops `manage.py check` (and so
`migrate`, the compose file's migrate job) with the setting named, instead of
the first e-ID login failing with a 500."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.urls import reverse

from bostadforst.saml import check_saml_files

from ..saml_idp import XMLSEC, SamlWorld

ROOT = Path(__file__).resolve().parents[2]

needs_xmlsec = pytest.mark.skipif(
    XMLSEC is None,
    reason="xmlsec1 is not installed (apt-get install xmlsec1): the SAML tests need it",
)


@pytest.fixture
def world(tmp_path):
    return SamlWorld(tmp_path)


def ids(messages) -> list[str]:
    return [m.id for m in messages]


def test_nothing_is_checked_while_saml_is_off(settings):
    settings.SAML_ENABLED = False
    settings.SAML_SP_KEY_FILE = "/nonexistent/sp.key"
    assert check_saml_files() == []


@needs_xmlsec
def test_a_complete_configuration_passes(settings, world):
    for name, value in world.settings().items():
        setattr(settings, name, value)
    assert check_saml_files() == []


@needs_xmlsec
def test_a_missing_or_wrong_file_is_an_error_naming_the_setting(settings, world, tmp_path):
    for name, value in world.settings().items():
        setattr(settings, name, value)
    settings.SAML_SP_KEY_FILE = str(tmp_path / "missing.key")
    settings.SAML_SP_CERT_FILE = str(world.sp_key)  # a key where the certificate belongs
    messages = check_saml_files()
    assert ids(messages) == ["bostadforst.E101", "bostadforst.E102"]
    assert "SAML_SP_KEY_FILE" in messages[0].msg and "cannot be read" in messages[0].msg
    assert "SAML_SP_CERT_FILE" in messages[1].msg and "certificate" in messages[1].msg


def test_xmlsec1_not_found_is_an_error(settings, world):
    for name, value in world.settings().items():
        setattr(settings, name, value)
    settings.SAML_XMLSEC_BINARY = "/nonexistent/xmlsec1"
    assert "bostadforst.E110" in ids(check_saml_files())


@needs_xmlsec
def test_manage_py_check_fails_at_startup_on_a_missing_key_file(world, tmp_path):
    """The check is registered before the checks run (bostadforst.apps), so a
    deploy stops at `check` / `migrate` rather than at the first login."""
    env = {
        **os.environ,
        "DJANGO_READ_DOT_ENV": "false",
        "SECRET_KEY": "x" * 50,
        "ALLOWED_HOSTS": "testserver",
        "SAML_IDP_METADATA_FILE": str(world.idp_metadata),
        "SAML_SP_ENTITY_ID": "https://bostadforst.test.example/saml2/metadata/",
        "SAML_SP_KEY_FILE": str(tmp_path / "missing.key"),
        "SAML_SP_CERT_FILE": str(world.sp_cert),
    }
    failed = subprocess.run(
        [sys.executable, "manage.py", "check"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert failed.returncode != 0
    assert "bostadforst.E101" in failed.stderr and "SAML_SP_KEY_FILE" in failed.stderr

    env["SAML_SP_KEY_FILE"] = str(world.sp_key)
    passed = subprocess.run(
        [sys.executable, "manage.py", "check"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert passed.returncode == 0, passed.stderr


@needs_xmlsec
@pytest.mark.django_db
def test_a_login_with_a_missing_key_file_answers_503_in_swedish(settings, world, client, caplog):
    """Should the app run without the check (gunicorn started by hand), the
    e-ID login says it is not set up, not a bare 500; the log names the file."""
    for name, value in world.settings().items():
        setattr(settings, name, value)
    settings.SAML_SP_KEY_FILE = str(world.dir / "missing.key")
    response = client.get(reverse("saml2-login"))
    assert response.status_code == 503
    assert "Inloggningen med e-legitimation är inte rätt inställd" in response.content.decode()
    logged = [r.getMessage() for r in caplog.records if r.name == "bostadforst.security"]
    assert any("SAML_SP_KEY_FILE" in line and "missing.key" in line for line in logged), logged
