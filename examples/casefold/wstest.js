// The page of the casefold example: sends what is typed, lists the answers.
// Text from the server is shown with textContent only.
'use strict';

(function () {
  const input = document.getElementById('input');
  const send = document.getElementById('send');
  const responses = document.getElementById('responses');
  const status = document.getElementById('status');

  const url = (location.protocol === 'https:' ? 'wss:' : 'ws:') + '//' + location.host + '/ws';
  const ws = new WebSocket(url);
  status.textContent = 'connecting';
  send.disabled = true;

  ws.addEventListener('open', function () {
    status.textContent = 'open';
    send.disabled = false;
  });
  ws.addEventListener('message', function (e) {
    const li = document.createElement('li');
    li.textContent = e.data;
    responses.appendChild(li);
  });
  ws.addEventListener('close', function (e) {
    status.textContent = 'closed (' + e.code + ')';
    send.disabled = true;
  });

  function submit() {
    if (ws.readyState !== WebSocket.OPEN || input.value === '') {
      return;
    }
    ws.send(input.value);
    input.value = '';
    input.focus();
  }
  send.addEventListener('click', submit);
  input.addEventListener('keydown', function (e) {
    if (e.key === 'Enter' && !e.isComposing) {
      e.preventDefault();
      submit();
    }
  });
})();
