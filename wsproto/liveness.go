//go:build !js

package wsproto

import (
	"bytes"
	"context"
	"errors"
	"sync"
	"time"

	"github.com/db7c6739/ws/frame"
)

// ErrPingTimeout is the cause (in a *CloseError with code 1006) of a
// connection the heartbeat failed: nothing arrived from the peer within
// PingTimeout of a ping.
var ErrPingTimeout = errors.New("wsproto: no answer from the peer within the ping timeout")

// Ping sends a ping with payload (at most 125 bytes) and waits for the pong
// that answers it, and returns the round-trip time. A pong answers the ping
// with the same payload and every ping sent before that one: a peer may
// answer only the latest of several pings (RFC 6455 §5.5.3). Any number of
// goroutines may ping at once; a ping goes out between the frames of a
// message being streamed.
//
// Someone must read for the pong to be seen: a read in progress sees it; if
// no read is in progress, Ping reads control frames itself until its pong,
// leaving the next data message for the next read. If a data message waits
// unread ahead of the pong, Ping waits for a read to take it. ctx bounds the
// wait, with the package's rule for contexts: if it ends, the connection is
// closed.
func (c *Conn) Ping(ctx context.Context, payload []byte) (time.Duration, error) {
	if len(payload) > frame.MaxControlPayload {
		return 0, ErrControlTooLong
	}
	stop, err := c.watch(ctx)
	if err != nil {
		return 0, err
	}
	start := time.Now()
	w := &pingWaiter{payload: append([]byte(nil), payload...), done: make(chan struct{})}
	if err := c.sendPing(w); err != nil {
		return 0, c.settle(ctx, stop, err)
	}
	for {
		select {
		case <-w.done:
			return time.Since(start), c.settle(ctx, stop, nil)
		default:
		}
		gen := c.readLock.gen()
		if c.readLock.tryLock(lockInternal) {
			err := c.readControl(w.answered)
			c.endInternalRead()
			if err != nil {
				return 0, c.settle(ctx, stop, err)
			}
			if w.answered() {
				continue
			}
			// A data message is next: wait for a read to take it.
			gen = c.readLock.gen()
		}
		wake := c.readLock.waiters.wait()
		if c.readLock.gen() != gen {
			continue // a read ended meanwhile
		}
		select {
		case <-w.done:
		case <-wake:
		case <-c.closed.done():
			return 0, c.settle(ctx, stop, c.finalErr())
		}
	}
}

// pingWaiter is a ping sent and not yet answered. The heartbeat's have no
// done channel: no one waits on them, but a pong for them answers the
// pings sent before.
type pingWaiter struct {
	payload []byte
	done    chan struct{}
}

func (w *pingWaiter) answered() bool {
	select {
	case <-w.done:
		return true
	default:
		return false
	}
}

// liveness is what a connection keeps for pings: those sent and not yet
// answered, in the order they went out, and the heartbeat if it is on.
type liveness struct {
	mu       sync.Mutex
	waiting  []*pingWaiter
	takeover chan struct{} // closed when a Close that read for a handler is done
	hb       *heartbeat    // set before the Conn is shared
}

func (c *Conn) liveness() *liveness {
	if l := c.live.Load(); l != nil {
		return l
	}
	c.live.CompareAndSwap(nil, new(liveness))
	return c.live.Load()
}

// sendPing sends a ping for w, recording it in the order of the wire.
func (c *Conn) sendPing(w *pingWaiter) error {
	p := c.liveness()
	b := c.wpool.Get().(*[]byte)
	n := copy((*b)[frame.MaxHeaderSize:], w.payload)
	c.frameMu.Lock()
	p.mu.Lock()
	p.waiting = append(p.waiting, w)
	p.mu.Unlock()
	err := c.unlockFrame(c.writeOwnedLocked(frame.OpPing, true, false, *b, n))
	c.wpool.Put(b)
	return err
}

