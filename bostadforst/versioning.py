"""Forms and views for records several people edit (optimistic locking)."""

from django import forms
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from .models import CaseModel


class VersionedModelForm(forms.ModelForm):
    """A ModelForm that carries the version it was read at in a hidden field.

    A version older than the stored row's is refused here, before any rule of
    the service answers (a stale tab is told what changed, not that e.g. the
    referral is already decided). The service then saves the instance with that
    version, so a save made by someone else in between is refused as well
    (``StaleObjectError``) instead of being overwritten. A tampered version is
    refused the same way.
    """

    version = forms.IntegerField(widget=forms.HiddenInput, min_value=1, max_value=2**31 - 1)

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        if self.instance.pk is not None:
            self.fields["version"].initial = self.instance.version
        else:
            self.fields["version"].required = False

    def clean(self):
        cleaned = super().clean()
        version = cleaned.get("version")
        if self.instance.pk is not None and version:
            if version != self._live_version():
                self.add_error(None, stale_error(self.instance, version))
                self.take_current_version()
            else:
                self.instance.version = version
        return cleaned

    def take_current_version(self) -> None:
        """After a refused save: the form shown again keeps what the user
        typed but carries the stored version, so that saving again, once
        they have checked what the other person changed, goes through."""
        self.data = self.data.copy()
        self.data[self.add_prefix("version")] = self._live_version()

    def _live_version(self) -> int | None:
        return (
            type(self.instance)
            ._base_manager.filter(pk=self.instance.pk)
            .values_list("version", flat=True)
            .first()
        )


STALE_MESSAGE = _(
    "Someone else saved this record after you opened it. Your changes have not "
    "been saved. What they changed: %(changes)s. Check the values and save again."
)


def stale_error(instance: CaseModel, version) -> ValidationError:
    """The one message for a refused stale save, naming who changed what."""
    return ValidationError(
        STALE_MESSAGE,
        code="stale",
        params={"changes": describe_changes_since(instance, version)},
    )


def describe_changes_since(instance: CaseModel, version) -> str:
    """Who last changed which fields of ``instance`` after ``version``, in words."""
    try:
        version = int(version)
    except (TypeError, ValueError):
        version = 0
    model = type(instance)
    records = list(
        model.history.filter(id=instance.pk).select_related("history_user").order_by("history_date")
    )
    base = next((r for r in reversed(records) if r.version <= version), None)
    later = [r for r in records if r.version > version]
    if not later:
        return gettext("unknown changes")
    latest = later[-1]
    params = {
        "who": str(latest.history_user or gettext("unknown user")),
        "when": timezone.localtime(latest.history_date).strftime("%Y-%m-%d %H:%M"),
    }
    if base is None:  # the record did not exist when the form was opened
        params["record"] = str(instance)
        return gettext("%(who)s at %(when)s saved “%(record)s”") % params
    names = [
        str(model._meta.get_field(change.field).verbose_name)
        for change in latest.diff_against(base).changes
        if change.field not in {"version", "updated_at"}
    ]
    params["fields"] = ", ".join(names) or gettext("nothing visible")
    return gettext("%(who)s at %(when)s changed %(fields)s") % params
