"""The reminder preferences page ("Påminnelser", in the user menu)."""

from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from django.views.generic import FormView

from .mixins import ServiceFormMixin
from .reminder_forms import ReminderPreferencesForm
from .reminders import preferences_of, reminder_preferences_save


class ReminderPreferencesView(ServiceFormMixin, FormView):
    """Which kinds of reminder the user gets by e-mail, and in which language."""

    form_class = ReminderPreferencesForm
    template_name = "bostadforst/reminders_preferences.html"
    success_message = _("Your reminder choices were saved.")

    def get_form_kwargs(self):
        enabled, language = preferences_of(self.request.user)
        return {
            **super().get_form_kwargs(),
            "user": self.request.user,
            "enabled": enabled,
            "language": language,
        }

    def get_context_data(self, **kwargs):
        return {**super().get_context_data(**kwargs), "has_email": bool(self.request.user.email)}

    def perform(self, form):
        reminder_preferences_save(
            user=self.request.user,
            enabled=form.enabled(),
            language=form.cleaned_data["language"],
        )

    def get_success_url(self) -> str:
        return reverse("reminder-preferences")
