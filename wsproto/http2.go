//go:build !js

package wsproto

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptrace"
	"net/netip"
	"net/url"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/db7c6739/ws/handshake"
)

// WebSocket over HTTP/2 (RFC 8441): the WebSocket runs on one stream of an
// HTTP/2 connection, opened by an extended CONNECT request and answered
// with 200. The frames are those of RFC 6455, masking included. The Conn
// sees the stream through a net.Conn made of the request and response
// bodies: serverStream on the server, clientStream on the client. Above it
// nothing differs from HTTP/1.1.
//
// The differences that show:
//   - Closing (RFC 8441 §6): after the closing handshake the stream ends
//     with END_STREAM; an abrupt end resets the stream (RST_STREAM). The
//     HTTP/2 connection and its other streams go on either way.
//   - Deadlines are the stream's: one that passes ends the stream, where
//     a TCP connection's can be extended after it passed. The Conn sets
//     deadlines only while it closes; on the Stream view and NetConn, a
//     caller's deadline is final.

// http2Stream is the transport of a Conn over HTTP/2, either end.
type http2Stream interface {
	net.Conn
	// abort ends the stream with a reset: the Conn ended without a
	// closing handshake.
	abort()
}

// serverStream is the server's end of a WebSocket over an HTTP/2 stream:
// the request body is read, the response written and flushed per write.
//
// net/http's HTTP/2 server ends the stream when the handler returns, and
// its ResponseWriter must not be used after that; so the handler waits for
// Close (Handler does it). A handler that returns regardless leaves a
// stream whose reads fail, and whose writes fail too (see afterHandler),
// though one that races the handler's return races net/http.
type serverStream struct {
	w    http.ResponseWriter
	rc   *http.ResponseController
	body io.ReadCloser

	local, remote net.Addr

	wmu sync.Mutex // held by a write
	cmu sync.Mutex // held while a deadline is set, and by Close

	readDeadline, writeDeadline atomic.Int64 // as set, in Unix nanoseconds; 0 for none
	closed                      atomic.Bool  // Close ran: w is not to be used
	done                        chan struct{}
	once                        sync.Once
}

func newServerStream(w http.ResponseWriter, r *http.Request) *serverStream {
	s := &serverStream{
		w:      w,
		rc:     http.NewResponseController(w),
		body:   r.Body,
		done:   make(chan struct{}),
		remote: remoteAddr(r.RemoteAddr),
	}
	if a, ok := r.Context().Value(http.LocalAddrContextKey).(net.Addr); ok {
		s.local = a
	} else {
		s.local = streamAddr("")
	}
	return s
}

func (s *serverStream) Read(p []byte) (int, error) {
	n, err := s.body.Read(p)
	if err != nil && err != io.EOF && !errors.Is(err, os.ErrDeadlineExceeded) {
		switch {
		case s.expired():
			// A write deadline that passes resets the stream, and
			// the read fails with the reset.
			err = fmt.Errorf("%w (%w)", os.ErrDeadlineExceeded, err)
		case s.closed.Load():
			err = net.ErrClosed
		}
	}
	return n, err
}

// expired reports whether a deadline set on the stream has passed.
func (s *serverStream) expired() bool {
	now := time.Now().UnixNano()
	r, w := s.readDeadline.Load(), s.writeDeadline.Load()
	return r != 0 && now >= r || w != 0 && now >= w
}

func (s *serverStream) Write(p []byte) (n int, err error) {
	s.wmu.Lock()
	defer s.wmu.Unlock()
	if s.closed.Load() {
		return 0, net.ErrClosed
	}
	defer afterHandler(&err)
	n, err = s.w.Write(p)
	if err == nil {
		err = s.rc.Flush()
	}
	return n, err
}

// afterHandler turns net/http's panic for a ResponseWriter used after its
// handler returned (a handler that returned without closing the Conn)
// into net.ErrClosed. It is deferred around every use of w and rc.
func afterHandler(err *error) {
	if recover() != nil {
		*err = net.ErrClosed
	}
}

