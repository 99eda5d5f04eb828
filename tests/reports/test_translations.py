"""The reports' Swedish wording is the one shown, not another app's.

Django merges the catalogs of all apps, and for the same English msgid the app
earlier in INSTALLED_APPS wins (participants' "Housed" → "Har bostad"). Where
reports needs its own wording it uses the "retention" context.
"""

import gettext
from pathlib import Path

import pytest
from django.urls import reverse
from django.utils import translation

import reports

CATALOG = Path(reports.__file__).parent / "locale" / "sv" / "LC_MESSAGES" / "django.mo"


def test_every_reports_translation_is_the_one_django_shows():
    with CATALOG.open("rb") as fh:
        own = gettext.GNUTranslations(fh)._catalog
    shadowed = {}
    with translation.override("sv"):
        for key, wording in own.items():
            if not key or isinstance(key, tuple):
                continue  # the header and plural forms
            if "\x04" in key:
                context, msgid = key.split("\x04", 1)
                shown = translation.pgettext(context, msgid)
            else:
                msgid, shown = key, translation.gettext(key)
            if shown != wording:
                shadowed[key] = (shown, wording)
    assert shadowed == {}


@pytest.mark.django_db
def test_dashboard_uses_the_retention_wording(um_client):
    page = um_client.get(reverse("reports:dashboard")).content.decode()
    assert "Bor kvar" in page
    assert "Har bostad" not in page
    assert "Beläggning" in page
