"""Kombu's Redis transport, reusing its client.

Kombu builds a new ``redis.Redis`` over the channel's connection pool for every publish,
ack and unacked-message bookkeeping (``conn_or_acquire``); with redis-py 8 that costs about
0.1 ms each (its response callbacks), twice per order on a worker and once on every order
request. The client holds no connection of its own (the pool does), so one per pool serves
them all. Selected by ``CELERY_BROKER_TRANSPORT`` for ``redis://`` brokers.
"""

from __future__ import annotations

from kombu.transport import redis as kombu_redis


class Channel(kombu_redis.Channel):
    _reused: tuple | None = None  # (pool, client); a new pool (after a reconnect) gets a new client

    def _create_client(self, asynchronous: bool = False):
        if asynchronous:
            return super()._create_client(asynchronous=True)
        pool = self.pool
        if self._reused is None or self._reused[0] is not pool:
            self._reused = (pool, super()._create_client())
        return self._reused[1]


class Transport(kombu_redis.Transport):
    Channel = Channel
