"""config.cache: Django's Redis cache with one client per pool, against the real Redis."""

import uuid

from django.core.cache import cache


def test_values_round_trip_through_one_reused_client():
    key = f"cache-test-{uuid.uuid4().hex}"
    client = cache._cache.get_client(key)
    cache.set(key, {"free": "1.5"}, 30)
    assert cache.get(key) == {"free": "1.5"}
    assert cache.get_many([key, key + "-missing"]) == {key: {"free": "1.5"}}
    cache.delete(key)
    assert cache.get(key) is None
    assert cache._cache.get_client(key) is client
    assert cache._cache.get_client(key, write=True) is client  # one server: reads and writes share its pool
