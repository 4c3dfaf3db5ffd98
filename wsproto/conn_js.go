//go:build js

package wsproto

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"sync"
	"sync/atomic"
	"syscall/js"
	"time"
	"unicode/utf8"

	"github.com/db7c6739/ws/frame"
)

// In a browser (GOOS=js), a Conn is the browser's own WebSocket object: the
// browser opens the connection, masks, compresses, answers pings and runs
// the closing handshake. What a page cannot decide, these do not offer.

var (
	// ErrNotInBrowser is matched by the error Dial returns, in a browser,
	// for a DialOptions field that the browser decides and a page cannot
	// set: Header, Origin, Host, Jar, TLSConfig, Proxy, NetDialContext,
	// NetDialTLSContext, MaxResponseHeaderBytes, ReadBufferSize,
	// WriteBufferSize, PingInterval, PingTimeout, Compression and
	// HTTP2Transport.
	ErrNotInBrowser = errors.New("wsproto: the browser decides this; a page cannot set it")
	// ErrDialFailed is matched by the error Dial returns, in a browser, when
	// the browser could not open the WebSocket. The browser does not say
	// why (a refused upgrade, an unreachable host and a failed TLS
	// handshake look alike to a page, on purpose), only the close event's
	// code (1006) the error holds.
	ErrDialFailed = errors.New("wsproto: the browser could not open the WebSocket")
	// ErrCloseCodeNotInBrowser is returned by Close, in a browser, for a
	// code other than 1000 and 3000–4999, which are all a page may send.
	ErrCloseCodeNotInBrowser = errors.New("wsproto: a browser sends only close codes 1000 and 3000-4999")
)

// closeTooBigInBrowser is the close code a Conn in a browser sends for a
// message over its read limit: a page may not send 1009, so it sends the
// private-use code 4000+1009-1000.
const closeTooBigInBrowser = 4009

// maxBuffered is how much the browser may hold unsent before a write waits.
const maxBuffered = 16 << 20

// Conn is a WebSocket connection; in a browser, the browser's WebSocket
// object. Its methods may be called from any goroutine, one reader at a
// time.
type Conn struct {
	ws           js.Value
	subprotocol  string
	closeTimeout time.Duration
	readLimit    atomic.Int64
	reading      atomic.Bool
	funcs        []js.Func

	mu      sync.Mutex
	queue   []received    // arrived, not yet read, oldest first
	notify  chan struct{} // a message arrived or the connection ended
	ended   chan struct{} // closed with the close event
	closeEv *CloseError   // the close event, set before ended is closed
	readErr error         // what every read returns once one failed
	closing bool          // Close or CloseNow was called
}

// received is a message as the browser gave it: a string or an ArrayBuffer,
// converted when it is read.
type received struct {
	typ  MessageType
	data js.Value
}

