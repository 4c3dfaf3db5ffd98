//go:build !js

package chatroom

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/db7c6739/ws/examples/internal/fair"
	"github.com/db7c6739/ws/examples/internal/fair/fairtest"
	"github.com/db7c6739/ws/examples/internal/graceful/gracefultest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// floodFor is how long the flooder floods in TestChatFloodBesideSlowReader.
const floodFor = 15 * time.Second

// TestChatFloodBesideSlowReader: a member sending 2,000 messages of 8 KB a
// second (and reading its echoes as fast as they come) beside one that
// reads 200 messages a second, for 15 s. The flooder is held to its
// budget, so the reader's queue never fills: it stays, and it sees every
// message of the flooder that the server took.
func TestChatFloodBesideSlowReader(t *testing.T) {
	if testing.Short() {
		t.Skip("floods for 15 s")
	}
	ts := startChat(t)
	reader, _, _ := ts.join(t, "fair", "reader")
	flooder, _, _ := ts.join(t, "fair", "flooder")
	assert.Equal(t, event{Type: "join", Name: "flooder"}, readEvent(t, reader))

	text := strings.Repeat("🎉", maxTextRunes) // 8,000 bytes
	msg, err := json.Marshal(clientMessage{Type: "message", Text: text})
	require.NoError(t, err)

	// The flooder's echoes, read as fast as they come.
	var echoed atomic.Int64
	go func() {
		for {
			if _, _, err := flooder.ReadMessage(context.Background(), nil); err != nil {
				return
			}
			echoed.Add(1)
		}
	}()
	// The flood: 20 messages every 10 ms, as far as the server lets it,
	// for floodFor. A write held by backpressure when the time is up is
	// left to the connection's end: the flooder stays a member.
	start := time.Now()
	stopFlood := fairtest.Flood(flooder, msg)

	// The reader: one message every 5 ms, until its own "still here",
	// said once the flood is over, comes back.
	type result struct {
		got int
		err error
	}
	done := make(chan result, 1)
	go func() {
		tick := time.NewTicker(5 * time.Millisecond)
		defer tick.Stop()
		got := 0
		for {
			<-tick.C
			_, p, err := reader.ReadMessage(context.Background(), nil)
			if err != nil {
				done <- result{got, fmt.Errorf("after %v: %w", time.Since(start), err)}
				return
			}
			var e event
			if err := json.Unmarshal(p, &e); err != nil || e.Type != "message" {
				done <- result{got, fmt.Errorf("unexpected %s", p)}
				return
			}
			if e.Name == "reader" && e.Text == "still here" {
				done <- result{got, nil}
				return
			}
			if e.Name != "flooder" || e.Text != text {
				done <- result{got, fmt.Errorf("unexpected %.80s", p)}
				return
			}
			got++
		}
	}()
	<-time.After(floodFor)
	sent := stopFlood()
	took := time.Since(start)
	say(t, reader, "still here")
	var r result
	select {
	case r = <-done:
	case <-time.After(time.Minute):
		t.Fatal("the reader did not get its own message back")
	}
	require.NoError(t, r.err, "the reader")
	got := r.got

	// The server took no more than the budget allows.
	// Counted until the reader's count was final: every message it counted
	// was taken by the server before then.
	allowed := fairtest.Allowed(fair.Default, len(msg), time.Since(start))
	// The budget began when the flooder joined, a little before start, and
	// the reader may read one message after took: a slack of 2.
	assert.LessOrEqual(t, got, allowed+2, "the flooder got more through than its budget")
	assert.Greater(t, got, 0)
	t.Logf("the reader stayed %v beside the flooder; the flooder wrote %d messages, the server took %d (budget: %d), %d echoed to it",
		took.Round(time.Millisecond), sent, got, allowed, echoed.Load())
}

func TestChatAPIBudget(t *testing.T) {
	// The default burst, and a rate too slow to refill during the test.
	ts := startChat(t, func(s *Server) {
		s.apiBudget = fair.New(fair.Limits{Messages: 1e-6, MessageBurst: fair.Default.MessageBurst})
	})
	client := &http.Client{}
	defer client.CloseIdleConnections()
	body := fmt.Sprintf(`{"name":"bot","text":%q}`, "hello")
	var statuses []int
	for range fair.Default.MessageBurst + 1 {
		statuses = append(statuses, ts.post(t, client, "api-budget", body).StatusCode)
	}
	for i, s := range statuses[:fair.Default.MessageBurst] {
		assert.Equal(t, http.StatusAccepted, s, "post %d", i)
	}
	assert.Equal(t, http.StatusTooManyRequests, statuses[fair.Default.MessageBurst], "the post past the burst")
}

// TestChatShutdownPrompt: the chat stops promptly with a browser-like spare
// connection, an idle keep-alive, a member that never reads and one that
// does attached.
func TestChatShutdownPrompt(t *testing.T) {
	gracefultest.Shutdown(t, func(ctx context.Context, ln net.Listener) error {
		return New(Options{Log: discard}).Serve(ctx, ln)
	}, "/chats/lobby/ws", 2*time.Second)
}

// TestChatHeartbeat: with -ping-interval 1s -pong-timeout 1s, a member that
// never answers is dropped, and one that reads stays.
func TestChatHeartbeat(t *testing.T) {
	hb := gracefultest.HeartbeatFlags(t, "-ping-interval", "1s", "-pong-timeout", "1s")
	gracefultest.Heartbeat(t, func(ctx context.Context, ln net.Listener) error {
		return New(Options{Log: discard, Heartbeat: hb}).Serve(ctx, ln)
	}, "/chats/lobby/ws", 10*time.Second)
}
