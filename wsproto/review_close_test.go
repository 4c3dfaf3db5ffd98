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

// TestReviewCloseWithStuckWriter: a writer is blocked because the peer
// stopped reading. Close "waits up to the close timeout" and "may be called
// from any goroutine", but it first takes frameMu (sendClose), which the
// blocked writer holds, so it blocks for as long as the writer does:
// forever without a write deadline.
func TestReviewCloseWithStuckWriter(t *testing.T) {
	addr, conns := reviewServe(t, &UpgradeOptions{CloseTimeout: 300 * time.Millisecond})
	_, _ = reviewConnect(t, addr, nil) // never reads again
	c := reviewAccept(t, conns)

	writeDone := make(chan error, 1)
	go func() {
		writeDone <- c.WriteMessage(context.Background(), MessageBinary, make([]byte, 64<<20))
	}()
	time.Sleep(300 * time.Millisecond) // let the socket buffers fill
	select {
	case err := <-writeDone:
		t.Skipf("write did not block (%v)", err)
	default:
	}
	ok := reviewBounded(t, 3*time.Second, "Close with a blocked writer (close timeout 300ms)", func() {
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

// TestReviewPingDuringClosingHandshake: the peer answers our close frame,
// but sends a ping first (legal: control frames may come at any time before
// its close). Answering the ping fails with ErrClosed because our close has
// gone out, and that failure ends awaitPeerClose, so Close gives up on the
// handshake and returns an error instead of nil.
func TestReviewPingDuringClosingHandshake(t *testing.T) {
	addr, conns := reviewServe(t, &UpgradeOptions{CloseTimeout: 2 * time.Second})
	nc, br := reviewConnect(t, addr, nil)
	c := reviewAccept(t, conns)
	_ = nc.SetDeadline(time.Now().Add(5 * time.Second))

	peer := make(chan error, 1)
	go func() {
		h, p := reviewReadFrame(t, br)
		if h.Opcode != frame.OpClose {
			peer <- errors.New("want a close frame")
			return
		}
		key := [4]byte{1, 2, 3, 4}
		if _, err := nc.Write(reviewFrame(true, frame.OpPing, key, []byte("still there?"))); err != nil {
			peer <- err
			return
		}
		time.Sleep(50 * time.Millisecond)
		if _, err := nc.Write(reviewFrame(true, frame.OpClose, key, p)); err != nil {
			peer <- err
			return
		}
		_, err := io.Copy(io.Discard, br)
		peer <- err
	}()

	var err error
	reviewBounded(t, 5*time.Second, "Close", func() { err = c.Close(frame.CloseNormalClosure, "bye") })
	assert.NoError(t, err, "the peer completed the closing handshake")
	require.NoError(t, <-peer)
}

// TestReviewReadDuringCloseIsRefused: Close may be called from any goroutine.
// When the reader happens to be between two reads, Close takes the read lock
// to wait for the peer's close, and the reader's next ReadMessage fails with
// ErrConcurrentRead, a misuse error, rather than with the close (it does not
// match ErrClosed, so an ordinary read loop cannot tell it from a bug).
func TestReviewReadDuringCloseIsRefused(t *testing.T) {
	addr, conns := reviewServe(t, &UpgradeOptions{CloseTimeout: 1 * time.Second})
	nc, br := reviewConnect(t, addr, nil)
	c := reviewAccept(t, conns)
	_ = nc.SetDeadline(time.Now().Add(5 * time.Second))
	go func() { _, _ = io.Copy(io.Discard, br) }() // a peer slow to answer the close

	closed := make(chan struct{})
	go func() {
		defer close(closed)
		_ = c.Close(frame.CloseNormalClosure, "")
	}()
	time.Sleep(100 * time.Millisecond)
	_, _, err := c.ReadMessage(context.Background(), nil)
	assert.NotErrorIs(t, err, ErrConcurrentRead, "a read loop racing Close should see the close, not a misuse error")
	assert.ErrorIs(t, err, ErrClosed)
	select {
	case <-closed:
	case <-time.After(5 * time.Second):
		t.Error("Close did not return")
	}
}

// TestReviewStaleMessageWriter: NextWriter hands out the same *MessageWriter
// every time. "Closing twice returns ErrWriterClosed" holds only until the
// next NextWriter: a stale writer then writes into, and closes, the next
// message, releasing the write lock held by its owner.
func TestReviewStaleMessageWriter(t *testing.T) {
	addr, conns := reviewServe(t, nil)
	nc, _ := reviewConnect(t, addr, nil)
	_ = nc
	c := reviewAccept(t, conns)
	ctx := context.Background()

	w1, err := c.NextWriter(ctx, MessageText)
	require.NoError(t, err)
	require.NoError(t, w1.Close())

	w2, err := c.NextWriter(ctx, MessageBinary)
	require.NoError(t, err)

	_, err = w1.Write([]byte("stale"))
	assert.ErrorIs(t, err, ErrWriterClosed, "write on a closed writer")
	assert.ErrorIs(t, w1.Close(), ErrWriterClosed, "closing twice")
	_, err = w2.Write([]byte("x"))
	assert.NoError(t, err, "the live writer must still be open")
}
