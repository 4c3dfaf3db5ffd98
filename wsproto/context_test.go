//go:build !js

package wsproto

import (
	"bytes"
	"context"
	"errors"
	"io"
	"testing"
	"time"

	"github.com/db7c6739/ws/frame"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestContextRule: whether the context is done when a call starts or ends
// while the call waits, the call fails the same way: its error matches the
// context's error and its cause, and the connection is closed, for both
// ends.
func TestContextRule(t *testing.T) {
	huge := make([]byte, 64<<20) // more than loopback buffers hold: the write waits on the peer
	for _, tc := range []struct {
		name string
		call func(ctx context.Context, c *Conn) error
	}{
		{"ReadMessage", func(ctx context.Context, c *Conn) error {
			_, _, err := c.ReadMessage(ctx, nil)
			return err
		}},
		{"NextReader", func(ctx context.Context, c *Conn) error {
			_, _, err := c.NextReader(ctx)
			return err
		}},
		{"WriteMessage", func(ctx context.Context, c *Conn) error {
			return c.WriteMessage(ctx, MessageBinary, huge)
		}},
		{"NextWriter", func(ctx context.Context, c *Conn) error {
			w, err := c.NextWriter(ctx, MessageBinary)
			if err != nil {
				return err
			}
			if _, err := w.Write(huge); err != nil {
				return err
			}
			return w.Close()
		}},
		{"Ping", func(ctx context.Context, c *Conn) error {
			_, err := c.Ping(ctx, []byte("x"))
			return err
		}},
	} {
		for _, when := range []string{"before", "during"} {
			t.Run(tc.name+"/"+when, func(t *testing.T) {
				checkGoroutines(t)
				// The client takes what the server managed to write of
				// the huge message before the end, and then sees 1006.
				server, client := pair(t, nil, &DialOptions{ReadLimit: -1})
				cause := errors.New("the visitor left")
				ctx, cancel := context.WithCancelCause(context.Background())
				errc := make(chan error, 1)
				if when == "before" {
					cancel(cause)
					errc <- tc.call(ctx, server)
				} else {
					go func() { errc <- tc.call(ctx, server) }()
					// Cancel once the call waits: a read holds the read
					// lock, a write the write lock with the peer not
					// reading.
					require.Eventually(t, func() bool {
						return server.readLock.held() || !server.writeLock.mu.TryLock() || tryUnlock(server)
					}, 5*time.Second, time.Millisecond)
					cancel(cause)
				}
				var err error
				require.True(t, bounded(t, 5*time.Second, tc.name, func() { err = <-errc }))
				require.ErrorIs(t, err, context.Canceled)
				require.ErrorIs(t, err, cause)
				assert.Equal(t, CloseAbnormalClosure, CloseStatus(err))
				assert.ErrorIs(t, server.WriteMessage(context.Background(), MessageText, []byte("x")), ErrClosed,
					"the connection is closed")
				_, _, err = client.ReadMessage(context.Background(), nil)
				assert.Equal(t, CloseAbnormalClosure, CloseStatus(err), "the peer sees the end: %v", err)
			})
		}
	}
}

// tryUnlock undoes a TryLock that succeeded in the condition above and
// reports false: the write lock was free, so no write waits yet.
func tryUnlock(c *Conn) bool {
	c.writeLock.unlock()
	return false
}

// TestStaleReader: a reader from an earlier NextReader fails with
// ErrStaleReader once another message is asked for; it never reads the
// next message's bytes.
func TestStaleReader(t *testing.T) {
	server, client := pair(t, nil, nil)
	ctx := context.Background()
	for _, m := range []string{"first message", "second message", "third"} {
		require.NoError(t, client.WriteMessage(ctx, MessageText, []byte(m)))
	}
	_, first, err := server.NextReader(ctx)
	require.NoError(t, err)
	p := make([]byte, 5)
	n, err := first.Read(p)
	require.NoError(t, err)
	assert.Equal(t, "first", string(p[:n]))

	_, second, err := server.NextReader(ctx)
	require.NoError(t, err)
	n, err = first.Read(p)
	assert.Zero(t, n)
	assert.ErrorIs(t, err, ErrStaleReader)
	got, err := io.ReadAll(second)
	require.NoError(t, err)
	assert.Equal(t, "second message", string(got))

	_, msg, err := server.ReadMessage(ctx, nil)
	require.NoError(t, err)
	assert.Equal(t, "third", string(msg))
	_, err = second.Read(p)
	assert.ErrorIs(t, err, ErrStaleReader, "ReadMessage ends the reader too")
}

// TestCloseFromHandlers: Close called from a ping or pong handler, on the
// reading goroutine, completes as soon as the peer answers, not at the
// close timeout.
func TestCloseFromHandlers(t *testing.T) {
	for _, which := range []string{"ping", "pong"} {
		t.Run(which, func(t *testing.T) {
			checkGoroutines(t)
			server, client := pair(t, &UpgradeOptions{CloseTimeout: time.Minute}, nil)
			closed := make(chan error, 1)
			handler := func([]byte) { closed <- server.Close(CloseGoingAway, "bye from the handler") }
			if which == "ping" {
				server.SetPingHandler(handler)
			} else {
				server.SetPongHandler(handler)
			}
			reading := readInBackground(server)
			peer := readInBackground(client) // answers pings, and the close
			ctx := context.Background()
			if which == "ping" {
				go client.Ping(ctx, nil) // ends with the connection
			} else {
				go server.Ping(ctx, nil)
			}
			var err error
			require.True(t, bounded(t, 10*time.Second, "Close from the handler", func() { err = <-closed }))
			assert.NoError(t, err)
			err = <-reading
			assert.Equal(t, CloseGoingAway, CloseStatus(err), "the read sees the closing handshake: %v", err)
			err = <-peer
			assert.Equal(t, CloseGoingAway, CloseStatus(err))
		})
	}
}

// TestCloseTimeoutIsADeadline: a peer that never answers the close frame
// makes Close return, at the close timeout, an error that matches
// context.DeadlineExceeded like every other timeout of the package.
func TestCloseTimeoutIsADeadline(t *testing.T) {
	addr, conns, _ := listenRaw(t, &UpgradeOptions{CloseTimeout: 50 * time.Millisecond})
	rc := dialRaw(t, addr)
	server := <-conns
	go func() { _, _ = io.Copy(io.Discard, rc.br) }() // reads, never answers
	err := server.Close(CloseNormalClosure, "")
	require.ErrorIs(t, err, context.DeadlineExceeded)
	assert.Equal(t, CloseAbnormalClosure, CloseStatus(err))
}

// TestCloseWhileAnotherHandles: Close from one goroutine while the reader
// is in a pong handler on another takes the reading over; the peer never
// answers, the close times out, and the reader, once its handler returns,
// reports how the connection ended. Run with -race.
func TestCloseWhileAnotherHandles(t *testing.T) {
	checkGoroutines(t)
	addr, conns, _ := listenRaw(t, &UpgradeOptions{CloseTimeout: 50 * time.Millisecond})
	rc := dialRaw(t, addr)
	server := <-conns
	inHandler, release := make(chan struct{}), make(chan struct{})
	server.SetPongHandler(func([]byte) {
		close(inHandler)
		<-release
	})
	reading := readInBackground(server)
	rc.send(frameBytes(true, frame.OpPong, true, []byte("unasked")))
	<-inHandler
	go func() { _, _ = io.Copy(io.Discard, rc.br) }() // reads, never answers
	err := server.Close(CloseNormalClosure, "")
	require.ErrorIs(t, err, context.DeadlineExceeded)
	close(release)
	err = <-reading
	assert.ErrorIs(t, err, context.DeadlineExceeded)
	assert.Equal(t, CloseAbnormalClosure, CloseStatus(err))
}

// TestCloseFromHandlerInCompressedMessage: a pong between the frames of a
// compressed message whose handler calls Close: the rest of the message
// is skipped as it is, not inflated again under the decompressor, and the
// closing handshake completes with 1000 (not 1007).
func TestCloseFromHandlerInCompressedMessage(t *testing.T) {
	checkGoroutines(t)
	addr, conns, _ := listenRaw(t, &UpgradeOptions{Compression: &CompressionOptions{}, CloseTimeout: 5 * time.Second})
	rc := dialRawWith(t, addr, "Sec-WebSocket-Extensions: permessage-deflate; client_no_context_takeover\r\n")
	server := <-conns
	closed := make(chan error, 1)
	server.SetPongHandler(func([]byte) { closed <- server.Close(CloseNormalClosure, "bye") })
	reading := readInBackground(server)
	body := deflateRaw(bytes.Repeat([]byte("compressible text, "), 30000))
	half := len(body) / 2
	rc.send(maskedRsv1(frameBytes(false, frame.OpText, true, body[:half])),
		frameBytes(true, frame.OpPong, true, []byte("now")))
	assert.Equal(t, CloseNormalClosure, rc.readClose())
	rc.send(frameBytes(true, frame.OpContinuation, true, body[half:]),
		frameBytes(true, frame.OpClose, true, []byte{0x03, 0xe8}))
	var err error
	require.True(t, bounded(t, 5*time.Second, "Close", func() { err = <-closed }))
	assert.NoError(t, err)
	err = <-reading
	assert.Equal(t, CloseNormalClosure, CloseStatus(err), "%v", err)
}