// Close ends the stream: reads and writes fail from now on, and the
// handler, waiting in Handler, returns, which ends the response with
// END_STREAM. A write stuck on a peer that does not read is cut short by
// resetting the stream.
func (s *serverStream) Close() error {
	s.end(false)
	return nil
}

// abort resets the stream. net/http resets it with INTERNAL_ERROR, the code
// of a handler's failure, where RFC 8441 §6 suggests CANCEL: a handler
// cannot choose.
func (s *serverStream) abort() { s.end(true) }

func (s *serverStream) end(reset bool) {
	s.once.Do(func() {
		if reset || !s.wmu.TryLock() {
			s.cmu.Lock()
			_ = s.setWriteDeadline(time.Unix(1, 0)) // resets the stream
			s.cmu.Unlock()
			s.wmu.Lock()
		}
		s.cmu.Lock()
		s.closed.Store(true)
		s.cmu.Unlock()
		s.wmu.Unlock()
		_ = s.body.Close()
		close(s.done)
	})
}

func (s *serverStream) SetReadDeadline(t time.Time) (err error) {
	s.cmu.Lock()
	defer s.cmu.Unlock()
	if s.closed.Load() {
		return net.ErrClosed
	}
	s.readDeadline.Store(unixNano(t))
	defer afterHandler(&err)
	return s.rc.SetReadDeadline(t)
}

func (s *serverStream) SetWriteDeadline(t time.Time) error {
	s.cmu.Lock()
	defer s.cmu.Unlock()
	if s.closed.Load() {
		return net.ErrClosed
	}
	return s.setWriteDeadline(t)
}

// setWriteDeadline sets the write deadline, with cmu held.
func (s *serverStream) setWriteDeadline(t time.Time) (err error) {
	s.writeDeadline.Store(unixNano(t))
	defer afterHandler(&err)
	return s.rc.SetWriteDeadline(t)
}

// unixNano is t in nanoseconds since 1970, or 0 for the zero Time.
func unixNano(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixNano()
}

func (s *serverStream) SetDeadline(t time.Time) error {
	if err := s.SetReadDeadline(t); err != nil {
		return err
	}
	return s.SetWriteDeadline(t)
}

func (s *serverStream) LocalAddr() net.Addr  { return s.local }
func (s *serverStream) RemoteAddr() net.Addr { return s.remote }

// clientStream is the client's end of a WebSocket over an HTTP/2 stream:
// the response body is read and the request body, a pipe the transport
// reads from, written.
type clientStream struct {
	body   io.ReadCloser  // the response's
	pw     *io.PipeWriter // the request's
	cancel func()         // the request's context: resets the stream
	local  net.Addr
	remote net.Addr

	// After an orderly end, the response is let go (body closed, context
	// cancelled) once the transport is done with the request body, or
	// after closeTimeout at the latest: earlier could reset the stream
	// before its END_STREAM went out.
	closeTimeout time.Duration
	letGo        sync.Once
	letGoTimer   atomic.Pointer[time.Timer]

	mu           sync.Mutex
	readTimer    *time.Timer
	writeTimer   *time.Timer
	eof          atomic.Bool // the response body ended: the server's END_STREAM
	readExpired  atomic.Bool
	writeExpired atomic.Bool
	closed       atomic.Bool
	closeOnce    sync.Once
}

func (s *clientStream) Read(p []byte) (int, error) {
	n, err := s.body.Read(p)
	if err == io.EOF {
		s.eof.Store(true)
	}
	if err != nil && err != io.EOF {
		switch {
		case s.readExpired.Load() || s.writeExpired.Load():
			// A write deadline that passes resets the stream.
			err = os.ErrDeadlineExceeded
		case s.closed.Load():
			err = net.ErrClosed
		}
	}
	return n, err
}

func (s *clientStream) Write(p []byte) (int, error) {
	n, err := s.pw.Write(p)
	if err != nil {
		switch {
		case s.writeExpired.Load():
			err = os.ErrDeadlineExceeded
		case s.closed.Load():
			err = net.ErrClosed
		}
	}
	return n, err
}

// Close ends the request body (END_STREAM). If the server ended its side
// first, as it does after a closing handshake, the stream is then done;
// if not, it is reset.
func (s *clientStream) Close() error {
	s.end(false)
	return nil
}

