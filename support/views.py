"""Pages of the support app. Who may open each is in ``ACCESS_TABLE`` (the
team); rows are scoped by ``support.selectors`` (404 for missing and not
allowed). Views bind forms and call one service each."""

from datetime import timedelta

from django.http import HttpResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.functional import cached_property
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django.views import View
from django.views.generic import DetailView, FormView, ListView, TemplateView

from bostadforst.exports import download_response
from bostadforst.identity import hidden_ids
from bostadforst.mixins import ServiceFormMixin, with_submit_token
from bostadforst.records import (
    RecordMixin,
    query_id,
    record_exported,
    record_exported_many,
    record_get,
)
from participants.consent import contacts_without_consent

from . import caseload, selectors, services
from .forms import (
    ADD_ACTION,
    ADD_GOAL,
    ActionPlanForm,
    ActivityForm,
    AttendanceForm,
    PlacementEndForm,
    PlacementForm,
    VisitCorrectionForm,
    VisitEditForm,
    VisitQuickLogForm,
    VisitSignForm,
)
from .models import LifeArea
from .templatetags.support_tags import REVIEW_LABELS


def _participant_from_query(request):
    """An optional ``?participant=<id>`` preselection (an id, never a
    personnummer). The form then shows the person's plan goals or name: a
    read of the person, through the read path (404 for someone not active)."""
    pk = query_id(request, "participant")
    if pk is None:
        return None
    return record_get(request, selectors.participant_choices(user=request.user), pk=pk)


class ParticipantPreselectMixin:
    """A form view whose form takes the user and the person preselected by
    ``?participant=<id>`` (None without one)."""

    def get_form_kwargs(self):
        return {
            **super().get_form_kwargs(),
            "user": self.request.user,
            "participant": _participant_from_query(self.request),
        }


class ParticipantScopedMixin:
    """Pages under /participants/<participant_pk>/ of the support app."""

    @cached_property
    def participant(self):
        return record_get(
            self.request,
            selectors.participant_queryset(user=self.request.user),
            pk=self.kwargs["participant_pk"],
        )

    def get_context_data(self, **kwargs):
        return super().get_context_data(participant=self.participant, **kwargs)


# --- My participants -------------------------------------------------------------


# "My participants"' list of the worker's unsigned journal entries.
UNSIGNED = "unsigned"
# The plan-review list's filter for the lapsed reviews only.
OVERDUE = "overdue"


class MyParticipantsView(TemplateView):
    """The support worker's caseload. ``?show=`` narrows it to what a start
    page item counted (``caseload.SHOWS``), or lists the worker's unsigned
    journal entries instead (``show=unsigned``); any other value shows all."""

    template_name = "support/my_participants.html"
    SHOW_LABELS = {
        caseload.NO_CONTACT: _("No contact for more than %(days)s days"),
        caseload.REVIEW: _("Plan review overdue, due soon or no plan"),
        caseload.INCIDENTS: _("Open tenancy incidents"),
        caseload.CRISIS: _("At a crisis place now"),
        UNSIGNED: _("Your unsigned journal entries older than 24 hours"),
    }

    def get_context_data(self, **kwargs):
        today = timezone.localdate()
        show = self.request.GET.get("show", "")
        show = show if show in self.SHOW_LABELS else ""
        context = {"today": today, "show": show}
        if show:
            context["show_label"] = self.SHOW_LABELS[show] % {
                "days": caseload.contact_overdue_days()
            }
        if show == UNSIGNED:
            context["unsigned"] = list(caseload.unsigned_visits(user=self.request.user))
            context["rows"] = []
        else:
            context["rows"] = selectors.caseload_for_user(
                user=self.request.user, today=today, show=show
            )
        return super().get_context_data(**context, **kwargs)


class MyParticipantsDownloadView(View):
    """The support worker's caseload as CSV or .xlsx, the same rows as the
    page; each person in the file is logged as exported (the read path)."""

    def get(self, request, fmt: str = "csv"):
        today = timezone.localdate()
        rows = selectors.caseload_for_user(user=request.user, today=today)
        record_exported_many(request, [row.participant for row in rows])
        header = [
            gettext("Participant"),
            gettext("Personal identity number"),
            gettext("Last visit"),
            gettext("Days since"),
            gettext("Open incidents"),
            gettext("Plan review"),
            gettext("Review status"),
            gettext("Crisis place"),
        ]
        cells = (
            [
                str(row.participant),
                row.participant.personnummer_masked,
                row.last_visit_at,
                row.days_since,
                row.open_incidents,
                row.review_on,
                str(REVIEW_LABELS[row.review_status][0]),
                row.open_placement or "",
            ]
            for row in rows
        )
        return download_response(fmt, f"mina-deltagare-{today.isoformat()}", header, cells)


