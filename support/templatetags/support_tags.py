"""Small template helpers of the support app."""

from django import template
from django.urls import NoReverseMatch
from django.utils.translation import gettext_lazy as _

register = template.Library()

REVIEW_LABELS = {
    "missing": (_("No plan"), "text-bg-secondary"),
    "overdue": (_("Review overdue"), "text-bg-danger"),
    "due_soon": (_("Review due soon"), "text-bg-warning"),
    "ok": (_("Review planned"), "text-bg-light border"),
}


@register.simple_tag
def participant_url(participant) -> str:
    """The participant page's address, or "" while that page does not exist."""
    try:
        return participant.get_absolute_url()
    except NoReverseMatch:
        return ""


@register.inclusion_tag("support/_partials/review_badge.html")
def review_badge(status: str, review_on=None):
    """The review state in words (never by colour alone)."""
    label, css = REVIEW_LABELS.get(status, REVIEW_LABELS["ok"])
    return {"label": label, "css": css, "review_on": review_on, "status": status}
