"""The only settings file: environment variables with working defaults (see PRODUCT.md)."""

import ipaddress
import os
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

from console import datadir

BASE_DIR = Path(__file__).resolve().parent.parent


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name, str(default).lower())
    if value not in ("true", "false"):
        raise ImproperlyConfigured(f"{name} must be 'true' or 'false', not {value!r}")
    return value == "true"


def env_list(name: str, default: str) -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


def env_int(name: str, default: int) -> int:
    value = os.environ.get(name, str(default))
    try:
        return int(value)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be an integer, not {value!r}") from None


def env_networks(name: str, default: str = "") -> list[str]:
    entries = env_list(name, default)
    for entry in entries:
        try:
            ipaddress.ip_network(entry, strict=False)
        except ValueError:
            raise ImproperlyConfigured(f"{name} lists addresses or networks, not {entry!r}") from None
    return entries


# Technical (debug) pages only when asked for by name; a generic DEBUG variable in the environment does not count.
DEBUG = env_bool("KINKO_DEBUG", False)
# The COS API addresses buckets by Host (any domain), so every host name is valid here.
ALLOWED_HOSTS = ["*"]

DATA_DIR = Path(os.environ.get("KINKO_DATA_DIR", BASE_DIR / "var")).resolve()
datadir.ensure_private_dir(DATA_DIR)  # SQLite and the keystore need it before any command runs
# Signs sessions and CSRF tokens: DJANGO_SECRET_KEY, else a random key generated once into <data dir>/secret_key.
SECRET_KEY = os.environ.get("DJANGO_SECRET_KEY") or datadir.secret_key(DATA_DIR)
STORAGE_ROOT = DATA_DIR / "objects"
KINKO_HTTPS_PORT = int(os.environ.get("KINKO_HTTPS_PORT", "8443"))
KINKO_APPID = os.environ.get("KINKO_APPID", "1250000000")
KINKO_REGIONS = env_list("KINKO_REGIONS", "ap-guangzhou,ap-shanghai,ap-beijing,ap-hongkong,ap-singapore")
KINKO_KMS_REGIONS = env_list("KINKO_KMS_REGIONS", "ap-guangzhou,ap-shanghai,ap-beijing,ap-hongkong")
KINKO_SSE_C_ALLOW_HTTP = env_bool("KINKO_SSE_C_ALLOW_HTTP", False)
# Uploads and multipart parts older than this are garbage when no row points at them.
# The sweep (collect-garbage, every 300 s) reclaims them within grace + period; a live upload is never touched.
KINKO_ORPHAN_GRACE_SECONDS = int(os.environ.get("KINKO_ORPHAN_GRACE_SECONDS", "600"))
# Where blob (ciphertext) files live: "local" (STORAGE_ROOT, the default) or "s3", any S3-compatible object store.
KINKO_BLOB_BACKEND = os.environ.get("KINKO_BLOB_BACKEND", "local")
if KINKO_BLOB_BACKEND not in ("local", "s3"):
    raise ImproperlyConfigured(f"KINKO_BLOB_BACKEND must be 'local' or 's3', not {KINKO_BLOB_BACKEND!r}")
KINKO_BLOB_S3_ENDPOINT = os.environ.get("KINKO_BLOB_S3_ENDPOINT", "")  # e.g. http://127.0.0.1:8333; "" for AWS
KINKO_BLOB_S3_BUCKET = os.environ.get("KINKO_BLOB_S3_BUCKET", "")
KINKO_BLOB_S3_ACCESS_KEY = os.environ.get("KINKO_BLOB_S3_ACCESS_KEY", "")
KINKO_BLOB_S3_SECRET_KEY = os.environ.get("KINKO_BLOB_S3_SECRET_KEY", "")
KINKO_BLOB_S3_REGION = os.environ.get("KINKO_BLOB_S3_REGION", "us-east-1")
KINKO_BLOB_S3_PREFIX = os.environ.get("KINKO_BLOB_S3_PREFIX", "")  # keys are <prefix>blobs/<id>: e.g. "kinko/"
if KINKO_BLOB_BACKEND == "s3" and not KINKO_BLOB_S3_BUCKET:
    raise ImproperlyConfigured(
        "KINKO_BLOB_BACKEND=s3 needs KINKO_BLOB_S3_BUCKET (and, but for AWS, KINKO_BLOB_S3_ENDPOINT)"
    )
