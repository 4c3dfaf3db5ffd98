//go:build !js

package main

import (
	"context"
	"crypto/ecdsa"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/db7c6739/ws/examples/internal/graceful"
	"github.com/db7c6739/ws/examples/internal/graceful/gracefultest"
	"github.com/db7c6739/ws/wsproto"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// testServer is a server running on a loopback port.
type testServer struct {
	s      *server
	base   string // http://127.0.0.1:port or https://...
	ws     string // ws://127.0.0.1:port/ws or wss://...
	client *tls.Config
	stop   func() error // shuts down and returns what serve returned

	mu   sync.Mutex
	seen []seenRequest
}

// seenRequest is a request as the server saw it.
type seenRequest struct {
	Proto, Method, Protocol, Path string
	Remote                        string // the client's address: one per TCP connection
}

// requests returns the requests the server saw, in order.
func (ts *testServer) requests() []seenRequest {
	ts.mu.Lock()
	defer ts.mu.Unlock()
	return append([]seenRequest(nil), ts.seen...)
}

// start serves on 127.0.0.1:0, over TLS with a self-signed certificate if
// useTLS, until the test ends.
func start(t *testing.T, opts options, useTLS bool) *testServer {
	t.Helper()
	if opts.Upgrade == nil {
		opts.Upgrade = &wsproto.UpgradeOptions{ReadLimit: readLimit, Compression: &wsproto.CompressionOptions{}}
	}
	cfg, err := tlsConfig("", "", useTLS)
	require.NoError(t, err)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)

	ts := &testServer{s: newServer(slog.New(slog.NewTextHandler(io.Discard, nil)), opts)}
	// Every request is recorded as the server saw it.
	inner := ts.s.mux
	ts.s.mux = http.NewServeMux()
	ts.s.mux.Handle("/", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ts.mu.Lock()
		ts.seen = append(ts.seen, seenRequest{Proto: r.Proto, Method: r.Method, Protocol: r.Header.Get(":protocol"), Path: r.URL.Path, Remote: r.RemoteAddr})
		ts.mu.Unlock()
		inner.ServeHTTP(w, r)
	}))
	ts.base, ts.ws = "http://"+ln.Addr().String(), "ws://"+ln.Addr().String()+"/ws"
	if useTLS {
		ts.base, ts.ws = "https"+strings.TrimPrefix(ts.base, "http"), "wss"+strings.TrimPrefix(ts.ws, "ws")
		roots := x509.NewCertPool()
		roots.AddCert(cfg.Certificates[0].Leaf)
		ts.client = &tls.Config{RootCAs: roots}
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- serve(ctx, ts.s.log, ln, cfg, ts.s) }()
	stopped := false
	ts.stop = func() error {
		cancel()
		if stopped {
			return nil
		}
		stopped = true
		select {
		case err := <-done:
			return err
		case <-time.After(10 * time.Second):
			return context.DeadlineExceeded
		}
	}
	t.Cleanup(func() { assert.NoError(t, ts.stop()) })
	return ts
}

func (ts *testServer) dial(t *testing.T, compress bool) *wsproto.Conn {
	t.Helper()
	opts := &wsproto.DialOptions{TLSConfig: ts.client}
	if compress {
		opts.Compression = &wsproto.CompressionOptions{}
	}
	c, _, err := wsproto.Dial(context.Background(), ts.ws, opts)
	require.NoError(t, err)
	t.Cleanup(func() { _ = c.CloseNow() })
	return c
}

func (ts *testServer) httpClient() *http.Client {
	return &http.Client{Transport: &http.Transport{TLSClientConfig: ts.client}}
}

func roundTrip(t *testing.T, c *wsproto.Conn, in string) string {
	t.Helper()
	ctx := context.Background()
	require.NoError(t, c.WriteMessage(ctx, wsproto.MessageText, []byte(in)))
	typ, got, err := c.ReadMessage(ctx, nil)
	require.NoError(t, err)
	assert.Equal(t, wsproto.MessageText, typ)
	return string(got)
}

