"""The outcome follow-up form: radio groups (each a fieldset with its
legend), the date and the person's own rating. The point is derived by the
service (``support.outcomes.follow_up_record``)."""

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from housing.models import ContractType

from .models import CareContact, IncomeSource, Occupation

DATE_INPUT = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
RATINGS = [(n, str(n)) for n in range(1, 11)]


class OutcomeFollowUpForm(forms.Form):
    date = forms.DateField(
        label=_("Date of the follow-up"),
        widget=DATE_INPUT,
        help_text=_("The point (at move-in, 6, 12 … months) follows from the date."),
    )
    occupation = forms.ChoiceField(
        label=_("Occupation"), choices=Occupation.choices, widget=forms.RadioSelect
    )
    income_source = forms.ChoiceField(
        label=_("Main income source"), choices=IncomeSource.choices, widget=forms.RadioSelect
    )
    addiction_care = forms.ChoiceField(
        label=_("Contact with addiction care"),
        choices=CareContact.choices,
        widget=forms.RadioSelect,
    )
    psychiatric_care = forms.ChoiceField(
        label=_("Contact with psychiatric care"),
        choices=CareContact.choices,
        widget=forms.RadioSelect,
    )
    quality_of_life = forms.TypedChoiceField(
        label=_("Quality of life, the person's own rating (1–10)"),
        choices=RATINGS,
        coerce=int,
        empty_value=None,
        required=False,
        widget=forms.RadioSelect,
        help_text=_("1 is the worst and 10 the best. Leave empty if the person did not answer."),
    )
    own_words = forms.CharField(
        label=_("In the person's own words (optional)"),
        max_length=300,
        required=False,
        help_text=_("At most 300 characters. Shown on this page only, never exported."),
    )
    contract_form = forms.ChoiceField(
        label=_("Contract form"),
        choices=[("", _("No contract")), *ContractType.choices],
        required=False,
        widget=forms.RadioSelect,
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["date"].initial = timezone.localdate()
