"""Admin: administrators manage the crisis places (reference data). Case
records are written through the app's services; here they are read-only, and
a journal entry can never be changed or deleted."""

from django.contrib import admin

from bostadforst.admin_base import CaseModelAdmin, ReadOnlyAdmin

from .models import ActionPlan, Activity, CrisisPlace, CrisisPlacement, SupportVisit


@admin.register(CrisisPlace)
class CrisisPlaceAdmin(CaseModelAdmin):
    fields = ["name", "address", "capacity", "is_active"]
    list_display = ("name", "address", "capacity", "is_active")
    list_filter = ("is_active",)
    search_fields = ("name",)

    def has_delete_permission(self, request, obj=None):
        # A place with placements is kept for the history; mark it not in use.
        return False


@admin.register(SupportVisit)
class SupportVisitAdmin(ReadOnlyAdmin):
    """Journal entries, read-only: no field is editable here and no entry can
    be deleted (new entries and corrections are written through the app,
    which records the author and checks the rules). The model refuses a change
    to a locked entry as well, so this is not the only guard."""

    list_display = ("started_at", "kind", "participant", "author", "signed_at", "corrects")
    list_filter = ("kind",)
    date_hierarchy = "started_at"
    raw_id_fields = ("participant", "corrects")
    fields = (
        "participant",
        "started_at",
        "duration_minutes",
        "kind",
        "staff",
        "note",
        "goals",
        "author",
        "signed_at",
        "corrects",
    )

    readonly_fields = fields


@admin.register(ActionPlan)
class ActionPlanAdmin(ReadOnlyAdmin):
    list_display = ("participant", "number", "agreed_on", "review_on", "created_by")


@admin.register(CrisisPlacement)
class CrisisPlacementAdmin(ReadOnlyAdmin):
    list_display = ("participant", "place", "start", "end", "reason")
    list_filter = ("place",)


@admin.register(Activity)
class ActivityAdmin(ReadOnlyAdmin):
    list_display = ("title", "date")

    def get_queryset(self, request):
        # Who attended, for the access log of a list page (one query, not one per row).
        return super().get_queryset(request).prefetch_related("attendances")
