"""Stop-loss and take-profit against the exchange simulator: protection placed when an
entry fills, fired by the platform's watcher or by the exchange, one-cancels-other, the
sweeper, and protecting an existing position through the API."""

from contextlib import contextmanager
from decimal import Decimal

import pytest

from config.celery import app as celery_app
from exchanges import runtime
from exchanges.adapters.types import Credentials
from exchanges.reads import balance_forget
from exchanges.tests.factories import ExchangeConnectionFactory
from trading.market.demand import market_demand
from trading.market.poller import poll_venue
from trading.market.venues import Venue
from trading.models import Order, OrderStatus, Position, Purpose, TriggerMode, WatchedSymbol
from trading.services import orders, protection_position, protection_watch
from trading.services.reconcile import order_sync

pytestmark = pytest.mark.django_db
S = OrderStatus
D = Decimal


@pytest.fixture(autouse=True)
def fresh_prices_all_test(settings):
    # a tick's prices stay fresh for the whole test: each test polls again after moving them
    settings.MARKET_CACHE_TTL = {**settings.MARKET_CACHE_TTL, "ticker": 60}


@pytest.fixture
def sim(exchange_simulator):
    exchange_simulator.set_price("BTC/USDT", 60_000)
    return exchange_simulator


@pytest.fixture
def run_tasks(django_capture_on_commit_callbacks):
    """Tasks queued on commit run here, in-process, as a worker would run them."""

    @contextmanager
    def run():
        celery_app.conf.task_always_eager = True
        try:
            with django_capture_on_commit_callbacks(execute=True):
                yield
        finally:
            celery_app.conf.task_always_eager = False

    return run


def connect(sim, tenant, balances=None):
    account = sim.add_account("binance", balances=balances or {"USDT": 100_000})
    connection = ExchangeConnectionFactory(
        tenant=tenant, exchange="binance", label=f"binance {tenant.pk}", api_base_url=sim.base_url,
        credentials=Credentials(**account.credentials()), status="connected",
    )  # fmt: skip
    connection.sim_account = account
    return connection


def buy(tenant, connection, run_tasks, **fields):
    with run_tasks():
        intent = orders.intent_clean(symbol="BTC/USDT", side="buy", **fields)
        order = orders.order_place(tenant=tenant, intent=intent, connection=connection)
    order.refresh_from_db()
    return order


def protective(entry_or_position, purpose=None):
    field = "parent" if isinstance(entry_or_position, Order) else "position"
    rows = Order.objects.filter(**{field: entry_or_position}, purpose__in=[Purpose.STOP_LOSS, Purpose.TAKE_PROFIT])
    return rows.filter(purpose=purpose).order_by("pk") if purpose else rows.order_by("pk")


def tick():
    """What beat's market_poll does: poll every (venue, symbol) in demand, into the cache."""
    for venue, symbols in market_demand().items():
        runtime.run(poll_venue(venue, sorted(symbols), claim=False))


def sim_orders(sim, connection):
    return sim.orders("binance", connection.sim_account.api_key)


def events(order):
    return list(order.events.values_list("reason", flat=True))


# --- entry fills -> protection ----------------------------------------------------------------
def test_filled_entry_gets_a_watched_stop_loss_and_take_profit_for_what_it_holds(sim, tenant, run_tasks):
    connection = connect(sim, tenant)
    entry = buy(tenant, connection, run_tasks, amount="0.01", stop_loss="58000", take_profit="63000")

    assert entry.status == S.FILLED
    stop, take = protective(entry, Purpose.STOP_LOSS).get(), protective(entry, Purpose.TAKE_PROFIT).get()
    held = entry.filled - entry.fee  # Binance charges a buy's fee in the coin bought
    for order, price in ((stop, stop.stop_price), (take, take.price)):
        assert (order.status, order.side, order.trigger_mode) == (S.WAITING, "sell", TriggerMode.PLATFORM)
        assert order.amount == held == D("0.00999")
        assert order.connection == connection
    assert (stop.type, stop.stop_price, take.type, take.price) == ("stop", D(58000), "limit", D(63000))
    assert len(sim_orders(sim, connection)) == 1  # nothing but the entry was sent


