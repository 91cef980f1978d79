// The overview: exchange summary (status, balance, open positions, latency, last error),
// total balance, open orders. Loaded from the API, moved by live events, caught up after a
// reconnect.
(function () {
  "use strict";
  const D = window.Dashboard;
  const $ = function (sel) { return document.querySelector(sel); };
  const orders = new window.OrderTable($("#open-orders"), {
    openOnly: true,
    onChange: function (t) { $("#open-order-count").textContent = t.count; },
  });
  let refreshTimer = null;

  function row(id) { return document.querySelector('#exchange-summary tr[data-connection="' + id + '"]'); }

  function setStatus(c) {
    const tr = row(c.id);
    if (!tr) return;
    tr.querySelector(".status").replaceChildren(D.pill(c.status, c.status));
    const latency = c.latency_p50_ms !== undefined ? c.latency_p50_ms : c.latency_ms;
    if (latency !== undefined) tr.querySelector(".latency").textContent = latency === null ? "—" : Math.round(latency) + " ms";
    if (c.priority !== undefined) tr.querySelector(".priority").textContent = c.priority;
    const error = tr.querySelector(".last-error");
    error.textContent = c.last_error || "—";
    error.classList.toggle("error", Boolean(c.last_error));
  }

  async function loadStatus() {
    const body = await D.api("exchanges/status/");
    body.connections.forEach(setStatus);
    $("#available").textContent = body.available_count + " / " + body.total_count;
  }

  async function loadBalances(fresh) {
    const body = await D.api("balances/" + (fresh ? "?fresh=true" : ""));
    $("#total-balance").textContent = D.fmt.money(body.total);
    $("#total-quote").textContent = body.quote;
    body.connections.forEach(function (c) {
      const tr = row(c.connection_id);
      if (tr) tr.querySelector(".balance").textContent = D.fmt.money(c.total) + " " + body.quote;
    });
    body.failed.forEach(function (c) {
      const tr = row(c.connection_id);
      if (tr) tr.querySelector(".balance").replaceChildren(D.el("span", { class: "error", title: c.error, text: "unavailable" }));
    });
  }

  async function loadPositions() {
    const positions = await D.api("positions/?open=true");
    const counts = {};
    positions.forEach(function (p) { counts[p.connection_id] = (counts[p.connection_id] || 0) + 1; });
    document.querySelectorAll("#exchange-summary tr[data-connection]").forEach(function (tr) {
      tr.querySelector(".positions").textContent = counts[tr.dataset.connection] || 0;
    });
    $("#open-position-count").textContent = positions.length;
  }

  function addEvent(event, data) {
    const list = $("#events");
    if (list.firstElementChild && list.firstElementChild.classList.contains("muted")) list.innerHTML = "";
    let text = event;
    if (event === "order") text += " #" + data.id + " " + data.symbol + " " + data.side + " → " + data.status;
    else if (event.indexOf("connection") === 0) text += " " + data.label + " → " + data.status;
    else if (event === "signal") text += " " + data.name + " " + data.action + " (" + data.outcome + ")";
    else if (event === "backtest") text += " #" + data.id + " " + data.status + " " + data.progress + "%";
    else text += " " + JSON.stringify(data);
    list.prepend(D.el("li", {}, [D.el("span", { class: "muted", text: new Date().toLocaleTimeString() + "  " }), text]));
    while (list.children.length > 50) list.lastElementChild.remove();
  }

  function refreshSoon() {  // fills move balances and positions: one reload per burst
    clearTimeout(refreshTimer);
    refreshTimer = setTimeout(function () { loadBalances(true).catch(console.error); loadPositions().catch(console.error); }, 500);
  }

  // The page came with the statuses; after a reconnect they are read again with the rest.
  function loadAll(withStatus) {
    const loads = [loadBalances(), loadPositions(), orders.load()].concat(withStatus ? [loadStatus()] : []);
    return Promise.allSettled(loads).then(function (results) {
      results.forEach(function (r) { if (r.status === "rejected") console.error(r.reason); });
    });
  }

  D.on("order", function (order) {
    orders.upsert(order, true);
    if (order.status === "filled" || order.status === "partially_filled") refreshSoon();
  });
  D.on("connection.status", setStatus);
  D.on("connection", setStatus);
  ["order", "connection.status", "connection", "signal", "backtest"].forEach(function (name) {
    D.on(name, function (data) { addEvent(name, data); });
  });
  D.onCatchUp(function () { loadAll(true); });
  loadAll(false);
})();
