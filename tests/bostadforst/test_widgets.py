"""LongSelect writes the markup forms.Select renders through its templates."""

import re

import pytest
from django import forms
from hypothesis import given, settings
from hypothesis import strategies as st

from bostadforst.widgets import LongSelect


def _tight(html: str) -> str:
    return re.sub(r">\s+<", "><", str(html)).strip()


labels = st.text(alphabet=st.characters(blacklist_categories=("Cs", "Cc")), min_size=0, max_size=12)


@settings(max_examples=60, deadline=None)
@given(
    choices=st.lists(
        st.tuples(st.integers(1, 10**6), labels), max_size=8, unique_by=lambda c: c[0]
    ),
    pick=st.integers(0, 9),
    required=st.booleans(),
    described=st.booleans(),
)
def test_long_select_renders_what_select_renders(choices, pick, required, described):
    options = [("", "Alla"), *[(str(value), label) for value, label in choices]]
    value = options[pick % len(options)][0]
    attrs = {"id": "id_user", "class": "form-select"}
    if described:
        attrs["aria-describedby"] = "id_user_error"
    ours = LongSelect(choices=options)
    theirs = forms.Select(choices=options)
    ours.is_required = theirs.is_required = required
    assert _tight(ours.render("user", value, attrs)) == _tight(theirs.render("user", value, attrs))


@pytest.mark.django_db
def test_the_access_log_filter_lists_every_user_and_keeps_the_choice(um_client, support_staff):
    from django.urls import reverse

    response = um_client.get(reverse("bostadforst:access-log"), {"user": support_staff.pk})
    html = response.content.decode()
    assert f'<option value="{support_staff.pk}" selected>{support_staff}</option>' in html
    assert '<option value="">Alla användare</option>' in html
