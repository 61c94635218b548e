"""Offbrand settings.

Every value that differs between machines is read here, once, from the
environment (or a `.env` file beside `manage.py`) through django-environ.
With nothing set, Offbrand runs on an embedded default: SQLite, a local-memory
cache, email printed to the console and DEBUG on. `.env.example` documents
every variable.
"""

from email.utils import parseaddr
from pathlib import Path

import environ
from django.contrib.messages import constants as message_constants
from django.core.exceptions import ImproperlyConfigured
from django.utils.csp import CSP

from offbrand.email_url import mailer_from_url
from offbrand.logfilters import SECURITY_LOGGERS

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

# ---------------------------------------------------------------------------
# Core
# ---------------------------------------------------------------------------
DEBUG = env.bool("DEBUG", default=True)

SECRET_KEY = env.str("SECRET_KEY", default="")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured(
            "SECRET_KEY is not set. With DEBUG off Offbrand refuses to start "
            "without one: set SECRET_KEY in the environment or in .env "
            "(for example the output of "
            "`python -c 'import secrets; print(secrets.token_urlsafe(50))'`)."
        )
    SECRET_KEY = "django-insecure-offbrand-development-key-not-for-production"

ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "[::1]", "testserver"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

# The base of every absolute link in mail; the request's Host is never used.
SITE_URL = env.str("SITE_URL", default="http://127.0.0.1:8000").rstrip("/")
# The site is served at the root of its host: a `SCRIPT_NAME` header, which gunicorn
# accepts from a trusted proxy's address and some proxies pass on from the client,
# never becomes a prefix of the URLs Django builds (mailed links included).
FORCE_SCRIPT_NAME = ""

INSTALLED_APPS = [
    "accounts.apps.OffbrandAdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django.forms",
    "anymail",
    "django_tasks_db",
    "accounts.apps.AccountsConfig",
    "social.apps.SocialConfig",
    "accounts.mfa.apps.MfaConfig",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "accounts.middleware.AfterResponseMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.middleware.csp.ContentSecurityPolicyMiddleware",
    "offbrand.middleware.PermissionsPolicyMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "offbrand.middleware.FileUploadGuardMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "accounts.middleware.AuthenticationMiddleware",
    "accounts.middleware.SignInBudgetMiddleware",
    "accounts.middleware.UnconfirmedGateMiddleware",
    "accounts.middleware.LastSeenMiddleware",
    "accounts.middleware.UserSessionMiddleware",
    "accounts.middleware.PrivatePagesMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "offbrand.middleware.DatabaseUnavailableMiddleware",
]

ROOT_URLCONF = "offbrand.urls"
WSGI_APPLICATION = "offbrand.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            # {% url %} remembered (offbrand/urlcache.py): the same tag, a fraction of the cost.
            "builtins": ["offbrand.templatetags.cached_url"],
            # {% kept %}: fragments rendered once per process under a key of what they show.
            "libraries": {"kept": "offbrand.templatetags.kept"},
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.csp",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "accounts.context_processors.permissions",
                "accounts.context_processors.member",
            ],
        },
    },
]

# Every form's fields render through templates/includes/field.html.
FORM_RENDERER = "offbrand.forms.FormRenderer"

