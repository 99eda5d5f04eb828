"""Settings for Bostad först: one module, every value from the environment.

Embedded default (no DATABASE_URL, no REDIS_URL): SQLite in the project folder,
Celery tasks run in-process, local-memory cache. Production sets DATABASE_URL,
REDIS_URL, SECRET_KEY and ALLOWED_HOSTS. See README.md, "Configuration".
"""

import ipaddress
from pathlib import Path

import environ
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

from bostadforst.logging import console_logging, log_format

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
# `make run` writes .env on first run; real deployments set the environment instead.
if env.bool("DJANGO_READ_DOT_ENV", default=True) and (BASE_DIR / ".env").is_file():
    env.read_env(BASE_DIR / ".env", overwrite=False)

# --- Core ---------------------------------------------------------------------
DEBUG = env.bool("DJANGO_DEBUG", default=False)
# Demo mode (make run): fictional data, said so on the login page.
DEMO_MODE = env.bool("DEMO_MODE", default=False)
# No built-in fallback: a missing key must stop the process, never sign sessions
# with a value published in the source.
SECRET_KEY = env.str("SECRET_KEY", default="")
if not SECRET_KEY:
    raise ImproperlyConfigured("SECRET_KEY is not set (make run writes one to .env).")
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=[])
if not DEBUG and not ALLOWED_HOSTS:
    raise ImproperlyConfigured("ALLOWED_HOSTS is not set.")
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

MUNICIPALITY_NAME = env.str("MUNICIPALITY_NAME", default="Exempelkommunen")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django.forms",
    "crispy_forms",
    "crispy_bootstrap5",
    "simple_history",
    "axes",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "csp",
    "bostadforst",
    "participants",
    "housing",
    "support",
    "reports",
    "fidelity",
]

MIDDLEWARE = [
    # First: every later log line of the request carries its id (request_id.py).
    "bostadforst.request_id.RequestIdMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "bostadforst.middleware.SwedishFirstLocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "bostadforst.middleware.IdentityViewerMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "django.contrib.auth.middleware.LoginRequiredMiddleware",
    "bostadforst.middleware.TwoFactorMiddleware",
    "bostadforst.middleware.PasswordChangeRequiredMiddleware",
    "bostadforst.middleware.SessionLimitsMiddleware",
    "bostadforst.middleware.PermissionTableMiddleware",
    "bostadforst.middleware.NoStoreMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    "bostadforst.middleware.UnstorableInputMiddleware",
    "simple_history.middleware.HistoryRequestMiddleware",
    # Last, so that a lockout answers before the view runs (django-axes docs).
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "bostadforst.urls"
WSGI_APPLICATION = "bostadforst.wsgi.application"
AUTH_USER_MODEL = "bostadforst.User"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "csp.context_processors.nonce",
                "bostadforst.context_processors.navigation",
            ],
        },
    },
]

# --- Database -----------------------------------------------------------------
# https://django-environ.readthedocs.io/en/latest/types.html#environ-env-db-url
DATABASES = {
    "default": env.db_url("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}"),
}
# Services set the transaction boundary (STYLE.md), so no ATOMIC_REQUESTS.
DATABASES["default"]["ATOMIC_REQUESTS"] = False
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {"timeout": 20, "transaction_mode": "IMMEDIATE", "init_command": "PRAGMA journal_mode=WAL;"}
    )
else:
    DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=60)
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Cache --------------------------------------------------------------------
REDIS_URL = env.str("REDIS_URL", default="")
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "OPTIONS": {"socket_connect_timeout": 2, "socket_timeout": 2},
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

