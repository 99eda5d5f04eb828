"""The fidelity scale as reference data: domains and items, which the
administrator adjusts. Items in use are deactivated, never deleted; the
assessments themselves are recorded and read in the app."""

from django.contrib import admin

from bostadforst.admin_base import CaseModelAdmin

from .models import Domain, Item


@admin.register(Domain)
class DomainAdmin(CaseModelAdmin):
    fields = ["name", "order"]
    list_display = ("name", "order")

    def has_delete_permission(self, request, obj=None):
        # A domain's items keep their scores: rename it instead.
        return False


@admin.register(Item)
class ItemAdmin(CaseModelAdmin):
    fields = ["domain", "text", "help_text", "order", "scale_min", "scale_max", "is_active"]
    list_display = ("text", "domain", "order", "scale_min", "scale_max", "is_active")
    list_filter = ("domain", "is_active")
    search_fields = ("text",)

    def has_delete_permission(self, request, obj=None):
        # Scored items are kept for the earlier assessments: deactivate them.
        return False