# --- Support visits --------------------------------------------------------------


class VisitQuickLogView(ParticipantPreselectMixin, ServiceFormMixin, FormView):
    form_class = VisitQuickLogForm
    template_name = "support/visit_quick_log.html"
    success_message = _("The visit was logged.")

    def perform(self, form):
        return services.visit_log(
            participant=form.cleaned_data["participant"],
            acting_user=self.request.user,
            **form.visit_data(),
        )

    def get_success_url(self):
        # The visit just saved, with its status and what can still be done
        # with it (issue 17: "Mina deltagare" may not even show the person).
        return reverse("support:visit-detail", kwargs={"pk": self.object.pk})


class VisitGoalChoicesView(TemplateView):
    """The goals box of the quick-log form for ``?participant=<id>``.

    The quick-log page fetches it when the participant is chosen
    (``support/quick_log.js``), so the goals of that person's current plan
    can be ticked without reloading the form and losing what was typed.
    """

    template_name = "support/_partials/visit_goals.html"

    def get_context_data(self, **kwargs):
        participant = _participant_from_query(self.request)
        form = VisitQuickLogForm(user=self.request.user, participant=participant)
        return super().get_context_data(form=form, **kwargs)


class VisitDetailView(RecordMixin, DetailView):
    template_name = "support/visit_detail.html"
    context_object_name = "visit"

    def record_queryset(self):
        return selectors.visit_queryset(user=self.request.user)

    def get_context_data(self, **kwargs):
        visit = self.object
        return super().get_context_data(
            can_edit=not visit.is_locked and visit.author_id == self.request.user.pk,
            can_sign=visit.signed_at is None
            and not visit.is_locked
            and visit.author_id == self.request.user.pk,
            sign_form=with_submit_token(VisitSignForm(instance=visit)),
            **kwargs,
        )


class VisitObjectFormMixin(ServiceFormMixin, RecordMixin):
    """Form pages about one visit (edit, sign, correct)."""

    def record_queryset(self):
        return selectors.visit_queryset(user=self.request.user)

    @property
    def visit(self):
        return self.get_object()

    def get_context_data(self, **kwargs):
        return super().get_context_data(visit=self.visit, **kwargs)

    def get_success_url(self):
        return reverse("support:visit-detail", kwargs={"pk": self.object.pk})


class VisitEditView(VisitObjectFormMixin, FormView):
    form_class = VisitEditForm
    template_name = "support/visit_form.html"
    success_message = _("The journal entry was saved.")

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "instance": self.visit, "user": self.request.user}

    def perform(self, form):
        return services.visit_update(
            visit=self.visit, acting_user=self.request.user, **form.visit_data()
        )


class VisitSignView(VisitObjectFormMixin, FormView):
    form_class = VisitSignForm
    template_name = "support/visit_sign.html"
    success_message = _("The journal entry was signed and is now locked.")

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "instance": self.visit}

    def perform(self, form):
        return services.visit_sign(visit=self.visit, acting_user=self.request.user)


class VisitCorrectView(VisitObjectFormMixin, FormView):
    form_class = VisitCorrectionForm
    template_name = "support/visit_form.html"
    success_message = _("The correction was saved next to the original entry.")

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "original": self.visit, "user": self.request.user}

    def get_context_data(self, **kwargs):
        return super().get_context_data(is_correction=True, **kwargs)

    def perform(self, form):
        return services.visit_correct(
            original=self.visit, acting_user=self.request.user, **form.visit_data()
        )


class VisitListView(ParticipantScopedMixin, ListView):
    template_name = "support/visit_list.html"
    context_object_name = "visits"
    paginate_by = 25

    def get_queryset(self):
        return selectors.visit_list_for_participant(
            user=self.request.user, participant=self.participant
        )


# --- Action plans ----------------------------------------------------------------


class PlanListView(ParticipantScopedMixin, ListView):
    template_name = "support/plan_list.html"
    context_object_name = "plans"

    def get_queryset(self):
        return selectors.plan_versions(participant=self.participant)

    def get_context_data(self, **kwargs):
        today = timezone.localdate()
        context = super().get_context_data(**kwargs)
        plans = context["plans"]
        context["current"] = plans[0] if plans else None
        if context["current"]:
            context["review_status"] = selectors.review_status(
                context["current"].review_on, today=today
            )
        return context


