"""Views for referrals and participants: thin, one service per submit.

Access by role is in ``bostadforst.permissions.ACCESS_TABLE``; row scoping is
in the selectors (a social worker reaches only referrals they filed: anything
else answers 404). Searches by personnummer are POSTed and never appear in a
URL; the results page itself is the POST answer, and its page links are
buttons that post the search again.
"""

from django.conf import settings
from django.http import HttpResponseBadRequest
from django.urls import reverse
from django.utils import timezone
from django.utils.functional import cached_property
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django.views import View
from django.views.generic import DetailView, FormView, ListView, UpdateView

from bostadforst.exports import download_response
from bostadforst.mixins import ServiceFormMixin, with_submit_token
from bostadforst.records import RecordMixin, record_exported_many
from bostadforst.registry import participant_sections
from bostadforst.roles import MANAGERS, TEAM, role_of
from bostadforst.security import safe_next

from . import consent, eligibility, protection, selectors, services
from .forms import (
    AssessmentForm,
    InformationForm,
    LogEntryForm,
    NetworkContactForm,
    ParticipantFilterForm,
    ParticipantForm,
    ReferralCreateForm,
    ReferralDecisionForm,
    ReferralFilterForm,
    ReferralVersionForm,
    ReferralWithdrawForm,
    SearchForm,
)
from .models import Criterion, MatchStatus, Participant, ReferralStatus
from .timeline import timeline_page

PAGE_SIZE = 25


def _is_team(user) -> bool:
    return role_of(user) in TEAM


# --- Lists with a POSTed search ----------------------------------------------------


class PostSearchListView(ListView):
    """A list filtered by status (GET) and searched by name or personnummer
    (POST). A POST answers the results page directly, so the search text is
    never put in a URL, a redirect or the browser history."""

    paginate_by = PAGE_SIZE
    filter_form_class = None
    # selector(*, user, status, search) -> the user's scoped queryset.
    selector = None
    searching = False

    def get_queryset(self):
        return self.selector(
            user=self.request.user, status=self.status_filter(), search=self.search_text()
        )

    def post(self, request, *args, **kwargs):
        self.search_form = SearchForm(request.POST)
        if not self.search_form.is_valid():
            self.object_list = self.model.objects.none()
            context = self.get_context_data()
            return self.render_to_response(context, status=400)
        self.searching = bool(self.search_form.cleaned_data["q"])
        self.kwargs["page"] = self.search_form.cleaned_data["page"] or 1
        return self.get(request, *args, **kwargs)

    @cached_property
    def filter_form(self):
        data = self.request.POST if self.request.method == "POST" else self.request.GET
        form = self.filter_form_class(data or None)
        return form

    def status_filter(self) -> str:
        form = self.filter_form
        return form.cleaned_data["status"] if form.is_bound and form.is_valid() else ""

    def search_text(self) -> str:
        form = getattr(self, "search_form", None)
        return form.cleaned_data["q"] if form is not None and form.is_valid() else ""

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["filter_form"] = self.filter_form
        context["search_form"] = getattr(self, "search_form", None) or SearchForm()
        context["searching"] = self.searching
        context["status_value"] = self.status_filter()
        return context


class ReferralQueueView(PostSearchListView):
    """The team's referral queue."""

    template_name = "participants/referral_queue.html"
    context_object_name = "referrals"
    filter_form_class = ReferralFilterForm
    selector = staticmethod(selectors.referral_list)
    model = Participant  # only for an empty list on a bad search


class ParticipantListView(PostSearchListView):
    template_name = "participants/participant_list.html"
    context_object_name = "participants"
    filter_form_class = ParticipantFilterForm
    selector = staticmethod(selectors.participant_list)
    model = Participant


class ParticipantListDownloadView(View):
    """The participant list as CSV or .xlsx: every row of the status filter
    (GET), not only one page. A personnummer search is POSTed and never in a
    URL, so a download is never of a search. Each person in the file is logged
    as exported (the read path, ``record_exported_many``). People with
    protected identity are left out unless a unit manager asks for them
    (``protection.INCLUDE_PROTECTED``)."""

    def get(self, request, fmt: str = "csv"):
        form = ParticipantFilterForm(request.GET or None)
        if form.is_bound and not form.is_valid():
            return HttpResponseBadRequest(gettext("Invalid filter."))
        status = form.cleaned_data["status"] if form.is_bound else ""
        queryset = selectors.participant_list(user=request.user, status=status)
        include_protected = protection.export_includes_protected(
            user=request.user, asked=request.GET.get(protection.INCLUDE_PROTECTED) == "1"
        )
        if not include_protected:
            queryset = protection.unprotected_only(queryset)
        participants = list(queryset)
        record_exported_many(request, participants)
        header = [
            gettext("Name"),
            gettext("Personal identity number"),
            gettext("Status"),
            gettext("Target groups"),
            gettext("Support staff"),
        ]
        rows = (
            [
                str(p),
                p.personnummer_masked,
                p.get_status_display(),
                ", ".join(str(group) for group in p.target_groups.all()),
                str(p.support_worker) if p.support_worker else "",
            ]
            for p in participants
        )
        stamp = timezone.localdate().isoformat()
        stem = f"deltagare-{stamp}" + ("-med-skyddade" if include_protected else "")
        return download_response(fmt, stem, header, rows)