// Dial opens a WebSocket to rawURL (ws:// or wss://) through the browser's
// WebSocket object, offering opts.Subprotocols. ctx and
// opts.HandshakeTimeout bound the opening. The browser sends its own
// request: its Origin, its cookies, its extensions (permessage-deflate in
// Chromium and Firefox), and answers pings itself. Fields of opts that it
// decides fail Dial with an error matching ErrNotInBrowser; ReadLimit,
// CloseTimeout and HandshakeTimeout are honoured.
//
// The response is what the browser tells of it: status 101, and the
// Sec-WebSocket-Protocol and Sec-WebSocket-Extensions it agreed to. A
// failure to connect matches ErrDialFailed and wraps the close event.
func Dial(ctx context.Context, rawURL string, opts *DialOptions) (*Conn, *http.Response, error) {
	if opts == nil {
		opts = &DialOptions{}
	}
	if err := checkBrowserOptions(opts); err != nil {
		return nil, nil, err
	}
	u, err := url.Parse(rawURL)
	if err != nil {
		return nil, nil, fmt.Errorf("wsproto: %w", err)
	}
	if u.Scheme != "ws" && u.Scheme != "wss" {
		return nil, nil, fmt.Errorf("wsproto: URL scheme %q: want ws or wss", u.Scheme)
	}
	ctor := js.Global().Get("WebSocket")
	if ctor.Type() != js.TypeFunction {
		return nil, nil, errors.New("wsproto: no WebSocket in this JavaScript environment")
	}
	protocols := make([]any, len(opts.Subprotocols))
	for i, p := range opts.Subprotocols {
		protocols[i] = p
	}
	ws, err := jsCall(func() js.Value { return ctor.New(u.String(), protocols) })
	if err != nil {
		return nil, nil, fmt.Errorf("wsproto: %w", err)
	}
	ws.Set("binaryType", "arraybuffer")

	c := &Conn{ws: ws, closeTimeout: opts.CloseTimeout, notify: make(chan struct{}, 1), ended: make(chan struct{})}
	if c.closeTimeout <= 0 {
		c.closeTimeout = DefaultCloseTimeout
	}
	c.readLimit.Store(opts.ReadLimit)
	if opts.ReadLimit == 0 {
		c.readLimit.Store(DefaultReadLimit)
	}
	opened := make(chan struct{})
	c.on("open", func(js.Value) { close(opened) })
	c.on("message", c.onMessage)
	c.on("close", c.onClose)

	timeout := opts.HandshakeTimeout
	if timeout <= 0 {
		timeout = DefaultHandshakeTimeout
	}
	timer := time.NewTimer(timeout)
	defer timer.Stop()
	select {
	case <-opened:
	case <-c.ended:
		return nil, nil, fmt.Errorf("%w: %w", ErrDialFailed, c.closeEv)
	case <-ctx.Done():
		c.abandon()
		return nil, nil, fmt.Errorf("wsproto: dial: %w", ctx.Err())
	case <-timer.C:
		c.abandon()
		return nil, nil, fmt.Errorf("wsproto: dial: handshake timeout: %w", context.DeadlineExceeded)
	}
	c.subprotocol = ws.Get("protocol").String()
	resp := &http.Response{
		Status: "101 Switching Protocols", StatusCode: http.StatusSwitchingProtocols,
		Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1,
		Header: http.Header{},
	}
	if c.subprotocol != "" {
		resp.Header.Set("Sec-WebSocket-Protocol", c.subprotocol)
	}
	if ext := ws.Get("extensions").String(); ext != "" {
		resp.Header.Set("Sec-WebSocket-Extensions", ext)
	}
	return c, resp, nil
}

// checkBrowserOptions refuses the fields of opts a page cannot set.
func checkBrowserOptions(o *DialOptions) error {
	for _, f := range []struct {
		name string
		set  bool
	}{
		{"Header", len(o.Header) > 0},
		{"Origin", o.Origin != ""},
		{"Host", o.Host != ""},
		{"Jar", o.Jar != nil},
		{"TLSConfig", o.TLSConfig != nil},
		{"Proxy", o.Proxy != nil},
		{"NetDialContext", o.NetDialContext != nil},
		{"NetDialTLSContext", o.NetDialTLSContext != nil},
		{"MaxResponseHeaderBytes", o.MaxResponseHeaderBytes != 0},
		{"ReadBufferSize", o.ReadBufferSize != 0},
		{"WriteBufferSize", o.WriteBufferSize != 0},
		{"PingInterval", o.PingInterval != 0},
		{"PingTimeout", o.PingTimeout != 0},
		{"Compression", o.Compression != nil},
		{"HTTP2Transport", o.HTTP2Transport != nil},
	} {
		if f.set {
			return fmt.Errorf("wsproto: DialOptions.%s: %w", f.name, ErrNotInBrowser)
		}
	}
	return nil
}

// on sets the WebSocket's handler of event to f. The handlers run on the
// browser's event loop and must not block.
func (c *Conn) on(event string, f func(ev js.Value)) {
	fn := js.FuncOf(func(_ js.Value, args []js.Value) any {
		f(args[0])
		return nil
	})
	c.funcs = append(c.funcs, fn)
	c.ws.Set("on"+event, fn)
}

