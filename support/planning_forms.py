"""Forms of the planned visits, the visit undo and the calendar page
(``support.planning`` holds their rules)."""

import functools
from datetime import timedelta

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from bostadforst.versioning import VersionedModelForm

from .forms import (
    DATETIME_LOCAL,
    DURATION_ERRORS,
    DateTimeLocalInput,
    VisitFieldsMixin,
    VisitQuickLogForm,
    _posted_ids,
    _recent_ids,
    _setup_participant_picker,
)
from .models import MAX_VISIT_MINUTES, PlannedVisit, SupportVisit
from .selectors import staff_picker, team_members


class PlannedVisitForm(forms.ModelForm):
    """Plan a visit: the person (the worker's caseload first, as in the quick
    log), when, for whom in the team (the worker), and a short reminder."""

    class Meta:
        model = PlannedVisit
        fields = ["participant", "planned_at", "duration_minutes", "staff", "note"]
        labels = {"planned_at": _("Date and time"), "staff": _("Who makes the visit")}
        help_texts = {
            "note": _(
                "Optional, a few words for yourself (“bring the forms”). Not shown "
                "in the calendar; write the journal note when you log the visit."
            ),
            "duration_minutes": _("Optional."),
        }

    def __init__(self, *args, user, participant=None, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        _setup_participant_picker(self, user=user, participant=participant)
        planned_at = self.fields["planned_at"]
        planned_at.widget = DateTimeLocalInput()
        planned_at.input_formats = [DATETIME_LOCAL, "%Y-%m-%d %H:%M"]
        planned_at.error_messages.update(
            {
                "required": _("Enter the date and time of the visit."),
                "invalid": _("Enter the date and time as 2026-11-23 14:30."),
            }
        )
        duration = self.fields["duration_minutes"]
        duration.widget = forms.NumberInput(
            attrs={"inputmode": "numeric", "min": 0, "max": MAX_VISIT_MINUTES, "step": 5}
        )
        duration.error_messages.update(DURATION_ERRORS)
        duration.validators = []  # the model's range and message
        staff = self.fields["staff"]
        staff.queryset = team_members()
        staff.empty_label = None
        staff.error_messages["invalid_choice"] = _("Only members of the team can be named.")
        chosen = _posted_ids(self, "staff")[:1] if self.is_bound else []
        staff.choices = functools.partial(_plan_staff_options, self, user=user, chosen=chosen)
        if not self.is_bound:
            self.initial.setdefault("staff", user.pk)
            self.initial.setdefault("duration_minutes", 30)
            tomorrow = timezone.localtime() + timedelta(days=1)
            self.initial.setdefault(
                "planned_at", tomorrow.replace(hour=10, minute=0, second=0, microsecond=0)
            )


def _plan_staff_options(form, *, user, chosen) -> list:
    return [
        (u.pk, str(u))
        for u in staff_picker(user=user, include_pks=chosen, recent_ids=_recent_ids(form, user))
    ]


class PlannedVisitCancelForm(VersionedModelForm):
    """Cancel a plan: nothing to fill in but the version read."""

    class Meta:
        model = PlannedVisit
        fields: list[str] = []


class PlannedVisitLogForm(VisitFieldsMixin, forms.ModelForm):
    """The quick log, filled in from a plan: its person, day and time, its
    staff member and length. The person is the plan's and cannot change."""

    sign = VisitQuickLogForm.base_fields["sign"]

    class Meta:
        model = SupportVisit
        fields = ["kind", "started_at", "duration_minutes", "staff", "note", "goals"]
        labels = VisitQuickLogForm.Meta.labels

    def __init__(self, *args, user, plan: PlannedVisit, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.plan = plan
        self._setup_visit_fields(user=user, participant=plan.participant)
        self.fields["kind"].widget.attrs["class"] = "btn-check"
        if not self.is_bound:
            self.initial.update(
                {
                    "started_at": timezone.localtime(plan.planned_at).replace(
                        second=0, microsecond=0
                    ),
                    "duration_minutes": plan.duration_minutes
                    if plan.duration_minutes is not None
                    else 30,
                    "kind": SupportVisit.Kind.HOME_VISIT,
                    "staff": sorted({plan.staff_id, user.pk}),
                }
            )


class VisitUndoForm(forms.Form):
    """Undo a visit just saved: a confirmation, nothing to fill in."""


class CalendarResetForm(forms.Form):
    """Make a new secret calendar address: a confirmation, nothing to fill in."""
