"""The dashboards in a real headless Chromium (Debian's, driven by Playwright) against the
platform served by daphne, the exchange simulator, a real Redis channel layer, the market
poller ticking as beat would, and a real Celery worker for orders.

One browser for the session; each test gets a fresh context (cookies) and logs in through
the login form. bin/test installs chromium; without it (or playwright) these tests skip.
"""

from __future__ import annotations

import os
import re
import time
from decimal import Decimal

import pytest
from django.conf import settings

from tests.browser_support import DaphneProcess, MarketPoller, browser_unavailable_reason, chromium_path
from tests.fixtures.services import _database_url

_unavailable = browser_unavailable_reason()
if _unavailable:
    pytest.skip(f"browser tests skipped: {_unavailable}", allow_module_level=True)

from playwright.sync_api import expect, sync_playwright  # noqa: E402

from tenancy.models import Role  # noqa: E402
from tenancy.tests.factories import PASSWORD, MembershipFactory  # noqa: E402
from trading.tests.factories import OrderFactory, simulator_connection  # noqa: E402

pytestmark = pytest.mark.django_db(transaction=True)
expect.set_options(timeout=15_000)  # the machine may be busy; the latency checks set their own


@pytest.fixture(scope="session")
def asgi_server(django_db_setup, django_db_blocker):
    """The platform as production serves it: daphne + config.asgi, on the test database."""
    from django.db import connection

    server = DaphneProcess({"DJANGO_SETTINGS_MODULE": "config.settings.test",
                            "DATABASE_URL": _database_url(connection.settings_dict)})  # fmt: skip
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="module")
def browser(django_db_setup, asgi_server, celery_worker_process):
    """One Chromium for the module. Playwright's sync API keeps an event loop in this thread,
    which Django takes for async code: its ORM calls (the tests' factories) are allowed while
    the browser is open, as pytest-playwright's docs advise, and only then. The server and the
    worker start first, so neither process inherits that allowance."""
    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    try:
        with sync_playwright() as playwright:
            chromium = playwright.chromium.launch(executable_path=chromium_path())
            try:
                yield chromium
            finally:
                chromium.close()
    finally:
        if previous is None:
            os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
        else:
            os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


@pytest.fixture
def page(asgi_server, browser):
    context = browser.new_context(base_url=asgi_server.url)
    context.set_default_timeout(15_000)
    page = context.new_page()
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    errors: list[str] = []
    page.js_errors = errors
    try:
        yield page
    finally:
        context.close()


@pytest.fixture
def market_poller(db):
    """Beat's market poll at MARKET_POLL_INTERVAL; started inside the test (database access)."""
    poller = MarketPoller(settings.MARKET_POLL_INTERVAL).start()
    try:
        yield poller
    finally:
        poller.stop()


@pytest.fixture
def desk(exchange_simulator, tenant, owner, other_tenant, outsider):
    """Acme trades on the simulator's Binance and OKX; Globex has its own desk and an order."""
    binance = simulator_connection(exchange_simulator, tenant, "binance", balances={"USDT": 100_000},
                                   label="Acme Binance", priority=1)  # fmt: skip
    okx = simulator_connection(exchange_simulator, tenant, "okx", balances={"USDT": 50_000}, label="Acme OKX",
                               priority=2)  # fmt: skip
    theirs = simulator_connection(exchange_simulator, other_tenant, "binance", label="Globex Secret Desk")
    foreign_order = OrderFactory(connection=theirs, symbol="ETH/USDT", amount=Decimal("7.77"))
    return {"binance": binance, "okx": okx, "theirs": theirs, "foreign_order": foreign_order}


def log_in(page, username="olivia"):
    page.goto("/dashboard/")
    expect(page).to_have_url(re.compile(r"/accounts/login/\?next=/dashboard/"))
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")
    expect(page).to_have_url(re.compile(r"/dashboard/$"))


def wait_live(page, symbols=None):
    """The socket is open (and, given symbols, follows their prices)."""
    if symbols is None:
        page.wait_for_function("() => window.Dashboard && Dashboard.state.open")
    else:
        page.wait_for_function("(s) => JSON.stringify(Dashboard.state.subscribed) === JSON.stringify(s)", arg=symbols)


def test_log_in_and_see_the_overview_with_the_simulator_connected_and_no_other_tenant(page, desk, owner):
    log_in(page)
    expect(page.locator("h1")).to_have_text("Acme Capital")
    row = page.locator(f'#exchange-summary tr[data-connection="{desk["binance"].pk}"]')
    expect(row.locator(".status")).to_have_text("connected")
    expect(row.locator(".balance")).to_have_text("100,000.00 USDT")
    expect(row.locator(".priority")).to_have_text("1")
    expect(row.locator(".positions")).to_have_text("0")
    expect(page.locator("#total-balance")).to_have_text("150,000.00")
    expect(page.locator("#open-order-count")).to_have_text("0")
    expect(page.locator("#live-status")).to_have_text("live")
    html = page.content()
    assert "Globex" not in html and "oscar" not in html
    # the switcher appears for a user in several tenants, and switching shows the other's data
    MembershipFactory(user=owner, tenant=desk["theirs"].tenant, role=Role.VIEWER)
    page.reload()
    page.select_option("#tenant-switch", label="Globex Trading")
    expect(page.locator("h1")).to_have_text("Globex Trading")
    expect(page.locator("#exchange-summary")).to_contain_text("Globex Secret Desk")
    expect(page.locator("#open-orders")).to_contain_text("ETH/USDT")
    assert "Acme Binance" not in page.content()
    assert page.js_errors == []