// abort resets the stream (RST_STREAM with CANCEL, RFC 8441 §6) before
// anything else can end it.
func (s *clientStream) abort() { s.end(true) }

func (s *clientStream) end(reset bool) {
	s.closeOnce.Do(func() {
		s.closed.Store(true)
		s.mu.Lock()
		for _, t := range []*time.Timer{s.readTimer, s.writeTimer} {
			if t != nil {
				t.Stop()
			}
		}
		s.mu.Unlock()
		if reset || !s.eof.Load() {
			// An error, not EOF, so that the transport sends no
			// END_STREAM before the reset.
			s.cancel()
			_ = s.pw.CloseWithError(net.ErrClosed)
			s.release(false)
			return
		}
		// The server has ended its side: end ours with END_STREAM, and
		// let the response go once the transport has sent it.
		s.letGoTimer.Store(time.AfterFunc(s.closeTimeout, func() { s.release(false) }))
		_ = s.pw.Close()
	})
}

// release lets the response go: it cancels the request, which resets the
// stream if it is not done yet, and closes the response body, unless the
// transport calls it as it closes the request body: it waits for that to
// end, and the stream is done anyway.
func (s *clientStream) release(byTransport bool) {
	s.letGo.Do(func() {
		if t := s.letGoTimer.Load(); t != nil {
			t.Stop()
		}
		s.cancel()
		if !byTransport {
			_ = s.body.Close()
		}
	})
}

// requestBody is the request body the transport reads; it tells the
// stream when the transport is done with it (it closes it then).
type requestBody struct {
	*io.PipeReader
	s *clientStream
}

func (b requestBody) Close() error {
	err := b.PipeReader.Close()
	if b.s.closed.Load() {
		b.s.release(true)
	}
	return err
}

// SetReadDeadline arms a timer that, when it fires, ends the response
// body: the stream's deadlines are final (see above).
func (s *clientStream) SetReadDeadline(t time.Time) error {
	return s.arm(&s.readTimer, t, func() {
		s.readExpired.Store(true)
		_ = s.body.Close()
	})
}

func (s *clientStream) SetWriteDeadline(t time.Time) error {
	return s.arm(&s.writeTimer, t, func() {
		s.writeExpired.Store(true)
		_ = s.pw.CloseWithError(os.ErrDeadlineExceeded)
		s.cancel()
	})
}

func (s *clientStream) SetDeadline(t time.Time) error {
	if err := s.SetReadDeadline(t); err != nil {
		return err
	}
	return s.SetWriteDeadline(t)
}

func (s *clientStream) arm(timer **time.Timer, t time.Time, expire func()) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed.Load() {
		return net.ErrClosed
	}
	if *timer != nil {
		(*timer).Stop()
		*timer = nil
	}
	if t.IsZero() {
		return nil
	}
	*timer = time.AfterFunc(time.Until(t), expire)
	return nil
}

func (s *clientStream) LocalAddr() net.Addr  { return s.local }
func (s *clientStream) RemoteAddr() net.Addr { return s.remote }

// streamAddr stands for an address of a stream that is not known, or not
// an IP address and port.
type streamAddr string

func (a streamAddr) Network() string { return "tcp" }
func (a streamAddr) String() string  { return string(a) }

// remoteAddr is the net.Addr of a request's RemoteAddr.
func remoteAddr(s string) net.Addr {
	if ap, err := netip.ParseAddrPort(s); err == nil {
		return net.TCPAddrFromAddrPort(ap)
	}
	return streamAddr(s)
}

// extendedConnectEnabled reports whether net/http's HTTP/2 server in this
// process advertises extended CONNECT (SETTINGS_ENABLE_CONNECT_PROTOCOL),
// by the test it makes itself at start: Go 1.26 turns it on only with
// GODEBUG=http2xconnect=1 in the environment (golang/go#71128).
func extendedConnectEnabled() bool {
	return strings.Contains(os.Getenv("GODEBUG"), "http2xconnect=1")
}

