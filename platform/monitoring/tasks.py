import socket

from celery import shared_task

from monitoring.services import heartbeat_record


@shared_task(name="monitoring.tasks.ping")
def ping() -> dict:
    """Proves a worker consumes the queue: it answers with its host name."""
    return {"pong": True, "host": socket.gethostname()}


@shared_task(name="monitoring.tasks.heartbeat", ignore_result=True)
def heartbeat() -> None:
    """Sent by beat every 30 s; the health report shows how old the last one is."""
    heartbeat_record()
