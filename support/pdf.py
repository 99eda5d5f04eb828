"""The tenant's copy of the action plan as PDF.

Rendered through ``bostadforst.pdf.render_pdf``, whose fetcher serves only the
app's own static files and ``data:`` URLs (PITFALLS #5). User text reaches the
template only through Django's auto-escaping.
"""

from django.template.loader import render_to_string

from bostadforst.pdf import render_pdf


def render_plan_pdf(context: dict) -> bytes:
    return render_pdf(render_to_string("support/plan_pdf.html", context))
