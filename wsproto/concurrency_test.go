//go:build !js

package wsproto

import (
	"context"
	"io"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/db7c6739/ws/frame"
	"github.com/stretchr/testify/require"
)

// drainLoop reads and discards every message on c, through NextReader,
// until reading fails, and then closes the channel it returns.
func drainLoop(c *Conn) <-chan struct{} {
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			_, rd, err := c.NextReader(context.Background())
			if err != nil {
				return
			}
			if _, err := io.Copy(io.Discard, rd); err != nil {
				return
			}
		}
	}()
	return done
}

// TestConcurrentEverything: several writers (whole messages and streamed
// ones), pings, pongs and finally Close and context cancellation from other
// goroutines, while one goroutine reads. Run it with -race; it must end,
// without a race, a panic or a leak, in bounded time.
func TestConcurrentEverything(t *testing.T) {
	for round := range 8 {
		server, client := pair(t, &UpgradeOptions{CloseTimeout: time.Second}, &DialOptions{CloseTimeout: time.Second})
		echoLoop(server)
		var wg sync.WaitGroup
		readerDone := drainLoop(client)
		ctx, cancel := context.WithCancel(context.Background())
		var ops atomic.Int64
		for w := range 4 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				r := rand.New(rand.NewPCG(uint64(round), uint64(w)))
				for i := 0; i < 200; i++ {
					var err error
					switch r.IntN(4) {
					case 0:
						err = client.WriteMessage(ctx, MessageBinary, make([]byte, r.IntN(10000)))
					case 1:
						var mw *MessageWriter
						mw, err = client.NextWriter(ctx, MessageText)
						if err == nil {
							for range r.IntN(4) {
								_, _ = mw.Write(make([]byte, r.IntN(6000)))
								_ = mw.Flush()
							}
							err = mw.Close()
						}
					case 2:
						_, err = client.Ping(ctx, []byte("p"))
					case 3:
						err = client.Pong(ctx, nil)
					}
					if err != nil {
						return
					}
					ops.Add(1)
				}
			}()
		}
		// The ending comes in the midst of the traffic, later each round.
		require.Eventually(t, func() bool { return ops.Load() >= int64(20+round*40) }, 10*time.Second, time.Millisecond)
		switch round % 3 {
		case 0:
			_ = client.Close(frame.CloseNormalClosure, "done")
		case 1:
			cancel()
		case 2:
			go func() { _ = client.Close(frame.CloseGoingAway, "") }()
			_ = server.Close(frame.CloseNormalClosure, "")
		}
		bounded(t, 10*time.Second, "writers", wg.Wait)
		cancel()
		client.CloseNow()
		select {
		case <-readerDone:
		case <-time.After(10 * time.Second):
			t.Fatal("reader did not end")
		}
	}
}

// TestNextReaderVersusClose: NextReader reads c.msgType after it has
// released the read lock (read.go, "return c.msgType, ..."), while Close, on
// another goroutine, may have taken the lock and be reading frames, which
// writes c.msgType. Under -race this reports the data race when the timing
// hits.
func TestNextReaderVersusClose(t *testing.T) {
	for range 30 {
		server, client := pair(t, &UpgradeOptions{CloseTimeout: time.Second}, nil)
		go func() {
			for range 200 {
				if client.WriteMessage(context.Background(), MessageBinary, []byte("x")) != nil {
					return
				}
			}
			_ = client.Close(frame.CloseNormalClosure, "")
		}()
		done := drainLoop(server)
		require.Eventually(t, func() bool { return server.readLock.held() || server.readLock.gen() > 0 }, 5*time.Second, 100*time.Microsecond, "the reading has begun")
		_ = server.Close(frame.CloseNormalClosure, "")
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			t.Fatal("reader did not end")
		}
	}
}
