"""Production: every secret comes from the environment; a missing one stops start-up."""

from config.env import BASE_DIR, env, fernet_keys, secret

from .base import *  # noqa: F403

DEBUG = False
SECRET_KEY = secret("SECRET_KEY", required=True)
FERNET_KEYS = fernet_keys(required=True, fallback="")
if not env.str("DATABASE_URL", default=""):
    from django.core.exceptions import ImproperlyConfigured

    raise ImproperlyConfigured("The DATABASE_URL environment variable must be set in production.")
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS")

STATIC_ROOT = env.path("STATIC_ROOT", default=str(BASE_DIR / "var" / "static"))

SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SESSION_COOKIE_SECURE = env.bool("SESSION_COOKIE_SECURE", default=True)
CSRF_COOKIE_SECURE = env.bool("CSRF_COOKIE_SECURE", default=True)
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"
