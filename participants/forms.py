"""Forms: they validate input only; the rules of the workflow are in services."""

from django import forms
from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from bostadforst.roles import Role
from bostadforst.versioning import VersionedModelForm

from .eligibility import criterion_label
from .models import (
    Answer,
    Criterion,
    HousingSituation,
    NetworkContact,
    Participant,
    ParticipantStatus,
    Referral,
    ReferralEvent,
    ReferralStatus,
    ReferringUnit,
    SupportNeed,
    TemporaryArrangement,
)
from .personnummer import birth_date, normalise
from .selectors import HOUSED_WITHOUT_WORKER, WAITING_FOR_DECISION, target_groups_in_order
from .services import NETWORK_FIELDS, PARTICIPANT_FIELDS

DATE_INPUT = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


def _not_future(value, message):
    if value and value > timezone.localdate():
        raise ValidationError(message, code="future")
    return value


REGISTRATION_ERRORS = {
    "future_registration": _("The registration date cannot be in the future."),
    "before_birth": _("The registration date cannot be before the date of birth."),
}


class RegistrationDateMixin:
    """The registration date (folkbokförd sedan) is neither in the future nor
    before the birth date in the personnummer. The form's ``error_messages``
    include ``REGISTRATION_ERRORS``; its ``clean()`` calls
    ``check_registered_after_birth``."""

    def clean_registered_since(self):
        return _not_future(
            self.cleaned_data["registered_since"], self.error_messages["future_registration"]
        )

    def check_registered_after_birth(self, cleaned: dict) -> None:
        number, registered = cleaned.get("personnummer"), cleaned.get("registered_since")
        if number and registered and registered < birth_date(number):
            self.add_error(
                "registered_since",
                ValidationError(self.error_messages["before_birth"], code="before_birth"),
            )


class PersonnummerField(forms.CharField):
    """A personnummer in any accepted form, cleaned to its 12 digits."""

    def __init__(self, **kwargs):
        kwargs.setdefault("max_length", 13)
        kwargs.setdefault("label", _("Personal identity number"))
        kwargs.setdefault(
            "help_text",
            _("YYYYMMDD-NNNN or YYMMDD-NNNN; a co-ordination number (day + 60) also works."),
        )
        super().__init__(**kwargs)
        self.widget.attrs.update({"autocomplete": "off", "spellcheck": "false"})

    def clean(self, value):
        value = super().clean(value)
        if value in self.empty_values:
            return value
        return normalise(value)


class ReferralCreateForm(RegistrationDateMixin, forms.Form):
    """The social worker's referral (remiss): the applicant and the situation."""

    error_messages = {
        **REGISTRATION_ERRORS,
        "future_referral": _("The referral date cannot be in the future."),
        "future_situation": _("The date cannot be in the future."),
        "situation_after_referral": _("The date cannot be after the referral date."),
        "arrangement_required": _(
            "Choose the kind of arrangement for situation 4 (short-term own arrangement)."
        ),
        "arrangement_not_applicable": _(
            "The kind of arrangement applies only to situation 4 (short-term own arrangement)."
        ),
    }

    personnummer = PersonnummerField()
    first_name = forms.CharField(label=_("First name"), max_length=100)
    last_name = forms.CharField(label=_("Last name"), max_length=100)
    phone = forms.CharField(label=_("Phone"), max_length=30, required=False)
    email = forms.EmailField(label=_("E-mail"), required=False)
    postal_address = forms.CharField(label=_("Postal address"), max_length=200, required=False)
    registered_since = forms.DateField(
        label=_("Registered in the municipality since"),
        required=False,
        widget=DATE_INPUT,
        help_text=_("Date of registration (folkbokföring) in the municipality, if known."),
    )
    children_in_household = forms.IntegerField(
        label=_("Children in the household"), min_value=0, max_value=20, initial=0
    )
    referral_date = forms.DateField(label=_("Referral date"), widget=DATE_INPUT)
    referring_unit = forms.ModelChoiceField(
        label=_("Referring unit"),
        queryset=ReferringUnit.objects.filter(active=True),
        required=False,
        help_text=_(
            "The unit you refer from: a city district or a municipality in a joint programme."
        ),
    )
    housing_situation = forms.ChoiceField(
        label=_("Current housing situation"),
        choices=HousingSituation.choices,
        widget=forms.RadioSelect,
        help_text=_("Socialstyrelsen's four situations of homelessness."),
    )
    temporary_arrangement = forms.ChoiceField(
        label=_("Kind of temporary arrangement"),
        choices=[("", "---------"), *TemporaryArrangement.choices],
        required=False,
        help_text=_(
            "Only for situation 4. Staying with friends counts as homelessness for at most "
            "three months; a second-hand sublet or lodging with relatives does not count."
        ),
    )
    situation_since = forms.DateField(
        label=_("In this situation since"), required=False, widget=DATE_INPUT
    )
    support_need = forms.ChoiceField(
        label=_("Support need"), choices=SupportNeed.choices, widget=forms.RadioSelect
    )
    description = forms.CharField(
        label=_("Description"),
        max_length=5000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 5}),
        help_text=_(
            "The applicant's situation and wishes, and why Housing First is suggested "
            "(at most 5000 characters)."
        ),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["referral_date"].initial = timezone.localdate()

    def clean_referral_date(self):
        return _not_future(
            self.cleaned_data["referral_date"], self.error_messages["future_referral"]
        )

    def clean_situation_since(self):
        return _not_future(
            self.cleaned_data["situation_since"], self.error_messages["future_situation"]
        )

    def clean(self):
        cleaned = super().clean()
        self.check_registered_after_birth(cleaned)
        since, referred = cleaned.get("situation_since"), cleaned.get("referral_date")
        if since and referred and since > referred:
            self.add_error(
                "situation_since",
                ValidationError(
                    self.error_messages["situation_after_referral"],
                    code="situation_after_referral",
                ),
            )
        situation = cleaned.get("housing_situation")
        arrangement = cleaned.get("temporary_arrangement")
        if situation == HousingSituation.SHORT_TERM_OWN and not arrangement:
            self.add_error(
                "temporary_arrangement",
                ValidationError(
                    self.error_messages["arrangement_required"], code="arrangement_required"
                ),
            )
        elif situation and situation != HousingSituation.SHORT_TERM_OWN and arrangement:
            self.add_error(
                "temporary_arrangement",
                ValidationError(
                    self.error_messages["arrangement_not_applicable"],
                    code="arrangement_not_applicable",
                ),
            )
        return cleaned


