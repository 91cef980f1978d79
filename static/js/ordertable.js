// An orders table kept live: rows from GET /orders/, moved by `order` events; optional
// cancel buttons (DELETE /orders/{id}/). Used by the overview and the orders page.
(function () {
  "use strict";
  const D = window.Dashboard;
  const ACTIVE = ["pending", "submitting", "open", "partially_filled", "unknown", "waiting"];

  function OrderTable(table, options) {
    this.tbody = table.querySelector("tbody");
    this.options = Object.assign({ openOnly: false, cancel: false, limit: 50, onChange: null }, options || {});
    this.connections = {};
    this.count = 0;
  }

  OrderTable.prototype.load = async function () {
    const query = "orders/?limit=" + this.options.limit + (this.options.openOnly ? "&status=open" : "");
    const body = await D.api(query);
    this.tbody.innerHTML = "";
    this.count = body.count;
    body.results.forEach(function (order) { this.upsert(order, false); }, this);
    this.empty();
    this.changed();
  };

  OrderTable.prototype.empty = function () {
    const placeholder = this.tbody.querySelector("tr.empty");
    const hasRows = this.tbody.querySelector("tr[data-order]");
    if (!hasRows && !placeholder) {
      const cols = this.tbody.parentNode.querySelectorAll("thead th").length;
      this.tbody.append(D.el("tr", { class: "empty" }, [D.el("td", { colspan: cols, class: "muted", text: this.options.openOnly ? "No open orders." : "No orders yet." })]));
    } else if (hasRows && placeholder) {
      placeholder.remove();
    }
  };

  OrderTable.prototype.changed = function () {
    if (this.options.onChange) this.options.onChange(this);
  };

  OrderTable.prototype.row = function (order) {
    const self = this;
    const exchange = order.connection_label || (this.connections[order.connection] || "") || "—";
    const cells = [
      D.el("td", { text: "#" + order.id }),
      D.el("td", { class: "exchange", text: exchange }),
      D.el("td", { text: order.symbol }),
      D.el("td", { class: "side " + order.side, text: order.side }),
      D.el("td", { text: order.type }),
      D.el("td", { class: "num", text: D.fmt.num(order.amount) }),
      D.el("td", { class: "num", text: D.fmt.num(order.price) }),
      D.el("td", { class: "num filled", text: D.fmt.num(order.filled) + (order.average_price ? " @ " + D.fmt.num(order.average_price) : "") }),
      D.el("td", { class: "status" }, [D.pill(order.status, order.status)].concat(order.reason ? [D.el("span", { class: "reason muted", text: " " + order.reason })] : [])),
    ];
    if (this.options.cancel) {
      const td = D.el("td", { class: "actions" });
      if (ACTIVE.indexOf(order.status) >= 0) {
        td.append(D.el("button", { class: "cancel danger", type: "button", text: "Cancel", onclick: function () { self.cancel(order.id, this); } }));
      }
      cells.push(td);
    }
    return D.el("tr", { "data-order": order.id, "data-status": order.status }, cells);
  };

  // Insert or update from the API or an `order` event (the event has no label: keep the old one).
  OrderTable.prototype.upsert = function (order, live) {
    const existing = this.tbody.querySelector('tr[data-order="' + order.id + '"]');
    if (existing) {
      // The POST's answer (pending) may arrive after the worker's events: never step back
      // from a final status, nor back to pending.
      const was = existing.dataset.status;
      if ((ACTIVE.indexOf(was) < 0 && ACTIVE.indexOf(order.status) >= 0) || (order.status === "pending" && was !== "pending")) return;
      if (!order.connection_label) order.connection_label = existing.querySelector(".exchange").textContent;
    }
    const active = ACTIVE.indexOf(order.status) >= 0;
    if (this.options.openOnly && !active) {
      if (existing) { existing.remove(); this.count = Math.max(0, this.count - 1); }
    } else if (existing) {
      existing.replaceWith(this.row(order));
    } else if (live) {
      this.tbody.prepend(this.row(order));
      this.count += 1;
    } else {
      this.tbody.append(this.row(order));
    }
    if (live) { this.empty(); this.changed(); }
  };

  OrderTable.prototype.cancel = async function (id, button) {
    button.disabled = true;
    try {
      this.upsert(await D.api("orders/" + id + "/", { method: "DELETE" }), true);
    } catch (error) {
      button.disabled = false;
      const row = this.tbody.querySelector('tr[data-order="' + id + '"] .status');
      if (row) row.append(D.el("span", { class: "reason error", text: " " + error.message }));
    }
  };

  OrderTable.ACTIVE = ACTIVE;
  window.OrderTable = OrderTable;
})();