# KMS audit events older than this are pruned (prune-audit-log, in batches).
KINKO_AUDIT_RETENTION_DAYS = env_int("KINKO_AUDIT_RETENTION_DAYS", 365)
# /readyz is not ready below this much free space in the data dir, so it says so before writes fail.
KINKO_MIN_FREE_BYTES = env_int("KINKO_MIN_FREE_BYTES", 256 * 1024 * 1024)
# The SSE-COS master key is rotated (and every data key re-wrapped) this often.
KINKO_MASTER_KEY_ROTATION_DAYS = float(os.environ.get("KINKO_MASTER_KEY_ROTATION_DAYS", "90"))
# The longest q-key-time / X-Amz-Expires window a signature may have (7 days, as S3).
KINKO_MAX_SIGNATURE_SECONDS = env_int("KINKO_MAX_SIGNATURE_SECONDS", 7 * 86400)
# The domain share links name: <bucket>.cos.<region>.<KINKO_COS_DOMAIN>, which must reach this Kinko (DNS or a proxy).
KINKO_COS_DOMAIN = os.environ.get("KINKO_COS_DOMAIN", "myqcloud.com")
# Addresses whose X-Forwarded-* headers are believed (a reverse proxy such as nginx); nobody's by default.
KINKO_TRUSTED_PROXIES = env_networks("KINKO_TRUSTED_PROXIES")
# /metrics answers clients at these addresses (as KINKO_TRUSTED_PROXIES lets them be seen) and, from anywhere, a
# request with `Authorization: Bearer <KINKO_METRICS_TOKEN>`; an empty list leaves only the token.
KINKO_METRICS_ALLOW = env_networks("KINKO_METRICS_ALLOW", "127.0.0.0/8,::1")
KINKO_METRICS_TOKEN = os.environ.get("KINKO_METRICS_TOKEN", "")
# Where `manage.py serve` has its processes write their metrics (PROMETHEUS_MULTIPROC_DIR, emptied at each start).
# Empty: a new private folder in memory (/dev/shm), removed at exit. Never put it on the data disk: prometheus-client
# writes through mmap, and a page it cannot get on a full disk is a SIGBUS that kills the worker.
KINKO_METRICS_DIR = os.environ.get("KINKO_METRICS_DIR", "")
# Multipart uploads neither completed nor aborted within this many days are aborted.
KINKO_MULTIPART_EXPIRY_DAYS = int(os.environ.get("KINKO_MULTIPART_EXPIRY_DAYS", "7"))

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "console",
    "keys",
    "roles",
    "buckets",
]

MIDDLEWARE = [
    # First: X-Forwarded-* count only from KINKO_TRUSTED_PROXIES; then HSTS and Secure cookies on every TLS response.
    "console.security.TrustedProxyMiddleware",
    "console.security.TransportSecurityMiddleware",
    # COS XML requests are routed by Host and never reach the console's stack.
    "console.routing.CosApiMiddleware",
    "console.jsonapi.requestid.RequestIdMiddleware",
    "console.security.NulRefusalMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "console.security.BrowserSecurityMiddleware",
]

ROOT_URLCONF = "console.urls"
WSGI_APPLICATION = "console.wsgi.application"

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
                "django.template.context_processors.i18n",
                "console.pages.common.permissions",
            ],
        },
    },
]

# Several gunicorn workers and the Celery worker share the SQLite file: WAL lets readers run during a write,
# IMMEDIATE avoids the read-to-write lock upgrade that deadlocks under concurrency. It also makes writers take
# turns, which on PostgreSQL the row and advisory locks of the domain code do (core.db.serialize).
SQLITE_OPTIONS = {
    "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    "transaction_mode": "IMMEDIATE",
    "timeout": 30,
}
DATABASE_SCHEMES = ("postgres", "postgresql", "sqlite")


