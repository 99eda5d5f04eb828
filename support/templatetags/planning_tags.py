"""The visit page's undo button (issue 17), so the page's view need not know
about it: shown to the visit's author while its undo window lasts."""

from django import template

from bostadforst.mixins import with_submit_token

from ..planning_forms import VisitUndoForm

register = template.Library()


@register.inclusion_tag("support/_partials/visit_undo_button.html", takes_context=True)
def visit_undo_button(context, visit):
    user = context.get("user")
    shown = user is not None and visit.author_id == user.pk and visit.can_undo()
    return {
        "visit": visit,
        "shown": shown,
        "form": with_submit_token(VisitUndoForm()) if shown else None,
        "csrf_token": context.get("csrf_token"),
    }
