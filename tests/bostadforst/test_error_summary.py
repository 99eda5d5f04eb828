"""Every form that fails validation says so at its top (WCAG 3.3.1, 4.1.3).

Each form page of the project (every page saving through ``ServiceFormMixin``,
from the resolver, and the account and filter forms) is submitted with every
field it shows made invalid. The page must show one error summary, first in
the form: ``role="alert"``, ``tabindex="-1"`` (``static/js/app.js`` focuses
it), a heading, and a link to each field with an error that leads to that
field's input. A radio or checkbox group with an error names the error text
in the group's ``aria-describedby``; so does every other field, and every id
an ``aria-describedby`` names exists on the page.

A new form page is walked without touching this file.
"""

import datetime
from collections.abc import Iterator
from html import unescape

import pytest
from django import forms
from django.test.html import Element, parse_html
from django.urls import reverse
from django.utils import translation

from bostadforst.mixins import TOKEN_FIELD

from .test_submit_walks import open_page, service_form_routes, token_of

pytestmark = pytest.mark.django_db

HEADING = "Formuläret har fel"


# --- Reading the page ----------------------------------------------------------------


def elements(node) -> Iterator[Element]:
    if isinstance(node, str):
        return
    yield node
    for child in node.children:
        yield from elements(child)


def attr(element: Element, name: str) -> str | None:
    return dict(element.attributes).get(name)


def text(node) -> str:
    if isinstance(node, str):
        return node
    return " ".join(text(child) for child in node.children)


def parents(root: Element) -> dict[int, Element]:
    out = {}
    for element in elements(root):
        for child in element.children:
            if not isinstance(child, str):
                out[id(child)] = element
    return out


def summaries(root: Element) -> list[Element]:
    return [e for e in elements(root) if attr(e, "data-error-summary") is not None]


def by_id(root: Element) -> dict[str, Element]:
    return {attr(e, "id"): e for e in elements(root) if attr(e, "id")}


# --- Making every field wrong ---------------------------------------------------------


def invalid_value(field: forms.Field):
    """A value ``field`` refuses, or None where no typed value can be wrong
    (a check box, a text without a length limit: left empty instead)."""
    if isinstance(field, forms.FileField):
        return None
    if isinstance(field, forms.MultipleChoiceField | forms.ModelMultipleChoiceField):
        return ["ogiltigt-val"]
    if isinstance(field, forms.ChoiceField | forms.ModelChoiceField):
        return "ogiltigt-val"
    if isinstance(field, forms.DateField | forms.DateTimeField | forms.TimeField):
        return "inte-ett-datum"
    if isinstance(field, forms.SplitDateTimeField):
        return None
    if isinstance(field, forms.IntegerField | forms.DecimalField | forms.FloatField):
        return "inte-ett-tal"
    if isinstance(field, forms.EmailField):
        return "inte-en-adress"
    if isinstance(field, forms.CharField) and field.max_length:
        return "x" * (field.max_length + 1)
    return None


def invalid_data(form: forms.BaseForm, sample: dict) -> dict:
    """The sample with each visible field of ``form`` given a value it refuses
    (hidden fields, such as the version, keep the sample's value)."""
    data = dict(sample)
    for name, field in form.fields.items():
        if isinstance(field.widget, forms.HiddenInput) or field.disabled:
            continue
        key = form.add_prefix(name)
        value = invalid_value(field)
        if value is None:
            data.pop(key, None)
        else:
            data[key] = value
    return data


# --- What the page must show -------------------------------------------------------------


def summary_problems(html: str, form: forms.BaseForm) -> list[str]:
    """What is missing from the page of a form that failed: [] when all is there."""
    root = parse_html(html)
    found = summaries(root)
    if len(found) != 1:
        return [f"{len(found)} error summaries (one expected)"]
    summary = found[0]
    problems = []
    if attr(summary, "role") != "alert":
        problems.append("the summary is not role=alert")
    if attr(summary, "tabindex") != "-1":
        problems.append("the summary cannot take focus (tabindex=-1)")
    if HEADING not in text(summary):
        problems.append(f"the summary has no heading {HEADING!r}")

    ids = by_id(root)
    up = parents(root)
    form_element = summary
    while form_element.name != "form" and id(form_element) in up:
        form_element = up[id(form_element)]
    if form_element.name != "form":
        problems.append("the summary is not inside the form")
    else:
        fields = [e for e in elements(form_element) if e.name in {"input", "select", "textarea"}]
        visible = [f for f in fields if attr(f, "type") not in {"hidden", "submit"}]
        first = next(iter(visible), None)
        order = list(elements(form_element))
        if first is not None and order.index(first) < order.index(summary):
            problems.append("the summary is not at the top of the form")

    links = {attr(a, "href")[1:] for a in elements(summary) if (attr(a, "href") or "")[:1] == "#"}
    for name in form.errors:
        if name == forms.forms.NON_FIELD_ERRORS:
            continue
        bound = form[name]
        if bound.is_hidden:
            continue
        leads_there = [
            target
            for target in links
            if target in ids and attr(ids[target], "name") == bound.html_name
        ]
        if not leads_there:
            problems.append(f"no link in the summary leads to the field {bound.html_name!r}")
    for message in form.non_field_errors():
        if unescape(str(message)) not in unescape(text(summary)):
            problems.append(f"the summary leaves out {message!r}")
    return problems + described_by_problems(root, form)


