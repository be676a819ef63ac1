"""Settings for Hormones & Bone.

One file, driven by environment variables, with defaults that run on a laptop with
no configuration (SQLite, DEBUG on). Production sets DJANGO_DEBUG=0 and a secret key.
"""

import os
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured
from django.utils.csp import CSP

from hormonebone.cache import cache_config

BASE_DIR = Path(__file__).resolve().parent.parent


def envbool(name: str, default: str) -> bool:
    return os.environ.get(name, default).strip().lower() in {"1", "true", "yes", "on"}


def envint(name: str, default: int) -> int:
    return int(os.environ.get(name, default))


DEBUG = envbool("DJANGO_DEBUG", "1")
SECRET_KEY = os.environ.get("DJANGO_SECRET_KEY", "")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured("DJANGO_SECRET_KEY must be set when DJANGO_DEBUG is off.")
    SECRET_KEY = "dev-only-insecure-key-do-not-use-in-production"

ALLOWED_HOSTS = [
    h.strip()
    for h in os.environ.get("DJANGO_ALLOWED_HOSTS", "localhost,127.0.0.1,[::1]").split(",")
    if h.strip()
]
CSRF_TRUSTED_ORIGINS = [
    o.strip() for o in os.environ.get("DJANGO_CSRF_TRUSTED_ORIGINS", "").split(",") if o.strip()
]

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.sitemaps",
    "django.contrib.postgres",  # search on PostgreSQL; inert on SQLite
    "django.forms",
    "django_htmx",
    "simple_history",
    "axes",
    "lessons",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.middleware.csp.ContentSecurityPolicyMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "lessons.middleware.ProgressMiddleware",
    "lessons.middleware.StaffIdleMiddleware",
    "lessons.middleware.PermissionsPolicyMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "simple_history.middleware.HistoryRequestMiddleware",
    "axes.middleware.AxesMiddleware",
    "lessons.errors.not_allowed_page",
]

ROOT_URLCONF = "hormonebone.urls"
WSGI_APPLICATION = "hormonebone.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "django.template.context_processors.csp",
            ],
        },
    },
]

# Lets widget templates (the admin's markdown preview) live in templates/.
FORM_RENDERER = "django.forms.renderers.TemplatesSetting"

DATABASES = {
    "default": dj_database_url.config(
        default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}",
        conn_max_age=envint("DB_CONN_MAX_AGE", 600),
        conn_health_checks=True,
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL lets readers proceed during a write; IMMEDIATE takes the write lock at BEGIN
    # so concurrent quiz submissions queue on the busy timeout instead of failing.
    DATABASES["default"]["OPTIONS"] = {
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }
    # The test database sits beside the one configured, so a test that starts another
    # pytest or server on its own DATABASE_URL never touches this run's test database.
    _db_name = Path(DATABASES["default"]["NAME"])
    _test_dir = BASE_DIR / "var" if _db_name == BASE_DIR / "db.sqlite3" else _db_name.parent
    DATABASES["default"]["TEST"] = {"NAME": str(_test_dir / f"test_{_db_name.stem}.sqlite3")}

if os.environ.get("CACHE_URL"):
    # A cache shared by every app server (quiz rate limits). hormonebone.cache wraps
    # Django's own Redis backend so that a cache outage is logged and degrades to misses
    # instead of failing requests.
    CACHES = {"default": cache_config(os.environ["CACHE_URL"])}
else:
    # Shared by every process on this machine, so rate limits hold across gunicorn workers.
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
            "LOCATION": os.environ.get("CACHE_DIR") or BASE_DIR / "var" / "cache",
        }
    }

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AXES_FAILURE_LIMIT = envint("AXES_FAILURE_LIMIT", 5)
AXES_COOLOFF_TIME = 0.25  # hours
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
# Behind N trusted proxies that each append to X-Forwarded-For, the client is the Nth
# address from the right; with none, REMOTE_ADDR (lessons.throttling.client_ip).
# Failures during a lockout do not extend it.
TRUSTED_PROXY_COUNT = envint("DJANGO_TRUSTED_PROXY_COUNT", 0)
AXES_CLIENT_IP_CALLABLE = "lessons.throttling.client_ip"
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = False
AXES_ENABLED = envbool("AXES_ENABLED", "1")
AXES_LOCKOUT_TEMPLATE = "learners/locked_out.html"  # the site's page (status 429), for learners and staff alike

LANGUAGE_CODE = "en"
TIME_ZONE = "UTC"
USE_I18N = False
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = Path(os.environ.get("DJANGO_STATIC_ROOT") or BASE_DIR / "staticfiles")
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "hormonebone.storage.StaticFilesStorage"
        if not DEBUG
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}

