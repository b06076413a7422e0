"""Settings, read from the environment. Defaults run everything embedded: SQLite, a file-system broker,
local file storage. See the README's settings table."""

import os
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(os.environ.get("VAR_DIR", BASE_DIR / "var")).resolve()


def env_bool(name: str, default: bool = False) -> bool:
    return os.environ.get(name, str(default)).strip().lower() in {"1", "true", "yes", "on"}


def env_int(name: str, default: int) -> int:
    return int(os.environ.get(name, default))


DEBUG = env_bool("DEBUG", False)
SECRET_KEY = os.environ.get("SECRET_KEY", "")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured("SECRET_KEY must be set when DEBUG is off.")
    SECRET_KEY = "development-only-secret-key-never-use-in-production"

ALLOWED_HOSTS = [h for h in os.environ.get("ALLOWED_HOSTS", "localhost,127.0.0.1,[::1],testserver").split(",") if h]
CSRF_TRUSTED_ORIGINS = [o for o in os.environ.get("CSRF_TRUSTED_ORIGINS", "").split(",") if o]
SITE_URL = os.environ.get("SITE_URL", "http://127.0.0.1:8000").rstrip("/")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "rest_framework",
    "rest_framework.authtoken",
    "django_filters",
    "drf_spectacular",
    "marketplace.accounts",
    "marketplace.catalog",
    # (apps added below by their issues)
    "modelhub",
    "marketplace.market",
    "marketplace.money",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

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
                "marketplace.accounts.context_processors.memberships",
            ],
        },
    },
]

DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get("DATABASE_URL", f"sqlite:///{VAR_DIR / 'db.sqlite3'}"), conn_max_age=60
    )
}
if DATABASES["default"]["ENGINE"].endswith("sqlite3"):
    # Web and worker threads share the file: WAL lets readers run beside a writer, and IMMEDIATE transactions
    # take the write lock up front, so a busy database makes callers wait (timeout) instead of "database is locked".
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {
            "timeout": 20,
            "transaction_mode": "IMMEDIATE",
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        }
    )
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "accounts.User"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "catalog:home"
LOGOUT_REDIRECT_URL = "catalog:home"

FORMS_URLFIELD_ASSUME_HTTPS = True
LANGUAGE_CODE = "en"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = VAR_DIR / "staticfiles"
MEDIA_URL = "media/"
MEDIA_ROOT = Path(os.environ.get("MEDIA_ROOT", VAR_DIR / "media"))

# Storage: local files by default; S3-compatible when AWS_STORAGE_BUCKET_NAME is set.
if os.environ.get("AWS_STORAGE_BUCKET_NAME"):
    _default_storage = {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": os.environ["AWS_STORAGE_BUCKET_NAME"],
            "endpoint_url": os.environ.get("AWS_S3_ENDPOINT_URL") or None,
            "region_name": os.environ.get("AWS_S3_REGION_NAME") or None,
        },
    }
else:
    _default_storage = {"BACKEND": "django.core.files.storage.FileSystemStorage"}
STORAGES = {
    "default": _default_storage,
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"
        if not DEBUG
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}
# Hosted RDF datasets live in embedded Oxigraph stores on the worker's disk.
RDF_STORE_ROOT = Path(os.environ.get("RDF_STORE_ROOT", VAR_DIR / "stores"))
UPLOAD_TMP_ROOT = Path(os.environ.get("UPLOAD_TMP_ROOT", VAR_DIR / "uploads"))
UPLOAD_TMP_ROOT.mkdir(parents=True, exist_ok=True)
FILE_UPLOAD_TEMP_DIR = str(UPLOAD_TMP_ROOT)
FILE_UPLOAD_MAX_MEMORY_SIZE = 2 * 1024 * 1024  # larger uploads stream to disk
DATA_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
RDF_UPLOAD_MAX_BYTES = env_int("RDF_UPLOAD_MAX_BYTES", 2 * 1024**3)

# Remote SPARQL endpoints: private and loopback addresses are refused unless explicitly allowed (demos, tests).
ALLOW_PRIVATE_ENDPOINTS = env_bool("ALLOW_PRIVATE_ENDPOINTS", DEBUG)
REMOTE_ENDPOINT_TIMEOUT = float(os.environ.get("REMOTE_ENDPOINT_TIMEOUT", "30"))
# the largest answer read from a provider's endpoint, per request
REMOTE_ENDPOINT_MAX_BYTES = int(os.environ.get("REMOTE_ENDPOINT_MAX_BYTES", str(128 * 2**20)))