# --- Authentication -----------------------------------------------------------
AUTHENTICATION_BACKENDS = [
    # First, so that a locked-out user is refused before the password is checked.
    "axes.backends.AxesStandaloneBackend",
    # LOCAL_LOGIN_FOR: refuses a password login the setting closes.
    "bostadforst.oidc.LocalLoginPolicyBackend",
    "django.contrib.auth.backends.ModelBackend",
    # OpenID Connect logins (bostadforst.oidc): answers only the provider's
    # callback, and only while OIDC_RP_CLIENT_ID is set.
    "bostadforst.oidc.OIDCBackend",
    # SAML 2.0 logins (bostadforst.saml): answers only djangosaml2's ACS with a
    # verified assertion, and only while SAML_ENABLED.
    "bostadforst.saml.SamlBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 12},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

# Two-factor login (django-otp): required for these roles, or for everyone.
OTP_REQUIRED_FOR_PRIVILEGED = env.bool("OTP_REQUIRED_FOR_PRIVILEGED", default=not DEBUG)
OTP_REQUIRED_FOR_ALL = env.bool("OTP_REQUIRED_FOR_ALL", default=False)
OTP_TOTP_ISSUER = "Bostad först"
# The admin never shows a device's secret or QR code: whoever saw it could
# pass the second factor as that user.
OTP_ADMIN_HIDE_SENSITIVE_DATA = True
# A user may set up their own TOTP device only while an administrator has
# opened setup for them (a stolen password alone must not be enough to enrol
# an attacker's phone). Demo and development allow it at any time.
OTP_SELF_ENROLMENT = env.bool("OTP_SELF_ENROLMENT", default=DEBUG or DEMO_MODE)
OTP_ENROLMENT_WINDOW_HOURS = env.int("OTP_ENROLMENT_WINDOW_HOURS", default=72)

# django-axes: lock username + IP, never IP alone (behind a proxy everyone shares
# one IP, and one attacker would lock out the whole municipality).
AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = env.float("AXES_COOLOFF_MINUTES", default=15) / 60  # hours
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
# A failure during a lockout is refused before the password is checked and
# leaves the lock's start where it was: with the default (True) every failure
# restarted the cool-off, so anyone sharing the address (a municipality's NAT)
# could keep a colleague locked out for ever by failing once in a while.
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = False
AXES_VERBOSE = False
# One trusted reverse proxy appends the client's address to X-Forwarded-For;
# bostadforst.access_log.client_ip takes exactly that entry (never the
# client-supplied ones to its left), for the lockout and the access log alike.
TRUSTED_PROXY_COUNT = 1 if env.bool("BEHIND_PROXY", default=False) else 0
# The addresses (or networks, e.g. 172.18.0.0/16) the proxy connects from.
# When set, X-Forwarded-For is believed only on a connection from one of them
# and any other connection is its own client, so a client that reaches the app
# directly cannot name its own address. When empty, the app must be reachable
# only through the proxy (README, "Production").
TRUSTED_PROXY_IPS = env.list("TRUSTED_PROXY_IPS", default=[])
for _proxy in TRUSTED_PROXY_IPS:
    try:
        ipaddress.ip_network(_proxy, strict=False)
    except ValueError:
        raise ImproperlyConfigured(f"TRUSTED_PROXY_IPS: {_proxy!r} is not an address") from None
AXES_CLIENT_IP_CALLABLE = "bostadforst.access_log.client_ip"
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"

# --- OpenID Connect login (mozilla-django-oidc; bostadforst.oidc) -------------
# Off unless OIDC_RP_CLIENT_ID is set. The provider's endpoints come from its
# discovery document (OIDC_OP_DISCOVERY_URL, e.g.
# https://login.microsoftonline.com/<tenant>/v2.0/.well-known/openid-configuration)
# or from the OIDC_OP_* settings, which win.
OIDC_RP_CLIENT_ID = env.str("OIDC_RP_CLIENT_ID", default="")
OIDC_RP_CLIENT_SECRET = env.str("OIDC_RP_CLIENT_SECRET", default="")
OIDC_RP_SIGN_ALGO = env.str("OIDC_RP_SIGN_ALGO", default="RS256")
OIDC_RP_SCOPES = env.str("OIDC_RP_SCOPES", default="openid email profile")
OIDC_OP_DISCOVERY_URL = env.str("OIDC_OP_DISCOVERY_URL", default="")
OIDC_OP_ISSUER = env.str("OIDC_OP_ISSUER", default="")
OIDC_OP_AUTHORIZATION_ENDPOINT = env.str("OIDC_OP_AUTHORIZATION_ENDPOINT", default="")
OIDC_OP_TOKEN_ENDPOINT = env.str("OIDC_OP_TOKEN_ENDPOINT", default="")
OIDC_OP_USER_ENDPOINT = env.str("OIDC_OP_USER_ENDPOINT", default="")
OIDC_OP_JWKS_ENDPOINT = env.str("OIDC_OP_JWKS_ENDPOINT", default="")
OIDC_OP_LOGOUT_ENDPOINT = env.str("OIDC_OP_LOGOUT_ENDPOINT", default="")
# The claim holding the user's groups or roles (a dotted path reaches into an
# object: realm_access.roles) and a JSON object mapping its values to the four
# roles, e.g. {"<group id>": "social_worker", "<group id>": "administrator"}.
OIDC_ROLE_CLAIM = env.str("OIDC_ROLE_CLAIM", default="groups")
OIDC_ROLE_MAP = env.json("OIDC_ROLE_MAP", default={})
# acr values (space-separated) of which the ID token must carry one; the
# provider's login then counts as the second factor.
OIDC_REQUIRED_ACR = env.str("OIDC_REQUIRED_ACR", default="")
OIDC_TIMEOUT = env.int("OIDC_TIMEOUT", default=10)
OIDC_USE_PKCE = True
OIDC_AUTHENTICATION_CALLBACK_URL = "oidc_authentication_callback"
# "all": password login for every account; "superusers": only for the local
# fallback administrators (everyone else uses single sign-on).
LOCAL_LOGIN_FOR = env.str("LOCAL_LOGIN_FOR", default="all")
if LOCAL_LOGIN_FOR not in ("all", "superusers"):
    raise ImproperlyConfigured("LOCAL_LOGIN_FOR must be 'all' or 'superusers'")

# --- SAML 2.0 login (djangosaml2/pysaml2; bostadforst.saml) --------------------
# Off unless the IdP's metadata (a URL, optionally verified with
# SAML_IDP_METADATA_CERT, or a local file), this SP's entity id and its signing
# key and certificate (PEM files) are all set. Needs the xmlsec1 program.
SAML_IDP_METADATA_URL = env.str("SAML_IDP_METADATA_URL", default="")
SAML_IDP_METADATA_FILE = env.str("SAML_IDP_METADATA_FILE", default="")
SAML_IDP_METADATA_CERT = env.str("SAML_IDP_METADATA_CERT", default="")
SAML_SP_ENTITY_ID = env.str("SAML_SP_ENTITY_ID", default="")
SAML_SP_KEY_FILE = env.str("SAML_SP_KEY_FILE", default="")
SAML_SP_CERT_FILE = env.str("SAML_SP_CERT_FILE", default="")
# e.g. https://bostadforst.kommun.se (default: the host of the request).
SAML_SP_BASE_URL = env.str("SAML_SP_BASE_URL", default="")
SAML_CLOCK_SKEW = env.int("SAML_CLOCK_SKEW", default=60)  # seconds
# The attribute whose values map to a role (SAML_ROLE_MAP, a JSON object like
# OIDC_ROLE_MAP, which is used when SAML_ROLE_MAP is empty).
SAML_ROLE_ATTRIBUTE = env.str("SAML_ROLE_ATTRIBUTE", default="groups")
SAML_ROLE_MAP = env.json("SAML_ROLE_MAP", default={})
# The username: this attribute's value, or the NameID when empty.
SAML_USERNAME_ATTRIBUTE = env.str("SAML_USERNAME_ATTRIBUTE", default="")
SAML_EMAIL_ATTRIBUTE = env.str("SAML_EMAIL_ATTRIBUTE", default="mail")
SAML_XMLSEC_BINARY = env.str("SAML_XMLSEC_BINARY", default="")
# AuthnContextClassRef values (comma-separated, e.g. Sweden Connect's
# http://id.elegnamnden.se/loa/1.0/loa3) the login must carry; when set they
# are asked for in the AuthnRequest, an assertion without one is refused, and
# the IdP's login then counts as the second factor (no TOTP step).
SAML_REQUIRED_AUTHN_CONTEXT = env.list("SAML_REQUIRED_AUTHN_CONTEXT", default=[])
SAML_ENABLED = bool(
    (SAML_IDP_METADATA_URL or SAML_IDP_METADATA_FILE)
    and SAML_SP_ENTITY_ID
    and SAML_SP_KEY_FILE
    and SAML_SP_CERT_FILE
)
SAML_CONFIG_LOADER = "bostadforst.saml.sp_config"
SAML_DEFAULT_BINDING = "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect"
SAML_SESSION_COOKIE_NAME = "saml_session"

# --- E-mail -------------------------------------------------------------------
# https://django-environ.readthedocs.io/en/latest/types.html#environ-env-email-url
# e.g. smtp+tls://user:password@smtp.kommun.se:587 (consolemail:// prints mail
# in development). Without EMAIL_URL the app sends no e-mail (reminders are
# printed to the console instead), and the self-service password reset is off.
# The URL itself is not kept as a setting: the debug page would show the
# password in it.
EMAIL_CONFIGURED = bool(env.str("EMAIL_URL", default=""))
if EMAIL_CONFIGURED:
    vars().update({k: v for k, v in env.email_url("EMAIL_URL").items() if v is not None})
else:
    # The embedded default and the demo: mail (reminders) is printed, not sent.
    EMAIL_BACKEND = "django.core.mail.backends.console.EmailBackend"
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="bostadforst@localhost")
SERVER_EMAIL = DEFAULT_FROM_EMAIL
EMAIL_TIMEOUT = 10
# The address the app is reached at, for links in mail (reminders): the
# scheme and host only, e.g. https://bostadforst.kommun.se.
SITE_URL = env.str("SITE_URL", default="http://127.0.0.1:8000")

