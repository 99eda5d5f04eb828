"""Admin: administrators keep landlords, apartments and providers (reference data).
Tenancies and incidents are case data changed through the app's forms, where
the services run the rules; the admin shows them and their history read-only."""

from django.contrib import admin

from bostadforst.admin_base import CaseModelAdmin, ReadOnlyAdmin

from .models import Apartment, Landlord, Provider, Tenancy, TenancyIncident


@admin.register(Landlord)
class LandlordAdmin(CaseModelAdmin):
    list_display = ("name", "contact_person", "phone", "email")
    search_fields = ("name", "contact_person")
    fields = ["name", "contact_person", "phone", "email"]


@admin.register(Provider)
class ProviderAdmin(CaseModelAdmin):
    list_display = ("name", "kind", "active")
    list_filter = ("kind", "active")
    search_fields = ("name",)
    fields = ["name", "kind", "active"]


@admin.register(Apartment)
class ApartmentAdmin(CaseModelAdmin):
    list_display = ("address", "city", "landlord", "rooms", "monthly_rent", "status")
    list_filter = ("landlord", "status")
    search_fields = ("address", "postal_code", "city")
    list_select_related = ("landlord",)
    fields = [
        "landlord",
        "address",
        "postal_code",
        "city",
        "rooms",
        "size_sqm",
        "monthly_rent",
        "status",
    ]


@admin.register(Tenancy)
class TenancyAdmin(ReadOnlyAdmin, CaseModelAdmin):
    list_display = ("apartment", "participant", "contract_type", "move_in", "move_out")
    list_filter = ("contract_type", "exit_reason", "apartment__landlord")
    list_select_related = ("apartment__landlord", "participant")
    date_hierarchy = "move_in"
    fields = [
        "participant",
        "apartment",
        "contract_type",
        "move_in",
        "takeover",
        "move_out",
        "exit_reason",
        "note",
    ]


@admin.register(TenancyIncident)
class TenancyIncidentAdmin(ReadOnlyAdmin, CaseModelAdmin):
    list_display = ("tenancy", "kind", "occurred_on", "amount", "resolved_on")
    list_filter = ("kind",)
    list_select_related = ("tenancy__apartment__landlord",)
    date_hierarchy = "occurred_on"
    fields = [
        "tenancy",
        "kind",
        "occurred_on",
        "amount",
        "description",
        "resolved_on",
        "resolution",
    ]
