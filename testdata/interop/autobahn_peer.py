"""autobahn_peer.py: a WebSocket peer built on Autobahn|Python (Debian's
python3-autobahn 22.7, on asyncio), driven by the interop tests of
github.com/db7c6739/ws (see interop/doc.go).

Usage: python3 autobahn_peer.py

The test drives it with one JSON command per line on stdin and reads one
JSON event per line on stdout. Every connection has an id chosen by the
test; a listener has one connection, which takes the listener's id.

Commands ({"cmd": ..., "id": ...}):
  listen   {opts}             start a server on 127.0.0.1, port 0
  connect  {url, opts}        open a client connection
  send     {type, b64}        send a message ("text" or "binary"); Autobahn
                              does not check outgoing text
  sendfrag {type, parts}      send one message as fragments (parts base64),
                              with beginMessage / sendMessageFrame / endMessage
  ping     {b64}              send a ping
  close    {code, reason}     start the closing handshake; sendClose only
                              takes 1000 and 3000-4999, so other codes go
                              through sendCloseFrame, its lower-level half
  abort    {}                 drop the TCP connection, no close frame
opts: {protocols: [..], deflate: null | {serverNoContextTakeover,
  clientNoContextTakeover, serverMaxWindowBits, clientMaxWindowBits},
  maxSize: bytes (0: no limit)}
A server selects the first of its protocols that the client offers.

Events ({"ev": ..., "id": ...}):
  ready                                        once, at start
  listening {port}
  open      {protocol, extensions}             extensions: the agreed
                                               Sec-WebSocket-Extensions (a
                                               server reports its
                                               permessage-deflate settings)
  message   {type, len}                        then the message is echoed
  ping      {b64} / pong {b64}                 control frames received
  close     {code, reason, clean, sent}        the connection has ended;
                                               code and reason as received,
                                               sent: the code we sent or 0
  error     {error}                            a command failed
The script exits when stdin closes.
"""

import asyncio
import base64
import json
import sys

from autobahn.asyncio.websocket import (
    WebSocketClientFactory,
    WebSocketClientProtocol,
    WebSocketServerFactory,
    WebSocketServerProtocol,
)
from autobahn.websocket.compress import (
    PerMessageDeflateOffer,
    PerMessageDeflateOfferAccept,
    PerMessageDeflateResponseAccept,
)

conns = {}
servers = []


def emit(ev):
    sys.stdout.write(json.dumps(ev) + "\n")
    sys.stdout.flush()


def b64(data):
    return base64.b64encode(data).decode()


class Peer:
    """What the server and the client protocol share: echo and report."""

    cid = None

    def report_open(self, extensions):
        conns[self.cid] = self
        emit({"ev": "open", "id": self.cid, "protocol": self.websocket_protocol_in_use or "",
              "extensions": extensions})

    def onMessage(self, payload, isBinary):
        emit({"ev": "message", "id": self.cid, "type": "binary" if isBinary else "text",
              "len": len(payload)})
        self.sendMessage(payload, isBinary)

    def onPing(self, payload):
        super().onPing(payload)
        emit({"ev": "ping", "id": self.cid, "b64": b64(payload)})

    def onPong(self, payload):
        emit({"ev": "pong", "id": self.cid, "b64": b64(payload)})

    def onClose(self, wasClean, code, reason):
        if self.cid is None:  # the handshake failed: report it all the same
            self.cid = self.factory.cid
        conns.pop(self.cid, None)
        emit({"ev": "close", "id": self.cid, "code": code, "reason": reason or "",
              "clean": bool(wasClean), "sent": self.localCloseCode or 0})


class ServerPeer(Peer, WebSocketServerProtocol):
    def onConnect(self, request):
        self.cid = self.factory.cid
        return next((p for p in self.factory.protocols if p in request.protocols), None)

    def onOpen(self):
        ext = ""
        for e in self.websocket_extensions_in_use:
            ext = "permessage-deflate " + json.dumps(e.__json__())
        self.report_open(ext)


