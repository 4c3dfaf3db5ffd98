// The chat page's client; the protocol is described in the doc comment of
// examples/chat. Every string from the server is shown with textContent,
// never parsed as HTML.
"use strict";
(() => {
  const $ = (id) => document.getElementById(id);
  const status = $("status"), me = $("me"), list = $("messages");
  const input = $("input"), sendButton = $("send"), membersLine = $("members");

  const room = decodeURIComponent(location.pathname.split("/")[2] || "");
  $("room").textContent = room;
  document.title = room + " · chat";

  // ?name= of this page's URL is passed on; without it the server picks one.
  const name = (new URLSearchParams(location.search).get("name") || "").trim();
  const nameQuery = name ? "?name=" + encodeURIComponent(name) : "";
  const url = (location.protocol === 'https:' ? 'wss:' : 'ws:') + '//' + location.host + location.pathname + '/ws' + nameQuery;
  let ws = null;

  const members = new Set();
  function showMembers() {
    membersLine.textContent = members.size ? "here: " + [...members].sort().join(", ") : "";
  }

  function append(li) {
    const atBottom = list.scrollHeight - list.scrollTop - list.clientHeight < 40;
    list.append(li);
    if (atBottom) list.scrollTop = list.scrollHeight;
  }

  // A message's textContent is exactly "NAME: TEXT", or "NAME [api]: TEXT"
  // for one posted through the HTTP API; its time is a tooltip.
  function showMessage(m) {
    const li = document.createElement("li");
    li.className = "message";
    const who = document.createElement("span");
    who.className = "name";
    who.textContent = m.name;
    li.append(who);
    if (m.via === "api") {
      const via = document.createElement("span");
      via.className = "via";
      via.textContent = " [api]";
      li.append(via);
    }
    li.append(": " + m.text);
    if (m.time) li.title = new Date(m.time).toLocaleString();
    append(li);
  }

  function showLine(className, text) {
    const li = document.createElement("li");
    li.className = className;
    li.textContent = text;
    append(li);
  }

  // A connection that ends for a reason that may pass (the server went
  // away, the network broke, the chat was unavailable) is opened again, to
  // the same URL, after a delay that doubles from half a second up to 10
  // seconds, with jitter so that the members of a server that died do not
  // all come back at once. One refused for good is not: 1000, 1009, 1011,
  // and 1008 for a name the server refuses (a client dropped for being
  // too slow, also 1008, tries again).
  const final = (e) => [1000, 1009, 1011].includes(e.code) || (e.code === 1008 && e.reason.startsWith("name:"));
  let failures = 0;

  function connect() {
    ws = new WebSocket(url);
    ws.onmessage = onMessage;
    ws.onclose = onClose;
  }

  function onMessage(e) {
    let m;
    try {
      m = JSON.parse(e.data);
    } catch {
      return;
    }
    switch (m.type) {
      case "welcome":
        failures = 0;
        me.textContent = m.name;
        members.clear();
        for (const n of m.members || []) members.add(n);
        showMembers();
        status.textContent = "open";
        status.title = "";
        input.disabled = sendButton.disabled = false;
        break;
      case "history":
        // After a reconnection the history replaces what was shown.
        list.replaceChildren();
        for (const h of m.messages || []) showMessage(h);
        break;
      case "message":
        showMessage(m);
        break;
      case "join":
        members.add(m.name);
        showMembers();
        showLine("notice", m.name + " joined");
        break;
      case "leave":
        members.delete(m.name);
        showMembers();
        showLine("notice", m.name + " left");
        break;
      case "error":
        showLine("error", m.text);
        break;
    }
  }

  function onClose(e) {
    status.title = e.reason;
    input.disabled = sendButton.disabled = true;
    members.clear();
    showMembers();
    if (final(e)) {
      status.textContent = "closed (" + e.code + ")";
      return;
    }
    const delay = Math.min(10000, 500 * 2 ** failures++) * (0.5 + Math.random() / 2);
    status.textContent = "closed (" + e.code + "), reconnecting in " + (delay / 1000).toFixed(1) + " s";
    setTimeout(connect, delay);
  }

  function send() {
    const text = input.value;
    if (text.trim() === "" || ws.readyState !== WebSocket.OPEN) return;
    ws.send(JSON.stringify({ type: "message", text }));
    input.value = "";
    input.focus();
  }
  sendButton.addEventListener("click", send);
  connect();
  input.addEventListener("keydown", (e) => {
    if (e.key === "Enter" && !e.isComposing) {
      e.preventDefault();
      send();
    }
  });
})();
