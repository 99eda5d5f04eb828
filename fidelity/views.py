"""The fidelity self-assessment's pages: list with results over time, the
form, one assessment and its PDF."""

from django.http import HttpResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.views.generic import DetailView, FormView, TemplateView

from bostadforst.mixins import ServiceFormMixin
from bostadforst.records import RecordMixin, record_exported

from . import results, selectors, services
from .forms import AssessmentForm


class AssessmentListView(TemplateView):
    """Every assessment the user may see, with its results, and the charts
    over time. Not paged: a team assesses itself once or twice a year."""

    template_name = "fidelity/assessment_list.html"

    def get_context_data(self, **kwargs):
        domains = selectors.domain_list()
        rows = results.results(selectors.assessment_list(user=self.request.user), domains)
        return super().get_context_data(
            rows=rows,
            domains=domains,
            charts=results.charts_over_time(rows, domains) if rows else [],
            **kwargs,
        )


class AssessmentCreateView(ServiceFormMixin, FormView):
    form_class = AssessmentForm
    template_name = "fidelity/assessment_form.html"
    success_message = _("The fidelity assessment was saved.")

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "items": list(selectors.active_items())}

    def perform(self, form):
        data = form.cleaned_data
        return services.assessment_create(
            date=data["date"],
            staff=data["staff"],
            external_count=data.get("external_count") or 0,
            external_description=data.get("external_description", ""),
            scores=form.scores(),
            acting_user=self.request.user,
        )

    def get_success_url(self):
        return reverse("fidelity:assessment-detail", kwargs={"pk": self.object.pk})


class _AssessmentMixin(RecordMixin):
    def record_queryset(self):
        return selectors.assessment_with_scores(user=self.request.user)

    def row(self):
        return results.results([self.get_object()], selectors.domain_list())[0]


class AssessmentDetailView(_AssessmentMixin, DetailView):
    template_name = "fidelity/assessment_detail.html"
    context_object_name = "assessment"

    def get_context_data(self, **kwargs):
        row = self.row()
        return super().get_context_data(
            row=row, chart=results.single_chart(row), domain_scores=_scores(row), **kwargs
        )


class AssessmentPdfView(_AssessmentMixin, DetailView):
    def get(self, request, *args, **kwargs):
        assessment = self.get_object()
        record_exported(request, assessment)
        row = self.row()
        # Imported here: loading WeasyPrint is slow, and only this page needs it.
        from .pdf import render_assessment_pdf

        pdf = render_assessment_pdf(
            {
                "assessment": assessment,
                "row": row,
                "chart": results.single_chart(row),
                "domain_scores": _scores(row),
                "printed_on": timezone.localdate(),
            }
        )
        response = HttpResponse(pdf, content_type="application/pdf")
        response["Content-Disposition"] = (
            f'inline; filename="trohetsskattning-{assessment.date:%Y-%m-%d}.pdf"'
        )
        return response


def _scores(row):
    """(domain result, [scores of that domain]) per domain, for the item table."""
    by_domain: dict[int, list] = {}
    for score in row.assessment.scores.all():
        by_domain.setdefault(score.item.domain_id, []).append(score)
    return [(d, by_domain.get(d.domain.pk, [])) for d in row.result.domains]
