// Price comparison: one row per exchange (GET /market/compare/), then live `price` events
// from the public price groups of those exchanges; best bid and best ask highlighted.
(function () {
  "use strict";
  const D = window.Dashboard;
  const table = document.getElementById("price-table");
  const tbody = table.querySelector("tbody");
  const info = document.getElementById("compare-info");
  const form = document.getElementById("symbol-form");
  let symbol = table.dataset.symbol;

  function cell(cls, text) { return D.el("td", { class: cls, text: text }); }

  function render(row) {
    const tr = D.el("tr", { "data-venue": row.venue, "data-symbol": row.symbol, "data-connection": row.connection_id || "" }, [
      D.el("td", {}, [D.el("strong", { text: row.label }), " ", D.el("span", { class: "muted", text: row.exchange })]),
      cell("", row.symbol),
      cell("num bid", ""),
      cell("num ask", ""),
      cell("num last", ""),
      cell("num spread", ""),
      cell("num updated", ""),
      D.el("td", { class: "status" }, [D.pill(row.status, row.status === "ok" ? "connected" : "failed")]),
    ]);
    if (row.error) tr.querySelector(".status").append(D.el("span", { class: "muted", text: " " + row.error }));
    fill(tr, { bid: row.bid, ask: row.ask, price: row.last }, row.age_ms === null ? null : Date.now() - row.age_ms);
    return tr;
  }

  function fill(tr, quote, at) {
    tr.dataset.bid = quote.bid === null || quote.bid === undefined ? "" : quote.bid;
    tr.dataset.ask = quote.ask === null || quote.ask === undefined ? "" : quote.ask;
    tr.querySelector(".bid").textContent = D.fmt.num(quote.bid);
    tr.querySelector(".ask").textContent = D.fmt.num(quote.ask);
    tr.querySelector(".last").textContent = D.fmt.num(quote.price);
    const spread = quote.bid && quote.ask ? (Number(quote.ask) - Number(quote.bid)) / Number(quote.ask) * 10000 : null;
    tr.querySelector(".spread").textContent = spread === null ? "—" : spread.toFixed(1) + " bps";
    tr.querySelector(".updated").textContent = at ? new Date(at).toLocaleTimeString() : "—";
  }

  function highlight() {
    let bestBid = null, bestAsk = null;
    tbody.querySelectorAll("tr[data-venue]").forEach(function (tr) {
      tr.querySelector(".bid").classList.remove("best-bid");
      tr.querySelector(".ask").classList.remove("best-ask");
      const bid = tr.dataset.bid === "" ? NaN : Number(tr.dataset.bid);
      const ask = tr.dataset.ask === "" ? NaN : Number(tr.dataset.ask);
      if (!isNaN(bid) && (bestBid === null || bid > bestBid.value)) bestBid = { value: bid, tr: tr };
      if (!isNaN(ask) && (bestAsk === null || ask < bestAsk.value)) bestAsk = { value: ask, tr: tr };
    });
    if (bestBid) bestBid.tr.querySelector(".bid").classList.add("best-bid");
    if (bestAsk) bestAsk.tr.querySelector(".ask").classList.add("best-ask");
  }

  async function load() {
    info.textContent = "comparing…";
    let body;
    try {
      body = await D.api("market/compare/?symbol=" + encodeURIComponent(symbol));
    } catch (error) {
      tbody.replaceChildren(D.el("tr", { class: "empty" }, [D.el("td", { colspan: 8, class: "error", text: error.message })]));
      info.textContent = "";
      return;
    }
    tbody.replaceChildren.apply(tbody, body.rows.map(render));
    if (!body.rows.length) tbody.append(D.el("tr", { class: "empty" }, [D.el("td", { colspan: 8, class: "muted", text: "No enabled exchange connection." })]));
    highlight();
    info.textContent = body.symbols.join(" · ") + " in " + Math.round(body.took_ms) + " ms";
    D.subscribePrices(body.symbols);
  }

  D.on("price", function (data) {
    const rows = tbody.querySelectorAll('tr[data-venue="' + CSS.escape(data.venue) + '"][data-symbol="' + CSS.escape(data.symbol) + '"]');
    if (!rows.length) return;
    rows.forEach(function (tr) {
      fill(tr, data, data.fetched_at ? data.fetched_at * 1000 : Date.now());
      tr.classList.remove("flash");
      void tr.offsetWidth;  // restart the animation
      tr.classList.add("flash");
    });
    highlight();
  });

  form.addEventListener("submit", function (e) {
    e.preventDefault();
    symbol = document.getElementById("symbol").value.trim() || symbol;
    history.replaceState(null, "", "?symbol=" + encodeURIComponent(symbol));
    load();
  });
  D.onCatchUp(load);
  load();
})();
