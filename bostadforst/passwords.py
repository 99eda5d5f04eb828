"""Who set a password decides whether it must be changed at the next login.

A password set for someone (the admin's "set password" and "add user"
forms) is good for one login: ``User.must_change_password`` is set, and
``PasswordChangeRequiredMiddleware`` keeps the user on the password page
until they have chosen their own. A password the user chose (the password
page, a reset link) clears it, in the same save as the password.
"""

from django.contrib.auth.forms import (
    AdminPasswordChangeForm,
    AdminUserCreationForm,
    PasswordChangeForm,
    SetPasswordForm,
)
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _


class SetForSomeoneMixin:
    """For a form where someone else sets the password: single-use."""

    def set_password_and_save(self, user, *args, **kwargs):
        # An account whose password login is switched off has nothing to change.
        user.must_change_password = bool(self.cleaned_data.get("set_usable_password", True))
        return super().set_password_and_save(user, *args, **kwargs)


class ChosenByUserMixin:
    """For a form where the user sets their own password: the flag is cleared."""

    def set_password_and_save(self, user, *args, **kwargs):
        user.must_change_password = False
        return super().set_password_and_save(user, *args, **kwargs)


class AdminSetPasswordForm(SetForSomeoneMixin, AdminPasswordChangeForm):
    """The admin's "set password" page."""


class AdminAddUserForm(SetForSomeoneMixin, AdminUserCreationForm):
    """The admin's "add user" page."""


class OwnPasswordChangeForm(ChosenByUserMixin, PasswordChangeForm):
    """The user's own password page; the new password must be a new one (a
    single-use password kept as is would stay known to whoever set it)."""

    error_messages = {
        **PasswordChangeForm.error_messages,
        "password_unchanged": _("Choose a new password, not the one you have now."),
    }

    def clean(self):
        cleaned = super().clean()
        old, new = cleaned.get("old_password"), cleaned.get("new_password1")
        if old and new and old == new:
            self.add_error(
                "new_password1",
                ValidationError(
                    self.error_messages["password_unchanged"], code="password_unchanged"
                ),
            )
        return cleaned


class ResetSetPasswordForm(ChosenByUserMixin, SetPasswordForm):
    """The new password from a reset link: the user chose it, so a pending
    "must choose a new password" (set by an administrator) is satisfied."""
