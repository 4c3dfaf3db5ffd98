//go:build !js

package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/db7c6739/ws/examples/internal/fair"
	"github.com/db7c6739/ws/examples/internal/fair/fairtest"
	"github.com/db7c6739/ws/examples/internal/graceful"
	"github.com/db7c6739/ws/examples/internal/graceful/gracefultest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// floodFor is how long the flooder floods in TestRouletteFloodBesideSlowReader.
const floodFor = 15 * time.Second

// TestRouletteFloodBesideSlowReader: a visitor sending 2,000 messages of
// 8 KB a second to its partner, which reads 200 messages a second, for
// 15 s. The flooder is held to its budget, so the partner's queue never
// fills: the two stay paired, and the partner gets every message the
// server took.
func TestRouletteFloodBesideSlowReader(t *testing.T) {
	if testing.Short() {
		t.Skip("floods for 15 s")
	}
	_, addr, _ := startRoulette(t)
	reader := joinAndExpect(t, addr, "waiting")
	flooder := joinAndExpect(t, addr, "paired")
	reader.expect("paired")

	text := strings.Repeat("🎉", maxTextRunes) // 8,000 bytes
	msg, err := json.Marshal(wireMessage{Type: "message", Text: &text})
	require.NoError(t, err)

	// Whatever the flooder is told, read as fast as it comes, until its
	// partner says "still here".
	heard := make(chan error, 1)
	go func() {
		for {
			_, p, err := flooder.c.ReadMessage(context.Background(), nil)
			if err != nil {
				heard <- err
				return
			}
			var m wireMessage
			if json.Unmarshal(p, &m) == nil && m.Text != nil && *m.Text == "still here" {
				heard <- nil
				return
			}
		}
	}()
	// The flood: 20 messages every 10 ms, as far as the server lets it,
	// for floodFor. A write held by backpressure when the time is up is
	// left to the connection's end.
	start := time.Now()
	stopFlood := fairtest.Flood(flooder.c, msg)

	// The reader: one message every 5 ms, until the flood is over.
	type result struct {
		got int
		err error
	}
	done := make(chan result, 1)
	var over atomic.Bool // the flood is over: the reader stops
	go func() {
		tick := time.NewTicker(5 * time.Millisecond)
		defer tick.Stop()
		got := 0
		for range tick.C {
			if over.Load() {
				done <- result{got, nil}
				return
			}
			_, p, err := reader.c.ReadMessage(context.Background(), nil)
			if err != nil {
				done <- result{got, fmt.Errorf("after %v: %w", time.Since(start), err)}
				return
			}
			var m wireMessage
			if err := json.Unmarshal(p, &m); err != nil || m.Type != "message" || m.Text == nil || *m.Text != text {
				done <- result{got, fmt.Errorf("unexpected %.80s", p)}
				return
			}
			got++
		}
	}()
	<-time.After(floodFor)
	sent := stopFlood()
	over.Store(true)
	took := time.Since(start)
	r := <-done
	require.NoError(t, r.err, "the reader")
	// Still paired: the flooder hears the reader.
	reader.say("still here")
	select {
	case err := <-heard:
		require.NoError(t, err, "the flooder, waiting for its partner's word")
	case <-time.After(time.Minute):
		t.Fatal("the flooder did not hear its partner")
	}

	// Counted until the reader's count was final: every message it counted
	// was taken by the server before then.
	allowed := fairtest.Allowed(fair.Default, len(msg), time.Since(start))
	// The budget began when the flooder joined, a little before start, and
	// the reader may read one message after took: a slack of 2.
	assert.LessOrEqual(t, r.got, allowed+2, "the flooder got more through than its budget")
	assert.Greater(t, r.got, 0)
	t.Logf("the reader stayed paired %v beside the flooder; the flooder wrote %d messages, its partner read %d (budget: %d)",
		took.Round(time.Millisecond), sent, r.got, allowed)
}

// TestRouletteShutdownPrompt: the roulette stops promptly with a
// browser-like spare connection, an idle keep-alive, a visitor that never
// reads and one that does attached.
func TestRouletteShutdownPrompt(t *testing.T) {
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	gracefultest.Shutdown(t, func(ctx context.Context, ln net.Listener) error {
		return serve(ctx, ln, newServer(log, graceful.Heartbeat{}))
	}, "/ws", 2*time.Second)
}

// TestRouletteHeartbeat: with -ping-interval 1s -pong-timeout 1s, a visitor
// that never answers is dropped, and one that reads stays.
func TestRouletteHeartbeat(t *testing.T) {
	hb := gracefultest.HeartbeatFlags(t, "-ping-interval", "1s", "-pong-timeout", "1s")
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	gracefultest.Heartbeat(t, func(ctx context.Context, ln net.Listener) error {
		return serve(ctx, ln, newServer(log, hb))
	}, "/ws", 10*time.Second)
}
