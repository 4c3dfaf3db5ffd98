// Package fairtest floods the example servers, for their tests.
package fairtest

import (
	"context"
	"sync/atomic"
	"time"

	"github.com/db7c6739/ws/examples/internal/fair"
	"github.com/db7c6739/ws/wsproto"
)

// Flood writes msg on c as a flooder would: 20 text messages every 10 ms
// (2,000 a second), as fast as the server takes them, until stop is
// called; stop returns how many were written. A write held by the server's
// backpressure when stop is called is left to the connection's end, so c
// stays open.
func Flood(c *wsproto.Conn, msg []byte) (stop func() int64) {
	var sent atomic.Int64
	var stopped atomic.Bool
	go func() {
		tick := time.NewTicker(10 * time.Millisecond)
		defer tick.Stop()
		for !stopped.Load() {
			for range 20 {
				if c.WriteMessage(context.Background(), wsproto.MessageText, msg) != nil {
					return
				}
				sent.Add(1)
			}
			<-tick.C
		}
	}()
	return func() int64 {
		stopped.Store(true)
		return sent.Load()
	}
}

// Allowed is how many messages of size bytes a budget of l lets through
// in d, from full.
func Allowed(l fair.Limits, size int, d time.Duration) int {
	n := float64(l.MessageBurst) + l.Messages*d.Seconds()
	if l.Bytes > 0 {
		n = min(n, (float64(l.ByteBurst)+l.Bytes*d.Seconds())/float64(size))
	}
	return int(n)
}
