"""A fidelity assessment as PDF, through ``bostadforst.pdf.render_pdf`` (the
one fetcher: static files and ``data:`` only; tagged, with language and
title). User text reaches the template only through auto-escaping."""

from django.template.loader import render_to_string

from bostadforst.pdf import render_pdf


def render_assessment_pdf(context: dict) -> bytes:
    return render_pdf(render_to_string("fidelity/assessment_pdf.html", context))
