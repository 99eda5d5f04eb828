from django.urls import path

from . import data_quality_views, extract_views, homelessness_views, research_views, views

app_name = "reports"

urlpatterns = [
    path("", views.DashboardView.as_view(), name="dashboard"),
    path("dashboard/<slug:table>.csv", views.DashboardDownloadView.as_view(), name="dashboard-csv"),
    path(
        "dashboard/<slug:table>.xlsx",
        views.DashboardDownloadView.as_view(),
        {"fmt": "xlsx"},
        name="dashboard-xlsx",
    ),
    path("data-quality/", data_quality_views.DataQualityView.as_view(), name="data-quality"),
    path(
        "data-quality/<slug:rule>/",
        data_quality_views.DataQualityRuleView.as_view(),
        name="data-quality-rule",
    ),
    path("jobs/", views.ReportListView.as_view(), name="report-list"),
    path("jobs/<int:pk>/", views.ReportDetailView.as_view(), name="report-detail"),
    path("jobs/<int:pk>/status/", views.ReportStatusView.as_view(), name="report-status"),
    path("jobs/<int:pk>/pdf/", views.ReportPdfView.as_view(), name="report-pdf"),
    path("jobs/<int:pk>/<slug:table>.csv", views.ReportDownloadView.as_view(), name="report-csv"),
    path(
        "jobs/<int:pk>/<slug:table>.xlsx",
        views.ReportDownloadView.as_view(),
        {"fmt": "xlsx"},
        name="report-xlsx",
    ),
    path("import/", views.CohortImportView.as_view(), name="cohort-import"),
    path(
        "import/mall.xlsx",
        views.CohortTemplateView.as_view(),
        {"fmt": "xlsx"},
        name="cohort-import-template-xlsx",
    ),
    path(
        "import/mall.csv",
        views.CohortTemplateView.as_view(),
        {"fmt": "csv"},
        name="cohort-import-template-csv",
    ),
    path("import/<int:pk>/", views.CohortImportDetailView.as_view(), name="cohort-import-detail"),
    path(
        "import/<int:pk>/status/",
        views.CohortImportStatusView.as_view(),
        name="cohort-import-status",
    ),
    path(
        "import/<int:pk>/fel.csv",
        views.CohortImportErrorsView.as_view(),
        {"fmt": "csv"},
        name="cohort-import-errors-csv",
    ),
    path(
        "import/<int:pk>/fel.xlsx",
        views.CohortImportErrorsView.as_view(),
        {"fmt": "xlsx"},
        name="cohort-import-errors-xlsx",
    ),
    path(
        "homelessness-count/",
        homelessness_views.HomelessnessCountView.as_view(),
        name="homelessness-count",
    ),
    path(
        "homelessness-count/<int:year>-W<int:week>.xlsx",
        homelessness_views.HomelessnessCountDownloadView.as_view(),
        {"fmt": "xlsx"},
        name="homelessness-count-xlsx",
    ),
    path(
        "homelessness-count/<int:year>-W<int:week>.csv",
        homelessness_views.HomelessnessCountDownloadView.as_view(),
        {"fmt": "csv"},
        name="homelessness-count-csv",
    ),
    path(
        "register-extracts/participant/<int:pk>/",
        extract_views.RegisterExtractStartView.as_view(),
        name="register-extract-start",
    ),
    path(
        "register-extracts/<int:pk>/",
        extract_views.RegisterExtractDetailView.as_view(),
        name="register-extract-detail",
    ),
    path(
        "register-extracts/<int:pk>/status/",
        extract_views.RegisterExtractStatusView.as_view(),
        name="register-extract-status",
    ),
    path(
        "register-extracts/<int:pk>/pdf/",
        extract_views.RegisterExtractPdfView.as_view(),
        name="register-extract-pdf",
    ),
    path(
        "research-exports/",
        research_views.ResearchExportView.as_view(),
        name="research-export",
    ),
    path(
        "research-exports/<int:pk>.xlsx",
        research_views.ResearchExportDownloadView.as_view(),
        name="research-export-xlsx",
    ),
]
