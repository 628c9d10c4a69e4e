"""Settings read from the environment.

With no environment at all the app runs on a SQLite file with Celery tasks executed
in-process (the embedded default). DATABASE_URL switches to PostgreSQL, REDIS_URL to
Redis as broker, result store and cache with real workers.
"""
from datetime import timedelta
from pathlib import Path
import os

import dj_database_url
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


# Off unless asked for: a forgotten variable must not publish tracebacks and settings.
# `make run` and the quick start set DEBUG=true.
DEBUG = env_bool("DEBUG", False)
_DEV_SECRET = "dev-only-insecure-secret-key-change-me-in-production-0123456789"
_MISSING_KEY = ("{name} 未设置：生产环境请设置环境变量 SECRET_KEY 和 AUDIT_HMAC_KEY（见 README“Configuration”）；"
                "开发或测试时设置 DEBUG=true（make run / make test 已设置）。"
                " — {name} is not set: production sets SECRET_KEY and AUDIT_HMAC_KEY; development sets DEBUG=true.")
SECRET_KEY = os.environ.get("SECRET_KEY", _DEV_SECRET if DEBUG else "")
if not SECRET_KEY:
    raise ImproperlyConfigured(_MISSING_KEY.format(name="SECRET_KEY"))
# Keys every audit record's hash (HMAC-SHA256), so whoever can write to the database cannot
# rewrite a record and recompute its hash. Its own secret, not SECRET_KEY: rotating the session
# key must not invalidate the audit trail, and the key never goes into the database.
AUDIT_HMAC_KEY = os.environ.get("AUDIT_HMAC_KEY", "dev-only-audit-hmac-key-not-secret" if DEBUG else "")
if not AUDIT_HMAC_KEY:
    raise ImproperlyConfigured(_MISSING_KEY.format(name="AUDIT_HMAC_KEY"))

ALLOWED_HOSTS = [h for h in os.environ.get("ALLOWED_HOSTS", "127.0.0.1,localhost,testserver").split(",") if h]
CSRF_TRUSTED_ORIGINS = [o for o in os.environ.get("CSRF_TRUSTED_ORIGINS", "").split(",") if o]

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "rest_framework",
    "rest_framework.authtoken",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_celery_beat",
    "import_export",
    "config.apps.AxesConfig",  # django-axes, named in Chinese
    "csp",
    "dibao",
    "cases",
    "imports",
    "audits",
    "complaints",
    "reports",
    "campaigns",
    "payments",
    "config",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "config.middleware.ChosenLanguageOnly",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    "dibao.middleware.RequestContextMiddleware",
    "dibao.middleware.QueryTextMiddleware",
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"
AUTH_USER_MODEL = "dibao.User"

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
                "config.context_processors.navigation",
                "config.context_processors.permissions",
            ],
        },
    },
]

DATABASES = {
    "default": dj_database_url.config(
        default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}",
        conn_max_age=int(os.environ.get("DB_CONN_MAX_AGE", "60")),
    )
}
if DATABASES["default"]["ENGINE"].endswith("sqlite3"):
    # Several writers (web + in-process tasks) share one file: wait instead of failing.
    DATABASES["default"].setdefault("OPTIONS", {})["timeout"] = 30
    DATABASES["default"]["CONN_MAX_AGE"] = 0
IS_POSTGRES = DATABASES["default"]["ENGINE"].endswith("postgresql")
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 10}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AXES_FAILURE_LIMIT = int(os.environ.get("AXES_FAILURE_LIMIT", "5"))
AXES_COOLOFF_TIME = timedelta(minutes=30)
# One lock per (user name, address) pair: five wrong passwords for one account from an
# office's shared address lock that account there, not everyone behind the address.
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_LOCKOUT_TEMPLATE = "registration/locked.html"
AXES_RESET_ON_SUCCESS = True

LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"
SESSION_COOKIE_AGE = int(os.environ.get("SESSION_COOKIE_AGE", str(8 * 3600)))
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
# An absolute 8-hour session: saving it on every request would cost a write per page view.
SESSION_SAVE_EVERY_REQUEST = False

LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", "简体中文"), ("en", "English")]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True
DATE_FORMAT = "Y-m-d"
DATETIME_FORMAT = "Y-m-d H:i"
SHORT_DATE_FORMAT = "Y-m-d"
FORMAT_MODULE_PATH = ["dibao.formats"]

STATIC_URL = "/static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = Path(os.environ.get("STATIC_ROOT", BASE_DIR / "staticfiles"))
MEDIA_URL = "/media/"
MEDIA_ROOT = Path(os.environ.get("MEDIA_ROOT", BASE_DIR / "media"))
# Signed checkpoints of the audit chain's head (dibao.audit): kept outside the database so
# deleting the newest records is detected; belongs on storage the database's users cannot write.
AUDIT_CHECKPOINT_DIR = Path(os.environ.get("AUDIT_CHECKPOINT_DIR", BASE_DIR / "var" / "audit"))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if DEBUG
        else "whitenoise.storage.CompressedManifestStaticFilesStorage"
    },
}
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
DATA_UPLOAD_MAX_MEMORY_SIZE = 20 * 1024 * 1024
# Import files (imports.reader): refused before any row is read. The uncompressed limit and
# the ratio are checked on the .xlsx's zip directory, before openpyxl inflates anything.
# Region-wide live summaries (dashboard figures, task progress of a county or above) are computed at most
# once in this many seconds and shared; the pages say when (dibao/summaries.py; 0 = on every view).
LIVE_SUMMARY_SECONDS = int(os.environ.get("LIVE_SUMMARY_SECONDS", "300"))
IMPORT_MAX_FILE_BYTES = int(os.environ.get("IMPORT_MAX_FILE_BYTES", str(200 * 1024 * 1024)))
IMPORT_MAX_ROWS = int(os.environ.get("IMPORT_MAX_ROWS", "3000000"))
IMPORT_MAX_XLSX_UNCOMPRESSED_BYTES = int(os.environ.get("IMPORT_MAX_XLSX_UNCOMPRESSED_BYTES",
                                                        str(2 * 1024 * 1024 * 1024)))
IMPORT_MAX_XLSX_RATIO = int(os.environ.get("IMPORT_MAX_XLSX_RATIO", "200"))

# Content-Security-Policy (django-csp): pages load only their own scripts and styles; no
# inline script, handler or style attribute (app.js wires what used to be inline).
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    },
}

REDIS_URL = os.environ.get("REDIS_URL", "")
if REDIS_URL:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}}
    CELERY_BROKER_URL = REDIS_URL
    SESSION_ENGINE = "django.contrib.sessions.backends.cached_db"
    CELERY_RESULT_BACKEND = REDIS_URL
    CELERY_TASK_ALWAYS_EAGER = env_bool("CELERY_TASK_ALWAYS_EAGER", False)
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    CELERY_BROKER_URL = "memory://"
    CELERY_RESULT_BACKEND = "cache+memory://"
    CELERY_TASK_ALWAYS_EAGER = True
