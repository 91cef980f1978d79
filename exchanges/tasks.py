from celery import shared_task

from exchanges.models import ExchangeConnection
from exchanges.services import connection_test


@shared_task(name="exchanges.tasks.connection_test_task", ignore_result=True)
def connection_test_task(connection_id: int) -> None:
    """Test one connection and record the result. Takes an id: credentials never travel."""
    connection = ExchangeConnection.objects.filter(pk=connection_id).first()
    if connection is not None:  # deleted meanwhile: nothing to test
        connection_test(connection=connection)


@shared_task(name="exchanges.tasks.connections_test_all", ignore_result=True)
def connections_test_all() -> int:
    """Beat: re-test every enabled connection, one task each, so one slow exchange blocks none."""
    ids = list(ExchangeConnection.objects.filter(enabled=True).values_list("pk", flat=True))
    for connection_id in ids:
        connection_test_task.delay(connection_id)
    return len(ids)
