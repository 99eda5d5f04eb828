"""Research exports (``reports.research_export``): the page that orders one
and lists the earlier ones, and the download. Unit managers only
(``bostadforst.permissions.ACCESS_TABLE``; the lookup says the same again
with a 404)."""

from __future__ import annotations

from django import forms
from django.conf import settings
from django.core.exceptions import ValidationError
from django.http import Http404
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from django.views import View
from django.views.generic import FormView

from bostadforst import scope
from bostadforst.exports import XLSX_CONTENT_TYPE, stored_file_download
from bostadforst.mixins import ServiceFormMixin
from bostadforst.roles import MANAGERS, role_of

from .models import ResearchExport
from .research_export import MIN_KEY_LENGTH, research_export_order


class ResearchExportForm(forms.Form):
    """The research project, its approving decision, the purpose, the
    project's export key (never stored) and how dates are given."""

    project = forms.CharField(label=_("Research project"), max_length=200)
    decision_reference = forms.CharField(
        label=_("Approving decision (reference number)"),
        help_text=_("The ethics review's or the board's decision, for example Dnr 2026-01234."),
        max_length=100,
    )
    purpose = forms.CharField(
        label=_("Purpose"), max_length=2000, widget=forms.Textarea(attrs={"rows": 3})
    )
    export_key = forms.CharField(
        label=_("Export key"),
        help_text=_(
            "The research project's own key, at least %(count)s characters. The same key gives "
            "the same pseudonyms in every export. It is not stored: keep it with the project."
        )
        % {"count": MIN_KEY_LENGTH},
        min_length=MIN_KEY_LENGTH,
        max_length=200,
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "off"}),
    )
    date_mode = forms.ChoiceField(
        label=_("Dates"),
        choices=ResearchExport.DateMode.choices,
        widget=forms.RadioSelect,
    )

    error_messages = {"blank": _("This field cannot be only spaces.")}

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("initial", {}).setdefault("date_mode", settings.RESEARCH_DATES)
        super().__init__(*args, **kwargs)

    def clean_export_key(self) -> str:
        key = self.cleaned_data["export_key"]
        if not key.strip():
            raise ValidationError(self.error_messages["blank"], code="blank")
        return key


def _exports_for(user):
    """Every export, or for a user with a row scope only their own (their
    export holds only their people: the job runs under their scope)."""
    exports = ResearchExport.objects.all()
    return exports.filter(ordered_by=user) if scope.is_scoped(user) else exports


def research_export_get_for_user(*, user, pk: int) -> ResearchExport:
    """One research export for a unit manager; 404 for anyone else and for none."""
    if role_of(user) not in MANAGERS:
        raise Http404
    try:
        return _exports_for(user).select_related("ordered_by").get(pk=pk)
    except ResearchExport.DoesNotExist:
        raise Http404 from None


class ResearchExportView(ServiceFormMixin, FormView):
    """Order a research export; the earlier exports with their log."""

    template_name = "reports/research_export.html"
    form_class = ResearchExportForm
    success_message = _("The export is ordered. Reload the page to see when it is ready.")

    def get_context_data(self, **kwargs):
        kwargs["exports"] = list(_exports_for(self.request.user).select_related("ordered_by")[:50])
        kwargs["shift_days"] = settings.RESEARCH_DATE_SHIFT_DAYS
        return super().get_context_data(**kwargs)

    def perform(self, form):
        data = form.cleaned_data
        return research_export_order(
            project=data["project"],
            purpose=data["purpose"],
            decision_reference=data["decision_reference"],
            export_key=data["export_key"],
            date_mode=data["date_mode"],
            acting_user=self.request.user,
        )

    def get_success_url(self):
        return reverse("reports:research-export")


class ResearchExportDownloadView(View):
    """The export's workbook, as a download; logged as an export."""

    def get(self, request, pk: int):
        job = research_export_get_for_user(user=request.user, pk=pk)
        return stored_file_download(
            request,
            job,
            job.file,
            filename=f"forskningsuttag-{job.ordered_at:%Y-%m-%d}-{job.pk}.xlsx",
            content_type=XLSX_CONTENT_TYPE,
        )