class PlanCreateView(ParticipantScopedMixin, ServiceFormMixin, FormView):
    """Write the first plan, or revise: a new version prefilled from the current."""

    form_class = ActionPlanForm
    template_name = "support/plan_form.html"
    success_message = _("The new version of the action plan was saved.")

    @cached_property
    def current(self):
        return selectors.plan_current(participant=self.participant)

    def get_form_kwargs(self):
        kwargs = {
            **super().get_form_kwargs(),
            "participant": self.participant,
            "current": self.current,
        }
        if getattr(self, "added_row_data", None) is not None:
            kwargs["data"] = self.added_row_data
        return kwargs

    def post(self, request, *args, **kwargs):
        # "Add a goal" / "Add an action": the same page again with one more
        # blank row and everything typed kept; nothing is saved and the
        # submit token is not claimed, so the real save is still the first.
        add_goal = ADD_GOAL in request.POST
        add_action = request.POST.get(ADD_ACTION)
        if add_goal or add_action is not None:
            self.added_row_data = ActionPlanForm.with_added_row(
                request.POST, add_goal=add_goal, add_action=add_action
            )
            form = self.get_form()
            form.show_as_typed()
            return self.render_to_response(self.get_context_data(form=form))
        return super().post(request, *args, **kwargs)

    def get_context_data(self, **kwargs):
        return super().get_context_data(
            current=self.current,
            add_goal=ADD_GOAL,
            add_action=ADD_ACTION,
            **kwargs,
        )

    def perform(self, form):
        data = form.cleaned_data
        return services.plan_create_version(
            participant=self.participant,
            agreed_on=data["agreed_on"],
            review_on=data["review_on"],
            on_breach=data["on_breach"],
            goals=form.goal_data(),
            based_on=data.get("based_on"),
            acting_user=self.request.user,
        )

    def get_success_url(self):
        return reverse("support:plan-detail", kwargs={"pk": self.object.pk})


class PlanDetailView(RecordMixin, DetailView):
    template_name = "support/plan_detail.html"
    context_object_name = "plan"

    def record_queryset(self):
        return selectors.plan_queryset(user=self.request.user)

    def get_context_data(self, **kwargs):
        plan = self.object
        latest = selectors.plan_versions(participant=plan.participant).first()
        partners = [a.partner_id for goal in plan.goals.all() for a in goal.actions.all()]
        return super().get_context_data(
            is_current=latest is not None and latest.pk == plan.pk,
            # Collaborating parties the team may not contact: no consent holds.
            partners_without_consent=contacts_without_consent(contact_ids=partners),
            latest=latest,
            review_status=selectors.review_status(plan.review_on, today=timezone.localdate()),
            life_areas=LifeArea,
            **kwargs,
        )


class PlanPrintView(PlanDetailView):
    """The tenant's copy in plain Swedish, for the browser's print dialogue."""

    template_name = "support/plan_print.html"


class PlanPdfView(RecordMixin, DetailView):
    def record_queryset(self):
        return selectors.plan_queryset(user=self.request.user)

    def get(self, request, *args, **kwargs):
        plan = self.get_object()
        record_exported(request, plan)
        # Imported here: loading WeasyPrint parses its stylesheets (slow), and
        # only this page needs it.
        from .pdf import render_plan_pdf

        pdf = render_plan_pdf({"plan": plan, "printed_on": timezone.localdate()})
        response = HttpResponse(pdf, content_type="application/pdf")
        response["Content-Disposition"] = f'inline; filename="handlingsplan-{plan.number}.pdf"'
        return response


class PlanReviewListView(ListView):
    """The team's list of plans to review: overdue first, then due soon and
    active participants without a plan. Paged: in a large municipality
    thousands are due at once."""

    template_name = "support/plan_review_list.html"
    paginate_by = 50

    def get_queryset(self):
        self.today = timezone.localdate()
        # ``?status=overdue``: only the lapsed reviews (the manager's start page).
        self.overdue_only = self.request.GET.get("status") == OVERDUE
        rows = selectors.plan_reviews(user=self.request.user, today=self.today)
        return rows.filter(review_on__lt=self.today) if self.overdue_only else rows

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context.update(
            rows=selectors.with_review_status(context["object_list"], today=self.today),
            today=self.today,
            due_soon_days=selectors.REVIEW_DUE_SOON_DAYS,
            overdue_only=self.overdue_only,
            querystring=f"status={OVERDUE}" if self.overdue_only else "",
        )
        return context


