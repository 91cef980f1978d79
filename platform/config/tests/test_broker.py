"""config.broker: the platform's Celery app on kombu's Redis transport with a reused client,
against the real Redis broker: a message goes out, comes back and is acknowledged."""

import uuid

from config.broker import Transport
from config.celery import app


def test_the_app_uses_it_and_messages_round_trip_with_acks():
    queue_name = f"test-broker-{uuid.uuid4().hex[:12]}"
    with app.connection_for_write() as connection:
        assert isinstance(connection.transport, Transport)
        queue = connection.SimpleQueue(queue_name)
        try:
            channel = queue.channel
            with channel.conn_or_acquire() as first, channel.conn_or_acquire() as second:
                assert first is second
            for n in range(3):
                queue.put({"order": n})
            received, tags = [], []
            for _ in range(3):
                message = queue.get(timeout=5)
                received.append(message.payload["order"])
                assert channel.client.hexists(channel.unacked_key, message.delivery_tag)  # held until acked
                message.ack()
                tags.append(message.delivery_tag)
            assert received == [0, 1, 2]
            assert channel.client.llen(queue_name) == 0
            assert not any(channel.client.hexists(channel.unacked_key, tag) for tag in tags)  # every ack removed it
        finally:
            queue.channel.client.delete(queue_name)
            queue.close()