func (c *Conn) onMessage(ev js.Value) {
	data := ev.Get("data")
	typ := MessageBinary
	if data.Type() == js.TypeString {
		typ = MessageText
	}
	c.mu.Lock()
	// Once reads have failed, or the connection is closing with no read
	// under way, what arrives is dropped, as natively: nothing would
	// read it.
	if c.readErr == nil && (!c.closing || c.reading.Load()) {
		c.queue = append(c.queue, received{typ, data})
	}
	c.mu.Unlock()
	c.wake()
}

func (c *Conn) onClose(ev js.Value) {
	ce := &CloseError{Code: CloseCode(ev.Get("code").Int()), Reason: ev.Get("reason").String()}
	if ce.Code == CloseAbnormalClosure {
		ce.Err = errors.New("the browser reports the connection lost, without saying why")
	}
	c.mu.Lock()
	c.closeEv = ce
	c.mu.Unlock()
	close(c.ended)
	c.wake()
	for _, name := range []string{"onopen", "onmessage", "onclose"} {
		c.ws.Set(name, js.Null())
	}
	for _, fn := range c.funcs {
		fn.Release()
	}
}

func (c *Conn) wake() {
	select {
	case c.notify <- struct{}{}:
	default:
	}
}

// abandon closes a WebSocket that Dial gives up on.
func (c *Conn) abandon() {
	c.mu.Lock()
	c.closing = true
	c.mu.Unlock()
	_, _ = jsCall(func() js.Value { return c.ws.Call("close") })
}

// jsCall runs f, turning a JavaScript exception into an error.
func jsCall(f func() js.Value) (v js.Value, err error) {
	defer func() {
		if r := recover(); r != nil {
			if jerr, ok := r.(js.Error); ok {
				err = jerr
				return
			}
			panic(r)
		}
	}()
	return f(), nil
}

// Subprotocol returns the subprotocol the server chose, or "".
func (c *Conn) Subprotocol() string { return c.subprotocol }

// SetReadLimit sets the largest message, in bytes, that reads accept; a
// larger one fails the connection with a *ProtocolError of code 1009 and
// ErrMessageTooBig. A browser may not send 1009: the close frame carries
// 4009 instead. A limit of 0 or less removes it. The browser has received
// the message whole by then: the limit bounds what the program takes, not
// what the browser holds.
func (c *Conn) SetReadLimit(n int64) { c.readLimit.Store(n) }

// ReadMessage reads the next data message whole, appending it to dst[:0].
// Text arrives from the browser as a string and binary as an ArrayBuffer,
// each copied once into dst. It blocks until a message arrives, ctx is done
// or the connection ends; cancellation closes the connection. A close from
// the peer returns its *CloseError, with the code and reason of the
// browser's close event. Once a read has failed, every later read returns
// the same error.
func (c *Conn) ReadMessage(ctx context.Context, dst []byte) (MessageType, []byte, error) {
	if !c.reading.CompareAndSwap(false, true) {
		return 0, nil, ErrConcurrentRead
	}
	defer c.reading.Store(false)
	for {
		c.mu.Lock()
		if c.readErr != nil {
			err := c.readErr
			c.mu.Unlock()
			return 0, nil, err
		}
		if len(c.queue) > 0 {
			m := c.queue[0]
			c.queue[0] = received{}
			c.queue = c.queue[1:]
			c.mu.Unlock()
			return c.take(m, dst)
		}
		if c.closeEv != nil {
			c.readErr = c.closeEv
			c.mu.Unlock()
			continue
		}
		c.mu.Unlock()
		select {
		case <-c.notify:
		case <-ctx.Done():
			c.mu.Lock()
			if c.readErr == nil {
				c.readErr = &CloseError{Code: CloseAbnormalClosure, Err: ctx.Err()}
			}
			c.mu.Unlock()
			_ = c.CloseNow()
			return 0, nil, c.failed()
		}
	}
}

func (c *Conn) failed() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.readErr
}