class MyReferralsView(ListView):
    """A social worker's own referrals with their status."""

    template_name = "participants/referral_my_list.html"
    context_object_name = "referrals"
    paginate_by = PAGE_SIZE

    # ``?show=decided|housed|asked``: only the referrals with that change
    # since the user's last login (the start page's links); anything else
    # shows them all.
    SHOW_LABELS = {
        selectors.DECIDED: _("Decided since your last login"),
        selectors.HOUSED: _("Moved in since your last login"),
        selectors.ASKED: _("The team has asked you for more information"),
    }

    def get_queryset(self):
        show = self.request.GET.get("show", "")
        self.show = show if show in selectors.REFERRER_CHANGES else ""
        if self.show:
            return selectors.referrals_changed(user=self.request.user, show=self.show)
        return selectors.referral_list(user=self.request.user)

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        if self.show:
            context["show_label"] = self.SHOW_LABELS[self.show]
            context["querystring"] = f"show={self.show}"
            if self.show != selectors.ASKED:
                context["since"] = selectors.referrer_since(self.request.user)
        return context


# --- Referral: filing and the referral page -----------------------------------------


class ReferralCreateView(ServiceFormMixin, FormView):
    template_name = "participants/referral_form.html"
    form_class = ReferralCreateForm

    def get_initial(self):
        # The unit of the social worker's previous referral, as a default.
        return {
            **super().get_initial(),
            "referring_unit": selectors.last_referring_unit_id(user=self.request.user),
        }

    def perform(self, form):
        return services.referral_create(acting_user=self.request.user, **form.cleaned_data)

    # One answer whether or not the personnummer was known: anything else
    # would tell the social worker whom the team knows.
    success_message = _("The referral has been submitted.")

    def get_success_url(self):
        return self.object.get_absolute_url()


class ReferralObjectMixin(RecordMixin):
    def record_queryset(self):
        return selectors.referral_list(user=self.request.user).select_related(
            "decided_by", "referring_unit"
        )

    @property
    def referral(self):
        return self.get_object()


class ReferralDetailView(ReferralObjectMixin, DetailView):
    template_name = "participants/referral_detail.html"
    context_object_name = "referral"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        referral, user = self.object, self.request.user
        team = _is_team(user)
        context["is_team"] = team
        context["is_manager"] = role_of(user) in MANAGERS
        context["events"] = selectors.referral_events_for_user(user=user, referral=referral)
        context["can_withdraw"] = services.transition_allowed(referral, ReferralStatus.WITHDRAWN)
        context["can_add_information"] = referral.status not in {
            ReferralStatus.DECLINED,
            ReferralStatus.WITHDRAWN,
        }
        context["information_form"] = with_submit_token(InformationForm(auto_id="information_%s"))
        context["person"] = selectors.referral_person_for_user(user=user, referral=referral)
        if team:
            context["checklist"] = _checklist(referral)
            context["all_met"] = all(row["answer"] == "met" for row in context["checklist"])
            context["can_start"] = services.transition_allowed(referral, ReferralStatus.ASSESSING)
            context["can_decide"] = services.transition_allowed(referral, ReferralStatus.APPROVED)
            context["start_form"] = with_submit_token(
                ReferralVersionForm(instance=referral, auto_id="start_%s")
            )
            context["log_form"] = with_submit_token(LogEntryForm(auto_id="log_%s"))
            context["network_contacts"] = consent.network_contacts_with_consent(
                participant=referral.participant
            )
            context["rejected_person_id"] = selectors.referral_rejected_person_id(referral=referral)
            if referral.match == MatchStatus.PENDING:
                context["confirm_form"] = with_submit_token(
                    ReferralVersionForm(instance=referral, auto_id="confirm_%s")
                )
                context["reject_form"] = with_submit_token(
                    ReferralVersionForm(instance=referral, auto_id="reject_%s")
                )
        else:
            # The referring social worker follows how it goes for the person
            # (never journal notes, never a known person's record).
            follow_up = selectors.referral_follow_up(referral=referral)
            context["phase"] = follow_up.phase
            context["sections"] = (
                _sections(follow_up.sections_of, user=user) if follow_up.sections_of else []
            )
        return context


