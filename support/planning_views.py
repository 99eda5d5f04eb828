"""Pages of the planned visits, the undo of a visit just logged and the
calendar feed (issue 17). Access per page is in ``ACCESS_TABLE``; plans are
scoped by ``support.planning`` (404 for another worker's)."""

from django.conf import settings
from django.contrib.auth.decorators import login_not_required
from django.http import Http404, HttpResponse
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe
from django.views.generic import FormView, TemplateView

from bostadforst.mixins import ServiceFormMixin
from bostadforst.records import RecordMixin, record_exported

from . import planning
from .calendar import calendar_ics
from .models import PlannedVisit
from .planning_forms import (
    CalendarResetForm,
    PlannedVisitCancelForm,
    PlannedVisitForm,
    PlannedVisitLogForm,
    VisitUndoForm,
)
from .views import ParticipantPreselectMixin, VisitObjectFormMixin


class VisitUndoView(VisitObjectFormMixin, FormView):
    """Take back a visit just saved, within its undo window (issue 17)."""

    form_class = VisitUndoForm
    template_name = "support/visit_undo.html"
    success_message = _("The visit was undone and removed from the journal.")

    def get_context_data(self, **kwargs):
        visit = self.visit
        return super().get_context_data(
            can_undo=visit.author_id == self.request.user.pk and visit.can_undo(), **kwargs
        )

    def perform(self, form):
        visit = self.visit
        self.participant_url = visit.participant.get_absolute_url()
        return planning.visit_undo(visit=visit, acting_user=self.request.user)

    def get_success_url(self):
        # Back to the plan it fulfilled (open again), else to the person.
        if self.object is not None:
            return self.object.get_absolute_url()
        return self.participant_url


class PlannedVisitListView(TemplateView):
    """ "Planerade besök": the worker's open plans, missed ones first."""

    template_name = "support/planned_visit_list.html"

    def get_context_data(self, **kwargs):
        today = timezone.localdate()
        return super().get_context_data(
            groups=planning.planned_visits_for(user=self.request.user, today=today),
            today=today,
            cap=planning.PLAN_LIST_CAP,
            **kwargs,
        )


class PlannedVisitCreateView(ParticipantPreselectMixin, ServiceFormMixin, FormView):
    form_class = PlannedVisitForm
    template_name = "support/planned_visit_form.html"
    success_message = _("The visit was planned.")

    def perform(self, form):
        data = form.cleaned_data
        return planning.planned_visit_create(
            participant=data["participant"],
            staff=data["staff"],
            planned_at=data["planned_at"],
            duration_minutes=data["duration_minutes"],
            note=data["note"],
            acting_user=self.request.user,
        )

    def get_success_url(self):
        return reverse("support:planned-visit-list")


class PlannedVisitRecordMixin(RecordMixin):
    def record_queryset(self):
        return planning.planned_visit_queryset(user=self.request.user)

    @property
    def plan(self) -> PlannedVisit:
        return self.get_object()

    def get_context_data(self, **kwargs):
        return super().get_context_data(plan=self.plan, today=timezone.localdate(), **kwargs)


class PlannedVisitDetailView(PlannedVisitRecordMixin, TemplateView):
    template_name = "support/planned_visit_detail.html"


class PlannedVisitLogView(ServiceFormMixin, PlannedVisitRecordMixin, FormView):
    """One tap from a plan to its visit: the quick log filled in from the
    plan; saving logs the visit and marks the plan logged, in one go."""

    form_class = PlannedVisitLogForm
    template_name = "support/planned_visit_log.html"
    success_message = _("The visit was logged and the plan marked as done.")

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "user": self.request.user, "plan": self.plan}

    def perform(self, form):
        return planning.planned_visit_log(
            plan=self.plan, acting_user=self.request.user, **form.visit_data()
        )

    def get_success_url(self):
        return reverse("support:visit-detail", kwargs={"pk": self.object.pk})


class PlannedVisitCancelView(ServiceFormMixin, PlannedVisitRecordMixin, FormView):
    form_class = PlannedVisitCancelForm
    template_name = "support/planned_visit_cancel.html"
    success_message = _("The planned visit was cancelled.")

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "instance": self.plan}

    def perform(self, form):
        return planning.planned_visit_cancel(plan=self.plan, acting_user=self.request.user)

    def get_success_url(self):
        return reverse("support:planned-visit-list")


# --- Calendar feed ---------------------------------------------------------------

# The session key under which a new address waits to be shown once.
NEW_FEED_TOKEN = "support_new_calendar_token"


class CalendarSettingsView(ServiceFormMixin, FormView):
    """ "Kalender": make or replace the secret address of the worker's
    calendar feed. Only a hash is stored, so the address is shown once,
    right after it is made (kept in the session for that one page)."""

    form_class = CalendarResetForm
    template_name = "support/calendar_settings.html"
    success_message = _("A new calendar address was made. The old address no longer works.")

    def get_context_data(self, **kwargs):
        token = self.request.session.pop(NEW_FEED_TOKEN, None)
        feed_url = webcal_url = ""
        if token:
            feed_url = self.request.build_absolute_uri(
                reverse("support:calendar-feed") + "?token=" + token
            )
            webcal_url = "webcal://" + feed_url.split("://", 1)[1]
        feed = getattr(self.request.user, "calendar_feed", None)
        return super().get_context_data(
            feed=feed, feed_url=feed_url, webcal_url=webcal_url, **kwargs
        )

    def perform(self, form):
        token = planning.calendar_feed_reset(user=self.request.user)
        self.request.session[NEW_FEED_TOKEN] = token
        return None

    def get_success_url(self):
        return reverse("support:calendar")


@login_not_required
@never_cache
@require_safe
def calendar_feed(request):
    """The worker's planned visits as an .ics feed, for a calendar app.

    No login: the secret token in the query string is the key (the path
    alone is what the access log of Gunicorn and Django's own request
    logging record, so the token stays out of the logs). A wrong, replaced
    or missing token, or a feed of someone no longer in the team: 404.
    """
    token = request.GET.get("token", "")
    feed = None
    if 20 <= len(token) <= 100 and token.isascii():
        feed = planning.calendar_feed_for_token(planning.calendar_token_hash(token))
    if feed is None:
        raise Http404("calendar feed")
    user = feed.user
    plans = planning.calendar_feed_plans(user=user, now=timezone.now())
    with translation.override(settings.LANGUAGE_CODE):
        body = calendar_ics(plans, name=gettext("Planned visits"))
    # One row for the fetch (the feed names no one: codes and times only).
    record_exported(user, feed)
    response = HttpResponse(body, content_type="text/calendar; charset=utf-8")
    response["Content-Disposition"] = 'inline; filename="planerade-besok.ics"'
    return response
