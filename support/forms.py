"""Forms of the support app. They check single values; rules across rows
(plan versions, journal locks, capacity) are in ``support.services``."""

import functools
from datetime import timedelta

from django import forms
from django.forms.utils import ErrorDict
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from bostadforst.versioning import VersionedModelForm
from housing.forms import FILTER_ATTRS
from participants.models import NetworkContact

from .models import (
    MAX_VISIT_MINUTES,
    ActionPlan,
    Activity,
    CrisisPlace,
    CrisisPlacement,
    Goal,
    GoalAction,
    LifeArea,
    SupportVisit,
)
from .selectors import (
    participant_choices,
    participant_picker,
    plan_current_bare,
    recent_visit_ids,
    staff_picker,
    team_members,
)

DATETIME_LOCAL = "%Y-%m-%dT%H:%M"


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, attrs=None):
        super().__init__(attrs=attrs, format="%Y-%m-%d")


class DateTimeLocalInput(forms.DateTimeInput):
    input_type = "datetime-local"

    def __init__(self, attrs=None):
        super().__init__(attrs=attrs, format=DATETIME_LOCAL)


# Parse errors only: the range is the model's rule (SupportVisit).
DURATION_ERRORS = {
    "required": _("Enter the duration in minutes."),
    "invalid": _("Enter the duration as a whole number of minutes."),
}


def _posted_ids(form, name: str) -> list[int]:
    """The ids posted for ``name`` (digits only; anything else is the field's to refuse)."""
    if not form.is_bound:
        return []
    data = form.data
    values = data.getlist(name) if hasattr(data, "getlist") else data.get(name)
    if not isinstance(values, list | tuple):
        values = [] if values is None else [values]
    return [int(v) for v in values if str(v).isdigit()][:50]


def _recent_ids(form, user) -> list[int]:
    """The user's recent visits, read once per form: both pickers rank by them."""
    if getattr(form, "_recent_visit_ids", None) is None:
        form._recent_visit_ids = recent_visit_ids(user=user)
    return form._recent_visit_ids


def _participant_options(form, *, user, include_pk) -> list:
    """The picker's options: a bounded few (``participant_picker``), grouped;
    read once per form (the field and its widget both ask)."""
    if getattr(form, "_participant_options", None) is None:
        groups: dict[int, list] = {0: [], 1: [], 2: []}
        recent = _recent_ids(form, user)
        for p in participant_picker(user=user, include_pk=include_pk, recent_ids=recent):
            groups[p.caseload_rank].append((p.pk, str(p)))
        labels = {0: _("My participants"), 1: _("Recently visited"), 2: _("Other tenants")}
        form._participant_options = [("", _("Choose participant…"))] + [
            (labels[rank], options) for rank, options in groups.items() if options
        ]
    return form._participant_options


def _setup_participant_picker(form, *, user, participant):
    """Make ``form``'s participant field the picker of a visit, planned or
    logged, and return the chosen person: ``participant`` (preselected), else
    the one posted if the user may choose them, else None.

    Validation accepts anyone in ``participant_choices`` by id (the queryset,
    one query); the options are a bounded few, read only when the form is
    shown. The chosen person is always among them.
    """
    choices_qs = participant_choices(user=user)
    field = form.fields["participant"]
    field.queryset = choices_qs
    field.error_messages["required"] = _("Choose the participant.")
    field.error_messages["invalid_choice"] = _("Choose one of the listed participants.")
    if participant is None and form.is_bound:
        posted = _posted_ids(form, "participant")[:1]
        participant = choices_qs.filter(pk=posted[0]).first() if posted else None
    field.choices = functools.partial(
        _participant_options,
        form,
        user=user,
        include_pk=participant.pk if participant is not None else None,
    )
    if participant is not None and not form.is_bound:
        form.initial.setdefault("participant", participant.pk)
    return participant


def _staff_options(form, *, user, participant) -> list:
    """The staff checkboxes: a bounded few (``staff_picker``) plus those
    chosen; read once per form (the field and its widget both ask)."""
    if getattr(form, "_staff_options", None) is None:
        if form.is_bound:
            chosen = _posted_ids(form, "staff")
        else:
            chosen = [getattr(v, "pk", v) for v in form.initial.get("staff") or []]
        staff = staff_picker(
            user=user,
            participant=participant,
            include_pks=chosen,
            recent_ids=_recent_ids(form, user),
        )
        form._staff_options = [(u.pk, str(u)) for u in staff]
    return form._staff_options


