from django.urls import path

from . import views

app_name = "housing"

urlpatterns = [
    path("apartments/", views.ApartmentListView.as_view(), name="apartment-list"),
    path("apartments/new/", views.ApartmentCreateView.as_view(), name="apartment-create"),
    path("apartments/<int:pk>/", views.ApartmentDetailView.as_view(), name="apartment-detail"),
    path("apartments/<int:pk>/edit/", views.ApartmentUpdateView.as_view(), name="apartment-update"),
    path("tenancies/new/", views.TenancyAssignView.as_view(), name="tenancy-assign"),
    path("tenancies/<int:pk>/", views.TenancyDetailView.as_view(), name="tenancy-detail"),
    path(
        "tenancies/<int:pk>/takeover/",
        views.TenancyTakeoverView.as_view(),
        name="tenancy-takeover",
    ),
    path("tenancies/<int:pk>/end/", views.TenancyEndView.as_view(), name="tenancy-end"),
    path(
        "tenancies/<int:pk>/provider/",
        views.TenancyProviderView.as_view(),
        name="tenancy-provider",
    ),
    path(
        "tenancies/<int:pk>/incidents/new/",
        views.IncidentCreateView.as_view(),
        name="incident-create",
    ),
    path("incidents/<int:pk>/edit/", views.IncidentUpdateView.as_view(), name="incident-update"),
    path("eviction-risk/", views.EvictionRiskListView.as_view(), name="eviction-risk-list"),
]
