//go:build !js

package wsproto

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/db7c6739/ws/frame"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestPingWaitsForPong(t *testing.T) {
	ctx := context.Background()
	t.Run("no one reads the pinging end", func(t *testing.T) {
		server, client := pair(t, nil, nil)
		readInBackground(server) // answers the ping
		rtt, err := client.Ping(ctx, []byte("hello"))
		require.NoError(t, err)
		assert.Positive(t, rtt)
	})
	t.Run("the pinging end is being read", func(t *testing.T) {
		server, client := pair(t, nil, nil)
		readInBackground(server)
		reading := readInBackground(client)
		require.Eventually(t, client.readLock.held, 5*time.Second, time.Millisecond)
		_, err := client.Ping(ctx, []byte("hello"))
		require.NoError(t, err)
		require.NoError(t, server.WriteMessage(ctx, MessageText, []byte("the read goes on")))
		require.NoError(t, <-reading, "the read that saw the pong returns the next message")
	})
	t.Run("many at once", func(t *testing.T) {
		server, client := pair(t, nil, nil)
		readInBackground(server)
		var wg sync.WaitGroup
		for i := range 16 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				_, err := client.Ping(ctx, fmt.Appendf(nil, "ping %d", i))
				assert.NoError(t, err)
			}()
		}
		require.True(t, bounded(t, 10*time.Second, "16 pings", wg.Wait))
	})
	t.Run("a pong answers the pings before it", func(t *testing.T) {
		srv := newRawServer(t)
		c, _, err := Dial(ctx, "ws://"+srv.addr+"/", nil)
		require.NoError(t, err)
		peer := <-srv.conns
		results := make(chan error, 2)
		for _, payload := range []string{"first", "second"} {
			go func() { _, err := c.Ping(ctx, []byte(payload)); results <- err }()
			h, p := peer.readMaskedFrame()
			require.Equal(t, frame.OpPing, h.Opcode)
			require.Equal(t, payload, string(p))
		}
		// The peer answers only the latest ping, as RFC 6455 §5.5.3 allows.
		peer.send(frameBytes(true, frame.OpPong, false, []byte("second")))
		for range 2 {
			require.True(t, bounded(t, 5*time.Second, "Ping", func() { err = <-results }))
			assert.NoError(t, err)
		}
	})
	t.Run("a message ahead of the pong waits for a read", func(t *testing.T) {
		server, client := pair(t, nil, nil)
		readInBackground(server)
		require.NoError(t, server.WriteMessage(ctx, MessageText, []byte("ahead")))
		pinged := make(chan error, 1)
		go func() { _, err := client.Ping(ctx, []byte("behind")); pinged <- err }()
		require.Eventually(t, func() bool { return pingsWaiting(client) > 0 }, 5*time.Second, time.Millisecond, "the ping is out")
		select {
		case err := <-pinged:
			t.Fatalf("the pong came before the message: %v", err)
		default:
		}
		_, msg, err := client.ReadMessage(ctx, nil)
		require.NoError(t, err)
		assert.Equal(t, "ahead", string(msg))
		require.True(t, bounded(t, 5*time.Second, "Ping", func() { err = <-pinged }))
		assert.NoError(t, err)
	})
	t.Run("a silent peer", func(t *testing.T) {
		srv := newRawServer(t)
		c, _, err := Dial(ctx, "ws://"+srv.addr+"/", nil)
		require.NoError(t, err)
		<-srv.conns
		short, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
		defer cancel()
		_, err = c.Ping(short, nil)
		require.ErrorIs(t, err, context.DeadlineExceeded)
		assert.ErrorIs(t, c.WriteMessage(ctx, MessageText, []byte("x")), ErrClosed)
	})
}

// pingsWaiting counts c's pings not yet answered.
func pingsWaiting(c *Conn) int {
	l := c.live.Load()
	if l == nil {
		return 0
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.waiting)
}

