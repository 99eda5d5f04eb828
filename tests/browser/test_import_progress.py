"""The cohort import in a real browser (issue 13): the manager uploads the
spreadsheet, reads the preview's result and imports the same file with one
button; a running job's page follows its progress by polling (the bar, its
aria values and the Swedish line of text change without a reload) and shows
the result by itself when the job has finished. At 375 and 1280 px.

With ``BF_SCREENSHOTS=<folder>`` the pages are also saved there as PNGs.
"""

import os
import re
from pathlib import Path

import pytest
from django.urls import reverse

from bostadforst.roles import Role
from housing.models import Tenancy
from reports.models import CohortImport

from ..factories import UserFactory
from ..reports.factories import CohortImportFactory

sync_api = pytest.importorskip("playwright.sync_api")
expect = sync_api.expect

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("role_groups")]

HELSINGBORG = Path(__file__).parent.parent / "reports" / "helsingborg.csv"
WIDTHS = {"phone": {"width": 375, "height": 812}, "desktop": {"width": 1280, "height": 900}}


def shoot(page, name: str) -> None:
    folder = os.environ.get("BF_SCREENSHOTS")
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(folder) / f"{name}.png"), full_page=True)


def no_sideways_scroll(page) -> None:
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")


@pytest.mark.parametrize("size", sorted(WIDTHS))
def test_upload_preview_and_import_in_the_browser(page_as, live_server, size):
    manager = UserFactory(role=Role.UNIT_MANAGER)
    page = page_as(manager, **WIDTHS[size])
    page.goto(f"{live_server.url}{reverse('reports:cohort-import')}")
    heading = page.get_by_role("heading", level=1)
    expect(heading).to_have_text("Importera kohort från kalkylblad")
    expect(page.get_by_role("link", name="Ladda ner mall (.xlsx)")).to_be_visible()
    no_sideways_scroll(page)
    shoot(page, f"import-upload-{size}")

    page.get_by_label("Kalkylblad (.xlsx eller CSV)").set_input_files(str(HELSINGBORG))
    page.get_by_role("button", name="Ladda upp och kontrollera").click()
    # Tasks run in-process in the tests: the preview is done when the page shows.
    expect(page.get_by_text("Filen är korrekt. Inget har sparats ännu.")).to_be_visible()
    expect(page.get_by_role("table", name="Vad importen kommer att göra")).to_contain_text("20")
    assert not Tenancy.objects.exists()
    no_sideways_scroll(page)
    shoot(page, f"import-preview-{size}")

    page.get_by_role("button", name="Importera", exact=True).click()
    expect(page.get_by_text("Filen är importerad.")).to_be_visible()
    assert Tenancy.objects.count() == 20
    shoot(page, f"import-done-{size}")


@pytest.mark.parametrize("size", sorted(WIDTHS))
def test_a_running_job_shows_its_progress_and_then_its_result(page_as, live_server, size):
    manager = UserFactory(role=Role.UNIT_MANAGER)
    job = CohortImportFactory(
        state=CohortImport.State.RUNNING,
        finished_at=None,
        counts=None,
        stage=CohortImport.Stage.CHECK,
        done=1200,
        total=2000,
    )
    page = page_as(manager, **WIDTHS[size])
    page.goto(f"{live_server.url}{job.get_absolute_url()}")
    bar = page.get_by_role("progressbar", name="Kontrollens förlopp")
    expect(bar).to_have_attribute("aria-valuenow", "60")
    expect(page.get_by_role("status")).to_have_text("1 200 av 2 000 rader kontrollerade")
    expect(page.get_by_role("link", name="Uppdatera")).to_be_visible()  # without JavaScript
    no_sideways_scroll(page)
    shoot(page, f"import-running-{size}")

    # The worker moves on: the page follows without a reload.
    CohortImport.objects.filter(pk=job.pk).update(
        stage=CohortImport.Stage.WRITE, done=1500, total=2000
    )
    expect(page.get_by_role("status")).to_have_text(
        "1 500 av 2 000 rader prövade mot registret", timeout=10_000
    )
    expect(bar).to_have_attribute("aria-valuenow", "75")
    width = bar.locator(".progress-bar").evaluate("e => e.style.width")
    assert width == "75%"

    # It finishes with errors: the page shows the result by itself.
    CohortImport.objects.filter(pk=job.pk).update(
        state=CohortImport.State.DONE,
        counts={"rows": 2000},
        row_errors=[{"line": 14, "sheet": "Boenden", "message": "Inflyttning saknas."}],
        error_count=1,
    )
    expect(page.get_by_text("1 fel: ingenting importerades.")).to_be_visible(timeout=15_000)
    errors = page.get_by_role("table", name=re.compile("Fel per rad"))
    expect(errors).to_contain_text("Boenden")
    expect(errors).to_contain_text("Inflyttning saknas.")
    expect(page.get_by_role("link", name="Ladda ner felen (.xlsx)")).to_be_visible()
    expect(page.get_by_role("button", name="Importera", exact=True)).to_have_count(0)
    no_sideways_scroll(page)
    shoot(page, f"import-errors-{size}")
