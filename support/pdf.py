"""The tenant's copy of the action plan as PDF (WeasyPrint).

WeasyPrint would otherwise fetch any ``file://`` or ``http(s)://`` URL a
document names (server-side request forgery and local file reads, PITFALLS
#5). The fetcher below serves only the app's own static files and ``data:``
URLs; everything else is refused. User text reaches the template only
through Django's auto-escaping.
"""

import mimetypes
from pathlib import Path
from urllib.parse import unquote, urlsplit

from django.conf import settings
from django.contrib.staticfiles import finders
from django.template.loader import render_to_string
from weasyprint import HTML, URLFetcher
from weasyprint.urls import URLFetcherResponse

# Static URLs in the template resolve against this base; the host is never
# contacted, it only marks a URL as "one of ours".
BASE_URL = "https://bostadforst.invalid/"


class StaticOnlyFetcher(URLFetcher):
    """Serve ``data:`` URLs and the app's static files; refuse the rest."""

    def __init__(self) -> None:
        super().__init__(allowed_protocols={"data", "https"}, allow_redirects=False)

    def fetch(self, url, headers=None):
        if url.startswith("data:"):
            return super().fetch(url, headers)
        parts = urlsplit(url)
        prefix = "/" + settings.STATIC_URL.strip("/") + "/"
        if (
            parts.scheme != "https"
            or parts.netloc != urlsplit(BASE_URL).netloc
            or not parts.path.startswith(prefix)
        ):
            raise ValueError("Only the app's own static files can be included.")
        relative = unquote(parts.path[len(prefix) :])
        if ".." in Path(relative).parts:
            raise ValueError("Only the app's own static files can be included.")
        found = finders.find(relative)
        if not found:
            raise ValueError("Static file not found.")
        content_type = mimetypes.guess_type(found)[0] or "application/octet-stream"
        return URLFetcherResponse(
            url, Path(found).read_bytes(), headers={"Content-Type": content_type}
        )


def render_plan_pdf(context: dict) -> bytes:
    html = render_to_string("support/plan_pdf.html", context)
    return HTML(string=html, base_url=BASE_URL, url_fetcher=StaticOnlyFetcher()).write_pdf()