def _now_to_minute():
    return timezone.localtime().replace(second=0, microsecond=0)


def _check_date_order(form, *, earlier: str, later: str, code: str) -> None:
    """Report ``code`` on ``later`` when that date comes before ``earlier``."""
    first, then = form.cleaned_data.get(earlier), form.cleaned_data.get(later)
    if first and then and then < first:
        form.add_error(later, forms.ValidationError(form.error_messages[code], code=code))


# --- Support visits ------------------------------------------------------------


class VisitFieldsMixin:
    """What the quick-log, edit and correction forms share."""

    def _setup_visit_fields(self, *, user, participant) -> None:
        f = self.fields
        f["started_at"].widget = DateTimeLocalInput()
        f["started_at"].input_formats = [DATETIME_LOCAL, "%Y-%m-%d %H:%M", "%Y-%m-%d %H:%M:%S"]
        f["duration_minutes"].widget = forms.NumberInput(
            attrs={"inputmode": "numeric", "min": 0, "max": MAX_VISIT_MINUTES, "step": 5}
        )
        f["duration_minutes"].error_messages.update(DURATION_ERRORS)
        # The range is checked once, by the model's validators and messages.
        f["duration_minutes"].validators = []
        f["duration_minutes"].help_text = _("0 for a short call; at most %(max)s.") % {
            "max": MAX_VISIT_MINUTES
        }
        f["kind"].widget = forms.RadioSelect(choices=SupportVisit.Kind.choices)
        f["kind"].choices = SupportVisit.Kind.choices
        staff = f["staff"]
        # Widget first: setting the queryset hands its choices to the widget.
        staff.widget = forms.CheckboxSelectMultiple()
        # Validation accepts any team member by id (the queryset); only a
        # bounded few are shown, read when the form is rendered (a callable).
        staff.queryset = team_members()
        staff.choices = functools.partial(_staff_options, self, user=user, participant=participant)
        staff.error_messages["required"] = _("Choose at least one staff member.")
        f["note"].widget = forms.Textarea(attrs={"rows": 4})
        goals = f["goals"]
        plan = plan_current_bare(participant=participant) if participant is not None else None
        # What the goals box on the quick-log page says when there are none.
        self.goal_participant, self.goal_plan = participant, plan
        if plan is None:
            del f["goals"]
        else:
            goals.widget = forms.CheckboxSelectMultiple()
            goals.queryset = Goal.objects.filter(plan=plan).order_by("position", "pk")
            goals.label_from_instance = lambda g: f"{g.get_life_area_display()}: {g.text[:80]}"
            goals.help_text = _("Optional: which goals of the current plan the visit concerned.")

    def visit_data(self) -> dict:
        """The cleaned entry, as the visit services take it."""
        data = self.cleaned_data
        return {
            "started_at": data["started_at"],
            "duration_minutes": data["duration_minutes"],
            "kind": data["kind"],
            "staff": data["staff"],
            "note": data["note"],
            "goals": data.get("goals") or [],
            "sign": data["sign"],
        }


