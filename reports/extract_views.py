"""Views of register extracts (registerutdrag): the order page for one
person, the job's status page and its poll, and the download. Unit managers
only (``bostadforst.permissions.ACCESS_TABLE``; the selector says the same
again with a 404). The work is in ``reports.extract``."""

from __future__ import annotations

from django.http import Http404, JsonResponse
from django.urls import reverse
from django.utils.translation import gettext_lazy
from django.views import View
from django.views.generic import FormView, TemplateView

from bostadforst.exports import stored_file_download
from bostadforst.mixins import ServiceFormMixin
from bostadforst.records import record_get
from bostadforst.roles import MANAGERS, role_of
from bostadforst.scope import scope_people
from participants.selectors import participant_list

from .extract import extract_progress, register_extract_order
from .forms import RegisterExtractForm
from .models import RegisterExtract


def register_extract_get_for_user(*, user, pk: int) -> RegisterExtract:
    """One extract job for a unit manager; 404 for anyone else and for none."""
    if role_of(user) not in MANAGERS:
        raise Http404
    try:
        # Only of a person inside the user's row scope (bostadforst.scope).
        extracts = scope_people(RegisterExtract.objects.all(), person_path="participant")
        return extracts.select_related("ordered_by").get(pk=pk)
    except RegisterExtract.DoesNotExist:
        raise Http404 from None


class RegisterExtractStartView(ServiceFormMixin, FormView):
    """Order a register extract of one participant (with the period of its
    access log), and the extracts ordered of them before."""

    template_name = "reports/register_extract_start.html"
    form_class = RegisterExtractForm
    success_message = gettext_lazy("The extract is ordered. This page shows when it is ready.")

    def dispatch(self, request, *args, **kwargs):
        if request.user.is_authenticated:
            self.participant = record_get(
                request, participant_list(user=request.user), pk=kwargs["pk"]
            )
        return super().dispatch(request, *args, **kwargs)

    def get_context_data(self, **kwargs):
        kwargs["participant"] = self.participant
        kwargs["extracts"] = list(
            self.participant.register_extracts.select_related("ordered_by").order_by(
                "-ordered_at", "-pk"
            )[:20]
        )
        return super().get_context_data(**kwargs)

    def perform(self, form):
        return register_extract_order(
            participant=self.participant,
            period_from=form.cleaned_data["period_from"],
            period_to=form.cleaned_data["period_to"],
            acting_user=self.request.user,
        )

    def get_success_url(self):
        return self.object.get_absolute_url()


class RegisterExtractDetailView(TemplateView):
    """One extract job: its progress while it runs, then the download."""

    template_name = "reports/register_extract_detail.html"

    def get_context_data(self, **kwargs):
        job = register_extract_get_for_user(user=self.request.user, pk=self.kwargs["pk"])
        # The page names the person: a read of their record, logged.
        participant = record_get(
            self.request, participant_list(user=self.request.user), pk=job.participant_id
        )
        kwargs.update(job=job, participant=participant, progress=extract_progress(job))
        return super().get_context_data(**kwargs)


class RegisterExtractStatusView(View):
    """A job's state and progress as JSON, polled by static/js/job-status.js
    (nothing about the person in it)."""

    def get(self, request, pk: int):
        job = register_extract_get_for_user(user=request.user, pk=pk)
        progress = extract_progress(job)
        return JsonResponse(
            {
                "state": job.state,
                "finished": job.finished,
                "label": str(job.get_state_display()),
                "percent": progress["percent"],
                "text": progress["text"],
                "pdf_url": (
                    reverse("reports:register-extract-pdf", kwargs={"pk": job.pk})
                    if job.pdf
                    else ""
                ),
            }
        )


class RegisterExtractPdfView(View):
    """The extract's PDF, as a download; logged as an export of the person's data."""

    def get(self, request, pk: int):
        job = register_extract_get_for_user(user=request.user, pk=pk)
        return stored_file_download(
            request,
            job,
            job.pdf,
            filename=f"registerutdrag-{job.ordered_at:%Y-%m-%d}-{job.pk}.pdf",
            content_type="application/pdf",
            person_id=job.participant_id,
        )
