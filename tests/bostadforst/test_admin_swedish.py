"""The admin speaks Swedish: no English alt text on its icons, and none of the
third-party apps' English words that the project translates.

The admin's index, every registered model's list, add page, its first row's
change page and that row's history are walked as a superuser (who sees every
model), in Swedish, on the demo world; a model registered later is walked
without touching this file.
"""

import inspect
import re

import pytest
from django.contrib.admin import helpers, utils
from django.contrib.admin.templatetags import admin_list
from django.urls import reverse
from django.utils import translation

from bostadforst.admin_base import boolean_icon

from ..factories import UserFactory
from .test_admin_walk import REGISTRY, _may, _row, _url

pytestmark = pytest.mark.django_db

# Alt text Django writes from the Python value, and its search icon's; a
# Python None shown as text.
ENGLISH_ALT = re.compile(r'alt="(True|False|None|Search)"|>\s*None\s*<')
# What django-axes and django-simple-history showed in English before the
# project's catalog translated them (they ship no Swedish).
ENGLISH_WORDS = [
    "Attempt Time",
    "Logout Time",
    "User Agent",
    "IP Address",
    "Failed Logins",
    "Form Data",
    "Meta Data",
    "Access lock out",
    "Locked Out",
    "Not set",
    "Changed by",
    "Change reason",
    "Choose a date from the list below",
    "doesn't have a change history",
    # django-otp's device admins (bostadforst/admin_otp.py).
    "Throttling",
    "Timestamps",
    "Search by user's",
    "Created at",
    "Last used at",
    "A hex-encoded secret key",
    "Is this device ready for use",
    "The human-readable name of this device",
    "Static devices",
    "Otp_Static",
    # Permission names as Django stores them (bostadforst/admin_permissions.py).
    "| Can ",
    "historical ",
    # django-axes' str() of its records (bostadforst/apps.py).
    "Access Log for",
    "Attempted Access",
    "Failed access",
]


@pytest.fixture
def superuser(db):
    return UserFactory(username="sv-superuser", is_superuser=True, is_staff=True)


def _pages(world, superuser) -> list[str]:
    urls = [reverse("admin:index")]
    for label, model_admin in sorted(REGISTRY.items()):
        model = model_admin.model
        obj = _row(world, superuser, label)
        urls += [
            _url(model, "changelist"),
            _url(model, "change", obj.pk),
            _url(model, "history", obj.pk),
        ]
        if _may(model_admin, superuser, "add"):
            urls.append(_url(model, "add"))
    return urls


def test_the_admin_shows_no_english_alt_text_or_third_party_words(world, superuser):
    client = world.client(superuser)
    problems, icons = [], 0
    for url in _pages(world, superuser):
        response = client.get(url, headers={"accept-language": "sv"})
        assert response.status_code == 200, (url, response.status_code)
        html = response.content.decode()
        icons += html.count("admin/img/icon-yes.svg") + html.count("admin/img/icon-no.svg")
        problems += [f"{url}: {m.group(0)}" for m in ENGLISH_ALT.finditer(html)]
        problems += [f"{url}: {word!r}" for word in ENGLISH_WORDS if word in html]
    assert icons, "the walk met no yes/no icon"
    assert not problems, "\n".join(problems)


def test_the_boolean_icon_says_yes_no_and_unknown_in_swedish():
    with translation.override("sv"):
        assert 'alt="Ja"' in boolean_icon(True)
        assert 'alt="Nej"' in boolean_icon(False)
        assert 'alt="Okänt"' in boolean_icon(None)
        assert "admin/img/icon-yes.svg" in boolean_icon(True)


def test_django_draws_its_icons_through_the_function_replaced():
    """If Django renames or inlines ``_boolean_icon``, the replacement reaches
    nothing: fail here rather than show "True" again."""
    assert admin_list._boolean_icon is boolean_icon
    assert "_boolean_icon" in inspect.getsource(utils.display_for_field)
    assert "_boolean_icon" in inspect.getsource(utils.display_for_value)
    assert "_boolean_icon" in inspect.getsource(helpers.AdminReadonlyField.contents)
