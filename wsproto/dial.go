package wsproto

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"time"

	"github.com/db7c6739/ws/handshake"
)

// DialOptions configures the client side. A nil *DialOptions means the zero
// value, whose every field has a useful default.
type DialOptions struct {
	// Header holds extra request headers (not the handshake's own).
	Header http.Header
	// Subprotocols to offer, most preferred first.
	Subprotocols []string
	// Origin, if set, is sent as the Origin header.
	Origin string
	// TLSConfig is used for wss:// URLs; ServerName defaults to the URL's
	// host.
	TLSConfig *tls.Config
	// NetDialContext opens the TCP connection: (&net.Dialer{}).DialContext
	// if nil.
	NetDialContext func(ctx context.Context, network, addr string) (net.Conn, error)
	// HandshakeTimeout bounds dialing and the handshake together:
	// DefaultHandshakeTimeout if 0. The context given to Dial bounds them
	// too.
	HandshakeTimeout time.Duration
	// MaxResponseHeaderBytes bounds the server's response head, status line
	// and header lines: DefaultMaxResponseHeaderBytes if 0. A longer head
	// fails Dial with ErrResponseHeaderTooLarge.
	MaxResponseHeaderBytes int

	// ReadLimit, ReadBufferSize, WriteBufferSize, CloseTimeout and the
	// heartbeat's PingInterval and PingTimeout are as in UpgradeOptions.
	ReadLimit                       int64
	ReadBufferSize, WriteBufferSize int
	CloseTimeout                    time.Duration
	PingInterval, PingTimeout       time.Duration
	// Compression, if not nil, offers permessage-deflate (RFC 7692). The
	// server may decline; Dial fails if its answer does not fit the offer.
	Compression *CompressionOptions
}

// maxErrorBody bounds how much of a refusal's body Dial keeps.
const maxErrorBody = 1 << 10

// DefaultMaxResponseHeaderBytes bounds the head of a handshake response
// unless DialOptions says otherwise: a 101 response needs a few hundred
// bytes, and a server must not be able to make a client buffer without end.
const DefaultMaxResponseHeaderBytes = 64 << 10

// ErrResponseHeaderTooLarge is returned by Dial when the server's response
// head exceeds DialOptions.MaxResponseHeaderBytes.
var ErrResponseHeaderTooLarge = errors.New("wsproto: handshake response head too large")

