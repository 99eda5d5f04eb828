"""The form of the reminder preferences page."""

from django import forms
from django.conf import settings
from django.utils.translation import gettext_lazy as _

from .reminders import kinds_for


class ReminderPreferencesForm(forms.Form):
    """A checkbox for each kind of reminder the user's role gets, and the
    language of the mails."""

    language = forms.ChoiceField(label=_("Language of the e-mails"), choices=settings.LANGUAGES)

    def __init__(self, *args, user, enabled: dict[str, bool], language: str, **kwargs):
        super().__init__(*args, **kwargs)
        self.kinds = kinds_for(user)
        for kind in self.kinds:
            self.fields[f"kind_{kind.key}"] = forms.BooleanField(
                label=kind.label,
                help_text=kind.help_text(),
                required=False,
                initial=enabled.get(kind.key, True),
            )
        self.fields["language"].initial = language
        # The language last, after the kinds.
        self.order_fields([*(f"kind_{k.key}" for k in self.kinds), "language"])

    def enabled(self) -> dict[str, bool]:
        return {k.key: bool(self.cleaned_data.get(f"kind_{k.key}")) for k in self.kinds}
