package http2test

import (
	"context"
	"crypto/tls"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/db7c6739/ws/wsproto"
	_ "github.com/db7c6739/ws/wsproto/xconnect" // net/http's server offers extended CONNECT
	"github.com/stretchr/testify/require"
	"golang.org/x/net/http2"
)

// server is a test server speaking HTTP/2 and HTTP/1.1, over TLS or
// cleartext, with a client transport for HTTP/2 to it.
type server struct {
	URL string        // ws:// or wss://
	H2  *http2.Transport
	TLS *tls.Config // the client's, for HTTP/1.1 dials; nil for cleartext

	mu   sync.Mutex
	seen []request // every request the handler saw, in order
}

// request is what the server saw of a request.
type request struct {
	Proto, Method, Protocol string
}

func (s *server) requests() []request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]request(nil), s.seen...)
}

// modes are the two ways HTTP/2 runs: over TLS with ALPN "h2", and in
// cleartext with prior knowledge (h2c).
var modes = []string{"tls", "h2c"}

// startServer serves h in mode and returns the server with a fresh
// HTTP/2 transport to it; both end with the test.
func startServer(t testing.TB, mode string, h http.Handler) *server {
	t.Helper()
	s := &server{}
	record := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		s.seen = append(s.seen, request{r.Proto, r.Method, r.Header.Get(":protocol")})
		s.mu.Unlock()
		h.ServeHTTP(w, r)
	})
	switch mode {
	case "tls":
		hs := httptest.NewUnstartedServer(record)
		hs.EnableHTTP2 = true
		hs.StartTLS()
		t.Cleanup(hs.Close)
		cfg := hs.Client().Transport.(*http.Transport).TLSClientConfig.Clone()
		s.TLS = cfg.Clone()
		s.TLS.NextProtos = []string{"http/1.1"}
		cfg.NextProtos = []string{"h2"}
		s.URL = "wss://" + hs.Listener.Addr().String()
		s.H2 = &http2.Transport{TLSClientConfig: cfg}
	case "h2c":
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		require.NoError(t, err)
		var p http.Protocols
		p.SetHTTP1(true)
		p.SetUnencryptedHTTP2(true)
		hs := &http.Server{Handler: record, Protocols: &p}
		go hs.Serve(ln)
		t.Cleanup(func() { hs.Close() })
		s.URL = "ws://" + ln.Addr().String()
		s.H2 = &http2.Transport{
			AllowHTTP: true,
			DialTLSContext: func(ctx context.Context, network, addr string, _ *tls.Config) (net.Conn, error) {
				return (&net.Dialer{}).DialContext(ctx, network, addr)
			},
		}
	default:
		t.Fatalf("unknown mode %q", mode)
	}
	t.Cleanup(s.H2.CloseIdleConnections)
	return s
}

// dial opens a WebSocket to path over HTTP/2 and checks that it went so.
func (s *server) dial(t testing.TB, path string, opts *wsproto.DialOptions) *wsproto.Conn {
	t.Helper()
	if opts == nil {
		opts = &wsproto.DialOptions{}
	}
	opts.HTTP2Transport = s.H2
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, resp, err := wsproto.Dial(ctx, s.URL+path, opts)
	require.NoError(t, err)
	require.Equal(t, 2, resp.ProtoMajor, "the WebSocket went over %s", resp.Proto)
	require.Equal(t, http.StatusOK, resp.StatusCode)
	return c
}

// echo serves an echo WebSocket with opts and reports each connection's
// end on ended, if not nil.
func echo(opts *wsproto.UpgradeOptions, ended chan<- error) http.Handler {
	return wsproto.Handler(opts, func(c *wsproto.Conn, r *http.Request) {
		defer c.CloseNow()
		ctx := context.Background()
		var buf []byte
		for {
			typ, msg, err := c.ReadMessage(ctx, buf)
			if err != nil {
				if ended != nil {
					ended <- err
				}
				return
			}
			if err := c.WriteMessage(ctx, typ, msg); err != nil {
				if ended != nil {
					ended <- err
				}
				return
			}
			buf = msg
		}
	})
}

// http2Only refuses anything but HTTP/2 to h, so that a fall back to
// HTTP/1.1 cannot pass a test unseen.
func http2Only(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.ProtoMajor != 2 {
			http.Error(w, "HTTP/2 only", http.StatusHTTPVersionNotSupported)
			return
		}
		h.ServeHTTP(w, r)
	})
}

var _ = strings.Repeat
