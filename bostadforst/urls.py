from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_not_required
from django.urls import include, path
from django.views.i18n import set_language

from . import views

urlpatterns = [
    path("", views.home, name="home"),
    path("healthz", views.healthz, name="healthz"),
    path(
        "login/",
        auth_views.LoginView.as_view(redirect_authenticated_user=True),
        name="login",
    ),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path(
        "password/",
        auth_views.PasswordChangeView.as_view(),
        name="password_change",
    ),
    path(
        "password/done/",
        auth_views.PasswordChangeDoneView.as_view(),
        name="password_change_done",
    ),
    path("session/ping/", views.session_ping, name="session-ping"),
    path("i18n/setlang/", login_not_required(set_language), name="set_language"),
    path("participants/", include("participants.urls")),
    path("housing/", include("housing.urls")),
    path("support/", include("support.urls")),
    path("reports/", include("reports.urls")),
    path("admin/", admin.site.urls),
]
