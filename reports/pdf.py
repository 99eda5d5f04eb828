"""The report as PDF: A4, Swedish, rendered through ``bostadforst.pdf.render_pdf``.

That helper's fetcher serves only the app's own static files (the template
links its stylesheet with ``{% static %}``) and ``data:`` URLs, and refuses
``http(s)://``, ``file://`` and attachments (PITFALLS #5). Every user text in
the template is escaped by Django's autoescaping, so a name such as
``<img src=…>`` is text.
"""

from __future__ import annotations

from django.conf import settings
from django.template.loader import render_to_string
from django.utils import translation

from bostadforst.pdf import render_pdf


def render_report_pdf(*, context: dict) -> bytes:
    """The report PDF: A4, Swedish, the municipality's name, figures, charts, definitions."""
    with translation.override("sv"):
        html = render_to_string(
            "reports/report_pdf.html",
            {**context, "municipality_name": settings.MUNICIPALITY_NAME},
        )
    return render_pdf(html)
