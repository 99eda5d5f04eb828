"""The tenant's copy of the action plan as PDF.

Rendered through ``bostadforst.pdf.render_pdf``, whose fetcher serves only the
app's own static files and ``data:`` URLs (PITFALLS #5). User text reaches the
template only through Django's auto-escaping.
"""

from django.template.loader import render_to_string

from bostadforst.pdf import render_pdf


def render_plan_pdf(context: dict) -> bytes:
    """The plan in ``context["plan"]`` as PDF. A protected person's copy is
    marked "protected identity" with the grade at the top of every page, so
    that a printout is recognised and kept apart (issue 15; municipal routines
    for skyddade personuppgifter)."""
    participant = context["plan"].participant
    protection = participant.get_identity_protection_display() if participant.is_protected else ""
    return render_pdf(
        render_to_string("support/plan_pdf.html", {**context, "protection": protection})
    )
