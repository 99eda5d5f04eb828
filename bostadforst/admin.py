from datetime import timedelta

from django.conf import settings
from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from .admin_base import ReadOnlyAdmin
from .auth_views import AdminLoginRedirect
from .models import AccessLogEntry, GallringRun, User

admin.site.site_header = _("Bostad först – administration")
admin.site.site_title = _("Bostad först")
# The admin site has no password form of its own: it sends people to the
# two-step login (password, then TOTP), so the admin is behind the same login.
admin.site.login = AdminLoginRedirect.as_view()


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    list_display = ("username", "first_name", "last_name", "email", "is_active", "last_login")
    list_filter = ("is_active", "groups")
    fieldsets = (
        *DjangoUserAdmin.fieldsets,
        (_("Two-factor login"), {"fields": ("otp_enrolment_until",)}),
    )
    actions = ["open_otp_enrolment"]

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

    def save_model(self, request, obj, form, change):
        # A new account may set up its app at first login, within the window.
        if not change and obj.otp_enrolment_until is None:
            obj.otp_enrolment_until = timezone.now() + timedelta(
                hours=settings.OTP_ENROLMENT_WINDOW_HOURS
            )
        super().save_model(request, obj, form, change)


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