def database_from_url(url: str) -> dict:
    """DATABASE_URL (postgres://user:password@host:port/name or sqlite:////absolute/path) as a DATABASES entry:
    connections kept for 10 minutes and checked before reuse, so a restarted database server is reconnected to."""
    scheme = url.partition("://")[0]
    if scheme not in DATABASE_SCHEMES:
        raise ImproperlyConfigured(f"DATABASE_URL scheme must be one of {', '.join(DATABASE_SCHEMES)}, not {scheme!r}")
    config = dict(dj_database_url.parse(url, conn_max_age=600, conn_health_checks=True))
    if scheme == "sqlite":
        config["OPTIONS"] = {**SQLITE_OPTIONS, **config.get("OPTIONS", {})}
    return config


DATABASES = {
    "default": database_from_url(os.environ["DATABASE_URL"])
    if os.environ.get("DATABASE_URL")
    else {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": DATA_DIR / "kinko.sqlite3",
        "OPTIONS": SQLITE_OPTIONS,
        "CONN_MAX_AGE": 600,
    }
}

# One store shared by every worker of the node (and with REDIS_URL, by every node): login throttling, the API 3.0
# signature replay cache and short-lived key-state caches.
REDIS_URL = os.environ.get("REDIS_URL", "")
CACHES = {
    "default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}
    if REDIS_URL
    else {"BACKEND": "django.core.cache.backends.filebased.FileBasedCache", "LOCATION": str(DATA_DIR / "cache")}
}

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": f"django.contrib.auth.password_validation.{name}"}
    for name in (
        "UserAttributeSimilarityValidator",
        "MinimumLengthValidator",
        "CommonPasswordValidator",
        "NumericPasswordValidator",
    )
]

LANGUAGE_CODE = "en"
LANGUAGES = [("en", "English"), ("ja", "日本語")]
LOCALE_PATHS = [BASE_DIR / "locale"]
# Each language's DATE_FORMAT, DATETIME_FORMAT, SHORT_DATETIME_FORMAT: 2026-12-02 15:04, 2026年12月2日 15:04.
FORMAT_MODULE_PATH = ["console.formats"]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "overview"
LOGOUT_REDIRECT_URL = "login"
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"
CSRF_FAILURE_VIEW = "console.views.csrf_failure"
# Sent on responses to requests that came over TLS only (console.security), so plain HTTP on localhost keeps working.
SECURE_HSTS_SECONDS = 365 * 86400
X_FRAME_OPTIONS = "DENY"
# Failed sign-ins per client address and user name before sign-in is refused for LOGIN_LOCKOUT_SECONDS.
LOGIN_MAX_FAILURES = 5
LOGIN_LOCKOUT_SECONDS = 900
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = DATA_DIR / "static"
# The console's few static files are served by WhiteNoise straight from the app folders: no collectstatic step.
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = DEBUG

# COS bodies are streamed from the WSGI input by the COS views; these limits guard the console forms only.
DATA_UPLOAD_MAX_MEMORY_SIZE = 2 * 1024 * 1024

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "console.jsonapi.auth.TokenAuthentication",
        "console.jsonapi.auth.SessionPrincipalAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["console.jsonapi.auth.HasPrincipal"],
    "DEFAULT_SCHEMA_CLASS": "console.jsonapi.schema.AutoSchema",
    "EXCEPTION_HANDLER": "console.jsonapi.errors.handle_exception",
    "UNAUTHENTICATED_USER": None,
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Kinko JSON API",
    "DESCRIPTION": "Buckets, objects, encryption jobs, the KMS and CAM of a Kinko server. Every list is a page: "
    '`limit` and `offset` in the query, {"count", "next", "previous", "results"} in the answer. Errors are '
    '{"code": "<stable code>", "detail": "…"}: COS codes for object storage, Tencent Cloud API codes for KMS and CAM.',
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    "SERVE_PERMISSIONS": ["rest_framework.permissions.AllowAny"],
    "SERVE_AUTHENTICATION": [],
    # Swagger UI's files come from the project (drf-spectacular-sidecar): the docs work offline under the CSP.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    # Deep links put a link inside each operation's toggle button: a nested control screen readers cannot reach.
    "SWAGGER_UI_SETTINGS": {"deepLinking": False},
    "ENUM_NAME_OVERRIDES": {
        "SseEnum": "console.jsonapi.serializers.SSE_CHOICES",
        "ObjectSseEnum": "console.jsonapi.serializers.OBJECT_SSE",
        "VersioningStatusEnum": "console.jsonapi.serializers.VERSIONING_STATES",
    },
}

