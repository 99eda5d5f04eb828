"""Views of the housing app: thin; each form page calls one service."""

import copy

from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.views.generic import CreateView, DetailView, FormView, ListView, UpdateView

from bostadforst.mixins import ServiceFormMixin
from bostadforst.records import RecordMixin, query_id, record_get

from . import selectors, services
from .forms import (
    ApartmentForm,
    IncidentForm,
    TenancyAssignForm,
    TenancyEndForm,
    TenancyProviderForm,
    TenancyTakeoverForm,
)
from .models import Apartment, TenancyIncident

OVERLAP_MESSAGE = _(
    "The database refused the change: the apartment or the participant already has a "
    "tenancy in this period (no double letting). Nothing was saved."
)


def participant_url(pk: int) -> str:
    """The participant page, once the participants app provides it."""
    try:
        return reverse("participants:participant-detail", kwargs={"pk": pk})
    except NoReverseMatch:
        return ""


def _field_values(form) -> dict:
    """The form's model field values for a service (the version travels on
    the instance, not as a field)."""
    return {k: v for k, v in form.cleaned_data.items() if k != "version"}


class ApartmentListView(ListView):
    template_name = "housing/apartment_list.html"
    context_object_name = "apartments"
    paginate_by = 25

    def get_queryset(self):
        occupancy = self.request.GET.get("occupancy", "")
        self.filters = {
            "occupancy": occupancy if occupancy in selectors.Occupancy.CHOICES else "",
            "landlord": query_id(self.request, "landlord"),
            "q": self.request.GET.get("q", "").strip()[:100],
        }
        return selectors.apartment_list(user=self.request.user, **self.filters)

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["filters"] = self.filters
        context["landlords"] = list(selectors.landlord_list(user=self.request.user))
        params = self.request.GET.copy()
        params.pop("page", None)
        context["querystring"] = params.urlencode()
        return context


class ApartmentDetailView(RecordMixin, DetailView):
    template_name = "housing/apartment_detail.html"
    context_object_name = "apartment"

    def record_queryset(self):
        return selectors.apartment_detail_queryset(user=self.request.user)

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        history = self.object.tenancy_history
        context["tenancies"] = history
        today = timezone.localdate()
        context["current"] = next((t for t in history if t.is_ongoing), None)
        self.object.is_let = any(t.is_active_on(today) for t in history)
        context["open_incidents"] = [i for t in history for i in t.incidents.all() if i.is_open]
        return context


class ApartmentCreateView(ServiceFormMixin, CreateView):
    model = Apartment
    form_class = ApartmentForm
    template_name = "housing/apartment_form.html"
    success_message = _("The apartment was saved.")

    def perform(self, form):
        data = _field_values(form)
        return services.apartment_create(acting_user=self.request.user, **data)

    def get_success_url(self):
        return self.object.get_absolute_url()


class ApartmentUpdateView(ServiceFormMixin, RecordMixin, UpdateView):
    form_class = ApartmentForm
    template_name = "housing/apartment_form.html"
    context_object_name = "apartment"
    success_message = _("The apartment was saved.")

    def record_queryset(self):
        return selectors.apartment_queryset(user=self.request.user)

    def perform(self, form):
        data = _field_values(form)
        return services.apartment_update(
            apartment=copy.copy(form.instance), acting_user=self.request.user, **data
        )

    def get_success_url(self):
        return self.object.get_absolute_url()


class TenancyAssignView(ServiceFormMixin, FormView):
    """Let an apartment to a participant (``?apartment=`` / ``?participant=``
    preselect one, e.g. from the apartment or the participant page)."""

    form_class = TenancyAssignForm
    template_name = "housing/tenancy_assign.html"
    success_message = _("The apartment was let and the participant is now housed.")
    integrity_error_message = OVERLAP_MESSAGE

    def get_form_kwargs(self):
        kwargs = super().get_form_kwargs()
        kwargs["participants"] = selectors.participant_choices(user=self.request.user)
        kwargs["offered_participants"] = selectors.assignable_participants(user=self.request.user)
        kwargs["apartments"] = selectors.lettable_apartments(user=self.request.user)
        kwargs["staff"] = selectors.support_staff()
        return kwargs

    def get_initial(self):
        initial = super().get_initial()
        apartment = query_id(self.request, "apartment")
        if apartment is not None:
            initial["apartment"] = apartment
        participant = query_id(self.request, "participant")
        if participant is not None:
            # Letting to a named person is about that person: a read.
            person = record_get(
                self.request,
                selectors.participant_choices(user=self.request.user),
                pk=participant,
            )
            initial["participant"] = person.pk
            worker = selectors.support_worker_default_for(participant=person)
            if worker is not None:
                initial["support_worker"] = worker.pk
        return initial

    def perform(self, form):
        return services.tenancy_assign(acting_user=self.request.user, **form.cleaned_data)

    def get_success_url(self):
        return self.object.get_absolute_url()


