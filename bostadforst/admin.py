from datetime import timedelta

from django.conf import settings
from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.contrib.auth.forms import UserChangeForm
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from . import (
    admin_otp,  # noqa: F401  (django-otp's device admins, in Swedish)
    admin_permissions,  # noqa: F401  (permission names on the group page, in Swedish)
    start_page,
)
from .access_log import log_access
from .admin_base import ReadOnlyAdmin
from .auth_views import AdminLoginRedirect
from .models import AccessLogEntry, GallringRun, RoleGrant, User
from .passwords import AdminAddUserForm, AdminSetPasswordForm
from .roles import Role

admin.site.site_header = _("Bostad först – administration")
admin.site.site_title = _("Bostad först")
# The admin site has no password form of its own: it sends people to the
# two-step login (password, then TOTP), so the admin is behind the same login.
admin.site.login = AdminLoginRedirect.as_view()

# Never editable in the admin: superuser status is granted on the command line
# (manage.py grant_role), and rights come from roles (groups), not one by one.
ALWAYS_READ_ONLY = ("is_superuser", "user_permissions")
# Not editable on one's own account: nobody raises their own privileges.
OWN_READ_ONLY = ("is_staff", "groups", "scope_unit", "scope_provider")


class AdminUserChangeForm(UserChangeForm):
    """The user change form: the administrator role is not granted here."""

    error_messages = {
        "grant_on_command_line": _(
            "The administrator role is granted on the command line only, with a "
            'reason: manage.py grant_role USERNAME administrator --reason "…".'
        ),
    }

    class Meta(UserChangeForm.Meta):
        model = User
        # What may be edited here at all (the admin narrows it further per page).
        fields = (
            "username",
            "password",
            "first_name",
            "last_name",
            "email",
            "is_active",
            "is_staff",
            "groups",
            "otp_enrolment_until",
        )

    def clean_groups(self):
        groups = self.cleaned_data["groups"]
        had = set()
        if self.instance.pk is not None:
            had = set(self.instance.groups.values_list("name", flat=True))
        if Role.ADMINISTRATOR.value in {g.name for g in groups} - had:
            raise ValidationError(
                self.error_messages["grant_on_command_line"], code="grant_on_command_line"
            )
        return groups