# The embedded broker (console/broker.py): kombu's filesystem transport with atomic message files and a quarantine.
CELERY_BROKER_URL = os.environ.get("CELERY_BROKER_URL", "kinkofs://")
CELERY_BROKER_TRANSPORT_OPTIONS = (
    {
        "data_folder_in": str(DATA_DIR / "broker" / "queue"),
        "data_folder_out": str(DATA_DIR / "broker" / "queue"),
        "processed_folder": str(DATA_DIR / "broker" / "processed"),
        "quarantine_folder": str(DATA_DIR / "broker" / "quarantine"),
        "store_processed": False,
        # The exchange tables, else a `control` folder in the working directory of every sender and worker.
        "control_folder": str(DATA_DIR / "broker" / "control"),
    }
    if CELERY_BROKER_URL.startswith(("filesystem", "kinkofs"))
    else {}
)
CELERY_TASK_IGNORE_RESULT = True
# Periodic work (Celery beat), each period overridable: KINKO_SCHEDULE_<NAME>_SECONDS, e.g.
# KINKO_SCHEDULE_COLLECT_GARBAGE_SECONDS=600. The SSE-COS master key rotates every KINKO_MASTER_KEY_ROTATION_DAYS.
PERIODIC_TASKS = {
    "collect-garbage": ("buckets.tasks.collect_garbage", 300.0),
    # A dead worker's claims go stale within buckets.jobs.LEASE (15 s); this queues their job again soon after.
    "resume-stalled-jobs": ("buckets.tasks.resume_stalled_jobs", 5.0),
    "rotate-due-keys": ("keys.tasks.rotate_due_keys", 3600.0),
    "purge-pending-deletions": ("keys.tasks.purge_pending_deletions", 3600.0),
    "prune-audit-log": ("keys.tasks.prune_audit_log", 3600.0),
    "rotate-master-key": ("buckets.tasks.rotate_master_key", KINKO_MASTER_KEY_ROTATION_DAYS * 86400.0),
    "snapshot-usage": ("buckets.tasks.snapshot_usage", 3600.0),  # today's point of the overview's history
    # Buckets' lifecycle rules applied (expired objects deleted, stale uploads aborted), as jobs.
    "apply-lifecycle": (
        "buckets.tasks.apply_lifecycle",
        float(os.environ.get("KINKO_LIFECYCLE_INTERVAL_SECONDS", "3600")),
    ),
}
CELERY_BEAT_SCHEDULE = {
    name: {
        "task": task,
        "schedule": float(os.environ.get(f"KINKO_SCHEDULE_{name.upper().replace('-', '_')}_SECONDS", period)),
    }
    for name, (task, period) in PERIODIC_TASKS.items()
}
CELERY_BEAT_SCHEDULE_FILENAME = str(DATA_DIR / "celerybeat-schedule")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "filters": {"without_traceback": {"()": "console.security.WithoutTraceback"}},
    "handlers": {
        "console": {"class": "logging.StreamHandler", "formatter": "plain"},
        "concise": {"class": "logging.StreamHandler", "formatter": "plain", "filters": ["without_traceback"]},
    },
    "root": {"handlers": ["console"], "level": os.environ.get("KINKO_LOG_LEVEL", "INFO")},
    "loggers": {
        # Django logs 4xx/5xx with the request line; COS errors are logged by the COS layer itself.
        "django.request": {"level": "ERROR"},
        # A refused Host header or another bad request is one line, not a traceback.
        "django.security": {"handlers": ["concise"], "level": "INFO", "propagate": False},
    },
}
