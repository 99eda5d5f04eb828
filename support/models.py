"""Action plans, support visits, crisis placements and meeting-place activities."""

from datetime import date, timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Count, F, Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from bostadforst.models import CaseModel
from bostadforst.scope import ScopedManager
from housing.models import ContractType
from participants.models import NetworkContact, Participant


class LifeArea(models.TextChoices):
    HOUSING = "housing", _("Housing")
    HEALTH = "health", _("Health")
    SUBSTANCE_USE = "substance_use", _("Substance use")
    FINANCES = "finances", _("Finances")
    OCCUPATION = "occupation", _("Occupation")
    SOCIAL_RELATIONS = "social_relations", _("Social relations")
    OTHER = "other", _("Other")


class ActionPlan(CaseModel):
    """One version of a participant's action plan (handlingsplan).

    Revising a plan creates a new row with ``number`` + 1 that copies the goals
    and actions; earlier rows are never changed, so every version stays readable.
    The current plan is the participant's row with the highest number.
    """

    participant = models.ForeignKey(
        Participant,
        verbose_name=_("participant"),
        on_delete=models.PROTECT,
        related_name="action_plans",
    )
    number = models.PositiveIntegerField(_("version"), default=1)
    agreed_on = models.DateField(_("date the tenant took part and agreed"))
    review_on = models.DateField(_("next review"))
    on_breach = models.TextField(
        _("what happens on a breach or interruption"), max_length=5000, blank=True
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("written by"),
        on_delete=models.PROTECT,
        related_name="+",
    )

    class Meta:
        verbose_name = _("action plan")
        verbose_name_plural = _("action plans")
        ordering = ["participant", "-number"]
        constraints = [
            models.UniqueConstraint(fields=["participant", "number"], name="one_plan_per_number"),
            models.CheckConstraint(
                condition=Q(review_on__gte=models.F("agreed_on")), name="plan_review_after_agreed"
            ),
        ]

    def __str__(self) -> str:
        return f"{_('Action plan')} {self.number} ({self.agreed_on:%Y-%m-%d})"

    def get_absolute_url(self) -> str:
        return reverse("support:plan-detail", kwargs={"pk": self.pk})


class Goal(CaseModel):
    """A goal in the tenant's own words, in one life area."""

    plan = models.ForeignKey(
        ActionPlan, verbose_name=_("action plan"), on_delete=models.CASCADE, related_name="goals"
    )
    life_area = models.CharField(_("life area"), max_length=20, choices=LifeArea.choices)
    text = models.TextField(_("goal in the tenant's own words"), max_length=2000)
    position = models.PositiveSmallIntegerField(_("order"), default=0)

    participant_path = "plan__participant"

    class Meta:
        verbose_name = _("goal")
        verbose_name_plural = _("goals")
        ordering = ["position", "pk"]

    def __str__(self) -> str:
        return f"{self.get_life_area_display()}: {self.text[:60]}"