class AccountAttentionFilter(admin.SimpleListFilter):
    """The accounts the administrator's start page counts: no role, or no
    second factor where one is required (``bostadforst.start_page``)."""

    title = _("needs attention")
    parameter_name = "attention"

    def lookups(self, request, model_admin):
        choices = [(start_page.NO_ROLE, _("No role"))]
        if start_page.two_factor_required_anywhere():
            choices.append((start_page.NO_TWO_FACTOR, _("Two-factor login not set up")))
        return choices

    def queryset(self, request, queryset):
        if self.value() == start_page.NO_ROLE:
            return start_page.users_without_role(queryset)
        if self.value() == start_page.NO_TWO_FACTOR:
            return start_page.users_missing_two_factor(queryset)
        return queryset


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    """Users and their roles.

    The privilege rules (no self-escalation, no administrator role or
    superuser status granted here, a superuser's account changed only by a
    superuser) are enforced on the server: the fields are left out of the form
    (a posted value is ignored), ``save_model`` and ``save_related`` refuse
    anything that slipped through, and ``has_change_permission`` guards the
    password page as well as the change page.
    """

    form = AdminUserChangeForm
    add_form = AdminAddUserForm
    change_password_form = AdminSetPasswordForm
    list_display = ("username", "first_name", "last_name", "email", "is_active", "last_login")
    list_filter = ("is_active", "groups", AccountAttentionFilter)
    fieldsets = (
        *DjangoUserAdmin.fieldsets,
        (_("Two-factor login"), {"fields": ("otp_enrolment_until",)}),
        (_("Password"), {"fields": ("must_change_password",)}),
        # A partner organisation's manager: the people of one unit or provider
        # (bostadforst.scope); not one's own to widen.
        (_("Row scope"), {"fields": ("scope_unit", "scope_provider")}),
    )
    actions = ["open_otp_enrolment"]

    def get_readonly_fields(self, request, obj=None):
        fields = [*super().get_readonly_fields(request, obj), "must_change_password"]
        if obj is not None:
            fields += ALWAYS_READ_ONLY
            if obj.pk == request.user.pk:
                fields += OWN_READ_ONLY
        return fields

    def has_change_permission(self, request, obj=None):
        # A superuser's account (its password above all) is a superuser's to change.
        if obj is not None and obj.is_superuser and not request.user.is_superuser:
            return False
        return super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        if obj is not None and obj.is_superuser and not request.user.is_superuser:
            return False
        return super().has_delete_permission(request, obj)

    def save_model(self, request, obj, form, change):
        stored = User.objects.filter(pk=obj.pk).first() if change else User()
        if obj.is_superuser != stored.is_superuser:
            raise PermissionDenied("Superuser status is granted with manage.py grant_role.")
        if obj.pk == request.user.pk and obj.is_staff != stored.is_staff:
            raise PermissionDenied("Nobody changes their own staff status.")
        # A new account may set up its app at first login, within the window.
        if not change and obj.otp_enrolment_until is None:
            obj.otp_enrolment_until = timezone.now() + timedelta(
                hours=settings.OTP_ENROLMENT_WINDOW_HOURS
            )
        super().save_model(request, obj, form, change)

    def save_related(self, request, form, formsets, change):
        user = form.instance
        groups_before = set(user.groups.values_list("name", flat=True))
        permissions_before = set(user.user_permissions.values_list("pk", flat=True))
        super().save_related(request, form, formsets, change)
        groups_after = set(user.groups.values_list("name", flat=True))
        if set(user.user_permissions.values_list("pk", flat=True)) != permissions_before:
            raise PermissionDenied("Rights come from roles (groups), not one by one.")
        if groups_after != groups_before:
            if user.pk == request.user.pk:
                raise PermissionDenied("Nobody changes their own roles.")
            if Role.ADMINISTRATOR.value in groups_after - groups_before:
                raise PermissionDenied(
                    "The administrator role is granted with manage.py grant_role."
                )
            # The manager's log review shows who changed whose roles, and when.
            log_access(action=AccessLogEntry.Action.UPDATE, request=request, obj=user)

    @admin.action(description=_("Open two-factor setup for the selected users"))
    def open_otp_enrolment(self, request, queryset):
        """For a new user or a lost phone (delete the old device first): the
        user sets up the app at their next login within the window."""
        until = timezone.now() + timedelta(hours=settings.OTP_ENROLMENT_WINDOW_HOURS)
        for user in queryset:
            user.otp_enrolment_until = until
            user.save(update_fields=["otp_enrolment_until"])
        self.message_user(
            request,
            _("Two-factor setup is open until %(until)s.")
            % {"until": timezone.localtime(until).strftime("%Y-%m-%d %H:%M")},
        )


@admin.register(AccessLogEntry)
class AccessLogEntryAdmin(ReadOnlyAdmin):
    """Read-only: the log is append-only, in the admin as everywhere."""

    list_display = ("at", "username", "role", "action", "model", "person_id", "ip")
    list_filter = ("action", "role")
    search_fields = ("username",)
    date_hierarchy = "at"


@admin.register(GallringRun)
class GallringRunAdmin(ReadOnlyAdmin):
    """Each culling run, by count only."""

    list_display = (
        "started_at",
        "dry_run",
        "persons_due",
        "persons_exempted",
        "persons_culled",
        "rows_deleted",
    )


@admin.register(RoleGrant)
class RoleGrantAdmin(ReadOnlyAdmin):
    """Grants made with manage.py grant_role, with their reasons."""

    list_display = ("at", "username", "grant", "granted", "by")
    list_filter = ("grant", "granted")
    search_fields = ("username",)
    date_hierarchy = "at"
