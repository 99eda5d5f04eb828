"""Consent pages: the list on the participant page (a registered section),
recording a consent and withdrawing one. Thin views: one service per submit;
access by role in ``bostadforst.permissions`` (the team; social workers not).
"""

from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.views.generic import FormView, UpdateView

from bostadforst.mixins import ServiceFormMixin
from bostadforst.records import RecordMixin
from bostadforst.registry import ParticipantSection, StartPageBlock
from bostadforst.roles import TEAM, role_of

from . import consent
from .consent_forms import ConsentForm, ConsentWithdrawForm
from .views import ParticipantObjectMixin


def consent_section_context(participant, *, user) -> dict | None:
    """The consent list on the participant page (one query); not for social
    workers, who see no part of the participant's record."""
    if role_of(user) not in TEAM:
        return None
    today = timezone.localdate()
    consents = consent.consent_list(participant=participant)
    for row in consents:
        row.valid_today = row.is_valid_on(today)
    return {"participant": participant, "consents": consents, "today": today}


CONSENT_SECTION = ParticipantSection(
    key="consents",
    order=5,
    template="participants/_partials/consent_section.html",
    context=consent_section_context,
)


def expiring_consents_context(*, user) -> dict | None:
    """Consents that run out within 30 days, for the team's start page (at
    most two queries); nothing for other roles."""
    if role_of(user) not in TEAM:
        return None
    consents = consent.consents_expiring_for(user=user)
    return {"consents": consents, "days": consent.EXPIRY_NOTICE_DAYS}


EXPIRING_CONSENTS_BLOCK = StartPageBlock(
    key="expiring-consents",
    order=10,
    template="participants/_partials/expiring_consents.html",
    context=expiring_consents_context,
)


class ConsentCreateView(ServiceFormMixin, ParticipantObjectMixin, FormView):
    form_class = ConsentForm
    template_name = "participants/consent_form.html"
    success_message = _("The consent has been recorded.")

    def get_form_kwargs(self):
        kwargs = super().get_form_kwargs()
        kwargs["participant"] = self.get_object()
        return kwargs

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["participant"] = self.get_object()
        return context

    def perform(self, form):
        return consent.consent_record(
            participant=self.get_object(), acting_user=self.request.user, **form.cleaned_data
        )

    def get_success_url(self):
        return self.get_object().get_absolute_url() + "#consents"


class ConsentWithdrawView(ServiceFormMixin, RecordMixin, UpdateView):
    """Withdraw a consent, after an explicit confirmation; the row stays."""

    form_class = ConsentWithdrawForm
    template_name = "participants/consent_withdraw.html"
    context_object_name = "consent"
    success_message = _("The withdrawal of the consent has been recorded.")

    def record_queryset(self):
        return consent.consent_queryset(user=self.request.user)

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["participant"] = self.get_object().participant
        return context

    def perform(self, form):
        return consent.consent_withdraw(
            consent=form.instance,
            acting_user=self.request.user,
            withdrawn_on=form.cleaned_data["withdrawn_on"],
            note=form.cleaned_data["note"],
        )

    def get_success_url(self):
        return self.get_object().participant.get_absolute_url() + "#consents"