func TestFoldOverWebSocket(t *testing.T) {
	cases := []struct{ in, want string }{
		{"Hello, World", "hello, world"},
		{"Straße", "strasse"},
		{"ﬁ", "fi"},
		{"ΣΑΣ", "σασ"},
		{"İ", "i\u0307"},
		{"ǅ", "ǆ"},
		{"ẞ", "ss"},
		{"", ""},
		{strings.Repeat("ÀÉÎ", 20000), strings.Repeat("àéî", 20000)},
	}
	for _, useTLS := range []bool{false, true} {
		ts := start(t, options{}, useTLS)
		for _, compress := range []bool{false, true} {
			name := strings.SplitN(ts.ws, ":", 2)[0]
			if compress {
				name += "+deflate"
			}
			t.Run(name, func(t *testing.T) {
				c := ts.dial(t, compress)
				for _, tc := range cases {
					assert.Equal(t, tc.want, roundTrip(t, c, tc.in))
				}
				require.NoError(t, c.Close(wsproto.CloseNormalClosure, ""))
			})
		}
	}
}

func TestBinaryRefused(t *testing.T) {
	ts := start(t, options{}, false)
	c := ts.dial(t, false)
	ctx := context.Background()
	require.NoError(t, c.WriteMessage(ctx, wsproto.MessageBinary, []byte{1, 2, 3}))
	_, _, err := c.ReadMessage(ctx, nil)
	var ce *wsproto.CloseError
	require.ErrorAs(t, err, &ce)
	assert.Equal(t, wsproto.CloseUnsupportedData, ce.Code)
	assert.Equal(t, "text messages only", ce.Reason)
}

func TestAsciiOnly(t *testing.T) {
	ts := start(t, options{AsciiOnly: true}, false)
	c := ts.dial(t, false)
	ctx := context.Background()
	require.NoError(t, c.WriteMessage(ctx, wsproto.MessageText, []byte("Straße")))
	assert.Equal(t, "plain ascii", roundTrip(t, c, "PLAIN ASCII"))
	assert.Equal(t, "", roundTrip(t, c, ""))

	// Without the flag, the same input is answered.
	ts = start(t, options{}, false)
	c = ts.dial(t, false)
	assert.Equal(t, "strasse", roundTrip(t, c, "Straße"))
}

func TestPage(t *testing.T) {
	for _, useTLS := range []bool{false, true} {
		ts := start(t, options{}, useTLS)
		client := ts.httpClient()
		get := func(t *testing.T, path string) (*http.Response, string) {
			resp, err := client.Get(ts.base + path)
			require.NoError(t, err)
			defer resp.Body.Close()
			body, err := io.ReadAll(resp.Body)
			require.NoError(t, err)
			return resp, string(body)
		}
		t.Run(ts.base[:strings.Index(ts.base, ":")], func(t *testing.T) {
			resp, body := get(t, "/")
			assert.Equal(t, http.StatusOK, resp.StatusCode)
			assert.Equal(t, "text/html; charset=utf-8", resp.Header.Get("Content-Type"))
			for _, s := range []string{`<input id="input"`, `<button id="send"`, `>Send</button>`, `<ul id="responses">`, `<span id="status">connecting</span>`, `<script src="/wstest.js">`} {
				assert.Contains(t, body, s)
			}

			resp, body = get(t, "/wstest.js")
			assert.Equal(t, http.StatusOK, resp.StatusCode)
			assert.Equal(t, "text/javascript; charset=utf-8", resp.Header.Get("Content-Type"))
			assert.Contains(t, body, "new WebSocket(")
			assert.Contains(t, body, `(location.protocol === 'https:' ? 'wss:' : 'ws:') + '//' + location.host + '/ws'`)
			assert.NotContains(t, body, "innerHTML")

			for _, path := range []string{"/nope", "/index.html", "/ws/x"} {
				resp, _ = get(t, path)
				assert.Equal(t, http.StatusNotFound, resp.StatusCode, path)
			}
			// /ws without an upgrade is refused by the handshake.
			resp, _ = get(t, "/ws")
			assert.GreaterOrEqual(t, resp.StatusCode, 400)
		})
	}
}

