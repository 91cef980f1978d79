"""Common start of every benchmark: Django configured against local Redis (db 13 unless
REDIS_URL says otherwise) with its own key prefixes, so a running platform is not disturbed."""

import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "platform")]
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")
os.environ.setdefault("REDIS_URL", "redis://127.0.0.1:6379/13")
os.environ.setdefault("MARKET_KEY_PREFIX", "bench-market")
os.environ.setdefault("RESILIENCE_KEY_PREFIX", "bench-resilience")
os.environ.setdefault("LOG_LEVEL", "WARNING")

import django  # noqa: E402

django.setup()


def clear_market_cache() -> None:
    from django.conf import settings

    from trading.market.redis import sync_client

    client = sync_client()
    for key in client.scan_iter(f"{settings.MARKET_KEY_PREFIX}:*"):
        client.delete(key)