def test_the_watcher_fires_the_stop_loss_once_and_its_take_profit_is_canceled(sim, tenant, run_tasks):
    connection = connect(sim, tenant)
    entry = buy(tenant, connection, run_tasks, amount="0.01", stop_loss="58000", take_profit="63000")
    stop, take = protective(entry, Purpose.STOP_LOSS).get(), protective(entry, Purpose.TAKE_PROFIT).get()

    assert market_demand() == {Venue.of(connection): {"BTC/USDT"}}  # polled although nobody watches it
    tick()
    with run_tasks():
        assert protection_watch.protection_watch() == 0  # 60,000: nothing crossed
    sim.set_price("BTC/USDT", 57_900)
    tick()
    with run_tasks():
        assert protection_watch.protection_watch() == 1
        assert protection_watch.protection_watch() == 0  # fired exactly once

    stop.refresh_from_db(), take.refresh_from_db()
    assert stop.status == S.FILLED and stop.filled == D("0.00999") and stop.type == "market"
    assert any(r.startswith("stop-loss triggered at 58,000 (last 57,9") for r in events(stop))
    assert take.status == S.CANCELED
    assert take.reason == f"one-cancels-other: its stop-loss sibling #{stop.pk} filled 0.00999"
    sells = [o for o in sim_orders(sim, connection) if o.side == "sell"]
    assert len(sells) == 1 and sells[0].status == "filled"
    assert Position.objects.get(connection=connection, symbol="BTC/USDT").quantity == D("0.00001")


def test_a_take_profit_fires_as_a_limit_order_at_its_price_and_cancels_the_stop(sim, tenant, run_tasks):
    connection = connect(sim, tenant)
    entry = buy(tenant, connection, run_tasks, amount="0.01", stop_loss="58000", take_profit="63000")
    sim.set_price("BTC/USDT", 63_100)
    tick()
    with run_tasks():
        assert protection_watch.protection_watch() == 1

    stop, take = protective(entry, Purpose.STOP_LOSS).get(), protective(entry, Purpose.TAKE_PROFIT).get()
    assert (take.status, take.type, take.price) == (S.FILLED, "limit", D(63000))
    assert take.average_price >= D(63000)  # a limit: never sold below the take-profit
    assert "take-profit triggered at 63,000 (last 63,100)" in events(take)
    assert stop.status == S.CANCELED and stop.reason.startswith("one-cancels-other: its take-profit sibling")


@pytest.mark.parametrize(
    "purpose, side, last, fires",
    [
        ("stop_loss", "sell", "100", True), ("stop_loss", "sell", "101", False),
        ("take_profit", "sell", "110", True), ("take_profit", "sell", "109", False),
        ("stop_loss", "buy", "110", True), ("stop_loss", "buy", "109", False),  # protects a short
        ("take_profit", "buy", "90", True), ("take_profit", "buy", "91", False),
    ],
)  # fmt: skip
def test_which_way_a_trigger_is_crossed(purpose, side, last, fires):
    price = {"stop_loss": {"sell": 100, "buy": 110}, "take_profit": {"sell": 110, "buy": 90}}[purpose][side]
    order = Order(purpose=purpose, side=side, stop_price=D(price), price=D(price))
    assert protection_watch.crossed(order, D(last)) is fires


def test_a_lone_stop_loss_rests_on_the_exchange_and_fills_there(sim, tenant, run_tasks):
    connection = connect(sim, tenant)
    entry = buy(tenant, connection, run_tasks, amount="0.01", stop_loss="58000")
    stop = protective(entry).get()
    assert (stop.purpose, stop.trigger_mode, stop.status, stop.type) == ("stop_loss", "exchange", S.OPEN, "stop")
    at_exchange = next(o for o in sim_orders(sim, connection) if o.side == "sell")
    assert (at_exchange.trigger, at_exchange.stop_price, at_exchange.amount) == ("stop_loss", D(58000), D("0.00999"))

    sim.set_price("BTC/USDT", 57_900)  # the exchange triggers it; reconciliation sees the fill
    order_sync(order=stop)
    stop.refresh_from_db()
    assert stop.status == S.FILLED and stop.filled == D("0.00999")
    assert Position.objects.get(connection=connection, symbol="BTC/USDT").quantity == D("0.00001")


