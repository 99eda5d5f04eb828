"""``{% change_history obj %}``: who changed what and when, on any case page.

Usage::

    {% load audit %}
    {% change_history referral %}
"""

from django import template
from django.apps import apps
from django.utils.text import capfirst

from ..history import change_history as history_rows

register = template.Library()


@register.inclusion_tag("_partials/history.html")
def change_history(obj, limit: int = 20):
    return {
        "history_rows": history_rows(obj, limit=limit),
        "history_id": f"{obj._meta.model_name}-{obj.pk}",
    }


@register.filter
def record_type(label: str) -> str:
    """A model label of the access log ("housing.Tenancy") as the reader's
    word for it ("Hyresförhållande"); anything else unchanged."""
    try:
        model = apps.get_model(label)
    except (LookupError, ValueError):
        return label
    return capfirst(model._meta.verbose_name)