class ClientPeer(Peer, WebSocketClientProtocol):
    def onOpen(self):
        self.cid = self.factory.cid
        self.report_open(self.http_headers.get("sec-websocket-extensions", ""))


def common_options(opts):
    return {
        "maxMessagePayloadSize": opts.get("maxSize") or 0,
        "failByDrop": False,  # send close 1009 and friends rather than drop TCP
        "closeHandshakeTimeout": 2,
    }


def listen(c):
    opts = c.get("opts") or {}
    f = WebSocketServerFactory()
    f.protocol = ServerPeer
    f.cid = c["id"]
    f.protocols = opts.get("protocols") or []
    kw = common_options(opts)
    d = opts.get("deflate")
    if d is not None:
        def accept(offers):
            for o in offers:
                if isinstance(o, PerMessageDeflateOffer):
                    want_client_bits = d.get("clientMaxWindowBits") or 0
                    if want_client_bits and not o.accept_max_window_bits:
                        want_client_bits = 0
                    return PerMessageDeflateOfferAccept(
                        o,
                        request_no_context_takeover=bool(d.get("clientNoContextTakeover")),
                        request_max_window_bits=want_client_bits,
                        no_context_takeover=True if d.get("serverNoContextTakeover") else None,
                        window_bits=d.get("serverMaxWindowBits") or None,
                    )
            return None
        kw["perMessageCompressionAccept"] = accept
    f.setProtocolOptions(**kw)

    async def start():
        server = await asyncio.get_running_loop().create_server(f, "127.0.0.1", 0)
        servers.append(server)
        emit({"ev": "listening", "id": c["id"], "port": server.sockets[0].getsockname()[1]})
    return start()


def connect(c):
    opts = c.get("opts") or {}
    f = WebSocketClientFactory(c["url"], protocols=opts.get("protocols") or [])
    f.protocol = ClientPeer
    f.cid = c["id"]
    kw = common_options(opts)
    d = opts.get("deflate")
    if d is not None:
        kw["perMessageCompressionOffers"] = [PerMessageDeflateOffer(
            # True puts client_no_context_takeover in the offer.
            accept_no_context_takeover=bool(d.get("clientNoContextTakeover")),
            accept_max_window_bits=True,
            request_no_context_takeover=bool(d.get("serverNoContextTakeover")),
            request_max_window_bits=d.get("serverMaxWindowBits") or 0,
        )]
        kw["perMessageCompressionAccept"] = lambda resp: PerMessageDeflateResponseAccept(
            resp,
            no_context_takeover=True if d.get("clientNoContextTakeover") else None,
            window_bits=d.get("clientMaxWindowBits") or None,
        )
    f.setProtocolOptions(**kw)

    async def start():
        await asyncio.get_running_loop().create_connection(f, f.host, f.port)
    return start()


def command(c):
    cmd = c["cmd"]
    if cmd == "listen":
        return listen(c)
    if cmd == "connect":
        return connect(c)
    p = conns[c["id"]]
    if cmd == "send":
        p.sendMessage(base64.b64decode(c["b64"]), c["type"] == "binary")
    elif cmd == "sendfrag":
        p.beginMessage(isBinary=c["type"] == "binary")
        for part in c["parts"]:
            p.sendMessageFrame(base64.b64decode(part))
        p.endMessage()
    elif cmd == "ping":
        p.sendPing(base64.b64decode(c["b64"]))
    elif cmd == "close":
        code, reason = c["code"], c.get("reason") or ""
        if code == 1000 or 3000 <= code <= 4999:
            p.sendClose(code, reason)
        else:
            p.sendCloseFrame(code, reason.encode(), isReply=False)
    elif cmd == "abort":
        p.transport.abort()
    else:
        raise ValueError("unknown command " + cmd)
    return None


async def run(c):
    try:
        co = command(c)
        if co is not None:
            await co
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
    for p in list(conns.values()):
        p.transport.abort()
    for s in servers:
        s.close()


if __name__ == "__main__":
    asyncio.run(main())
