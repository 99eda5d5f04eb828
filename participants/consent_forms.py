"""Forms for consent: they check the input; the rules of a consent (one
recipient, dates in order) are ``Consent.clean``, which the service runs and
whose messages the form shows."""

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from bostadforst.versioning import VersionedModelForm

from .models import Consent, ConsentGivenAs, ConsentPurpose, ConsentRecipientKind

DATE_INPUT = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


class ConsentForm(forms.Form):
    """A consent the person gave: purpose, recipient, how and when."""

    purpose = forms.ChoiceField(label=_("Purpose"), choices=ConsentPurpose.choices)
    purpose_detail = forms.CharField(
        label=_("What the consent covers"),
        max_length=2000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Required for the purpose “Other”. At most 2000 characters."),
    )
    recipient_contact = forms.ModelChoiceField(
        label=_("Network contact"),
        queryset=None,
        required=False,
        empty_label=_("– An organisation (below) –"),
        help_text=_("The person or organisation the consent names, if recorded as a contact."),
    )
    recipient_kind = forms.ChoiceField(
        label=_("Kind of organisation"),
        choices=[("", "---------"), *ConsentRecipientKind.choices],
        required=False,
        help_text=_("When the recipient is not one of the network contacts."),
    )
    recipient_name = forms.CharField(
        label=_("Name of the organisation"),
        max_length=200,
        required=False,
        help_text=_("For example “Psykiatrimottagning Nordväst”."),
    )
    given_as = forms.ChoiceField(
        label=_("Given"), choices=ConsentGivenAs.choices, widget=forms.RadioSelect
    )
    given_on = forms.DateField(label=_("Given on"), widget=DATE_INPUT)
    expires_on = forms.DateField(
        label=_("Valid until"),
        required=False,
        widget=DATE_INPUT,
        help_text=_("The last day the consent holds. Leave empty if it holds until withdrawn."),
    )

    def __init__(self, *args, participant, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["recipient_contact"].queryset = participant.network_contacts.order_by(
            "name", "pk"
        )
        self.fields["given_on"].initial = timezone.localdate()


class ConsentWithdrawForm(VersionedModelForm):
    """The withdrawal of a consent: the day, a note and an explicit
    confirmation. Carries the version the consent was read at."""

    withdrawn_on = forms.DateField(label=_("Withdrawn on"), widget=DATE_INPUT)
    note = forms.CharField(
        label=_("Note"),
        max_length=2000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("How the person withdrew the consent. At most 2000 characters."),
    )
    confirm = forms.BooleanField(
        label=_("I confirm that the person has withdrawn this consent."),
        error_messages={"required": _("Confirm the withdrawal to record it.")},
    )

    class Meta:
        model = Consent
        fields: list[str] = []

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["withdrawn_on"].initial = timezone.localdate()
