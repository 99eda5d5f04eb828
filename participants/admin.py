"""Admin for the participants app: history, restore and optimistic locking
through ``CaseModelAdmin``.

Statuses are read-only here: the referral workflow runs through the services,
which record who changed what and when. Searches never include the
personnummer: the admin puts its search text in the URL.
"""

from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from bostadforst.admin_base import AdminVersionedForm, CaseModelAdmin

from .forms import PersonnummerField
from .models import (
    EligibilityAssessment,
    NetworkContact,
    Participant,
    Referral,
    ReferralEvent,
    ReferringUnit,
    TargetGroup,
)

AUDIT_FIELDS = ("version", "created_at", "updated_at")


class ParticipantAdminForm(AdminVersionedForm):
    # The app's own field: every accepted form (also YYYYMMDD-NNNN, 13
    # characters, longer than the stored 12 digits), cleaned by normalise().
    personnummer = PersonnummerField(required=False)

    def clean_personnummer(self):
        return self.cleaned_data.get("personnummer") or None


@admin.register(TargetGroup)
class TargetGroupAdmin(admin.ModelAdmin):
    list_display = ("code", "__str__")

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(ReferringUnit)
class ReferringUnitAdmin(CaseModelAdmin):
    """Reference data the administrator keeps: the units that refer."""

    list_display = ("name", "kind", "active")
    list_filter = ("kind", "active")
    search_fields = ("name",)
    fields = ["name", "kind", "active"]


@admin.register(Participant)
class ParticipantAdmin(CaseModelAdmin):
    form = ParticipantAdminForm
    list_display = (
        "__str__",
        "masked_personnummer",
        "status",
        "support_worker",
        "registered_since",
        "updated_at",
    )
    list_filter = ("status", "target_groups", "support_worker")
    search_fields = ("first_name", "last_name", "external_ref")
    list_select_related = ("support_worker",)
    readonly_fields = ("status", "closed_on", "anonymised_at", "created_at", "updated_at")
    filter_horizontal = ("target_groups",)

    @admin.display(description=_("personal identity number"))
    def masked_personnummer(self, obj):
        return obj.personnummer_masked


class ReferralEventInline(admin.TabularInline):
    model = ReferralEvent
    fields = ("created_at", "kind", "from_status", "to_status", "occurred_on", "created_by")
    readonly_fields = fields
    extra = 0
    can_delete = False
    show_change_link = True

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Referral)
class ReferralAdmin(CaseModelAdmin):
    list_display = ("participant", "referral_date", "status", "referred_by", "decided_by")
    list_filter = ("status", "match", "housing_situation", "support_need", "referral_date")
    search_fields = ("participant__first_name", "participant__last_name")
    list_select_related = ("participant", "referred_by", "decided_by")
    raw_id_fields = ("participant",)
    readonly_fields = (
        "status",
        "match",
        "applicant_personnummer",
        "applicant_first_name",
        "applicant_last_name",
        "applicant_phone",
        "applicant_email",
        "applicant_postal_address",
        "applicant_registered_since",
        "applicant_children_in_household",
        "decided_by",
        "decided_at",
        "created_at",
        "updated_at",
    )
    date_hierarchy = "referral_date"
    inlines = [ReferralEventInline]


@admin.register(ReferralEvent)
class ReferralEventAdmin(CaseModelAdmin):
    list_display = ("referral", "kind", "to_status", "occurred_on", "created_by", "created_at")
    list_filter = ("kind", "to_status")
    search_fields = ("referral__participant__first_name", "referral__participant__last_name")
    list_select_related = ("referral__participant", "created_by")
    raw_id_fields = ("referral",)
    readonly_fields = ("from_status", "to_status", "created_by", "created_at", "updated_at")

    def save_model(self, request, obj, form, change):
        # "By" is required but read-only here: an event added in the admin is
        # by whoever adds it (full_clean in record_save would refuse it empty).
        if not change:
            obj.created_by = request.user
        super().save_model(request, obj, form, change)


@admin.register(EligibilityAssessment)
class EligibilityAssessmentAdmin(CaseModelAdmin):
    list_display = ("referral", "criterion", "answer", "assessor", "assessed_on")
    list_filter = ("criterion", "answer")
    search_fields = ("referral__participant__first_name", "referral__participant__last_name")
    list_select_related = ("referral__participant", "assessor")
    raw_id_fields = ("referral",)
    readonly_fields = ("assessor", "assessed_on", "created_at", "updated_at")


@admin.register(NetworkContact)
class NetworkContactAdmin(CaseModelAdmin):
    list_display = ("name", "relation", "participant", "consent_to_contact", "updated_at")
    list_filter = ("relation", "consent_to_contact")
    search_fields = ("name", "organisation", "participant__first_name", "participant__last_name")
    list_select_related = ("participant",)
    raw_id_fields = ("participant",)
    readonly_fields = ("created_at", "updated_at")