// Dial opens a WebSocket connection to a ws:// or wss:// URL (RFC 6455 §4.1).
// It returns the server's HTTP response too; when the server refuses, the
// error is a *handshake.Error and the response, if one arrived, holds the
// first KiB of its body. ctx bounds dialing and the handshake only.
func Dial(ctx context.Context, rawURL string, opts *DialOptions) (*Conn, *http.Response, error) {
	if opts == nil {
		opts = &DialOptions{}
	}
	u, err := url.Parse(rawURL)
	if err != nil {
		return nil, nil, fmt.Errorf("wsproto: %w", err)
	}
	var port string
	switch u.Scheme {
	case "ws":
		port = "80"
	case "wss":
		port = "443"
	default:
		return nil, nil, fmt.Errorf("wsproto: URL scheme %q is not ws or wss", u.Scheme)
	}
	if u.Port() != "" {
		port = u.Port()
	}
	addr := net.JoinHostPort(u.Hostname(), port)

	timeout := opts.HandshakeTimeout
	if timeout <= 0 {
		timeout = DefaultHandshakeTimeout
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()

	dial := opts.NetDialContext
	if dial == nil {
		dial = (&net.Dialer{}).DialContext
	}
	nc, err := dial(ctx, "tcp", addr)
	if err != nil {
		return nil, nil, contextError(ctx, fmt.Errorf("wsproto: dial: %w", err))
	}
	// The handshake's I/O ends when ctx does.
	stop := context.AfterFunc(ctx, func() { nc.Close() })
	c, resp, err := clientHandshake(ctx, nc, u, opts)
	if !stop() {
		// The connection was closed under the handshake: that is all
		// its error can say.
		err = fmt.Errorf("wsproto: handshake: %w", ctx.Err())
	}
	if err != nil {
		nc.Close()
		return nil, resp, err
	}
	return c, resp, nil
}

// contextError makes err, which ended a call whose context is done, match
// the context's error under errors.Is: what the network reports then (a
// closed connection, "operation was canceled", "i/o timeout") says nothing
// of why.
func contextError(ctx context.Context, err error) error {
	cerr := ctx.Err()
	if cerr == nil || errors.Is(err, cerr) {
		return err
	}
	return fmt.Errorf("%w: %w", err, cerr)
}

// headLimit reads at most n bytes, then fails with
// ErrResponseHeaderTooLarge; Dial lifts it once the head is read.
type headLimit struct {
	r io.Reader
	n int
}

func (l *headLimit) Read(p []byte) (int, error) {
	if l.n <= 0 {
		return 0, ErrResponseHeaderTooLarge
	}
	if len(p) > l.n {
		p = p[:l.n]
	}
	n, err := l.r.Read(p)
	l.n -= n
	return n, err
}

func clientHandshake(ctx context.Context, nc net.Conn, u *url.URL, opts *DialOptions) (*Conn, *http.Response, error) {
	if u.Scheme == "wss" {
		cfg := &tls.Config{}
		if opts.TLSConfig != nil {
			cfg = opts.TLSConfig.Clone()
		}
		if cfg.ServerName == "" {
			cfg.ServerName = u.Hostname()
		}
		// The upgrade is an HTTP/1.1 mechanism (RFC 8441 brings it to
		// HTTP/2 by other means).
		cfg.NextProtos = []string{"http/1.1"}
		tc := tls.Client(nc, cfg)
		if err := tc.HandshakeContext(ctx); err != nil {
			return nil, nil, fmt.Errorf("wsproto: TLS handshake: %w", err)
		}
		nc = tc
	}
	key, err := handshake.NewKey()
	if err != nil {
		return nil, nil, err
	}
	hopts := &handshake.ClientOptions{Origin: opts.Origin, Subprotocols: opts.Subprotocols, Header: opts.Header}
	if opts.Compression != nil {
		hopts.Extensions = []handshake.Extension{opts.Compression.offer()}
	}
	bw := bufio.NewWriterSize(nc, 1024)
	if err := handshake.WriteRequest(bw, u, key, hopts); err != nil {
		return nil, nil, err
	}
	if err := bw.Flush(); err != nil {
		return nil, nil, fmt.Errorf("wsproto: write handshake request: %w", err)
	}
	limit := &headLimit{r: nc, n: opts.MaxResponseHeaderBytes}
	if limit.n <= 0 {
		limit.n = DefaultMaxResponseHeaderBytes
	}
	br := bufio.NewReaderSize(limit, DefaultBufferSize)
	resp, err := http.ReadResponse(br, &http.Request{Method: http.MethodGet, URL: u})
	if err != nil && limit.n <= 0 {
		// The parser may have seen the cut as a malformed line.
		err = ErrResponseHeaderTooLarge
	}
	if err != nil {
		return nil, nil, fmt.Errorf("wsproto: read handshake response: %w", err)
	}
	limit.n = maxErrorBody // what is left to read: at most a refusal's body
	proto, exts, err := handshake.CheckResponse(resp, key, hopts)
	if err != nil {
		body, _ := io.ReadAll(io.LimitReader(resp.Body, maxErrorBody))
		resp.Body = io.NopCloser(bytes.NewReader(body))
		return nil, resp, err
	}
	var z *compression
	if opts.Compression != nil {
		n, ok, err := opts.Compression.check(exts)
		if err != nil {
			return nil, resp, err
		}
		if ok {
			z = newCompression(opts.Compression, n, true)
		}
	}
	var leftover []byte
	if n := br.Buffered(); n > 0 {
		leftover, _ = br.Peek(n)
	}
	cfg := connConfig{opts.ReadLimit, opts.ReadBufferSize, opts.WriteBufferSize, opts.CloseTimeout, opts.PingInterval, opts.PingTimeout}
	c := newConn(nc, true, proto, cfg, leftover, z)
	return c, resp, nil
}
