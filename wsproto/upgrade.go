//go:build !js

package wsproto

import (
	"bufio"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"slices"
	"sync"
	"time"

	"github.com/db7c6739/ws/handshake"
)

// UpgradeOptions configures the server side. A nil *UpgradeOptions means
// the zero value, whose every field has a useful default.
type UpgradeOptions struct {
	// Subprotocols the server speaks, most preferred first; the first one
	// the client also offers is selected (Conn.Subprotocol).
	Subprotocols []string
	// OriginPatterns lists the hosts, besides the request's own Host, that
	// browser pages may connect from: path.Match patterns on the Origin's
	// host[:port], such as "*.example.com" or "localhost:*". By default a
	// request with an Origin header must come from the same host
	// (RFC 6455 §10.2); requests without one (non-browser clients) pass.
	OriginPatterns []string
	// InsecureSkipOriginCheck accepts any Origin: any web page could then
	// open a connection with its visitor's cookies.
	InsecureSkipOriginCheck bool
	// CheckOrigin, if set, decides whether a request may connect, in place
	// of the same-host rule and OriginPatterns; false refuses it with 403.
	// It is called for every request that is otherwise a good handshake,
	// with or without an Origin header. Behind UpgradeConn, the request
	// holds the method, URL, Host, RemoteAddr and the handshake's headers
	// (Origin, Sec-WebSocket-*), and nothing else.
	CheckOrigin func(r *http.Request) bool
	// SelectSubprotocol, if set, chooses the subprotocol in place of
	// Subprotocols: offered are the client's, in its order (never empty),
	// and the answer must be one of them, or "" for none. The request is
	// as for CheckOrigin.
	SelectSubprotocol func(r *http.Request, offered []string) string
	// Header holds extra headers for the 101 response.
	Header http.Header
	// HandshakeTimeout bounds the handshake: DefaultHandshakeTimeout if 0.
	HandshakeTimeout time.Duration
	// MaxHeaderBytes bounds the request head read by UpgradeConn:
	// handshake.DefaultMaxHeaderBytes if 0.
	MaxHeaderBytes int

	// ReadLimit is the largest message accepted, in bytes: DefaultReadLimit
	// if 0, no limit if negative.
	ReadLimit int64
	// ReadBufferSize and WriteBufferSize size the buffers lent to the
	// connection while busy: DefaultBufferSize if 0, at least 512.
	ReadBufferSize, WriteBufferSize int
	// CloseTimeout bounds the wait for the peer's close frame:
	// DefaultCloseTimeout if 0.
	CloseTimeout time.Duration
	// PingInterval turns the heartbeat on: once nothing has arrived from
	// the peer for this long, a ping goes out, and if nothing arrives
	// within PingTimeout after it (PingInterval if 0), the connection is
	// closed and its calls return a *CloseError with code 1006 that wraps
	// ErrPingTimeout. It works whether the connection is being read,
	// written or neither, without a goroutine of its own. 0 turns it off.
	PingInterval, PingTimeout time.Duration
	// Compression, if not nil, accepts permessage-deflate (RFC 7692) from
	// clients that offer it.
	Compression *CompressionOptions
}

// negotiate decides on the client's extension offers: the response header
// value and the connection's compression state, or "" and nil.
func (o *UpgradeOptions) negotiate(req *handshake.Request) (string, *compression) {
	if o.Compression == nil || len(req.Extensions) == 0 {
		return "", nil
	}
	offers, err := handshake.ParseExtensions(req.Extensions)
	if err != nil {
		return "", nil // Check has refused malformed headers already
	}
	n, resp, ok := o.Compression.accept(offers)
	if !ok {
		return "", nil
	}
	return resp.String(), newCompression(o.Compression, n, false)
}

func (o *UpgradeOptions) handshakeOptions() *handshake.ServerOptions {
	return &handshake.ServerOptions{
		Subprotocols:            o.Subprotocols,
		OriginPatterns:          o.OriginPatterns,
		InsecureSkipOriginCheck: o.InsecureSkipOriginCheck || o.CheckOrigin != nil,
	}
}

// errSubprotocolChoice answers a SelectSubprotocol that chose what the
// client did not offer.
var errSubprotocolChoice = &handshake.Error{Status: http.StatusInternalServerError, Header: "Sec-WebSocket-Protocol", Reason: "the server chose a subprotocol the client did not offer"}

// check runs handshake.Check and then the hooks, with r or, behind
// UpgradeConn, a request made from req; it returns the subprotocol.
func (o *UpgradeOptions) check(req *handshake.Request, r *http.Request, nc net.Conn) (string, error) {
	proto, err := handshake.Check(req, o.handshakeOptions())
	if err != nil || o.CheckOrigin == nil && o.SelectSubprotocol == nil {
		return proto, err
	}
	if r == nil {
		r = hookRequest(req, nc)
	}
	if o.CheckOrigin != nil && !o.CheckOrigin(r) {
		return "", handshake.ErrBadOrigin
	}
	if o.SelectSubprotocol != nil && len(req.Protocols) > 0 {
		offered := make([]string, len(req.Protocols))
		for i, p := range req.Protocols {
			offered[i] = string(p)
		}
		proto = o.SelectSubprotocol(r, offered)
		if proto != "" && !slices.Contains(offered, proto) {
			return "", errSubprotocolChoice
		}
	}
	return proto, nil
}