// take converts m into dst, within the read limit.
func (c *Conn) take(m received, dst []byte) (MessageType, []byte, error) {
	limit := c.readLimit.Load()
	if m.typ == MessageBinary {
		n := m.data.Get("byteLength").Int()
		if limit > 0 && int64(n) > limit {
			return 0, nil, c.tooBig()
		}
		dst = grow(dst[:0], n)
		js.CopyBytesToGo(dst, js.Global().Get("Uint8Array").New(m.data))
		return MessageBinary, dst, nil
	}
	// A string's length counts UTF-16 units, each at least one byte of
	// UTF-8: past the limit, the text is refused unconverted. Otherwise
	// the browser encodes it to UTF-8 and it is copied once into dst.
	if limit > 0 && int64(jsObject.Invoke(m.data).Get("length").Int()) > limit {
		return 0, nil, c.tooBig()
	}
	encoded := textEncoder().Call("encode", m.data)
	n := encoded.Get("byteLength").Int()
	if limit > 0 && int64(n) > limit {
		return 0, nil, c.tooBig()
	}
	dst = grow(dst[:0], n)
	js.CopyBytesToGo(dst, encoded)
	return MessageText, dst, nil
}

var (
	jsObject = js.Global().Get("Object")
	encoder  js.Value
	encOnce  sync.Once
)

// textEncoder returns the browser's TextEncoder, made once.
func textEncoder() js.Value {
	encOnce.Do(func() { encoder = js.Global().Get("TextEncoder").New() })
	return encoder
}

func grow(b []byte, n int) []byte {
	if cap(b) < n {
		return make([]byte, n)
	}
	return b[:n]
}

func (c *Conn) tooBig() error {
	err := &ProtocolError{Code: CloseMessageTooBig, Err: ErrMessageTooBig}
	c.mu.Lock()
	if c.readErr == nil {
		c.readErr = err
	}
	first := !c.closing
	c.closing = true
	c.mu.Unlock()
	if first {
		_, _ = jsCall(func() js.Value { return c.ws.Call("close", closeTooBigInBrowser, "message exceeds the read limit") })
	}
	return c.failed()
}

// NextReader reads the next data message, as ReadMessage, and returns a
// reader of it: the browser delivers messages whole.
func (c *Conn) NextReader(ctx context.Context) (MessageType, io.Reader, error) {
	typ, p, err := c.ReadMessage(ctx, nil)
	if err != nil {
		return 0, nil, err
	}
	return typ, bytes.NewReader(p), nil
}

// WriteMessage sends p as one message of type typ. Text must be valid
// UTF-8 (ErrInvalidUTF8), since the browser sends a string. The browser
// queues what it is given; WriteMessage waits, within ctx, while it holds
// more than 16 MiB unsent. Unlike a native Conn, a ctx that ends first
// returns its error without closing the connection: the browser takes a
// message whole or not at all, so none is cut short. Once the connection
// is closing it returns ErrClosed, or the peer's *CloseError.
func (c *Conn) WriteMessage(ctx context.Context, typ MessageType, p []byte) error {
	if typ != MessageText && typ != MessageBinary {
		return ErrBadMessageType
	}
	if typ == MessageText && !utf8.Valid(p) {
		return ErrInvalidUTF8
	}
	for c.ws.Get("bufferedAmount").Int() > maxBuffered {
		if err := c.writable(); err != nil {
			return err
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-c.ended:
		case <-time.After(10 * time.Millisecond):
		}
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := c.writable(); err != nil {
		return err
	}
	var data any
	if typ == MessageText {
		data = string(p)
	} else {
		a := js.Global().Get("Uint8Array").New(len(p))
		js.CopyBytesToJS(a, p)
		data = a
	}
	if _, err := jsCall(func() js.Value { return c.ws.Call("send", data) }); err != nil {
		return fmt.Errorf("wsproto: send: %w", err)
	}
	return nil
}

// writable returns the error of a write on a connection that ended or is
// closing.
func (c *Conn) writable() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	switch {
	case c.closeEv != nil:
		return c.closeEv
	case c.closing, c.ws.Get("readyState").Int() != 1:
		// Closing: a browser drops what it is given then, silently.
		return ErrClosed
	}
	return nil
}

// MessageWriter buffers one message; see Conn.NextWriter.
type MessageWriter struct {
	c      *Conn
	ctx    context.Context
	typ    MessageType
	buf    bytes.Buffer
	closed bool
}

