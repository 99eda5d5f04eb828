"""The admin base class for case models: change history, restore, and the
same optimistic locking as the app's own forms.

App owners register case models with it::

    from bostadforst.admin_base import CaseModelAdmin

    @admin.register(Landlord)
    class LandlordAdmin(CaseModelAdmin):
        list_display = ("name", "phone")
"""

from django.contrib import admin, messages
from django.http import HttpResponseRedirect
from django.utils.translation import gettext_lazy as _
from simple_history.admin import SimpleHistoryAdmin

from .models import StaleObjectError
from .records import record_save
from .versioning import VersionedModelForm


class AdminVersionedForm(VersionedModelForm):
    """The admin's form carries the version too (PITFALLS 9).

    The hidden version is the live row's version when the page was opened,
    also on simple-history's "revert" page, whose instance is an old version:
    restoring is refused the same way when someone saved in between.
    """

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        if self.instance.pk is not None:
            live = self._live_version()
            if live is not None:
                self.fields["version"].initial = live


class ReadOnlyAdmin(admin.ModelAdmin):
    """Rows that are records of what happened, or case records written only
    through the app: shown, never added, changed or deleted here."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class CaseModelAdmin(SimpleHistoryAdmin):
    """History view and restore for administrators; stale saves refused."""

    form = AdminVersionedForm
    stale_message = _(
        "Someone else saved this record in the meantime. Nothing was saved; "
        "the page shows the current values."
    )

    def get_fieldsets(self, request, obj=None):
        fieldsets = super().get_fieldsets(request, obj)
        named = {f for _name, opts in fieldsets for f in _flatten(opts.get("fields", ()))}
        if "version" not in named:
            fieldsets = [*fieldsets, (None, {"fields": ["version"], "classes": ["hidden"]})]
        return fieldsets

    def get_form(self, request, obj=None, change=False, **kwargs):
        # "version" is shown (hidden) through the fieldsets but is not an
        # editable model field, so it must not reach modelform_factory: the
        # form class declares it.
        if "fields" not in kwargs:  # simple-history's revert view
            kwargs["fields"] = list(_flatten_fieldsets(self.get_fieldsets(request, obj)))
        if kwargs["fields"] is not None:
            kwargs["fields"] = [f for f in kwargs["fields"] if f != "version"]
        return super().get_form(request, obj, change, **kwargs)

    def save_model(self, request, obj, form, change):
        record_save(obj, acting_user=request.user)

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        try:
            return super().changeform_view(request, object_id, form_url, extra_context)
        except StaleObjectError:
            return self._refuse_stale(request)

    def history_form_view(self, request, object_id, version_id, extra_context=None):
        try:
            return super().history_form_view(request, object_id, version_id, extra_context)
        except StaleObjectError:
            return self._refuse_stale(request)

    def _refuse_stale(self, request):
        messages.error(request, self.stale_message)
        return HttpResponseRedirect(request.path)


def _flatten_fieldsets(fieldsets):
    for _name, opts in fieldsets:
        yield from _flatten(opts.get("fields", ()))


def _flatten(fields):
    for field in fields:
        if isinstance(field, (list, tuple)):
            yield from field
        else:
            yield field


__all__ = ["AdminVersionedForm", "CaseModelAdmin", "ReadOnlyAdmin", "admin"]
