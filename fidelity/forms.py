"""The assessment form: one radio group per active item, grouped by domain."""

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from support.forms import DateInput
from support.selectors import team_members

from .models import Assessment, Item


class AssessmentForm(forms.Form):
    """Date, who took part, and a score (with an optional comment) per item.

    ``items`` are the active items, in order; each gives the fields
    ``item_<pk>`` (a required radio group on the item's scale) and
    ``comment_<pk>``. ``domains()`` yields them grouped for the template,
    which puts each domain in a fieldset with its name as legend.
    """

    error_messages = {
        "required_score": _("Choose a score for this item."),
    }

    date = forms.DateField(label=_("Date of the assessment"), widget=DateInput())
    staff = forms.ModelMultipleChoiceField(
        label=_("Staff who took part"),
        queryset=None,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    external_count = forms.IntegerField(
        label=_("Number of others who took part"),
        min_value=0,
        max_value=99,
        required=False,
        initial=0,
    )
    external_description = forms.CharField(
        label=_("Who the others were"),
        max_length=300,
        required=False,
        help_text=Assessment._meta.get_field("external_description").help_text,
    )

    def __init__(self, *args, items: list[Item], **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.items = items
        self.fields["staff"].queryset = team_members()
        self.fields["staff"].label_from_instance = lambda u: u.get_full_name() or u.get_username()
        if not self.is_bound:
            self.initial.setdefault("date", timezone.localdate())
        for item in items:
            choices = [(str(v), str(v)) for v in range(item.scale_min, item.scale_max + 1)]
            choices[0] = (choices[0][0], _("%(score)s (lowest)") % {"score": item.scale_min})
            choices[-1] = (choices[-1][0], _("%(score)s (highest)") % {"score": item.scale_max})
            self.fields[f"item_{item.pk}"] = forms.TypedChoiceField(
                label=item.text,
                help_text=item.help_text,
                choices=choices,
                coerce=int,
                widget=forms.RadioSelect,
                error_messages={"required": self.error_messages["required_score"]},
            )
            self.fields[f"comment_{item.pk}"] = forms.CharField(
                label=_("Comment on: %(item)s") % {"item": item.text},
                max_length=2000,
                required=False,
                widget=forms.Textarea(attrs={"rows": 2}),
            )
            # The template shows "Comment (optional)" and completes the
            # accessible name with the item's text.
            self.fields[f"comment_{item.pk}"].item_text = item.text

    def domains(self):
        """(domain, [(score field, comment field), …]) per domain, in order."""
        groups: list[tuple] = []
        for item in self.items:
            if not groups or groups[-1][0] != item.domain:
                groups.append((item.domain, []))
            groups[-1][1].append((self[f"item_{item.pk}"], self[f"comment_{item.pk}"]))
        return groups

    def scores(self) -> dict[Item, tuple[int, str]]:
        """The cleaned scores and comments per item."""
        data = self.cleaned_data
        return {
            item: (data[f"item_{item.pk}"], data.get(f"comment_{item.pk}", "").strip())
            for item in self.items
        }
