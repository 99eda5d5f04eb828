"""Outcome follow-ups on the participant page (a registered section) and the
form that records one. Thin views: one service per submit; the team only."""

from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.views.generic import FormView

from bostadforst.mixins import ServiceFormMixin
from bostadforst.registry import ParticipantSection
from bostadforst.roles import TEAM, role_of
from participants.views import ParticipantObjectMixin

from . import outcomes
from .outcome_forms import OutcomeFollowUpForm


def outcome_section_context(participant, *, user) -> dict | None:
    """The follow-ups and the next point (two queries); the team only."""
    if role_of(user) not in TEAM:
        return None
    follow_ups = outcomes.follow_up_list(participant=participant)
    moved_in = outcomes.first_move_in(participant)
    return {
        "participant": participant,
        "follow_ups": follow_ups,
        "next": outcomes.next_point(
            first_move_in=moved_in,
            points_done=[f.point_months for f in follow_ups],
            today=timezone.localdate(),
        ),
    }


OUTCOME_SECTION = ParticipantSection(
    key="outcomes",
    order=35,
    template="support/_partials/outcome_section.html",
    context=outcome_section_context,
)


class OutcomeFollowUpCreateView(ServiceFormMixin, ParticipantObjectMixin, FormView):
    form_class = OutcomeFollowUpForm
    template_name = "support/outcome_follow_up_form.html"
    success_message = _("The follow-up has been recorded.")

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["participant"] = self.get_object()
        return context

    def perform(self, form):
        return outcomes.follow_up_record(
            participant=self.get_object(), acting_user=self.request.user, **form.cleaned_data
        )

    def get_success_url(self):
        return self.get_object().get_absolute_url() + "#outcomes"