def _checklist(referral) -> list[dict]:
    existing = {a.criterion: a for a in referral.assessments.select_related("assessor")}
    suggested = eligibility.suggestions(
        referral, on=timezone.localdate(), years=settings.RESIDENCE_YEARS_REQUIRED
    )
    rows = []
    for criterion in Criterion:
        row = existing.get(criterion.value)
        rows.append(
            {
                "criterion": criterion,
                "label": eligibility.criterion_label(
                    criterion, years=settings.RESIDENCE_YEARS_REQUIRED
                ),
                "answer": row.answer if row else "unknown",
                "answer_label": row.get_answer_display() if row else gettext("Not assessed"),
                "assessed": row is not None,
                "note": row.note if row else "",
                "assessor": row.assessor if row else None,
                "assessed_on": row.assessed_on if row else None,
                "suggestion": suggested.get(criterion.value),
            }
        )
    return rows


class ReferralActionMixin(ServiceFormMixin, ReferralObjectMixin):
    """A form page about one referral; back to the referral page when saved."""

    template_name = "participants/referral_action.html"
    title = ""
    submit_label = _("Save")
    intro = ""

    def get_success_url(self):
        return reverse("participants:referral-detail", kwargs={"pk": self.referral.pk})

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context.update(
            referral=self.referral,
            person=selectors.referral_person_for_user(
                user=self.request.user, referral=self.referral
            ),
            title=self.title,
            submit_label=self.submit_label,
            intro=self.intro,
        )
        return context


class ReferralInformationView(ReferralActionMixin, FormView):
    form_class = InformationForm
    title = _("Add information")
    success_message = _("The information has been added to the referral.")

    def perform(self, form):
        return services.referral_add_information(
            referral=self.referral, acting_user=self.request.user, note=form.cleaned_data["note"]
        )


class ReferralLogEntryView(ReferralActionMixin, FormView):
    form_class = LogEntryForm
    title = _("Interview or reference")
    success_message = _("The entry has been added to the referral's log.")

    def perform(self, form):
        return services.referral_log_entry_add(
            referral=self.referral, acting_user=self.request.user, **form.cleaned_data
        )


class ReferralAssessView(ReferralActionMixin, FormView):
    form_class = AssessmentForm
    template_name = "participants/referral_assess.html"
    title = _("Eligibility criteria")
    submit_label = _("Save the assessment")
    success_message = _("The assessment has been saved.")

    def get_form_kwargs(self):
        kwargs = super().get_form_kwargs()
        referral = self.referral
        kwargs["referral"] = referral
        kwargs["existing"] = {a.criterion: a for a in referral.assessments.all()}
        kwargs["suggestions"] = eligibility.suggestions(
            referral, on=timezone.localdate(), years=settings.RESIDENCE_YEARS_REQUIRED
        )
        return kwargs

    def perform(self, form):
        return services.assessment_record(
            referral=self.referral,
            acting_user=self.request.user,
            answers=form.answers(),
            versions=form.versions(),
        )


class ReferralStartAssessmentView(ReferralActionMixin, UpdateView):
    form_class = ReferralVersionForm
    title = _("Start the assessment")
    submit_label = _("Start the assessment")
    intro = _("The referral moves to “under assessment”. Interviews and references follow.")
    success_message = _("The assessment has started.")

    def perform(self, form):
        return services.referral_start_assessment(
            referral=form.instance, acting_user=self.request.user
        )


class ReferralMatchConfirmView(ReferralActionMixin, UpdateView):
    form_class = ReferralVersionForm
    title = _("Confirm the known person")
    submit_label = _("Confirm: it is the same person")
    intro = _(
        "The referral then counts on the known person's record, and what the social worker "
        "typed fills in what that record leaves blank. The social worker still sees only "
        "what they typed."
    )
    success_message = _("The match with the known person has been confirmed.")

    def perform(self, form):
        return services.referral_match_confirm(
            referral=form.instance, acting_user=self.request.user
        )


class ReferralMatchRejectView(ReferralActionMixin, UpdateView):
    form_class = ReferralVersionForm
    title = _("Reject the known person")
    submit_label = _("Reject: it is someone else")
    intro = _(
        "The referral gets a participant of its own, made from what the social worker typed, "
        "without a personal identity number: the one typed belongs to the known person. Ask "
        "the social worker for the right number and add it on the new participant's page."
    )
    success_message = _("The match has been rejected; the referral has a participant of its own.")

    def perform(self, form):
        return services.referral_match_reject(referral=form.instance, acting_user=self.request.user)