// TestHeartbeat: with PingInterval set, a peer that goes silent (a
// half-open connection: it neither reads nor answers) is found out whether
// the connection is being read, only written or left alone, in both roles;
// a live peer is kept, pinged interval after interval, in the same three
// cases.
func TestHeartbeat(t *testing.T) {
	const interval, timeout = 20 * time.Millisecond, 40 * time.Millisecond
	ctx := context.Background()
	// use runs c as the mode says until it fails, and returns the error.
	use := func(c *Conn, mode string) <-chan error {
		errc := make(chan error, 1)
		go func() {
			switch mode {
			case "reading":
				_, _, err := c.ReadMessage(ctx, nil)
				errc <- err
			case "writing":
				for range 1_000_000 {
					if err := c.WriteMessage(ctx, MessageText, []byte("tick")); err != nil {
						errc <- err
						return
					}
				}
				errc <- nil
			case "idle":
				<-c.closed.done()
				errc <- c.finalErr()
			}
		}()
		return errc
	}
	for _, mode := range []string{"reading", "writing", "idle"} {
		t.Run("silent client/"+mode, func(t *testing.T) {
			checkGoroutines(t)
			addr, conns, _ := listenRaw(t, &UpgradeOptions{PingInterval: interval, PingTimeout: timeout})
			dialRaw(t, addr) // and then nothing
			server := <-conns
			var err error
			require.True(t, bounded(t, 5*time.Second, "the heartbeat", func() { err = <-use(server, mode) }))
			require.ErrorIs(t, err, ErrPingTimeout)
			assert.Equal(t, CloseAbnormalClosure, CloseStatus(err))
		})
		t.Run("silent server/"+mode, func(t *testing.T) {
			checkGoroutines(t)
			srv := newRawServer(t)
			client, _, err := Dial(ctx, "ws://"+srv.addr+"/", &DialOptions{PingInterval: interval, PingTimeout: timeout})
			require.NoError(t, err)
			<-srv.conns // and then nothing
			require.True(t, bounded(t, 5*time.Second, "the heartbeat", func() { err = <-use(client, mode) }))
			require.ErrorIs(t, err, ErrPingTimeout)
		})
		t.Run("live peer/"+mode, func(t *testing.T) {
			checkGoroutines(t)
			server, client := pair(t, &UpgradeOptions{PingInterval: interval, PingTimeout: timeout}, nil)
			var pings atomic.Int32
			client.SetPingHandler(func([]byte) { pings.Add(1) })
			drained := drainLoop(client) // answers the pings
			var errc <-chan error
			if mode == "writing" {
				// Write at a steady pace, as a feed does.
				stop := make(chan struct{})
				defer close(stop)
				done := make(chan error, 1)
				errc = done
				go func() {
					tick := time.NewTicker(time.Millisecond)
					defer tick.Stop()
					for range 100_000 {
						select {
						case <-stop:
							done <- nil
							return
						case <-tick.C:
						}
						if err := server.WriteMessage(ctx, MessageText, []byte("tick")); err != nil {
							done <- err
							return
						}
					}
				}()
			} else {
				errc = use(server, mode)
			}
			require.Eventually(t, func() bool { return pings.Load() >= 10 }, 10*time.Second, time.Millisecond, "pings")
			select {
			case err := <-errc:
				t.Fatalf("the connection to a live peer ended: %v", err)
			default:
			}
			assert.False(t, server.closed.fired())
			require.NoError(t, server.Close(CloseNormalClosure, ""))
			<-drained
		})
	}
}

// TestCloseRead: a connection that only writes still answers pings, sees
// the peer's close, and refuses a data message with 1008.
func TestCloseRead(t *testing.T) {
	ctx := context.Background()
	t.Run("peer closes", func(t *testing.T) {
		checkGoroutines(t)
		server, client := pair(t, nil, nil)
		done := server.CloseRead(ctx)
		clientReads := readInBackground(client)
		_, err := client.Ping(ctx, []byte("still there?"))
		require.NoError(t, err, "the reading goroutine answers pings")
		require.NoError(t, server.WriteMessage(ctx, MessageText, []byte("news")))
		require.NoError(t, <-clientReads)
		require.NoError(t, client.Close(CloseGoingAway, "leaving"))
		require.True(t, bounded(t, 5*time.Second, "CloseRead's context", func() { <-done.Done() }))
		assert.ErrorIs(t, server.WriteMessage(ctx, MessageText, []byte("x")), ErrClosed)
	})
	t.Run("peer sends data", func(t *testing.T) {
		checkGoroutines(t)
		server, client := pair(t, nil, nil)
		done := server.CloseRead(ctx)
		clientReads := readInBackground(client)
		require.NoError(t, client.WriteMessage(ctx, MessageText, []byte("hello?")))
		var err error
		require.True(t, bounded(t, 5*time.Second, "the client's read", func() { err = <-clientReads }))
		assert.Equal(t, ClosePolicyViolation, CloseStatus(err))
		require.True(t, bounded(t, 5*time.Second, "CloseRead's context", func() { <-done.Done() }))
	})
}