EMAIL_BACKEND = os.environ.get("EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "marketplace@localhost")

# Celery: a broker that needs no server by default (file system), with a real worker process.
CELERY_BROKER_URL = os.environ.get("CELERY_BROKER_URL", "filesystem://")
if CELERY_BROKER_URL == "filesystem://":
    _queue_dir = VAR_DIR / "celery" / "queue"
    _processed_dir = VAR_DIR / "celery" / "processed"
    for _d in (_queue_dir, _processed_dir):
        _d.mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_queue_dir),
        "data_folder_out": str(_queue_dir),
        "processed_folder": str(_processed_dir),
        "control_folder": str(VAR_DIR / "celery" / "control"),
        "store_processed": False,
        "polling_interval": 0.1,
    }
CELERY_RESULT_BACKEND = os.environ.get("CELERY_RESULT_BACKEND") or None
CELERY_TASK_ALWAYS_EAGER = env_bool("CELERY_TASK_ALWAYS_EAGER", False)
# Tests run one worker per test process, each on its own queue (and test database).
CELERY_TASK_DEFAULT_QUEUE = os.environ.get("CELERY_TASK_DEFAULT_QUEUE", "celery")
CELERY_TASK_ACKS_LATE = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_BEAT_SCHEDULE = {
    "catalog-check-endpoints": {"task": "marketplace.catalog.tasks.check_all_endpoints", "schedule": 600.0},
}
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celerybeat-schedule")

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticatedOrReadOnly"],
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.PageNumberPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_FILTER_BACKENDS": [
        "django_filters.rest_framework.DjangoFilterBackend",
        "rest_framework.filters.SearchFilter",
        "rest_framework.filters.OrderingFilter",
    ],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "marketplace.api_errors.exception_handler",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Web-of-Data Marketplace API",
    "DESCRIPTION": "Datasets, publishers, queries and quotes, wallets and the model hub.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "COMPONENT_SPLIT_REQUEST": True,
    # Several models have a `kind` field with their own choices: name each enum after its model.
    "ENUM_NAME_OVERRIDES": {
        "DatasetKindEnum": "marketplace.catalog.models.Dataset.Kind",
        "PriceModelKindEnum": "marketplace.market.models.PriceModel.Kind",
    },
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
}

if not DEBUG:
    SESSION_COOKIE_HTTPONLY = True
    SECURE_CONTENT_TYPE_NOSNIFF = True
    X_FRAME_OPTIONS = "DENY"

# --- marketplace.money: wallets, ledger, Stripe top-ups, payouts ---
MARKETPLACE_CURRENCY = os.environ.get("MARKETPLACE_CURRENCY", "EUR")
MARKETPLACE_CURRENCY_EXPONENT = env_int("MARKETPLACE_CURRENCY_EXPONENT", 2)
MARKETPLACE_FEE_PERCENT = os.environ.get("MARKETPLACE_FEE_PERCENT", "10")  # until an operator sets one in the admin
STRIPE_SECRET_KEY = os.environ.get("STRIPE_SECRET_KEY", "")
STRIPE_PUBLISHABLE_KEY = os.environ.get("STRIPE_PUBLISHABLE_KEY", "")
STRIPE_WEBHOOK_SECRET = os.environ.get("STRIPE_WEBHOOK_SECRET", "")
STRIPE_API_BASE = os.environ.get("STRIPE_API_BASE", "https://api.stripe.com")
# Test-payment mode (top-ups succeed at once, no money moved): default on only without Stripe keys;
# never active when DEBUG is off and Stripe keys are set, whatever this says.
MONEY_TEST_PAYMENTS = env_bool("MONEY_TEST_PAYMENTS") if os.environ.get("MONEY_TEST_PAYMENTS") else None
MONEY_PAYOUT_TRANSFERS = os.environ.get("MONEY_PAYOUT_TRANSFERS", "marketplace.money.gateway.StripeConnectTransfers")
MONEY_EARNINGS_HOLD_DAYS = env_int("MONEY_EARNINGS_HOLD_DAYS", 7)
MONEY_TOPUP_MIN = env_int("MONEY_TOPUP_MIN", 100)
MONEY_TOPUP_MAX = env_int("MONEY_TOPUP_MAX", 1_000_000)
MONEY_TOPUP_ABANDON_AFTER_HOURS = env_int("MONEY_TOPUP_ABANDON_AFTER_HOURS", 24)
# On PostgreSQL, charge() books in one SQL statement (same rows as the ORM path SQLite uses).
MONEY_SQL_FAST_PATH = env_bool("MONEY_SQL_FAST_PATH", True)
CELERY_BEAT_SCHEDULE["money-reconcile-topups"] = {"task": "marketplace.money.tasks.reconcile_topups", "schedule": 300.0}
CELERY_BEAT_SCHEDULE["market-fail-stale-jobs"] = {"task": "market.fail_stale_jobs", "schedule": 60.0}

