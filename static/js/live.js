// Shared by every dashboard page: the API with the session and CSRF token, and the live
// socket. The socket joins the tenant's group, follows the prices a page asks for, pings to
// keep them polled, and reconnects by itself after a drop (1 s, 2 s, 4 s ... up to 30 s,
// jittered); after a reconnect each page catches up from the API (Dashboard.onCatchUp).
(function () {
  "use strict";
  const status = document.getElementById("live-status");
  const csrf = (document.querySelector('meta[name="csrf-token"]') || {}).content || "";
  const handlers = {};
  const catchUps = [];
  let socket = null;
  let delay = 1000;
  let everOpen = false;
  let priceSymbols = null;
  let pinger = null;
  // what the page may check (tests, the benchmark): socket open, prices followed
  const state = { open: false, subscribed: null, connects: 0 };

  function show(text, cls) {
    if (!status) return;
    status.textContent = text;
    status.className = "pill " + (cls || "");
  }

  async function api(path, options) {
    const opts = Object.assign({ method: "GET", headers: {} }, options || {});
    opts.headers = Object.assign({ Accept: "application/json" }, opts.headers);
    opts.credentials = "same-origin";
    if (opts.method !== "GET") opts.headers["X-CSRFToken"] = csrf;
    if (opts.body !== undefined && !(opts.body instanceof FormData) && typeof opts.body !== "string") {
      opts.body = JSON.stringify(opts.body);
      opts.headers["Content-Type"] = "application/json";
    }
    const response = await fetch("/api/v1/" + path.replace(/^\//, ""), opts);
    let body = null;
    try { body = await response.json(); } catch (e) { body = null; }
    if (!response.ok) {
      const error = new Error(errorText(body) || response.status + " " + response.statusText);
      error.status = response.status;
      error.body = body;
      throw error;
    }
    return body;
  }

  // DRF errors: {"detail": ...} or {"field": ["message"]}: one readable line.
  function errorText(body) {
    if (!body || typeof body !== "object") return "";
    if (body.detail) return String(body.detail);
    return Object.keys(body).map(function (k) {
      const v = body[k];
      return (k === "non_field_errors" ? "" : k + ": ") + (Array.isArray(v) ? v.join(" ") : (typeof v === "object" ? JSON.stringify(v) : v));
    }).join("; ");
  }

  function emit(event, data) {
    (handlers[event] || []).concat(handlers["*"] || []).forEach(function (fn) {
      try { fn(data, event); } catch (e) { console.error(e); }
    });
  }

  function send(message) {
    if (socket && socket.readyState === WebSocket.OPEN) socket.send(JSON.stringify(message));
  }

  function connect() {
    const scheme = location.protocol === "https:" ? "wss" : "ws";
    socket = new WebSocket(scheme + "://" + location.host + "/ws/dashboard/");
    socket.onopen = function () {
      delay = 1000;
      state.open = true;
      state.connects += 1;
      show("live", "live");
      if (priceSymbols) send({ action: "subscribe_prices", symbols: priceSymbols });
      clearInterval(pinger);
      pinger = setInterval(function () { send({ action: "ping" }); }, 20000);
      if (everOpen) catchUps.forEach(function (fn) { try { fn(); } catch (e) { console.error(e); } });
      everOpen = true;
    };
    socket.onmessage = function (e) {
      const msg = JSON.parse(e.data);
      if (msg.event === "subscribed") state.subscribed = msg.data.symbols;
      emit(msg.event, msg.data);
    };
    socket.onclose = function (e) {
      clearInterval(pinger);
      state.open = false;
      state.subscribed = null;
      if (e.code === 4401 || e.code === 4403) { show("not allowed", "down"); return; }
      show("reconnecting…", "down");
      setTimeout(connect, delay * (0.75 + Math.random() * 0.5));
      delay = Math.min(delay * 2, 30000);
    };
  }

  // --- formatting helpers shared by the pages --------------------------------------------
  function num(value) {  // exact decimal strings from the API, trailing zeros trimmed
    if (value === null || value === undefined || value === "") return "—";
    let s = String(value);
    if (s.indexOf(".") >= 0 && s.indexOf("e") < 0) s = s.replace(/0+$/, "").replace(/\.$/, "");
    return s;
  }
  function money(value, digits) {
    if (value === null || value === undefined || value === "") return "—";
    const n = Number(value);
    return isFinite(n) ? n.toLocaleString("en-US", { minimumFractionDigits: digits === undefined ? 2 : digits, maximumFractionDigits: digits === undefined ? 2 : digits }) : String(value);
  }
  function el(tag, attrs, children) {
    const node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) {
      if (k === "class") node.className = attrs[k];
      else if (k === "text") node.textContent = attrs[k];
      else if (k.indexOf("on") === 0) node.addEventListener(k.slice(2), attrs[k]);
      else node.setAttribute(k, attrs[k]);
    });
    (children || []).forEach(function (c) { node.append(c instanceof Node ? c : document.createTextNode(c)); });
    return node;
  }
  function pill(text, cls) { return el("span", { class: "pill " + (cls || text || ""), text: text || "—" }); }
  function time(iso) { return iso ? new Date(iso).toLocaleTimeString() : "—"; }
  function key() { return "web-" + Date.now().toString(36) + "-" + Math.random().toString(36).slice(2, 10); }

  window.Dashboard = {
    api: api,
    errorText: errorText,
    on: function (event, fn) { (handlers[event] = handlers[event] || []).push(fn); },
    onCatchUp: function (fn) { catchUps.push(fn); },
    subscribePrices: function (symbols) { priceSymbols = symbols; send({ action: "subscribe_prices", symbols: symbols }); },
    send: send,
    state: state,
    fmt: { num: num, money: money, time: time },
    el: el,
    pill: pill,
    idempotencyKey: key,
    // for tests and the benchmark: drop the socket as a network failure would
    dropSocket: function () { if (socket) socket.close(); },
  };
  connect();
})();
