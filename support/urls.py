from django.urls import path

from . import outcome_views, planning_views, views

app_name = "support"

urlpatterns = [
    path("my-participants/", views.MyParticipantsView.as_view(), name="my-participants"),
    path(
        "my-participants/export.csv",
        views.MyParticipantsDownloadView.as_view(),
        name="my-participants-csv",
    ),
    path(
        "my-participants/export.xlsx",
        views.MyParticipantsDownloadView.as_view(),
        {"fmt": "xlsx"},
        name="my-participants-xlsx",
    ),
    # Visits and journal notes
    path("visits/new/", views.VisitQuickLogView.as_view(), name="visit-quick-log"),
    path("visits/goals/", views.VisitGoalChoicesView.as_view(), name="visit-goal-choices"),
    path("visits/<int:pk>/", views.VisitDetailView.as_view(), name="visit-detail"),
    path("visits/<int:pk>/edit/", views.VisitEditView.as_view(), name="visit-edit"),
    path("visits/<int:pk>/sign/", views.VisitSignView.as_view(), name="visit-sign"),
    path("visits/<int:pk>/correct/", views.VisitCorrectView.as_view(), name="visit-correct"),
    path("visits/<int:pk>/undo/", planning_views.VisitUndoView.as_view(), name="visit-undo"),
    path(
        "participants/<int:participant_pk>/visits/",
        views.VisitListView.as_view(),
        name="visit-list",
    ),
    # Planned visits and the worker's calendar feed
    path(
        "planned-visits/", planning_views.PlannedVisitListView.as_view(), name="planned-visit-list"
    ),
    path(
        "planned-visits/new/",
        planning_views.PlannedVisitCreateView.as_view(),
        name="planned-visit-create",
    ),
    path(
        "planned-visits/<int:pk>/",
        planning_views.PlannedVisitDetailView.as_view(),
        name="planned-visit-detail",
    ),
    path(
        "planned-visits/<int:pk>/log/",
        planning_views.PlannedVisitLogView.as_view(),
        name="planned-visit-log",
    ),
    path(
        "planned-visits/<int:pk>/cancel/",
        planning_views.PlannedVisitCancelView.as_view(),
        name="planned-visit-cancel",
    ),
    path("calendar/", planning_views.CalendarSettingsView.as_view(), name="calendar"),
    # No login: the secret token in the query string is the key (planning_views).
    path("calendar/feed.ics", planning_views.calendar_feed, name="calendar-feed"),
    # Action plans
    path(
        "participants/<int:participant_pk>/plans/", views.PlanListView.as_view(), name="plan-list"
    ),
    path(
        "participants/<int:participant_pk>/plans/new/",
        views.PlanCreateView.as_view(),
        name="plan-create",
    ),
    path("plans/reviews/", views.PlanReviewListView.as_view(), name="plan-review-list"),
    path("plans/<int:pk>/", views.PlanDetailView.as_view(), name="plan-detail"),
    path("plans/<int:pk>/print/", views.PlanPrintView.as_view(), name="plan-print"),
    path("plans/<int:pk>/pdf/", views.PlanPdfView.as_view(), name="plan-pdf"),
    # Crisis places
    path("crisis-places/", views.CrisisPlaceListView.as_view(), name="crisis-place-list"),
    # Outcome follow-ups (issue 18 item 2), from the participant page.
    path(
        "participants/<int:pk>/follow-ups/new/",
        outcome_views.OutcomeFollowUpCreateView.as_view(),
        name="outcome-follow-up-create",
    ),
    path("placements/new/", views.PlacementCreateView.as_view(), name="placement-create"),
    path("placements/<int:pk>/", views.PlacementDetailView.as_view(), name="placement-detail"),
    path("placements/<int:pk>/end/", views.PlacementEndView.as_view(), name="placement-end"),
    # Meeting place
    path("activities/", views.ActivityListView.as_view(), name="activity-list"),
    path("activities/new/", views.ActivityCreateView.as_view(), name="activity-create"),
    path("activities/<int:pk>/", views.ActivityDetailView.as_view(), name="activity-detail"),
    path(
        "activities/<int:pk>/attendance/",
        views.ActivityAttendanceView.as_view(),
        name="activity-attendance",
    ),
]
