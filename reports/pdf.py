"""Rendering a report to PDF with WeasyPrint, fetching nothing from outside.

WeasyPrint fetches ``http(s)://`` and ``file://`` URLs by default (SSRF and
local file reads, PITFALLS.md #5). ``StaticOnlyFetcher`` answers only
``data:`` URLs and ``bfstatic:<path>`` URLs, which it resolves through the
staticfiles finders to the app's own static files; everything else —
``http://``, ``file:///etc/passwd``, a ``<link rel=attachment>`` — is refused
before any connection or file read. Every user text in the template is
escaped by Django's autoescaping, so a name such as ``<img src=…>`` is text.
"""

from __future__ import annotations

import mimetypes
from pathlib import Path

from django.conf import settings
from django.contrib.staticfiles import finders
from django.template.loader import render_to_string
from django.utils import translation
from weasyprint import HTML
from weasyprint.urls import URLFetcher, URLFetcherResponse

STATIC_SCHEME = "bfstatic:"


class RefusedURL(ValueError):
    """WeasyPrint asked for a URL outside the app's static files and data:."""


class StaticOnlyFetcher(URLFetcher):
    """A WeasyPrint fetcher limited to ``data:`` and the app's static files."""

    def __init__(self) -> None:
        super().__init__(allowed_protocols={"data"}, allow_redirects=False, timeout=1)
        self.refused: list[str] = []

    def fetch(self, url: str, headers=None) -> URLFetcherResponse:
        if url.startswith(STATIC_SCHEME):
            relative = url[len(STATIC_SCHEME) :].lstrip("/")
            found = finders.find(relative) if ".." not in Path(relative).parts else None
            if not found:
                self.refused.append(url)
                raise RefusedURL(f"no such static file: {relative}")
            mime = mimetypes.guess_type(found)[0] or "application/octet-stream"
            return URLFetcherResponse(url, Path(found).read_bytes(), headers={"Content-Type": mime})
        if url.startswith("data:"):
            return super().fetch(url, headers)
        self.refused.append(url)
        raise RefusedURL(f"refused to fetch {url[:60]}")


def html_to_pdf(html: str) -> tuple[bytes, list[str]]:
    """The PDF for ``html`` and the URLs that were refused."""
    fetcher = StaticOnlyFetcher()
    pdf = HTML(string=html, base_url=None, url_fetcher=fetcher).write_pdf()
    return pdf, fetcher.refused


def render_report_pdf(*, context: dict) -> bytes:
    """The report PDF: A4, Swedish, the municipality's name, figures, charts, definitions."""
    with translation.override("sv"):
        html = render_to_string(
            "reports/report_pdf.html",
            {**context, "municipality_name": settings.MUNICIPALITY_NAME},
        )
    pdf, _refused = html_to_pdf(html)
    return pdf
