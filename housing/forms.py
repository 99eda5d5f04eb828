"""Forms of the housing app: they validate input only; rules that involve
other rows (no double letting, who may get an apartment) are the model's and
the services'."""

from decimal import Decimal

from crispy_forms.helper import FormHelper
from crispy_forms.layout import Submit
from django import forms
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from bostadforst.identity import hidden_ids
from bostadforst.versioning import VersionedModelForm

from .models import Apartment, ContractType, ExitReason, Provider, Tenancy, TenancyIncident
from .selectors import support_worker_default, support_worker_default_for

# A Housing First apartment's monthly rent: below this it is a typing error
# (a missing digit), above it no social-services budget would pay it.
RENT_MIN = Decimal("500")
RENT_MAX = Decimal("30000")


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, **kwargs):
        super().__init__(format="%Y-%m-%d", **kwargs)


def _helper(label) -> FormHelper:
    helper = FormHelper()
    helper.form_tag = True
    helper.add_input(Submit("submit", label))
    return helper


class ServiceModelForm(VersionedModelForm):
    """A ModelForm whose model validation runs in the service.

    The service sets the cleaned values on the instance and calls
    ``full_clean()`` inside its transaction, so the rules run once, with the
    model's messages, against the rows as they are when the change commits.
    """

    def _post_clean(self):
        pass


class ApartmentForm(ServiceModelForm):
    error_messages = {
        "rent_negative": _("The rent cannot be negative."),
        "rent_too_low": _("A monthly rent below %(min)s SEK is not plausible. Check the amount."),
        "rent_too_high": _("A monthly rent above %(max)s SEK is not plausible. Check the amount."),
    }

    class Meta:
        model = Apartment
        fields = [
            "landlord",
            "address",
            "postal_code",
            "city",
            "rooms",
            "size_sqm",
            "monthly_rent",
            "status",
        ]

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.helper = _helper(_("Save"))

    def clean_monthly_rent(self):
        rent = self.cleaned_data.get("monthly_rent")
        if rent is None:
            return rent
        if rent < 0:
            raise forms.ValidationError(self.error_messages["rent_negative"], code="rent_negative")
        if rent < RENT_MIN:
            raise forms.ValidationError(
                self.error_messages["rent_too_low"], code="rent_too_low", params={"min": RENT_MIN}
            )
        if rent > RENT_MAX:
            raise forms.ValidationError(
                self.error_messages["rent_too_high"], code="rent_too_high", params={"max": RENT_MAX}
            )
        return rent


# A search box above a long pick list (``static/js/pick_lists.js``).
FILTER_ATTRS = {
    "data-filter": "",
    "data-filter-label": _("Search the list"),
    "data-filter-count": _("Matches: %s"),
}


