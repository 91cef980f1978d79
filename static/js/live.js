// The dashboard socket: joins the current tenant's group, shows events, and reconnects
// by itself after a drop (1 s, 2 s, 4 s ... up to 30 s).
(function () {
  "use strict";
  const status = document.getElementById("live-status");
  const list = document.getElementById("events");
  let delay = 1000;

  function show(text, cls) { status.textContent = text; status.className = "pill " + (cls || ""); }

  function addEvent(msg) {
    if (list.firstElementChild && list.firstElementChild.classList.contains("muted")) list.innerHTML = "";
    const item = document.createElement("li");
    item.textContent = new Date().toLocaleTimeString() + "  " + msg.event + "  " + JSON.stringify(msg.data);
    list.prepend(item);
    while (list.children.length > 50) list.lastElementChild.remove();
  }

  function connect() {
    const scheme = location.protocol === "https:" ? "wss" : "ws";
    const socket = new WebSocket(scheme + "://" + location.host + "/ws/dashboard/");
    socket.onopen = function () { delay = 1000; show("live", "live"); };
    socket.onmessage = function (e) { addEvent(JSON.parse(e.data)); };
    socket.onclose = function (e) {
      if (e.code === 4401 || e.code === 4403) { show("not allowed", "down"); return; }
      show("reconnecting…", "down");
      setTimeout(connect, delay);
      delay = Math.min(delay * 2, 30000);
    };
  }
  connect();
})();