// hookRequest is the *http.Request the hooks see behind UpgradeConn.
func hookRequest(req *handshake.Request, nc net.Conn) *http.Request {
	u, err := url.ParseRequestURI(string(req.URI))
	if err != nil {
		u = &url.URL{}
	}
	h := http.Header{}
	add := func(name string, v []byte) {
		if len(v) > 0 {
			h.Add(name, string(v))
		}
	}
	add("Origin", req.Origin)
	add("Sec-Websocket-Key", req.Key)
	add("Sec-Websocket-Version", req.Version)
	add("Sec-Websocket-Extensions", req.Extensions)
	for _, p := range req.Protocols {
		add("Sec-Websocket-Protocol", p)
	}
	return &http.Request{
		Method:     string(req.Method),
		URL:        u,
		RequestURI: string(req.URI),
		Proto:      "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1,
		Host:       string(req.Host),
		Header:     h,
		RemoteAddr: nc.RemoteAddr().String(),
	}
}

func (o *UpgradeOptions) connConfig() connConfig {
	return connConfig{o.ReadLimit, o.ReadBufferSize, o.WriteBufferSize, o.CloseTimeout, o.PingInterval, o.PingTimeout}
}

func (o *UpgradeOptions) deadline() time.Time {
	if o.HandshakeTimeout > 0 {
		return time.Now().Add(o.HandshakeTimeout)
	}
	return time.Now().Add(DefaultHandshakeTimeout)
}

var (
	requestPool = sync.Pool{New: func() any { return new(handshake.Request) }}
	readerPool  = sync.Pool{New: func() any { return bufio.NewReaderSize(nil, DefaultBufferSize) }}
	writerPool  = sync.Pool{New: func() any { return bufio.NewWriterSize(nil, DefaultBufferSize) }}
)

// Upgrade answers a WebSocket upgrade request behind net/http: it checks
// the request (RFC 6455 §4.2.1), takes the connection over from the server
// and answers 101 Switching Protocols. A bad request is answered with the
// status its *handshake.Error carries (400, 403, 405, 426) and that error
// is returned; the handler must not write to w after Upgrade.
//
// An HTTP/2 request is an extended CONNECT (RFC 8441, see the package
// documentation): Upgrade answers 200 (a refusal's 426 becomes 400, as
// HTTP/2 has no Upgrade field) and the connection runs on the request's
// stream, which ends when the handler returns. So the handler must not
// return before the Conn is closed: a handler that reads in a loop until
// the Conn fails, as in the package example, is right; one that hands the
// Conn to other goroutines and returns, right over HTTP/1.1, is not.
// Handler sees to it. A Conn whose handler returned fails its later reads
// and writes, but a write that overlaps the return is undefined: net/http
// recycles the stream's response buffer, and the bytes may go out on
// another request's response.
func Upgrade(w http.ResponseWriter, r *http.Request, opts *UpgradeOptions) (*Conn, error) {
	if opts == nil {
		opts = &UpgradeOptions{}
	}
	req := requestPool.Get().(*handshake.Request)
	defer requestPool.Put(req)
	req.FromHTTP(r)
	proto, err := opts.check(req, r, nil)
	if r.ProtoMajor >= 2 {
		return upgradeHTTP2(w, r, opts, req, proto, err)
	}
	if err != nil {
		handshake.RejectHTTP(w, err)
		return nil, err
	}
	nc, brw, err := http.NewResponseController(w).Hijack()
	if err != nil {
		http.Error(w, "websocket: cannot take over the connection", http.StatusInternalServerError)
		return nil, fmt.Errorf("wsproto: hijack: %w", err)
	}
	var leftover []byte
	if n := brw.Reader.Buffered(); n > 0 {
		leftover, _ = brw.Reader.Peek(n)
	}
	_ = nc.SetDeadline(opts.deadline())
	exts, z := opts.negotiate(req)
	if err := writeResponse(nc, req.Key, proto, exts, opts.Header); err != nil {
		nc.Close()
		return nil, err
	}
	_ = nc.SetDeadline(time.Time{})
	c := newConn(nc, false, proto, opts.connConfig(), leftover, z)
	return c, nil
}

// UpgradeConn runs the server side of the handshake on a raw connection, for
// servers with a listener of their own: it reads the request from nc, checks
// it and answers. On failure it answers the error with its HTTP status when
// the request was bad, closes nc and returns the error (a *handshake.Error,
// or the I/O error wrapped).
func UpgradeConn(nc net.Conn, opts *UpgradeOptions) (*Conn, error) {
	if opts == nil {
		opts = &noUpgradeOptions
	}
	// The handshake runs on a goroutine that ends with it. Parsing and
	// hashing need a deeper stack than waiting for a message does, and a
	// goroutine's stack, once grown, stays grown: run here, they would
	// double the stack of every idle connection (see BenchmarkIdleConn).
	job := upgradePool.Get().(*upgradeJob)
	job.nc, job.opts = nc, opts
	go runUpgrade()
	upgradeJobs <- job
	<-job.done
	c, err := job.c, job.err
	*job = upgradeJob{done: job.done}
	upgradePool.Put(job)
	return c, err
}