# Without Redis, work started from a page runs in a background thread (dibao/dispatch.py).
TASKS_IN_THREAD = not REDIS_URL and env_bool("TASKS_IN_THREAD", True)
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TIMEZONE = TIME_ZONE
CELERY_TASK_ACKS_LATE = True
# A worker killed mid-task (kill -9, OOM) leaves its message unacknowledged: it goes back to the
# queue, after the broker's visibility timeout on Redis. That timeout must exceed the longest
# single task (a province import, a batch's finishing step: minutes), or Redis hands a task that
# is still running to a second worker; the tasks' claims make such a second delivery harmless.
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": int(os.environ.get("CELERY_VISIBILITY_TIMEOUT", "3600"))}
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
# The watchdog (beat, every 5 minutes: audits.tasks.recover_stale, imports.tasks.recover_stale_imports)
# requeues a rescreening chunk or import job "running" with a heartbeat older than TASK_STALE_AFTER
# seconds and no open transaction on its row; after TASK_MAX_ATTEMPTS runs it is failed with a message.
TASK_STALE_AFTER = int(os.environ.get("TASK_STALE_AFTER", "600"))
TASK_MAX_ATTEMPTS = int(os.environ.get("TASK_MAX_ATTEMPTS", "3"))
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.SessionAuthentication",
        "rest_framework.authentication.TokenAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["dibao.api_permissions.ActionPermission"],  # every API view declares its actions
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_PAGINATION_CLASS": "dibao.pagination.ApiPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "dibao.errors.api_exception_handler",
    "DEFAULT_PARSER_CLASSES": [
        "dibao.parsers.JSONParser",
        "dibao.parsers.FormParser",
        "dibao.parsers.MultiPartParser",
    ],
}
SPECTACULAR_SETTINGS = {
    "TITLE": "农村低保专项治理 API",
    "DESCRIPTION": "Rural dibao case management: households, members, staff, filings and campaign work.",
    "VERSION": "1.0.0",
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "SERVE_PERMISSIONS": ["rest_framework.permissions.IsAuthenticated"],
    # fields of one name with different choice sets across apps: each enum named after its model
    "ENUM_NAME_OVERRIDES": {
        "HouseholdCategoryEnum": "cases.models.Category",
        "ClueCategoryEnum": "complaints.models.ClueCategory",
        "ClueSourceEnum": "complaints.models.ClueSource",
        "RectificationSourceEnum": "complaints.models.RectificationSource",
        "DisciplineOutcomeEnum": "complaints.models.Outcome",
        "TaskOutcomeEnum": "audits.models.TaskOutcome",
        "ComplaintStateEnum": "complaints.models.ComplaintState",
        "JobStateEnum": "dibao.jobs.JobState",  # imports, batches and export jobs share one lifecycle
        "CampaignStateEnum": "campaigns.models.CampaignState",
        "ScreeningResultEnum": "campaigns.models.ScreeningResult",
        "ChangeKindEnum": "cases.models.ChangeKind",
        "ExportKindEnum": "reports.models.ExportJob.Kind",
        "ChangeStateEnum": "cases.models.ChangeState",
        "ReviewOutcomeEnum": "cases.models.ReviewOutcome",
        "ReviewStateEnum": "cases.models.ReviewState",
    },
}

# Public complaint form: limits per client address. Behind a reverse proxy set
# RATELIMIT_IP_META_KEY (e.g. HTTP_X_REAL_IP) or every visitor shares the proxy's address.
RATELIMIT_IP_META_KEY = os.environ.get("RATELIMIT_IP_META_KEY", "REMOTE_ADDR")
COMPLAINT_PUBLIC_RATE = os.environ.get("COMPLAINT_PUBLIC_RATE", "5/h")
COMPLAINT_STATUS_RATE = os.environ.get("COMPLAINT_STATUS_RATE", "30/h")
COMPLAINT_DEADLINE_WORKING_DAYS = int(os.environ.get("COMPLAINT_DEADLINE_WORKING_DAYS", "15"))

# Campaign dispatch: the daily bulletin's time on working days (HH:MM, Asia/Shanghai; set once into
# beat's schedule, then edited in the admin) and the largest document a region uploads as a report owed.
CAMPAIGN_BULLETIN_TIME = os.environ.get("CAMPAIGN_BULLETIN_TIME", "17:30")
REPORT_MAX_FILE_BYTES = int(os.environ.get("REPORT_MAX_FILE_BYTES", str(20 * 1024 * 1024)))


if not DEBUG:
    SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_HSTS_SECONDS = int(os.environ.get("SECURE_HSTS_SECONDS", "31536000"))
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "WARNING")},
}