# --- Reminders by e-mail (bostadforst.reminders) ---------------------------------
# Sent by beat every 15 minutes in the daytime; each user turns each kind off
# on the "Påminnelser" page. A mail the server refused is tried again at the
# next runs, up to REMINDER_MAX_ATTEMPTS times; a claim still unsent after
# REMINDER_CLAIM_TIMEOUT seconds (its worker died) is tried again too.
REMINDERS_ENABLED = env.bool("REMINDERS_ENABLED", default=True)
REMINDER_MAX_ATTEMPTS = env.int("REMINDER_MAX_ATTEMPTS", default=5)
REMINDER_CLAIM_TIMEOUT = env.int("REMINDER_CLAIM_TIMEOUT", default=3600)
# A plan review is announced this many days ahead; a referral decision within
# this many days of being taken; a tenant without a support worker after
# this many days in the apartment.
REMINDER_REVIEW_DAYS = env.int("REMINDER_REVIEW_DAYS", default=7)
REMINDER_DECISION_DAYS = env.int("REMINDER_DECISION_DAYS", default=3)
REMINDER_UNASSIGNED_DAYS = env.int("REMINDER_UNASSIGNED_DAYS", default=3)
# Days the record of a sent reminder is kept (ids only). A tenant still
# without a support worker after this long is announced again.
REMINDER_KEEP_DAYS = env.int("REMINDER_KEEP_DAYS", default=365)