class ParticipantSelect(forms.Select):
    """The letting form's participant list: each option carries the support
    worker a letting to that person starts from (``data-worker``), which
    ``static/js/letting.js`` puts in the support-worker list when the person
    is chosen. Without JavaScript the empty choice stands for the same."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.workers: dict[int, int] = {}

    def create_option(self, name, value, label, selected, index, subindex=None, attrs=None):
        option = super().create_option(name, value, label, selected, index, subindex, attrs)
        worker = self.workers.get(value)
        if worker is not None:
            option["attrs"]["data-worker"] = str(worker)
        return option


class TenancyAssignForm(forms.Form):
    """Let an apartment to a participant. Choices are limited by the view
    (participants who may be housed, apartments in use); the service checks
    again inside the transaction."""

    participant = forms.ModelChoiceField(
        label=_("Participant"), queryset=None, widget=ParticipantSelect
    )
    apartment = forms.ModelChoiceField(label=_("Apartment"), queryset=None)
    contract_type = forms.ChoiceField(
        label=_("Contract type"), choices=ContractType.choices, widget=forms.RadioSelect
    )
    provider = forms.ModelChoiceField(
        label=_("Provider"),
        queryset=Provider.objects.filter(active=True),
        required=False,
        help_text=_(
            "The organisation that runs the tenant's support: the municipality's own team "
            "or an IOP partner."
        ),
    )
    move_in = forms.DateField(label=_("Move-in date"), widget=DateInput())
    vacant_label = _("Vacant apartments")
    let_label = _("Let now (for a move-in after the current tenant)")

    support_worker = forms.ModelChoiceField(
        label=_("Support worker"),
        queryset=None,
        required=False,
        empty_label=_("Whoever assessed the person"),
        help_text=_(
            "Becomes the tenant's support worker. Left as it is: the person's support "
            "worker, or else whoever assessed their eligibility."
        ),
    )
    note = forms.CharField(
        label=_("Note"), required=False, max_length=2000, widget=forms.Textarea(attrs={"rows": 3})
    )

    error_messages = {
        "support_worker_required": _(
            "Choose the support worker: nobody who assessed this person is an active "
            "support worker."
        ),
    }

    def __init__(
        self, *args, participants, offered_participants, apartments, staff, **kwargs
    ) -> None:
        """``participants``: everyone the user may pick (validated against);
        ``offered_participants``: those listed, the ones who may get an
        apartment. Anyone else is refused by the service with a message that
        says why, rather than "not a valid choice". ``staff``: the support
        workers a tenant can be given."""
        super().__init__(*args, **kwargs)
        worker = self.fields["support_worker"]
        worker.queryset = staff
        staff_list = list(staff)
        worker.choices = [("", worker.empty_label), *((u.pk, str(u)) for u in staff_list)]
        staff_ids = {u.pk for u in staff_list}
        field = self.fields["participant"]
        field.queryset = participants
        # Grouped: those approved and waiting first, then tenants moving on to
        # another apartment.
        groups: dict[str, list] = {}
        hidden = hidden_ids("person")
        for p in offered_participants:
            groups.setdefault(p.get_status_display(), []).append((p.pk, str(p)))
            default = support_worker_default(
                current_id=p.support_worker_id,
                assessor_id=getattr(p, "last_assessor_id", None),
                staff_ids=staff_ids,
            )
            # Who supports a protected person is not told beside their alias.
            if default is not None and p.pk not in hidden:
                field.widget.workers[p.pk] = default
        field.widget.choices = [("", "---------"), *groups.items()]
        field.widget.attrs.update(FILTER_ATTRS)
        worker.widget.attrs["data-default-from"] = "id_participant"
        apartment = self.fields["apartment"]
        apartment.queryset = apartments
        vacant, let = [], []
        for a in apartments:
            (let if getattr(a, "is_let", False) else vacant).append((a.pk, str(a)))
        apartment.widget.choices = [("", "---------")] + [
            (label, options)
            for label, options in ((self.vacant_label, vacant), (self.let_label, let))
            if options
        ]
        self.helper = _helper(_("Let the apartment"))

    def clean(self):
        cleaned = super().clean()
        participant = cleaned.get("participant")
        if participant is not None and cleaned.get("support_worker") is None:
            cleaned["support_worker"] = support_worker_default_for(participant=participant)
            if cleaned["support_worker"] is None:
                self.add_error(
                    "support_worker",
                    forms.ValidationError(
                        self.error_messages["support_worker_required"],
                        code="support_worker_required",
                    ),
                )
        return cleaned


class TenancyTakeoverForm(ServiceModelForm):
    """Record the takeover date, or correct one already recorded.

    A correction may also remove the date (the tenant never took the contract
    over) and needs a short reason, which the change history keeps.
    """

    reason = forms.CharField(
        label=_("Why is the date corrected?"),
        max_length=100,
        help_text=_("For example: the wrong date was typed, or the takeover never happened."),
    )

    class Meta:
        model = Tenancy
        fields = ["takeover"]
        labels = {"takeover": _("Date the tenant took over the contract")}
        widgets = {"takeover": DateInput()}

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.correcting = self.instance.takeover is not None
        if self.correcting:
            self.fields["takeover"].required = False
            self.fields["takeover"].label = _("Correct takeover date")
            self.fields["takeover"].help_text = _(
                "Leave empty if the tenant never took over the contract."
            )
            self.helper = _helper(_("Save the correction"))
        else:
            self.fields["takeover"].required = True
            del self.fields["reason"]
            self.helper = _helper(_("Record takeover"))


class TenancyProviderForm(ServiceModelForm):
    """Who runs the tenant's support: the active providers, and the current
    one even if it has since been made inactive."""

    class Meta:
        model = Tenancy
        fields = ["provider"]
        help_texts = {
            "provider": _(
                "The organisation that runs the tenant's support: the municipality's own team "
                "or an IOP partner."
            )
        }

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        current = self.instance.provider_id
        field = self.fields["provider"]
        field.label = _("Provider")
        field.queryset = Provider.objects.filter(Q(active=True) | Q(pk=current))
        self.helper = _helper(_("Save"))


class TenancyEndForm(ServiceModelForm):
    close_case = forms.BooleanField(
        label=_("Close the case: the person leaves Bostad först"),
        required=False,
        initial=True,
        help_text=_(
            "Untick when the team goes on supporting the person, for example while a new "
            "apartment is found. A move to another Housing First apartment never closes "
            "the case. Culling of closed cases counts from the move-out date."
        ),
    )

    class Meta:
        model = Tenancy
        fields = ["move_out", "exit_reason", "note"]
        labels = {"move_out": _("Move-out date (the first day the apartment is free)")}
        widgets = {"move_out": DateInput(), "note": forms.Textarea(attrs={"rows": 3})}

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["move_out"].required = True
        self.fields["exit_reason"].required = True
        self.fields["exit_reason"].choices = [("", "---------"), *ExitReason.choices]
        self.order_fields(["move_out", "exit_reason", "note", "close_case"])
        self.helper = _helper(_("End the tenancy"))


class IncidentForm(ServiceModelForm):
    class Meta:
        model = TenancyIncident
        fields = ["kind", "occurred_on", "amount", "description", "resolved_on", "resolution"]
        widgets = {
            "occurred_on": DateInput(),
            "resolved_on": DateInput(),
            "description": forms.Textarea(attrs={"rows": 4}),
            "resolution": forms.Textarea(attrs={"rows": 3}),
        }
        help_texts = {
            "amount": _("For rent arrears: the amount owed."),
            "resolved_on": _("Leave empty while the incident is open."),
        }

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.helper = _helper(_("Save"))
