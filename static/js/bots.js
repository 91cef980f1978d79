// Bots: the marketplace (GET /bots/) with subscribe forms, my subscriptions with PnL, win
// rate and an equity chart (lightweight-charts), live `signal` events, and backtests with a
// progress bar moved by live `backtest` events and the result's equity chart.
(function () {
  "use strict";
  const D = window.Dashboard;
  const LC = window.LightweightCharts;
  const $ = function (sel) { return document.querySelector(sel); };
  const catalog = $("#catalog");
  const subsBody = $("#subscriptions tbody");
  const btForm = $("#backtest-form");
  const charts = {};
  let currentBacktest = null;
  let backtestPoll = null;

  // --- charts --------------------------------------------------------------------------
  function chart(id) {
    if (!charts[id]) {
      const container = document.getElementById(id);
      container.classList.add("shown");  // the space is kept only once there is a chart
      const c = LC.createChart(container, {
        height: 260,
        autoSize: true,
        layout: { background: { color: "#17212b" }, textColor: "#c9d1d9" },
        grid: { vertLines: { color: "#26323d" }, horzLines: { color: "#26323d" } },
        timeScale: { timeVisible: true },
      });
      const series = c.addSeries(LC.AreaSeries, { lineColor: "#3fb950", topColor: "#3fb95055", bottomColor: "#3fb95005", lineWidth: 2 });
      charts[id] = { chart: c, series: series };
    }
    return charts[id];
  }

  // [[ms, equity], ...] -> strictly increasing seconds, as the library wants
  function plot(id, curve) {
    const points = [];
    (curve || []).forEach(function (p) {
      const t = Math.floor(Number(p[0]) / 1000), v = Number(p[1]);
      if (!isFinite(t) || !isFinite(v)) return;
      if (points.length && points[points.length - 1].time >= t) points[points.length - 1] = { time: points[points.length - 1].time, value: v };
      else points.push({ time: t, value: v });
    });
    const c = chart(id);
    c.series.setData(points);
    c.chart.timeScale().fitContent();
    document.getElementById(id).dataset.points = points.length;
  }

  // --- marketplace ---------------------------------------------------------------------
  function botCard(bot) {
    const summary = bot.backtest_summary || {};
    const figures = summary.total_trades !== undefined
      ? "sample backtest: " + summary.total_trades + " trades, win rate " + summary.win_rate + "%, PnL " + D.fmt.money(summary.total_pnl_percent) + "%"
      : "no backtest yet";
    const card = D.el("article", { class: "bot", "data-bot": bot.id }, [
      D.el("h3", {}, [bot.name, " ", D.el("span", { class: "pill", text: bot.type })]),
      D.el("p", { class: "muted", text: "by " + bot.author + " · v" + bot.version + (bot.mine ? " · yours (" + bot.review_status + ")" : "") }),
      D.el("p", { text: bot.description || "" }),
      D.el("p", { class: "muted small", text: figures }),
    ]);
    const button = D.el("button", { type: "button", class: "subscribe", text: "Subscribe…" });
    button.addEventListener("click", function () {
      if (card.querySelector("form")) return;
      const form = $("#subscribe-template").content.firstElementChild.cloneNode(true);
      form.elements.name.value = bot.name + " " + form.elements.symbol.value;
      form.addEventListener("submit", function (e) { e.preventDefault(); subscribe(bot, form); });
      card.append(form);
    });
    card.append(button);
    return card;
  }

  async function subscribe(bot, form) {
    const out = form.querySelector(".form-result");
    const body = {
      bot: bot.id, name: form.elements.name.value.trim(), symbol: form.elements.symbol.value.trim(),
      timeframe: form.elements.timeframe.value, status: form.elements.status.value,
    };
    if (form.elements.connection.value) body.connection = Number(form.elements.connection.value);
    try {
      const sub = await D.api("subscriptions/", { method: "POST", body: body });
      out.className = "form-result ok";
      out.textContent = "Subscribed: " + sub.name + " (" + sub.status + ").";
      loadSubscriptions();
    } catch (error) {
      out.className = "form-result error";
      out.textContent = error.message;
    }
  }

  async function loadCatalog() {
    const body = await D.api("bots/?limit=100");
    catalog.replaceChildren.apply(catalog, body.results.map(botCard));
    if (!body.results.length) catalog.append(D.el("p", { class: "muted", text: "No bots in the marketplace yet." }));
    const select = btForm.elements.bot;
    select.replaceChildren.apply(select, body.results.map(function (b) { return D.el("option", { value: b.id, text: b.name }); }));
  }

  // --- subscriptions -------------------------------------------------------------------
  function subRow(sub) {
    const actions = D.el("td", { class: "actions" });
    const move = function (what) {
      return D.el("button", { type: "button", text: what, onclick: async function () {
        try { await D.api("subscriptions/" + sub.id + "/" + what + "/", { method: "POST" }); loadSubscriptions(); }
        catch (error) { alert(error.message); }
      } });
    };
    if (sub.status === "running") actions.append(move("pause"));
    if (sub.status === "paused") actions.append(move("resume"));
    if (sub.status !== "stopped") actions.append(move("stop"));
    actions.append(D.el("button", { type: "button", class: "secondary", text: "equity", onclick: function () { showEquity(sub); } }));
    return D.el("tr", { "data-subscription": sub.id }, [
      D.el("td", { text: sub.name }),
      D.el("td", { text: sub.bot_name }),
      D.el("td", { text: sub.symbol + " · " + sub.timeframe }),
      D.el("td", { text: sub.connection_label || "(routing)" }),
      D.el("td", { class: "status" }, [D.pill(sub.status, sub.status)].concat(sub.error ? [D.el("span", { class: "error", text: " " + sub.error })] : [])),
      D.el("td", { class: "num pnl", text: "…" }),
      D.el("td", { class: "num winrate", text: "…" }),
      D.el("td", { class: "num trades", text: "…" }),
      D.el("td", { class: "signal muted", text: sub.last_action || "—" }),
      actions,
    ]);
  }

  async function loadPerformance(id) {
    const tr = subsBody.querySelector('tr[data-subscription="' + id + '"]');
    if (!tr) return null;
    const perf = await D.api("subscriptions/" + id + "/performance/");
    const pnl = Number(perf.total_pnl);
    tr.querySelector(".pnl").textContent = D.fmt.money(perf.total_pnl);
    tr.querySelector(".pnl").className = "num pnl " + (pnl > 0 ? "up" : pnl < 0 ? "down" : "");
    tr.querySelector(".winrate").textContent = perf.total_trades ? perf.win_rate + "%" : "—";
    tr.querySelector(".trades").textContent = perf.total_trades;
    return perf;
  }

  async function showEquity(sub) {
    $("#equity-title").textContent = "Equity: " + sub.name;
    const perf = await loadPerformance(sub.id);
    if (perf) plot("equity-chart", perf.equity_curve);
  }

  async function loadSubscriptions() {
    const body = await D.api("subscriptions/?limit=100");
    subsBody.replaceChildren.apply(subsBody, body.results.map(subRow));
    if (!body.results.length) subsBody.append(D.el("tr", { class: "empty" }, [D.el("td", { colspan: 10, class: "muted", text: "No subscriptions yet: subscribe to a bot above." })]));
    body.results.slice(0, 20).forEach(function (sub) { loadPerformance(sub.id).catch(console.error); });
  }

  D.on("signal", function (signal) {
    const tr = subsBody.querySelector('tr[data-subscription="' + signal.subscription + '"]');
    if (!tr) return;
    tr.querySelector(".signal").textContent = signal.action + " · " + signal.outcome + (signal.price ? " @ " + D.fmt.num(signal.price) : "");
    if (signal.outcome === "order") setTimeout(function () { loadPerformance(signal.subscription).catch(console.error); }, 1500);
  });

  // --- backtests -----------------------------------------------------------------------
  function showBacktest(bt) {
    $("#backtest-status").hidden = false;
    $("#backtest-label").textContent = "Backtest #" + bt.id + (bt.bot_name ? " · " + bt.bot_name : "") + (bt.symbol ? " · " + bt.symbol : "");
    const state = $("#backtest-state");
    state.textContent = bt.status;
    state.className = "pill " + bt.status;
    $("#backtest-progress").value = bt.progress || 0;
    $("#backtest-percent").textContent = (bt.progress || 0) + "%";
    $("#backtest-error").textContent = bt.error || "";
  }

  async function backtestResult(id) {
    const bt = await D.api("backtests/" + id + "/");
    showBacktest(bt);
    if (bt.status === "done") {
      const figures = $("#backtest-figures");
      figures.replaceChildren.apply(figures, [
        ["Trades", bt.total_trades], ["Win rate", bt.win_rate + "%"], ["PnL", D.fmt.money(bt.total_pnl)],
        ["PnL %", D.fmt.money(bt.total_pnl_percent) + "%"], ["Max drawdown", D.fmt.money(bt.max_drawdown) + "%"],
        ["Sharpe", bt.sharpe_ratio], ["Final equity", D.fmt.money(bt.final_equity)],
      ].map(function (f) { return D.el("div", {}, [D.el("span", { class: "label", text: f[0] }), D.el("strong", { text: String(f[1]) })]); }));
      plot("backtest-chart", bt.equity_curve);
    }
    return bt;
  }

  function watch(id) {
    currentBacktest = id;
    clearInterval(backtestPoll);
    // Events move the bar; a slow poll covers a socket that is down at that moment.
    backtestPoll = setInterval(async function () {
      const bt = await backtestResult(id).catch(function () { return null; });
      if (bt && (bt.status === "done" || bt.status === "failed")) { clearInterval(backtestPoll); loadBacktests(); }
    }, 5000);
  }

  D.on("backtest", function (bt) {
    if (bt.id !== currentBacktest) { loadBacktests(); return; }
    showBacktest(bt);
    if (bt.status === "done" || bt.status === "failed") {
      clearInterval(backtestPoll);
      backtestResult(bt.id).catch(console.error);
      loadBacktests();
    }
  });

  btForm.addEventListener("submit", async function (e) {
    e.preventDefault();
    const f = btForm.elements;
    const body = { bot: Number(f.bot.value), symbol: f.symbol.value.trim(), timeframe: f.timeframe.value, data: f.data.value };
    if (f.connection.value) body.connection = Number(f.connection.value);
    if (f.start.value) body.start = new Date(f.start.value).toISOString();
    if (f.end.value) body.end = new Date(f.end.value).toISOString();
    if (f.initial_capital.value.trim()) body.initial_capital = f.initial_capital.value.trim();
    $("#run-backtest").disabled = true;
    $("#backtest-figures").replaceChildren();
    try {
      const bt = await D.api("backtests/", { method: "POST", body: body });
      showBacktest(bt);
      watch(bt.id);
      loadBacktests();
    } catch (error) {
      $("#backtest-status").hidden = false;
      $("#backtest-error").textContent = error.message;
    } finally {
      $("#run-backtest").disabled = false;
    }
  });

  async function loadBacktests() {
    const body = await D.api("backtests/?limit=10");
    const tbody = $("#backtests tbody");
    tbody.replaceChildren.apply(tbody, body.results.map(function (bt) {
      return D.el("tr", { "data-backtest": bt.id }, [
        D.el("td", { text: "#" + bt.id }), D.el("td", { text: bt.bot_name }), D.el("td", { text: bt.symbol }),
        D.el("td", { text: bt.timeframe }), D.el("td", {}, [D.pill(bt.status, bt.status)]),
        D.el("td", { text: new Date(bt.created_at).toLocaleString() }),
        D.el("td", {}, [D.el("button", { type: "button", class: "secondary", text: "show", onclick: function () { watch(bt.id); backtestResult(bt.id); } })]),
      ]);
    }));
  }

  function loadAll() {
    [loadCatalog(), loadSubscriptions(), loadBacktests()].forEach(function (p) { p.catch(console.error); });
    if (currentBacktest) backtestResult(currentBacktest).catch(console.error);
  }
  D.onCatchUp(loadAll);
  loadAll();
})();
