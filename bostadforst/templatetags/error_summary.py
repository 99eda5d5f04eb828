"""``{% error_summary form %}``: the one error summary every form shows at its
top when it fails validation (WCAG 3.3.1, 4.1.3).

A box with a heading and a link to each field with an error, plus the errors
that belong to no visible field (non-field errors, a stale version, a used
submit token) and those of formsets nested in the form (the action plan's
goals and their actions). It is ``role="alert"`` and ``tabindex="-1"``, and
``static/js/app.js`` moves focus to it when the page loads, so a screen
reader user hears that the submit failed and keyboard users start from the
list of what to correct.

Crispy forms render it through the project's ``bootstrap5/errors.html``;
forms laid out by hand call the tag first thing inside ``<form>``. It shows
once per form however often it is called, so a template may do both.

Usage::

    {% load error_summary %}
    <form method="post">{% csrf_token %}
      {% error_summary form %}
      ...
"""

from typing import NamedTuple

from django import forms, template

register = template.Library()

RENDERED = "_error_summary_rendered"


class Entry(NamedTuple):
    target: str  # the id of the element to move to; "" for errors of no field
    label: str
    message: str


def field_target(bound: forms.BoundField) -> str:
    """The id of the field's first input: a radio or checkbox group, whose
    label points nowhere, is entered at its first choice."""
    if bound.id_for_label:
        return bound.id_for_label
    for widget in bound.subwidgets:
        widget_id = widget.data.get("attrs", {}).get("id")
        if widget_id:
            return widget_id
    return bound.auto_id or ""


def nested_formsets(form: forms.BaseForm) -> list[forms.BaseFormSet]:
    """Formsets a form carries as attributes (saved and validated with it)."""
    return [value for value in vars(form).values() if isinstance(value, forms.BaseFormSet)]


def form_errors(form: forms.BaseForm) -> list[Entry]:
    """Every error of ``form`` and its nested formsets, in the page's order."""
    if not form.is_bound:
        return []
    entries = [Entry("", "", str(error)) for error in form.non_field_errors()]
    for bound in form:
        for error in bound.errors:
            if bound.is_hidden:
                entries.append(Entry("", "", str(error)))
            else:
                entries.append(Entry(field_target(bound), str(bound.label or ""), str(error)))
    for formset in nested_formsets(form):
        entries += [Entry("", "", str(error)) for error in formset.non_form_errors()]
        for subform in formset.forms:
            entries += form_errors(subform)
    return entries


@register.inclusion_tag("_partials/error_summary.html")
def error_summary(form):
    """The summary of ``form``'s errors, the first time it is asked for."""
    if not isinstance(form, forms.BaseForm) or getattr(form, RENDERED, False):
        return {"entries": []}
    entries = form_errors(form)
    if entries:
        setattr(form, RENDERED, True)
    return {"entries": entries, "summary_id": f"error-summary-{form.prefix or 'form'}"}
