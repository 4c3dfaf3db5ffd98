package wsproto

// Helpers for the review_*_test.go files. They are kept apart from
// helpers_test.go so that the review tests do not depend on it.

import (
	"bufio"
	"io"
	"net"
	"net/http"
	"testing"
	"time"

	"github.com/db7c6739/ws/frame"
	"github.com/db7c6739/ws/handshake"
	"github.com/stretchr/testify/require"
)

// reviewServe accepts one connection on 127.0.0.1 and upgrades it with
// UpgradeConn.
func reviewServe(t testing.TB, opts *UpgradeOptions) (addr string, conns <-chan *Conn) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	t.Cleanup(func() { ln.Close() })
	cc := make(chan *Conn, 1)
	go func() {
		nc, err := ln.Accept()
		if err != nil {
			close(cc)
			return
		}
		c, err := UpgradeConn(nc, opts)
		if err != nil {
			close(cc)
			return
		}
		cc <- c
	}()
	return ln.Addr().String(), cc
}

// reviewConnect sends the opening handshake, followed in the same write by
// extra (frames the server will find already buffered), and checks the 101.
func reviewConnect(t testing.TB, addr string, extra []byte) (net.Conn, *bufio.Reader) {
	t.Helper()
	nc, err := net.Dial("tcp", addr)
	require.NoError(t, err)
	t.Cleanup(func() { nc.Close() })
	key := "dGhlIHNhbXBsZSBub25jZQ=="
	req := "GET / HTTP/1.1\r\nHost: " + addr + "\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
		"Sec-WebSocket-Key: " + key + "\r\nSec-WebSocket-Version: 13\r\n\r\n"
	_, err = nc.Write(append([]byte(req), extra...))
	require.NoError(t, err)
	_ = nc.SetReadDeadline(time.Now().Add(10 * time.Second))
	br := bufio.NewReader(nc)
	resp, err := http.ReadResponse(br, nil)
	require.NoError(t, err)
	require.Equal(t, http.StatusSwitchingProtocols, resp.StatusCode)
	require.Equal(t, handshake.AcceptKey(key), resp.Header.Get("Sec-WebSocket-Accept"))
	_ = nc.SetReadDeadline(time.Time{})
	return nc, br
}

// reviewAccept waits, bounded, for the server end.
func reviewAccept(t testing.TB, conns <-chan *Conn) *Conn {
	t.Helper()
	select {
	case c := <-conns:
		require.NotNil(t, c, "upgrade failed")
		t.Cleanup(func() { c.CloseNow() })
		return c
	case <-time.After(10 * time.Second):
		t.Fatal("no connection upgraded")
		return nil
	}
}

// reviewFrame encodes one client frame, masked with key.
func reviewFrame(fin bool, op frame.Opcode, key [4]byte, payload []byte) []byte {
	h := frame.Header{Fin: fin, Opcode: op, Masked: true, Mask: key, Length: int64(len(payload))}
	b := frame.AppendHeader(nil, h)
	start := len(b)
	b = append(b, payload...)
	frame.Mask(key, 0, b[start:])
	return b
}

// reviewReadFrame reads one unmasked frame from the server.
func reviewReadFrame(t testing.TB, br *bufio.Reader) (frame.Header, []byte) {
	t.Helper()
	h, err := frame.ReadHeader(br, make([]byte, frame.MaxHeaderSize))
	require.NoError(t, err)
	p := make([]byte, h.Length)
	_, err = io.ReadFull(br, p)
	require.NoError(t, err)
	return h, p
}

// reviewBounded runs f and fails the test if it has not returned within d.
func reviewBounded(t testing.TB, d time.Duration, what string, f func()) bool {
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
