"""Tests: PostgreSQL and Redis for real (the README's test command provides both)."""

import os

# Tests run against a real PostgreSQL and Redis (the README's test command provides both),
# with the same defaults as bin/test when pytest is run by hand.
os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/platform")
os.environ.setdefault("REDIS_URL", "redis://127.0.0.1:6379/14")

from config.env import env  # noqa: E402

from .base import *  # noqa: E402, F403
from .base import CACHES, CHANNEL_LAYERS, DATABASES  # noqa: E402

# No persistent connections: threads of the ASGI stack would otherwise keep the test
# database open and stop it from being dropped.
DATABASES["default"]["CONN_MAX_AGE"] = 0
# Two test runs on one machine (say, two checkouts) each need their own database.
DATABASES["default"]["TEST"] = {"NAME": env.str("TEST_DB_NAME", default=f"test_{DATABASES['default']['NAME']}")}

DEBUG = False
SECRET_KEY = "test-secret-key"
FERNET_KEYS = ["test-fernet-key-1"]
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]  # fast; tests only
WHITENOISE_USE_FINDERS = True
CELERY_TASK_ALWAYS_EAGER = False

# Tests share the machine's Redis with other programs: keep their keys apart.
TEST_KEY_PREFIX = env.str("TEST_KEY_PREFIX", default="test")
CACHES["default"]["KEY_PREFIX"] = f"{TEST_KEY_PREFIX}-cache"
CHANNEL_LAYERS["default"]["CONFIG"]["prefix"] = f"{TEST_KEY_PREFIX}-asgi"
MARKET_KEY_PREFIX = f"{TEST_KEY_PREFIX}-market"
RESILIENCE_KEY_PREFIX = f"{TEST_KEY_PREFIX}-resilience"

REST_FRAMEWORK = {**REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": {"auth": "1000/min"}}  # noqa: F405

# The exchange simulator and local testnets run on loopback.
EXCHANGE_ALLOWED_API_HOSTS = [*EXCHANGE_ALLOWED_API_HOSTS, *LOOPBACK_HOSTS]  # noqa: F405

# Orders: retries and lookups come quickly, so the reliability tests take seconds.
ORDER_RETRY_BASE_SECONDS = 0.1
ORDER_RETRY_MAX_SECONDS = 2.0
ORDER_UNKNOWN_RECHECK_SECONDS = 0.5
ORDER_SUBMIT_STALE_SECONDS = 4.0
ORDER_PENDING_STALE_SECONDS = 3.0