class InformationForm(forms.Form):
    note = forms.CharField(
        label=_("Information"),
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("At most 5000 characters."),
    )


class LogEntryForm(forms.Form):
    """An interview booked or held, or a reference contacted."""

    error_messages = {"future": _("Only a booked interview can have a date in the future.")}

    kind = forms.ChoiceField(
        label=_("Kind of entry"),
        choices=[
            (ReferralEvent.Kind.INTERVIEW_BOOKED, ReferralEvent.Kind.INTERVIEW_BOOKED.label),
            (ReferralEvent.Kind.INTERVIEW_HELD, ReferralEvent.Kind.INTERVIEW_HELD.label),
            (
                ReferralEvent.Kind.REFERENCE_CONTACTED,
                ReferralEvent.Kind.REFERENCE_CONTACTED.label,
            ),
        ],
    )
    occurred_on = forms.DateField(label=_("Date"), widget=DATE_INPUT)
    note = forms.CharField(
        label=_("Note"),
        max_length=5000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Who was contacted and what came out of it. At most 5000 characters."),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["occurred_on"].initial = timezone.localdate()

    def clean(self):
        cleaned = super().clean()
        when, kind = cleaned.get("occurred_on"), cleaned.get("kind")
        future = when and when > timezone.localdate()
        if future and kind and kind != ReferralEvent.Kind.INTERVIEW_BOOKED:
            self.add_error(
                "occurred_on", ValidationError(self.error_messages["future"], code="future")
            )
        return cleaned


class AssessmentForm(forms.Form):
    """The six criteria at once: an answer and a note for each, and the
    version each criterion's row had when the page was opened (0: not yet
    assessed), so a save over someone else's answer is refused."""

    def __init__(self, *args, referral, existing: dict, suggestions: dict, **kwargs):
        super().__init__(*args, **kwargs)
        self.referral = referral
        for criterion in Criterion:
            row = existing.get(criterion.value)
            suggestion = suggestions.get(criterion.value)
            # A suggestion is shown beside the question, never pre-answered:
            # the assessor's own answer decides (issue 17).
            initial = row.answer if row else Answer.UNKNOWN
            help_text = ""
            if suggestion:
                help_text = _("Suggested from the recorded data: %(answer)s. %(reason)s") % {
                    "answer": Answer(suggestion.answer).label,
                    "reason": suggestion.reason,
                }
            # The criterion itself is the fieldset's legend in the template.
            self.fields[f"answer_{criterion.value}"] = forms.ChoiceField(
                label=_("Your assessment"),
                choices=Answer.choices,
                initial=initial,
                widget=forms.RadioSelect,
                help_text=help_text,
            )
            self.fields[f"note_{criterion.value}"] = forms.CharField(
                label=_("Note"),
                max_length=2000,
                required=False,
                initial=row.note if row else "",
                widget=forms.Textarea(attrs={"rows": 2}),
            )
            self.fields[f"version_{criterion.value}"] = forms.IntegerField(
                widget=forms.HiddenInput,
                min_value=0,
                max_value=2**31 - 1,
                initial=row.version if row else 0,
            )

    def answers(self) -> dict[str, tuple[str, str]]:
        return {
            c: (self.cleaned_data[f"answer_{c}"], self.cleaned_data[f"note_{c}"])
            for c in Criterion.values
        }

    def versions(self) -> dict[str, int]:
        return {c: self.cleaned_data[f"version_{c}"] for c in Criterion.values}

    def take_current_version(self) -> None:
        """After a refused save: criteria someone else saved since the page
        was opened show what is stored now (and its version); the user's other
        answers stay as typed, so saving again keeps both."""
        self.data = self.data.copy()
        for row in self.referral.assessments.all():
            c = row.criterion
            if str(self.data.get(f"version_{c}")) != str(row.version):
                self.data[f"answer_{c}"] = row.answer
                self.data[f"note_{c}"] = row.note
                self.data[f"version_{c}"] = row.version

    def criterion_rows(self):
        years = settings.RESIDENCE_YEARS_REQUIRED
        return [
            (criterion_label(c, years=years), self[f"answer_{c.value}"], self[f"note_{c.value}"])
            for c in Criterion
        ]


class ReferralVersionForm(VersionedModelForm):
    """A status change on a referral: carries the version it was read at."""

    class Meta:
        model = Referral
        fields: list[str] = []


class ReferralWithdrawForm(VersionedModelForm):
    reason = forms.CharField(
        label=_("Reason"),
        max_length=2000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
    )

    class Meta:
        model = Referral
        fields: list[str] = []


class ReferralDecisionForm(VersionedModelForm):
    """The unit manager's decision."""

    APPROVE, DECLINE = "approve", "decline"
    field_order = ["decision", "decline_reason", "override_justification"]

    error_messages = {
        "reason_required": _("Write the reason for declining."),
    }

    decision = forms.ChoiceField(
        label=_("Decision"),
        choices=[(APPROVE, _("Approve")), (DECLINE, _("Decline"))],
        widget=forms.RadioSelect,
    )

    class Meta:
        model = Referral
        fields = ["decline_reason", "override_justification"]
        widgets = {
            "decline_reason": forms.Textarea(attrs={"rows": 3}),
            "override_justification": forms.Textarea(attrs={"rows": 3}),
        }
        help_texts = {
            "decline_reason": _("Required when declining; the social worker sees it."),
            "override_justification": _(
                "Required to approve when not all six criteria are met: it is stored and shown "
                "with the decision."
            ),
        }

    def clean(self):
        cleaned = super().clean()
        if (
            cleaned.get("decision") == self.DECLINE
            and not (cleaned.get("decline_reason") or "").strip()
        ):
            self.add_error(
                "decline_reason",
                ValidationError(self.error_messages["reason_required"], code="reason_required"),
            )
        return cleaned


class ParticipantForm(RegistrationDateMixin, VersionedModelForm):
    error_messages = REGISTRATION_ERRORS

    personnummer = PersonnummerField(required=False)
    children_in_household = forms.IntegerField(
        label=_("Children in the household"), min_value=0, max_value=20
    )

    class Meta:
        model = Participant
        fields = [*PARTICIPANT_FIELDS, "target_groups"]
        widgets = {
            "registered_since": DATE_INPUT,
            "target_groups": forms.CheckboxSelectMultiple,
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        from bostadforst.models import User

        self.fields["support_worker"].queryset = User.objects.filter(
            groups__name=Role.SUPPORT_STAFF.value, is_active=True
        ).order_by("first_name", "last_name")
        self.fields["target_groups"].queryset = target_groups_in_order()

    def clean_personnummer(self):
        return self.cleaned_data["personnummer"] or None

    def clean(self):
        cleaned = super().clean()
        self.check_registered_after_birth(cleaned)
        return cleaned


class NetworkContactForm(VersionedModelForm):
    class Meta:
        model = NetworkContact
        fields = list(NETWORK_FIELDS)
        widgets = {"note": forms.Textarea(attrs={"rows": 3})}
        help_texts = {
            "consent_to_contact": _(
                "The participant has agreed that the team may contact this person."
            ),
        }


class SearchForm(forms.Form):
    """Search by name or personnummer: always POSTed, never in a URL."""

    q = forms.CharField(
        label=_("Search by name or personal identity number"),
        max_length=100,
        required=False,
        widget=forms.TextInput(attrs={"autocomplete": "off", "type": "search"}),
    )
    page = forms.IntegerField(min_value=1, max_value=100000, required=False)


class ReferralFilterForm(forms.Form):
    status = forms.ChoiceField(
        label=_("Status"),
        choices=[
            ("", _("All")),
            (WAITING_FOR_DECISION, _("Waiting for a decision")),
            *ReferralStatus.choices,
        ],
        required=False,
        widget=forms.Select(attrs={"class": "form-select"}),
    )


class ParticipantFilterForm(forms.Form):
    status = forms.ChoiceField(
        label=_("Status"),
        choices=[
            ("", _("All")),
            *ParticipantStatus.choices,
            (HOUSED_WITHOUT_WORKER, _("Housed, no support worker")),
        ],
        required=False,
        widget=forms.Select(attrs={"class": "form-select"}),
    )
