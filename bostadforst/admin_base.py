"""The admin base classes: change history, restore and the same optimistic
locking as the app's own forms (``CaseModelAdmin``), read-only records
(``ReadOnlyAdmin``), and for both the rule on people's case data.

**Case data is break-glass only.** A model whose rows show a person's case
data (``holds_person_data``) is neither listed nor viewable in the admin for
anyone but a superuser, whatever model permissions a user or a role group
holds: administrators manage users, roles and reference data, and the team
reads case records through the app, where rows are scoped and reads logged.
A superuser exists for emergencies only, and every admin page that shows a
case record to them (the change page, the history list, an old version, the
delete confirmation, a list page) is logged as a read against every person it
shows, through ``bostadforst.records``.

App owners register their models with these bases::

    from bostadforst.admin_base import CaseModelAdmin

    @admin.register(Landlord)
    class LandlordAdmin(CaseModelAdmin):
        list_display = ("name", "phone")
"""

from django.contrib import admin, messages
from django.contrib.admin.templatetags import admin_list
from django.http import HttpResponseRedirect
from django.templatetags.static import static
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _
from simple_history.admin import SimpleHistoryAdmin

from .identity import IdentityMasked, hidden_ids
from .models import CaseModel, StaleObjectError
from .records import ProcessingRestrictedError, record_read, record_read_many, record_save
from .versioning import VersionedModelForm


def holds_person_data(model) -> bool:
    """Whether rows of ``model`` show a person's case data: a case model that
    belongs to a participant (``participant_path``), or a model with a relation
    of its own to the person model (an activity's attendees). Reference data
    (landlords, apartments, crisis places) does not, even where the app's own
    page of it shows people (an apartment's tenants): its admin shows none.
    """
    if issubclass(model, CaseModel) and model.participant_path is not None:
        return True
    return any(
        field.is_relation
        and not field.auto_created
        and field.related_model is not None
        and _is_person_model(field.related_model)
        for field in model._meta.get_fields()
    )


def _is_person_model(model) -> bool:
    return (
        isinstance(model, type)
        and issubclass(model, CaseModel)
        and (model.participant_path == "self")
    )


class PersonDataAdminMixin:
    """The break-glass rule and the read logging (see the module docstring),
    for every admin base of this project."""

    def _break_glass_only(self, request) -> bool:
        return holds_person_data(self.model) and not request.user.is_superuser

    def has_module_permission(self, request):
        return not self._break_glass_only(request) and super().has_module_permission(request)

    def has_view_permission(self, request, obj=None):
        return not self._break_glass_only(request) and super().has_view_permission(request, obj)

    def has_add_permission(self, request, *args):
        return not self._break_glass_only(request) and super().has_add_permission(request, *args)

    def has_change_permission(self, request, obj=None):
        return not self._break_glass_only(request) and super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        return not self._break_glass_only(request) and super().has_delete_permission(request, obj)

    def get_search_results(self, request, queryset, search_term):
        """A search never finds the rows of a person whose identity the user
        may not see, nor rows shown masked (the apartment where such a person
        lives): the alias beside the term would tie the two together, as the
        app's own searches know (participants.selectors)."""
        queryset, may_have_duplicates = super().get_search_results(request, queryset, search_term)
        people = hidden_ids("person")
        if not search_term.strip() or not people:
            return queryset, may_have_duplicates
        path = getattr(self.model, "participant_path", None)
        if path:
            queryset = queryset.exclude(**{"pk__in" if path == "self" else f"{path}__in": people})
        elif issubclass(self.model, IdentityMasked):
            masked = [
                row.pk for row in queryset.select_related(None).only("pk") if row.identity_masked
            ]
            queryset = queryset.exclude(pk__in=masked)
        return queryset, may_have_duplicates

    # --- Every page that shows a case record is a read of its people -------------
    # Logged where the page is rendered (after the permission checks, so a
    # refused request logs nothing here), once per page.

    def _log_shown(self, request, obj) -> None:
        if obj is not None and holds_person_data(self.model):
            record_read(request, obj)

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        self._log_shown(request, obj)
        return super().render_change_form(request, context, add, change, form_url, obj)

    def render_delete_form(self, request, context):
        self._log_shown(request, context.get("object"))
        return super().render_delete_form(request, context)

    def history_view(self, request, object_id, extra_context=None):
        response = super().history_view(request, object_id, extra_context)
        # Django's history page (simple-history's is logged in render_history_view).
        context = getattr(response, "context_data", None) or {}
        self._log_shown(request, context.get("object"))
        return response

    def render_history_view(self, request, template, context, **kwargs):
        # simple-history's history list ("object") and one old version ("original").
        self._log_shown(request, context.get("object") or context.get("original"))
        return super().render_history_view(request, template, context, **kwargs)

    def changelist_view(self, request, extra_context=None):
        response = super().changelist_view(request, extra_context)
        context = getattr(response, "context_data", None) or {}
        if holds_person_data(self.model):
            if "cl" in context:
                record_read_many(request, context["cl"].result_list)
            elif "queryset" in context:  # an action's confirmation page lists its rows
                record_read_many(request, context["queryset"])
        return response


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


class ReadOnlyAdmin(PersonDataAdminMixin, admin.ModelAdmin):
    """Rows that are records of what happened, or case records written only
    through the app: shown, never added, changed or deleted here."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class CaseModelAdmin(PersonDataAdminMixin, SimpleHistoryAdmin):
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
        except ProcessingRestrictedError as exc:
            # The person's processing is restricted (GDPR art. 18): nothing saved.
            messages.error(request, " ".join(exc.messages))
            return HttpResponseRedirect(request.path)

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


__all__ = [
    "AdminVersionedForm",
    "CaseModelAdmin",
    "PersonDataAdminMixin",
    "ReadOnlyAdmin",
    "admin",
    "holds_person_data",
]


# --- Yes and no in the admin's words ------------------------------------------------

_BOOLEAN_ICONS = {True: "yes", False: "no", None: "unknown"}
# Django's own catalog has these three ("Ja", "Nej", "Okänt").
_BOOLEAN_ALT = {True: _("Yes"), False: _("No"), None: _("Unknown")}


def boolean_icon(field_val) -> str:
    """The admin's yes/no/unknown icon with its alt text in the user's language.

    Django's ``_boolean_icon`` writes the Python value as the alt text
    (``alt="True"``), which a screen reader reads out in English in a Swedish
    admin. Same markup otherwise.
    """
    return format_html(
        '<img src="{}" alt="{}">',
        static(f"admin/img/icon-{_BOOLEAN_ICONS[field_val]}.svg"),
        _BOOLEAN_ALT[field_val],
    )


# Every caller looks the function up in admin_list when it draws an icon (the
# list's cells through the module's globals; read-only fields and
# ``display_for_field`` import it at call time), so one assignment reaches
# them all. Every app's admin module imports this one, so it is in place once
# the admin has autodiscovered its modules, before any admin page.
# tests/bostadforst/test_admin_swedish.py fails if Django renames it.
admin_list._boolean_icon = boolean_icon