def described_by_problems(root: Element, form: forms.BaseForm) -> list[str]:
    """Every aria-describedby names ids that exist; a radio or checkbox group
    with an error points at the element holding its error text."""
    ids = by_id(root)
    up = parents(root)
    problems = []
    for element in elements(root):
        for ref in (attr(element, "aria-describedby") or "").split():
            if ref not in ids:
                problems.append(f"aria-describedby names a missing id {ref!r}")
    for name, errors in form.errors.items():
        if name == forms.forms.NON_FIELD_ERRORS:
            continue
        bound = form[name]
        widget = bound.field.widget
        if not (
            isinstance(widget, forms.widgets.ChoiceWidget)
            and widget.input_type in {"radio", "checkbox"}
        ):
            continue
        inputs = [
            e
            for e in elements(root)
            if e.name == "input"
            and attr(e, "name") == bound.html_name
            and attr(e, "type") != "hidden"
        ]
        if not inputs:
            continue
        group = inputs[0]
        while group.name != "fieldset" and attr(group, "role") not in {"radiogroup", "group"}:
            if id(group) not in up:
                break
            group = up[id(group)]
        if group.name != "fieldset" and attr(group, "role") is None:
            problems.append(f"the choices of {bound.html_name!r} are in no fieldset or group")
            continue
        described = " ".join(
            unescape(text(ids[ref]))
            for ref in (attr(group, "aria-describedby") or "").split()
            if ref in ids
        )
        for error in errors:
            if unescape(str(error)) not in described:
                problems.append(
                    f"the group {bound.html_name!r} is not described by its error {error!r}"
                )
    return problems


# --- The walk ---------------------------------------------------------------------------


def test_the_check_sees_a_form_without_a_summary():
    form = forms.Form(data={})
    form.fields["name"] = forms.CharField()
    assert not form.is_valid()
    html = '<form method="post"><input name="name" id="id_name"></form>'
    assert summary_problems(html, form) == ["0 error summaries (one expected)"]


def test_the_check_sees_a_radio_group_not_described_by_its_error():
    form = forms.Form(data={})
    form.fields["kind"] = forms.ChoiceField(choices=[("a", "A")], widget=forms.RadioSelect)
    assert not form.is_valid()
    group = (
        '<input type="radio" name="kind" id="id_kind_0">'
        '<div id="id_kind_error">{}</div></fieldset>'.format(form.errors["kind"][0])
    )
    linked = parse_html(f'<fieldset aria-describedby="id_kind_error">{group}')
    unlinked = parse_html(f"<fieldset>{group}")
    assert described_by_problems(linked, form) == []
    assert described_by_problems(unlinked, form) == [
        f"the group 'kind' is not described by its error {form.errors['kind'][0]!r}"
    ]


@pytest.mark.parametrize("route", service_form_routes(), ids=lambda r: r.name)
def test_a_failed_submit_shows_the_error_summary(world, route):
    client, url, page = open_page(world, route)
    form = page.context["form"]
    sample = world.form_data(route)
    data = invalid_data(form, sample)
    if data == sample:
        # Nothing to type (a confirm button): what can fail is a stale version.
        if "version" not in sample:
            pytest.skip("the form has no field a user could get wrong")
        data["version"] = str(int(sample["version"]) + 1)
    data[TOKEN_FIELD] = token_of(route, page)

    response = client.post(url, data)

    assert response.status_code in (200, 400), (route.name, response.status_code)
    failed = response.context["form"]
    assert failed.errors, f"{route.name}: every field made invalid and still no error"
    assert summary_problems(response.content.decode(), failed) == [], route.name


def account_and_filter_forms(world):
    """Forms that save no record: (name, client, method, url, data, context key)."""
    today = datetime.date.today().isoformat()
    return [
        ("login", world.client(), "post", reverse("login"), {"username": "", "password": ""}),
        (
            "password_change",
            world.client(world.support_staff),
            "post",
            reverse("password_change"),
            {"old_password": "fel", "new_password1": "a", "new_password2": "b"},
        ),
        (
            "access-log",
            world.client(world.unit_manager),
            "get",
            reverse("bostadforst:access-log"),
            {"date_from": "inte-ett-datum", "date_to": today},
        ),
        (
            "dashboard",
            world.client(world.unit_manager),
            "get",
            reverse("reports:dashboard"),
            {"as_of": "inte-ett-datum", "months": "inte-ett-tal"},
        ),
    ]


def test_account_and_filter_forms_show_the_error_summary(world):
    for name, client, method, url, data in account_and_filter_forms(world):
        response = getattr(client, method)(url, data)
        assert response.status_code in (200, 400), (name, response.status_code)
        form = response.context["form"]
        assert form.errors, name
        assert summary_problems(response.content.decode(), form) == [], name


def test_the_summary_heading_is_swedish_and_english():
    from bostadforst.templatetags.error_summary import error_summary

    form = forms.Form(data={})
    form.fields["name"] = forms.CharField(label="Namn")
    form.is_valid()
    assert error_summary(form)["entries"][0].target == "id_name"
    assert error_summary(form)["entries"] == []  # shown once per form
    with translation.override("en"):
        assert str(translation.gettext("The form has errors")) == "The form has errors"
    with translation.override("sv"):
        assert translation.gettext("The form has errors") == HEADING
