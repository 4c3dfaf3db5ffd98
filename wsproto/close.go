//go:build !js

package wsproto

import (
	"context"
	"errors"
	"fmt"
	"os"
	"time"
	"unicode/utf8"

	"github.com/db7c6739/ws/frame"
)

// Close performs the closing handshake (RFC 6455 §7): it sends a close frame
// with code and reason, waits up to the close timeout for the peer's close
// frame, then closes the TCP connection, the server first (§7.1.1). Data
// messages that arrive meanwhile are discarded unless a read is in progress,
// which then receives them and the peer's close.
//
// It returns nil once the peer answered, an error if the code or reason
// cannot be sent (ErrInvalidCloseCode, ErrCloseReasonTooLong,
// ErrInvalidCloseReason; nothing is sent then), ErrClosed if the
// connection was already closed, and the cause if the handshake did not
// complete (the connection is closed all the same). Close may be called from
// any goroutine, a ping or pong handler's included; a read in progress or
// begun meanwhile returns when the handshake ends, with the peer's
// *CloseError. It is bounded by the close
// timeout, also when a write is stuck on a peer that does not read.
func (c *Conn) Close(code CloseCode, reason string) error {
	var payload [frame.MaxControlPayload]byte
	p, err := frame.AppendClosePayload(payload[:0], code, reason)
	if err != nil {
		return err
	}
	c.closing.Store(true)
	if err := c.sendClose(p); err != nil {
		return err
	}
	c.awaitClose()
	if c.peerClose.fired() {
		<-c.closed.done()
		return nil
	}
	return c.teardown(&CloseError{Code: frame.CloseAbnormalClosure, Err: errCloseTimeout})
}

// errCloseTimeout is why Close gave up on the peer's answer; like every
// timeout of the package, it matches context.DeadlineExceeded.
var errCloseTimeout = fmt.Errorf("wsproto: peer did not answer the close frame within the close timeout: %w", context.DeadlineExceeded)

// CloseNow closes the TCP connection at once, without a closing handshake.
// Blocked reads and writes return. It returns ErrClosed if the connection was
// already closed.
func (c *Conn) CloseNow() error {
	if !c.shut(ErrClosed) {
		return ErrClosed
	}
	return nil
}

// awaitClose waits, up to the close timeout, for the peer's close frame:
// it reads for it when no one else reads, and when the reader is in a ping
// or pong handler, maybe the one that called Close, which will not read
// before the handler returns (runHandler); else it waits for the reader to
// see it, or to stop reading.
func (c *Conn) awaitClose() {
	deadline := time.Now().Add(c.closeTimeout)
	var timeout <-chan time.Time
	for !c.peerClose.fired() && !c.closed.fired() {
		switch {
		case c.readLock.tryLock(lockUser):
			c.awaitPeerClose(deadline)
			c.readLock.unlock()
			return
		case c.inHandler.Load() && c.takeOverRead(deadline):
			return
		}
		wake := c.readLock.waiters.wait()
		if !c.readLock.held() {
			continue
		}
		if timeout == nil {
			t := time.NewTimer(time.Until(deadline))
			defer t.Stop()
			timeout = t.C
		}
		select {
		case <-c.closed.done():
		case <-wake:
		case <-timeout:
			return
		}
	}
}

// takeOverRead reads for the peer's close in place of a reader that is in a
// ping or pong handler, if it still is, and reports whether it did. The
// reader waits, once its handler returns, until this is done (runHandler).
func (c *Conn) takeOverRead(deadline time.Time) bool {
	l := c.liveness()
	done := make(chan struct{})
	l.mu.Lock()
	l.takeover = done
	l.mu.Unlock()
	if !c.inHandler.CompareAndSwap(true, false) {
		return false
	}
	c.awaitPeerClose(deadline)
	if !c.peerClose.fired() {
		c.teardown(&CloseError{Code: frame.CloseAbnormalClosure, Err: errCloseTimeout})
	}
	close(done)
	return true
}

// awaitPeerClose reads, as the reader, until the peer's close frame arrives,
// discarding data, until deadline.
func (c *Conn) awaitPeerClose(deadline time.Time) {
	_ = c.nc.SetReadDeadline(deadline)
	for c.readErr == nil {
		if err := c.skipFrames(); err != nil {
			break
		}
		if err := c.nextDataFrame(); err != nil {
			break
		}
	}
	if c.closeDue {
		_ = c.answerClose()
	}
}

// skipFrames discards the rest of a message as it is on the wire, without
// inflating it: the connection is closing, so no later message needs the
// decompressor's window, and a reader may be inside the decompressor (a
// handler that called Close runs under its Read).
func (c *Conn) skipFrames() error {
	for c.inMessage {
		if err := c.rd.skip(c.frameLeft); err != nil {
			return c.readFailed(err)
		}
		c.frameLeft = 0
		if c.fin {
			c.inMessage = false
			return nil
		}
		if err := c.nextDataFrame(); err != nil {
			return err
		}
	}
	return nil
}

// sendClose sends a close frame with payload p, or returns ErrClosed if one
// was sent already. The deadline is set before waiting for the frame lock,
// so that a write stuck on a peer that does not read gives way within the
// close timeout too.
func (c *Conn) sendClose(p []byte) error {
	_ = c.nc.SetWriteDeadline(time.Now().Add(c.closeTimeout))
	return c.writeControl(frame.OpClose, p)
}