class VisitQuickLogForm(VisitFieldsMixin, forms.ModelForm):
    """Log a visit in a few taps: now, the logged-in worker and a home visit
    are filled in; the participant picker lists the worker's caseload first."""

    sign = forms.BooleanField(
        label=_("Sign the note now (it can then not be changed)"), required=False, initial=True
    )

    class Meta:
        model = SupportVisit
        fields = ["participant", "kind", "started_at", "duration_minutes", "staff", "note", "goals"]
        labels = {"started_at": _("Date and time"), "note": _("Journal note")}

    def __init__(self, *args, user, participant=None, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.user = user
        participant = _setup_participant_picker(self, user=user, participant=participant)
        field = self.fields["participant"]
        # A search box above the list on the page (static/js/pick_lists.js).
        field.widget.attrs.update(FILTER_ATTRS)
        field.help_text = format_html(
            '{} <a href="{}">{}</a>.',
            _("Not in the list? Log the visit from the participant's page:"),
            reverse("participants:participant-list"),
            _("find the participant"),
        )
        self._setup_visit_fields(user=user, participant=participant)
        # Rendered as a grid of large toggle buttons (support.css).
        self.fields["kind"].widget.attrs["class"] = "btn-check"
        if not self.is_bound:
            self.initial.setdefault("started_at", _now_to_minute())
            self.initial.setdefault("duration_minutes", 30)
            self.initial.setdefault("kind", SupportVisit.Kind.HOME_VISIT)
            self.initial.setdefault("staff", [user.pk])


class VisitEditForm(VisitFieldsMixin, VersionedModelForm):
    """Change an open entry (its author, before it locks)."""

    sign = forms.BooleanField(
        label=_("Sign the note now (it can then not be changed)"), required=False, initial=False
    )

    class Meta:
        model = SupportVisit
        fields = ["kind", "started_at", "duration_minutes", "staff", "note", "goals"]
        labels = {"started_at": _("Date and time"), "note": _("Journal note")}

    def __init__(self, *args, user, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._setup_visit_fields(user=user, participant=self.instance.participant)


class VisitCorrectionForm(VisitFieldsMixin, forms.ModelForm):
    """A correction: a new entry, prefilled from the one it corrects."""

    sign = forms.BooleanField(
        label=_("Sign the correction now (it can then not be changed)"),
        required=False,
        initial=True,
    )

    class Meta:
        model = SupportVisit
        fields = ["kind", "started_at", "duration_minutes", "staff", "note", "goals"]
        labels = {"started_at": _("Date and time"), "note": _("Corrected journal note")}

    def __init__(self, *args, user, original: SupportVisit, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._setup_visit_fields(user=user, participant=original.participant)
        if not self.is_bound:
            self.initial.update(
                {
                    "kind": original.kind,
                    "started_at": timezone.localtime(original.started_at),
                    "duration_minutes": original.duration_minutes,
                    "staff": [u.pk for u in original.staff.all()],
                    "note": original.note,
                }
            )
            if "goals" in self.fields:
                self.initial["goals"] = [g.pk for g in original.goals.all()]


class VisitSignForm(VersionedModelForm):
    """Sign an entry: nothing to fill in but the version read."""

    class Meta:
        model = SupportVisit
        fields: list[str] = []


# --- Action plans --------------------------------------------------------------


class GoalForm(forms.Form):
    life_area = forms.ChoiceField(
        label=_("Life area"), choices=[("", "—")] + LifeArea.choices, required=False
    )
    text = forms.CharField(
        label=_("Goal in the tenant's own words"),
        max_length=2000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
    )

    error_messages = {
        "life_area_required": _("Choose the life area of the goal."),
    }

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("text", "").strip() and not cleaned.get("life_area"):
            self.add_error(
                "life_area",
                forms.ValidationError(
                    self.error_messages["life_area_required"], code="life_area_required"
                ),
            )
        return cleaned

    @property
    def is_blank(self) -> bool:
        return not (self.cleaned_data.get("text") or "").strip()


def _is_removed(form: forms.BaseForm) -> bool:
    """The row's "Remove" box was ticked (the formsets' DELETE field)."""
    return bool(getattr(form, "cleaned_data", {}).get("DELETE"))


def _forget_errors(form: forms.BaseForm) -> None:
    """Drop the errors of a removed row: it is not saved, so what it held
    must not stop the save or show in the error summary."""
    form._errors = ErrorDict()
    if not hasattr(form, "cleaned_data"):
        form.cleaned_data = {}


def _forget_formset_errors(formset: forms.BaseFormSet) -> None:
    """``_forget_errors`` for a formset and each of its rows."""
    formset._errors, formset._non_form_errors = [], formset.error_class()
    for form in formset.forms:
        _forget_errors(form)


class ActionForm(forms.Form):
    who = forms.ChoiceField(
        label=_("Who"), choices=[("", "—")] + GoalAction.Who.choices, required=False
    )
    staff = forms.ModelChoiceField(
        label=_("Team member"), queryset=team_members(), required=False, empty_label=_("None")
    )
    partner = forms.ModelChoiceField(
        label=_("Collaborating party"),
        queryset=NetworkContact.objects.none(),
        required=False,
        empty_label=_("None"),
        error_messages={
            "invalid_choice": _(
                "Choose a collaborating party from the participant's own network contacts."
            )
        },
    )
    what = forms.CharField(label=_("What"), max_length=2000, required=False)
    how = forms.CharField(label=_("How"), max_length=2000, required=False)
    by_when = forms.DateField(label=_("By when"), required=False, widget=DateInput())

    error_messages = {
        "who_required": _("Choose who does this."),
        "what_required": _("Describe what is to be done."),
        "partner_required": _("Choose which collaborating party does this."),
    }

    def __init__(self, *args, partners=None, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["staff"].queryset = team_members()
        if partners is not None:
            self.fields["partner"].queryset = partners

    def clean(self):
        cleaned = super().clean()
        what = (cleaned.get("what") or "").strip()
        who = cleaned.get("who")
        filled = what or who or cleaned.get("how") or cleaned.get("by_when")
        if not filled:
            return cleaned
        if not what:
            self.add_error("what", self._err("what_required"))
        if not who:
            self.add_error("who", self._err("who_required"))
        if who == GoalAction.Who.PARTNER and not cleaned.get("partner"):
            self.add_error("partner", self._err("partner_required"))
        return cleaned

    def _err(self, code):
        return forms.ValidationError(self.error_messages[code], code=code)

    @property
    def is_blank(self) -> bool:
        return not (self.cleaned_data.get("what") or "").strip()


MAX_GOALS = 30
MAX_ACTIONS = 20
GoalFormSet = forms.formset_factory(
    GoalForm, extra=0, max_num=MAX_GOALS, validate_max=True, can_delete=True
)
ActionFormSet = forms.formset_factory(
    ActionForm, extra=0, max_num=MAX_ACTIONS, validate_max=True, can_delete=True
)
# The submit buttons that add a row instead of saving: "add_goal", and
# "add_action" with the goal's index as its value.
ADD_GOAL = "add_goal"
ADD_ACTION = "add_action"

EXTRA_GOALS = 2
EXTRA_ACTIONS = 2


def _next_review(current: ActionPlan):
    """The review date a revision starts from: the current one while it is
    still ahead, else as far from today as the current plan's review was from
    its agreement (a plan revised late would otherwise open already overdue)."""
    today = timezone.localdate()
    if current.review_on >= today:
        return current.review_on
    interval = current.review_on - current.agreed_on
    return today + (interval if interval.days > 0 else timedelta(days=182))


class ActionPlanForm(forms.ModelForm):
    """A new version of the plan: the plan's own fields, its goals and, per
    goal, its actions (nested formsets; blank rows are ignored).

    Prefilled from the current version, so a revision starts from what was
    agreed last time. ``based_on`` is the version the form was opened at: a
    version saved by someone else meanwhile is reported, not overtaken.
    """

    based_on = forms.IntegerField(
        widget=forms.HiddenInput, required=False, min_value=0, max_value=2**31 - 1
    )

    class Meta:
        model = ActionPlan
        fields = ["agreed_on", "review_on", "on_breach"]
        widgets = {
            "agreed_on": DateInput(),
            "review_on": DateInput(),
            "on_breach": forms.Textarea(attrs={"rows": 3}),
        }
        help_texts = {
            "on_breach": _(
                "For example: a crisis place for a while, then home again; who contacts whom."
            ),
        }

    error_messages = {
        "review_before_agreed": _("The review date cannot be before the date the plan was agreed."),
        "no_goals": _("Write at least one goal in the tenant's own words."),
        "actions_without_goal": _("Actions need a goal: write the goal text first."),
    }

    def __init__(self, *args, participant, current: ActionPlan | None, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.participant = participant
        self.partners = NetworkContact.objects.filter(participant=participant).order_by("name")
        data = self.data if self.is_bound else None
        goal_initial = []
        actions_initial: list[list[dict]] = []
        if current is not None and not self.is_bound:
            self.initial.setdefault("agreed_on", timezone.localdate())
            self.initial.setdefault("review_on", _next_review(current))
            self.initial.setdefault("on_breach", current.on_breach)
            for goal in current.goals.all():
                goal_initial.append({"life_area": goal.life_area, "text": goal.text})
                actions_initial.append(
                    [
                        {
                            "who": a.who,
                            "staff": a.staff_id,
                            "partner": a.partner_id,
                            "what": a.what,
                            "how": a.how,
                            "by_when": a.by_when,
                        }
                        for a in goal.actions.all()
                    ]
                )
        elif not self.is_bound:
            self.initial.setdefault("agreed_on", timezone.localdate())
        self.fields["based_on"].initial = current.number if current else 0
        # A revision opens with its goals and one blank goal; a first plan
        # with two blank goals. "Add a goal" / "Add an action" give more.
        goal_initial += [{} for _ in range(1 if goal_initial else EXTRA_GOALS)]
        actions_initial += [[] for _ in range(EXTRA_GOALS)]
        self.goals = GoalFormSet(
            data=data, initial=None if self.is_bound else goal_initial, prefix="goal"
        )
        # Read once for the page, not once per action row.
        partners, staff = list(self.partners), list(team_members())
        for index, goal_form in enumerate(self.goals.forms):
            initial = actions_initial[index] if index < len(actions_initial) else []
            # One blank row where actions exist already, two for a new goal.
            initial = initial + [{} for _ in range(1 if initial else EXTRA_ACTIONS)]
            goal_form.actions = ActionFormSet(
                data=data,
                initial=None if self.is_bound else initial,
                prefix=f"goal-{index}-action",
                form_kwargs={"partners": self.partners},
            )
            goal_form.fields["DELETE"].label = _("Remove this goal")
            goal_form.can_add_action = len(goal_form.actions.forms) < MAX_ACTIONS
            for action_form in goal_form.actions.forms:
                fields = action_form.fields
                fields["DELETE"].label = _("Remove this action")
                fields["partner"].choices = [
                    ("", fields["partner"].empty_label),
                    *((p.pk, str(p)) for p in partners),
                ]
                fields["staff"].choices = [
                    ("", fields["staff"].empty_label),
                    *((u.pk, str(u)) for u in staff),
                ]
        self.has_partners = bool(partners)
        self.can_add_goal = len(self.goals.forms) < MAX_GOALS

    @staticmethod
    def with_added_row(data, *, add_goal: bool, add_action: str | None):
        """A copy of the posted ``data`` with one more blank goal (with two
        blank actions) or one more blank action under goal ``add_action``.

        The page is shown again from it, as typed, and nothing is saved: the
        "Add a goal" / "Add an action" buttons work without JavaScript, and
        the submit token and ``based_on`` travel on unchanged.
        """
        data = data.copy()

        def count(key: str) -> int:
            value = data.get(key, "")
            return int(value) if value.isdigit() else 0

        goals = count("goal-TOTAL_FORMS")
        if add_goal and goals < MAX_GOALS:
            data["goal-TOTAL_FORMS"] = str(goals + 1)
            data[f"goal-{goals}-action-TOTAL_FORMS"] = str(EXTRA_ACTIONS)
            data[f"goal-{goals}-action-INITIAL_FORMS"] = "0"
        elif add_action is not None and add_action.isdigit() and int(add_action) < goals:
            key = f"goal-{int(add_action)}-action-TOTAL_FORMS"
            if count(key) < MAX_ACTIONS:
                data[key] = str(count(key) + 1)
        return data

    def show_as_typed(self) -> None:
        """Show the posted values again without validating them (a row was
        added, nothing was submitted for saving): no error messages."""
        _forget_errors(self)
        _forget_formset_errors(self.goals)
        for goal_form in self.goals.forms:
            _forget_formset_errors(goal_form.actions)

    def kept_goals(self) -> list:
        """The goal forms to save: neither blank nor removed."""
        return [g for g in self.goals.forms if not _is_removed(g) and not g.is_blank]

    def is_valid(self) -> bool:
        valid = super().is_valid()
        valid = self.goals.is_valid() and valid
        for goal_form in self.goals.forms:
            if _is_removed(goal_form):
                # A removed goal takes its actions with it, whatever they hold.
                _forget_errors(goal_form)
                _forget_formset_errors(goal_form.actions)
                continue
            valid = goal_form.actions.is_valid() and valid
            for action_form in goal_form.actions.forms:
                if _is_removed(action_form):
                    _forget_errors(action_form)
        return valid and not self._nested_errors()

    def _nested_errors(self) -> bool:
        """Rules across the nested forms, reported on the plan form."""
        if not self.goals.is_valid():
            return True
        found = False
        if not self.kept_goals():
            self.add_error(
                None, forms.ValidationError(self.error_messages["no_goals"], code="no_goals")
            )
            found = True
        for goal_form in self.goals.forms:
            if _is_removed(goal_form):
                continue
            if goal_form.is_blank and any(
                hasattr(a, "cleaned_data") and not _is_removed(a) and not a.is_blank
                for a in goal_form.actions.forms
            ):
                goal_form.add_error(
                    "text",
                    forms.ValidationError(
                        self.error_messages["actions_without_goal"], code="actions_without_goal"
                    ),
                )
                found = True
        return found

    def clean(self):
        cleaned = super().clean()
        _check_date_order(self, earlier="agreed_on", later="review_on", code="review_before_agreed")
        return cleaned

    def _post_clean(self):
        # The service builds and validates the new version (with the number
        # and the author the form does not know); the form checks values only.
        pass

    def goal_data(self):
        """The cleaned goals and actions, blank and removed rows left out."""
        from .services import ActionData, GoalData

        out = []
        for goal_form in self.kept_goals():
            actions = [
                ActionData(
                    who=a.cleaned_data["who"],
                    what=a.cleaned_data["what"].strip(),
                    how=a.cleaned_data.get("how", ""),
                    by_when=a.cleaned_data.get("by_when"),
                    staff=a.cleaned_data.get("staff"),
                    partner=a.cleaned_data.get("partner"),
                )
                for a in goal_form.actions.forms
                if not _is_removed(a) and not a.is_blank
            ]
            out.append(
                GoalData(
                    life_area=goal_form.cleaned_data["life_area"],
                    text=goal_form.cleaned_data["text"].strip(),
                    actions=actions,
                )
            )
        return out


# --- Crisis placements -----------------------------------------------------------


class PlacementForm(forms.ModelForm):
    class Meta:
        model = CrisisPlacement
        fields = ["participant", "place", "start", "end", "reason", "note"]
        widgets = {
            "start": DateInput(),
            "end": DateInput(),
            "note": forms.Textarea(attrs={"rows": 3}),
        }
        help_texts = {"end": _("Leave empty while the stay goes on.")}

    error_messages = {
        "end_before_start": _("The end date cannot be before the start date."),
    }

    def __init__(self, *args, user, participant=None, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["participant"].queryset = participant_choices(user=user)
        self.fields["place"].queryset = CrisisPlace.objects.filter(is_active=True)
        if not self.is_bound:
            self.initial.setdefault("start", timezone.localdate())
            if participant is not None:
                self.initial.setdefault("participant", participant.pk)

    def clean(self):
        cleaned = super().clean()
        _check_date_order(self, earlier="start", later="end", code="end_before_start")
        return cleaned

    def validate_constraints(self, exclude=None):
        # The service checks overlaps and capacity with clear messages, and
        # the database backs it up; the model's generic constraint message
        # would only repeat them less clearly.
        return None

    def _post_clean(self):
        # The instance is built by the service; only field values matter here.
        pass


class PlacementEndForm(VersionedModelForm):
    class Meta:
        model = CrisisPlacement
        fields = ["end"]
        widgets = {"end": DateInput()}
        labels = {"end": _("Day the participant went home")}

    error_messages = {
        "end_required": _("Enter the day the stay ended."),
    }

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["end"].required = True
        self.fields["end"].error_messages["required"] = self.error_messages["end_required"]
        if not self.is_bound:
            self.initial["end"] = timezone.localdate()

    def _post_clean(self):
        pass


# --- Meeting place ---------------------------------------------------------------


class ActivityForm(forms.ModelForm):
    class Meta:
        model = Activity
        fields = ["title", "date", "description"]
        widgets = {"date": DateInput(), "description": forms.Textarea(attrs={"rows": 3})}

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        if not self.is_bound:
            self.initial.setdefault("date", timezone.localdate())


class AttendanceForm(forms.Form):
    participants = forms.ModelMultipleChoiceField(
        label=_("Who took part"),
        queryset=None,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )

    def __init__(self, *args, user, activity: Activity, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["participants"].queryset = participant_choices(user=user)
        if not self.is_bound:
            self.initial["participants"] = [a.participant_id for a in activity.attendances.all()]
