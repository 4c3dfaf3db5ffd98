//go:build !js

package wsproto

import (
	"bufio"
	"context"
	"encoding/binary"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/db7c6739/ws/frame"
	"github.com/db7c6739/ws/handshake"
	"github.com/stretchr/testify/require"
)

// pair returns both ends of a connection over loopback through net/http:
// the server end from Upgrade, the client end from Dial.
func pair(t testing.TB, sopts *UpgradeOptions, dopts *DialOptions) (server, client *Conn) {
	t.Helper()
	conns := make(chan *Conn, 1)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := Upgrade(w, r, sopts)
		if err != nil {
			conns <- nil
			return
		}
		conns <- c
	}))
	t.Cleanup(srv.Close)
	client, _, err := Dial(context.Background(), "ws"+strings.TrimPrefix(srv.URL, "http"), dopts)
	require.NoError(t, err)
	server = <-conns
	require.NotNil(t, server)
	t.Cleanup(func() {
		server.CloseNow()
		client.CloseNow()
	})
	return server, client
}

// echoLoop echoes every message on c until reading fails, and reports the
// error that ended it.
func echoLoop(c *Conn) <-chan error {
	done := make(chan error, 1)
	go func() {
		var buf []byte
		for {
			typ, msg, err := c.ReadMessage(context.Background(), buf)
			if err != nil {
				done <- err
				return
			}
			if err := c.WriteMessage(context.Background(), typ, msg); err != nil {
				done <- err
				return
			}
			buf = msg
		}
	}()
	return done
}

// readInBackground starts one ReadMessage on c and returns where its error
// arrives.
func readInBackground(c *Conn) <-chan error {
	errc := make(chan error, 1)
	go func() {
		_, _, err := c.ReadMessage(context.Background(), nil)
		errc <- err
	}()
	return errc
}

// rawClient is a hand-made client that speaks bytes to a server: it does the
// handshake and then sends frames exactly as a test spells them.
type rawClient struct {
	t    testing.TB
	nc   net.Conn
	br   *bufio.Reader
	resp *http.Response // the server's answer to the handshake
}

// listenRaw serves one connection with UpgradeConn and hands the Conn, or
// the error, to the test.
func listenRaw(t testing.TB, opts *UpgradeOptions) (addr string, conns <-chan *Conn, errs <-chan error) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	t.Cleanup(func() { ln.Close() })
	cc := make(chan *Conn, 1)
	ec := make(chan error, 1)
	go func() {
		nc, err := ln.Accept()
		if err != nil {
			ec <- err
			return
		}
		c, err := UpgradeConn(nc, opts)
		if err != nil {
			ec <- err
			return
		}
		t.Cleanup(func() { c.CloseNow() })
		cc <- c
	}()
	return ln.Addr().String(), cc, ec
}

// dialRaw does the opening handshake with the server at addr. Any early
// bytes go out in the same write as the request, so that the server finds
// them already buffered behind it.
func dialRaw(t testing.TB, addr string, early ...[]byte) *rawClient {
	t.Helper()
	return dialRawWith(t, addr, "", early...)
}

// dialRawWith is dialRaw with extra header lines ("Name: value\r\n") in the
// request; the response stays in the rawClient.
func dialRawWith(t testing.TB, addr, header string, early ...[]byte) *rawClient {
	t.Helper()
	nc, err := net.Dial("tcp", addr)
	require.NoError(t, err)
	t.Cleanup(func() { nc.Close() })
	_ = nc.SetDeadline(time.Now().Add(10 * time.Second))
	key := "dGhlIHNhbXBsZSBub25jZQ=="
	req := []byte("GET / HTTP/1.1\r\nHost: " + addr + "\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
		"Sec-WebSocket-Key: " + key + "\r\nSec-WebSocket-Version: 13\r\n" + header + "\r\n")
	for _, b := range early {
		req = append(req, b...)
	}
	_, err = nc.Write(req)
	require.NoError(t, err)
	br := bufio.NewReader(nc)
	resp, err := http.ReadResponse(br, nil)
	require.NoError(t, err)
	require.Equal(t, http.StatusSwitchingProtocols, resp.StatusCode)
	require.Equal(t, handshake.AcceptKey(key), resp.Header.Get("Sec-WebSocket-Accept"))
	return &rawClient{t: t, nc: nc, br: br, resp: resp}
}

// frameBytes encodes one frame; masked frames use a fixed key.
func frameBytes(fin bool, op frame.Opcode, masked bool, payload []byte) []byte {
	if masked {
		return maskedFrameBytes(fin, op, [4]byte{0x11, 0x22, 0x33, 0x44}, payload)
	}
	h := frame.Header{Fin: fin, Opcode: op, Length: int64(len(payload))}
	return append(frame.AppendHeader(nil, h), payload...)
}

// maskedFrameBytes encodes one frame masked with key.
func maskedFrameBytes(fin bool, op frame.Opcode, key [4]byte, payload []byte) []byte {
	h := frame.Header{Fin: fin, Opcode: op, Masked: true, Mask: key, Length: int64(len(payload))}
	b := frame.AppendHeader(nil, h)
	start := len(b)
	b = append(b, payload...)
	frame.Mask(key, 0, b[start:])
	return b
}