class TenancyDetailView(RecordMixin, DetailView):
    template_name = "housing/tenancy_detail.html"
    context_object_name = "tenancy"

    def record_queryset(self):
        return selectors.tenancy_queryset(user=self.request.user).prefetch_related("incidents")

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["participant_url"] = participant_url(self.object.participant_id)
        context["takeover_correction"] = selectors.tenancy_last_correction(tenancy=self.object)
        return context


class _TenancyFormView(ServiceFormMixin, RecordMixin, UpdateView):
    context_object_name = "tenancy"
    integrity_error_message = OVERLAP_MESSAGE

    def record_queryset(self):
        return selectors.tenancy_queryset(user=self.request.user)

    def get_success_url(self):
        return self.object.get_absolute_url()


class TenancyTakeoverView(_TenancyFormView):
    """Record the takeover, or correct the date once it is recorded."""

    form_class = TenancyTakeoverForm
    template_name = "housing/tenancy_takeover.html"

    def perform(self, form):
        tenancy = copy.copy(form.instance)
        if form.correcting:
            self.success_message = _("The takeover date was corrected.")
            return services.tenancy_correct_takeover(
                tenancy=tenancy,
                takeover=form.cleaned_data["takeover"],
                reason=form.cleaned_data["reason"],
                acting_user=self.request.user,
            )
        self.success_message = _("The contract takeover was recorded.")
        return services.tenancy_record_takeover(
            tenancy=tenancy,
            takeover=form.cleaned_data["takeover"],
            acting_user=self.request.user,
        )


class TenancyProviderView(_TenancyFormView):
    form_class = TenancyProviderForm
    template_name = "housing/tenancy_provider.html"
    success_message = _("The provider was saved.")

    def perform(self, form):
        return services.tenancy_set_provider(
            tenancy=copy.copy(form.instance),
            provider=form.cleaned_data["provider"],
            acting_user=self.request.user,
        )


class TenancyEndView(_TenancyFormView):
    form_class = TenancyEndForm
    template_name = "housing/tenancy_end.html"
    success_message = _("The tenancy was ended.")

    def perform(self, form):
        return services.tenancy_end(
            tenancy=copy.copy(form.instance),
            move_out=form.cleaned_data["move_out"],
            exit_reason=form.cleaned_data["exit_reason"],
            note=form.cleaned_data["note"],
            close_case=form.cleaned_data["close_case"],
            acting_user=self.request.user,
        )


class IncidentCreateView(ServiceFormMixin, CreateView):
    model = TenancyIncident
    form_class = IncidentForm
    template_name = "housing/incident_form.html"
    success_message = _("The incident was saved.")

    def dispatch(self, request, *args, **kwargs):
        # The form shows the tenancy: opening it is a read of the person's record.
        self.tenancy = record_get(
            request, selectors.tenancy_queryset(user=request.user), pk=kwargs["pk"]
        )
        return super().dispatch(request, *args, **kwargs)

    def get_context_data(self, **kwargs):
        return super().get_context_data(tenancy=self.tenancy, **kwargs)

    def perform(self, form):
        data = _field_values(form)
        return services.incident_create(tenancy=self.tenancy, acting_user=self.request.user, **data)

    def get_success_url(self):
        return self.tenancy.get_absolute_url()


class IncidentUpdateView(ServiceFormMixin, RecordMixin, UpdateView):
    form_class = IncidentForm
    template_name = "housing/incident_form.html"
    context_object_name = "incident"
    success_message = _("The incident was saved.")

    def record_queryset(self):
        return selectors.incident_queryset(user=self.request.user)

    def get_context_data(self, **kwargs):
        return super().get_context_data(tenancy=self.object.tenancy, **kwargs)

    def perform(self, form):
        data = _field_values(form)
        return services.incident_update(
            incident=copy.copy(form.instance), acting_user=self.request.user, **data
        )

    def get_success_url(self):
        return reverse("housing:tenancy-detail", kwargs={"pk": self.object.tenancy_id})


class EvictionRiskListView(ListView):
    template_name = "housing/eviction_risk_list.html"
    context_object_name = "incidents"
    paginate_by = 50

    def get_queryset(self):
        return selectors.eviction_risk_list(user=self.request.user)

    def get_context_data(self, **kwargs):
        return super().get_context_data(today=timezone.localdate(), **kwargs)