def test_a_stop_the_exchange_refuses_is_watched_by_the_platform_instead(sim, tenant, run_tasks):
    connection = connect(sim, tenant)
    # a marketable limit: it fills at about 60,003, below its stop (which is below the limit price)
    entry = buy(tenant, connection, run_tasks, type="limit", price="61000", amount="0.01", stop_loss="60500")
    WatchedSymbol.objects.create(tenant=tenant, symbol="BTC/USDT")
    tick()
    with run_tasks():
        assert protection_watch.protection_watch() == 1  # the refusal seen (by the hook, or here), then fired

    refused, watched = protective(entry)
    assert refused.status == S.REJECTED and "would trigger immediately" in refused.reason
    assert watched.trigger_mode == "platform" and watched.amount == D("0.00999")
    assert watched.status == S.FILLED
    assert "stop-loss triggered at 60,500 (last 60,000)" in events(watched)
    assert len([o for o in sim_orders(sim, connection) if o.side == "sell" and o.status == "filled"]) == 1


def test_partial_fills_grow_the_protection_and_a_cancel_keeps_it_to_what_filled(sim, tenant, run_tasks):
    connection = connect(sim, tenant)
    entry = buy(tenant, connection, run_tasks, type="limit", price="59000", amount="0.01",
                stop_loss="57000", take_profit="62000")  # fmt: skip
    assert entry.status == S.OPEN and not protective(entry).exists()

    sim.fill_order("binance", entry.exchange_order_id, amount=D("0.004"))
    order_sync(order=entry)
    assert [o.amount for o in protective(entry)] == [D("0.00399"), D("0.00399")]
    sim.fill_order("binance", entry.exchange_order_id, amount=D("0.002"))
    order_sync(order=entry)
    with run_tasks():
        orders.order_cancel(order=entry)

    entry.refresh_from_db()
    assert entry.status == S.CANCELED and entry.filled == D("0.006")
    stop, take = protective(entry, Purpose.STOP_LOSS).get(), protective(entry, Purpose.TAKE_PROFIT).get()
    assert stop.amount == take.amount == D("0.00599")  # 0.006 bought, 0.1 % paid as fee, to the lot step
    assert stop.status == take.status == S.WAITING
    assert any("grown from 0.00399 to 0.00599" in r for r in events(stop))


def test_an_entry_canceled_with_nothing_filled_leaves_no_protection(sim, tenant, run_tasks):
    connection = connect(sim, tenant)
    entry = buy(tenant, connection, run_tasks, type="limit", price="59000", amount="0.01", stop_loss="57000")
    with run_tasks():
        orders.order_cancel(order=entry)
    with run_tasks():
        protection_watch.protection_sweep()
    assert not protective(entry).exists()


# --- the sweeper ------------------------------------------------------------------------------
def hold(sim, tenant, run_tasks, amount="0.01"):
    """A long position bought through the pipeline, without protection."""
    connection = connect(sim, tenant)
    buy(tenant, connection, run_tasks, amount=amount)
    return connection, Position.objects.get(connection=connection, symbol="BTC/USDT")


def sell(tenant, connection, run_tasks, amount):
    balance_forget(connection=connection)  # the pre-trade check reads the balance the buy changed
    with run_tasks():
        intent = orders.intent_clean(symbol="BTC/USDT", side="sell", amount=amount)
        return orders.order_place(tenant=tenant, intent=intent, connection=connection)


def test_the_sweeper_cancels_protection_of_a_position_closed_by_other_means(sim, tenant, run_tasks, owner):
    connection, position = hold(sim, tenant, run_tasks)
    with run_tasks():
        stop, take = protection_position.position_protect(
            position=position, stop_loss="58000", take_profit="63000", user=owner
        )
    assert stop.amount == take.amount == D("0.00999") and stop.status == S.WAITING
    with run_tasks():
        assert protection_watch.protection_sweep() == 0  # still needed

    sell(tenant, connection, run_tasks, "0.00999")  # the user sells by hand: fee dust is all that is left
    with run_tasks():
        assert protection_watch.protection_sweep() == 2

    for order in (stop, take):
        order.refresh_from_db()
        assert order.status == S.CANCELED
        assert order.reason == "orphaned: the position is flat (dust left)"
        assert "orphaned: the position is flat (dust left)" in events(order)