# --- Crisis places ---------------------------------------------------------------


class CrisisPlaceListView(TemplateView):
    template_name = "support/crisis_place_list.html"

    def get_context_data(self, **kwargs):
        today = timezone.localdate()
        # The viewer's protected people are otherwise read only when the
        # first placement's person is loaded: one query more when anybody is
        # at a crisis place than when nobody is. Read them always, so the
        # page's query count does not depend on the data.
        hidden_ids("person")
        return super().get_context_data(
            places=selectors.crisis_place_occupancy(day=today),
            placements=selectors.placements_current(user=self.request.user, day=today),
            today=today,
            **kwargs,
        )


class PlacementCreateView(ParticipantPreselectMixin, ServiceFormMixin, FormView):
    form_class = PlacementForm
    template_name = "support/placement_form.html"
    success_message = _("The crisis placement was recorded. The tenancy is unchanged.")

    def perform(self, form):
        data = form.cleaned_data
        return services.placement_create(
            participant=data["participant"],
            place=data["place"],
            start=data["start"],
            end=data.get("end"),
            reason=data["reason"],
            note=data["note"],
            acting_user=self.request.user,
        )

    def get_success_url(self):
        return reverse("support:placement-detail", kwargs={"pk": self.object.pk})


class PlacementDetailView(RecordMixin, DetailView):
    template_name = "support/placement_detail.html"
    context_object_name = "placement"

    def record_queryset(self):
        return selectors.placement_queryset(user=self.request.user)


class PlacementEndView(ServiceFormMixin, RecordMixin, FormView):
    form_class = PlacementEndForm
    template_name = "support/placement_end.html"
    success_message = _("The stay was ended; the participant is back home.")

    def record_queryset(self):
        return selectors.placement_queryset(user=self.request.user)

    @property
    def placement(self):
        return self.get_object()

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "instance": self.placement}

    def get_context_data(self, **kwargs):
        return super().get_context_data(placement=self.placement, **kwargs)

    def perform(self, form):
        return services.placement_end(
            placement=self.placement, end=form.cleaned_data["end"], acting_user=self.request.user
        )

    def get_success_url(self):
        return reverse("support:placement-detail", kwargs={"pk": self.object.pk})


# --- Meeting place ---------------------------------------------------------------


class ActivityListView(ListView):
    template_name = "support/activity_list.html"
    context_object_name = "activities"
    paginate_by = 20

    def get_queryset(self):
        return selectors.activity_list(user=self.request.user)

    def get_context_data(self, **kwargs):
        since = timezone.localdate() - timedelta(days=365)
        return super().get_context_data(
            participation=selectors.participation_counts(user=self.request.user, since=since),
            since=since,
            **kwargs,
        )


class ActivityCreateView(ServiceFormMixin, FormView):
    form_class = ActivityForm
    template_name = "support/activity_form.html"
    success_message = _("The activity was saved. Now mark who took part.")

    def perform(self, form):
        data = form.cleaned_data
        return services.activity_create(
            title=data["title"],
            date=data["date"],
            description=data["description"],
            acting_user=self.request.user,
        )

    def get_success_url(self):
        return reverse("support:activity-detail", kwargs={"pk": self.object.pk})


class ActivityDetailView(RecordMixin, DetailView):
    template_name = "support/activity_detail.html"
    context_object_name = "activity"

    def record_queryset(self):
        return selectors.activity_queryset(user=self.request.user)


class ActivityAttendanceView(ServiceFormMixin, RecordMixin, FormView):
    form_class = AttendanceForm
    template_name = "support/activity_attendance.html"
    success_message = _("The attendance was saved.")

    def record_queryset(self):
        return selectors.activity_queryset(user=self.request.user)

    @property
    def activity(self):
        return self.get_object()

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "user": self.request.user, "activity": self.activity}

    def get_context_data(self, **kwargs):
        return super().get_context_data(activity=self.activity, **kwargs)

    def perform(self, form):
        return services.activity_set_attendance(
            activity=self.activity,
            participants=form.cleaned_data["participants"],
            acting_user=self.request.user,
        )

    def get_success_url(self):
        return reverse("support:activity-detail", kwargs={"pk": self.activity.pk})