// errNoHTTP2 marks a failure of the HTTP/2 round trip before any response,
// after which Dial tries HTTP/1.1.
var errNoHTTP2 = errors.New("wsproto: no WebSocket over HTTP/2")

// dialHTTP2 opens the connection with an extended CONNECT request through
// opts.HTTP2Transport (RFC 8441 §5). ctx bounds the handshake only: the
// request lives on a context of its own, which ends with the connection.
func dialHTTP2(ctx context.Context, httpURL *url.URL, opts *DialOptions) (*Conn, *http.Response, error) {
	hopts := opts.handshakeOptions(httpURL)
	header, err := handshake.ConnectHeader(hopts)
	if err != nil {
		return nil, nil, err
	}
	header.Set(":protocol", "websocket")

	s := &clientStream{local: streamAddr(""), remote: streamAddr(httpURL.Host), closeTimeout: opts.CloseTimeout}
	if s.closeTimeout <= 0 {
		s.closeTimeout = DefaultCloseTimeout
	}
	trace := &httptrace.ClientTrace{GotConn: func(info httptrace.GotConnInfo) {
		if info.Conn != nil {
			s.local, s.remote = info.Conn.LocalAddr(), info.Conn.RemoteAddr()
		}
	}}
	reqCtx, cancel := context.WithCancel(httptrace.WithClientTrace(context.WithoutCancel(ctx), trace))
	pr, pw := io.Pipe()
	req := &http.Request{
		Method:     http.MethodConnect,
		URL:        httpURL,
		Proto:      "HTTP/2.0",
		ProtoMajor: 2,
		Header:     header,
		Body:       requestBody{pr, s},
		Host:       opts.Host,
	}
	req = req.WithContext(reqCtx)
	// Until the handshake is done, ctx's end cancels the request, which
	// ends the round trip and any read of the response.
	stop := context.AfterFunc(ctx, cancel)
	ctxEnded, watching := false, true
	unwatch := func() bool {
		if watching {
			watching, ctxEnded = false, !stop()
		}
		return ctxEnded
	}
	resp, err := opts.HTTP2Transport.RoundTrip(req)
	fail := func(err error) (*Conn, *http.Response, error) {
		// A refusal is news, whenever ctx ended; anything else is
		// what ctx's end made of it.
		var he *HandshakeError
		if unwatch() && !errors.As(err, &he) {
			err = contextError(ctx, fmt.Errorf("wsproto: handshake over HTTP/2: %w", ctx.Err()))
		}
		cancel()
		pw.Close()
		return nil, resp, err
	}
	if err != nil {
		if strings.Contains(err.Error(), "invalid header field name") {
			// net/http's Transport refuses :protocol: a transport
			// that cannot do this at all is a mistake to report.
			return fail(fmt.Errorf("wsproto: DialOptions.HTTP2Transport cannot send an extended CONNECT (RFC 8441): %w", err))
		}
		return fail(fmt.Errorf("%w: %w", errNoHTTP2, err))
	}
	opts.keepCookies(httpURL, resp)
	if resp.ProtoMajor != 2 {
		resp.Body.Close()
		major := resp.ProtoMajor
		resp = nil
		return fail(fmt.Errorf("%w: the transport answered over HTTP/%d", errNoHTTP2, major))
	}
	proto, exts, err := handshake.CheckConnectResponse(resp, hopts)
	if err != nil {
		var body []byte
		if resp.StatusCode/100 != 2 {
			// A refusal's body, bounded in size and by ctx: what
			// arrived of it. A 2xx's is the WebSocket's stream.
			body, _ = io.ReadAll(io.LimitReader(resp.Body, maxErrorBody))
		}
		resp.Body.Close()
		resp.Body = io.NopCloser(bytes.NewReader(body))
		return fail(err)
	}
	z, err := opts.compression(exts)
	if err != nil {
		resp.Body.Close()
		return fail(err)
	}
	if unwatch() {
		resp.Body.Close()
		return fail(nil)
	}
	s.body, s.pw, s.cancel = resp.Body, pw, cancel
	return newConn(s, true, proto, opts.connConfig(), nil, z), resp, nil
}
