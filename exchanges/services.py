"""Writes of exchange connections: create, change, test, rotate and import credentials."""

from __future__ import annotations

import logging
from dataclasses import replace
from decimal import Decimal

from cryptography.fernet import InvalidToken
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import BinaryField
from django.db.models.functions import Cast
from django.utils import timezone

from exchanges.adapters.types import ConnectionTest
from exchanges.catalog import exchange_info
from exchanges.events import connection_event_publish
from exchanges.factory import adapter_for_connection, build_adapter, call
from exchanges.models import ConnectionStatus, ExchangeConnection
from exchanges.reads import balance_forget
from exchanges.validation import api_base_url_clean, credentials_from, exchange_for_region

logger = logging.getLogger(__name__)

EDITABLE = ("label", "priority", "enabled", "capital_allocation_pct", "max_positions", "testnet")


def _check_label(*, tenant, label: str, exclude_pk=None) -> str:
    label = (label or "").strip()
    if not label:
        raise ValidationError({"label": "A connection needs a label."})
    clash = ExchangeConnection.objects.filter(tenant=tenant, label__iexact=label).exclude(pk=exclude_pk)
    if clash.exists():
        raise ValidationError({"label": f"This tenant already has a connection labelled {label!r}."})
    return label


@transaction.atomic
def connection_create(
    *,
    tenant,
    exchange: str,
    label: str,
    credentials: dict | None = None,
    api_base_url: str = "",
    testnet: bool = False,
    priority: int = 10,
    enabled: bool = True,
    capital_allocation_pct: Decimal = Decimal("100"),
    max_positions: int = 10,
    test: bool = True,
) -> ExchangeConnection:
    """Save a connection (credentials encrypted) and, once committed, test it in a worker."""
    info = exchange_for_region(exchange, tenant.region)
    connection = ExchangeConnection(
        tenant=tenant,
        exchange=info.id,
        label=_check_label(tenant=tenant, label=label),
        api_base_url=api_base_url_clean(api_base_url),
        testnet=testnet,
        priority=priority,
        enabled=enabled,
        capital_allocation_pct=capital_allocation_pct,
        max_positions=max_positions,
    )
    connection.set_credentials(credentials_from(credentials, info=info))
    connection.full_clean(exclude=["tenant"])
    connection.save()
    if test:
        _queue_test(connection)
    return connection


@transaction.atomic
def connection_update(
    *, connection: ExchangeConnection, credentials: dict | None = None, api_base_url: str | None = None, **fields
) -> ExchangeConnection:
    """Change settings; credentials given replace the stored ones field by field (write-only)."""
    unknown = set(fields) - set(EDITABLE)
    if unknown:
        raise ValidationError({name: "This field cannot be changed." for name in unknown})
    connection = ExchangeConnection.objects.select_for_update().get(pk=connection.pk)
    if "label" in fields:
        fields["label"] = _check_label(tenant=connection.tenant, label=fields["label"], exclude_pk=connection.pk)
    for name, value in fields.items():
        setattr(connection, name, value)
    retest = False
    if api_base_url is not None:
        connection.api_base_url = api_base_url_clean(api_base_url)
        retest = True
    if credentials:
        info = exchange_info(connection.exchange)
        given = credentials_from(credentials, info=info, partial=True)
        merged = replace(connection.credentials, **{k: v for k, v in given.as_ccxt().items()})
        connection.set_credentials(credentials_from(merged.as_ccxt(), info=info))
        retest = True
    if retest or "testnet" in fields:
        connection.status = ConnectionStatus.UNTESTED
    connection.full_clean(exclude=["tenant"])
    connection.save()
    balance_forget(connection=connection)
    if connection.status == ConnectionStatus.UNTESTED:
        _queue_test(connection)
    return connection


def connection_delete(*, connection: ExchangeConnection) -> None:
    balance_forget(connection=connection)
    connection.delete()


def connection_set_enabled(*, connections, enabled: bool) -> int:
    return connections.update(enabled=enabled, updated_at=timezone.now())


def _queue_test(connection: ExchangeConnection) -> None:
    from exchanges.tasks import connection_test_task

    connection_id = connection.pk  # tasks take ids, never credentials
    transaction.on_commit(lambda: connection_test_task.delay(connection_id))


