"""Settings shared by every environment. Values that differ come from config.env."""

from __future__ import annotations

from kombu import Queue

from config.env import BASE_DIR, DEFAULT_REDIS_URL, database_config, env

DEBUG = False
SECRET_KEY = "overridden-in-every-environment"
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "daphne",  # first: its runserver replaces Django's with the ASGI one
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "rest_framework.authtoken",
    "drf_spectacular",
    "drf_spectacular_sidecar",  # Swagger UI served by us: no CDN
    "django_celery_beat",
    "channels",
    "tenancy",
    "monitoring",
    "dashboard",
    "exchanges",
    "exchanges.paper",
    "trading",
    "bots",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "tenancy.middleware.TenantMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = None
ASGI_APPLICATION = "config.asgi.application"

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
                "tenancy.context_processors.tenancy",
            ],
        },
    },
]

DATABASES = {"default": database_config(sqlite_path=BASE_DIR / "var" / "db.sqlite3")}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "dashboard:home"
LOGOUT_REDIRECT_URL = "login"

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = None  # production collects into var/static; elsewhere files come from the apps
STATICFILES_DIRS = [BASE_DIR / "static"] if (BASE_DIR / "static").is_dir() else []
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
MEDIA_ROOT = BASE_DIR / "var" / "media"

# --- Redis: broker, channel layer and cache ------------------------------------------
REDIS_URL = env.str("REDIS_URL", default=DEFAULT_REDIS_URL)

CACHES = {
    "default": {
        "BACKEND": "config.cache.RedisCache",
        "LOCATION": REDIS_URL,
        "KEY_PREFIX": env.str("CACHE_KEY_PREFIX", default="platform"),
    }
}

CHANNEL_LAYERS = {
    "default": {
        "BACKEND": "channels_redis.core.RedisChannelLayer",
        "CONFIG": {
            # redis-py 8 reads with a 5 s socket timeout by default: the layer's blocking receive
            # (BZPOPMIN, 5 s) would fail on every idle socket and daphne would drop it.
            "hosts": [{"address": REDIS_URL, "socket_timeout": 15}],
            "prefix": env.str("CHANNEL_LAYER_PREFIX", default="asgi"),
        },
    }
}

#: pushes from hot paths (orders, signals, backtest progress) are gathered per tenant this
#: long and sent as one message; a newer state of the same order replaces the older one
DASHBOARD_PUSH_COALESCE_MS = env.float("DASHBOARD_PUSH_COALESCE_MS", default=25)

# --- Celery ----------------------------------------------------------------------------
CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default=REDIS_URL)
# Kombu's Redis transport with one client per pool instead of one per publish and ack
# (config/broker.py); other brokers keep their own transport.
CELERY_BROKER_TRANSPORT = "config.broker:Transport" if CELERY_BROKER_URL.startswith("redis://") else None
CELERY_RESULT_BACKEND = env.str("CELERY_RESULT_BACKEND", default=REDIS_URL)
CELERY_RESULT_EXPIRES = 3600
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TIMEZONE = TIME_ZONE
CELERY_TASK_DEFAULT_QUEUE = "default"
CELERY_TASK_QUEUES = (
    Queue("orders"),
    Queue("market"),
    Queue("bots"),
    Queue("default"),
)
CELERY_TASK_ROUTES = {
    "trading.tasks.order_*": {"queue": "orders"},
    "trading.tasks.orders_*": {"queue": "orders"},
    "trading.tasks.market_*": {"queue": "market"},
    "trading.tasks.reconcile_*": {"queue": "orders"},
    "exchanges.tasks.*": {"queue": "market"},
    "bots.tasks.*": {"queue": "bots"},
}
# A worker takes one message at a time and acknowledges it only after the task has
# run: an order task whose worker dies is redelivered instead of lost. Order tasks are
# written to be safe to redeliver (the client order id is stored before any send).
CELERY_TASK_ACKS_LATE = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
# Keep database connections across tasks (CONN_MAX_AGE rules them; see config/celery.py):
# Celery would otherwise reconnect to PostgreSQL for every task. Closed every 2 x this many.
CELERY_DB_REUSE_MAX = env.int("CELERY_DB_REUSE_MAX", default=1000)
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 3600}
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# Task events (sent, received, started, succeeded) are for monitors such as Flower; nothing
# in the platform reads them, and each is a Redis PUBLISH plus its payload on every task (four
# per order). Off unless asked for: a monitor turns the workers' events on at runtime
# (`celery control enable_events`, which Flower does), or set these to true.
CELERY_TASK_SEND_SENT_EVENT = env.bool("CELERY_TASK_SEND_SENT_EVENT", default=False)
CELERY_WORKER_SEND_TASK_EVENTS = env.bool("CELERY_WORKER_SEND_TASK_EVENTS", default=False)
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
# Keep Django's LOGGING (and its secret-redacting filter) in the worker too.
CELERY_WORKER_HIJACK_ROOT_LOGGER = False

# --- Encrypted fields: separate from SECRET_KEY; first key encrypts, all decrypt -------
FERNET_KEYS: list[str] = []
FERNET_USE_HKDF = True

