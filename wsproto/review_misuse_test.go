package wsproto

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/db7c6739/ws/frame"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestReviewCancelledStreamLeavesHalfMessage: a streamed message whose
// context ends between two frames. flush's watch returns ctx.Err() before
// writing, without tearing the connection down, and MessageWriter.Close then
// releases the write lock although the final frame never went out. The next
// message starts with a new data opcode inside the unfinished one, which the
// peer must fail with 1002 (RFC 6455 §5.4). The docs promise that
// cancellation tears the connection down.
func TestReviewCancelledStreamLeavesHalfMessage(t *testing.T) {
	addr, conns := reviewServe(t, nil)
	nc, br := reviewConnect(t, addr, nil)
	c := reviewAccept(t, conns)
	_ = nc.SetDeadline(time.Now().Add(5 * time.Second))

	ctx, cancel := context.WithCancel(context.Background())
	w, err := c.NextWriter(ctx, MessageBinary)
	require.NoError(t, err)
	_, err = w.Write(make([]byte, 8192)) // goes out as a non-final frame
	require.NoError(t, err)
	cancel()
	_, _ = w.Write([]byte("more"))
	assert.Error(t, w.Close(), "the message cannot be finished")

	err = c.WriteMessage(context.Background(), MessageText, []byte("next"))
	if err == nil {
		h1, _ := reviewReadFrame(t, br)
		h2, _ := reviewReadFrame(t, br)
		t.Errorf("after the cancelled stream the connection is still open and sent %v fin=%v then %v fin=%v: "+
			"a new message inside an unfinished one", h1.Opcode, h1.Fin, h2.Opcode, h2.Fin)
	}
}

// TestReviewHugeReadLimitPanics: with a large positive read limit, grow
// reserves the whole frame length announced by a 14-byte header at once, so
// a peer can make ReadMessage allocate any amount up to the limit; above what
// the runtime can allocate it panics (makeslice: len out of range), crashing
// the server.
func TestReviewHugeReadLimitPanics(t *testing.T) {
	addr, conns := reviewServe(t, &UpgradeOptions{ReadLimit: 1 << 62})
	h := frame.Header{Fin: true, Opcode: frame.OpBinary, Masked: true, Length: 1 << 61}
	_, _ = reviewConnect(t, addr, frame.AppendHeader(nil, h))
	c := reviewAccept(t, conns)

	result := make(chan string, 1)
	go func() {
		defer func() {
			if r := recover(); r != nil {
				result <- fmt.Sprint("panic: ", r)
			}
		}()
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		_, _, err := c.ReadMessage(ctx, nil)
		result <- fmt.Sprint("error: ", err)
	}()
	select {
	case r := <-result:
		assert.NotContains(t, r, "panic", "bad input must never panic")
	case <-time.After(10 * time.Second):
		t.Fatal("ReadMessage did not return")
	}
}

// TestReviewCloseNowTwice: CloseNow documents ErrClosed "if the connection
// was already closed", but a second CloseNow finds ErrClosed recorded by the
// first and returns nil.
func TestReviewCloseNowTwice(t *testing.T) {
	addr, conns := reviewServe(t, nil)
	_, _ = reviewConnect(t, addr, nil)
	c := reviewAccept(t, conns)
	require.NoError(t, c.CloseNow())
	assert.ErrorIs(t, c.CloseNow(), ErrClosed, "second CloseNow")
}