# ---------------------------------------------------------------------------
# Database, cache and sessions
# ---------------------------------------------------------------------------
DATABASES = {"default": env.db_url("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}")}
DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=60)
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Transactions take the write lock when they begin (and wait up to 20 s
    # for it), so concurrent workers queue instead of failing with "database
    # is locked" when a read turns into a write.
    DATABASES["default"].setdefault("OPTIONS", {}).update(transaction_mode="IMMEDIATE", timeout=20)
# Bounded waits on PostgreSQL (README, "Bounded waits"): a connection attempt
# gives up after DATABASE_CONNECT_TIMEOUT seconds; the server cancels a
# statement after DATABASE_STATEMENT_TIMEOUT ms; keepalives and
# tcp_user_timeout notice a peer gone from the network; and the client gives
# up on any round trip after DATABASE_CLIENT_TIMEOUT seconds, even when the
# server is alive but does not answer (offbrand/postgresql). 0 turns one off.
DATABASE_CLIENT_TIMEOUT = env.float("DATABASE_CLIENT_TIMEOUT", default=6.0)
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    DATABASES["default"]["ENGINE"] = "offbrand.postgresql"
    _pg = DATABASES["default"].setdefault("OPTIONS", {})
    _pg.setdefault("connect_timeout", env.int("DATABASE_CONNECT_TIMEOUT", default=3))
    _statement_timeout = env.int("DATABASE_STATEMENT_TIMEOUT", default=5000)
    _pg["options"] = f"{_pg.get('options', '')} -c statement_timeout={_statement_timeout}".strip()
    _pg.setdefault("keepalives", 1)
    _pg.setdefault("keepalives_idle", env.int("DATABASE_KEEPALIVES_IDLE", default=10))
    _pg.setdefault("keepalives_interval", env.int("DATABASE_KEEPALIVES_INTERVAL", default=5))
    _pg.setdefault("keepalives_count", env.int("DATABASE_KEEPALIVES_COUNT", default=3))
    _pg.setdefault("tcp_user_timeout", env.int("DATABASE_TCP_USER_TIMEOUT", default=5000))
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

_cache_url = env.str("REDIS_URL", default="") or env.str("CACHE_URL", default="")
# Without a cache URL: Django's database cache in the site's own database
# (table created by `migrate`), so rate limits are shared by every worker;
# offbrand/cache.py makes its counting exact.
CACHES = {
    "default": env.cache_url_config(_cache_url)
    if _cache_url
    else {"BACKEND": "offbrand.cache.DatabaseCache", "LOCATION": "offbrand_cache"}
}
if CACHES["default"]["BACKEND"] == "django.core.cache.backends.redis.RedisCache":
    # Bounded waits on Redis, in seconds, tried once (no retry); after a
    # failure, each process fails fast for REDIS_FAIL_FAST seconds before it
    # tries Redis again (offbrand/cache.py).
    CACHES["default"]["BACKEND"] = "offbrand.cache.RedisCache"
    CACHES["default"].setdefault("OPTIONS", {}).update(
        {
            "socket_connect_timeout": env.float("REDIS_CONNECT_TIMEOUT", default=0.5),
            "socket_timeout": env.float("REDIS_SOCKET_TIMEOUT", default=0.5),
            "retry_on_timeout": False,
            "retry": None,
            "fail_fast": env.float("REDIS_FAIL_FAST", default=1.0),
        }
    )

# Sessions live in the database alone: a logout deletes one row, and no
# cache, however it fails or whatever it returns with, can bring it back.
# Django's database store, a new session written by one INSERT, a session read
# through SQL built once (offbrand/sessions.py), with the member it signs in
# in the same query (accounts/sessions.py).
SESSION_ENGINE = "accounts.sessions"
# A session without "remember me" ends on the server after this long without
# activity (its cookie ends with the browser); activity slides it, as the
# devices list writes the session at most once per OFFBRAND_LAST_SEEN_INTERVAL.
SESSION_COOKIE_AGE = env.int("OFFBRAND_SESSION_IDLE_SECONDS", default=24 * 3600)

# Messages: Django's default level, set so that each request's message store
# finds it (a missing setting is looked up, and fails, on every request), and
# Django's cookie-then-session store with small cookies left uncompressed
# (offbrand/messages.py).
MESSAGE_LEVEL = message_constants.INFO
MESSAGE_STORAGE = "offbrand.messages.MessageStorage"

# ---------------------------------------------------------------------------
# Authentication
# ---------------------------------------------------------------------------
AUTH_USER_MODEL = "accounts.User"
# Sign-in by username or email; permissions (`has_perm("accounts.moderate")`)
# from the member's role, so Django's own checks agree with `User.can()`.
AUTHENTICATION_BACKENDS = [
    "accounts.backends.UsernameOrEmailBackend",
    "accounts.backends.RoleBackend",
]
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "index"
LOGOUT_REDIRECT_URL = "index"

PASSWORD_HASHERS = [
    "accounts.hashers.OffbrandArgon2PasswordHasher",
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2SHA1PasswordHasher",
    "django.contrib.auth.hashers.ScryptPasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 8},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
PASSWORD_RESET_TIMEOUT = env.int("PASSWORD_RESET_TIMEOUT", default=3600)

# ---------------------------------------------------------------------------
# Email and background tasks
# ---------------------------------------------------------------------------
# An ESP through django-anymail (ANYMAIL_ESP=mailgun, postmark, ...) wins;
# otherwise EMAIL_URL, parsed by offbrand/email_url.py (smtp://…:587/?tls=True
# is STARTTLS, smtps://…:465 is SSL, filemail:///abs/path, consolemail://).
# The default prints mail to the console while DEBUG is on, and hands it to
# the local mail server (smtp://localhost:25) when off.
_email_timeout = env.int("EMAIL_TIMEOUT", default=10)
ANYMAIL_ESP = env.str("ANYMAIL_ESP", default="")
if ANYMAIL_ESP:
    # Every ANYMAIL_<ESP>_<SETTING> variable, e.g. ANYMAIL_MAILGUN_API_KEY.
    ANYMAIL = {
        name.removeprefix("ANYMAIL_"): env.str(name)
        for name in env.ENVIRON
        if name.startswith("ANYMAIL_") and name != "ANYMAIL_ESP"
    }
    MAILERS = {"default": {"BACKEND": f"anymail.backends.{ANYMAIL_ESP}.EmailBackend"}}
else:
    _default_email_url = "consolemail://" if DEBUG else "smtp://localhost:25"
    MAILERS = {
        "default": mailer_from_url(
            env.str("EMAIL_URL", default=_default_email_url),
            timeout=_email_timeout,
            base_dir=BASE_DIR,
        )
    }

OFFBRAND_MAIL_SUBJECT_PREFIX = env.str("OFFBRAND_MAIL_SUBJECT_PREFIX", default="[Offbrand]")
OFFBRAND_MAIL_SENDER = env.str("OFFBRAND_MAIL_SENDER", default="Offbrand Admin <admin@offbrand.co>")
DEFAULT_FROM_EMAIL = SERVER_EMAIL = OFFBRAND_MAIL_SENDER

# The embedded default sends mail at once, inside the request; production
# sets TASKS_BACKEND=django_tasks_db.DatabaseBackend and runs
# `manage.py task_worker`, so mail survives a restart or an SMTP outage.
TASKS = {
    "default": {
        "BACKEND": env.str(
            "TASKS_BACKEND", default="django.tasks.backends.immediate.ImmediateBackend"
        )
    }
}
# `manage.py task_worker` returns a task to the queue when its worker has not
# finished it this many seconds after claiming it (the worker died), and
# fails it visibly after TASKS_MAX_CLAIMS claims.
# `/healthz` waits this long (seconds) for PostgreSQL and the cache to answer.
HEALTHZ_TIMEOUT = env.float("HEALTHZ_TIMEOUT", default=0.8)
TASKS_CLAIM_TIMEOUT = env.int("TASKS_CLAIM_TIMEOUT", default=120)
TASKS_MAX_CLAIMS = env.int("TASKS_MAX_CLAIMS", default=5)

# ---------------------------------------------------------------------------
# Offbrand
# ---------------------------------------------------------------------------
OFFBRAND_ADMIN = env.str("OFFBRAND_ADMIN", default="")
# Where a suspended member writes to appeal; said in every suspension message.
OFFBRAND_APPEALS_EMAIL = env.str(
    "OFFBRAND_APPEALS_EMAIL", default=parseaddr(OFFBRAND_MAIL_SENDER)[1]
)
OFFBRAND_CONFIRM_MAX_AGE = env.int("OFFBRAND_CONFIRM_MAX_AGE", default=3600)
OFFBRAND_REMEMBER_DAYS = env.int("OFFBRAND_REMEMBER_DAYS", default=30)
OFFBRAND_AVATAR_MAX_BYTES = env.int("OFFBRAND_AVATAR_MAX_BYTES", default=2 * 1024 * 1024)
# The non-file part of any request (README, "Body limits"). The largest form is 2,000
# characters (a post, about me) at worst 12 bytes each percent-encoded: 24 KB; a passkey
# answer is a few KB, an admin action on 100 rows about 3 KB. A body past this is
# refused 400 from its Content-Length, before it is read or parsed: a 2.5 MB
# percent-encoded body cost about 1 s of CPU to parse. Files are bounded apart
# (OFFBRAND_AVATAR_MAX_BYTES); this is also the form allowance beside an avatar.
DATA_UPLOAD_MAX_MEMORY_SIZE = 64 * 1024
# "local": identicons drawn here (no third-party request); "gravatar": Gravatar URLs.
OFFBRAND_AVATARS = env.str("OFFBRAND_AVATARS", default="local")
if OFFBRAND_AVATARS not in {"local", "gravatar"}:
    raise ImproperlyConfigured("OFFBRAND_AVATARS must be 'local' or 'gravatar'.")
# How many proxies in front add X-Forwarded-For (0: trust REMOTE_ADDR only).
OFFBRAND_TRUSTED_PROXIES = env.int("OFFBRAND_TRUSTED_PROXIES", default=0)
OFFBRAND_LAST_SEEN_INTERVAL = env.int("OFFBRAND_LAST_SEEN_INTERVAL", default=60)
# Changing the password or email, factors, recovery codes and deleting the
# account need a password (or factor) check at most this many seconds old.
OFFBRAND_REAUTH_SECONDS = env.int("OFFBRAND_REAUTH_SECONDS", default=600)
# Seconds a member has, after a correct password, to give their second factor.
OFFBRAND_MFA_PENDING_SECONDS = env.int("OFFBRAND_MFA_PENDING_SECONDS", default=300)

# ---------------------------------------------------------------------------
# Static and media files
# ---------------------------------------------------------------------------
STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
MEDIA_URL = "media/"
MEDIA_ROOT = env.path("MEDIA_ROOT", default=BASE_DIR / "media")
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "offbrand.storage.StaticFilesStorage"
        if not DEBUG
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}

# ---------------------------------------------------------------------------
# Internationalisation
# ---------------------------------------------------------------------------
LANGUAGE_CODE = "en-us"
TIME_ZONE = env.str("TIME_ZONE", default="UTC")
USE_I18N = True
USE_TZ = True
# Dates read the same on every page and in the admin: offbrand/formats/en/formats.py.
FORMAT_MODULE_PATH = ["offbrand.formats"]

# ---------------------------------------------------------------------------
# Security
# ---------------------------------------------------------------------------
SECURE_CSP = {
    "default-src": [CSP.SELF],
    "script-src": [CSP.SELF, CSP.NONCE],
    "style-src": [CSP.SELF],
    "img-src": [CSP.SELF, "data:", "https://www.gravatar.com"],
    "object-src": [CSP.NONE],
    "base-uri": [CSP.NONE],
    "frame-ancestors": [CSP.NONE],
    "form-action": [CSP.SELF],
}
# Browser features no page uses: off for this site and anything it embeds.
PERMISSIONS_POLICY = {
    feature: []
    for feature in (
        "accelerometer",
        "autoplay",
        "camera",
        "display-capture",
        "geolocation",
        "gyroscope",
        "magnetometer",
        "microphone",
        "midi",
        "payment",
        "usb",
        "interest-cohort",
        "browsing-topics",
    )
}
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"

if not DEBUG:
    SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=True)
    # Load balancers probe app servers directly, over plain HTTP.
    SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=31536000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    if env.bool("SECURE_PROXY_SSL_HEADER", default=False):
        SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

# ---------------------------------------------------------------------------
# Logging
# ---------------------------------------------------------------------------
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    # One line per failure with its cause, repeats held back during an outage.
    "filters": {
        "outage": {"()": "offbrand.logfilters.OutageFilter"},
        "refused": {"()": "offbrand.logfilters.RefusedRequestFilter"},
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": "plain",
            "filters": ["outage"],
        }
    },
    # A request refused for what it sent (body too large or unreadable, a bad Host, a
    # path outside the media folder), or a 403: one warning line each, not a traceback.
    # On each logger Django reports them on (a logger's filter does not reach its children).
    "loggers": {
        name: {"filters": ["refused"]}
        for name in [
            "django.request",
            *(f"django.security.{kind}" for kind in SECURITY_LOGGERS),
        ]
    },
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
}