# --- REST API --------------------------------------------------------------------------
REST_FRAMEWORK = {
    # Token first: an anonymous API call answers 401 with WWW-Authenticate, not 403.
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "tenancy.api.authentication.TenantTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_RENDERER_CLASSES": [
        "rest_framework.renderers.JSONRenderer",
        "rest_framework.renderers.BrowsableAPIRenderer",
    ],
    "DEFAULT_PARSER_CLASSES": [
        "rest_framework.parsers.JSONParser",
        "rest_framework.parsers.FormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.LimitOffsetPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "config.api.exception_handler",
    "DEFAULT_THROTTLE_RATES": {"auth": "20/min"},
}

SPECTACULAR_SETTINGS = {
    "TITLE": "Trading platform API",
    "DESCRIPTION": "Multi-tenant crypto trading: tenants, exchange connections, orders, bots.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "COMPONENT_SPLIT_REQUEST": True,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    # several models have a "status": each choice set gets its own schema name
    "ENUM_NAME_OVERRIDES": {
        "OrderStatusEnum": "trading.models.orders.OrderStatus",
        "ConnectionStatusEnum": "exchanges.models.ConnectionStatus",
        "OrderTypeEnum": "exchanges.choices.OrderType",
        "BotTypeEnum": "bots.models.catalog.BotType",
        "SubscriptionStatusEnum": "bots.models.subscriptions.SubscriptionStatus",
        "BacktestStatusEnum": "bots.models.backtests.BacktestStatus",
    },
    "APPEND_COMPONENTS": {
        "securitySchemes": {
            "tenantHeader": {"type": "apiKey", "in": "header", "name": "X-Tenant"},
        }
    },
}

# --- Logging ---------------------------------------------------------------------------
LOG_LEVEL = env.str("LOG_LEVEL", default="INFO")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    "filters": {"redact_secrets": {"()": "exchanges.redaction.SecretRedactingFilter"}},
    "handlers": {
        "console": {"class": "logging.StreamHandler", "formatter": "plain", "filters": ["redact_secrets"]},
    },
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
        "daphne": {"level": "WARNING"},
    },
}

# --- Platform ----------------------------------------------------------------------------
HEALTH_CHECK_TIMEOUT = env.float("HEALTH_CHECK_TIMEOUT", default=2.0)

# --- Exchanges ---------------------------------------------------------------------------
# Adapters outside ccxt register themselves when their module is imported (see README,
# "Adding an exchange").
EXCHANGE_ADAPTER_MODULES = [
    "exchanges.adapters.robinhood",
    "exchanges.paper.adapter",
    *env.list("EXCHANGE_ADAPTER_MODULES_EXTRA", default=[]),
]
EXCHANGE_TIMEOUT_MS = env.int("EXCHANGE_TIMEOUT_MS", default=10_000)
# A connection's api_base_url makes the workers send requests on a tenant's behalf: only
# these hosts are accepted (testnets, proxies). Empty in production unless an operator adds
# hosts; loopback in local and test settings (the exchange simulator).
EXCHANGE_ALLOWED_API_HOSTS = env.list("EXCHANGE_ALLOWED_API_HOSTS", default=[])
LOOPBACK_HOSTS = ["127.0.0.1", "localhost", "::1"]
# --- Market data -------------------------------------------------------------------------
MARKET_KEY_PREFIX = env.str("MARKET_KEY_PREFIX", default="market")
MARKET_POLL_INTERVAL = env.float("MARKET_POLL_INTERVAL", default=1.0)  # seconds between polls
MARKET_COMPARE_TIMEOUT = env.float("MARKET_COMPARE_TIMEOUT", default=5.0)  # one venue's answer, at most
MARKET_CACHE_TTL = {  # seconds a cached value is fresh; readers never call the exchange meanwhile
    "ticker": env.float("MARKET_TTL_TICKER", default=1.0),
    "order_book": env.float("MARKET_TTL_ORDER_BOOK", default=1.0),
    "balance": env.float("MARKET_TTL_BALANCE", default=30.0),
    "status": env.float("MARKET_TTL_STATUS", default=60.0),
}

# --- Resilience: shared rate-limit budgets, circuit breakers, health (exchanges.resilience) --
RESILIENCE_KEY_PREFIX = env.str("RESILIENCE_KEY_PREFIX", default="resilience")
CIRCUIT_BREAKER_FAILURES = env.int("CIRCUIT_BREAKER_FAILURES", default=5)  # consecutive temporary failures
CIRCUIT_BREAKER_OPEN_SECONDS = env.float("CIRCUIT_BREAKER_OPEN_SECONDS", default=30.0)  # before one probe
RATE_LIMIT_CAPACITY_SECONDS = env.float("RATE_LIMIT_CAPACITY_SECONDS", default=1.0)  # burst, in seconds of budget
# An exchange's budget where ccxt's rateLimit (milliseconds per cost unit) does not fit an
# account tier or a testnet: EXCHANGE_RATE_LIMIT_MS="binance=100,okx=200".
EXCHANGE_RATE_LIMIT_MS = env.dict("EXCHANGE_RATE_LIMIT_MS", cast={"value": float}, default={})
# Exchanges that weigh signed requests against the caller's IP as well as the API key: a
# signed request pays from both budgets, so many keys behind one IP stay inside the IP's.
RATE_LIMIT_IP_WEIGHTED_EXCHANGES = env.list("RATE_LIMIT_IP_WEIGHTED_EXCHANGES", default=["binance", "binanceus"])
RATE_LIMIT_HEADROOM = env.float("RATE_LIMIT_HEADROOM", default=0.9)  # share of ccxt's published rate used
RATE_LIMIT_MAX_WAIT = env.float("RATE_LIMIT_MAX_WAIT", default=30.0)  # longer: RateLimited instead of waiting

