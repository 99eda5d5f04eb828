"""Forms of the cross-cutting pages (the access-log review)."""

from django import forms
from django.utils.translation import gettext_lazy as _

from .models import AccessLogEntry, User
from .widgets import LongSelect


class AccessLogFilterForm(forms.Form):
    """Filters of the log review; every field is optional."""

    user = forms.ModelChoiceField(
        label=_("User"),
        queryset=User.objects.order_by("username"),
        required=False,
        empty_label=_("All users"),
        widget=LongSelect,
    )
    person = forms.IntegerField(
        label=_("Person id"),
        required=False,
        min_value=1,
        max_value=2**63 - 1,
    )
    date_from = forms.DateField(
        label=_("From"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    date_to = forms.DateField(
        label=_("To"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    action = forms.ChoiceField(
        label=_("Action"),
        required=False,
        choices=[("", _("All actions")), *AccessLogEntry.Action.choices],
    )

    error_messages = {"order": _("The end date is before the start date.")}

    def clean(self):
        cleaned = super().clean()
        start, end = cleaned.get("date_from"), cleaned.get("date_to")
        if start and end and end < start:
            raise forms.ValidationError(self.error_messages["order"], code="order")
        return cleaned
