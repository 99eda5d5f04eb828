from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.utils.translation import gettext_lazy as _

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


class ReadOnlyAdmin(admin.ModelAdmin):
    """Rows that are records of what happened: shown, never added, changed or deleted."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


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