class ReferralWithdrawView(ReferralActionMixin, UpdateView):
    form_class = ReferralWithdrawForm
    title = _("Withdraw the referral")
    submit_label = _("Withdraw the referral")
    success_message = _("The referral has been withdrawn.")

    def perform(self, form):
        return services.referral_withdraw(
            referral=form.instance,
            acting_user=self.request.user,
            reason=form.cleaned_data["reason"],
        )


class ReferralDecideView(ReferralActionMixin, UpdateView):
    form_class = ReferralDecisionForm
    template_name = "participants/referral_decide.html"
    title = _("Decision")
    submit_label = _("Record the decision")

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["checklist"] = _checklist(self.referral)
        context["all_met"] = all(row["answer"] == "met" for row in context["checklist"])
        return context

    def perform(self, form):
        data = form.cleaned_data
        if data["decision"] == ReferralDecisionForm.APPROVE:
            services.referral_approve(
                referral=form.instance,
                acting_user=self.request.user,
                override_justification=data.get("override_justification", ""),
            )
            self.success_message = gettext("The referral has been approved.")
        else:
            services.referral_decline(
                referral=form.instance,
                acting_user=self.request.user,
                reason=data.get("decline_reason", ""),
            )
            self.success_message = gettext("The referral has been declined.")
        return form.instance


# --- Participants -------------------------------------------------------------------


class ParticipantObjectMixin(RecordMixin):
    def record_queryset(self):
        return selectors.participant_list(user=self.request.user)


class ParticipantDetailView(ParticipantObjectMixin, DetailView):
    """The participant's own page: the only place the full personnummer shows."""

    template_name = "participants/participant_detail.html"
    context_object_name = "participant"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        participant, user = self.object, self.request.user
        try:
            page = int(self.request.GET.get("page", "1"))
        except ValueError:
            page = 1
        context["timeline"] = timeline_page(participant, user=user, page=page)
        context["referrals"] = selectors.participant_referrals(participant=participant)
        context["network_contacts"] = consent.network_contacts_with_consent(participant=participant)
        context["sections"] = _sections(participant, user=user)
        return context


def _sections(participant, *, user) -> list[dict]:
    """The panels other apps register for the participant page, as far as the
    user's role may see them (each section decides; None = not shown)."""
    sections = []
    for section in sorted(participant_sections, key=lambda s: s.order):
        section_context = section.context(participant, user=user)
        if section_context is not None:
            sections.append({"template": section.template, "context": section_context})
    return sections


class ParticipantUpdateView(ServiceFormMixin, ParticipantObjectMixin, UpdateView):
    form_class = ParticipantForm
    template_name = "participants/participant_form.html"
    success_message = _("The participant's details have been saved.")

    def perform(self, form):
        data = dict(form.cleaned_data)
        data.pop("version", None)
        target_groups = data.pop("target_groups")
        return services.participant_update(
            participant=form.instance,
            acting_user=self.request.user,
            target_groups=target_groups,
            **data,
        )

    def get_success_url(self):
        return self.object.get_absolute_url()


class NetworkContactCreateView(ServiceFormMixin, ParticipantObjectMixin, FormView):
    form_class = NetworkContactForm
    template_name = "participants/networkcontact_form.html"
    success_message = _("The network contact has been added.")

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["participant"] = self.get_object()
        return context

    def perform(self, form):
        data = {k: v for k, v in form.cleaned_data.items() if k != "version"}
        return services.network_contact_create(
            participant=self.get_object(), acting_user=self.request.user, **data
        )

    def get_success_url(self):
        # ``?next=``: back to the page that sent the user here (the action
        # plan form, whose collaborating parties are these contacts).
        default = self.get_object().get_absolute_url() + "#network"
        return safe_next(self.request, self.request.GET.get("next"), default)


class NetworkContactUpdateView(ServiceFormMixin, RecordMixin, UpdateView):
    form_class = NetworkContactForm
    template_name = "participants/networkcontact_form.html"
    success_message = _("The network contact has been saved.")

    def record_queryset(self):
        return selectors.network_contact_queryset(user=self.request.user)

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["participant"] = self.get_object().participant
        return context

    def perform(self, form):
        data = {k: v for k, v in form.cleaned_data.items() if k != "version"}
        return services.network_contact_update(
            contact=form.instance, acting_user=self.request.user, **data
        )

    def get_success_url(self):
        return self.get_object().participant.get_absolute_url() + "#network"
