//go:build !js

package wsproto

import (
	"context"
	"errors"
	"io"
	"testing"
	"time"

	"github.com/db7c6739/ws/frame"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestCloseWithStuckWriter: a writer is blocked because the peer stopped
// reading, holding the frame lock. Close must still return within its close
// timeout: it sets the write deadline before waiting for the lock, so the
// stuck write gives way.
func TestCloseWithStuckWriter(t *testing.T) {
	addr, conns, _ := listenRaw(t, &UpgradeOptions{CloseTimeout: 300 * time.Millisecond})
	dialRaw(t, addr) // never reads again
	c := <-conns

	writeDone := make(chan error, 1)
	go func() {
		writeDone <- c.WriteMessage(context.Background(), MessageBinary, make([]byte, 64<<20))
	}()
	// The write is under way (it holds the frame lock) and will block
	// once the socket buffers fill; whether before Close or after, Close
	// must be bounded.
	require.Eventually(t, func() bool {
		if c.frameMu.TryLock() {
			c.frameMu.Unlock()
			return false
		}
		return true
	}, 5*time.Second, time.Millisecond)
	select {
	case err := <-writeDone:
		t.Skipf("write did not block (%v)", err)
	default:
	}
	ok := bounded(t, 3*time.Second, "Close with a blocked writer (close timeout 300ms)", func() {
		_ = c.Close(frame.CloseNormalClosure, "")
	})
	if !ok {
		c.CloseNow() // unblocks the writer, and then Close
	}
	select {
	case <-writeDone:
	case <-time.After(5 * time.Second):
		t.Error("writer still blocked after CloseNow")
	}
}

// TestPingDuringClosingHandshake: the peer answers our close frame, but
// sends a ping first (legal: control frames may come at any time before its
// close). The ping goes unanswered (our close is out) and the handshake
// completes: Close returns nil.
func TestPingDuringClosingHandshake(t *testing.T) {
	addr, conns, _ := listenRaw(t, &UpgradeOptions{CloseTimeout: 2 * time.Second})
	rc := dialRaw(t, addr)
	c := <-conns
	_ = rc.nc.SetDeadline(time.Now().Add(5 * time.Second))

	peer := make(chan error, 1)
	go func() {
		h, p := rc.readFrame()
		if h.Opcode != frame.OpClose {
			peer <- errors.New("want a close frame")
			return
		}
		if _, err := rc.nc.Write(frameBytes(true, frame.OpPing, true, []byte("still there?"))); err != nil {
			peer <- err
			return
		}
		if _, err := rc.nc.Write(frameBytes(true, frame.OpClose, true, p)); err != nil {
			peer <- err
			return
		}
		_, err := io.Copy(io.Discard, rc.br)
		peer <- err
	}()

	var err error
	bounded(t, 5*time.Second, "Close", func() { err = c.Close(frame.CloseNormalClosure, "bye") })
	assert.NoError(t, err, "the peer completed the closing handshake")
	require.NoError(t, <-peer)
}

// TestReadDuringCloseWaits: Close may be called from any goroutine. When the
// reader happens to be between two reads, Close takes the read lock to wait
// for the peer's close; the reader's next ReadMessage waits for it and
// returns the close (matching ErrClosed), not ErrConcurrentRead.
func TestReadDuringCloseWaits(t *testing.T) {
	addr, conns, _ := listenRaw(t, &UpgradeOptions{CloseTimeout: 1 * time.Second})
	rc := dialRaw(t, addr)
	c := <-conns
	_ = rc.nc.SetDeadline(time.Now().Add(5 * time.Second))
	go func() { _, _ = io.Copy(io.Discard, rc.br) }() // a peer slow to answer the close

	closed := make(chan struct{})
	go func() {
		defer close(closed)
		_ = c.Close(frame.CloseNormalClosure, "")
	}()
	require.Eventually(t, func() bool { return c.closing.Load() && c.readLock.held() }, 5*time.Second, time.Millisecond,
		"Close reads for the peer's close")
	_, _, err := c.ReadMessage(context.Background(), nil)
	assert.NotErrorIs(t, err, ErrConcurrentRead, "a read loop racing Close should see the close, not a misuse error")
	assert.ErrorIs(t, err, ErrClosed)
	select {
	case <-closed:
	case <-time.After(5 * time.Second):
		t.Error("Close did not return")
	}
}

// TestCloseNowTwice: CloseNow documents ErrClosed "if the connection was
// already closed", but a second CloseNow finds ErrClosed recorded by the
// first and returns nil.
func TestCloseNowTwice(t *testing.T) {
	addr, conns, _ := listenRaw(t, nil)
	dialRaw(t, addr)
	c := <-conns
	require.NoError(t, c.CloseNow())
	assert.ErrorIs(t, c.CloseNow(), ErrClosed, "second CloseNow")
}
