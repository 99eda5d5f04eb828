"""No personal data in log output: walking every page of the demo world with
every role, and posting every form, writes no personnummer (any format), name
or free text of a seeded person to any log."""

import io
import logging
import os
import re
import subprocess
import sys

import pytest
from django.conf import settings
from django.urls import reverse

from bostadforst.logging import PERSONNUMMER_RE, ScrubPersonalDataFilter, scrub
from bostadforst.permissions import ACCESS_TABLE, PUBLIC
from participants.models import NetworkContact, Participant, Referral

from ..urlwalk import project_routes

pytestmark = pytest.mark.django_db


@pytest.fixture
def all_log_output(caplog):
    """Everything logged, through caplog and through the real root handler
    (with its scrub filter) into a buffer."""
    caplog.set_level(logging.DEBUG)
    root = logging.getLogger()
    configured = [h for h in root.handlers if isinstance(h, logging.StreamHandler)]
    buffer = io.StringIO()
    handler = logging.StreamHandler(buffer)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s %(message)s"))
    for existing in configured:
        for f in existing.filters:
            handler.addFilter(f)
    root.addHandler(handler)
    request_logger = logging.getLogger("django.request")
    request_logger.addHandler(handler)
    yield lambda: caplog.text + buffer.getvalue()
    root.removeHandler(handler)
    request_logger.removeHandler(handler)


def personal_data() -> list[str]:
    """Personnummer in every format, names and free texts of the seeded people."""
    needles = []
    for p in Participant.objects.all():
        if p.personnummer:
            pnr = p.personnummer
            needles += [pnr, pnr[2:], f"{pnr[:8]}-{pnr[8:]}", f"{pnr[2:8]}-{pnr[8:]}"]
        if p.first_name and p.last_name:
            needles.append(f"{p.first_name} {p.last_name}")
        needles += [x for x in (p.last_name,) if x and len(x) >= 6]
    needles += [t for t in Referral.objects.values_list("description", flat=True) if t]
    needles += [t for t in NetworkContact.objects.values_list("note", flat=True) if t]
    return [n for n in needles if len(n) >= 6]


def test_walking_every_page_with_every_role_logs_no_personal_data(world, all_log_output):
    needles = personal_data()
    assert needles, "seed_demo made no participants"
    logging.getLogger("bostadforst.selftest").warning("walk starts")
    pages = 0
    for route in project_routes():
        if route.name in PUBLIC or route.name not in ACCESS_TABLE:
            continue
        try:
            url = reverse(route.name, kwargs=world.url_kwargs(route))
        except LookupError:
            continue
        for role in ACCESS_TABLE[route.name]:
            client = world.client(role)
            client.get(url)
            client.post(url, {"personnummer": Participant.objects.first().personnummer or ""})
            pages += 1
    # A 404 and a 403 (logged by django.request) happen too.
    world.client("social_worker").get("/participants/999999999/")
    output = all_log_output()
    assert "walk starts" in output  # the capture works
    leaks = [n for n in needles if n in output]
    assert not leaks, f"personal data in the logs: {leaks[:5]}"
    assert not PERSONNUMMER_RE.search(output.replace("[personnummer]", ""))
    assert pages > 5


@pytest.mark.parametrize(
    "text",
    [
        "198112189876",
        "8112189876",
        "811218-9876",
        "19811218-9876",
        "811218+9876",
        "811218 9876",
        "198112789876",  # samordningsnummer
        "url /participants/?pnr=19811218-9876&x=1",
    ],
)
def test_the_scrub_filter_removes_every_personnummer_format(text):
    assert not re.search(r"\d{4}(?!\d)", scrub(text).replace("[personnummer]", "")[-5:])
    assert "9876" not in scrub(text)


def test_the_scrub_filter_keeps_other_numbers():
    for text in ["order 12345", "2026-11-23 20:38:48", "id=4711", "tel 070-123 45 67"]:
        assert scrub(text) == text


def test_the_filter_scrubs_arguments_and_survives_a_bad_format_string():
    record = logging.LogRecord("x", logging.INFO, "f", 1, "search %s", ("19811218-9876",), None)
    assert ScrubPersonalDataFilter().filter(record)
    assert record.getMessage() == "search [personnummer]"
    broken = logging.LogRecord("x", logging.INFO, "f", 1, "oops %s %s 811218-9876", ("a",), None)
    assert ScrubPersonalDataFilter().filter(broken)
    assert "9876" not in broken.getMessage()


# Run in a process of its own: Celery's logging set-up happens once per process
# and replaces handlers that pytest's own capture relies on.
CELERY_LOGGING_SCRIPT = """
import logging

import django

django.setup()
from celery.utils.log import get_task_logger

from bostadforst.celery import app

app.log.setup(loglevel="INFO", redirect_stdouts=True)  # what a worker and beat call
# A personnummer from the personnummer project's test data (as in test_celery.py).
get_task_logger("reports.tasks").warning("task log 19821105-9954")
logging.getLogger("celery.app.trace").warning("Task x succeeded: 'pong 821105-9954'")
"""


def test_celery_logging_set_up_as_in_a_worker_or_beat_keeps_the_scrub_filter():
    """The fast companion of the real-worker test in test_celery.py (which
    needs Redis): after Celery's logging set-up, a task logger and Celery's
    "succeeded" logger still write personnummer masked."""
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "bostadforst.settings", "LOG_LEVEL": "INFO"}
    env.pop("DATABASE_URL", None)  # nothing here touches a database
    done = subprocess.run(
        [sys.executable, "-c", CELERY_LOGGING_SCRIPT],
        cwd=settings.BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    output = done.stdout + done.stderr
    assert done.returncode == 0, output
    assert "task log [personnummer]" in output, output
    assert "succeeded: 'pong [personnummer]'" in output, output
    assert "9954" not in output
