"""The unit manager's pages to restrict a person's processing while a request
for correction is looked into (GDPR art. 18), and to lift the restriction.

Only unit managers reach them (``bostadforst.permissions``); the services
check the role again. The rules are in ``participants.restriction``.
"""

from django import forms
from django.utils.translation import gettext_lazy as _
from django.views.generic import FormView

from bostadforst.mixins import ServiceFormMixin

from . import restriction
from .views import ParticipantObjectMixin


class RestrictForm(forms.Form):
    reason = forms.CharField(
        label=_("Reason (what the person says is wrong, and the request)"),
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 4}),
        error_messages={"required": restriction.ERRORS["reason_required"]},
        help_text=_("Shown in the banner on every page of the person, and kept in the history."),
    )


class LiftForm(forms.Form):
    outcome = forms.CharField(
        label=_("Outcome of the investigation"),
        max_length=100,
        error_messages={"required": _("Write what the investigation found.")},
        help_text=_("At most 100 characters, kept in the history (e.g. “Address corrected”)."),
    )


class _RestrictionView(ServiceFormMixin, ParticipantObjectMixin, FormView):
    template_name = "participants/restriction_form.html"
    title = ""
    submit_label = ""

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context.update(
            participant=self.get_object(), title=self.title, submit_label=self.submit_label
        )
        return context

    def get_success_url(self):
        return self.get_object().get_absolute_url()


class ProcessingRestrictView(_RestrictionView):
    form_class = RestrictForm
    title = _("Restrict processing: correction under investigation")
    submit_label = _("Restrict processing")
    success_message = _(
        "The processing is restricted. Nothing but the correction can be saved until you lift it."
    )

    def perform(self, form):
        return restriction.processing_restrict(
            participant=self.get_object(),
            reason=form.cleaned_data["reason"],
            acting_user=self.request.user,
        )


class ProcessingRestrictionLiftView(_RestrictionView):
    form_class = LiftForm
    title = _("Lift the restriction of processing")
    submit_label = _("Lift the restriction")
    success_message = _("The restriction has been lifted.")

    def perform(self, form):
        return restriction.processing_restriction_lift(
            participant=self.get_object(),
            outcome=form.cleaned_data["outcome"],
            acting_user=self.request.user,
        )
