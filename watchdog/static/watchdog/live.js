// Live watchdog events for staff: new verdicts are prepended to the admin timeline.
(function () {
  "use strict";
  const status = document.getElementById("watchdog-live");
  const table = document.querySelector("#result_list tbody");
  if (!status || !table) {
    return;
  }
  const columns = document.querySelectorAll("#result_list thead th").length;

  function cell(text, href) {
    const td = document.createElement("td");
    if (href) {
      const link = document.createElement("a");
      link.href = href;
      link.textContent = text;
      td.appendChild(link);
    } else {
      td.textContent = text;
    }
    return td;
  }

  function row(event) {
    const tr = document.createElement("tr");
    tr.className = "watchdog-new";
    const cost = "$" + (event.cost_micros / 1e6).toFixed(6);
    const values = [
      ["", null],
      [new Date(event.created_at).toLocaleString(), event.url],
      [event.stage, null],
      [event.verdict, null],
      [event.event_type, null],
      [event.severity, null],
      [event.action, null],
      [String(event.level), null],
      [event.conversation.slice(0, 8), event.conversation_url],
      [event.prompt || "—", null],
      [String(event.tenant_id), null],
      [event.evaluator || "—", null],
      [event.latency_ms + " ms", null],
      [String(event.tokens), null],
      [cost, null],
      [event.error ? "✗" : "", null],
    ];
    values.slice(0, columns).forEach(function (value) {
      tr.appendChild(cell(value[0], value[1]));
    });
    return tr;
  }

  function connect() {
    const scheme = window.location.protocol === "https:" ? "wss" : "ws";
    const socket = new WebSocket(scheme + "://" + window.location.host + "/ws/admin/watchdog/");
    socket.addEventListener("open", function () {
      status.textContent = status.dataset.on;
    });
    socket.addEventListener("message", function (message) {
      const event = JSON.parse(message.data);
      if (event.type === "watchdog.event") {
        table.insertBefore(row(event), table.firstChild);
      }
    });
    socket.addEventListener("close", function (closed) {
      status.textContent = status.dataset.off;
      if (closed.code !== 4403) {
        window.setTimeout(connect, 5000);
      }
    });
  }

  connect();
})();
