"""PDF exports: the one way into WeasyPrint, with the one URL fetcher.

WeasyPrint fetches any ``file://`` or ``http(s)://`` URL a document names, from
``<img>`` to ``<link rel=attachment>`` (server-side request forgery and local
file reads, PITFALLS #5). ``render_pdf`` always renders with
``StaticOnlyFetcher``, which serves only

* ``data:`` URLs, and
* the app's own static files, named as ``{% static %}`` names them: documents
  are rendered against ``BASE_URL``, a host that is never contacted and only
  marks a URL as ours, so ``/static/<path>`` becomes
  ``https://bostadforst.invalid/static/<path>`` and is read through the
  staticfiles finders (or, for the manifest storage's hashed names, from
  ``STATIC_ROOT``).

Everything else is refused before any connection or file read and recorded in
``fetcher.refused``. User text reaches the templates only through Django's
auto-escaping, so a name such as ``<img src=…>`` is text.

Every PDF is tagged for assistive technology: rendered as PDF/UA-1
(``PDF_VARIANT``), so it has a structure tree (headings, tables with header
cells, figures with their ``alt`` text as /Alt), ``/MarkInfo /Marked true``
and ``/ViewerPreferences /DisplayDocTitle true``, borders and backgrounds
marked as artifacts, the document language (``<html lang>``, or the active
language when a template leaves it out) as /Lang, and the template's
``<title>`` as the title in the document info and the XMP metadata. A
template without a ``<title>`` is refused: a screen reader would announce the
file name instead. ``tests/bostadforst/test_pdf_tagged.py`` opens real PDFs
and checks all of this.

Every PDF carries ``PDF_CREATOR`` as its Creator (and as its author unless the
template names one with ``<meta name=author>``), which lets the walk in
``tests/bostadforst/test_exports.py`` tell a PDF made here from one made some
other way; the same file checks that no other module imports WeasyPrint.

Importing this module loads WeasyPrint, which is slow: views import the
rendering modules inside the function that needs them.
"""

from __future__ import annotations

import mimetypes
from pathlib import Path, PurePosixPath
from urllib.parse import unquote, urlsplit

from django.conf import settings
from django.contrib.staticfiles import finders
from django.contrib.staticfiles.storage import staticfiles_storage
from django.core.exceptions import SuspiciousFileOperation
from django.utils import translation
from weasyprint import HTML
from weasyprint.urls import URLFetcher, URLFetcherResponse

BASE_URL = "https://bostadforst.invalid/"
PDF_CREATOR = "Bostad först"
# Tagged PDF with the metadata PDF/UA asks for; the app's fonts (DejaVu Sans,
# embedded by WeasyPrint) and its data: URL images render under it unchanged.
PDF_VARIANT = "pdf/ua-1"


class UntitledDocument(ValueError):
    """A PDF template without a ``<title>``, which PDF/UA requires."""


class RefusedURL(ValueError):
    """WeasyPrint asked for a URL outside the app's static files and ``data:``."""


def _static_file(url: str) -> Path | None:
    """The static file ``url`` names under ``BASE_URL``, or None."""
    parts = urlsplit(url)
    base = urlsplit(BASE_URL)
    prefix = "/" + settings.STATIC_URL.strip("/") + "/"
    if (parts.scheme, parts.netloc) != (base.scheme, base.netloc):
        return None
    if not parts.path.startswith(prefix):
        return None
    relative = unquote(parts.path[len(prefix) :])
    # Decoded before the check, so %2e%2e cannot climb out either.
    if not relative or relative.startswith("/") or "\\" in relative:
        return None
    if ".." in PurePosixPath(relative).parts:
        return None
    try:
        found = finders.find(relative)
        if found:
            return Path(found)
        if settings.STATIC_ROOT:
            # Hashed names exist only among the collected files.
            collected = Path(staticfiles_storage.path(relative))
            if collected.is_file():
                return collected
    except (SuspiciousFileOperation, NotImplementedError):
        return None
    return None


class StaticOnlyFetcher(URLFetcher):
    """A WeasyPrint fetcher limited to ``data:`` and the app's static files."""

    def __init__(self) -> None:
        super().__init__(allowed_protocols={"data"}, allow_redirects=False, timeout=1)
        self.refused: list[str] = []

    def fetch(self, url: str, headers=None) -> URLFetcherResponse:
        if url.startswith("data:"):
            return super().fetch(url, headers)
        found = _static_file(url)
        if found is None:
            self.refused.append(url)
            raise RefusedURL(f"Only the app's own static files can be included: {url[:80]}")
        content_type = mimetypes.guess_type(found.name)[0] or "application/octet-stream"
        return URLFetcherResponse(url, found.read_bytes(), headers={"Content-Type": content_type})


def render_pdf(html: str, *, fetcher: StaticOnlyFetcher | None = None) -> bytes:
    """The tagged PDF of ``html``, fetching nothing but static files and ``data:``.

    Pass a ``fetcher`` to see afterwards which URLs it refused.
    """
    document = HTML(
        string=html, base_url=BASE_URL, url_fetcher=fetcher or StaticOnlyFetcher()
    ).render(pdf_variant=PDF_VARIANT)
    metadata = document.metadata
    if not (metadata.title or "").strip():
        raise UntitledDocument("A PDF template needs a <title>: it is the document's title.")
    metadata.lang = metadata.lang or translation.get_language() or settings.LANGUAGE_CODE
    metadata.authors = metadata.authors or [PDF_CREATOR]
    metadata.generator = PDF_CREATOR
    return document.write_pdf(pdf_variant=PDF_VARIANT)