# Query market (marketplace.market)
MARKET_QUOTE_TTL_SECONDS = env_int("MARKET_QUOTE_TTL_SECONDS", 900)
MARKET_QUOTES_PER_HOUR = env_int("MARKET_QUOTES_PER_HOUR", 240)
MARKET_ALLOCATION_TIME_LIMIT = float(os.environ.get("MARKET_ALLOCATION_TIME_LIMIT", "10"))
# /sparql/data answers within the request: a query running longer is stopped (the API runs it in the background)
MARKET_SPARQL_TIME_LIMIT = float(os.environ.get("MARKET_SPARQL_TIME_LIMIT", "60"))
# bytes the last step of a /sparql/data query (the answer from the fetched triples, in a child process killed
# past the time limit) may allocate beyond what it shares with its parent; also a worker's, when it computes
# answers apart (MARKET_WORKER_EVALUATES_APART)
MARKET_SPARQL_MAX_MEMORY = int(os.environ.get("MARKET_SPARQL_MAX_MEMORY", str(2_000_000_000)))
# seconds a query job may run in a worker (stopped at the engine's next request past it)
MARKET_JOB_TIME_LIMIT = float(os.environ.get("MARKET_JOB_TIME_LIMIT", "900"))
# the worker computes each answer from the fetched triples in a forked child killed at the job's time limit
# (about 20 ms a job): for a worker that cannot kill a task itself, as a thread pool's (scripts/run.sh); a
# prefork worker kills the task's process past its hard time limit
MARKET_WORKER_EVALUATES_APART = env_bool("MARKET_WORKER_EVALUATES_APART", False)
# the most distinct triples one query may fetch from the providers (the worker holds them in memory)
MARKET_MAX_FETCHED_TRIPLES = int(os.environ.get("MARKET_MAX_FETCHED_TRIPLES", "500000"))
# the most rows (or CONSTRUCT triples) one answer may have: it is held, priced and stored whole
MARKET_MAX_ANSWER_ROWS = int(os.environ.get("MARKET_MAX_ANSWER_ROWS", "200000"))
# the most intermediate rows the engine's own joins may make, in the worker or web process (a few seconds of
# CPU and some hundreds of MB at the limit)
MARKET_MAX_INTERMEDIATE_ROWS = int(os.environ.get("MARKET_MAX_INTERMEDIATE_ROWS", "500000"))
# The free catalog endpoint runs each query in a child process killed past these (market/sandbox.py).
MARKET_CATALOG_TIME_LIMIT = float(os.environ.get("MARKET_CATALOG_TIME_LIMIT", "10"))
MARKET_CATALOG_MAX_BYTES = int(os.environ.get("MARKET_CATALOG_MAX_BYTES", str(50_000_000)))
MARKET_CATALOG_MAX_MEMORY = int(os.environ.get("MARKET_CATALOG_MAX_MEMORY", str(1_000_000_000)))

# Model hub (modelhub)
MODELHUB_UPLOAD_MAX_BYTES = env_int("MODELHUB_UPLOAD_MAX_BYTES", 4 * 1024**3)
MODELHUB_DOWNLOAD_LINK_MAX_AGE = env_int("MODELHUB_DOWNLOAD_LINK_MAX_AGE", 3600)  # seconds a signed link works
MODELHUB_JOB_ROOT = Path(os.environ.get("MODELHUB_JOB_ROOT", VAR_DIR / "modelhub-jobs"))
