"""Settings, read from the environment (see README, "Configuration")."""

from __future__ import annotations

import os
from pathlib import Path

import dj_database_url

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(os.environ.get("MUSTER_VAR_DIR", Path.cwd() / "var"))


def _env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


DEBUG = _env_bool("MUSTER_DEBUG", False)


def _secret_key() -> str:
    """MUSTER_SECRET_KEY, or a random key kept in VAR_DIR/secret_key (mode 0600) so that
    sessions survive restarts without a key ever being committed or shared between sites."""
    key = os.environ.get("MUSTER_SECRET_KEY", "")
    if key:
        return key
    path = VAR_DIR / "secret_key"
    if path.exists():
        return path.read_text().strip()
    import secrets

    VAR_DIR.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(50)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:  # another process made it first
        return path.read_text().strip()
    with os.fdopen(fd, "w") as handle:
        handle.write(key)
    return key


SECRET_KEY = _secret_key()

# The transparency log: its origin (the first line of every checkpoint, and the signing key's
# name) and the file holding the checkpoint signing key (made on first use, mode 0600; keep it
# on a separate signer where one is configured, see docs/transparency-log.md).
LOG_ORIGIN = os.environ.get("MUSTER_LOG_ORIGIN", "muster.local/log")
LOG_KEY_FILE = Path(os.environ.get("MUSTER_LOG_KEY_FILE", VAR_DIR / "log-signing.key"))
# The witnesses whose cosignatures are kept: their cosignature/v1 public keys, comma-separated.
LOG_WITNESS_KEYS = [
    k.strip() for k in os.environ.get("MUSTER_LOG_WITNESS_KEYS", "").split(",") if k.strip()
]
ALLOWED_HOSTS = [
    h.strip() for h in os.environ.get("MUSTER_ALLOWED_HOSTS", "127.0.0.1,localhost").split(",") if h
]

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django_htmx",
    "ninja",  # its Swagger UI files, served from our own static files
    "muster.core",
    "muster.accounts",
    "muster.journal",
    "muster.policy",
    "muster.people",
    "muster.vetting",
    "muster.armory",
    "muster.duties",
    "muster.alerts",
    "muster.planning",
    "muster.web",
    "muster.demo",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "muster.core.middleware.RefuseNulCharacters",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
]

ROOT_URLCONF = "muster.config.urls"
WSGI_APPLICATION = "muster.config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

DATABASE_URL = os.environ.get("MUSTER_DATABASE_URL", f"sqlite:///{VAR_DIR / 'muster.sqlite3'}")
_db = dj_database_url.parse(DATABASE_URL, conn_max_age=60)
if _db["ENGINE"] == "django.db.backends.sqlite3":
    # IMMEDIATE takes the write lock at BEGIN, so two writers queue instead of one failing
    # with "database is locked" when it upgrades a read lock; WAL lets readers run meanwhile.
    _db["OPTIONS"] = {
        "transaction_mode": "IMMEDIATE",
        "timeout": 30,
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON;",
    }
    _db["CONN_MAX_AGE"] = 0
    _test_name = os.environ.get("MUSTER_TEST_SQLITE_PATH")
    if _test_name:
        _db["TEST"] = {"NAME": _test_name}
elif _db["ENGINE"] == "django.db.backends.postgresql":
    # The custody hot path prepares its statements (muster.core.rows.cursor); the ORM's own
    # queries bind on the client and are never prepared. Behind a pooler in transaction mode,
    # which cannot keep a session's prepared statements, set MUSTER_DATABASE_PREPARE=0.
    _prepare = os.environ.get("MUSTER_DATABASE_PREPARE", "1") not in ("0", "false", "no")
    _db.setdefault("OPTIONS", {})["prepare_threshold"] = 5 if _prepare else None
DATABASES = {"default": _db}

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "accounts.User"

PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]

# Every password check (web, admin, commands) goes through the login throttle.
AUTHENTICATION_BACKENDS = ["muster.accounts.backends.ThrottledBackend"]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"
# Repeated failed logins lock the account for a while (each failure and lock is journaled).
LOGIN_MAX_FAILURES = int(os.environ.get("MUSTER_LOGIN_MAX_FAILURES", "5"))
LOGIN_LOCK_MINUTES = int(os.environ.get("MUSTER_LOGIN_LOCK_MINUTES", "15"))

# The largest file the browser's import pages take (the command line has no limit).
IMPORT_MAX_UPLOAD_BYTES = int(os.environ.get("MUSTER_IMPORT_MAX_UPLOAD_BYTES", 20 * 1024 * 1024))

# E-mail (the alert job's digests): the console backend prints them (the demo); set
# django.core.mail.backends.smtp.EmailBackend and the MUSTER_EMAIL_HOST… settings to send them.
EMAIL_BACKEND = os.environ.get(
    "MUSTER_EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend"
)
DEFAULT_FROM_EMAIL = os.environ.get("MUSTER_EMAIL_FROM", "muster@localhost")
EMAIL_HOST = os.environ.get("MUSTER_EMAIL_HOST", "localhost")
EMAIL_PORT = int(os.environ.get("MUSTER_EMAIL_PORT", "25"))
EMAIL_HOST_USER = os.environ.get("MUSTER_EMAIL_USER", "")
EMAIL_HOST_PASSWORD = os.environ.get("MUSTER_EMAIL_PASSWORD", "")
EMAIL_USE_TLS = _env_bool("MUSTER_EMAIL_USE_TLS", False)
# Where the links in e-mails point: the address users open Muster at.
SITE_URL = os.environ.get("MUSTER_SITE_URL", "http://127.0.0.1:8000")
# Alerts: qualifications lapsing within this many days are raised (muster.alerts.sources).
ALERT_EXPIRING_DAYS = int(os.environ.get("MUSTER_ALERT_EXPIRING_DAYS", "30"))

LANGUAGE_CODE = "en"
FORMAT_MODULE_PATH = ["muster.formats"]
LOCALE_PATHS = [BASE_DIR / "locale"]
LANGUAGES = [("en", "English"), ("ru", "Русский")]
TIME_ZONE = os.environ.get("MUSTER_TIME_ZONE", "UTC")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = Path(os.environ.get("MUSTER_STATIC_ROOT", VAR_DIR / "static"))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("MUSTER_LOG_LEVEL", "WARNING")},
}
