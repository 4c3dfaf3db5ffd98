"use strict";

// Chat roulette client. Everything the partner sends is shown with
// textContent, never as HTML.
const statusEl = document.getElementById("status");
const input = document.getElementById("input");
const sendButton = document.getElementById("send");
const nextButton = document.getElementById("next");
const messages = document.getElementById("messages");

const ws = new WebSocket((location.protocol === 'https:' ? 'wss:' : 'ws:') + '//' + location.host + '/ws');
let paired = false;

function setPaired(p) {
  paired = p;
  sendButton.disabled = !p;
}

function show(className, text) {
  const li = document.createElement("li");
  li.className = className;
  li.textContent = text;
  messages.append(li);
  li.scrollIntoView({ block: "nearest" });
}

ws.onmessage = (e) => {
  let m;
  try {
    m = JSON.parse(e.data);
  } catch {
    return;
  }
  switch (m.type) {
    case "waiting":
      statusEl.textContent = "waiting for a partner";
      setPaired(false);
      break;
    case "paired":
      statusEl.textContent = "paired";
      setPaired(true);
      show("notice", "paired with a new partner");
      break;
    case "left":
      // "waiting" or "paired" follows and sets the status.
      setPaired(false);
      show("notice", "partner left");
      break;
    case "message":
      show("partner", "partner: " + m.text);
      break;
  }
};

ws.onclose = (e) => {
  statusEl.textContent = "closed (" + e.code + ")";
  setPaired(false);
  nextButton.disabled = true;
};

function send() {
  const text = input.value;
  if (!paired || text === "" || ws.readyState !== WebSocket.OPEN) {
    return;
  }
  ws.send(JSON.stringify({ type: "message", text: text }));
  show("me", "you: " + text);
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
nextButton.addEventListener("click", () => {
  if (ws.readyState === WebSocket.OPEN) {
    ws.send(JSON.stringify({ type: "next" }));
  }
});
