"""The unit manager's page for a person's protected identity (unit managers
only: ``bostadforst.permissions.ACCESS_TABLE``; the service checks again)."""

from django.utils.translation import gettext_lazy as _
from django.views.generic import UpdateView

from bostadforst.mixins import ServiceFormMixin
from bostadforst.records import RecordMixin

from . import selectors
from .protection import ERRORS, participant_set_protection, protection_history
from .protection_forms import ProtectionForm


class ParticipantProtectionView(ServiceFormMixin, RecordMixin, UpdateView):
    """Grade, access list and reason, with the history of earlier decisions."""

    form_class = ProtectionForm
    template_name = "participants/participant_protection.html"
    context_object_name = "participant"
    success_message = _("The protected identity has been saved.")

    def record_queryset(self):
        return selectors.participant_list(user=self.request.user)

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["history"] = protection_history(self.object)
        return context

    def perform(self, form):
        data = form.cleaned_data
        read_version = form.instance.version
        participant = participant_set_protection(
            form.instance,
            protection=data["protection"],
            staff=data["staff"],
            reason=data["reason"],
            acting_user=self.request.user,
        )
        if participant.version == read_version:  # the service saved nothing
            self.success_message = ERRORS["unchanged"]
        return participant

    def get_success_url(self):
        return self.object.get_absolute_url()
