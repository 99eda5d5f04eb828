from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_not_required
from django.urls import include, path
from django.views.i18n import set_language

from . import auth_views as two_step
from . import oidc, reminder_views, saml, views

# The manager's audit pages, under the "bostadforst" namespace.
audit_patterns = [
    path("", views.AccessLogView.as_view(), name="access-log"),
    path("export.csv", views.AccessLogExportView.as_view(), name="access-log-export"),
    path(
        "export.xlsx",
        views.AccessLogExportView.as_view(),
        {"fmt": "xlsx"},
        name="access-log-export-xlsx",
    ),
]

urlpatterns = [
    path("", views.home, name="home"),
    path("healthz", views.healthz, name="healthz"),
    path("login/", two_step.LoginView.as_view(), name="login"),
    path("login/code/", two_step.OTPVerifyView.as_view(), name="otp-verify"),
    path("login/new-device/", two_step.OTPEnrolView.as_view(), name="otp-enrol"),
    path("logout/", oidc.LogoutView.as_view(), name="logout"),
    # OpenID Connect login (bostadforst.oidc; 404 unless enabled).
    path("oidc/login/", oidc.LoginStartView.as_view(), name="oidc_authentication_init"),
    path("oidc/callback/", oidc.CallbackView.as_view(), name="oidc_authentication_callback"),
    # SAML 2.0 login (bostadforst.saml; 404 unless SAML_ENABLED).
    path("saml2/login/", saml.LoginView.as_view(), name="saml2-login"),
    path("saml2/acs/", saml.AssertionConsumerServiceView.as_view(), name="saml2-acs"),
    path("saml2/metadata/", saml.MetadataView.as_view(), name="saml2-metadata"),
    path("password/", two_step.PasswordChangeView.as_view(), name="password_change"),
    path(
        "password/done/",
        auth_views.PasswordChangeDoneView.as_view(),
        name="password_change_done",
    ),
    # Password reset by e-mail (Django's URL names; 404 unless enabled).
    path("password/reset/", two_step.PasswordResetView.as_view(), name="password_reset"),
    path(
        "password/reset/sent/",
        two_step.PasswordResetDoneView.as_view(),
        name="password_reset_done",
    ),
    path(
        "password/reset/<uidb64>/<token>/",
        two_step.PasswordResetConfirmView.as_view(),
        name="password_reset_confirm",
    ),
    path(
        "password/reset/complete/",
        two_step.PasswordResetCompleteView.as_view(),
        name="password_reset_complete",
    ),
    path("session/ping/", views.session_ping, name="session-ping"),
    path(
        "reminders/",
        reminder_views.ReminderPreferencesView.as_view(),
        name="reminder-preferences",
    ),
    path("i18n/setlang/", login_not_required(set_language), name="set_language"),
    path("access-log/", include((audit_patterns, "bostadforst"))),
    path("participants/", include("participants.urls")),
    path("housing/", include("housing.urls")),
    path("support/", include("support.urls")),
    path("reports/", include("reports.urls")),
    path("fidelity/", include("fidelity.urls")),
    path("admin/", admin.site.urls),
]
