"""Paper accounts: created with starting balances on first use, configured, reset."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from exchanges.models import ExchangeConnection
from exchanges.paper.markets import DEFAULT_STARTING_BALANCES, EXCHANGE_ID
from exchanges.paper.models import PaperAccount, PaperBalance
from exchanges.paper.services.locks import lock_account


def _starting_balances(balances: dict | None) -> dict[str, Decimal]:
    if balances is None:
        return dict(DEFAULT_STARTING_BALANCES)
    result = {}
    for asset, amount in balances.items():
        try:
            value = Decimal(str(amount))
        except InvalidOperation:
            value = Decimal("NaN")
        if not str(asset).strip() or not value.is_finite() or value < 0:
            raise ValidationError({"starting_balances": f"{asset}: {amount} is not an amount of an asset."})
        result[str(asset).strip().upper()] = value
    return result


def _fund(account: PaperAccount) -> None:
    PaperBalance.objects.bulk_create(
        [
            PaperBalance(account=account, asset=asset, free=Decimal(amount))
            for asset, amount in sorted(account.starting_balances.items())
        ]
    )


def paper_account_ensure(*, connection: ExchangeConnection, starting_balances: dict | None = None) -> PaperAccount:
    """The connection's paper account; created with ``starting_balances`` (default 100 000
    USDT and 100 000 USD) the first time. An existing account keeps its balances."""
    if connection.exchange != EXCHANGE_ID:
        raise ValidationError({"exchange": f"{connection} is not a paper connection."})
    account = PaperAccount.objects.filter(connection=connection).first()
    if account is not None:
        return account
    balances = _starting_balances(starting_balances)
    try:
        with transaction.atomic():
            account = PaperAccount.objects.create(
                connection=connection, starting_balances={asset: str(amount) for asset, amount in balances.items()}
            )
            _fund(account)
    except IntegrityError:  # another process created it a moment ago
        return PaperAccount.objects.get(connection=connection)
    return account


@transaction.atomic
def paper_account_reset(*, connection: ExchangeConnection) -> PaperAccount:
    """Forget every order and fill and restore the starting balances."""
    account = lock_account(paper_account_ensure(connection=connection).pk)
    account.orders.all().delete()  # fills go with their orders
    account.balances.all().delete()
    _fund(account)
    return account


def paper_account_configure(
    *,
    connection: ExchangeConnection,
    fee_rate: Decimal | None = None,
    slippage_bps: Decimal | None = None,
    price_source: str | None = None,
    follow_exchange: str | None = None,
) -> PaperAccount:
    account = paper_account_ensure(connection=connection)
    changes = {
        "fee_rate": fee_rate,
        "slippage_bps": slippage_bps,
        "price_source": price_source,
        "follow_exchange": follow_exchange,
    }
    for field, value in changes.items():
        if value is not None:
            setattr(account, field, value)
    account.full_clean(exclude=["connection"])
    account.save()
    return account


@transaction.atomic
def paper_connection_ensure(
    *, tenant, label: str = "Paper trading", starting_balances: dict | None = None
) -> ExchangeConnection:
    """A tenant's paper connection (no keys) with its funded account: what the demo trades on."""
    connection, _ = ExchangeConnection.objects.get_or_create(
        tenant=tenant, label=label, defaults={"exchange": EXCHANGE_ID}
    )
    if connection.exchange != EXCHANGE_ID:
        raise ValidationError({"label": f"{label!r} is already a {connection.exchange} connection."})
    paper_account_ensure(connection=connection, starting_balances=starting_balances)
    return connection
