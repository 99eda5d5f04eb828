from django.urls import path

from . import consent_views, protection_views, restriction_views, views

app_name = "participants"

urlpatterns = [
    path("", views.ParticipantListView.as_view(), name="participant-list"),
    path("export.csv", views.ParticipantListDownloadView.as_view(), name="participant-list-csv"),
    path(
        "export.xlsx",
        views.ParticipantListDownloadView.as_view(),
        {"fmt": "xlsx"},
        name="participant-list-xlsx",
    ),
    path("<int:pk>/", views.ParticipantDetailView.as_view(), name="participant-detail"),
    path("<int:pk>/edit/", views.ParticipantUpdateView.as_view(), name="participant-update"),
    path(
        "<int:pk>/restriction/",
        restriction_views.ProcessingRestrictView.as_view(),
        name="participant-restrict",
    ),
    path(
        "<int:pk>/restriction/lift/",
        restriction_views.ProcessingRestrictionLiftView.as_view(),
        name="participant-restriction-lift",
    ),
    path(
        "<int:pk>/protection/",
        protection_views.ParticipantProtectionView.as_view(),
        name="participant-protection",
    ),
    path(
        "<int:pk>/network/new/",
        views.NetworkContactCreateView.as_view(),
        name="network-contact-create",
    ),
    path(
        "network/<int:pk>/edit/",
        views.NetworkContactUpdateView.as_view(),
        name="network-contact-update",
    ),
    path(
        "<int:pk>/consents/new/",
        consent_views.ConsentCreateView.as_view(),
        name="consent-create",
    ),
    path(
        "consents/<int:pk>/withdraw/",
        consent_views.ConsentWithdrawView.as_view(),
        name="consent-withdraw",
    ),
    path("referrals/", views.ReferralQueueView.as_view(), name="referral-queue"),
    path("referrals/mine/", views.MyReferralsView.as_view(), name="my-referrals"),
    path("referrals/new/", views.ReferralCreateView.as_view(), name="referral-create"),
    path("referrals/<int:pk>/", views.ReferralDetailView.as_view(), name="referral-detail"),
    path(
        "referrals/<int:pk>/information/",
        views.ReferralInformationView.as_view(),
        name="referral-add-information",
    ),
    path(
        "referrals/<int:pk>/start-assessment/",
        views.ReferralStartAssessmentView.as_view(),
        name="referral-start-assessment",
    ),
    path(
        "referrals/<int:pk>/log/", views.ReferralLogEntryView.as_view(), name="referral-log-entry"
    ),
    path(
        "referrals/<int:pk>/assessment/",
        views.ReferralAssessView.as_view(),
        name="referral-assess",
    ),
    path(
        "referrals/<int:pk>/decision/", views.ReferralDecideView.as_view(), name="referral-decide"
    ),
    path(
        "referrals/<int:pk>/match/confirm/",
        views.ReferralMatchConfirmView.as_view(),
        name="referral-match-confirm",
    ),
    path(
        "referrals/<int:pk>/match/reject/",
        views.ReferralMatchRejectView.as_view(),
        name="referral-match-reject",
    ),
    path(
        "referrals/<int:pk>/withdraw/",
        views.ReferralWithdrawView.as_view(),
        name="referral-withdraw",
    ),
]
