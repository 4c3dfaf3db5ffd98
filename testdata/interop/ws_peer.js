// ws_peer.js: a WebSocket peer built on the npm package ws, driven by the
// interop tests of github.com/db7c6739/ws (see interop/doc.go).
//
// Usage: node ws_peer.js
//
// The test drives it with one JSON command per line on stdin and reads one
// JSON event per line on stdout. Every connection has an id chosen by the
// test; a listener has one connection, which takes the listener's id.
//
// Commands ({"cmd": ..., "id": ...}):
//   listen   {opts}             start a server on 127.0.0.1, port 0
//   connect  {url, opts}        open a client connection
//   send     {type, b64}        send a message ("text" or "binary"); text is
//                               sent as raw bytes, so it may be invalid UTF-8
//   sendfrag {type, parts}      send one message as fragments, parts base64
//   ping     {b64}              send a ping
//   close    {code, reason}     start the closing handshake
//   abort    {}                 drop the TCP connection, no close frame
// opts: {protocols: [..], deflate: null | {serverNoContextTakeover,
//   clientNoContextTakeover, serverMaxWindowBits, clientMaxWindowBits},
//   maxSize: bytes (0: the library's default)}
// A server selects the first of its protocols that the client offers.
//
// Events ({"ev": ..., "id": ...}):
//   ready                                        once, at start
//   listening {port}
//   open      {protocol, extensions}             extensions: the agreed
//                                                Sec-WebSocket-Extensions
//   message   {type, len}                        then the message is echoed
//   ping      {b64} / pong {b64}                 control frames received
//   close     {code, reason, clean, sent}        the connection has ended;
//                                                code and reason as received,
//                                                sent: the code ws sent or 0
//   error     {error}                            a command or the socket failed
// The script exits when stdin closes.
'use strict';

const readline = require('readline');
const { WebSocket, WebSocketServer } = require('ws');

const conns = new Map();
const servers = [];

function emit(ev) {
  process.stdout.write(JSON.stringify(ev) + '\n');
}

function deflateOptions(d) {
  if (!d) return false;
  const o = {
    serverNoContextTakeover: !!d.serverNoContextTakeover,
    clientNoContextTakeover: !!d.clientNoContextTakeover,
    threshold: 64,
  };
  if (d.serverMaxWindowBits) o.serverMaxWindowBits = d.serverMaxWindowBits;
  if (d.clientMaxWindowBits) o.clientMaxWindowBits = d.clientMaxWindowBits;
  return o;
}

// ws keeps the close code of a failed connection on its error, under a
// symbol it does not export.
function statusCode(err) {
  const sym = Object.getOwnPropertySymbols(err || {}).find((s) => s.description === 'status-code');
  return sym ? err[sym] : 0;
}

function attach(id, ws, extensions) {
  conns.set(id, ws);
  ws.sentCode = 0;
  emit({ ev: 'open', id, protocol: ws.protocol, extensions: extensions || '' });
  ws.on('message', (data, isBinary) => {
    emit({ ev: 'message', id, type: isBinary ? 'binary' : 'text', len: data.length });
    ws.send(data, { binary: isBinary });
  });
  ws.on('ping', (data) => emit({ ev: 'ping', id, b64: data.toString('base64') }));
  ws.on('pong', (data) => emit({ ev: 'pong', id, b64: data.toString('base64') }));
  ws.on('error', (err) => {
    ws.sentCode = ws.sentCode || statusCode(err);
    emit({ ev: 'error', id, error: String(err && err.message) });
  });
  ws.on('close', (code, reason) => {
    conns.delete(id);
    emit({ ev: 'close', id, code, reason: reason.toString(), clean: code !== 1006, sent: ws.sentCode });
  });
}

function listen(c) {
  const o = c.opts || {};
  const protocols = o.protocols || [];
  const wss = new WebSocketServer({
    host: '127.0.0.1',
    port: 0,
    perMessageDeflate: deflateOptions(o.deflate),
    maxPayload: o.maxSize || undefined,
    handleProtocols: (offered) => protocols.find((p) => offered.has(p)) || false,
  });
  servers.push(wss);
  let extensions = '';
  wss.on('headers', (headers) => {
    for (const h of headers) {
      const m = /^sec-websocket-extensions:\s*(.*)$/i.exec(h);
      if (m) extensions = m[1];
    }
  });
  wss.on('listening', () => emit({ ev: 'listening', id: c.id, port: wss.address().port }));
  wss.on('connection', (ws) => attach(c.id, ws, extensions));
  wss.on('error', (err) => emit({ ev: 'error', id: c.id, error: String(err.message) }));
}

function connect(c) {
  const o = c.opts || {};
  const ws = new WebSocket(c.url, o.protocols || [], {
    perMessageDeflate: deflateOptions(o.deflate),
    maxPayload: o.maxSize || undefined,
  });
  let extensions = '';
  ws.on('upgrade', (res) => {
    extensions = res.headers['sec-websocket-extensions'] || '';
  });
  ws.on('open', () => attach(c.id, ws, extensions));
  ws.on('error', (err) => {
    if (!conns.has(c.id)) emit({ ev: 'error', id: c.id, error: String(err.message) });
  });
}

function handle(c) {
  if (c.cmd === 'listen') return listen(c);
  if (c.cmd === 'connect') return connect(c);
  const ws = conns.get(c.id);
  if (!ws) throw new Error('no connection ' + c.id);
  switch (c.cmd) {
    case 'send':
      // A Buffer sent with binary: false goes out as a text frame as it is:
      // ws does not check outgoing text.
      ws.send(Buffer.from(c.b64, 'base64'), { binary: c.type === 'binary' });
      break;
    case 'sendfrag':
      c.parts.forEach((p, i) => {
        ws.send(Buffer.from(p, 'base64'), {
          binary: c.type === 'binary',
          fin: i === c.parts.length - 1,
        });
      });
      break;
    case 'ping':
      ws.ping(Buffer.from(c.b64, 'base64'));
      break;
    case 'close':
      ws.sentCode = c.code;
      ws.close(c.code, c.reason);
      break;
    case 'abort':
      ws.terminate();
      break;
    default:
      throw new Error('unknown command ' + c.cmd);
  }
}

const rl = readline.createInterface({ input: process.stdin, crlfDelay: Infinity });
rl.on('line', (line) => {
  if (!line.trim()) return;
  let c;
  try {
    c = JSON.parse(line);
    handle(c);
  } catch (err) {
    emit({ ev: 'error', id: c && c.id, error: String(err && err.message) });
  }
});
rl.on('close', () => {
  for (const ws of conns.values()) ws.terminate();
  for (const wss of servers) wss.close();
  process.exit(0);
});
emit({ ev: 'ready' });