def connection_test(*, connection: ExchangeConnection) -> ConnectionTest:
    """Test at the exchange and record the outcome: status, latency, last error, time.

    Never raises for an exchange's answer: a connection that cannot authenticate is saved
    as failed with the reason.
    """
    try:
        result = call(adapter_for_connection(connection), "test_connection", timeout=60)
    except TimeoutError:
        result = ConnectionTest(ok=False, latency_ms=None, error="the test took longer than 60 s", error_code="timeout")
    if result.ok:
        status = ConnectionStatus.CONNECTED
    elif result.limited:  # prices come, private calls do not
        status = ConnectionStatus.LIMITED
    else:
        status = ConnectionStatus.FAILED
    previous = connection.status
    ExchangeConnection.objects.filter(pk=connection.pk).update(
        status=status,
        latency_ms=result.latency_ms,
        last_error="" if result.ok else (result.error or "unknown error"),
        last_checked_at=timezone.now(),
    )
    connection.refresh_from_db(fields=["status", "latency_ms", "last_error", "last_checked_at"])
    if previous != status:
        logger.info("Connection %s (%s) is now %s", connection.pk, connection.exchange, status)
    _publish_status(connection)
    return result


def _publish_status(connection: ExchangeConnection) -> None:
    from dashboard.events import tenant_event_publish

    data = {
        "id": connection.pk,
        "exchange": connection.exchange,
        "label": connection.label,
        "status": connection.status,
        "latency_ms": connection.latency_ms,
        "last_error": connection.last_error,
    }
    try:
        tenant_event_publish(tenant_id=connection.tenant_id, event="connection.status", data=data)
        connection_event_publish(data | {"tenant_id": connection.tenant_id})
    except Exception:  # a dashboard that cannot be told must not fail the test itself
        logger.warning("Could not publish the status of connection %s", connection.pk, exc_info=True)


def credentials_validate(
    *, tenant, exchange: str, credentials: dict | None, api_base_url: str = "", testnet: bool = False
) -> ConnectionTest:
    """Try credentials at the exchange without saving anything."""
    info = exchange_for_region(exchange, tenant.region)
    creds = credentials_from(credentials, info=info)
    adapter = build_adapter(info.id, creds, api_base_url=api_base_url_clean(api_base_url), testnet=testnet)
    try:
        return call(adapter, "test_connection", timeout=60)
    except TimeoutError:
        return ConnectionTest(ok=False, latency_ms=None, error="the test took longer than 60 s", error_code="timeout")


class CredentialsUnreadable(Exception):
    """Some rows decrypt with none of FERNET_KEYS: the key they need was removed."""

    def __init__(self, ids: list[int]):
        self.ids = ids
        shown = ", ".join(map(str, ids[:20])) + (" ..." if len(ids) > 20 else "")
        super().__init__(
            f"The credentials of {len(ids)} connection(s) (id {shown}) cannot be decrypted with any of "
            "FERNET_KEYS: keep the key they were encrypted with in FERNET_KEYS (after the new one) and run "
            "this again. Nothing was changed."
        )


def credentials_unreadable(*, connections=None) -> list[int]:
    """Ids of the rows that no key of FERNET_KEYS decrypts (read as stored, not decrypted on load)."""
    field = ExchangeConnection._meta.get_field("encrypted_credentials")
    queryset = ExchangeConnection.objects.all() if connections is None else connections
    rows = queryset.annotate(ciphertext=Cast("encrypted_credentials", BinaryField()))
    unreadable = []
    for pk, ciphertext in rows.values_list("pk", "ciphertext").order_by("pk").iterator():
        try:
            field.fernet.decrypt(bytes(ciphertext))
        except InvalidToken:
            unreadable.append(pk)
    return unreadable


def credentials_rotate(*, connections=None, batch_size: int = 500) -> int:
    """Re-encrypt connections' credentials with the first of FERNET_KEYS (all of them by default).

    Reading decrypts with any key; saving encrypts with the first. Every row is checked
    first and nothing is written if one cannot be read (CredentialsUnreadable). Afterwards
    the old keys can be removed from FERNET_KEYS. Returns how many rows were rewritten.
    """
    queryset = ExchangeConnection.objects.all() if connections is None else connections
    unreadable = credentials_unreadable(connections=queryset)
    if unreadable:
        raise CredentialsUnreadable(unreadable)
    count = 0
    with transaction.atomic():
        pks = list(queryset.select_for_update().order_by("pk").values_list("pk", flat=True))
        for start in range(0, len(pks), batch_size):
            for connection in ExchangeConnection.objects.filter(pk__in=pks[start : start + batch_size]).order_by("pk"):
                connection.save(update_fields=["encrypted_credentials"])
                count += 1
    return count