type upgradeJob struct {
	nc   net.Conn
	opts *UpgradeOptions
	c    *Conn
	err  error
	done chan struct{}
}

var upgradePool = sync.Pool{New: func() any { return &upgradeJob{done: make(chan struct{}, 1)} }}

// upgradeJobs hands each job to the goroutine started for it: a go
// statement that passed the job would allocate a closure per upgrade.
var upgradeJobs = make(chan *upgradeJob)

// noUpgradeOptions stands for nil options; it is never written.
var noUpgradeOptions UpgradeOptions

func runUpgrade() {
	growStack() // the handshake needs more than a fresh goroutine has
	j := <-upgradeJobs
	j.c, j.err = upgradeConn(j.nc, j.opts)
	j.done <- struct{}{}
}

func upgradeConn(nc net.Conn, opts *UpgradeOptions) (*Conn, error) {
	_ = nc.SetDeadline(opts.deadline())
	br := readerPool.Get().(*bufio.Reader)
	br.Reset(nc)
	req := requestPool.Get().(*handshake.Request)
	defer func() {
		br.Reset(nil)
		readerPool.Put(br)
		requestPool.Put(req)
	}()

	var proto string
	err := req.ReadRequest(br, opts.MaxHeaderBytes)
	if err == nil {
		proto, err = opts.check(req, nil, nc)
	}
	if err != nil {
		var he *handshake.Error
		if errors.As(err, &he) {
			bw := writerPool.Get().(*bufio.Writer)
			bw.Reset(nc)
			if handshake.WriteReject(bw, err) == nil {
				_ = bw.Flush()
			}
			bw.Reset(nil)
			writerPool.Put(bw)
		}
		nc.Close()
		return nil, err
	}
	exts, z := opts.negotiate(req)
	if err := writeResponse(nc, req.Key, proto, exts, opts.Header); err != nil {
		nc.Close()
		return nil, err
	}
	var leftover []byte
	if n := br.Buffered(); n > 0 {
		leftover, _ = br.Peek(n)
	}
	_ = nc.SetDeadline(time.Time{})
	c := newConn(nc, false, proto, opts.connConfig(), leftover, z)
	return c, nil
}

// upgradeHTTP2 is Upgrade for a request that came over HTTP/2: it answers
// an extended CONNECT with 200 (RFC 8441 §5) and makes a Conn of the
// stream, or refuses the request, err, as RejectHTTP2 does.
func upgradeHTTP2(w http.ResponseWriter, r *http.Request, opts *UpgradeOptions, req *handshake.Request, proto string, err error) (*Conn, error) {
	if err != nil {
		handshake.RejectHTTP2(w, err)
		if errors.Is(err, handshake.ErrNotExtendedConnect) && !extendedConnectEnabled() {
			err = fmt.Errorf("%w; this server does not offer it: start it with GODEBUG=http2xconnect=1 in the environment, "+
				"or import _ \"github.com/db7c6739/ws/wsproto/xconnect\"", err)
		}
		return nil, err
	}
	if err := handshake.CheckConnectHeader(opts.Header); err != nil {
		http.Error(w, "websocket: bad response header", http.StatusInternalServerError)
		return nil, fmt.Errorf("wsproto: UpgradeOptions.Header over HTTP/2: %w", err)
	}
	exts, z := opts.negotiate(req)
	h := w.Header()
	for name, v := range opts.Header {
		h[name] = v
	}
	if proto != "" {
		h.Set("Sec-WebSocket-Protocol", proto)
	}
	if exts != "" {
		h.Set("Sec-WebSocket-Extensions", exts)
	}
	s := newServerStream(w, r)
	// The server's ReadTimeout and WriteTimeout are for requests; a
	// WebSocket lives longer. Lift them from this stream, as a hijack does.
	_ = s.rc.SetReadDeadline(time.Time{})
	_ = s.rc.SetWriteDeadline(time.Time{})
	w.WriteHeader(http.StatusOK)
	if err := s.rc.Flush(); err != nil {
		return nil, fmt.Errorf("wsproto: write handshake response: %w", err)
	}
	return newConn(s, false, proto, opts.connConfig(), nil, z), nil
}

func writeResponse(nc net.Conn, key []byte, proto, exts string, extra http.Header) error {
	bw := writerPool.Get().(*bufio.Writer)
	bw.Reset(nc)
	err := handshake.WriteResponse(bw, key, proto, exts, extra)
	if err == nil {
		err = bw.Flush()
	}
	bw.Reset(nil)
	writerPool.Put(bw)
	if err != nil {
		return fmt.Errorf("wsproto: write handshake response: %w", err)
	}
	return nil
}