// answerClose answers the peer's close frame, which the reader left in
// readErr (echoing its code, §5.5.1), and ends the connection: a server
// closes TCP at once, a client waits a while for the server to do so
// (§7.1.1).
//
// The reader calls it on its way out, not where the frame was read: the
// write deadline and the write need more stack than a connection's
// goroutine has, and a stack grows by being copied, at a cost that rises
// with the frames on it. Grown here, near the top, it is cheap.
func (c *Conn) answerClose() error {
	c.closeDue = false
	ce := c.readErr.(*CloseError)
	growStack()
	var payload [2]byte
	p, _ := frame.AppendClosePayload(payload[:0], ce.Code, "")
	_ = c.sendClose(p)
	c.peerClose.fire()
	if c.client {
		_ = c.nc.SetReadDeadline(time.Now().Add(c.closeTimeout))
		var scratch [64]byte
		for {
			if _, err := c.nc.Read(scratch[:]); err != nil {
				break
			}
		}
	}
	c.teardown(ce)
	return ce
}

// fail fails the connection on a protocol violation (RFC 6455 §7.1.7): it
// sends a close frame with code, waits a little for the peer's close and
// closes.
func (c *Conn) fail(code frame.CloseCode, cause error) error {
	if c.readErr != nil {
		// Already failed: a decompressor handed the error of the frame
		// after, say, and what it inflated so far is judged after it.
		// The first reason is the one the close frame gave.
		return c.readErr
	}
	pe := &ProtocolError{Code: code, Err: cause}
	c.readErr = pe
	reason := cause.Error()
	if len(reason) > frame.MaxCloseReason {
		reason = reason[:frame.MaxCloseReason]
		for !utf8.ValidString(reason) {
			reason = reason[:len(reason)-1]
		}
	}
	var payload [frame.MaxControlPayload]byte
	p, _ := frame.AppendClosePayload(payload[:0], code, reason)
	if c.sendClose(p) == nil && !c.gotClose {
		c.drainUntilClose()
	}
	c.teardown(pe)
	return pe
}

// drainUntilClose reads frames without judging them, up to the close
// timeout, until the peer's close frame or the end of the stream, so that
// the peer reads our close frame before the TCP connection goes (closing
// with unread data would reset it).
func (c *Conn) drainUntilClose() {
	_ = c.nc.SetReadDeadline(time.Now().Add(c.closeTimeout))
	rd := &c.rd
	if rd.skip(c.frameLeft) != nil {
		return
	}
	for {
		if rd.fill(frame.MinHeaderSize) != nil {
			return
		}
		size := frame.HeaderSize(rd.buf[rd.r+1])
		if rd.fill(size) != nil {
			return
		}
		// Frames the connection would refuse are skipped too; only a
		// length that cannot be skipped ends the wait.
		h, _, err := frame.ParseHeader(rd.buf[rd.r:rd.w])
		if err == frame.ErrLengthOverflow || h.Opcode == frame.OpClose {
			return
		}
		rd.r += size
		if rd.skip(h.Length) != nil {
			return
		}
	}
}

// readFailed ends the connection after the network failed a read.
func (c *Conn) readFailed(err error) error {
	if c.readErr != nil {
		return c.readErr
	}
	if c.closing.Load() && errors.Is(err, os.ErrDeadlineExceeded) {
		err = errCloseTimeout // the deadline Close set for the peer's answer
	}
	ce := &CloseError{Code: frame.CloseAbnormalClosure, Err: err}
	c.readErr = c.teardown(ce)
	return c.readErr
}

// teardown closes the TCP connection once, recording why; it returns the
// reason recorded first, which later calls report.
func (c *Conn) teardown(err error) error {
	c.shut(err)
	return c.finalErr()
}

// shut closes the TCP connection with err as the reason, and reports
// whether this call did it.
func (c *Conn) shut(err error) (first bool) {
	c.closeOnce.Do(func() {
		c.closeMu.Lock()
		c.closeErr = err
		c.closeMu.Unlock()
		if s, ok := c.nc.(http2Stream); ok && !c.peerClose.fired() {
			s.abort() // RFC 8441 §6: an end without a closing handshake resets the stream
		} else {
			_ = c.nc.Close()
		}
		c.stopHeartbeat()
		c.closed.fire()
		first = true
	})
	return first
}

func (c *Conn) finalErr() error {
	c.closeMu.Lock()
	defer c.closeMu.Unlock()
	return c.closeErr
}

// sentCloseErr is what a write reports once our close frame has gone out.
func (c *Conn) sentCloseErr() error {
	if c.closed.fired() {
		return c.finalErr()
	}
	return ErrClosed
}

// watch arranges for ctx's end to tear the connection down, which unblocks
// any read or write in progress. A context that is done already tears it
// down at once: whether it ends before the call or during it, the call
// fails the same way. A context that cannot end costs nothing.
func (c *Conn) watch(ctx context.Context) (stop func() bool, err error) {
	if ctx.Done() == nil {
		return nil, nil
	}
	if ctx.Err() != nil {
		return nil, c.teardown(contextClosed(ctx))
	}
	return context.AfterFunc(ctx, func() { c.teardown(contextClosed(ctx)) }), nil
}

// contextClosed is why a connection ended with ctx: a *CloseError with code
// 1006 that matches ctx.Err() and its cause under errors.Is.
func contextClosed(ctx context.Context) error {
	err := ctx.Err()
	if cause := context.Cause(ctx); cause != nil && cause != err {
		err = fmt.Errorf("%w: %w", err, cause)
	}
	return &CloseError{Code: frame.CloseAbnormalClosure, Err: err}
}

// settle ends a watch; if ctx ended during the call, its error is what the
// call returns.
func (c *Conn) settle(ctx context.Context, stop func() bool, err error) error {
	if stop != nil && !stop() && err != nil {
		if final := c.finalErr(); final != nil {
			return final
		}
	}
	return err
}
