package http2test

import (
	"context"
	"crypto/tls"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/db7c6739/ws/frame"
	"github.com/db7c6739/ws/wsproto"
	_ "github.com/db7c6739/ws/wsproto/xconnect" // net/http's server offers extended CONNECT
	"github.com/stretchr/testify/require"
	"golang.org/x/net/http2"
)

// server is a test server speaking HTTP/2 and HTTP/1.1, over TLS or
// cleartext, with a client transport for HTTP/2 to it.
type server struct {
	URL string // ws:// or wss://
	H2  *http2.Transport
	TLS *tls.Config // the client's, for HTTP/1.1 dials; nil for cleartext

	mu   sync.Mutex
	seen []request // every request the handler saw, in order

	tcp atomic.Int32 // TCP connections accepted
}

func (s *server) countConn(_ net.Conn, state http.ConnState) {
	if state == http.StateNew {
		s.tcp.Add(1)
	}
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

// startServer serves h in mode (and an echo over HTTP/2 at /echo) and returns the server with a fresh
// HTTP/2 transport to it; both end with the test.
func startServer(t testing.TB, mode string, h http.Handler) *server {
	t.Helper()
	s := &server{}
	echoes := http2Only(echo(nil, nil))
	record := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		s.seen = append(s.seen, request{r.Proto, r.Method, r.Header.Get(":protocol")})
		s.mu.Unlock()
		if r.URL.Path == "/echo" {
			echoes.ServeHTTP(w, r)
			return
		}
		h.ServeHTTP(w, r)
	})
	switch mode {
	case "tls":
		hs := httptest.NewUnstartedServer(record)
		hs.Config.ConnState = s.countConn
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
		hs := &http.Server{Handler: record, Protocols: &p, ConnState: s.countConn}
		go hs.Serve(ln)
		t.Cleanup(func() { hs.Close() })
		s.URL = "ws://" + ln.Addr().String()
		s.H2 = h2cTransport()
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

// h2cTransport is an HTTP/2 client transport in cleartext.
func h2cTransport() *http2.Transport {
	return &http2.Transport{AllowHTTP: true, DialTLSContext: func(ctx context.Context, network, addr string, _ *tls.Config) (net.Conn, error) {
		return (&net.Dialer{}).DialContext(ctx, network, addr)
	}}
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

// pair opens a WebSocket over HTTP/2 in mode and returns both ends: the
// server's, served by Handler (which keeps the stream until it closes),
// and the client's.
func pair(t testing.TB, mode string, uopts *wsproto.UpgradeOptions, dopts *wsproto.DialOptions) (server, client *wsproto.Conn, s *server) {
	t.Helper()
	conns := make(chan *wsproto.Conn, 1)
	s = startServer(t, mode, http2Only(wsproto.Handler(uopts, func(c *wsproto.Conn, r *http.Request) {
		conns <- c
	})))
	client = s.dial(t, "/", dopts)
	t.Cleanup(func() { client.CloseNow() })
	server = <-conns
	t.Cleanup(func() { server.CloseNow() })
	return server, client, s
}

// echoLoop echoes on c until it fails, and sends the failure on the
// channel it returns.
func echoLoop(c *wsproto.Conn) <-chan error {
	done := make(chan error, 1)
	go func() {
		ctx := context.Background()
		var buf []byte
		for {
			typ, msg, err := c.ReadMessage(ctx, buf)
			if err == nil {
				err = c.WriteMessage(ctx, typ, msg)
			}
			if err != nil {
				done <- err
				return
			}
			buf = msg
		}
	}()
	return done
}

// checkGoroutines fails the test if it leaves goroutines behind once its
// cleanups registered later than this call (servers, transports) ran.
func checkGoroutines(t *testing.T) {
	before := runtime.NumGoroutine()
	t.Cleanup(func() {
		// Not require.Eventually: it runs the condition on a goroutine of
		// its own, which would count.
		tick := time.NewTicker(5 * time.Millisecond)
		defer tick.Stop()
		for deadline := time.Now().Add(5 * time.Second); runtime.NumGoroutine() > before && time.Now().Before(deadline); <-tick.C {
		}
		if n := runtime.NumGoroutine(); n > before {
			buf := make([]byte, 1<<20)
			t.Fatalf("goroutines leaked: %d, were %d\n%s", n, before, buf[:runtime.Stack(buf, true)])
		}
	})
}

// rawStream is a WebSocket over HTTP/2 whose bytes the test spells: the
// extended CONNECT goes through the transport, and frames are written to
// the request body and read from the response body as they are.
type rawStream struct {
	t      testing.TB
	resp   *http.Response
	w      *io.PipeWriter
	cancel context.CancelFunc
}

// connect sends an extended CONNECT with header (the handshake's own
// fields, :protocol included, are the test's to set) and returns the
// stream whatever the status.
func (s *server) connect(t testing.TB, method string, header http.Header) *rawStream {
	t.Helper()
	u := strings.Replace(strings.Replace(s.URL, "wss://", "https://", 1), "ws://", "http://", 1)
	ctx, cancel := context.WithCancel(context.Background())
	pr, pw := io.Pipe()
	req, err := http.NewRequestWithContext(ctx, method, u+"/", pr)
	require.NoError(t, err)
	req.Header = header
	resp, err := s.H2.RoundTrip(req)
	require.NoError(t, err)
	rs := &rawStream{t: t, resp: resp, w: pw, cancel: cancel}
	t.Cleanup(func() {
		cancel()
		pw.Close()
		resp.Body.Close()
	})
	return rs
}

// wsHeader is the header of a valid extended CONNECT.
func wsHeader() http.Header {
	return http.Header{":protocol": {"websocket"}, "Sec-Websocket-Version": {"13"}}
}

// send writes a client frame: masked, with the given key.
func (r *rawStream) send(fin bool, op frame.Opcode, payload []byte) {
	r.t.Helper()
	h := frame.Header{Fin: fin, Opcode: op, Masked: true, Mask: [4]byte{1, 2, 3, 4}, Length: int64(len(payload))}
	b := frame.AppendHeader(nil, h)
	p := append([]byte(nil), payload...)
	frame.Mask(h.Mask, 0, p)
	_, err := r.w.Write(append(b, p...))
	require.NoError(r.t, err)
}

// readFrame reads one server frame.
func (r *rawStream) readFrame() (frame.Header, []byte) {
	r.t.Helper()
	var head [frame.MaxHeaderSize]byte
	_, err := io.ReadFull(r.resp.Body, head[:2])
	require.NoError(r.t, err)
	size := frame.HeaderSize(head[1])
	_, err = io.ReadFull(r.resp.Body, head[2:size])
	require.NoError(r.t, err)
	h, _, err := frame.ParseHeader(head[:size])
	require.NoError(r.t, err)
	p := make([]byte, h.Length)
	_, err = io.ReadFull(r.resp.Body, p)
	require.NoError(r.t, err)
	return h, p
}
