"""The unit manager's form for a person's protected identity: input only; the
rules are in ``participants.protection``."""

from django import forms
from django.core.exceptions import ValidationError
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from bostadforst.roles import Role
from bostadforst.versioning import VersionedModelForm

from .models import IdentityProtection, Participant
from .protection import ERRORS


class ProtectionForm(VersionedModelForm):
    """Grade, access list and reason. The version field refuses a save over
    another manager's change made since the page was read."""

    error_messages = {"reason_required": ERRORS["reason_required"]}

    protection = forms.ChoiceField(
        label=_("Protected identity"),
        choices=IdentityProtection.choices,
        widget=forms.RadioSelect,
        required=False,
    )
    staff = forms.ModelMultipleChoiceField(
        label=_("Support staff who may see the identity"),
        queryset=None,
        widget=forms.CheckboxSelectMultiple,
        required=False,
        help_text=_(
            "Only the staff named here (and unit managers) see the name, personal identity "
            "number, address and phone; everyone else sees an alias."
        ),
    )
    reason = forms.CharField(
        label=_("Reason for the change"),
        max_length=2000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Required for every change. Kept in the change history."),
    )

    class Meta:
        model = Participant
        fields: list[str] = []

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        from bostadforst.models import User

        participant = self.instance
        listed = list(participant.identity_access.values_list("pk", flat=True))
        # Active support staff, and whoever is listed now (someone who has
        # left or changed role stays visible, to be taken off the list).
        self.fields["staff"].queryset = (
            User.objects.filter(
                Q(groups__name=Role.SUPPORT_STAFF.value, is_active=True) | Q(pk__in=listed)
            )
            .distinct()
            .order_by("first_name", "last_name", "username")
        )
        self.fields["staff"].label_from_instance = lambda u: u.get_full_name() or u.username
        self.fields["protection"].initial = participant.identity_protection
        self.listed = set(listed)
        # Not yet protected: the assigned support worker is ticked to begin
        # with (the one who works with the person), for the manager to confirm.
        if not participant.identity_protection and not listed and participant.support_worker_id:
            listed = [participant.support_worker_id]
        self.fields["staff"].initial = listed

    def clean(self):
        cleaned = super().clean()
        protection = cleaned.get("protection") or IdentityProtection.NONE
        cleaned["protection"] = protection
        staff = cleaned.get("staff")
        if staff is None or "protection" in self.errors:
            return cleaned
        chosen = {u.pk for u in staff} if protection else set()
        changed = protection != self.instance.identity_protection or chosen != self.listed
        if changed and not (cleaned.get("reason") or "").strip():
            self.add_error(
                "reason",
                ValidationError(self.error_messages["reason_required"], code="reason_required"),
            )
        return cleaned
