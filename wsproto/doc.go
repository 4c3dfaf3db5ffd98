// Package wsproto is the WebSocket connection of RFC 6455: messages over a
// net.Conn or an HTTP/2 stream (RFC 8441), for servers and clients, built
// on the frame and handshake packages.
//
// A server behind net/http serves connections with Handler, which
// upgrades each request and runs a function with the *Conn on a goroutine
// of its own; Upgrade does the upgrade alone, in a handler of the
// caller's. A server with a listener of its own upgrades a raw connection
// with UpgradeConn. A client calls Dial with a ws:// or wss:// URL.
//
//	opts := &wsproto.UpgradeOptions{PingInterval: 30 * time.Second}
//	http.Handle("/ws", wsproto.Handler(opts, func(c *wsproto.Conn, r *http.Request) {
//		defer c.CloseNow()
//		ctx := context.Background()
//		var buf []byte
//		for {
//			typ, msg, err := c.ReadMessage(ctx, buf)
//			if err != nil {
//				return // a *CloseError or *ProtocolError says how it ended
//			}
//			if err := c.WriteMessage(ctx, typ, msg); err != nil {
//				return
//			}
//			buf = msg
//		}
//	}))
//
// # Reading
//
// ReadMessage reads a whole message into a buffer the caller passes back in,
// so the steady state allocates nothing; NextReader streams a message
// instead. Control frames are handled inside reads, also between the
// fragments of a message: a ping is answered with a pong at once (see
// SetPingHandler and SetPongHandler), and a close frame is answered and
// ends the connection. Text is checked for UTF-8 as its bytes arrive, so an
// invalid message is refused at the bad byte, not at its end.
//
// A peer that breaks the protocol gets a close frame with the code the RFC
// asks for: 1002 for framing errors (reserved bits or opcodes, a bad
// continuation, an unmasked frame from a client or a masked one from a
// server, a bad close payload), 1007 for invalid UTF-8, 1009 for a message
// over the read limit. The read returns a *ProtocolError with that code,
// which wraps the cause: errors.Is(err, ErrInvalidUTF8) and the like work.
//
// # Limits
//
// A message may be at most DefaultReadLimit (32 MiB) unless ReadLimit or
// SetReadLimit says otherwise; the length a frame announces is checked
// before its payload is read or any room is made for it, and room grows
// with the bytes that arrive, never past the limit, inflated bytes
// included (a deflate bomb costs less than twice the limit through
// ReadMessage, and the decompressor's window through NextReader). The
// handshake is bounded by HandshakeTimeout, the request head of
// UpgradeConn by MaxHeaderBytes, and the response head Dial reads (and a
// proxy's) by MaxResponseHeaderBytes.
//
// # Concurrency
//
// One goroutine may read at a time; a second concurrent read returns
// ErrConcurrentRead (a read that finds Ping or the heartbeat reading for a
// pong waits for it instead). Any number of goroutines may write: WriteMessage and
// NextWriter hold the connection for one message, so messages never
// interleave, while Ping, Pong, Close and the automatic answers to pings
// take it for one frame only, so they go out between the frames of a message
// being streamed. Close and CloseNow may be called from any goroutine.
//
// # Contexts and deadlines
//
// Every blocking read and write takes a context; Close is bounded by the
// close timeout instead. One rule holds for all of them: when the context
// is done, whether it was done when the call began, ended while the call
// waited for its turn to write, or ended mid-frame, the connection is closed
// (code 1006, without a closing handshake: a stream cut mid-frame cannot be
// resumed, and a call that fails one way when early and another when late
// is a trap) and the call returns a *CloseError that matches the context's
// error and its cause under errors.Is. Later calls return the same error.
// A deadline set on NetConn that passes does the same, with a timeout
// error. A context that cannot end, such as context.Background, costs
// nothing; one that can costs a small allocation per call.
//
// # Liveness
//
// A peer can vanish without a word: a phone that lost its network, a
// half-open TCP connection. With PingInterval set (in UpgradeOptions or
// DialOptions), a connection from which nothing has arrived for that long
// sends a ping, and one from which nothing arrives within PingTimeout
// after it is closed; its calls then return a *CloseError with code 1006
// that wraps ErrPingTimeout. This works while the connection is being
// read, while it is only written, and while it is left alone: there is no
// goroutine per connection, only a timer, whose function reads for the
// pong when no one else reads. A connection whose next message waits for
// the application to read it is not failed: it is the application, not
// the peer, that is quiet.
//
// Ping sends a ping and waits for its pong, returning the round-trip time;
// it reads for the pong itself if no read is in progress. A connection
// that only writes can call CloseRead, which reads in a goroutine of its
// own until the connection ends.
//
// # Closing
//
// Close runs the closing handshake of RFC 6455 §7: it sends a close frame,
// waits up to CloseTimeout for the peer's, and closes TCP, the server first.
// When the peer closes, the read that sees it answers with the same code and
// returns a *CloseError holding the peer's code and reason; a connection
// lost without a close frame reports code 1006. After the end, every read
// and write returns an error that matches ErrClosed. No goroutine is left
// behind: the connection starts none of its own.
//
// # Compression
//
// With CompressionOptions in UpgradeOptions or DialOptions, the connection
// negotiates permessage-deflate (RFC 7692) with all four parameters:
// context takeover can be turned off either way, and either window can be
// bounded to 2^8–2^15 bytes. A server accepts the first offer it can honour
// and declines malformed ones; a client fails the handshake with
// ErrExtensionResponse when the answer does not fit its offer.
//
// Messages of at least the threshold are compressed (WriteCompressed
// decides per message); RSV1 marks them, on their first frame only. The
// compressor is the library's own (internal/deflate): it keeps to whatever
// window was agreed and holds 89–137 KiB with a full window (5 KiB with
// the smallest), where compress/flate's costs 1.2 MB. The decompressor is
// the library's own too, 1.7x compress/flate's speed on 1 KiB JSON and
// allocation-free, and pooled. Inflated bytes count against the read limit as
// they are produced, so a small message that would inflate past the limit
// stops there with close 1009; data that is not deflate gets close 1007.
//
// Without context takeover on a side, that side's compressor or
// decompressor is taken from a pool per message and given back, so an idle
// connection holds none. With it, the connection keeps its compressor, or
// the last window of inflated bytes, between messages.
//
// # WebSocket over HTTP/2
//
// Browsers open a WebSocket on the HTTP/2 connection they already have to
// a server when the server offers the extended CONNECT of RFC 8441
// (SETTINGS_ENABLE_CONNECT_PROTOCOL). Upgrade and Handler take such a
// request as they take an HTTP/1.1 upgrade: the same checks (Origin,
// version 13, subprotocols, extensions), answered with 200 instead of
// 101, without Sec-WebSocket-Key or Accept (RFC 8441 §5), and the Conn
// runs on the request's stream; everything above works the same. The
// stream ends with the handler, so a handler that calls Upgrade must not
// return before the Conn is closed; Handler serves the connection on
// net/http's goroutine and returns once it is closed. A Conn that ends
// with a closing handshake ends its side of the stream with END_STREAM
// (RFC 8441 §6; net/http's server then resets the client's side with
// NO_ERROR if it is still open, as RFC 9113 §8.1 allows), one that ends
// without resets the stream (RST_STREAM: CANCEL from the client,
// INTERNAL_ERROR from net/http's server, which lets a handler choose no
// other); other streams on the connection go on.
// Deadlines set on NetConn or Stream are final over HTTP/2: one that
// passes resets the stream.
//
// Go 1.26's net/http offers extended CONNECT only when the process starts
// with GODEBUG=http2xconnect=1 in its environment (golang/go#71128). One
// line in a program turns it on instead:
//
//	import _ "github.com/db7c6739/ws/wsproto/xconnect"
//
// HTTP/2 itself is net/http's: over TLS it is on by default with
// ListenAndServeTLS (or a tls.Config whose NextProtos lists "h2"), and in
// cleartext through http.Server.Protocols (SetUnencryptedHTTP2). A server
// that has not turned extended CONNECT on never sees such a request
// (browsers then use HTTP/1.1); an HTTP/2 request that asks for a
// WebSocket otherwise is refused with 405 and an error that says how to
// turn it on.
//
// A client dials over HTTP/2 with DialOptions.HTTP2Transport, an
// http.RoundTripper that can send the :protocol pseudo-header, such as
// golang.org/x/net/http2.Transport (net/http's Transport cannot): its
// HTTP/2 connections are shared, many WebSockets to one. Where the server
// does not offer extended CONNECT, Dial falls back to HTTP/1.1; the
// response's ProtoMajor says which it used.
//
// # In a browser (GOOS=js, GOARCH=wasm)
//
// A program compiled to WebAssembly gets the same client: Dial opens the
// connection through the browser's WebSocket object (syscall/js), and the
// Conn reads and writes with ReadMessage, NextReader, WriteMessage,
// NextWriter, ReadJSON, WriteJSON, Close, CloseNow, CloseRead, SetReadLimit
// and Subprotocol, with the same contexts, errors and error shapes: a
// close from the server is a *CloseError with the browser's close event's
// code and reason, a message over the read limit a *ProtocolError with
// ErrMessageTooBig. The server side (Upgrade, UpgradeConn, Handler) is not
// built there; frame and handshake are.
//
// The browser decides the rest, and says little:
//   - Dial sends the browser's own request: its Origin, cookies and
//     extensions (it compresses as it likes). DialOptions fields for those,
//     for TLS, proxies, dialing, buffers, the heartbeat and HTTP/2 fail Dial
//     with ErrNotInBrowser rather than being ignored; Subprotocols,
//     ReadLimit, HandshakeTimeout and CloseTimeout are honoured.
//   - A connection that cannot be opened gives ErrDialFailed, with the
//     close event's 1006: the browser does not tell a refused upgrade from
//     an unreachable host.
//   - The browser answers pings and sends none: there are no Ping, Pong or
//     ping and pong handlers, and no heartbeat.
//   - Messages arrive whole (text as a string, binary as an ArrayBuffer,
//     each copied once into the slice ReadMessage returns, text after the
//     browser encoded it to UTF-8; text longer in UTF-16 units than the
//     read limit is refused unconverted); NextWriter
//     buffers a message and sends it at Close. The read limit applies when
//     the program reads: the browser has the message by then.
//   - A page may send only close codes 1000 and 3000–4999 (Close returns
//     ErrCloseCodeNotInBrowser for others); a message over the read limit
//     is closed with 4009, CloseNow sends a close without a code, and a
//     cancelled read closes the connection so.
//   - Writes are queued by the browser; WriteMessage waits, within its
//     context, while more than 16 MiB is unsent.
//   - PreparedMessage, WriteCompressed, Stream, NetConn and the addresses
//     have no browser counterpart and are not built there.
//   - The browser gives no backpressure on reads: messages the program has
//     not read yet wait in a queue, as they would in the page's own
//     WebSocket.
//   - Dial, reads, Close and a write that waits need the browser's events:
//     call them from a goroutine, never directly in a js.FuncOf callback,
//     which holds the browser's event loop until it returns.
//
// # Memory
//
// An idle connection is a Conn of about 640 bytes and holds no pooled
// buffer and no channel: a read at a message boundary lands in a 256-byte
// buffer the Conn owns, larger reads borrow pooled buffers and give them
// back at the end of the message, and writes borrow one for the duration
// of a frame. What only some connections need (a client's masking keys, a
// pong waiting for a writer, pings waiting for pongs, the heartbeat's
// timer, a channel to wait on) is made when first needed. UpgradeConn
// allocates the Conn and nothing else.
//
// Behind net/http, where a connection is served matters more than all of
// that: a handler that calls Upgrade and then serves the connection keeps
// net/http's goroutine, its grown stack and the request's state for as
// long as the connection lives, about 16 KB per idle connection, 12 of
// them heap. Handler serves it on a fresh goroutine and lets net/http's
// end: 3.6 KB, what UpgradeConn's cost (BenchmarkIdleConn, kinds http,
// http-handler and ws).
//
// A server writes a large payload straight from the caller's slice, and
// reads one straight into it. The read loop above keeps no large buffer
// while it waits: a slice that a read allocated, passed back to
// ReadMessage, is held only weakly until the next message begins if it is
// larger than the read buffer, and used for it if the garbage collector
// has not taken it meanwhile (a large buffer of the caller's own is the
// caller's to drop). So a
// connection that once received a 30 MiB message holds, when idle, what
// one that received 100 bytes holds (TestIdleRetention), and a stream of
// large messages still reuses one buffer.
package wsproto
