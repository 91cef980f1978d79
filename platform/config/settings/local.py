"""Local development and the one-command run: SQLite unless DATABASE_URL is set."""

from config.env import env, fernet_keys, secret

from .base import *  # noqa: F403

DEBUG = env.bool("DJANGO_DEBUG", default=True)
SECRET_KEY = secret("SECRET_KEY", default="local-dev-secret-key-not-for-production")
FERNET_KEYS = fernet_keys(required=False, fallback="local-dev-fernet-key-not-for-production")
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["*"])

# Serve static files straight from the apps: no collectstatic step for a local run.
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = True

# The exchange simulator and local testnets run on loopback.
EXCHANGE_ALLOWED_API_HOSTS = [*EXCHANGE_ALLOWED_API_HOSTS, *LOOPBACK_HOSTS]  # noqa: F405
