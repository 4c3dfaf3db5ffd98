"""websockets_peer.py: a WebSocket peer built on the Python package
websockets (Debian's python3-websockets 10.4, its asyncio API), driven by
the interop tests of github.com/db7c6739/ws (see interop/doc.go).

Usage: python3 websockets_peer.py

The test drives it with one JSON command per line on stdin and reads one
JSON event per line on stdout. Every connection has an id chosen by the
test; a listener has one connection, which takes the listener's id.

Commands ({"cmd": ..., "id": ...}):
  listen   {opts}             start a server on 127.0.0.1, port 0
  connect  {url, opts}        open a client connection
  send     {type, b64}        send a message ("text" or "binary"); text that
                              is not UTF-8 goes out through write_frame, the
                              lowest-level send, which does not check it
  sendfrag {type, parts}      send one message as fragments (parts base64;
                              websockets sends an iterable as fragments)
  ping     {b64}              send a ping; its pong is reported
  close    {code, reason}     start the closing handshake
  abort    {}                 drop the TCP connection, no close frame
opts: {protocols: [..], deflate: null | {serverNoContextTakeover,
  clientNoContextTakeover, serverMaxWindowBits, clientMaxWindowBits},
  maxSize: bytes (0: no limit)}
A server selects the first of its protocols that the client offers.

Events ({"ev": ..., "id": ...}):
  ready                                        once, at start
  listening {port}
  open      {protocol, extensions}             extensions: the agreed
                                               Sec-WebSocket-Extensions
  message   {type, len}                        then the message is echoed
  pong      {b64}                              the answer to our ping
  close     {code, reason, clean, sent}        the connection has ended;
                                               code and reason as received,
                                               sent: the code we sent or 0
  error     {error}                            a command failed
(websockets answers pings itself and does not report them.)
The script exits when stdin closes.
"""

import asyncio
import base64
import json
import sys

import websockets
from websockets.exceptions import ConnectionClosed
from websockets.extensions.permessage_deflate import (
    ClientPerMessageDeflateFactory,
    ServerPerMessageDeflateFactory,
)

OP_TEXT = 0x1

conns = {}
servers = []


def emit(ev):
    sys.stdout.write(json.dumps(ev) + "\n")
    sys.stdout.flush()


def common_options(opts):
    return {
        "subprotocols": opts.get("protocols") or None,
        "compression": None,
        "max_size": opts.get("maxSize") or None,
        "ping_interval": None,
    }


async def serve_conn(cid, ws, extensions):
    conns[cid] = ws
    emit({"ev": "open", "id": cid, "protocol": ws.subprotocol or "",
          "extensions": extensions or ""})
    try:
        async for msg in ws:
            kind = "text" if isinstance(msg, str) else "binary"
            n = len(msg.encode()) if kind == "text" else len(msg)
            emit({"ev": "message", "id": cid, "type": kind, "len": n})
            await ws.send(msg)
    except ConnectionClosed:
        pass
    await ws.wait_closed()
    conns.pop(cid, None)
    emit({"ev": "close", "id": cid, "code": ws.close_code,
          "reason": ws.close_reason or "", "clean": ws.close_code != 1006,
          "sent": ws.close_sent.code if ws.close_sent else 0})


async def listen(c):
    opts = c.get("opts") or {}
    protocols = opts.get("protocols") or []
    kw = common_options(opts)
    d = opts.get("deflate")
    if d is not None:
        kw["extensions"] = [ServerPerMessageDeflateFactory(
            server_no_context_takeover=bool(d.get("serverNoContextTakeover")),
            client_no_context_takeover=bool(d.get("clientNoContextTakeover")),
            server_max_window_bits=d.get("serverMaxWindowBits") or None,
            client_max_window_bits=d.get("clientMaxWindowBits") or None,
        )]

    def select(offered, _ours):
        return next((p for p in protocols if p in offered), None)

    async def handler(ws, _path=None):
        ext = ws.response_headers.get("Sec-WebSocket-Extensions", "")
        await serve_conn(c["id"], ws, ext)

    server = await websockets.serve(handler, "127.0.0.1", 0,
                                    select_subprotocol=select, **kw)
    servers.append(server)
    port = server.sockets[0].getsockname()[1]
    emit({"ev": "listening", "id": c["id"], "port": port})


async def connect(c):
    opts = c.get("opts") or {}
    kw = common_options(opts)
    d = opts.get("deflate")
    if d is not None:
        kw["extensions"] = [ClientPerMessageDeflateFactory(
            server_no_context_takeover=bool(d.get("serverNoContextTakeover")),
            client_no_context_takeover=bool(d.get("clientNoContextTakeover")),
            server_max_window_bits=d.get("serverMaxWindowBits") or None,
            client_max_window_bits=d.get("clientMaxWindowBits") or True,
        )]
    ws = await websockets.connect(c["url"], **kw)
    ext = ws.response_headers.get("Sec-WebSocket-Extensions", "")
    await serve_conn(c["id"], ws, ext)


def payload(c, b64):
    data = base64.b64decode(b64)
    return data if c["type"] == "binary" else data.decode()


async def command(c):
    cmd = c["cmd"]
    if cmd == "listen":
        return await listen(c)
    if cmd == "connect":
        return await connect(c)
    ws = conns[c["id"]]
    if cmd == "send":
        try:
            await ws.send(payload(c, c["b64"]))
        except UnicodeDecodeError:
            await ws.write_frame(True, OP_TEXT, base64.b64decode(c["b64"]))
    elif cmd == "sendfrag":
        await ws.send([payload(c, p) for p in c["parts"]])
    elif cmd == "ping":
        data = base64.b64decode(c["b64"])
        await (await ws.ping(data))
        emit({"ev": "pong", "id": c["id"], "b64": c["b64"]})
    elif cmd == "close":
        await ws.close(c["code"], c.get("reason") or "")
    elif cmd == "abort":
        ws.transport.abort()
    else:
        raise ValueError("unknown command " + cmd)


async def run(c):
    try:
        await command(c)
    except Exception as e:  # reported to the test, which decides
        emit({"ev": "error", "id": c.get("id"), "error": repr(e)})


async def main():
    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader(limit=1 << 26)
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
    tasks = set()
    emit({"ev": "ready"})
    while True:
        line = await reader.readline()
        if not line:
            break
        if not line.strip():
            continue
        t = asyncio.ensure_future(run(json.loads(line)))
        tasks.add(t)
        t.add_done_callback(tasks.discard)
    for ws in list(conns.values()):
        ws.transport.abort()
    for s in servers:
        s.close()


if __name__ == "__main__":
    asyncio.run(main())