# Where import_credentials looks for <exchange>_config.json files.
CREDENTIALS_DIR = env.path("CREDENTIALS_DIR", default=str(BASE_DIR / "credentials"))

# --- Orders (trading.services.orders) ----------------------------------------------------
ORDER_MAX_ATTEMPTS = env.int("ORDER_MAX_ATTEMPTS", default=5)  # sends per exchange before failover / failing
ORDER_RETRY_BASE_SECONDS = env.float("ORDER_RETRY_BASE_SECONDS", default=0.5)  # backoff: base * 2^n, jittered
ORDER_RETRY_MAX_SECONDS = env.float("ORDER_RETRY_MAX_SECONDS", default=30.0)
# After a send with no answer, the order is looked up by client order id; it counts as not
# placed only after this many lookups found nothing, this far apart (exchanges whose reads
# lag their writes show a new order late).
ORDER_UNKNOWN_CONFIRMATIONS = env.int("ORDER_UNKNOWN_CONFIRMATIONS", default=2)
ORDER_UNKNOWN_RECHECK_SECONDS = env.float("ORDER_UNKNOWN_RECHECK_SECONDS", default=3.0)
# A send still "submitting" this long after it started lost its worker: it becomes unknown.
ORDER_SUBMIT_STALE_SECONDS = env.float("ORDER_SUBMIT_STALE_SECONDS", default=EXCHANGE_TIMEOUT_MS / 1000 + 20)
# A pending order whose send was due this long ago lost its message (broker restart): re-queued.
ORDER_PENDING_STALE_SECONDS = env.float("ORDER_PENDING_STALE_SECONDS", default=30.0)
ORDER_RECONCILE_INTERVAL = env.float("ORDER_RECONCILE_INTERVAL", default=10.0)  # seconds, beat
# A lone stop-loss or take-profit rests on the exchange when its adapter can place it there;
# off: the platform watches every protective order itself and fires it as a market order.
PROTECTION_EXCHANGE_SIDE = env.bool("PROTECTION_EXCHANGE_SIDE", default=True)

# --- bots (issue 6) -----------------------------------------------------------------------
BOTS_EVALUATE_INTERVAL = env.float("BOTS_EVALUATE_INTERVAL", default=10.0)  # seconds, beat
BOTS_EVALUATE_EXPIRES = env.float("BOTS_EVALUATE_EXPIRES", default=300.0)  # a group task older than this is dropped
BOTS_GROUP_CHUNK = env.int("BOTS_GROUP_CHUNK", default=500)  # subscriptions per group task
BOTS_CANDLES_LIMIT = env.int("BOTS_CANDLES_LIMIT", default=300)  # closed candles a bot sees, at least
BOTS_CANDLES_MAX = env.int("BOTS_CANDLES_MAX", default=1000)  # at most (one request; Binance's cap)
BOTS_SLOW_MS = env.int("BOTS_SLOW_MS", default=5000)  # a bot slower than this on one candle is stopped
BOTS_UPLOAD_MAX_BYTES = env.int("BOTS_UPLOAD_MAX_BYTES", default=50 * 1024 * 1024)
BOTS_SANDBOX_WINDOW = env.int("BOTS_SANDBOX_WINDOW", default=300)  # candles sent to uploaded code
BOTS_SANDBOX_LIMITS = {
    "cpu_seconds": env.int("BOTS_SANDBOX_CPU_SECONDS", default=2),
    "wall_seconds": env.float("BOTS_SANDBOX_WALL_SECONDS", default=5.0),
    "memory_mb": env.int("BOTS_SANDBOX_MEMORY_MB", default=1024),
    # Refuse to run uploaded code when the kernel will not give it its own user, network, pid and
    # mount namespaces (e.g. under Docker's default seccomp profile): turn on in production.
    "require_namespaces": env.bool("BOTS_SANDBOX_REQUIRE_NAMESPACES", default=False),
}
BOTS_LISTING_SANDBOX_CANDLES = env.int("BOTS_LISTING_SANDBOX_CANDLES", default=120)
BOTS_BACKTEST_MAX_CANDLES = env.int("BOTS_BACKTEST_MAX_CANDLES", default=2_000_000)
BOTS_BACKTEST_MAX_STORED_TRADES = env.int("BOTS_BACKTEST_MAX_STORED_TRADES", default=5000)
