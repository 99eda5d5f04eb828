"""Forms of the reports app: they validate input only."""

from datetime import date

from django import forms
from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from housing.models import ContractType, Landlord, Provider
from participants.models import ReferringUnit, TargetGroupCode

from .homelessness_count import IsoWeek

MAX_MONTHS = 240


class RetentionParametersForm(forms.Form):
    """Reference date, horizon and filters: for the dashboard (GET) and orders (POST)."""

    as_of = forms.DateField(
        label=_("Reference date"),
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        error_messages={
            "required": _("Enter a reference date."),
            "invalid": _("Enter the date as YYYY-MM-DD."),
        },
    )
    months = forms.IntegerField(
        label=_("Horizon (months, 0 = none)"),
        min_value=0,
        max_value=MAX_MONTHS,
        initial=0,
        required=False,
        error_messages={
            "min_value": _("The horizon cannot be negative."),
            "max_value": _("The horizon can be at most %(limit_value)s months."),
            "invalid": _("Enter a whole number of months."),
        },
    )
    landlord = forms.ModelChoiceField(
        label=_("Landlord (first tenancy)"),
        queryset=Landlord.objects.order_by("name"),
        required=False,
        empty_label=_("All landlords"),
        error_messages={"invalid_choice": _("Choose a landlord from the list.")},
    )
    contract_type = forms.ChoiceField(
        label=_("Contract type (first tenancy)"),
        choices=[("", _("All contract types")), *ContractType.choices],
        required=False,
        error_messages={"invalid_choice": _("Choose a contract type from the list.")},
    )
    target_group = forms.ChoiceField(
        label=_("Target group"),
        choices=[("", _("All target groups")), *TargetGroupCode.choices],
        required=False,
        error_messages={"invalid_choice": _("Choose a target group from the list.")},
    )

    # The people of one referring unit or provider (``bostadforst.scope``: any
    # referral of the unit, any tenancy of the provider), applied to the whole
    # page as the row scope is; with a user's own scope, the two together.
    unit = forms.ModelChoiceField(
        label=_("Referring unit"),
        queryset=ReferringUnit.objects.order_by("name"),
        required=False,
        empty_label=_("All referring units"),
        error_messages={"invalid_choice": _("Choose a referring unit from the list.")},
    )
    provider = forms.ModelChoiceField(
        label=_("Provider"),
        queryset=Provider.objects.order_by("name"),
        required=False,
        empty_label=_("All providers"),
        error_messages={"invalid_choice": _("Choose a provider from the list.")},
    )

    def clean_as_of(self) -> date:
        value = self.cleaned_data["as_of"]
        if value > timezone.localdate():
            raise ValidationError(
                _("The reference date cannot be in the future."), code="future_date"
            )
        if value.year < 1990:
            raise ValidationError(_("The reference date is too early."), code="too_early")
        return value

    def clean_months(self) -> int:
        return self.cleaned_data.get("months") or 0

    def filters(self) -> dict:
        data = self.cleaned_data
        landlord = data.get("landlord")
        unit = data.get("unit")
        provider = data.get("provider")
        return {
            k: v
            for k, v in {
                "landlord": landlord.pk if landlord else None,
                "unit": unit.pk if unit else None,
                "provider": provider.pk if provider else None,
                "contract_type": data.get("contract_type") or None,
                "target_group": data.get("target_group") or None,
            }.items()
            if v
        }


class ReportOrderForm(RetentionParametersForm):
    title = forms.CharField(
        label=_("Heading (optional)"),
        max_length=200,
        required=False,
        error_messages={"max_length": _("At most %(limit_value)d characters.")},
    )

    field_order = [
        "as_of",
        "months",
        "landlord",
        "contract_type",
        "target_group",
        "unit",
        "provider",
        "title",
    ]


class CohortUploadForm(forms.Form):
    """The spreadsheet to import. Only its size is checked here; its format
    and every row are checked by the preview job."""

    error_messages = {
        "too_large": _("The file is larger than %(limit)s MB."),
    }

    file = forms.FileField(
        label=_("Spreadsheet (.xlsx or CSV)"),
        max_length=255,
        widget=forms.FileInput(
            attrs={
                "accept": ".xlsx,.csv,.txt,text/csv,application/vnd.openxmlformats-"
                "officedocument.spreadsheetml.sheet"
            }
        ),
        error_messages={
            "required": _("Choose a file."),
            "empty": _("The file is empty."),
            "invalid": _("No file was sent. Choose a file and try again."),
            "missing": _("No file was sent. Choose a file and try again."),
            "max_length": _("The file name is too long (at most %(max)d characters)."),
        },
    )

    def clean_file(self):
        upload = self.cleaned_data["file"]
        limit = settings.COHORT_IMPORT_MAX_BYTES
        if upload.size > limit:
            raise ValidationError(
                self.error_messages["too_large"],
                code="too_large",
                params={"limit": f"{limit / (1024 * 1024):g}"},
            )
        return upload


class CohortImportStartForm(forms.Form):
    """The confirmation that starts the import of a checked file: it carries
    nothing but its one-time submit token (the file stays on the server)."""


class RegisterExtractForm(forms.Form):
    """The period of a register extract's access log (both days included;
    empty: from the start, until today). The records are always given in full."""

    error_messages = {
        "period": _("The start of the period cannot be after its end."),
    }

    period_from = forms.DateField(
        label=_("Access log from (optional)"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        error_messages={"invalid": _("Enter the date as YYYY-MM-DD.")},
    )
    period_to = forms.DateField(
        label=_("Access log until (optional)"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        error_messages={"invalid": _("Enter the date as YYYY-MM-DD.")},
    )

    def clean(self):
        data = super().clean()
        start, end = data.get("period_from"), data.get("period_to")
        if start and end and start > end:
            raise ValidationError(self.error_messages["period"], code="period")
        return data


class HomelessnessWeekForm(forms.Form):
    """The ISO week of Socialstyrelsen's homelessness count (``2026-W14``, the
    value of a week input; ``2026-14`` is taken too, for browsers without one)."""

    week = forms.CharField(
        label=_("Week"),
        help_text=_("ISO week as YYYY-Www, for example 2023-W14."),
        max_length=20,
        widget=forms.TextInput(attrs={"type": "week"}),
        error_messages={"required": _("Choose a week.")},
    )

    error_messages = {
        "invalid": _("Enter the week as YYYY-Www, for example 2023-W14."),
        "future": _("The week has not begun yet."),
    }

    def __init__(self, *args, today: date, **kwargs):
        super().__init__(*args, **kwargs)
        self.today = today

    def clean_week(self) -> IsoWeek:
        week = IsoWeek.parse(self.cleaned_data["week"])
        if week is None:
            raise ValidationError(self.error_messages["invalid"], code="invalid")
        if week.first_day > self.today:
            raise ValidationError(self.error_messages["future"], code="future")
        return week
