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
  const ws = new WebSocket((location.protocol === 'https:' ? 'wss:' : 'ws:') + '//' + location.host + location.pathname + '/ws' + nameQuery);

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

  ws.onmessage = (e) => {
    let m;
    try {
      m = JSON.parse(e.data);
    } catch {
      return;
    }
    switch (m.type) {
      case "welcome":
        me.textContent = m.name;
        for (const n of m.members || []) members.add(n);
        showMembers();
        status.textContent = "open";
        break;
      case "history":
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
  };
  ws.onclose = (e) => {
    status.textContent = "closed (" + e.code + ")";
    status.title = e.reason;
    input.disabled = sendButton.disabled = true;
    members.clear();
    showMembers();
  };

  function send() {
    const text = input.value;
    if (text.trim() === "" || ws.readyState !== WebSocket.OPEN) return;
    ws.send(JSON.stringify({ type: "message", text }));
    input.value = "";
    input.focus();
  }
  sendButton.addEventListener("click", send);
  input.addEventListener("keydown", (e) => {
    if (e.key === "Enter" && !e.isComposing) {
      e.preventDefault();
      send();
    }
  });
})();
