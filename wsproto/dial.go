//go:build !js

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

	"github.com/db7c6739/ws/handshake"
)

// maxErrorBody bounds how much of a refusal's body Dial keeps.
const maxErrorBody = 1 << 10

// Dial opens a WebSocket connection to a ws:// or wss:// URL (RFC 6455 §4.1).
// It returns the server's HTTP response too; when the server refuses, the
// error is a *HandshakeError and the response, if one arrived, holds the
// first KiB of its body. ctx bounds dialing and the handshake only; if it
// ends, or HandshakeTimeout passes, the error matches the context's error.
func Dial(ctx context.Context, rawURL string, opts *DialOptions) (*Conn, *http.Response, error) {
	if opts == nil {
		opts = &DialOptions{}
	}
	u, err := url.Parse(rawURL)
	if err != nil {
		return nil, nil, fmt.Errorf("wsproto: %w", err)
	}
	httpURL := *u
	switch u.Scheme {
	case "ws":
		httpURL.Scheme = "http"
	case "wss":
		httpURL.Scheme = "https"
	default:
		return nil, nil, fmt.Errorf("wsproto: URL scheme %q is not ws or wss", u.Scheme)
	}
	httpURL.Fragment, httpURL.RawFragment = "", ""

	timeout := opts.HandshakeTimeout
	if timeout <= 0 {
		timeout = DefaultHandshakeTimeout
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()

	var h2err error
	if opts.HTTP2Transport != nil {
		c, resp, err := dialHTTP2(ctx, &httpURL, opts)
		if !errors.Is(err, errNoHTTP2) {
			return c, resp, err
		}
		h2err = err
	}
	c, resp, err := dialHTTP1(ctx, u, &httpURL, opts)
	if err != nil && h2err != nil {
		err = fmt.Errorf("%w (over HTTP/2: %w)", err, h2err)
	}
	return c, resp, err
}

// dialHTTP1 opens the connection over HTTP/1.1 (RFC 6455 §4.1).
func dialHTTP1(ctx context.Context, u, httpURL *url.URL, opts *DialOptions) (*Conn, *http.Response, error) {
	nc, err := dialServer(ctx, u, httpURL, opts)
	if err != nil {
		return nil, nil, contextError(ctx, err)
	}
	// The handshake's I/O ends when ctx does.
	stop := context.AfterFunc(ctx, func() { nc.Close() })
	c, resp, err := clientHandshake(ctx, nc, u, httpURL, opts)
	if !stop() {
		// The connection was closed under the handshake: that is all
		// its error can say.
		err = fmt.Errorf("wsproto: handshake: %w", ctx.Err())
	}
	if err != nil {
		if c != nil {
			c.CloseNow() // and its heartbeat
		}
		nc.Close()
		return nil, resp, err
	}
	return c, resp, nil
}

// defaultPort is the port of a URL scheme when the URL names none.
func defaultPort(scheme string) string {
	switch scheme {
	case "wss", "https":
		return "443"
	}
	return "80"
}

func hostPort(u *url.URL) string {
	port := u.Port()
	if port == "" {
		port = defaultPort(u.Scheme)
	}
	return net.JoinHostPort(u.Hostname(), port)
}

// dialServer opens the connection the handshake runs on, TLS included for
// wss://: straight to the server, or through a proxy.
func dialServer(ctx context.Context, u, httpURL *url.URL, opts *DialOptions) (net.Conn, error) {
	addr := hostPort(u)
	proxy := opts.Proxy
	if proxy == nil {
		proxy = http.ProxyFromEnvironment
	}
	proxyURL, err := proxy(&http.Request{Method: http.MethodGet, URL: httpURL, Host: httpURL.Host, Header: http.Header{}})
	if err != nil {
		return nil, fmt.Errorf("wsproto: proxy: %w", err)
	}
	dial := opts.NetDialContext
	if dial == nil {
		dial = (&net.Dialer{}).DialContext
	}
	var nc net.Conn
	switch {
	case proxyURL != nil:
		nc, err = dialProxy(ctx, proxyURL, addr, dial, opts)
	case u.Scheme == "wss" && opts.NetDialTLSContext != nil:
		nc, err = opts.NetDialTLSContext(ctx, "tcp", addr)
		if err != nil {
			return nil, fmt.Errorf("wsproto: dial: %w", err)
		}
		return nc, nil
	default:
		nc, err = dial(ctx, "tcp", addr)
		if err != nil {
			err = fmt.Errorf("wsproto: dial: %w", err)
		}
	}
	if err != nil {
		return nil, err
	}
	if u.Scheme == "wss" {
		// The upgrade is an HTTP/1.1 mechanism (RFC 8441 brings it to
		// HTTP/2 by other means).
		if nc, err = clientTLS(ctx, nc, u.Hostname(), opts.TLSConfig, "http/1.1"); err != nil {
			return nil, err
		}
	}
	return nc, nil
}

// clientTLS runs a TLS handshake on nc for host.
func clientTLS(ctx context.Context, nc net.Conn, host string, base *tls.Config, proto string) (net.Conn, error) {
	cfg := &tls.Config{}
	if base != nil {
		cfg = base.Clone()
	}
	if cfg.ServerName == "" {
		cfg.ServerName = host
	}
	cfg.NextProtos = []string{proto}
	tc := tls.Client(nc, cfg)
	if err := tc.HandshakeContext(ctx); err != nil {
		nc.Close()
		return nil, fmt.Errorf("wsproto: TLS handshake with %s: %w", host, err)
	}
	return tc, nil
}

// dialProxy connects to the proxy at p and asks it, with HTTP CONNECT
// (RFC 9110 §9.3.6), for a tunnel to addr.
func dialProxy(ctx context.Context, p *url.URL, addr string, dial func(context.Context, string, string) (net.Conn, error), opts *DialOptions) (net.Conn, error) {
	if p.Scheme != "http" && p.Scheme != "https" {
		return nil, fmt.Errorf("wsproto: proxy scheme %q is not http or https", p.Scheme)
	}
	nc, err := dial(ctx, "tcp", hostPort(p))
	if err != nil {
		return nil, fmt.Errorf("wsproto: dial proxy %s: %w", p.Host, err)
	}
	raw := nc // closing it ends TLS on it too
	stop := context.AfterFunc(ctx, func() { raw.Close() })
	defer stop()
	if p.Scheme == "https" {
		if nc, err = clientTLS(ctx, nc, p.Hostname(), opts.TLSConfig, "http/1.1"); err != nil {
			return nil, err
		}
	}
	req := &http.Request{
		Method: http.MethodConnect,
		URL:    &url.URL{Opaque: addr},
		Host:   addr,
		Header: http.Header{},
	}
	if p.User != nil {
		password, _ := p.User.Password()
		r := &http.Request{Header: http.Header{}}
		r.SetBasicAuth(p.User.Username(), password)
		req.Header.Set("Proxy-Authorization", r.Header.Get("Authorization"))
	}
	if err := req.Write(nc); err != nil {
		nc.Close()
		return nil, fmt.Errorf("wsproto: write CONNECT to proxy %s: %w", p.Host, err)
	}
	limit := &headLimit{r: nc, n: maxHead(opts)}
	br := bufio.NewReaderSize(limit, 1024)
	resp, err := http.ReadResponse(br, req)
	if err != nil && limit.n <= 0 {
		err = ErrResponseHeaderTooLarge
	}
	if err != nil {
		nc.Close()
		return nil, fmt.Errorf("wsproto: read proxy %s's answer: %w", p.Host, err)
	}
	if resp.StatusCode/100 != 2 {
		nc.Close()
		return nil, fmt.Errorf("%w: %s answered CONNECT %s with %s", ErrProxyRefused, p.Host, addr, resp.Status)
	}
	if br.Buffered() > 0 {
		// The server spoke first, and the proxy's reader has its bytes.
		early, _ := br.Peek(br.Buffered())
		return &prefixConn{Conn: nc, prefix: bytes.Clone(early)}, nil
	}
	return nc, nil
}

// prefixConn is a connection whose first bytes were already read.
type prefixConn struct {
	net.Conn
	prefix []byte
}

func (c *prefixConn) Read(p []byte) (int, error) {
	if len(c.prefix) > 0 {
		n := copy(p, c.prefix)
		c.prefix = c.prefix[n:]
		return n, nil
	}
	return c.Conn.Read(p)
}

func maxHead(opts *DialOptions) int {
	if opts.MaxResponseHeaderBytes > 0 {
		return opts.MaxResponseHeaderBytes
	}
	return DefaultMaxResponseHeaderBytes
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

// handshakeOptions are the handshake's options for a request to httpURL,
// with the cookies of opts.Jar.
func (opts *DialOptions) handshakeOptions(httpURL *url.URL) *handshake.ClientOptions {
	header := opts.Header
	if opts.Jar != nil {
		if cookies := opts.Jar.Cookies(httpURL); len(cookies) > 0 {
			header = header.Clone()
			if header == nil {
				header = http.Header{}
			}
			r := &http.Request{Header: header}
			for _, ck := range cookies {
				r.AddCookie(ck)
			}
		}
	}
	hopts := &handshake.ClientOptions{Origin: opts.Origin, Host: opts.Host, Subprotocols: opts.Subprotocols, Header: header}
	if opts.Compression != nil {
		hopts.Extensions = []handshake.Extension{opts.Compression.offer()}
	}
	return hopts
}

func (opts *DialOptions) connConfig() connConfig {
	return connConfig{opts.ReadLimit, opts.ReadBufferSize, opts.WriteBufferSize, opts.CloseTimeout, opts.PingInterval, opts.PingTimeout}
}

// keepCookies gives opts.Jar the cookies resp sets, whatever its status.
func (opts *DialOptions) keepCookies(httpURL *url.URL, resp *http.Response) {
	if opts.Jar != nil {
		if cookies := resp.Cookies(); len(cookies) > 0 {
			opts.Jar.SetCookies(httpURL, cookies)
		}
	}
}

// compression returns the compression state the server agreed to in exts,
// if any.
func (opts *DialOptions) compression(exts []handshake.Extension) (*compression, error) {
	if opts.Compression == nil {
		return nil, nil
	}
	n, ok, err := opts.Compression.check(exts)
	if err != nil || !ok {
		return nil, err
	}
	return newCompression(opts.Compression, n, true), nil
}

func clientHandshake(ctx context.Context, nc net.Conn, u, httpURL *url.URL, opts *DialOptions) (*Conn, *http.Response, error) {
	key, err := handshake.NewKey()
	if err != nil {
		return nil, nil, err
	}
	hopts := opts.handshakeOptions(httpURL)
	bw := bufio.NewWriterSize(nc, 1024)
	if err := handshake.WriteRequest(bw, u, key, hopts); err != nil {
		return nil, nil, err
	}
	if err := bw.Flush(); err != nil {
		return nil, nil, fmt.Errorf("wsproto: write handshake request: %w", err)
	}
	limit := &headLimit{r: nc, n: maxHead(opts)}
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
	opts.keepCookies(httpURL, resp)
	proto, exts, err := handshake.CheckResponse(resp, key, hopts)
	if err != nil {
		body, _ := io.ReadAll(io.LimitReader(resp.Body, maxErrorBody))
		resp.Body = io.NopCloser(bytes.NewReader(body))
		return nil, resp, err
	}
	z, err := opts.compression(exts)
	if err != nil {
		return nil, resp, err
	}
	var leftover []byte
	if n := br.Buffered(); n > 0 {
		leftover, _ = br.Peek(n)
	}
	c := newConn(nc, true, proto, opts.connConfig(), leftover, z)
	return c, resp, nil
}
