package load

import (
	"bytes"
	"errors"
	"fmt"
	"net"
	"sync/atomic"
	"time"

	"github.com/db7c6739/ws/bench/internal/stats"
	"github.com/db7c6739/ws/frame"
)

// run is what every connection of an echo run shares.
type run struct {
	proto     string
	inFlight  int
	size      int // payload bytes of a message, uncompressed
	op        frame.Opcode
	deflate   bool
	original  []byte // the uncompressed payload, to check compressed echoes
	tmpl      template
	base      time.Time
	measuring atomic.Bool // record latencies
	stopping  atomic.Bool // errors from here on are the teardown's
	errors    atomic.Int64
	firstErr  atomic.Pointer[error]
}

func (r *run) fail(err error) {
	if r.stopping.Load() {
		return
	}
	r.errors.Add(1)
	r.firstErr.CompareAndSwap(nil, &err)
}

func (r *run) now() int64 { return int64(time.Since(r.base)) }

// echoConn keeps inFlight messages in flight on one connection: a writer
// sends as many messages as the reader has seen echoes come back, in one
// write per batch, and the reader parses echoes as they stream in. Neither
// allocates per message.
type echoConn struct {
	r       *run
	nc      net.Conn
	keys    keySource
	out     []byte         // the writer's batch, reused
	rbuf    []byte         // the reader's buffer, reused
	sentAt  []atomic.Int64 // send time of message i in slot i % inFlight
	credits atomic.Int64   // messages the writer may send
	wake    chan struct{}
	recv    atomic.Uint64 // echoes received
	hist    stats.Histogram

	// Reader state.
	remaining  int64 // payload bytes left in the current frame
	frameFin   bool
	control    bool // the current frame is a control frame
	inMsg      bool
	msgOp      frame.Opcode
	compressed bool
	msgLen     int64
	capturing  bool // keep the payload to check it (first compressed echo)
	verified   bool
	capture    []byte
}

func newEchoConn(r *run, nc net.Conn, rest []byte) *echoConn {
	c := &echoConn{
		r:      r,
		nc:     nc,
		out:    make([]byte, 0, r.inFlight*len(r.tmpl.wire)),
		rbuf:   make([]byte, max(64<<10, len(rest))),
		sentAt: make([]atomic.Int64, r.inFlight),
		wake:   make(chan struct{}, 1),
	}
	copy(c.rbuf, rest)
	c.credits.Store(int64(r.inFlight))
	return c
}

func (c *echoConn) writeLoop(done <-chan struct{}) {
	var sent uint64
	w := uint64(c.r.inFlight)
	for {
		n := c.credits.Swap(0)
		if n == 0 {
			select {
			case <-c.wake:
				continue
			case <-done:
				return
			}
		}
		c.out = c.out[:0]
		now := c.r.now()
		for range n {
			c.out = c.r.tmpl.appendTo(c.out, &c.keys)
			c.sentAt[sent%w].Store(now)
			sent++
		}
		if _, err := c.nc.Write(c.out); err != nil {
			c.r.fail(fmt.Errorf("write: %w", err))
			c.nc.Close()
			return
		}
	}
}

func (c *echoConn) readLoop(rest int) {
	buf := c.rbuf
	start, end := 0, rest
	for {
		before := c.recv.Load()
		var err error
		if start, err = c.parse(buf[:end], start); err != nil {
			c.r.fail(err)
			c.nc.Close()
			return
		}
		if got := c.recv.Load() - before; got > 0 {
			c.credits.Add(int64(got))
			select {
			case c.wake <- struct{}{}:
			default:
			}
		}
		if start == end {
			start, end = 0, 0
		} else if len(buf)-end < frame.MaxHeaderSize {
			end = copy(buf, buf[start:end])
			start = 0
		}
		n, err := c.nc.Read(buf[end:])
		if err != nil {
			c.r.fail(fmt.Errorf("read: %w", err))
			c.nc.Close()
			return
		}
		end += n
	}
}

// parse consumes whole headers and any payload bytes in b[start:] and
// returns where it stopped: at the end, or at a header not yet whole.
func (c *echoConn) parse(b []byte, start int) (int, error) {
	for {
		if c.remaining > 0 {
			take := min(c.remaining, int64(len(b)-start))
			if take == 0 {
				return start, nil
			}
			if c.capturing {
				c.capture = append(c.capture, b[start:start+int(take)]...)
			}
			start += int(take)
			c.remaining -= take
			if !c.control {
				c.msgLen += take
			}
			if c.remaining > 0 {
				return start, nil
			}
			if err := c.endFrame(); err != nil {
				return start, err
			}
			continue
		}
		if c.r.proto == "tcp" {
			if len(b)-start < 4 {
				return start, nil
			}
			n := int64(b[start])<<24 | int64(b[start+1])<<16 | int64(b[start+2])<<8 | int64(b[start+3])
			start += 4
			c.inMsg, c.msgOp, c.msgLen, c.frameFin, c.control = true, c.r.op, 0, true, false
			c.remaining = n
			if n == 0 {
				if err := c.endFrame(); err != nil {
					return start, err
				}
			}
			continue
		}
		h, n, err := frame.ParseHeader(b[start:])
		if errors.Is(err, frame.ErrShortHeader) {
			return start, nil
		}
		if err != nil {
			return start, err
		}
		start += n
		if err := c.beginFrame(h); err != nil {
			return start, err
		}
		if c.remaining == 0 {
			if err := c.endFrame(); err != nil {
				return start, err
			}
		}
	}
}

func (c *echoConn) beginFrame(h frame.Header) error {
	if h.Masked {
		return errors.New("server sent a masked frame")
	}
	c.remaining, c.frameFin = h.Length, h.Fin
	c.control = h.Opcode.IsControl()
	switch {
	case h.Opcode == frame.OpClose:
		return errors.New("server sent a close frame")
	case c.control:
		c.capturing = false // pings and pongs are skipped
	case h.Opcode == frame.OpContinuation:
		if !c.inMsg {
			return errors.New("continuation frame outside a message")
		}
		c.capturing = c.compressed && !c.verified
	default:
		if c.inMsg {
			return errors.New("new message inside a fragmented one")
		}
		c.inMsg, c.msgOp, c.compressed, c.msgLen = true, h.Opcode, h.Rsv1, 0
		c.capturing = c.compressed && !c.verified
		c.capture = c.capture[:0]
	}
	return nil
}

func (c *echoConn) endFrame() error {
	if c.control {
		c.control = false
		return nil
	}
	if !c.frameFin {
		return nil
	}
	c.inMsg = false
	if c.msgOp != c.r.op {
		return fmt.Errorf("echo has opcode %v, sent %v", c.msgOp, c.r.op)
	}
	switch {
	case c.compressed && !c.r.deflate:
		return errors.New("compressed echo without permessage-deflate")
	case c.compressed && !c.verified:
		got, err := inflate(c.capture)
		if err != nil {
			return fmt.Errorf("inflating the echo: %w", err)
		}
		if !bytes.Equal(got, c.r.original) {
			return errors.New("inflated echo differs from the message sent")
		}
		c.verified, c.capturing = true, false
	case !c.compressed && c.msgLen != int64(c.r.size):
		return fmt.Errorf("echo of %d bytes, sent %d", c.msgLen, c.r.size)
	}
	i := c.recv.Load()
	if c.r.measuring.Load() {
		c.hist.Record(time.Duration(c.r.now() - c.sentAt[i%uint64(c.r.inFlight)].Load()))
	}
	c.recv.Store(i + 1)
	return nil
}