# --- Password reset by e-mail ---------------------------------------------------
# Django's own views (bostadforst.auth_views), on by default when e-mail is
# configured. With single sign-on passwords are not this app's to reset:
# SSO_ENABLED (OpenID Connect or SAML on) turns the reset off whatever
# PASSWORD_RESET_ENABLED says.
SSO_ENABLED = bool(OIDC_RP_CLIENT_ID) or SAML_ENABLED
PASSWORD_RESET_ENABLED = env.bool("PASSWORD_RESET_ENABLED", default=EMAIL_CONFIGURED)
if PASSWORD_RESET_ENABLED and not EMAIL_CONFIGURED:
    raise ImproperlyConfigured("PASSWORD_RESET_ENABLED needs EMAIL_URL.")
# A reset link is good for this long (and once: a new password invalidates it).
PASSWORD_RESET_TIMEOUT = env.int("PASSWORD_RESET_TIMEOUT_MINUTES", default=60) * 60
# Requests per address and per client IP within the window; more are answered
# like any other (no hint) but send nothing. A whole office may share one IP.
PASSWORD_RESET_LIMIT_PER_ADDRESS = env.int("PASSWORD_RESET_LIMIT_PER_ADDRESS", default=3)
PASSWORD_RESET_LIMIT_PER_IP = env.int("PASSWORD_RESET_LIMIT_PER_IP", default=20)
PASSWORD_RESET_LIMIT_WINDOW = 60 * 60  # seconds

