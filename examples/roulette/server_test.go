//go:build !js

package main

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// testClient is a client without a connection: what it is sent stays in
// its queue.
func testClient(name string, queue int) *client {
	ctx, cancel := context.WithCancel(context.Background())
	return &client{
		log:    slog.New(slog.NewTextHandler(io.Discard, nil)),
		remote: name,
		out:    make(chan []byte, queue),
		ctx:    ctx,
		cancel: cancel,
	}
}

// queued empties c's queue.
func queued(t *testing.T, c *client) []wireMessage {
	t.Helper()
	var ms []wireMessage
	for {
		select {
		case b := <-c.out:
			var m wireMessage
			require.NoError(t, json.Unmarshal(b, &m), "%s", b)
			ms = append(ms, m)
		default:
			return ms
		}
	}
}

func told(typ string) wireMessage { return wireMessage{Type: typ} }

func text(s string) wireMessage { return wireMessage{Type: "message", Text: &s} }

func TestHub(t *testing.T) {
	h := &hub{m: newMatcher[*client]()}
	a, b, c := testClient("a", 8), testClient("b", 8), testClient("c", 8)

	h.join(a)
	assert.Equal(t, []wireMessage{told("waiting")}, queued(t, a))
	h.relay(a, "anyone?") // dropped: a knows it waits
	assert.Empty(t, queued(t, a))

	h.join(b)
	assert.Equal(t, []wireMessage{told("paired")}, queued(t, a))
	assert.Equal(t, []wireMessage{told("paired")}, queued(t, b))
	h.join(c)
	assert.Equal(t, []wireMessage{told("waiting")}, queued(t, c))

	odd := `<script>"quotes" & ünïcödé</script>`
	h.relay(a, odd)
	h.relay(a, "")
	assert.Equal(t, []wireMessage{text(odd), text("")}, queued(t, b))
	assert.Empty(t, queued(t, a))
	assert.Empty(t, queued(t, c))

	h.next(b)
	assert.Equal(t, []wireMessage{told("left"), told("waiting")}, queued(t, a))
	assert.Equal(t, []wireMessage{told("paired")}, queued(t, b))
	assert.Equal(t, []wireMessage{told("paired")}, queued(t, c))

	h.leave(c)
	assert.Equal(t, []wireMessage{told("left"), told("paired")}, queued(t, b))
	assert.Equal(t, []wireMessage{told("paired")}, queued(t, a))
	assert.Empty(t, queued(t, c))
}

func TestHubDropsWhoCannotKeepUp(t *testing.T) {
	h := &hub{m: newMatcher[*client]()}
	fast, slow := testClient("fast", 8), testClient("slow", 3)
	h.join(fast)
	h.join(slow) // one notice queued
	h.relay(fast, "1")
	h.relay(fast, "2")
	assert.NoError(t, slow.ctx.Err())
	h.relay(fast, "3") // the queue is full
	assert.Error(t, slow.ctx.Err())
	assert.NoError(t, fast.ctx.Err())
}