def test_a_price_change_at_the_exchange_is_on_the_page_within_two_seconds(page, desk, exchange_simulator,
                                                                           market_poller):  # fmt: skip
    exchange_simulator.set_price("BTC/USDT", 60_000, exchange="binance")
    exchange_simulator.set_price("BTC/USDT", 60_100, exchange="okx")
    log_in(page)
    page.goto("/dashboard/prices/?symbol=BTC/USDT")
    binance = page.locator(f'#price-table tr[data-connection="{desk["binance"].pk}"]')
    okx = page.locator(f'#price-table tr[data-connection="{desk["okx"].pk}"]')
    expect(binance.locator(".status")).to_have_text("ok")
    wait_live(page, ["BTC/USDT", "BTC/USD", "BTC/USDC"])
    # OKX pays more for a sale, Binance sells for less
    expect(okx.locator(".bid")).to_have_class(re.compile("best-bid"))
    expect(binance.locator(".ask")).to_have_class(re.compile("best-ask"))

    started = time.monotonic()
    exchange_simulator.set_price("BTC/USDT", "61234.5", exchange="binance")
    expect(binance.locator(".last")).to_have_text("61234.5", timeout=2000)
    assert time.monotonic() - started < 2.0
    # Binance now bids the most: the highlight moves with the live price
    expect(binance.locator(".bid")).to_have_class(re.compile("best-bid"))
    expect(okx.locator(".ask")).to_have_class(re.compile("best-ask"))

    # a dropped socket comes back by itself, follows the prices again and catches up
    page.evaluate("Dashboard.dropSocket()")
    page.wait_for_function("Dashboard.state.connects >= 2 && Dashboard.state.subscribed !== null")
    started = time.monotonic()
    exchange_simulator.set_price("BTC/USDT", "59876.5", exchange="okx")
    expect(okx.locator(".last")).to_have_text("59876.5", timeout=2000)
    assert time.monotonic() - started < 2.0
    assert market_poller.errors == []
    assert page.js_errors == []


@pytest.mark.usefixtures("celery_worker")
def test_place_an_order_from_the_page_and_see_it_filled_then_cancel_a_resting_one(page, desk, exchange_simulator):
    log_in(page)
    page.goto("/dashboard/orders/")
    wait_live(page)
    expect(page.locator("#orders tbody")).to_contain_text("No orders yet.")
    assert page.locator(f'tr[data-order="{desk["foreign_order"].pk}"]').count() == 0

    form = page.locator("#order-form")
    form.locator("input[name=amount]").fill("0.01")
    form.locator("select[name=routing]").select_option("explicit")
    form.locator("select[name=connection]").select_option(str(desk["binance"].pk))
    form.locator("button[type=submit]").click()
    expect(page.locator("#order-result")).to_contain_text("accepted")
    order_id = int(re.search(r"#(\d+)", page.locator("#order-result").inner_text()).group(1))
    row = page.locator(f'#orders tr[data-order="{order_id}"]')
    expect(row.locator(".status .pill")).to_have_text("filled", timeout=30_000)
    expect(row.locator(".exchange")).to_have_text("Acme Binance")
    expect(page.locator("#positions tbody")).to_contain_text("BTC/USDT")
    [at_exchange] = exchange_simulator.orders("binance")  # once, and no other tenant's order was sent
    assert at_exchange.filled == Decimal("0.01")

    # a limit buy far below the market rests; its cancel button cancels it at the exchange
    form.locator("select[name=type]").select_option("limit")
    form.locator("input[name=price]").fill("30000")
    form.locator("button[type=submit]").click()
    expect(page.locator("#order-result")).to_have_text(re.compile(rf"Order #(?!{order_id}\b)\d+ accepted"))
    resting_id = int(re.search(r"#(\d+)", page.locator("#order-result").inner_text()).group(1))
    resting = page.locator(f'#orders tr[data-order="{resting_id}"]')
    expect(resting.locator(".status .pill")).to_have_text("open", timeout=30_000)
    resting.locator("button.cancel").click()
    expect(resting.locator(".status .pill")).to_have_text("canceled", timeout=15_000)
    assert page.js_errors == []


@pytest.mark.usefixtures("celery_worker")
def test_subscribe_to_a_bot_and_run_a_backtest_with_live_progress_and_its_chart(page, desk):
    from bots.services.catalog import builtin_bots_sync

    builtin_bots_sync()  # the marketplace's built-in bots (a transactional test starts empty)
    log_in(page)
    page.goto("/dashboard/bots/")
    wait_live(page)
    page.evaluate("window.__backtests = []; Dashboard.on('backtest', (b) => window.__backtests.push(b.status))")

    card = page.locator("#catalog article").first
    card.locator("button.subscribe").click()
    card.locator("form select[name=connection]").select_option(str(desk["binance"].pk))
    card.locator("form button[type=submit]").click()
    expect(card.locator(".form-result")).to_contain_text("Subscribed")
    row = page.locator("#subscriptions tbody tr[data-subscription]")
    expect(row).to_have_count(1)
    expect(row.locator(".status")).to_have_text("paused")
    expect(row.locator(".trades")).to_have_text("0")
    expect(row).to_contain_text("Acme Binance")

    page.locator("#run-backtest").click()
    expect(page.locator("#backtest-state")).to_have_text("done", timeout=60_000)
    expect(page.locator("#backtest-percent")).to_have_text("100%")
    assert "done" in page.evaluate("window.__backtests")  # moved by live events, not only by polling
    page.wait_for_function("Number(document.getElementById('backtest-chart').dataset.points) > 10")
    expect(page.locator("#backtest-chart canvas").first).to_be_visible()
    expect(page.locator("#backtest-figures")).to_contain_text("Win rate")
    assert page.js_errors == []