# --- Sessions -----------------------------------------------------------------
SESSION_ABSOLUTE_TIMEOUT = 10 * 60 * 60  # a working day, counted from login
SESSION_COOKIE_AGE = SESSION_ABSOLUTE_TIMEOUT
SESSION_IDLE_TIMEOUT = env.int("SESSION_IDLE_TIMEOUT", default=30 * 60)
# The idle warning (WCAG 2.2.1) appears this many seconds before the logout.
SESSION_WARNING_BEFORE = 2 * 60
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_HTTPONLY = True

# --- Security headers ---------------------------------------------------------
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=not DEBUG)
SESSION_COOKIE_SECURE = env.bool("SECURE_COOKIES", default=not DEBUG)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=0 if DEBUG else 31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
SECURE_HSTS_PRELOAD = True
if env.bool("BEHIND_PROXY", default=False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]

# django-csp 4: no inline script or style anywhere.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "frame-ancestors": ["'none'"],
        "form-action": ["'self'"],
        "base-uri": ["'none'"],
        "object-src": ["'none'"],
    }
}

# --- Internationalisation -----------------------------------------------------
LANGUAGE_CODE = "sv"
LANGUAGES = [("sv", _("Swedish")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Europe/Stockholm"
USE_I18N = True
USE_TZ = True
FORMAT_MODULE_PATH = ["bostadforst.formats"]

# --- Static files -------------------------------------------------------------
STATIC_URL = "static/"
STATIC_MANIFEST = env.bool("STATIC_MANIFEST", default=not DEBUG)
# Only the hashed-manifest mode serves collected files; otherwise whitenoise
# serves straight from the finders and must not look for an empty folder.
STATIC_ROOT = BASE_DIR / "staticfiles" if STATIC_MANIFEST else None
# Bootstrap is vendored under static/vendor/bootstrap/ (version and licence beside it).
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {
        "BACKEND": "django.core.files.storage.FileSystemStorage",
        "OPTIONS": {"location": env.str("MEDIA_ROOT", default=str(BASE_DIR / "media"))},
    },
    # Hashed names need `collectstatic` (done in the Dockerfile); development
    # and tests serve files straight from the finders.
    "staticfiles": {
        "BACKEND": (
            "whitenoise.storage.CompressedManifestStaticFilesStorage"
            if STATIC_MANIFEST
            else "django.contrib.staticfiles.storage.StaticFilesStorage"
        )
    },
}
WHITENOISE_USE_FINDERS = not STATIC_MANIFEST

# Widgets render through TEMPLATES, so templates/ can correct one (the admin's
# split date and time fields get a label per input, WCAG 1.3.1).
FORM_RENDERER = "django.forms.renderers.TemplatesSetting"
CRISPY_ALLOWED_TEMPLATE_PACKS = "bootstrap5"
CRISPY_TEMPLATE_PACK = "bootstrap5"

# --- Celery -------------------------------------------------------------------
# Without a broker, tasks run in-process (the embedded default).
CELERY_BROKER_URL = REDIS_URL or "memory://"
CELERY_RESULT_BACKEND = REDIS_URL or "cache+memory://"
CELERY_TASK_ALWAYS_EAGER = not REDIS_URL
CELERY_TASK_EAGER_PROPAGATES = False
CELERY_TIMEZONE = TIME_ZONE
CELERY_TASK_ACKS_LATE = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
# Workers and beat log through settings.LOGGING and its personnummer filter
# (bostadforst.celery.configure_worker_logging); Celery must not swap the root
# handler for its own unfiltered one.
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
# A publish must never hang a request when Redis is down (celery#4296,
# kombu#902): a page that queues work answers within about 2 s whatever the
# broker does (tests/reports/test_jobs.py measures a refused and a hung Redis).
# Durable work also has an outbox row that a sweep sends later.
# https://docs.celeryq.dev/en/stable/userguide/configuration.html#broker-settings
# Connecting, with its retries, is given up after this many seconds in all.
CELERY_BROKER_CONNECTION_TIMEOUT = 2
# Workers (not publishers) keep reconnecting after an outage, as by default.
CELERY_BROKER_CONNECTION_RETRY = True
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
_short_retries = {"max_retries": 1, "interval_start": 0, "interval_step": 0.2, "interval_max": 0.5}
CELERY_BROKER_TRANSPORT_OPTIONS = {
    **_short_retries,
    # Per connect and per command: a frozen Redis (accepts, never answers)
    # fails a publish after this, not after the kernel's TCP timeout.
    "socket_timeout": 2,
    "socket_connect_timeout": 2,
    # Above the longest task, so acks_late never re-runs a running job.
    "visibility_timeout": 2 * 60 * 60,
}
CELERY_TASK_PUBLISH_RETRY_POLICY = dict(_short_retries)
# The result backend is a second client of the same Redis. Sending a task
# whose result is kept first subscribes to the result channel, and by default
# that reconnects 20 times a second apart: 19 s per order with Redis down,
# 63 s with Redis frozen, before the broker is even tried. Report jobs keep no
# result (the Report row is their result); for the others (and for
# ``AsyncResult.get()``) the backend tries once more, with 1 s timeouts.
CELERY_RESULT_BACKEND_TRANSPORT_OPTIONS = {"retry_policy": {**_short_retries, "max_retries": 0}}
CELERY_REDIS_SOCKET_TIMEOUT = 1
CELERY_REDIS_SOCKET_CONNECT_TIMEOUT = 1
CELERY_REDIS_RETRY_ON_TIMEOUT = False
# A running report job writes Report.heartbeat_at every INTERVAL seconds; the
# sweep re-sends one whose heartbeat is older than TIMEOUT (its worker died).
REPORT_HEARTBEAT_INTERVAL = env.float("REPORT_HEARTBEAT_INTERVAL", default=30)
REPORT_HEARTBEAT_TIMEOUT = env.int("REPORT_HEARTBEAT_TIMEOUT", default=180)
if REPORT_HEARTBEAT_TIMEOUT < 3 * REPORT_HEARTBEAT_INTERVAL:
    raise ImproperlyConfigured(
        "REPORT_HEARTBEAT_TIMEOUT must be at least three REPORT_HEARTBEAT_INTERVALs."
    )
from celery.schedules import crontab  # noqa: E402  (beat schedules below)

# /healthz reports the worker down when its last heartbeat is older than this.
WORKER_HEARTBEAT_INTERVAL = env.int("WORKER_HEARTBEAT_INTERVAL", default=30)
WORKER_HEARTBEAT_MAX_AGE = env.int("WORKER_HEARTBEAT_MAX_AGE", default=120)
CELERY_BEAT_SCHEDULE: dict = {
    # bostadforst: a worker's heartbeat for /healthz (bostadforst.health).
    "worker-heartbeat": {
        "task": "bostadforst.worker_heartbeat",
        "schedule": float(WORKER_HEARTBEAT_INTERVAL),
        "options": {"expires": WORKER_HEARTBEAT_INTERVAL},
    },
    # reports: send report orders left unsent while the broker was down.
    "reports-sweep-unsent": {"task": "reports.sweep_unsent", "schedule": 60.0},
    # reports: the monthly retention report, as of the end of the previous month.
    "reports-monthly": {
        "task": "reports.monthly",
        "schedule": crontab(day_of_month="1", hour="6", minute="0"),
    },
    # bostadforst: forget one-time submit tokens older than SUBMIT_TOKEN_DAYS.
    "submit-tokens-prune": {
        "task": "bostadforst.prune_submit_tokens",
        "schedule": crontab(hour="4", minute="15"),
    },
    # reports: forget uploaded import files older than COHORT_IMPORT_DAYS.
    "cohort-imports-prune": {
        "task": "reports.prune_cohort_imports",
        "schedule": crontab(hour="4", minute="25"),
    },
    # reports: the day's data-quality score (reports.data_quality), for its chart.
    "reports-data-quality-snapshot": {
        "task": "reports.data_quality_snapshot",
        "schedule": crontab(hour="5", minute="10"),
    },
    # bostadforst: reminders by e-mail (no arguments; the task finds what is due).
    "reminders-send": {
        "task": "bostadforst.send_reminders",
        "schedule": crontab(minute="*/15", hour="7-18"),
        "options": {"expires": 14 * 60},
    },
}
# How long a form's one-time submit token is remembered: a replay (Back and
# submit again, a retry) later than this would be saved as a new record.
SUBMIT_TOKEN_DAYS = env.int("SUBMIT_TOKEN_DAYS", default=30)

# --- Cohort import (reports) ------------------------------------------------------
# The largest spreadsheet the import page takes. Uploaded files go to a
# temporary file on disk above FILE_UPLOAD_MAX_MEMORY_SIZE and do not count
# against DATA_UPLOAD_MAX_MEMORY_SIZE (which bounds the other form fields);
# the reverse proxy must let a body this large through (nginx
# client_max_body_size).
# https://docs.djangoproject.com/en/5.2/ref/settings/#file-upload-max-memory-size
COHORT_IMPORT_MAX_BYTES = env.int("COHORT_IMPORT_MAX_BYTES", default=20 * 1024 * 1024)
FILE_UPLOAD_MAX_MEMORY_SIZE = 2_621_440  # Django's default, stated: larger files stream to disk
# Days an uploaded file (personal data) and its jobs are kept; an imported
# file's content is dropped at once. Pruned daily by beat.
COHORT_IMPORT_DAYS = env.int("COHORT_IMPORT_DAYS", default=7)
# Seconds between the progress writes (heartbeats) of a running import job.
COHORT_IMPORT_PROGRESS_INTERVAL = env.float("COHORT_IMPORT_PROGRESS_INTERVAL", default=1.0)

# --- Product settings ---------------------------------------------------------
RESIDENCE_YEARS_REQUIRED = env.int("RESIDENCE_YEARS_REQUIRED", default=2)
RETENTION_TARGET = env.float("RETENTION_TARGET", default=0.80)
# The support worker's start page flags a person in their caseload after this
# many days without a visit or call (support.caseload).
CONTACT_OVERDUE_DAYS = env.int("CONTACT_OVERDUE_DAYS", default=14)
# Minutes after saving a visit during which its author may undo it (support.models).
VISIT_UNDO_MINUTES = env.int("VISIT_UNDO_MINUTES", default=5)
GALLRING_YEARS = env.int("GALLRING_YEARS", default=5)
GALLRING_RESEARCH_EXEMPTION = env.bool("GALLRING_RESEARCH_EXEMPTION", default=False)
GALLRING_SCHEDULED = env.bool("GALLRING_SCHEDULED", default=False)
# Register extracts (GDPR art. 15, EU Court C-579/21): whether the access log
# extract names the staff member behind each read or change, or gives the role
# only (the municipality's choice; the role is always given).
REGISTER_EXTRACT_NAMES_STAFF = env.bool("REGISTER_EXTRACT_NAMES_STAFF", default=True)
# Research exports (reports.research_export): how dates leave the system by
# default ("shift": each person's dates moved by their own secret offset of at
# most RESEARCH_DATE_SHIFT_DAYS days, intervals kept; "month": to the month).
RESEARCH_DATES = env.str("RESEARCH_DATES", default="shift")
RESEARCH_DATE_SHIFT_DAYS = env.int("RESEARCH_DATE_SHIFT_DAYS", default=14)

# --- Logging ------------------------------------------------------------------
# json: one JSON object a line (for a log collector), the default in
# production; text: for a person reading a terminal, the default with DEBUG.
# Both carry the request id (bostadforst/request_id.py) and are scrubbed of
# personnummer (bostadforst/logging.py).
try:
    LOG_FORMAT = log_format(env.str("LOG_FORMAT", default=""), debug=DEBUG)
except ValueError as error:
    raise ImproperlyConfigured(str(error)) from error
LOGGING = {
    **console_logging(LOG_FORMAT),
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    "loggers": {
        "django.request": {"handlers": ["console"], "level": "WARNING", "propagate": False},
        "axes": {"level": "WARNING"},
        "weasyprint": {"level": "WARNING"},
        "fontTools": {"level": "WARNING"},
        # pysaml2's schema library reports every schema it loads at INFO.
        "xmlschema": {"level": "WARNING"},
        "saml2": {"level": "WARNING"},
    },
}

# --- Error reporter (optional) --------------------------------------------------
# Sentry or a Sentry-compatible service (GlitchTip), off unless SENTRY_DSN is
# set. bostadforst/error_reporting.py strips personal data from every event
# before it leaves: no user name or e-mail, cookies, headers, request bodies,
# query strings or stack-frame variables, and personnummer scrubbed anywhere.
# Web, Celery worker and beat each start it when they load these settings.
# https://docs.sentry.io/platforms/python/integrations/django/
SENTRY_DSN = env.str("SENTRY_DSN", default="")
SENTRY_ENVIRONMENT = env.str("SENTRY_ENVIRONMENT", default="production")
SENTRY_RELEASE = env.str("SENTRY_RELEASE", default="")
# Share of requests and tasks whose performance data is sent; 0: errors only.
SENTRY_TRACES_SAMPLE_RATE = env.float("SENTRY_TRACES_SAMPLE_RATE", default=0.0)
if not 0.0 <= SENTRY_TRACES_SAMPLE_RATE <= 1.0:
    raise ImproperlyConfigured("SENTRY_TRACES_SAMPLE_RATE must be between 0 and 1")
if SENTRY_DSN:
    from bostadforst import error_reporting

    error_reporting.init(
        dsn=SENTRY_DSN,
        environment=SENTRY_ENVIRONMENT,
        release=SENTRY_RELEASE,
        traces_sample_rate=SENTRY_TRACES_SAMPLE_RATE,
    )

# --- Access-log review ("loggkontroll") ----------------------------------------
# A user who reads more than this many distinct people within the window is
# flagged on the manager's log review page.
ACCESS_LOG_BURST_PERSONS = env.int("ACCESS_LOG_BURST_PERSONS", default=30)
ACCESS_LOG_BURST_MINUTES = env.int("ACCESS_LOG_BURST_MINUTES", default=10)

# --- Culling (gallring) ----------------------------------------------------------
# The model whose rows are the people culled, and its fields; bostadforst finds
# everything that belongs to a person through the model graph (gallring.py).
GALLRING_PERSON_MODEL = "participants.Participant"
GALLRING_CLOSED_FIELD = "closed_on"
GALLRING_PERSONNUMMER_FIELD = "personnummer"
# Protected identity (a non-blank value here, now or in any earlier version):
# such a person is never kept under the research exemption, only culled.
GALLRING_PROTECTED_FIELD = "identity_protection"
if GALLRING_SCHEDULED:
    from celery.schedules import crontab

    CELERY_BEAT_SCHEDULE["gallring-monthly"] = {
        "task": "bostadforst.gallra",
        "schedule": crontab(day_of_month="1", hour="3", minute="30"),
    }
