//go:build !js

package wsproto

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestStaleMessageWriter: a writer kept after Close must not touch the next
// message: its writes and its second Close return ErrWriterClosed, and the
// next message's owner keeps the write lock.
func TestStaleMessageWriter(t *testing.T) {
	addr, conns, _ := listenRaw(t, nil)
	dialRaw(t, addr)
	c := <-conns
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

// TestCancelledStreamTearsDown: a streamed message whose context ends
// between two frames cannot be finished, and a new message must not start
// inside it (the peer would have to fail with 1002, RFC 6455 §5.4): the
// connection is torn down instead.
func TestCancelledStreamTearsDown(t *testing.T) {
	addr, conns, _ := listenRaw(t, nil)
	rc := dialRaw(t, addr)
	c := <-conns
	_ = rc.nc.SetDeadline(time.Now().Add(5 * time.Second))

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
		h1, _ := rc.readFrame()
		h2, _ := rc.readFrame()
		t.Errorf("after the cancelled stream the connection is still open and sent %v fin=%v then %v fin=%v: "+
			"a new message inside an unfinished one", h1.Opcode, h1.Fin, h2.Opcode, h2.Fin)
	}
}

// TestWriteLockWaiters: while one message is being streamed, other writers
// wait and go in turn once it ends; a waiting writer whose context ends
// closes the connection, as its end during a write would, and every writer
// still waiting then returns the reason; so does one waiting when the
// connection is closed.
func TestWriteLockWaiters(t *testing.T) {
	addr, conns, _ := listenRaw(t, nil)
	rc := dialRaw(t, addr)
	c := <-conns
	_ = rc.nc.SetDeadline(time.Now().Add(5 * time.Second))
	ctx := context.Background()

	w, err := c.NextWriter(ctx, MessageText)
	require.NoError(t, err)
	const writers = 8
	done := make(chan error, writers)
	for range writers {
		go func() { done <- c.WriteMessage(ctx, MessageText, []byte("queued")) }()
	}
	_, err = w.Write([]byte("streamed"))
	require.NoError(t, err)
	require.NoError(t, w.Close())
	for range writers {
		select {
		case err := <-done:
			assert.NoError(t, err)
		case <-time.After(5 * time.Second):
			t.Fatal("a waiting writer never got the lock")
		}
	}
	h, p := rc.readFrame()
	assert.Equal(t, "streamed", string(p), "the streamed message comes first, whole")
	assert.True(t, h.Fin)
	for range writers {
		h, p := rc.readFrame()
		assert.Equal(t, "queued", string(p))
		assert.True(t, h.Fin)
	}

	// A waiting writer's context ends: the connection goes, and the
	// others waiting return.
	w, err = c.NextWriter(ctx, MessageText)
	require.NoError(t, err)
	cctx, cancel := context.WithCancel(ctx)
	cancelled := make(chan error, 1)
	go func() { cancelled <- c.WriteMessage(cctx, MessageText, []byte("never")) }()
	for range writers {
		go func() { done <- c.WriteMessage(ctx, MessageText, []byte("late")) }()
	}
	require.Eventually(t, func() bool { return c.writeLock.waiters.ch.Load() != nil }, 5*time.Second, time.Millisecond, "writers wait")
	cancel()
	select {
	case err := <-cancelled:
		assert.ErrorIs(t, err, context.Canceled)
	case <-time.After(5 * time.Second):
		t.Fatal("a waiting writer did not see its context end")
	}
	for range writers {
		select {
		case err := <-done:
			assert.ErrorIs(t, err, context.Canceled, "the reason the connection ended")
			assert.ErrorIs(t, err, ErrClosed)
		case <-time.After(5 * time.Second):
			t.Fatal("a waiting writer did not return when the connection closed")
		}
	}
	assert.Error(t, w.Close())
	rc.expectEOF()
}

// TestWriteLockWaitersOnClose: writers waiting for the lock return when the
// connection is closed.
func TestWriteLockWaitersOnClose(t *testing.T) {
	server, _ := pair(t, nil, nil)
	ctx := context.Background()
	w, err := server.NextWriter(ctx, MessageText)
	require.NoError(t, err)
	done := make(chan error, 1)
	go func() { done <- server.WriteMessage(ctx, MessageText, []byte("late")) }()
	require.Eventually(t, func() bool { return server.writeLock.waiters.ch.Load() != nil }, 5*time.Second, time.Millisecond, "the writer waits")
	require.NoError(t, server.CloseNow())
	select {
	case err := <-done:
		assert.ErrorIs(t, err, ErrClosed)
	case <-time.After(5 * time.Second):
		t.Fatal("a waiting writer did not return when the connection closed")
	}
	assert.Error(t, w.Close())
}
