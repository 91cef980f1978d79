// Orders and positions: place (POST /orders/ with an Idempotency-Key), cancel, and watch
// every status move live (`order` events); positions reload after fills.
(function () {
  "use strict";
  const D = window.Dashboard;
  const form = document.getElementById("order-form");
  const result = document.getElementById("order-result");
  const orders = new window.OrderTable(document.getElementById("orders"), { cancel: true });
  const positionsBody = document.querySelector("#positions tbody");
  let refreshTimer = null;

  function say(text, cls) {
    result.hidden = false;
    result.className = "message " + (cls || "");
    result.textContent = text;
  }

  async function loadPositions() {
    const positions = await D.api("positions/?open=true");
    positionsBody.replaceChildren.apply(positionsBody, positions.map(function (p) {
      const pnl = p.unrealized_pnl === null ? null : Number(p.unrealized_pnl);
      return D.el("tr", { "data-position": p.id }, [
        D.el("td", { text: p.connection_label }),
        D.el("td", { text: p.symbol }),
        D.el("td", { class: "side " + p.side, text: p.side }),
        D.el("td", { class: "num", text: D.fmt.num(p.quantity) }),
        D.el("td", { class: "num", text: D.fmt.num(p.average_price) }),
        D.el("td", { class: "num", text: D.fmt.num(p.mark_price) }),
        D.el("td", { class: "num " + (pnl > 0 ? "up" : pnl < 0 ? "down" : ""), text: D.fmt.money(p.unrealized_pnl) }),
        D.el("td", { class: "num", text: D.fmt.money(p.realized_pnl) }),
      ]);
    }));
    if (!positions.length) positionsBody.append(D.el("tr", { class: "empty" }, [D.el("td", { colspan: 8, class: "muted", text: "No open positions." })]));
  }

  form.addEventListener("submit", async function (e) {
    e.preventDefault();
    const data = new FormData(form);
    const body = { symbol: data.get("symbol").trim(), side: data.get("side"), type: data.get("type"), amount: data.get("amount").trim() };
    ["price", "stop_loss", "take_profit"].forEach(function (name) {
      const value = (data.get(name) || "").trim();
      if (value) body[name] = value;
    });
    if (data.get("connection")) body.connection = Number(data.get("connection"));
    body.routing = data.get("routing") === "explicit" && !body.connection ? "priority" : data.get("routing");
    if (body.connection && data.get("routing") !== "explicit") delete body.connection;
    const button = document.getElementById("place-order");
    button.disabled = true;
    try {
      const order = await D.api("orders/", { method: "POST", body: body, headers: { "Idempotency-Key": D.idempotencyKey() } });
      orders.upsert(order, true);
      say("Order #" + order.id + " accepted (" + order.status + ").", "ok");
    } catch (error) {
      say("Refused: " + error.message, "error");
    } finally {
      button.disabled = false;
    }
  });

  D.on("order", function (order) {
    orders.upsert(order, true);
    if (order.status === "filled" || order.status === "partially_filled") {
      clearTimeout(refreshTimer);
      refreshTimer = setTimeout(function () { loadPositions().catch(console.error); }, 300);
    }
  });

  function loadAll() {
    orders.load().catch(function (e) { say(e.message, "error"); });
    loadPositions().catch(console.error);
  }
  D.onCatchUp(loadAll);
  loadAll();
})();