# Learners sign in at /account/sign-in/ (lessons/learners/accounts.py); staff at /admin/.
LOGIN_URL = "sign_in"
LOGIN_REDIRECT_URL = "/"
LOGOUT_REDIRECT_URL = "/"
# Password reset mail: printed on the console in development; otherwise sent over SMTP to
# DJANGO_EMAIL_HOST (default: a mail server on this machine, port 25).
if DEBUG and not os.environ.get("DJANGO_EMAIL_HOST"):
    MAILERS = {"default": {"BACKEND": "django.core.mail.backends.console.EmailBackend"}}
else:
    MAILERS = {
        "default": {
            "BACKEND": "django.core.mail.backends.smtp.EmailBackend",
            "OPTIONS": {
                "host": os.environ.get("DJANGO_EMAIL_HOST", "localhost"),
                "port": envint("DJANGO_EMAIL_PORT", 25),
                "username": os.environ.get("DJANGO_EMAIL_USER", ""),
                "password": os.environ.get("DJANGO_EMAIL_PASSWORD", ""),
                "use_tls": envbool("DJANGO_EMAIL_TLS", "0"),
            },
        }
    }
DEFAULT_FROM_EMAIL = os.environ.get("DJANGO_FROM_EMAIL", "Hormones & Bone <noreply@localhost>")
# Sessions live on the server (cache in front of the database), so logging out, changing a
# password or "log out everywhere" ends them. Readers need none: their progress rides in
# a signed cookie (lessons/middleware.py); the session starts with the first quiz.
SESSION_ENGINE = "django.contrib.sessions.backends.cached_db"
SESSION_COOKIE_AGE = 60 * 60 * 24 * 365
PROGRESS_COOKIE_AGE = 60 * 60 * 24 * 365
STAFF_IDLE_SECONDS = envint("STAFF_IDLE_SECONDS", 4 * 60 * 60)
SESSION_COOKIE_HTTPONLY = True
# The reading-progress beacon on cached tier pages reads the token from this cookie.
CSRF_COOKIE_HTTPONLY = False
CSRF_FAILURE_VIEW = "lessons.errors.csrf_failure"

# Security headers: sent in every environment, HTTPS-only ones in production.
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SECURE_CSP = {
    "default-src": [CSP.SELF],
    "script-src": [CSP.SELF, CSP.NONCE],
    "style-src": [CSP.SELF],
    "img-src": [CSP.SELF, "data:"],
    "font-src": [CSP.SELF],
    "connect-src": [CSP.SELF],
    "object-src": [CSP.NONE],
    "base-uri": [CSP.SELF],
    "form-action": [CSP.SELF],
    "frame-ancestors": [CSP.NONE],
    "report-uri": ["/csp-report"],
}
# DJANGO_HTTPS=0 is for `make serve`: production settings reached over plain http on
# loopback, where an SSL redirect or Secure cookies would lock the browser out. It is
# refused for any host a proxy could forward, so a server behind a proxy stays strict.
HTTPS = not DEBUG and envbool("DJANGO_HTTPS", "1")
if not DEBUG and not HTTPS:
    public = [h for h in ALLOWED_HOSTS if h not in {"localhost", "127.0.0.1", "[::1]"}]
    if public:
        raise ImproperlyConfigured(
            f"DJANGO_HTTPS=0 serves plain http and is only for loopback, but DJANGO_ALLOWED_HOSTS "
            f"names {', '.join(public)}. Unset DJANGO_HTTPS behind a proxy."
        )
if HTTPS:
    SECURE_SSL_REDIRECT = envbool("DJANGO_SSL_REDIRECT", "1")
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
    SECURE_HSTS_SECONDS = envint("DJANGO_HSTS_SECONDS", 60 * 60 * 24 * 365)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True

# Where readers reach the site, for links that commands print (createinstructor).
SITE_URL = os.environ.get("DJANGO_SITE_URL", "").rstrip("/") or f"http://127.0.0.1:{os.environ.get('PORT', '8000')}"

# Quiz answers and starts per minute, per learner and per client address (a classroom
# behind one address gets ten learners' worth) before they are told to slow down.
QUIZ_RATE_LIMIT = envint("QUIZ_RATE_LIMIT", 60)
QUIZ_IP_RATE_LIMIT = envint("QUIZ_IP_RATE_LIMIT", 10 * QUIZ_RATE_LIMIT)
# Sign-up tries, and password-reset requests, per client address per hour (a classroom
# behind one address signs up together).
ACCOUNT_IP_RATE_LIMIT = envint("ACCOUNT_IP_RATE_LIMIT", 40)
PERMISSIONS_POLICY = "camera=(), microphone=(), geolocation=(), payment=(), usb=(), interest-cohort=()"

LOG_LEVEL = os.environ.get("DJANGO_LOG_LEVEL", "WARNING")
# One line per event. Django's default config gives the "django" logger a console
# handler of its own in DEBUG, which also propagates to the root one: every line twice.
# 4xx responses are not logged as warnings: the request log (runserver's, gunicorn's
# access log) already has them with their status.
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    "loggers": {
        "django": {"handlers": [], "level": LOG_LEVEL, "propagate": True},
        "django.request": {"handlers": [], "level": "ERROR", "propagate": True},
    },
}
