//go:build !js

// Package gracefultest checks, for the examples' tests, that a server
// stops promptly with every kind of client attached.
package gracefultest

import (
	"bufio"
	"context"
	"encoding/binary"
	"errors"
	"flag"
	"net"
	"net/http"
	"testing"
	"time"

	"github.com/db7c6739/ws/examples/internal/graceful"
	"github.com/db7c6739/ws/wsproto"
)

// Shutdown starts serve on a loopback listener and attaches four clients:
// a TCP connection that never sends a request (as browsers open), an idle
// HTTP keep-alive connection, a WebSocket on a raw socket that never reads
// again (so it never answers a close), and a wsproto client reading at
// wsPath. Then it ends serve's context and checks that serve returns
// within limit and that the wsproto client heard 1001. It returns how long
// serve took to return.
func Shutdown(t *testing.T, serve func(context.Context, net.Listener) error, wsPath string, limit time.Duration) time.Duration {
	t.Helper()
	addr, cancel, served := start(t, serve)
	defer cancel()

	var raw []net.Conn
	defer func() {
		for _, c := range raw {
			c.Close()
		}
	}()
	dial := func() net.Conn {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		raw = append(raw, c)
		return c
	}
	dial() // never sends a request

	idle := dial() // one request, then idle in keep-alive
	if _, err := idle.Write([]byte("GET /nothing-here HTTP/1.1\r\nHost: x\r\n\r\n")); err != nil {
		t.Fatal(err)
	}
	resp, err := http.ReadResponse(bufio.NewReader(idle), nil)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()

	silent, _ := rawWebSocket(t, addr, wsPath) // never reads after the handshake
	raw = append(raw, silent)

	c, closed := readingClient(t, "ws://"+addr+wsPath)
	defer c.CloseNow()

	// The server serves the client once a ping's round trip says so (a
	// WebSocket it takes over later is closed as the shutdown finds it).
	pctx, pcancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer pcancel()
	if _, err := c.Ping(pctx, nil); err != nil {
		t.Fatal(err)
	}

	shutdownAt := time.Now()
	cancel()
	select {
	case err := <-served:
		if err != nil {
			t.Errorf("serve: %v", err)
		}
	case <-time.After(limit):
		t.Fatalf("serve did not return within %v of the shutdown", limit)
	}
	took := time.Since(shutdownAt)
	ce, ok := errors.AsType[*wsproto.CloseError](<-closed)
	if !ok || ce.Code != wsproto.CloseGoingAway {
		t.Errorf("the client's read ended with %v, want a close with 1001", ce)
	}
	t.Logf("serve returned %v after the shutdown began", took)
	return took
}

// Heartbeat starts serve, which must run the server with a heartbeat of
// -ping-interval 1s -pong-timeout 1s, and attaches two WebSockets at
// wsPath: a raw socket that completes the handshake and never answers
// anything, and a wsproto client that reads. It checks that the server
// closes the silent one within limit, and that the reading one is still
// served after two pings. It returns how long the silent one lasted.
func Heartbeat(t *testing.T, serve func(context.Context, net.Listener) error, wsPath string, limit time.Duration) time.Duration {
	t.Helper()
	addr, cancel, served := start(t, serve)
	defer func() {
		cancel()
		if err := <-served; err != nil {
			t.Errorf("serve: %v", err)
		}
	}()

	began := time.Now()
	silent, br := rawWebSocket(t, addr, wsPath)
	defer silent.Close()

	reader, readErr := readingClient(t, "ws://"+addr+wsPath)
	defer reader.CloseNow()
	pings := make(chan struct{}, 64)
	reader.SetPingHandler(func([]byte) { pings <- struct{}{} })

	// The silent socket's bytes, read only to learn when the server ends
	// it: nothing is ever sent back.
	_ = silent.SetReadDeadline(time.Now().Add(limit))
	var got []byte
	buf := make([]byte, 512)
	for {
		n, err := br.Read(buf)
		got = append(got, buf[:n]...)
		if err != nil {
			if ne, ok := errors.AsType[net.Error](err); ok && ne.Timeout() {
				t.Fatalf("the silent WebSocket was still open %v after its handshake", limit)
			}
			break
		}
	}
	lasted := time.Since(began)
	if !hasPing(got) {
		t.Errorf("the silent WebSocket got no ping in % .64x", got)
	}

	for range 2 {
		select {
		case <-pings:
		case err := <-readErr:
			t.Fatalf("the reading client was closed: %v", err)
		case <-time.After(limit):
			t.Fatal("the reading client got no ping")
		}
	}
	pctx, pcancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer pcancel()
	if _, err := reader.Ping(pctx, nil); err != nil {
		t.Errorf("the reading client, after two pings: %v", err)
	}
	t.Logf("the silent WebSocket was closed %v after its handshake; the reading one stays", lasted)
	return lasted
}

// hasPing reports whether the server's frames in b include a ping. Server
// frames are unmasked; the raw socket offered no extension.
func hasPing(b []byte) bool {
	for len(b) >= 2 {
		op, n, hdr := b[0]&0x0f, int(b[1]&0x7f), 2
		switch n {
		case 126:
			if len(b) < 4 {
				return false
			}
			n, hdr = int(binary.BigEndian.Uint16(b[2:])), 4
		case 127:
			if len(b) < 10 {
				return false
			}
			n, hdr = int(binary.BigEndian.Uint64(b[2:])), 10
		}
		if op == 0x9 {
			return true
		}
		if n > len(b)-hdr {
			return false
		}
		b = b[hdr+n:]
	}
	return false
}

// start runs serve on a loopback listener until cancel is called; served
// gets what serve returns.
func start(t *testing.T, serve func(context.Context, net.Listener) error) (addr string, cancel context.CancelFunc, served <-chan error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- serve(ctx, ln) }()
	return ln.Addr().String(), cancel, done
}

// rawWebSocket opens a WebSocket at path on a raw socket: the handshake,
// and nothing more. The reader holds what followed the 101.
func rawWebSocket(t *testing.T, addr, path string) (net.Conn, *bufio.Reader) {
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Write([]byte("GET " + path + " HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
		"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n")); err != nil {
		t.Fatal(err)
	}
	br := bufio.NewReader(c)
	if resp, err := http.ReadResponse(br, nil); err != nil || resp.StatusCode != http.StatusSwitchingProtocols {
		c.Close()
		t.Fatalf("raw WebSocket handshake: %v, %v", resp, err)
	}
	return c, br
}

// HeartbeatFlags parses args with the heartbeat's flags, as a server's
// command line would.
func HeartbeatFlags(t *testing.T, args ...string) graceful.Heartbeat {
	var hb graceful.Heartbeat
	fs := flag.NewFlagSet("example", flag.ContinueOnError)
	hb.Register(fs)
	if err := fs.Parse(args); err != nil {
		t.Fatal(err)
	}
	return hb
}

// readingClient dials url and reads, discarding messages, until the
// connection ends; ended gets the error that ended it.
func readingClient(t *testing.T, url string) (c *wsproto.Conn, ended <-chan error) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, _, err := wsproto.Dial(ctx, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	errc := make(chan error, 1)
	go func() {
		for {
			if _, _, err := c.ReadMessage(context.Background(), nil); err != nil {
				errc <- err
				return
			}
		}
	}()
	return c, errc
}