// NextWriter returns a writer of one message of type typ. The browser sends
// whole messages: the writer buffers the payload and Close sends it, as
// WriteMessage with ctx.
func (c *Conn) NextWriter(ctx context.Context, typ MessageType) (*MessageWriter, error) {
	if typ != MessageText && typ != MessageBinary {
		return nil, ErrBadMessageType
	}
	if err := c.writable(); err != nil {
		return nil, err
	}
	return &MessageWriter{c: c, ctx: ctx, typ: typ}, nil
}

// Write adds p to the message.
func (w *MessageWriter) Write(p []byte) (int, error) {
	if w.closed {
		return 0, ErrWriterClosed
	}
	return w.buf.Write(p)
}

// Flush does nothing in a browser, which sends messages whole, at Close.
func (w *MessageWriter) Flush() error {
	if w.closed {
		return ErrWriterClosed
	}
	return nil
}

// Close sends the message.
func (w *MessageWriter) Close() error {
	if w.closed {
		return ErrWriterClosed
	}
	w.closed = true
	return w.c.WriteMessage(w.ctx, w.typ, w.buf.Bytes())
}

// Close starts the closing handshake with code and reason and waits, up to
// the close timeout, for it to end. A browser may send only 1000 and
// 3000–4999 (ErrCloseCodeNotInBrowser otherwise; nothing is sent) and a
// reason of at most 123 bytes. It returns nil once the peer answered,
// ErrClosed if the connection was closed already, and an error if the peer
// did not answer in time (the browser then ends the connection by itself).
func (c *Conn) Close(code CloseCode, reason string) error {
	switch {
	case code != CloseNormalClosure && (code < 3000 || code > 4999):
		return ErrCloseCodeNotInBrowser
	case len(reason) > frame.MaxCloseReason:
		return ErrCloseReasonTooLong
	case !utf8.ValidString(reason):
		return ErrInvalidCloseReason
	}
	c.mu.Lock()
	if c.closing || c.closeEv != nil {
		c.mu.Unlock()
		return ErrClosed
	}
	c.closing = true
	c.mu.Unlock()
	if _, err := jsCall(func() js.Value { return c.ws.Call("close", int(code), reason) }); err != nil {
		return fmt.Errorf("wsproto: close: %w", err)
	}
	timer := time.NewTimer(c.closeTimeout)
	defer timer.Stop()
	select {
	case <-c.ended:
		if ce := c.event(); ce.Code == CloseAbnormalClosure {
			return ce
		}
		return nil
	case <-timer.C:
		return fmt.Errorf("wsproto: peer did not answer the close frame within the close timeout: %w", context.DeadlineExceeded)
	}
}

func (c *Conn) event() *CloseError {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.closeEv
}

// CloseNow ends the connection without waiting. A page cannot drop a
// connection: the browser sends a close frame without a code (the peer sees
// 1005) and ends the connection when the peer answers. Blocked reads return
// at once. It returns ErrClosed if the connection was closed already.
func (c *Conn) CloseNow() error {
	c.mu.Lock()
	if c.readErr == nil && c.closeEv == nil {
		c.readErr = &CloseError{Code: CloseAbnormalClosure, Err: ErrClosed}
	}
	if c.closing || c.closeEv != nil {
		c.mu.Unlock()
		c.wake()
		return ErrClosed
	}
	c.closing = true
	c.mu.Unlock()
	c.wake()
	_, err := jsCall(func() js.Value { return c.ws.Call("close") })
	return err
}

// CloseRead starts a goroutine that reads the connection for a caller that
// only writes, and ends when the connection does, or when a data message
// arrives, which it answers with close 4008 (a browser may not send 1008).
// The context it returns is done when the goroutine ends. The caller must
// not read after calling it.
func (c *Conn) CloseRead(ctx context.Context) context.Context {
	ctx, cancel := context.WithCancel(ctx)
	go func() {
		defer cancel()
		if _, _, err := c.ReadMessage(ctx, nil); err == nil {
			_ = c.Close(4008, "unexpected data message")
		}
	}()
	return ctx
}
