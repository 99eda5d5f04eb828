from django.urls import path

from . import views

app_name = "fidelity"

urlpatterns = [
    path("", views.AssessmentListView.as_view(), name="assessment-list"),
    path("new/", views.AssessmentCreateView.as_view(), name="assessment-create"),
    path("<int:pk>/", views.AssessmentDetailView.as_view(), name="assessment-detail"),
    path("<int:pk>/pdf/", views.AssessmentPdfView.as_view(), name="assessment-pdf"),
]