// send writes raw bytes to the server.
func (r *rawClient) send(b ...[]byte) {
	r.t.Helper()
	for _, p := range b {
		_, err := r.nc.Write(p)
		require.NoError(r.t, err)
	}
}

// readFrame reads one unmasked frame from the server.
func (r *rawClient) readFrame() (frame.Header, []byte) {
	r.t.Helper()
	h, err := frame.ReadHeader(r.br, make([]byte, frame.MaxHeaderSize))
	require.NoError(r.t, err)
	require.False(r.t, h.Masked, "a server must not mask")
	p := make([]byte, h.Length)
	_, err = io.ReadFull(r.br, p)
	require.NoError(r.t, err)
	return h, p
}

// readClose reads frames until a close frame and returns its code.
func (r *rawClient) readClose() frame.CloseCode {
	r.t.Helper()
	for {
		h, p := r.readFrame()
		if h.Opcode == frame.OpClose {
			require.GreaterOrEqual(r.t, len(p), 2, "close frame should carry a code")
			return frame.CloseCode(binary.BigEndian.Uint16(p))
		}
	}
}

// expectEOF checks that the server closes the TCP connection.
func (r *rawClient) expectEOF() {
	r.t.Helper()
	_, err := io.Copy(io.Discard, r.br)
	require.NoError(r.t, err, "want a clean EOF from the server")
}

// bounded runs f and fails the test if it has not returned within d.
func bounded(t testing.TB, d time.Duration, what string, f func()) bool {
	t.Helper()
	done := make(chan struct{})
	go func() {
		defer close(done)
		f()
	}()
	select {
	case <-done:
		return true
	case <-time.After(d):
		t.Errorf("%s did not return within %v", what, d)
		return false
	}
}

// checkGoroutines fails the test if goroutines started during it are still
// running a little after it ends.
func checkGoroutines(t *testing.T) {
	before := runtime.NumGoroutine()
	t.Cleanup(func() {
		// Not require.Eventually: it runs the condition on a goroutine of
		// its own, which would count.
		tick := time.NewTicker(5 * time.Millisecond)
		defer tick.Stop()
		for deadline := time.Now().Add(5 * time.Second); runtime.NumGoroutine() > before && time.Now().Before(deadline); <-tick.C {
		}
		require.LessOrEqual(t, runtime.NumGoroutine(), before, "goroutines leaked")
	})
}

// rawServer is a hand-made server that answers the handshake and then
// speaks bytes as a test spells them, to test the client end.
type rawServer struct {
	addr  string
	conns chan *rawPeer
}

type rawPeer struct {
	t  testing.TB
	nc net.Conn
	br *bufio.Reader
}

// newRawServer serves one connection. Any early bytes go out in the same
// write as the 101 response, so that the client finds them already
// buffered behind it.
func newRawServer(t testing.TB, early ...[]byte) *rawServer {
	t.Helper()
	return newRawServerWith(t, "", early...)
}

// newRawServerWith is newRawServer with extra header lines ("Name: value\r\n")
// in the 101 response.
func newRawServerWith(t testing.TB, header string, early ...[]byte) *rawServer {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	t.Cleanup(func() { ln.Close() })
	s := &rawServer{addr: ln.Addr().String(), conns: make(chan *rawPeer, 1)}
	go func() {
		nc, err := ln.Accept()
		if err != nil {
			return
		}
		t.Cleanup(func() { nc.Close() })
		_ = nc.SetDeadline(time.Now().Add(10 * time.Second))
		br := bufio.NewReader(nc)
		req, err := http.ReadRequest(br)
		if err != nil {
			nc.Close()
			return
		}
		resp := []byte("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
			"Sec-WebSocket-Accept: " + handshake.AcceptKey(req.Header.Get("Sec-WebSocket-Key")) + "\r\n" + header + "\r\n")
		for _, b := range early {
			resp = append(resp, b...)
		}
		_, _ = nc.Write(resp)
		s.conns <- &rawPeer{t: t, nc: nc, br: br}
	}()
	return s
}

func (p *rawPeer) send(b ...[]byte) {
	p.t.Helper()
	for _, f := range b {
		_, err := p.nc.Write(f)
		require.NoError(p.t, err)
	}
}

// readMaskedFrame reads one frame from the client, which must mask it, and
// returns its unmasked payload.
func (p *rawPeer) readMaskedFrame() (frame.Header, []byte) {
	p.t.Helper()
	h, err := frame.ReadHeader(p.br, make([]byte, frame.MaxHeaderSize))
	require.NoError(p.t, err)
	require.True(p.t, h.Masked, "a client must mask")
	b := make([]byte, h.Length)
	_, err = io.ReadFull(p.br, b)
	require.NoError(p.t, err)
	frame.Mask(h.Mask, 0, b)
	return h, b
}