func TestCrossOriginRefused(t *testing.T) {
	ts := start(t, options{}, false)
	_, resp, err := wsproto.Dial(context.Background(), ts.ws, &wsproto.DialOptions{Origin: "https://evil.example"})
	require.Error(t, err)
	assert.Equal(t, http.StatusForbidden, resp.StatusCode)
}

func TestShutdownSaysGoingAway(t *testing.T) {
	ts := start(t, options{}, true)
	c := ts.dial(t, false)
	assert.Equal(t, "ok", roundTrip(t, c, "OK")) // the server tracks c now
	errc := make(chan error, 1)
	go func() {
		_, _, err := c.ReadMessage(context.Background(), nil)
		errc <- err
	}()
	require.NoError(t, ts.stop())
	var ce *wsproto.CloseError
	require.ErrorAs(t, <-errc, &ce)
	assert.Equal(t, wsproto.CloseGoingAway, ce.Code)
	assert.Equal(t, "server shutting down", ce.Reason)
}

// TestShutdownPrompt: the server stops promptly with a browser-like spare
// connection, an idle keep-alive, a WebSocket that never reads and one
// that does attached.
func TestShutdownPrompt(t *testing.T) {
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	gracefultest.Shutdown(t, func(ctx context.Context, ln net.Listener) error {
		return serve(ctx, log, ln, nil, newServer(log, options{Upgrade: upgradeOptions(graceful.Heartbeat{})}))
	}, "/ws", 2*time.Second)
}

// TestHeartbeat: with -ping-interval 1s -pong-timeout 1s, a WebSocket that
// never answers is closed, and one that reads stays.
func TestHeartbeat(t *testing.T) {
	hb := gracefultest.HeartbeatFlags(t, "-ping-interval", "1s", "-pong-timeout", "1s")
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	gracefultest.Heartbeat(t, func(ctx context.Context, ln net.Listener) error {
		return serve(ctx, log, ln, nil, newServer(log, options{Upgrade: upgradeOptions(hb)}))
	}, "/ws", 10*time.Second)
}

func TestTLSConfig(t *testing.T) {
	t.Run("plain", func(t *testing.T) {
		cfg, err := tlsConfig("", "", false)
		require.NoError(t, err)
		assert.Nil(t, cfg)
	})
	t.Run("self-signed", func(t *testing.T) {
		now := time.Now()
		cfg, err := tlsConfig("", "", true)
		require.NoError(t, err)
		assert.Equal(t, []string{"http/1.1"}, cfg.NextProtos)
		leaf := cfg.Certificates[0].Leaf
		require.NotNil(t, leaf)
		assert.IsType(t, &ecdsa.PublicKey{}, leaf.PublicKey)
		assert.WithinDuration(t, now.Add(24*time.Hour), leaf.NotAfter, time.Minute)
		for _, host := range []string{"localhost", "127.0.0.1", "::1"} {
			assert.NoError(t, leaf.VerifyHostname(host), host)
		}
		assert.Error(t, leaf.VerifyHostname("example.com"))
	})
	t.Run("files", func(t *testing.T) {
		cert, err := selfSignedCert(time.Now())
		require.NoError(t, err)
		dir := t.TempDir()
		certFile, keyFile := filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
		key, err := x509.MarshalPKCS8PrivateKey(cert.PrivateKey)
		require.NoError(t, err)
		require.NoError(t, os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: cert.Certificate[0]}), 0o600))
		require.NoError(t, os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: key}), 0o600))

		cfg, err := tlsConfig(certFile, keyFile, false)
		require.NoError(t, err)
		assert.Equal(t, cert.Certificate, cfg.Certificates[0].Certificate)

		_, err = tlsConfig(certFile, filepath.Join(dir, "missing.pem"), false)
		assert.Error(t, err)
	})
	for name, args := range map[string][2]string{"cert without key": {"c.pem", ""}, "key without cert": {"", "k.pem"}} {
		t.Run(name, func(t *testing.T) {
			_, err := tlsConfig(args[0], args[1], false)
			assert.ErrorContains(t, err, "go together")
		})
	}
	t.Run("self-signed and files", func(t *testing.T) {
		_, err := tlsConfig("c.pem", "k.pem", true)
		assert.Error(t, err)
	})
}
