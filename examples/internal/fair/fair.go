// Package fair keeps one client of an example server from taking more than
// its share: each connection gets a budget of messages and bytes per
// second, with a burst, and a connection over its budget waits before its
// next message is read. The wait is backpressure: the server reads no more
// from that connection meanwhile, TCP's window fills, and the client's own
// writes slow down, while every other client goes on as before.
//
// A person typing never meets the defaults; a script sending thousands of
// messages a second is held to ten a second and 64 KiB a second, so that
// the messages it makes the server broadcast cannot fill the queues of
// honest clients that read at human speed.
package fair

import (
	"context"
	"time"
)

// Limits is a connection's budget. The zero value of a field means no
// limit of that kind.
type Limits struct {
	// Messages per second, and how many may come at once.
	Messages     float64
	MessageBurst int
	// Bytes of message payload per second, and how many may come at once.
	// A message larger than what the budget holds leaves it in debt: Spend
	// waits until the debt is paid off.
	Bytes     float64
	ByteBurst int
}

// Default is what the example servers use: 10 messages a second, 20 at
// once; 64 KiB a second, 256 KiB at once. Typing, or pasting a few of the
// chat's longest messages (2000 characters) in a row, stays within it.
var Default = Limits{Messages: 10, MessageBurst: 20, Bytes: 64 << 10, ByteBurst: 256 << 10}

// Budget is one connection's budget. It is used by the connection's reader
// alone: it is not safe for concurrent use.
type Budget struct {
	msgs, bytes bucket
}

// New returns a full budget.
func New(l Limits) *Budget {
	now := time.Now()
	return &Budget{
		msgs:  bucket{rate: l.Messages, burst: float64(l.MessageBurst), tokens: float64(l.MessageBurst), last: now},
		bytes: bucket{rate: l.Bytes, burst: float64(l.ByteBurst), tokens: float64(l.ByteBurst), last: now},
	}
}

// Spend takes one message of size bytes from the budget, waiting for it to
// refill if it is short. It returns ctx's error if ctx ends first.
func (b *Budget) Spend(ctx context.Context, size int) error {
	d := b.reserve(size, time.Now())
	if d <= 0 {
		return nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Allow takes one message of size bytes from the budget if it has room for
// it now, and reports whether it did; it never waits and never leaves the
// budget in debt. It suits requests that can be refused (HTTP 429).
func (b *Budget) Allow(size int) bool {
	saved := *b
	if b.reserve(size, time.Now()) > 0 {
		*b = saved
		return false
	}
	return true
}

// reserve takes a message of size bytes at time now and returns how long
// to wait before it may be handled.
func (b *Budget) reserve(size int, now time.Time) time.Duration {
	return max(b.msgs.take(1, now), b.bytes.take(float64(size), now))
}

// bucket is a token bucket whose tokens may go below zero: a debt that
// the caller waits off.
type bucket struct {
	rate, burst, tokens float64
	last                time.Time
}

func (k *bucket) take(n float64, now time.Time) time.Duration {
	if k.rate <= 0 {
		return 0
	}
	if dt := now.Sub(k.last).Seconds(); dt > 0 {
		k.tokens = min(k.burst, k.tokens+dt*k.rate)
		k.last = now
	}
	k.tokens -= n
	if k.tokens >= 0 {
		return 0
	}
	return time.Duration(-k.tokens / k.rate * float64(time.Second))
}