class GoalAction(CaseModel):
    """Who does what, by when and how, towards a goal."""

    class Who(models.TextChoices):
        TEAM = "team", _("The team")
        TENANT = "tenant", _("The tenant")
        PARTNER = "partner", _("A collaborating party")

    goal = models.ForeignKey(
        Goal, verbose_name=_("goal"), on_delete=models.CASCADE, related_name="actions"
    )
    who = models.CharField(_("who"), max_length=10, choices=Who.choices)
    staff = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("team member"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    partner = models.ForeignKey(
        NetworkContact,
        verbose_name=_("collaborating party"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    what = models.TextField(_("what"), max_length=2000)
    how = models.TextField(_("how"), max_length=2000, blank=True)
    by_when = models.DateField(_("by when"), null=True, blank=True)

    participant_path = "goal__plan__participant"

    class Meta:
        verbose_name = _("action")
        verbose_name_plural = _("actions")
        ordering = ["by_when", "pk"]

    def __str__(self) -> str:
        return self.what[:60]


class JournalLockedError(ValidationError):
    """A locked journal entry was about to be changed."""

    def __init__(self) -> None:
        super().__init__(
            _(
                "This journal entry is locked (signed, or written more than 24 hours ago) "
                "and cannot be changed. Write a correction instead."
            ),
            code="journal_locked",
        )


# A visit lasts a day at most: the one limit the model, the database
# constraint and the form's input all take.
MAX_VISIT_MINUTES = 24 * 60


class SupportVisit(CaseModel):
    """A support contact and its journal note.

    Journal integrity (social-services documentation rules): the note is locked
    once its author signs it, or 24 hours after it was written; a correction is
    a new visit row whose ``corrects`` points at the original.
    """

    class Kind(models.TextChoices):
        HOME_VISIT = "home_visit", _("Home visit")
        PHONE = "phone", _("Phone")
        ACCOMPANIMENT = "accompaniment", _("Accompaniment")
        MEETING_PLACE = "meeting_place", _("Meeting place")
        DIGITAL = "digital", _("Digital")
        MISSED = "missed", _("Missed or cancelled")

    participant = models.ForeignKey(
        Participant,
        verbose_name=_("participant"),
        on_delete=models.PROTECT,
        related_name="visits",
    )
    started_at = models.DateTimeField(_("date and time"), db_index=True)
    duration_minutes = models.PositiveSmallIntegerField(
        _("duration (minutes)"),
        validators=[
            MinValueValidator(0, message=_("The duration cannot be negative.")),
            MaxValueValidator(
                MAX_VISIT_MINUTES,
                message=_("The duration can be at most %(limit_value)s minutes (24 hours)."),
            ),
        ],
    )
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices)
    staff = models.ManyToManyField(
        settings.AUTH_USER_MODEL, verbose_name=_("staff"), related_name="support_visits"
    )
    note = models.TextField(_("journal note"), max_length=10000, blank=True)
    goals = models.ManyToManyField(
        Goal, verbose_name=_("goals concerned"), blank=True, related_name="visits"
    )
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("author"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    signed_at = models.DateTimeField(_("signed"), null=True, blank=True)
    corrects = models.ForeignKey(
        "self",
        verbose_name=_("corrects"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="corrections",
    )

    class Meta:
        verbose_name = _("support visit")
        verbose_name_plural = _("support visits")
        ordering = ["-started_at", "-pk"]
        indexes = [
            models.Index(fields=["participant", "-started_at"]),
            # The data-quality rule "visit without a note" (reports.data_quality)
            # reads only these few rows, not every visit.
            models.Index(fields=["started_at"], condition=Q(note=""), name="visit_without_note"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(duration_minutes__lte=MAX_VISIT_MINUTES),
                name="visit_duration_at_most_a_day",
            ),
        ]

    # Staff and goals are part of the entry: simple-history (through the
    # inherited ``HistoricalRecords`` of CaseModel) snapshots them with every
    # history row, so a change of who was there is in the change history too.
    _history_m2m_fields = ("staff", "goals")

    # Social-services documentation: an entry may be adjusted by its author
    # for a day at most; after that (or once signed) it is part of the record.
    LOCK_AFTER = timedelta(hours=24)
    # The fields that make up the journal entry and freeze with it.
    LOCKED_FIELDS = (
        "participant_id",
        "started_at",
        "duration_minutes",
        "kind",
        "note",
        "author_id",
    )

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.started_at:%Y-%m-%d %H:%M}"

    def clean(self) -> None:
        super().clean()
        # A note of only blanks is no note: stored empty, so that one
        # condition (and its index) finds every visit without one.
        if not self.note.strip():
            self.note = ""

    def save(self, *args, **kwargs) -> None:
        """Refuse any change to a locked entry's content, whoever saves it.

        The stored row decides (not this instance's possibly stale copy), so
        neither a form, the admin nor a shell can rewrite a locked note. Setting
        ``signed_at`` on an unsigned entry stays allowed: signing changes no
        content.
        """
        if not self._state.adding and self.pk is not None:
            stored = (
                type(self)
                ._base_manager.filter(pk=self.pk)
                .values(*self.LOCKED_FIELDS, "signed_at", "created_at")
                .first()
            )
            if stored is not None and _is_locked(stored["signed_at"], stored["created_at"]):
                changed = [f for f in self.LOCKED_FIELDS if getattr(self, f) != stored[f]]
                resigned = stored["signed_at"] is not None and self.signed_at != stored["signed_at"]
                if changed or resigned:
                    raise JournalLockedError()
        super().save(*args, **kwargs)

    def get_absolute_url(self) -> str:
        return reverse("support:visit-detail", kwargs={"pk": self.pk})

    @property
    def locks_at(self):
        """When the entry locks by age (it may be locked earlier by signing)."""
        return self.created_at + self.LOCK_AFTER

    @property
    def is_locked(self) -> bool:
        return _is_locked(self.signed_at, self.created_at)

    @property
    def undo_until(self):
        """Until when its author may still take the entry back (``visit_undo``)."""
        return self.created_at + undo_window()

    def can_undo(self, *, now=None) -> bool:
        """Whether the entry is still within its undo window (issue 17): a
        saved visit is final only once the window has passed, signed or not."""
        return (now or timezone.now()) < self.undo_until

    def delete(self, *args, **kwargs):
        """Refuse to remove a locked entry, except within its undo window
        (its author taking back what was just saved; ``visit_undo``). The
        removed entry stays in the change history, with who removed it."""
        if self.pk is not None and self.is_locked and not self.can_undo():
            raise JournalLockedError()
        return super().delete(*args, **kwargs)


def undo_window() -> timedelta:
    """How long after saving a visit its author may take it back
    (``settings.VISIT_UNDO_MINUTES``, default 5)."""
    return timedelta(minutes=settings.VISIT_UNDO_MINUTES)


def _is_locked(signed_at, created_at, *, now=None) -> bool:
    now = now or timezone.now()
    return signed_at is not None or created_at + SupportVisit.LOCK_AFTER <= now


def occupying_on(day: date, prefix: str = "") -> Q:
    """Placements that occupy a bed on ``day``: [start, end) contains it
    (``prefix`` reaches them from another model, e.g. ``placements__``)."""
    return Q(**{f"{prefix}start__lte": day}) & (
        Q(**{f"{prefix}end__isnull": True}) | Q(**{f"{prefix}end__gt": day})
    )


class CrisisPlaceQuerySet(models.QuerySet):
    def with_occupancy(self, day: date) -> "CrisisPlaceQuerySet":
        """Places in use, with ``occupied`` and ``free`` beds on ``day``."""
        return (
            self.filter(is_active=True)
            .annotate(occupied=Count("placements", filter=occupying_on(day, "placements__")))
            .annotate(free=F("capacity") - F("occupied"))
        )


class CrisisPlacementQuerySet(models.QuerySet):
    def active_on(self, day: date) -> "CrisisPlacementQuerySet":
        return self.filter(occupying_on(day))


class CrisisPlace(CaseModel):
    """A crisis or emergency place (sviktplats/akutplats) with a capacity."""

    name = models.CharField(_("name"), max_length=200, unique=True)
    address = models.CharField(_("address"), max_length=200, blank=True)
    capacity = models.PositiveSmallIntegerField(
        _("capacity"), validators=[MinValueValidator(1), MaxValueValidator(500)]
    )
    is_active = models.BooleanField(_("in use"), default=True)

    objects = CrisisPlaceQuerySet.as_manager()

    participant_path = None

    class Meta:
        verbose_name = _("crisis place")
        verbose_name_plural = _("crisis places")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class CrisisPlacement(CaseModel):
    """A short stay at a crisis place. The tenancy stays active throughout:
    the person moves home again afterwards. ``end`` is the day they left
    (half-open [start, end)); empty while the stay goes on."""

    class Reason(models.TextChoices):
        RELAPSE = "relapse", _("Relapse")
        MENTAL_HEALTH = "mental_health", _("Mental-health crisis")
        OTHER = "other", _("Other")

    participant = models.ForeignKey(
        Participant,
        verbose_name=_("participant"),
        on_delete=models.PROTECT,
        related_name="crisis_placements",
    )
    place = models.ForeignKey(
        CrisisPlace,
        verbose_name=_("crisis place"),
        on_delete=models.PROTECT,
        related_name="placements",
    )
    start = models.DateField(_("start"))
    end = models.DateField(_("end"), null=True, blank=True)
    reason = models.CharField(_("reason"), max_length=20, choices=Reason.choices)
    note = models.TextField(_("note"), max_length=5000, blank=True)

    objects = ScopedManager.from_queryset(CrisisPlacementQuerySet)()

    class Meta:
        verbose_name = _("crisis placement")
        verbose_name_plural = _("crisis placements")
        ordering = ["-start", "-pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(end__isnull=True) | Q(end__gte=models.F("start")),
                name="placement_end_after_start",
            ),
            models.UniqueConstraint(
                fields=["participant"],
                condition=Q(end__isnull=True),
                name="one_open_placement_per_participant",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.place} {self.start:%Y-%m-%d}"


class Activity(CaseModel):
    """A meeting-place activity (fishing, cooking, painting …)."""

    title = models.CharField(_("activity"), max_length=200)
    date = models.DateField(_("date"))
    description = models.TextField(_("description"), max_length=5000, blank=True)
    participants = models.ManyToManyField(
        Participant,
        verbose_name=_("attended"),
        blank=True,
        through="Attendance",
        related_name="activities",
    )

    participant_path = None

    class Meta:
        verbose_name = _("meeting-place activity")
        verbose_name_plural = _("meeting-place activities")
        ordering = ["-date", "pk"]

    def __str__(self) -> str:
        return f"{self.title} {self.date:%Y-%m-%d}"

    def person_ids(self) -> set[int]:
        """The activity page shows who attended."""
        return {a.participant_id for a in self.attendances.all()}


class Attendance(CaseModel):
    activity = models.ForeignKey(
        Activity, verbose_name=_("activity"), on_delete=models.CASCADE, related_name="attendances"
    )
    participant = models.ForeignKey(
        Participant,
        verbose_name=_("participant"),
        on_delete=models.CASCADE,
        related_name="attendances",
    )

    class Meta:
        verbose_name = _("attendance")
        verbose_name_plural = _("attendances")
        constraints = [
            models.UniqueConstraint(fields=["activity", "participant"], name="attend_once")
        ]

    def __str__(self) -> str:
        return f"{self.participant} – {self.activity}"


# A plan's note is a reminder ("bring the forms"), not a journal note.
MAX_PLAN_NOTE = 200


class PlannedVisit(CaseModel):
    """A visit a team member plans with a participant (issue 17).

    A plan is ``planned`` until the visit is logged from it (``logged``, with
    ``visit`` the journal entry that fulfilled it) or it is called off
    (``cancelled``). A plan whose day has passed while still ``planned`` is
    *missed*: derived, not stored (``is_missed``), so it needs no job to
    turn over at midnight. Undoing the logged visit within its undo window
    puts the plan back to ``planned``.
    """

    class Status(models.TextChoices):
        PLANNED = "planned", _("Planned")
        LOGGED = "logged", _("Logged")
        CANCELLED = "cancelled", _("Cancelled")

    participant = models.ForeignKey(
        Participant,
        verbose_name=_("participant"),
        on_delete=models.PROTECT,
        related_name="planned_visits",
    )
    staff = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("staff member"),
        on_delete=models.PROTECT,
        related_name="planned_visits",
    )
    planned_at = models.DateTimeField(_("planned date and time"))
    duration_minutes = models.PositiveSmallIntegerField(
        _("planned duration (minutes)"),
        null=True,
        blank=True,
        validators=[
            MaxValueValidator(
                MAX_VISIT_MINUTES,
                message=_("The duration can be at most %(limit_value)s minutes (24 hours)."),
            ),
        ],
    )
    note = models.CharField(_("short note"), max_length=MAX_PLAN_NOTE, blank=True)
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.PLANNED
    )
    visit = models.OneToOneField(
        SupportVisit,
        verbose_name=_("logged visit"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="plan",
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("planned by"),
        on_delete=models.PROTECT,
        related_name="+",
    )

    class Meta:
        verbose_name = _("planned visit")
        verbose_name_plural = _("planned visits")
        ordering = ["planned_at", "pk"]
        # The worker's list and calendar feed: their plans by status and time.
        indexes = [models.Index(fields=["staff", "status", "planned_at"])]
        constraints = [
            models.CheckConstraint(
                condition=(Q(status="logged") & Q(visit__isnull=False))
                | (~Q(status="logged") & Q(visit__isnull=True)),
                name="planned_visit_logged_iff_visit",
            ),
            models.CheckConstraint(
                condition=Q(duration_minutes__isnull=True)
                | Q(duration_minutes__lte=MAX_VISIT_MINUTES),
                name="planned_visit_duration_at_most_a_day",
            ),
        ]

    def __str__(self) -> str:
        return f"{_('Planned visit')} {timezone.localtime(self.planned_at):%Y-%m-%d %H:%M}"

    def get_absolute_url(self) -> str:
        return reverse("support:planned-visit-detail", kwargs={"pk": self.pk})

    def is_missed(self, *, today: date | None = None) -> bool:
        """Still planned although its day has passed."""
        today = today or timezone.localdate()
        return (
            self.status == self.Status.PLANNED
            and timezone.localtime(self.planned_at).date() < today
        )

    def can_be_logged(self, *, today: date | None = None) -> bool:
        """A visit is logged for today or earlier, never ahead (``visit_log``)."""
        today = today or timezone.localdate()
        return (
            self.status == self.Status.PLANNED
            and timezone.localtime(self.planned_at).date() <= today
        )


class CalendarFeed(CaseModel):
    """A team member's secret calendar address (the .ics feed of their
    planned visits). Only a hash of the address's token is kept: the
    address is shown once, when it is made, and a new one replaces it (the
    old one then answers 404 at once). The history keeps who made or reset
    it and when, never a usable token.
    """

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        verbose_name=_("user"),
        on_delete=models.CASCADE,
        related_name="calendar_feed",
    )
    token_hash = models.CharField(_("token hash"), max_length=64, unique=True)

    participant_path = None

    class Meta:
        verbose_name = _("calendar feed")
        verbose_name_plural = _("calendar feeds")

    def __str__(self) -> str:
        return f"{_('Calendar feed')} {self.user}"


# --- Outcome follow-ups (issue 18 item 2) --------------------------------------------


class Occupation(models.TextChoices):
    NONE = "none", _("None")
    DAY_ACTIVITY = "day_activity", _("Day activity")
    STUDIES = "studies", _("Studies")
    WORK_TRAINING = "work_training", _("Work training")
    EMPLOYMENT = "employment", _("Employment")


class IncomeSource(models.TextChoices):
    SALARY = "salary", _("Salary")
    ACTIVITY_OR_SICKNESS = (
        "activity_or_sickness",
        _("Activity compensation or sickness benefit"),
    )
    FINANCIAL_ASSISTANCE = "financial_assistance", _("Financial assistance (ekonomiskt bistånd)")
    PENSION = "pension", _("Pension")
    STUDENT_AID = "student_aid", _("Student aid")
    OTHER = "other", _("Other")
    UNKNOWN = "unknown", _("Unknown")


class CareContact(models.TextChoices):
    YES = "yes", _("Yes")
    NO = "no", _("No")
    UNKNOWN = "unknown", _("Unknown")


class OutcomeFollowUp(CaseModel):
    """A short structured follow-up of the person's outcomes beyond
    retention (issue 18 item 2), recorded at move-in and every six months.

    ``point_months`` is the follow-up point the date falls on (0 = at
    move-in, then 6, 12, 18 …), derived by ``support.outcomes.point_for``
    from the person's first move-in when the follow-up is recorded and kept
    with the row. ``own_words`` is free text in the person's own words: it is
    shown on the person's page only and never exported.
    """

    participant = models.ForeignKey(
        Participant,
        verbose_name=_("participant"),
        on_delete=models.PROTECT,
        related_name="outcome_follow_ups",
    )
    date = models.DateField(_("date of the follow-up"))
    point_months = models.PositiveSmallIntegerField(_("follow-up point (months after move-in)"))
    occupation = models.CharField(_("occupation"), max_length=20, choices=Occupation.choices)
    income_source = models.CharField(
        _("main income source"), max_length=25, choices=IncomeSource.choices
    )
    addiction_care = models.CharField(
        _("contact with addiction care"), max_length=10, choices=CareContact.choices
    )
    psychiatric_care = models.CharField(
        _("contact with psychiatric care"), max_length=10, choices=CareContact.choices
    )
    quality_of_life = models.PositiveSmallIntegerField(
        _("self-rated quality of life (1–10)"),
        null=True,
        blank=True,
        validators=[
            MinValueValidator(1, message=_("The rating is from 1 to 10.")),
            MaxValueValidator(10, message=_("The rating is from 1 to 10.")),
        ],
    )
    own_words = models.CharField(_("in the person's own words"), max_length=300, blank=True)
    contract_form = models.CharField(
        _("contract form"), max_length=20, choices=ContractType.choices, blank=True
    )
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("recorded by"),
        on_delete=models.PROTECT,
        related_name="+",
    )

    class Meta:
        verbose_name = _("outcome follow-up")
        verbose_name_plural = _("outcome follow-ups")
        ordering = ["-date", "-pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(quality_of_life__isnull=True)
                | Q(quality_of_life__gte=1, quality_of_life__lte=10),
                name="outcome_follow_up_quality_of_life_1_to_10",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.participant} – {self.date.isoformat()}"