def test_the_sweeper_cancels_an_orphaned_stop_at_the_exchange(sim, tenant, run_tasks):
    connection = connect(sim, tenant)
    entry = buy(tenant, connection, run_tasks, amount="0.01", stop_loss="58000")
    stop = protective(entry).get()
    assert stop.status == S.OPEN and stop.trigger_mode == "exchange"
    sim.deposit("binance", connection.sim_account.api_key, "BTC", "0.01")  # coins the stop does not lock
    sell(tenant, connection, run_tasks, "0.01")

    with run_tasks():
        assert protection_watch.protection_sweep() == 1
    stop.refresh_from_db()
    assert stop.status == S.CANCELED and "orphaned: the position is flat" in stop.reason
    at_exchange = next(o for o in sim_orders(sim, connection) if o.client_order_id == stop.client_order_id)
    assert at_exchange.status == "canceled"


def test_the_sweeper_cancels_a_take_profit_whose_stop_loss_filled(sim, tenant, run_tasks):
    connection = connect(sim, tenant)
    entry = buy(tenant, connection, run_tasks, amount="0.01", stop_loss="58000", take_profit="63000")
    stop, take = protective(entry, Purpose.STOP_LOSS).get(), protective(entry, Purpose.TAKE_PROFIT).get()
    # as if the stop had filled while its sibling's cancel was lost (say, restored from a backup)
    Order.objects.filter(pk=stop.pk).update(status=S.FILLED, filled=stop.amount, remaining=0)
    Position.objects.filter(connection=connection).update(quantity=D("0.00001"))
    WatchedSymbol.objects.create(tenant=tenant, symbol="BTC/USDT")

    with run_tasks():
        assert protection_watch.protection_sweep() == 1
    take.refresh_from_db()
    assert take.status == S.CANCELED and take.reason == f"orphaned: its stop-loss sibling #{stop.pk} filled"


# --- protecting a position through the API ----------------------------------------------------
def protect_url(position):
    return f"/api/v1/positions/{position.pk}/protect/"


def test_the_owner_protects_a_position_through_the_api(sim, tenant, run_tasks, owner, api):
    connection, position = hold(sim, tenant, run_tasks)
    with run_tasks():
        response = api(owner).post(protect_url(position), {"stop_loss": "58000", "take_profit": "63000"}, format="json")

    assert response.status_code == 201, response.content
    body = {row["purpose"]: row for row in response.json()}
    assert D(body["stop_loss"]["stop_price"]) == 58000 and D(body["take_profit"]["price"]) == 63000
    assert {row["status"] for row in body.values()} == {"waiting"}
    assert {row["position"] for row in body.values()} == {position.pk}
    assert {D(row["amount"]) for row in body.values()} == {D("0.00999")}

    with run_tasks():  # protecting again replaces, keeping the take-profit's price
        response = api(owner).post(protect_url(position), {"stop_loss": "59000"}, format="json")
    assert response.status_code == 201
    active = Order.objects.filter(position=position, status=S.WAITING)
    assert sorted((o.purpose, o.stop_price or o.price) for o in active) == [
        ("stop_loss", D(59000)),
        ("take_profit", D(63000)),
    ]
    assert Order.objects.filter(position=position, status=S.CANCELED).count() == 2


def test_a_stop_loss_above_the_mark_of_a_long_is_refused_naming_the_field(sim, tenant, run_tasks, owner, api):
    _, position = hold(sim, tenant, run_tasks)
    response = api(owner).post(protect_url(position), {"stop_loss": "61000"}, format="json")
    assert response.status_code == 400
    assert "below the mark price 60,000" in response.json()["stop_loss"][0]
    response = api(owner).post(protect_url(position), {"take_profit": "abc"}, format="json")
    assert response.status_code == 400 and "take_profit" in response.json()
    assert not Order.objects.filter(position=position).exists()


def test_a_viewer_may_not_protect_and_an_outsider_does_not_see_the_position(
    sim, tenant, run_tasks, member, outsider, api
):
    _, position = hold(sim, tenant, run_tasks)
    assert api(member).post(protect_url(position), {"stop_loss": "58000"}, format="json").status_code == 403
    assert api(outsider).post(protect_url(position), {"stop_loss": "58000"}, format="json").status_code == 404
    assert not Order.objects.filter(position=position).exists()
