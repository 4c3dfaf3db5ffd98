package http2test

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/db7c6739/ws/frame"
	"github.com/db7c6739/ws/wsproto"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Each way a WebSocket over HTTP/2 ends (RFC 8441 §6): a closing handshake
// from either side, then END_STREAM; an abrupt end from either side, a
// stream reset; a peer that never answers; a silent peer caught by the
// heartbeat. After each, the HTTP/2 connection still carries a new
// WebSocket.
func TestClosePaths(t *testing.T) {
	ctx := context.Background()
	for _, mode := range modes {
		t.Run(mode+"/client closes", func(t *testing.T) {
			checkGoroutines(t)
			server, client, s := pair(t, mode, nil, nil)
			done := echoLoop(server)
			require.NoError(t, client.Close(wsproto.CloseGoingAway, "leaving"))
			var ce *wsproto.CloseError
			require.ErrorAs(t, <-done, &ce)
			assert.Equal(t, wsproto.CloseGoingAway, ce.Code)
			assert.Equal(t, "leaving", ce.Reason)
			assert.ErrorIs(t, client.WriteMessage(ctx, wsproto.MessageText, []byte("late")), wsproto.ErrClosed)
			stillServes(t, s)
		})
		t.Run(mode+"/server closes", func(t *testing.T) {
			checkGoroutines(t)
			server, client, s := pair(t, mode, nil, nil)
			done := echoLoop(client)
			require.NoError(t, server.Close(4001, "room closed"))
			var ce *wsproto.CloseError
			require.ErrorAs(t, <-done, &ce)
			assert.Equal(t, wsproto.CloseCode(4001), ce.Code)
			assert.Equal(t, "room closed", ce.Reason)
			stillServes(t, s)
		})
		t.Run(mode+"/client ends abruptly", func(t *testing.T) {
			checkGoroutines(t)
			server, client, s := pair(t, mode, nil, nil)
			done := echoLoop(server)
			require.NoError(t, client.CloseNow())
			err := <-done
			assert.Equal(t, wsproto.CloseAbnormalClosure, wsproto.CloseStatus(err), "%v", err)
			stillServes(t, s)
		})
		t.Run(mode+"/server ends abruptly", func(t *testing.T) {
			checkGoroutines(t)
			server, client, s := pair(t, mode, nil, nil)
			done := echoLoop(client)
			require.NoError(t, server.CloseNow())
			err := <-done
			assert.Equal(t, wsproto.CloseAbnormalClosure, wsproto.CloseStatus(err), "%v", err)
			stillServes(t, s)
		})
		t.Run(mode+"/peer never answers the close", func(t *testing.T) {
			checkGoroutines(t)
			conns := make(chan *wsproto.Conn, 1)
			s := startServer(t, mode, http2Only(wsproto.Handler(&wsproto.UpgradeOptions{CloseTimeout: 100 * time.Millisecond},
				func(c *wsproto.Conn, r *http.Request) { conns <- c })))
			rs := s.connect(t, http.MethodConnect, wsHeader())
			require.Equal(t, http.StatusOK, rs.resp.StatusCode)
			server := <-conns
			start := time.Now()
			err := server.Close(wsproto.CloseNormalClosure, "")
			assert.ErrorIs(t, err, context.DeadlineExceeded)
			assert.Less(t, time.Since(start), 5*time.Second)
			h, p := rs.readFrame()
			assert.Equal(t, frame.OpClose, h.Opcode)
			code, _, err := frame.ParseClosePayload(p)
			require.NoError(t, err)
			assert.Equal(t, frame.CloseNormalClosure, code)
			stillServes(t, s)
		})
		t.Run(mode+"/heartbeat fails a silent peer", func(t *testing.T) {
			checkGoroutines(t)
			conns := make(chan *wsproto.Conn, 1)
			s := startServer(t, mode, http2Only(wsproto.Handler(&wsproto.UpgradeOptions{PingInterval: 50 * time.Millisecond},
				func(c *wsproto.Conn, r *http.Request) { conns <- c })))
			rs := s.connect(t, http.MethodConnect, wsHeader())
			require.Equal(t, http.StatusOK, rs.resp.StatusCode)
			server := <-conns
			_, _, err := server.ReadMessage(ctx, nil)
			assert.ErrorIs(t, err, wsproto.ErrPingTimeout)
			h, _ := rs.readFrame()
			assert.Equal(t, frame.OpPing, h.Opcode, "the heartbeat pinged first")
			stillServes(t, s)
		})
	}
}

// stillServes opens one more WebSocket on the same HTTP/2 transport and
// echoes a message over it.
func stillServes(t *testing.T, s *server) {
	t.Helper()
	c := s.dial(t, "/echo", nil)
	defer c.CloseNow()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	require.NoError(t, c.WriteMessage(ctx, wsproto.MessageText, []byte("still there")))
	_, got, err := c.ReadMessage(ctx, nil)
	require.NoError(t, err)
	assert.Equal(t, "still there", string(got))
	require.NoError(t, c.Close(wsproto.CloseNormalClosure, ""))
}

// A serve function that panics over HTTP/2 is recovered by net/http; its
// Conn is closed first, so that the client hears the end at once.
func TestServePanics(t *testing.T) {
	checkGoroutines(t)
	s := startServer(t, "h2c", http2Only(wsproto.Handler(nil, func(c *wsproto.Conn, r *http.Request) {
		panic(http.ErrAbortHandler) // net/http recovers it without a stack trace
	})))
	c := s.dial(t, "/", nil)
	defer c.CloseNow()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_, _, err := c.ReadMessage(ctx, nil)
	assert.Equal(t, wsproto.CloseAbnormalClosure, wsproto.CloseStatus(err), "%v", err)
	assert.NotErrorIs(t, err, context.DeadlineExceeded)
	stillServes(t, s)
}