// pongArrived answers the latest ping with the pong's payload and every
// ping before it.
func (c *Conn) pongArrived(payload []byte) {
	p := c.live.Load()
	if p == nil {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	last := -1
	for i, w := range p.waiting {
		if bytes.Equal(w.payload, payload) {
			last = i
		}
	}
	for _, w := range p.waiting[:last+1] {
		if w.done != nil {
			close(w.done)
		}
	}
	n := copy(p.waiting, p.waiting[last+1:])
	clear(p.waiting[n:])
	p.waiting = p.waiting[:n]
}

// readControl is the read of a connection that no one else reads, for Ping
// and the heartbeat: it handles the control frames at the front of the
// stream until done reports true or a data frame is next, which it leaves
// for the next read. It reads from the network only when what is buffered
// is not a whole control frame, so what it buffers stays within one
// control frame and the next frame's header. It holds the read lock.
func (c *Conn) readControl(done func() bool) error {
	for !done() {
		if c.readErr != nil {
			return c.readErr
		}
		if c.frameLeft > 0 {
			return nil // within a data frame a reader left: its rest is next
		}
		h, size, err := c.peekHeader()
		if err != nil {
			return err
		}
		if !h.Opcode.IsControl() {
			return nil
		}
		c.rd.r += size
		if err := c.handleControl(h); err != nil {
			return err
		}
	}
	return nil
}

// endInternalRead ends a read of Ping or the heartbeat: it answers the
// peer's close if that came, and lets the read lock go.
func (c *Conn) endInternalRead() {
	if c.closeDue {
		_ = c.answerClose()
	}
	c.readLock.unlock()
}

// heartbeat pings a connection that has been quiet for an interval and
// fails it when nothing arrives within the timeout after the ping. It has
// no goroutine: a timer, whose function reads for the pong when no one else
// reads.
type heartbeat struct {
	c                 *Conn
	interval, timeout time.Duration
	timer             *time.Timer

	mu      sync.Mutex
	heard   uint32 // readBuffer.heard when last looked at
	pinged  bool   // a ping went out and nothing arrived since
	stopped bool   // the connection ended: the timer is not to be set again
}

// startHeartbeat turns the heartbeat on, if the options ask for it.
func (c *Conn) startHeartbeat(interval, timeout time.Duration) {
	if interval <= 0 {
		return
	}
	if timeout <= 0 {
		timeout = interval
	}
	h := &heartbeat{c: c, interval: interval, timeout: timeout}
	c.liveness().hb = h
	c.rd.watched = true
	h.mu.Lock() // the timer's function may run before AfterFunc returns
	h.timer = time.AfterFunc(interval, h.beat)
	h.mu.Unlock()
}

// beat runs when the timer fires: a connection that brought bytes since the
// last beat is alive; a quiet one gets a ping; one still quiet a timeout
// after its ping is failed if a read waits on the network for it, but not
// if the stream waits on our reader instead (a message arrived and is not
// yet read, or is being read).
func (h *heartbeat) beat() {
	c := h.c
	h.mu.Lock()
	if h.stopped {
		h.mu.Unlock()
		return
	}
	heard := c.rd.heard.Load()
	switch {
	case heard != h.heard:
		h.heard, h.pinged = heard, false
		h.timer.Reset(h.interval)
		h.mu.Unlock()
		return
	case h.pinged:
		h.mu.Unlock()
		if h.peerSilent() {
			c.teardown(&CloseError{Code: frame.CloseAbnormalClosure, Err: ErrPingTimeout})
		}
		return
	}
	h.pinged = true
	h.timer.Reset(h.timeout)
	h.mu.Unlock()
	if c.sendPing(&pingWaiter{payload: heartbeatPayload}) != nil {
		return
	}
	// The pong must be read: by the reader if there is one, else here.
	if c.readLock.tryLock(lockInternal) {
		_ = c.readControl(func() bool { return c.rd.heard.Load() != heard })
		c.endInternalRead()
	}
}

// heartbeatPayload marks the heartbeat's pings, so that their pongs answer
// no Ping sent after them.
var heartbeatPayload = []byte("wsproto heartbeat")

// peerSilent tells a silent peer from a busy reader once nothing arrived
// for a timeout after a ping: the peer is silent if a read waits on the
// network, or if no one reads and nothing is buffered. Otherwise the
// timer is set to look again after another timeout.
func (h *heartbeat) peerSilent() bool {
	c := h.c
	if c.readLock.tryLock(lockInternal) {
		waiting := c.rd.r != c.rd.w || c.frameLeft > 0
		c.readLock.unlock()
		if !waiting {
			return true
		}
	} else if c.rd.waiting() {
		return true
	}
	h.mu.Lock()
	if !h.stopped {
		h.timer.Reset(h.timeout)
	}
	h.mu.Unlock()
	return false
}

// stopHeartbeat stops the heartbeat's timer, if any, so that it lets go of
// the connection.
func (c *Conn) stopHeartbeat() {
	if l := c.live.Load(); l != nil && l.hb != nil {
		l.hb.mu.Lock()
		l.hb.stopped = true
		l.hb.timer.Stop()
		l.hb.mu.Unlock()
	}
}

// CloseRead starts a goroutine that reads the connection for a caller that
// only writes: it handles control frames (pongs, the peer's close) and
// ends when the connection does, or when a data message arrives, which it
// answers with close 1008 (policy violation). The context it returns is
// done when the goroutine ends; ctx bounds the reading, with the package's
// rule for contexts. The caller must not read after calling it.
func (c *Conn) CloseRead(ctx context.Context) context.Context {
	ctx, cancel := context.WithCancel(ctx)
	go func() {
		defer cancel()
		_, _, err := c.NextReader(ctx)
		if err == nil {
			_ = c.Close(frame.ClosePolicyViolation, "unexpected data message")
		}
	}()
	return ctx
}
